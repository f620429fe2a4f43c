//! Feeds that convert like TF1's `feed_dict`: `.npy` and `.npz` files of other
//! dtypes fed with `--feed` (placeholders and variables) and read by `load`,
//! on both backends; and the conversions that are refused, each naming the
//! file, the first bad index and its value. The fixtures are made by
//! `scripts/gen_feed_fixtures.py`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds")
}

/// A program in a fresh temporary folder, next to copies of the fixtures (so
/// `load("x.npy")` finds them).
fn program(test: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-feeds-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let file = dir.join("p.td");
    std::fs::write(&file, source).unwrap();
    file
}

fn tdsl(file: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .arg("run")
        .arg(file)
        .args(args)
        .current_dir(file.parent().unwrap())
        .output()
        .expect("the tdsl binary runs")
}

/// Runs on both backends; both must succeed with the same output.
fn run_both(file: &Path, args: &[&str]) -> String {
    let mut outputs = Vec::new();
    for backend in ["interp", "jit"] {
        let mut all = args.to_vec();
        all.extend(["--backend", backend]);
        let out = tdsl(file, &all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{backend}: {stderr}");
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert_eq!(outputs[0], outputs[1], "the backends differ");
    outputs.remove(0)
}

/// Fails with exit 1 and one diagnostic; returns stderr.
fn fails(file: &Path, args: &[&str]) -> String {
    let out = tdsl(file, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{stderr}"
    );
    stderr
}

/// The numbers printed after `NAME: TYPE` up to the next fetch.
fn numbers(stdout: &str) -> Vec<f64> {
    stdout
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .filter_map(|w| w.parse::<f64>().ok())
        .collect()
}

const SUMS: &str = "placeholder y: i32[4];
placeholder x: f32[2, 2];
let ysum = sum(y);
let xsum = sum(x);
run ysum, xsum;
";

#[test]
fn other_dtypes_convert_on_both_backends() {
    let file = program("convert", SUMS);
    let out = run_both(
        &file,
        &["--feed", "y=labels_u8.npy", "--feed", "x=x_f64.npy"],
    );
    assert!(
        out.contains("ysum: i32[]") && out.contains("xsum: f32[]"),
        "{out}"
    );
    let n = numbers(&out);
    assert!(n.contains(&6.0) && n.contains(&7.75), "{out}");
    // Big-endian i16, Fortran-order u16 and bool, all to f32.
    for (feed, total) in [
        ("x=x_i16_be.npy", 6.0),
        ("x=x_fortran_u16.npy", 10.0),
        ("x=mask_bool.npy", 2.0),
    ] {
        let out = run_both(&file, &["--feed", "y=labels_u8.npy", "--feed", feed]);
        assert!(numbers(&out).contains(&total), "{feed}: {out}");
    }
}

#[test]
fn npz_archives_feed_the_array_of_the_same_name() {
    let file = program("npz", SUMS);
    for archive in ["data.npz", "data_compressed.npz"] {
        let y = format!("y={archive}");
        let x = format!("x={archive}");
        let out = run_both(&file, &["--feed", &y, "--feed", &x]);
        let n = numbers(&out);
        assert!(n.contains(&6.0) && n.contains(&7.75), "{archive}: {out}");
    }
    let file = program("npz_missing", "placeholder z: f32[2];\nrun z;\n");
    let e = fails(&file, &["--feed", "z=data.npz"]);
    assert!(
        e.contains("data.npz' has no array named 'z'; it has the arrays 'x', 'y'"),
        "{e}"
    );
}

#[test]
fn variables_and_load_convert_too() {
    let source = "variable w: f32[2, 2] = load(\"x_i16_be.npy\");
variable v: f32[2, 2] = 0.0;
let total = sum(w) + sum(v);
run total;
";
    let file = program("load", source);
    assert!(numbers(&run_both(&file, &[])).contains(&6.0));
    let out = run_both(&file, &["--feed", "v=x_f64.npy"]);
    assert!(numbers(&out).contains(&13.75), "{out}");
}

/// A `?` placeholder's `load` default converts like a fully sized one's (a
/// fuzz find: it kept the file's dtype, so an `i16` file was refused and an
/// `f64` one mismatched).
#[test]
fn load_into_a_question_mark_declaration_converts_too() {
    let source = "placeholder a: f32[?, 2] = load(\"x_i16_be.npy\");
placeholder b: f32[?, ?] = load(\"x_f64.npy\");
let total = sum(a) + sum(b);
run total;
";
    let file = program("load_open", source);
    let out = run_both(&file, &[]);
    assert!(numbers(&out).contains(&13.75), "{out}");
    let refused = program(
        "load_open_refused",
        "placeholder m: bool[?, 2] = load(\"x_f64.npy\");\nrun m;\n",
    );
    let e = fails(&refused, &[]);
    assert!(e.contains("x_f64.npy' holds f64[2, 2]"), "{e}");
}

/// `--feed x=FILE.npz` to a placeholder with `?` sizes binds them from the
/// archive's array `x`, as a fixed-size placeholder reads it (a fuzz find:
/// the sizes were read as if the archive were a `.npy`).
#[test]
fn an_npz_feeds_a_question_mark_placeholder() {
    let file = program(
        "npz_open",
        "placeholder x: f32[?, 2];\nlet xsum = sum(x);\nrun xsum;\n",
    );
    let fixed = program(
        "npz_fixed",
        "placeholder x: f32[2, 2];\nlet xsum = sum(x);\nrun xsum;\n",
    );
    let want = run_both(&fixed, &["--feed", "x=data.npz"]);
    assert_eq!(run_both(&file, &["--feed", "x=data.npz"]), want);
}

/// A dataset array of `u32` values beyond `i32` feeds an `f64` placeholder,
/// as `--feed` does (the dataset holds it as `f64`; more cases in
/// `tests/wide_datasets.rs`).
#[test]
fn a_dataset_of_wide_integers_feeds_a_float_placeholder() {
    let mut header = "{'descr': '<u4', 'fortran_order': False, 'shape': (2,), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
    npy.extend_from_slice(header.as_bytes());
    for v in [4_294_967_295u32, 2_147_483_648] {
        npy.extend_from_slice(&v.to_le_bytes());
    }
    let source = "dataset d = load(x=\"wide.npy\");\nplaceholder x: f64[?] = d.x;\nrun x;\n";
    let file = program("wide_dataset", source);
    std::fs::write(file.parent().unwrap().join("wide.npy"), &npy).unwrap();
    let fed = program("wide_feed", "placeholder x: f64[2];\nrun x;\n");
    std::fs::write(fed.parent().unwrap().join("wide.npy"), &npy).unwrap();
    let want = run_both(&fed, &["--feed", "x=wide.npy"]);
    assert_eq!(run_both(&file, &[]), want);
}

#[test]
fn refused_conversions_name_the_file_index_and_value() {
    let file = program("refused", SUMS);
    let e = fails(
        &file,
        &["--feed", "y=labels_big.npy", "--feed", "x=x_f64.npy"],
    );
    assert!(
        e.contains("feed `y`: 'labels_big.npy' cannot be converted from i64 to i32: the value at index (3,) is 3000000000, which is out of range for i32"),
        "{e}"
    );
    assert!(e.contains("p.td:1:13"), "{e}");
    let file = program("fraction", "placeholder y: i32[2, 3];\nrun y;\n");
    let e = fails(&file, &["--feed", "y=labels_frac.npy"]);
    assert!(
        e.contains("the value at index (1, 2) is 2.5, which is not a whole number"),
        "{e}"
    );
    let file = program("strings", "placeholder s: f32[2];\nrun s;\n");
    let e = fails(&file, &["--feed", "s=strings.npy"]);
    assert!(
        e.contains("'strings.npy' cannot be read: it holds strings"),
        "{e}"
    );
    let file = program("float_to_bool", "placeholder b: bool[2, 2];\nrun b;\n");
    let e = fails(&file, &["--feed", "b=x_f64.npy"]);
    assert!(e.contains("expected bool[2, 2], got f64[2, 2]"), "{e}");
    assert!(e.contains("f64 values do not convert to bool"), "{e}");
    let file = program(
        "load_refused",
        "variable w: i32[2, 3] = load(\"labels_frac.npy\");\nrun w;\n",
    );
    let e = fails(&file, &[]);
    assert!(
        e.contains("load: ") && e.contains("labels_frac.npy' cannot be converted from f64 to i32"),
        "{e}"
    );
    assert!(e.contains("p.td:1:25"), "{e}");
}

#[test]
fn a_scalar_f64_file_feeds_an_f32_learning_rate() {
    let source = "placeholder lr: f32[];
variable w: f32[2] = 1.0;
let train = minimize(sum(w * w), sgd(lr));
run train;
run w;
";
    let file = program("lr", source);
    // lr = 0.5: w -= 0.5 * 2w, so w becomes 0.
    let out = run_both(&file, &["--feed", "lr=lr_f64.npy"]);
    assert!(out.contains("w: f32[2] = [0, 0]"), "{out}");
}
