//! `tdsl run --log FILE.jsonl` and `--plot FILE.svg` end to end, on both
//! backends: every log line parses, its fields match the printed steps, and
//! the plot is a whole SVG naming its series and axes, or no file at all.

mod support;
use std::collections::BTreeMap;
use std::path::Path;
use support::{tdsl, temp_dir, text};

const BACKENDS: [&str; 2] = ["jit", "interp"];

/// A linear regression: `loss` falls, `n` counts steps, `ok` is a bool.
const PROGRAM: &str = "\
placeholder x: f32[4] = [1.0, 2.0, 3.0, 4.0];
variable w: f32[] = 0.0;
variable n: i32[] = 0;
let loss = mean((x * w - 2.0 * x) ** 2.0);
let train = group(minimize(loss, sgd(0.01)), assign(n, n + 1));
let ok = loss < 1.0;
run train, loss, n, ok repeat 10 every 3;
run loss;
";

/// A JSON value of a flat record.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Number(f64),
    Bool(bool),
    Null,
}

/// Parses one flat JSON object of numbers, booleans and nulls (strict enough
/// for the log: quoted keys with escapes, no trailing commas).
fn parse_record(line: &str) -> Result<Vec<(String, Value)>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let skip = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
            *i += 1;
        }
    };
    let expect = |i: &mut usize, c: char| -> Result<(), String> {
        match chars.get(*i) {
            Some(&x) if x == c => {
                *i += 1;
                Ok(())
            }
            other => Err(format!("expected {c:?} at {i}, got {other:?}")),
        }
    };
    let mut fields = Vec::new();
    skip(&mut i);
    expect(&mut i, '{')?;
    loop {
        skip(&mut i);
        expect(&mut i, '"')?;
        let mut key = String::new();
        loop {
            match chars.get(i) {
                Some('"') => break,
                Some('\\') => {
                    let escaped = chars.get(i + 1).ok_or("bad escape")?;
                    key.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        'u' => {
                            let hex: String = chars[i + 2..i + 6].iter().collect();
                            i += 4;
                            char::from_u32(
                                u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?,
                            )
                            .ok_or("bad \\u")?
                        }
                        c => *c,
                    });
                    i += 2;
                }
                Some(&c) if (c as u32) >= 0x20 => {
                    key.push(c);
                    i += 1;
                }
                other => return Err(format!("bad key character {other:?}")),
            }
        }
        i += 1;
        skip(&mut i);
        expect(&mut i, ':')?;
        skip(&mut i);
        let start = i;
        while chars
            .get(i)
            .is_some_and(|c| !matches!(c, ',' | '}') && !c.is_whitespace())
        {
            i += 1;
        }
        let raw: String = chars[start..i].iter().collect();
        let value = match raw.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            number => {
                // JSON numbers: no leading `+`, no `nan`/`inf`, digits after a dot.
                let ok = number
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+'))
                    && !number.starts_with('+')
                    && !number.ends_with('.');
                let v: f64 = number
                    .parse()
                    .map_err(|_| format!("bad number {number:?}"))?;
                if !ok {
                    return Err(format!("not a JSON number: {number:?}"));
                }
                Value::Number(v)
            }
        };
        fields.push((key, value));
        skip(&mut i);
        match chars.get(i) {
            Some(',') => i += 1,
            Some('}') => {
                i += 1;
                break;
            }
            other => return Err(format!("expected , or }} got {other:?}")),
        }
    }
    skip(&mut i);
    if i != chars.len() {
        return Err("text after the object".to_string());
    }
    Ok(fields)
}

