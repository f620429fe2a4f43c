//! Checkpoints through the CLI (`docs/cli.md`, "Checkpoints"): N steps,
//! `--save`, `--restore` and M more steps give the same bytes and the same
//! printed values as N+M steps in one run, on both backends, with a shuffled
//! dataset and `dropout`; another program's checkpoint is refused naming each
//! variable; a save that cannot be written leaves nothing behind.

mod support;
use std::path::{Path, PathBuf};
use support::tdsl;
use tdsl::ir::npy::write_npy_atomic;
use tdsl::ir::{DType, Tensor, TensorType};

const PROGRAM: &str = "\
dataset train = load(x=\"x.npy\", y=\"y.npy\", batch=4, shuffle=7);
placeholder x: f32[?, 3] = train.x;
placeholder y: f32[?, 1] = train.y;
variable w: f32[3, 1] = xavier(seed=3);
variable b: f32[1] = 0.0;
let h = dropout(x, 0.25, seed=5);
let loss = mean_squared_error(h @ w + b, y);
let train_step = minimize(loss, adam(0.05));
let at = cast(step(), f32);
run train_step, loss, at epochs 4 every 1;
";

/// A fresh folder with the program and its data (10 rows: 2 steps an epoch).
fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-checkpoint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("p.td"), PROGRAM).expect("program");
    let x: Vec<f64> = (0..30)
        .map(|i| f64::from((i * 7) % 11) / 5.0 - 1.0)
        .collect();
    let y: Vec<f64> = (0..10)
        .map(|r| x[3 * r] - 0.5 * x[3 * r + 1] + 0.25)
        .collect();
    let tensor = |dims: Vec<usize>, v: Vec<f64>| {
        Tensor::from_f64_vec(&TensorType::new(DType::F32, dims), v).expect("values fit")
    };
    write_npy_atomic(&dir.join("x.npy"), &tensor(vec![10, 3], x)).expect("x.npy");
    write_npy_atomic(&dir.join("y.npy"), &tensor(vec![10, 1], y)).expect("y.npy");
    dir
}

