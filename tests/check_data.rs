//! `tdsl check` reads a dataset's `.npy` headers, never its data: the shapes,
//! dtypes, row counts and file sizes are checked as `run` checks them, values
//! are not (a value that does not convert is `run`'s error alone).

mod support;
use std::path::Path;
use support::{tdsl, temp_dir, text};

/// A version 1.0 `.npy` header for `descr` and `shape`.
fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Writes an `.npy` file: the header, then `data` (little-endian bytes), the
/// file then set to `len` bytes if given (holes: a sparse file).
fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8], len: Option<u64>) {
    let mut bytes = header(descr, shape);
    bytes.extend_from_slice(data);
    std::fs::write(path, &bytes).unwrap();
    if let Some(len) = len {
        let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        file.set_len(len).unwrap();
    }
}

const PROGRAM: &str = "\
dataset train = load(x=\"x.npy\", y=\"y.npy\", batch=8);
placeholder x: f32[?, 4] = train.x;
placeholder y: i32[?] = train.y;
variable w: f32[4, 3] = 0.0;
let loss = sparse_softmax_cross_entropy(x @ w, y);
run loss;
";

/// `rows` i64 labels; with `bad`, the one at index 3 is out of the range of `i32`.
fn labels(dir: &Path, rows: usize, bad: bool) {
    let mut data = Vec::new();
    for i in 0..rows as i64 {
        let v: i64 = if bad && i == 3 { 3_000_000_000 } else { i % 3 };
        data.extend_from_slice(&v.to_le_bytes());
    }
    write_npy(&dir.join("y.npy"), "<i8", &[rows], &data, None);
}

#[test]
fn check_of_a_large_dataset_reads_its_headers_only() {
    let dir = temp_dir("large");
    std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
    // 2^26 rows: x is 1 GiB and y 512 MiB, both holes after their headers
    // (sparse files: nothing on disk, zeros when read).
    let rows = 1usize << 26;
    for (name, descr, shape, bytes) in
        [("x", "<f4", vec![rows, 4], 16), ("y", "<i8", vec![rows], 8)]
    {
        let len = header(descr, &shape).len() as u64 + rows as u64 * bytes;
        write_npy(
            &dir.join(format!("{name}.npy")),
            descr,
            &shape,
            &[],
            Some(len),
        );
    }
    let out = tdsl(&dir, &["check", "p.td"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = format!(
        "dataset train (x: f32[{rows}, 4], y: i32[{rows}]) batch 8, {} steps an epoch",
        rows / 8
    );
    assert!(stdout.contains(&line), "{stdout}");
    assert!(stdout.contains("placeholder y: i32[?] (from train.y, built as i32[8])"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_value_that_does_not_convert_is_an_error_of_run_not_of_check() {
    let dir = temp_dir("values");
    std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
    write_npy(&dir.join("x.npy"), "<f4", &[8, 4], &[0u8; 128], None);
    labels(&dir, 8, true);
    let out = tdsl(&dir, &["check", "p.td"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // `run` reads the labels and finds the value `check` never read.
    for backend in ["jit", "interp"] {
        let out = tdsl(&dir, &["run", "p.td", "--backend", backend]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("3000000000") && stderr.contains("out of range for i32"),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_reports_a_truncated_file_as_run_does() {
    let dir = temp_dir("truncated");
    std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
    // The header promises 8 x 4 f32 values (128 bytes); 100 are there.
    write_npy(&dir.join("x.npy"), "<f4", &[8, 4], &[0u8; 100], None);
    labels(&dir, 8, false);
    let check = tdsl(&dir, &["check", "p.td"]);
    let run = tdsl(&dir, &["run", "p.td"]);
    assert_eq!((check.status.code(), run.status.code()), (Some(1), Some(1)));
    let (check, run) = (text(&check.stderr), text(&run.stderr));
    assert!(check.contains("x.npy"), "{check}");
    assert!(check.contains("p.td:1:"), "{check}");
    assert_eq!(check, run, "the same diagnostic");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_reports_row_counts_shapes_and_the_memory_limit_as_run_does() {
    let dir = temp_dir("rows");
    std::fs::write(dir.join("p.td"), PROGRAM).unwrap();
    let cases: [(&[usize], &str); 2] = [(&[9, 4], "different row counts"), (&[8, 5], "f32[8, 5]")];
    for (shape, expect) in cases {
        let n: usize = shape.iter().product();
        write_npy(&dir.join("x.npy"), "<f4", shape, &vec![0u8; n * 4], None);
        labels(&dir, 8, false);
        let check = tdsl(&dir, &["check", "p.td"]);
        let run = tdsl(&dir, &["run", "p.td"]);
        assert_eq!(check.status.code(), Some(1), "{shape:?}");
        assert_eq!(run.status.code(), Some(1), "{shape:?}");
        assert_eq!(text(&check.stderr), text(&run.stderr), "{shape:?}");
        assert!(
            text(&check.stderr).contains(expect),
            "{}",
            text(&check.stderr)
        );
    }
    // The memory limit: the same error, before anything is read.
    write_npy(&dir.join("x.npy"), "<f4", &[8, 4], &[0u8; 128], None);
    labels(&dir, 8, false);
    let check = tdsl(&dir, &["check", "p.td", "--max-memory", "100"]);
    let run = tdsl(&dir, &["run", "p.td", "--max-memory", "100"]);
    assert_eq!((check.status.code(), run.status.code()), (Some(1), Some(1)));
    assert!(
        text(&check.stderr).contains("memory limit"),
        "{}",
        text(&check.stderr)
    );
    assert_eq!(text(&check.stderr), text(&run.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_reports_a_float_array_fed_to_a_bool_placeholder() {
    let dir = temp_dir("floatbool");
    let program = PROGRAM.replace("placeholder x: f32[?, 4]", "placeholder x: bool[?, 4]");
    let program = program.replace("x @ w", "cast(x, f32) @ w");
    std::fs::write(dir.join("p.td"), program).unwrap();
    write_npy(&dir.join("x.npy"), "<f4", &[8, 4], &[0u8; 128], None);
    labels(&dir, 8, false);
    let out = tdsl(&dir, &["check", "p.td"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`train.x` cannot be converted from f32 to bool"),
        "{stderr}"
    );
    assert!(stderr.contains("p.td:2:"), "{stderr}");
    let out = tdsl(&dir, &["run", "p.td"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