fn records(path: &Path) -> Vec<BTreeMap<String, Value>> {
    let log = std::fs::read_to_string(path).expect("the log exists");
    assert!(log.ends_with('\n'), "every line is whole: {log:?}");
    log.lines()
        .map(|line| {
            let fields = parse_record(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            fields.into_iter().collect()
        })
        .collect()
}

fn number(record: &BTreeMap<String, Value>, key: &str) -> f64 {
    match record.get(key) {
        Some(Value::Number(v)) => *v,
        other => panic!("`{key}` is {other:?} in {record:?}"),
    }
}

/// The printed `[step s] name: f32[] = v` lines as (s, name, v).
fn printed(stdout: &str) -> Vec<(u64, String, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("[step ")?;
            let (step, rest) = rest.split_once("] ")?;
            let (name, rest) = rest.split_once(": ")?;
            let value = rest.split_once(" = ")?.1;
            Some((step.parse().ok()?, name.to_string(), value.to_string()))
        })
        .collect()
}

#[test]
fn log_lines_match_the_printed_steps_on_both_backends() {
    for backend in BACKENDS {
        let dir = temp_dir("log");
        std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
        let out = tdsl(
            &dir,
            &["run", "p.td", "--backend", backend, "--log", "l.jsonl"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let lines = printed(&stdout);
        let recs = records(&dir.join("l.jsonl"));
        // Steps 3, 6, 9, 10 of the first run, then the single step of the second.
        assert_eq!(recs.len(), 5, "{backend}: {recs:?}");
        let steps: Vec<f64> = recs.iter().map(|r| number(r, "step")).collect();
        assert_eq!(steps, vec![3.0, 6.0, 9.0, 10.0, 1.0], "{backend}");
        let runs: Vec<f64> = recs.iter().map(|r| number(r, "run")).collect();
        assert_eq!(runs, vec![1.0, 1.0, 1.0, 1.0, 2.0]);
        let global: Vec<f64> = recs.iter().map(|r| number(r, "global_step")).collect();
        assert_eq!(global, vec![3.0, 6.0, 9.0, 10.0, 11.0]);
        for (record, step) in recs.iter().take(4).zip([3u64, 6, 9, 10]) {
            // No dataset: no epoch; the group `train` is not a scalar value.
            assert!(!record.contains_key("epoch") && !record.contains_key("train"));
            assert!(number(record, "seconds") >= 0.0);
            // A fetch of `n` reads its value from the start of the step.
            assert_eq!(number(record, "n"), (step - 1) as f64, "{backend}");
            for (s, name, value) in lines.iter().filter(|(s, _, _)| *s == step) {
                match record.get(name) {
                    Some(Value::Number(v)) => {
                        let shown: f64 = value.parse().unwrap();
                        assert!(
                            (v - shown).abs() <= 1e-5 * shown.abs().max(1e-6),
                            "{s} {name}"
                        );
                    }
                    Some(Value::Bool(b)) => assert_eq!(b.to_string(), *value),
                    other => panic!("{name} at step {s}: {other:?}"),
                }
            }
        }
        let loss: Vec<f64> = recs.iter().map(|r| number(r, "loss")).collect();
        assert!(loss.windows(2).all(|w| w[1] <= w[0]), "{loss:?}");
        // A second run appends.
        let out = tdsl(
            &dir,
            &["run", "p.td", "--backend", backend, "--log", "l.jsonl"],
        );
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(records(&dir.join("l.jsonl")).len(), 10);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn log_records_carry_the_epoch_of_an_epochs_run() {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs/tiny_classifier.td");
    let program = program.to_str().unwrap();
    for backend in BACKENDS {
        let dir = temp_dir("epochs");
        let out = tdsl(
            &dir,
            &["run", program, "--backend", backend, "--log", "l.jsonl"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let recs = records(&dir.join("l.jsonl"));
        // `run accuracy;`, two epochs of 3 steps printed each epoch, `run accuracy, w;`.
        let shape: Vec<(f64, f64, f64)> = recs
            .iter()
            .map(|r| (number(r, "run"), number(r, "step"), number(r, "epoch")))
            .collect();
        assert_eq!(
            shape,
            vec![
                (1.0, 1.0, 1.0),
                (2.0, 3.0, 1.0),
                (2.0, 6.0, 2.0),
                (3.0, 1.0, 2.0)
            ],
            "{backend}"
        );
        let stdout = text(&out.stdout);
        for (record, e) in recs[1..3].iter().zip([1, 2]) {
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&format!("[epoch {e}] loss: f32[] = ")))
                .unwrap_or_else(|| panic!("{stdout}"));
            let shown: f64 = line.rsplit(" = ").next().unwrap().parse().unwrap();
            assert!((number(record, "loss") - shown).abs() <= 1e-5 * shown.abs());
        }
        // `w` is not a scalar: not logged.
        assert!(recs[3].contains_key("accuracy") && !recs[3].contains_key("w"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_log_that_cannot_be_opened_is_an_error_before_any_step() {
    let dir = temp_dir("badlog");
    std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
    let out = tdsl(&dir, &["run", "p.td", "--log", "missing/l.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--log: cannot open 'missing/l.jsonl'"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no step ran");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn assert_whole_svg(svg: &str, names: &[&str]) {
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    // plotters writes each `<text>`'s content on a line of its own.
    for name in names.iter().chain(&["step"]) {
        assert!(
            svg.contains(&format!("\n{name}\n")),
            "`{name}` is not drawn"
        );
    }
}

#[test]
fn plot_draws_every_scalar_fetch_on_both_backends() {
    for backend in BACKENDS {
        let dir = temp_dir("plot");
        std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
        let out = tdsl(
            &dir,
            &["run", "p.td", "--backend", backend, "--plot", "p.svg"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let svg = std::fs::read_to_string(dir.join("p.svg")).unwrap();
        assert_whole_svg(&svg, &["loss", "n", "ok"]);
        // One panel (with its line) per fetch; no temporary file left.
        assert!(svg.matches("<polyline").count() >= 3);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_plot_that_cannot_be_written_is_an_error_and_no_file() {
    let dir = temp_dir("badplot");
    std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
    let out = tdsl(&dir, &["run", "p.td", "--plot", "missing/p.svg"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--plot: cannot write 'missing/p.svg'"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "checked before any step");
    assert!(!dir.join("missing").exists());
    std::fs::create_dir(dir.join("d.svg")).unwrap();
    let out = tdsl(&dir, &["run", "p.td", "--plot", "d.svg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("it is a folder"));
    // A folder that cannot be written to: the rename never happens.
    if !is_root() {
        let ro = dir.join("ro");
        std::fs::create_dir(&ro).unwrap();
        let mut perms = std::fs::metadata(&ro).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
        std::fs::set_permissions(&ro, perms).unwrap();
        let out = tdsl(&dir, &["run", "p.td", "--plot", "ro/p.svg"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Root ignores folder permissions.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn a_failed_step_still_leaves_the_plot_of_the_steps_before() {
    let dir = temp_dir("failplot");
    // The label grows each step: step 4 reads class 3 of 3, a run error.
    let program = "\
variable y: i32[1] = [0];
let loss = sparse_softmax_cross_entropy([[1.0, 2.0, 3.0]], y);
let next = assign(y, y + 1);
run next, loss repeat 5;
";
    std::fs::write(dir.join("p.td"), program).unwrap();
    for backend in BACKENDS {
        let _ = std::fs::remove_file(dir.join("p.svg"));
        let out = tdsl(
            &dir,
            &["run", "p.td", "--backend", backend, "--plot", "p.svg"],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let svg = std::fs::read_to_string(dir.join("p.svg")).expect("the plot of steps 1 to 3");
        assert_whole_svg(&svg, &["loss"]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let dir = temp_dir("nobar");
    std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
    let out = tdsl(&dir, &["run", "p.td", "--steps", "300"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn the_record_parser_rejects_what_is_not_json() {
    assert!(parse_record("{\"a\": 1, \"b\": true, \"c\": null}").is_ok());
    for bad in [
        "{\"a\": NaN}",
        "{\"a\": inf}",
        "{\"a\": 1,}",
        "{\"a\": 1} x",
        "{a: 1}",
    ] {
        assert!(parse_record(bad).is_err(), "{bad}");
    }
}
