//! Dataset arrays of integers wider than `i32` (`u32`, `i64`, `u64`): held as
//! `i32` when every value fits, else as `f64`, and converted to the dtype of
//! the placeholder they feed by the integer rules (exact up to 2^24 in `f32`
//! and 2^53 in `f64`; otherwise an error naming the array, index and value).

use std::path::{Path, PathBuf};
use std::process::Command;
use tdsl::backend::Backend;

/// A `.npy` file of `descr` (`<u4`, `<i8`, ...) holding `bytes`.
fn npy(descr: &str, count: usize, bytes: &[u8]) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({count},), }}");
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(bytes);
    out
}

fn u32s(values: &[u32]) -> Vec<u8> {
    npy(
        "<u4",
        values.len(),
        &values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    )
}

fn i64s(values: &[i64]) -> Vec<u8> {
    npy(
        "<i8",
        values.len(),
        &values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    )
}

/// A folder with `y.npy` holding `file`, and a program feeding it to a
/// placeholder of `dtype`.
fn setup(test: &str, file: &[u8], dtype: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("tdsl-wide-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("y.npy"), file).unwrap();
    let source =
        format!("dataset d = load(y=\"y.npy\");\nplaceholder y: {dtype}[?] = d.y;\nrun y;\n");
    std::fs::write(dir.join("p.td"), &source).unwrap();
    (dir, source)
}

/// The placeholder's value on both backends (they must agree), or the build's error.
fn fed(test: &str, file: &[u8], dtype: &str) -> Result<Vec<f64>, String> {
    let (dir, source) = setup(test, file, dtype);
    let module = tdsl::compile_with(&source, &dir, &tdsl::Options::default())
        .map_err(|d| {
            d.iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        })?
        .module;
    let mut values = Vec::new();
    for backend in [Backend::Interp, Backend::Jit] {
        let engine = tdsl::engines::engine(backend, Default::default());
        let mut s = tdsl::Session::new(module.clone(), engine);
        values.push(s.run(&["y"]).expect("runs")[0].to_f64_vec());
    }
    assert_eq!(values[0], values[1], "the backends differ");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(values.remove(0))
}

#[test]
fn u32_beyond_i32_feeds_f64_and_f32_exactly() {
    let big = [4_294_967_295u32, 2_147_483_648, 7];
    let want: Vec<f64> = big.iter().map(|&v| f64::from(v)).collect();
    assert_eq!(fed("u32_f64", &u32s(&big), "f64").unwrap(), want);
    // 2^31 + 256 and 2^32 - 256 are f32 values; 2^32 - 1 is not.
    let exact = [2_147_483_904u32, 4_294_967_040, 16_777_216];
    let want: Vec<f64> = exact.iter().map(|&v| f64::from(v)).collect();
    assert_eq!(fed("u32_f32", &u32s(&exact), "f32").unwrap(), want);
    let e = fed("u32_f32_bad", &u32s(&big), "f32").unwrap_err();
    assert!(
        e.contains("`d.y` cannot be converted from integers to f32: the value at index (0,) is 4294967295, which f32 cannot hold exactly"),
        "{e}"
    );
}

#[test]
fn i64_converts_exactly_or_names_the_value() {
    let limit = 1i64 << 53;
    let wide = [-limit, limit, 3_000_000_000, -5];
    let want: Vec<f64> = wide.iter().map(|&v| v as f64).collect();
    assert_eq!(fed("i64_f64", &i64s(&wide), "f64").unwrap(), want);
    let e = fed("i64_f64_bad", &i64s(&[1, limit + 1]), "f64").unwrap_err();
    assert!(
        e.contains("cannot be converted from i64 to f64: the value at index (1,) is 9007199254740993, which f64 cannot hold exactly"),
        "{e}"
    );
    // 3e9 is an f32 value; 2^24 + 1 is not.
    let f32s = [3_000_000_000i64, -16_777_216, 5];
    let want: Vec<f64> = f32s.iter().map(|&v| v as f64).collect();
    assert_eq!(fed("i64_f32", &i64s(&f32s), "f32").unwrap(), want);
    let e = fed("i64_f32_bad", &i64s(&[3_000_000_000, 16_777_217]), "f32").unwrap_err();
    assert!(
        e.contains("from integers to f32: the value at index (1,) is 16777217, which f32 cannot hold exactly"),
        "{e}"
    );
}

#[test]
fn i64_into_i32_fits_or_is_out_of_range() {
    // Values that fit are held as i32, as before.
    assert_eq!(
        fed("i64_i32", &i64s(&[-3, 9]), "i32").unwrap(),
        vec![-3.0, 9.0]
    );
    let e = fed("i64_i32_bad", &i64s(&[1, 2, 3_000_000_000]), "i32").unwrap_err();
    assert!(
        e.contains("`d.y` cannot be converted from integers to i32: the value at index (2,) is 3000000000, which is out of range for i32"),
        "{e}"
    );
    // Wide integers that are 0 or 1 would be bools; one beyond i32 is not.
    let e = fed("i64_bool_bad", &i64s(&[0, 1, 1 << 40]), "bool").unwrap_err();
    assert!(e.contains("is 1099511627776, which is not a bool"), "{e}");
}

/// On the command line the error points at the placeholder and exits 1.
#[test]
fn the_cli_reports_a_refused_wide_value_at_its_placeholder() {
    let (dir, _) = setup("cli", &i64s(&[1, 3_000_000_000]), "i32");
    let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .args(["run", "p.td"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("p.td:2:"), "{stderr}");
    assert!(stderr.contains("3000000000"), "{stderr}");
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
