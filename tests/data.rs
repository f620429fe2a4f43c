//! Datasets, `?` sizes and `epochs` through the `tdsl` binary, on both backends.
//! The data are tiny files in `tests/fixtures/data/` (scripts/gen_data_fixtures.py).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `source` as a `.td` file next to the fixtures (so `load` paths are
/// `"name.npy"`), uniquely named per test.
fn program(name: &str, source: &str) -> PathBuf {
    let path = root()
        .join("target")
        .join(format!("data-tests-{}", std::process::id()))
        .join(format!("{name}.td"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let fixtures = root().join("tests/fixtures/data");
    let text = source.replace("FIX/", &format!("{}/", fixtures.display()));
    std::fs::write(&path, text).unwrap();
    path
}

fn tdsl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the tdsl binary runs")
}

/// Runs `file` with `extra` arguments on both backends; both must succeed and
/// print the same; returns stdout.
fn run_both(file: &Path, extra: &[&str]) -> String {
    let file = file.to_str().unwrap();
    let mut outs = Vec::new();
    for backend in ["jit", "interp"] {
        let mut args = vec!["run", file, "--backend", backend];
        args.extend_from_slice(extra);
        let out = tdsl(&args);
        assert!(
            out.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outs.push(String::from_utf8(out.stdout).unwrap());
    }
    assert_eq!(outs[0], outs[1], "the backends differ");
    outs.remove(0)
}

/// The values printed after `NAME: TYPE = ` on each line that has them.
fn values_of(stdout: &str, name: &str) -> Vec<String> {
    let key = format!("{name}: ");
    stdout
        .lines()
        .filter_map(|l| {
            let at = l.find(&key)?;
            Some(l[at..].split(" = ").nth(1)?.to_string())
        })
        .collect()
}

/// The row numbers in a printed `[[r0], [r1], ...]` value.
fn rows(value: &str) -> Vec<usize> {
    value
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn batches_follow_the_rows_in_turn_and_drop_the_partial_batch() {
    let f = program(
        "in_turn",
        "dataset d = load(x=\"FIX/rows_x.npy\", batch=3);\n\
         placeholder x: f32[?, 1] = d.x;\nlet r = x + 0.0;\nrun r repeat 4 every 1;\n",
    );
    let out = run_both(&f, &[]);
    let got: Vec<Vec<usize>> = values_of(&out, "r").iter().map(|v| rows(v)).collect();
    // 10 rows, batch 3: 3 steps an epoch (row 9 dropped), then epoch 1 starts again.
    assert_eq!(
        got,
        vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![0, 1, 2]]
    );
}

#[test]
fn shuffled_epochs_are_permutations_that_differ_and_repeat_exactly() {
    let f = program(
        "shuffled",
        "dataset d = load(x=\"FIX/rows_x.npy\", y=\"FIX/rows_y.npy\", batch=5, shuffle=3);\n\
         placeholder x: f32[?, 1] = d.x;\nplaceholder y: i32[?] = d.y;\n\
         let r = x + 0.0;\nlet l = y + 0;\nrun r, l repeat 4 every 1;\n",
    );
    let out = run_both(&f, &["--threads", "2"]);
    let xs: Vec<Vec<usize>> = values_of(&out, "r").iter().map(|v| rows(v)).collect();
    let ys: Vec<Vec<usize>> = values_of(&out, "l").iter().map(|v| rows(v)).collect();
    assert_eq!(xs, ys, "every array gets the same rows");
    let epoch0: Vec<usize> = xs[0].iter().chain(&xs[1]).copied().collect();
    let epoch1: Vec<usize> = xs[2].iter().chain(&xs[3]).copied().collect();
    for epoch in [&epoch0, &epoch1] {
        let mut sorted = epoch.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }
    assert_ne!(epoch0, epoch1);
    assert_ne!(epoch0, (0..10).collect::<Vec<_>>());
    assert_eq!(run_both(&f, &["--threads", "1"]), out);
}

#[test]
fn npz_compressed_npz_and_npy_files_give_the_same_training() {
    let body = "placeholder x: f32[?, 4] = d.x;\nplaceholder y: i32[?] = d.y;\n\
        variable w: f32[4, 3] = xavier(seed=1);\n\
        let loss = softmax_cross_entropy(x @ w, one_hot(y, 3));\n\
        let t = minimize(loss, sgd(0.1));\nrun t, loss epochs 3 every 1;\nrun w;\n";
    let npz = program(
        "npz",
        &format!("dataset d = load(\"FIX/tiny.npz\", batch=4, shuffle=2);\n{body}"),
    );
    let zipped = program(
        "zipped",
        &format!("dataset d = load(\"FIX/tiny_compressed.npz\", batch=4, shuffle=2);\n{body}"),
    );
    let npy = program(
        "npy",
        &format!(
            "dataset d = load(x=\"FIX/tiny_x.npy\", y=\"FIX/tiny_y.npy\", batch=4, shuffle=2);\n{body}"
        ),
    );
    let a = run_both(&npz, &[]);
    assert_eq!(values_of(&a, "loss").len(), 3, "{a}");
    assert!(a.contains("[epoch 3] loss: f32[] = "), "{a}");
    assert_eq!(run_both(&zipped, &[]), a);
    assert_eq!(run_both(&npy, &[]), a);
    // --epochs overrides the statement; --every counts epochs.
    let b = run_both(
        &npz,
        &["--fetch", "t,loss", "--epochs", "4", "--every", "2"],
    );
    assert_eq!(values_of(&b, "loss").len(), 2, "{b}");
    assert!(
        b.contains("[epoch 2] loss") && b.contains("[epoch 4] loss"),
        "{b}"
    );
}

#[test]
fn without_batch_every_step_feeds_all_rows() {
    let f = program(
        "whole",
        "dataset d = load(x=\"FIX/rows_x.npy\");\nplaceholder x: f32[?, 1] = d.x;\n\
         let n = sum(x);\nlet r = x + 0.0;\nrun n epochs 2 every 1;\nrun r;\n",
    );
    let out = run_both(&f, &[]);
    assert_eq!(values_of(&out, "n"), vec!["45", "45"]);
    assert_eq!(rows(&values_of(&out, "r")[0]), (0..10).collect::<Vec<_>>());
}

#[test]
fn feeds_replace_dataset_data_and_bind_question_sizes() {
    let f = program(
        "replace",
        "dataset d = load(\"FIX/tiny.npz\", batch=2);\nplaceholder x: f32[?, 4] = d.x;\n\
         placeholder q: f32[?, 4];\nlet n = sum(x * 0.0 + 1.0);\nlet m = sum(q * 0.0 + 1.0);\n\
         run n epochs 1;\n",
    );
    // 10 rows in batches of 2: 5 steps; each step sees 8 values.
    let out = run_both(&f, &[]);
    assert_eq!(out, "[epoch 1] n: f32[] = 8\n");
    // The 6-row file: 3 steps an epoch.
    let other = root().join("tests/fixtures/data/other.npz");
    let out = run_both(
        &f,
        &[
            "--feed",
            &format!("d={}", other.display()),
            "--fetch",
            "n",
            "--epochs",
            "2",
        ],
    );
    assert_eq!(out, "[epoch 2] n: f32[] = 8\n");
    // `?` from the fed file: 7 rows.
    let x7 = root().join("tests/fixtures/data/feed_x7.npy");
    let out = run_both(
        &f,
        &["--feed", &format!("q={}", x7.display()), "--fetch", "m"],
    );
    assert_eq!(out, "m: f32[] = 28\n");
    // One array replaced: its rows no longer match the other array's.
    let x6 = root().join("tests/fixtures/data/other_x.npy");
    let out = tdsl(&[
        "run",
        f.to_str().unwrap(),
        "--feed",
        &format!("d.x={}", x6.display()),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("different row counts"), "{err}");
}

#[test]
fn a_placeholder_a_dataset_feeds_is_not_fed_directly() {
    let f = program(
        "direct",
        "dataset d = load(\"FIX/tiny.npz\", batch=2);\nplaceholder x: f32[?, 4] = d.x;\n\
         let n = sum(x);\nrun n;\n",
    );
    let x7 = root().join("tests/fixtures/data/feed_x7.npy");
    let out = tdsl(&[
        "run",
        f.to_str().unwrap(),
        "--feed",
        &format!("x={}", x7.display()),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("it is fed by dataset `d`"), "{err}");
    assert!(err.contains("direct.td:2:13"), "{err}");
}

#[test]
fn check_shows_unbound_sizes_as_question_marks() {
    let f = program(
        "check_open",
        "placeholder q: f32[?, 3];\nvariable w: f32[3, 5] = zeros();\n\
         let h = q @ w;\nlet s = sum(h);\n",
    );
    let out = tdsl(&["check", f.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "placeholder q: f32[?, 3]\nvariable w: f32[3, 5]\nlet h: f32[?, 5]\nlet s: f32[]\n"
    );
}