/// Runs `tdsl ARGS`, which must succeed; returns its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = tdsl(dir, args);
    assert!(
        out.status.success(),
        "tdsl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `tdsl ARGS`, which must fail with exit 1; returns its stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = tdsl(dir, args);
    assert_eq!(out.status.code(), Some(1), "tdsl {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file of a checkpoint folder with its bytes, by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    out.sort();
    out
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// The printed lines without their `[step s] ` prefix (it counts the run's own steps).
fn values(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| match l.strip_prefix("[step ") {
            Some(rest) => rest.split_once("] ").map_or(l, |(_, v)| v).to_string(),
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn save_restore_continues_bitwise_on_both_backends() {
    for backend in ["interp", "jit"] {
        let dir = workdir(&format!("bitwise-{backend}"));
        let run = |extra: &[&str]| {
            let mut args = vec!["run", "p.td", "--backend", backend, "--threads", "2"];
            args.extend_from_slice(extra);
            ok(&dir, &args)
        };
        // Steps: 7 in one run, then 3 + 4 (the dataset is mid-epoch at the save).
        let fetch = ["--fetch", "train_step,loss,at", "--every", "1"];
        let straight = run(&[&fetch[..], &["--steps", "7", "--save", "straight"]].concat());
        let first = run(&[&fetch[..], &["--steps", "3", "--save", "half"]].concat());
        let second = run(&[
            &fetch[..],
            &["--steps", "4", "--restore", "half", "--save", "resumed"],
        ]
        .concat());
        let both: Vec<String> = values(&first).into_iter().chain(values(&second)).collect();
        assert_eq!(values(&straight), both, "{backend}: printed values differ");
        assert!(
            second.contains("at: f32[] = 6\n"),
            "{backend}: step() goes on: {second}"
        );
        assert_eq!(
            files(&dir.join("straight")),
            files(&dir.join("resumed")),
            "{backend}: the checkpoints differ"
        );
        // The file's `epochs` run: 4 epochs, or 1 then 3 (the prefix counts epochs).
        let straight = run(&["--save", "e4"]);
        let first = run(&["--epochs", "1", "--save", "e1"]);
        let second = run(&["--epochs", "3", "--restore", "e1", "--save", "e1+3"]);
        assert_eq!(straight, format!("{first}{second}"), "{backend}");
        assert!(second.starts_with("[epoch 2] "), "{second}");
        assert_eq!(
            files(&dir.join("e4")),
            files(&dir.join("e1+3")),
            "{backend}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_checkpoint_holds_the_step_and_the_positions() {
    let dir = workdir("layout");
    ok(
        &dir,
        &[
            "run",
            "p.td",
            "--fetch",
            "train_step",
            "--steps",
            "3",
            "--save",
            "c",
        ],
    );
    assert_eq!(
        names(&dir.join("c")),
        [
            "b.adam_m.npy",
            "b.adam_v.npy",
            "b.npy",
            "checkpoint.txt",
            "w.adam_m.npy",
            "w.adam_t.npy",
            "w.adam_v.npy",
            "w.npy",
        ]
    );
    let manifest = std::fs::read_to_string(dir.join("c/checkpoint.txt")).expect("manifest");
    assert!(manifest.contains("\nstep 3\n"), "{manifest}");
    assert!(
        manifest.contains("dataset train rows 10 batch 4 shuffle 7 epoch 1 step 1\n"),
        "{manifest}"
    );
    assert!(
        manifest.contains("variable w f32 [3,1] w.npy\n"),
        "{manifest}"
    );
    // A variable file still feeds a variable directly.
    let out = ok(
        &dir,
        &["run", "p.td", "--feed", "w=c/w.npy", "--fetch", "b"],
    );
    assert_eq!(out, "b: f32[1] = [0]\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn another_programs_checkpoint_is_refused_naming_each_variable() {
    let dir = workdir("other");
    ok(
        &dir,
        &["run", "p.td", "--fetch", "train_step", "--save", "c"],
    );
    let other = PROGRAM
        .replace(
            "variable w: f32[3, 1] = xavier(seed=3);",
            "variable w: f32[3] = 0.0;",
        )
        .replace("h @ w + b", "h @ reshape(w, [3, 1]) + c")
        .replace("variable b: f32[1] = 0.0;", "variable c: f32[] = 0.0;");
    std::fs::write(dir.join("q.td"), other).expect("program");
    let err = fails(
        &dir,
        &["run", "q.td", "--restore", "c", "--out", "o", "--save", "s"],
    );
    for expected in [
        "variable `w` is f32[3, 1] in the checkpoint 'c', but the program declares f32[3]",
        "variable `w.adam_m` is f32[3, 1] in the checkpoint 'c'",
        "variable `c: f32[]` is not in the checkpoint 'c'",
        "variable `c.adam_v: f32[]` is not in the checkpoint 'c'",
        "q.td:4:10",
        "written by another program",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    assert!(
        !dir.join("o").exists() && !dir.join("s").exists(),
        "nothing written"
    );
    // An edited comment and learning rate: the same program for a checkpoint.
    let edited = format!("// tuned\n{}", PROGRAM.replace("adam(0.05)", "adam(0.01)"));
    std::fs::write(dir.join("r.td"), edited).expect("program");
    ok(&dir, &["run", "r.td", "--restore", "c", "--fetch", "at"]);
    // A program with fewer variables: the extra entries are warnings.
    std::fs::write(
        dir.join("s.td"),
        "variable w: f32[3, 1] = 0.0;\nlet s = sum(w);\n",
    )
    .expect("program");
    let out = tdsl(&dir, &["run", "s.td", "--restore", "c", "--fetch", "s"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: the checkpoint 'c' has variable `b: f32[1]`"),
        "{err}"
    );
    assert!(
        err.contains("dataset `train`, which the program lacks"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_save_that_cannot_be_written_fails_before_running_and_leaves_nothing() {
    let dir = workdir("atomic");
    std::fs::write(dir.join("file.txt"), "keep").expect("file");
    let out = tdsl(&dir, &["run", "p.td", "--save", "file.txt/ckpt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing ran");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'file.txt' is not a folder"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("file.txt")).expect("kept"),
        "keep"
    );
    // A folder of other files is never replaced.
    std::fs::create_dir(dir.join("data")).expect("folder");
    std::fs::write(dir.join("data/keep.txt"), "keep").expect("file");
    let err = fails(&dir, &["run", "p.td", "--fetch", "at", "--save", "data"]);
    assert!(
        err.contains("is a folder that is not a checkpoint"),
        "{err}"
    );
    assert_eq!(names(&dir.join("data")), ["keep.txt"]);
    assert_eq!(
        names(&dir),
        ["data", "file.txt", "p.td", "x.npy", "y.npy"],
        "no temporary folder left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_every_writes_a_checkpoint_that_restores() {
    let dir = workdir("every");
    // The step with step() == 5 fails (`take` out of range): the last
    // checkpoint is the one after 4 steps.
    let failing = format!("{PROGRAM}let bad = take([1.0, 2.0, 3.0, 4.0, 5.0], [step()]);\n");
    std::fs::write(dir.join("f.td"), failing).expect("program");
    let fetch = ["run", "f.td", "--fetch", "train_step,bad"];
    let err = fails(
        &dir,
        &[
            &fetch[..],
            &["--steps", "9", "--save-every", "2", "--save", "every"],
        ]
        .concat(),
    );
    assert!(err.contains("out of range"), "{err}");
    let manifest = std::fs::read_to_string(dir.join("every/checkpoint.txt")).expect("saved");
    assert!(manifest.contains("\nstep 4\n"), "{manifest}");
    ok(
        &dir,
        &[&fetch[..], &["--steps", "5", "--save", "straight"]].concat(),
    );
    ok(
        &dir,
        &[&fetch[..], &["--restore", "every", "--save", "resumed"]].concat(),
    );
    assert_eq!(files(&dir.join("straight")), files(&dir.join("resumed")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_checkpoint_is_a_clear_error() {
    let dir = workdir("damaged");
    ok(
        &dir,
        &["run", "p.td", "--fetch", "train_step", "--save", "c"],
    );
    let file = dir.join("c/w.adam_v.npy");
    let bytes = std::fs::read(&file).expect("saved");
    std::fs::write(&file, &bytes[..bytes.len() - 3]).expect("truncate");
    let err = fails(&dir, &["run", "p.td", "--restore", "c", "--fetch", "at"]);
    assert!(
        err.contains("variable `w.adam_v`") && err.contains("c/w.adam_v.npy"),
        "{err}"
    );
    std::fs::write(dir.join("c/checkpoint.txt"), "tdsl checkpoint 1\nstep x\n").expect("w");
    let err = fails(&dir, &["run", "p.td", "--restore", "c", "--fetch", "at"]);
    assert!(err.contains("checkpoint.txt' is damaged: line 2"), "{err}");
    let err = fails(
        &dir,
        &["run", "p.td", "--restore", "nowhere", "--fetch", "at"],
    );
    assert!(err.contains("cannot restore 'nowhere'"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
