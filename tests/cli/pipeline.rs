//! `tdsl run`'s whole pipeline through the binary: feeds, fetches, outputs,
//! the parser, the builder and the interpreter behind them.

use super::*;
use tdsl::ir::{npy, DType, Tensor, TensorType};

const PROGRAM: &str = "\
// a tiny program
placeholder x: f32[3] = [1.0, 2.0, 3.0];
variable w: f32[3] = 0.5;
let y = w * x;
let s = sum(y);
let step = assign(w, w + 1.0);
let train = group(step);
run y, s;
run step, s repeat 3 every 2;
run train, s;
";

fn program_dir(test: &str, source: &str) -> PathBuf {
    let dir = temp_dir(test);
    std::fs::write(dir.join("p.td"), source).unwrap();
    dir
}

fn f32s(values: &[f32]) -> Tensor {
    Tensor::from_f64_vec(
        &TensorType::new(DType::F32, vec![values.len()]),
        values.iter().map(|&v| v as f64).collect(),
    )
    .unwrap()
}

/// A fuzzer find: under an address-space limit (`ulimit -v`), `check` of a
/// large zero initialiser aborted on its stand-in's allocation. The default
/// memory limit now follows the address-space limit, so it is a diagnostic.
#[test]
fn an_address_space_limit_lowers_the_default_memory_limit() {
    let dir = program_dir("rlimit", "placeholder b: f32[30273027, 42] = zeros();\n");
    let script = "ulimit -v 3145728 && exec \"$0\" check p.td";
    let out = Command::new("sh")
        .args(["-c", script, env!("CARGO_BIN_EXE_tdsl")])
        .current_dir(&dir)
        .output()
        .expect("sh runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("p.td:1:"), "{err}");
    assert!(
        err.contains("5085868536 bytes, more than the memory limit"),
        "{err}"
    );
    assert!(!err.contains("memory allocation"), "{err}");
}

#[test]
fn run_prints_the_fetches() {
    let dir = program_dir("run", PROGRAM);
    let out = tdsl(&dir, &["run", "p.td"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\
y: f32[3] = [0.5, 1, 1.5]
s: f32[] = 3
[step 2] step: f32[3] = [2.5, 2.5, 2.5]
[step 2] s: f32[] = 9
[step 3] step: f32[3] = [3.5, 3.5, 3.5]
[step 3] s: f32[] = 15
s: f32[] = 21
"
    );
}

#[test]
fn fetch_steps_and_every_flags() {
    let dir = program_dir("fetch", PROGRAM);
    let out = tdsl(
        &dir,
        &[
            "run", "p.td", "--fetch", "train", "--fetch", "s", "--steps", "4",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[step 4] s: f32[] = 21\n");
    // Without --fetch, --steps/--every override every run statement.
    let out = tdsl(&dir, &["run", "p.td", "--steps", "2", "--every", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("[step 1] y: f32[3] = [0.5, 1, 1.5]\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2 * 2 + 2 * 2 + 2);
}

#[test]
fn out_writes_npy_files() {
    let dir = program_dir("out", PROGRAM);
    let out = tdsl(
        &dir,
        &["run", "p.td", "--fetch", "y,s,train", "--out", "res"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        npy::read_npy(&dir.join("res/y.npy")).unwrap(),
        f32s(&[0.5, 1.0, 1.5])
    );
    assert_eq!(
        npy::read_npy(&dir.join("res/s.npy")).unwrap(),
        Tensor::scalar(DType::F32, 3.0)
    );
    assert!(
        !dir.join("res/train.npy").exists(),
        "groups are not written"
    );
}

#[test]
fn save_then_feed_resumes() {
    let dir = program_dir("save", PROGRAM);
    let out = tdsl(
        &dir,
        &[
            "run", "p.td", "--fetch", "train", "--steps", "2", "--save", "ckpt",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        npy::read_npy(&dir.join("ckpt/w.npy")).unwrap(),
        f32s(&[2.5, 2.5, 2.5])
    );
    let out = tdsl(
        &dir,
        &["run", "p.td", "--feed", "w=ckpt/w.npy", "--fetch", "w"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "w: f32[3] = [2.5, 2.5, 2.5]\n");
}

#[test]
fn wrong_shape_feed_names_both_shapes() {
    let dir = program_dir("feedshape", PROGRAM);
    npy::write_npy_atomic(&dir.join("x4.npy"), &f32s(&[1.0, 2.0, 3.0, 4.0])).unwrap();
    let out = tdsl(&dir, &["run", "p.td", "--feed", "x=x4.npy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("feed `x`: expected f32[3], got f32[4]"),
        "{err}"
    );
    assert!(err.contains("p.td:2:"), "points at the declaration: {err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn unknown_feed_and_fetch_names() {
    let dir = program_dir("unknown", PROGRAM);
    npy::write_npy_atomic(&dir.join("v.npy"), &f32s(&[1.0])).unwrap();
    let out = tdsl(&dir, &["run", "p.td", "--feed", "nope=v.npy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("placeholders: x"), "{}", stderr(&out));
    let out = tdsl(&dir, &["run", "p.td", "--fetch", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown fetch `nope`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_feed_and_double_assign_are_errors() {
    let dir = program_dir(
        "plan",
        "placeholder z: f32[2];\nlet q = z + 1.0;\nlet c = 2.0;\nrun c;\nrun q;\n",
    );
    let out = tdsl(&dir, &["run", "p.td"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "",
        "every run is checked before the first step"
    );
    assert!(
        stderr(&out).contains("placeholder `z` needs a feed"),
        "{}",
        stderr(&out)
    );
    let dir = program_dir(
        "twice",
        "variable w: f32[] = 1.0;\nlet a = assign(w, w + 1.0);\n\
         let b = assign(w, w * 2.0);\nrun a, b;\n",
    );
    let out = tdsl(&dir, &["run", "p.td"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        // The builder or the session's plan check catches it.
        stderr(&out).contains("is assigned twice in one step"),
        "{}",
        stderr(&out)
    );
    // Fetched from the command line, the session's plan check catches it.
    let dir = program_dir(
        "twice_fetch",
        "variable w: f32[] = 1.0;\nlet a = assign(w, w + 1.0);\n\
         let b = assign(w, w * 2.0);\n",
    );
    let out = tdsl(&dir, &["run", "p.td", "--fetch", "b,a"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("`w` is assigned twice in one step"), "{err}");
    assert!(err.contains("p.td:"), "{err}");
}

#[test]
fn no_run_statement_lists_fetchable_names() {
    let dir = program_dir("norun", "variable w: f32[2, 2] = 1.0;\nlet y = sum(w);\n");
    let out = tdsl(&dir, &["run", "p.td"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("  w: f32[2, 2]\n"), "{text}");
    assert!(text.contains("  y: f32[]\n"), "{text}");
}

#[test]
fn check_prints_the_signature() {
    let dir = program_dir("check", PROGRAM);
    let out = tdsl(&dir, &["check", "p.td"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\
placeholder x: f32[3] (has default)
variable w: f32[3]
let y: f32[3]
let s: f32[]
let step: f32[3]
let train: group
run y, s
run step, s repeat 3 every 2
run train, s
"
    );
}

#[test]
fn graph_text_and_dot() {
    let dir = program_dir("graph", PROGRAM);
    let out = tdsl(&dir, &["graph", "p.td"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(" = placeholder x : f32[3]  // x\n"));
    let out = tdsl(&dir, &["graph", "p.td", "--format", "dot", "--opt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("digraph"));
    let out = tdsl(&dir, &["graph", "p.td", "--opt", "--stats"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("// round 1  const-fold"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains(" nodes\n"), "{}", stdout(&out));
}

#[test]
fn program_errors_exit_1_with_location() {
    let dir = program_dir("syntax", "let a = ;\n");
    let out = tdsl(&dir, &["check", "p.td"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("p.td:1:"), "{}", stderr(&out));
}
