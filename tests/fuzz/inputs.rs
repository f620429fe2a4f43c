//! The generators as whole cases: generated programs run differentially,
//! token mutations of the corpus, hostile `.npy` feeds, REPL scripts and flag
//! combinations.

use crate::case::{args, Case, PROGRAM};
use crate::mutate::{self, ODD};
use crate::rng::Rng;
use crate::{npy, programs};

/// A valid program on the interpreter (the oracle) and the JIT with a few
/// flags, every `run` compared with the first.
pub fn generated(rng: &mut Rng) -> Case {
    let variants: [&[&str]; 7] = [
        &["--no-opt"],
        &["--threads", "1"],
        &["--threads", "2"],
        &["--check-bounds"],
        &["--backend", "interp", "--no-opt"],
        &["--no-opt", "--check-bounds", "--threads", "2"],
        &["--threads", "1", "--no-opt"],
    ];
    let mut runs = vec![
        args(&["run", PROGRAM, "--backend", "interp"]),
        args(&["run", PROGRAM]),
    ];
    for _ in 0..1 + rng.below(2) {
        let mut run = args(&["run", PROGRAM]);
        let v: &[&str] = variants[rng.below(variants.len())];
        run.extend(args(v));
        runs.push(run);
    }
    if rng.chance(1, 4) {
        runs.push(args(&["graph", PROGRAM, "--stats"]));
    }
    Case {
        generator: "generated",
        source: programs::program(rng),
        files: vec![],
        runs,
        stdin: None,
        differential: true,
        expect_ok: true,
    }
}

/// A mutated file of the corpus (`(path, text)` pairs), run as its `// args:`
/// line says (or `check`), then on both backends for a few steps.
pub fn mutated(rng: &mut Rng, corpus: &[(String, String)]) -> Case {
    let (path, text) = rng.pick(corpus);
    let mut first: Vec<String> = match text.lines().next().and_then(|l| l.strip_prefix("// args:"))
    {
        Some(rest) => rest.split_whitespace().map(String::from).collect(),
        None => args(&["check"]),
    };
    first.insert(1.min(first.len()), PROGRAM.to_string());
    let steps = ["--steps", "2"];
    let runs = vec![
        first,
        [&["run", PROGRAM, "--backend", "interp"][..], &steps]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        [&["run", PROGRAM][..], &steps]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ];
    let generator = if path.starts_with("programs") {
        "mutated-program"
    } else {
        "mutated-error"
    };
    Case {
        generator,
        source: mutate::mutate(rng, text),
        files: vec![],
        runs,
        stdin: None,
        differential: true,
        expect_ok: false,
    }
}

/// Paths that are not regular `.npy` files (the scratch folder holds `fifo`,
/// `adir/` and `empty.npy`).
const SPECIAL: &[&str] = &[
    "/dev/zero",
    "/dev/null",
    ".",
    "adir",
    "fifo",
    "empty.npy",
    "missing.npy",
    "/proc/self/mem",
];

/// A placeholder fed from a hostile `.npy` file by `--feed` or `load`.
pub fn npy_feed(rng: &mut Rng) -> Case {
    let dtype = *rng.pick(&["f32", "f32", "f64", "i32", "bool"]);
    let shape = *rng.pick(&["[2, 2]", "[2, 2]", "[?, 2]", "[4]", "[]", "[?]", "[3, 2]"]);
    let path = if rng.chance(1, 6) {
        rng.pick(SPECIAL).to_string()
    } else {
        "x.npy".to_string()
    };
    let (source, run) = match rng.below(3) {
        0 => (
            format!("placeholder x: {dtype}{shape};\nrun x;\n"),
            args(&["run", PROGRAM, "--feed", &format!("x={path}")]),
        ),
        1 => (
            format!("placeholder x: {dtype}{shape} = load(\"{path}\");\nrun x;\n"),
            args(&["run", PROGRAM]),
        ),
        _ => {
            let shape = shape.replace('?', "2");
            (
                format!("variable x: {dtype}{shape} = load(\"{path}\");\nrun x;\n"),
                args(&["run", PROGRAM]),
            )
        }
    };
    let mut interp = run.clone();
    interp.extend(args(&["--backend", "interp"]));
    let runs = vec![args(&["check", PROGRAM]), interp, run];
    Case {
        generator: "npy",
        source,
        files: vec![("x.npy".into(), npy::file(rng))],
        runs,
        stdin: None,
        differential: true,
        expect_ok: false,
    }
}

/// A REPL script of items, expressions, commands and garbage, on stdin.
pub fn repl(rng: &mut Rng) -> Case {
    let program = programs::program(rng);
    let lines: Vec<&str> = program.lines().collect();
    let commands = [
        ":vars",
        ":help",
        ":reset",
        ":type flag",
        ":graph flag",
        ":feed x=x.npy",
        ":feed x=/dev/zero",
        ":feed flag=adir",
        ":load prog.td",
        ":load /dev/zero",
        ":load .",
        ":load fifo",
        ":bogus",
        ":type",
        ":graph",
        ":feed",
        ":feed =",
        "run flag repeat 3 every 2;",
        "(",
        "[[",
        "{ let a = 1.0;",
        "x +",
        "}",
        "let = ;",
        "1.0 / 0.0",
        "flag && !flag",
    ];
    let mut script = Vec::new();
    for _ in 0..3 + rng.below(10) {
        let line = match rng.below(4) {
            0 => rng.pick(&commands).to_string(),
            1 => {
                let line = rng_line(rng, &lines);
                mutate::mutate(rng, line)
            }
            _ => rng_line(rng, &lines).to_string(),
        };
        script.push(line);
    }
    if rng.chance(1, 2) {
        script.push(":quit".into());
    }
    let runs = if rng.chance(1, 2) {
        vec![args(&["repl"])]
    } else {
        vec![args(&["repl", PROGRAM])]
    };
    let files = vec![("x.npy".into(), npy::file(rng))];
    Case {
        generator: "repl",
        source: program,
        files,
        runs,
        stdin: Some(script.join("\n") + "\n"),
        differential: false,
        expect_ok: false,
    }
}

fn rng_line<'a>(rng: &mut Rng, lines: &[&'a str]) -> &'a str {
    lines
        .get(rng.below(lines.len().max(1)))
        .copied()
        .unwrap_or("")
}

/// A small valid program under a random (often wrong) command line.
pub fn flags(rng: &mut Rng) -> Case {
    let sub = *rng.pick(&[
        "run", "run", "run", "check", "graph", "repl", "bogus", "", "help", "--help", "-V",
    ]);
    let file = *rng.pick(&[
        PROGRAM,
        PROGRAM,
        PROGRAM,
        "missing.td",
        ".",
        "/dev/zero",
        "/dev/null",
        "",
        "fifo",
        "-",
    ]);
    let options: &[&[&str]] = &[
        &["--feed", "flag=x.npy"],
        &["--feed", "x"],
        &["--feed", "=x.npy"],
        &["--feed", "a=b=c"],
        &["--feed", "flag=/dev/zero"],
        &["--fetch", "flag"],
        &["--fetch", ","],
        &["--fetch", ""],
        &["--fetch", "nope"],
        &["--fetch", "flag,,flag"],
        &["--epochs", "0"],
        &["--epochs", "2"],
        &["--epochs", "-1"],
        &["--epochs", "18446744073709551616"],
        &["--epochs", "2", "--steps", "3"],
        &["--feed", "flag.x=x.npy"],
        &["--feed", "x.npy=flag"],
        &["--feed", "flag=x.npz"],
        &["--max-memory", "1K"],
        &["--max-memory", "0"],
        &["--max-memory", "99999999999T"],
        &["--steps", "0"],
        &["--steps", "3"],
        &["--steps", "-1"],
        &["--steps", "abc"],
        &["--steps", "18446744073709551616"],
        &["--every", "0"],
        &["--every", "2"],
        &["--every", "18446744073709551615"],
        &["--out", "outdir"],
        &["--out", "prog.td"],
        &["--out", "/dev/null/x"],
        &["--save", "ckpt"],
        &["--save", "fifo"],
        &["--save", ""],
        &["--backend", "interp"],
        &["--backend", "gpu"],
        &["--backend", ""],
        &["--threads", "0"],
        &["--threads", "1"],
        &["--threads", "1024"],
        &["--threads", "1025"],
        &["--threads", "-1"],
        &["--threads", "99999999999999999999"],
        &["--timings"],
        &["--check-bounds"],
        &["--no-opt"],
        &["--opt"],
        &["--stats"],
        &["--format", "dot"],
        &["--format", "json"],
        &["--bogus"],
        &["--"],
        &["-h"],
        &["--steps"],
        &["--feed"],
    ];
    let mut words = vec![sub.to_string()];
    if rng.chance(5, 6) {
        words.push(file.to_string());
    }
    for _ in 0..rng.below(5) {
        let at = rng.below(words.len() + 1).max(1).min(words.len());
        let o: &[&str] = options[rng.below(options.len())];
        let opt = args(o);
        words.splice(at..at, opt);
    }
    if rng.chance(1, 10) {
        // A command line cannot hold a NUL byte.
        words.push(rng.pick(ODD).replace('\0', "\u{1}"));
    }
    let files = vec![("x.npy".into(), npy::file(rng))];
    let source = programs::program(rng);
    Case {
        generator: "flags",
        source,
        files,
        runs: vec![words],
        stdin: None,
        differential: false,
        expect_ok: false,
    }
}
