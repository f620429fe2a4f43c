//! `.npz` archives written here with the zip crate, stored and deflated.

use super::*;
use crate::ir::npy::tests::npy_bytes;
use std::io::Write;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn write_npz(name: &str, method: CompressionMethod, members: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-npz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
    let options = SimpleFileOptions::default().compression_method(method);
    for (member, bytes) in members {
        zip.start_file(*member, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn sample(name: &str, method: CompressionMethod) -> PathBuf {
    let x: Vec<u8> = [1.0f64, 2.0, 3.0, 4.5, 5.0, 6.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let y: Vec<u8> = vec![0, 1, 9];
    write_npz(
        name,
        method,
        &[
            ("x.npy", npy_bytes("<f8", false, "(3, 2)", &x)),
            ("y.npy", npy_bytes("|u1", false, "(3,)", &y)),
        ],
    )
}

#[test]
fn members_are_listed_from_their_headers() {
    for (name, method) in [
        ("stored.npz", CompressionMethod::Stored),
        ("deflated.npz", CompressionMethod::Deflated),
    ] {
        let npz = NpzFile::open(&sample(name, method)).unwrap();
        let listed: Vec<String> = npz
            .members()
            .map(|m| format!("{} {}", m.name, m.describe()))
            .collect();
        assert_eq!(listed, vec!["x f64[3, 2]", "y u8[3]"], "{name}");
        assert_eq!(npz.member("y").unwrap().shape, vec![3]);
    }
}

#[test]
fn members_are_read_converted() {
    for (name, method) in [
        ("stored2.npz", CompressionMethod::Stored),
        ("deflated2.npz", CompressionMethod::Deflated),
    ] {
        let mut npz = NpzFile::open(&sample(name, method)).unwrap();
        let x = npz.read_as("x", DType::F32, u64::MAX).unwrap();
        assert_eq!((x.dtype(), x.shape()), (DType::F32, &[3usize, 2][..]));
        assert_eq!(x.to_f64_vec(), vec![1.0, 2.0, 3.0, 4.5, 5.0, 6.0]);
        let y = npz.read_as("y", DType::I32, u64::MAX).unwrap();
        assert_eq!(y.to_f64_vec(), vec![0.0, 1.0, 9.0]);
        // A member can be read again, and a bad conversion names the array.
        let e = npz.read_as("x", DType::I32, u64::MAX).unwrap_err();
        assert!(
            e.contains(&format!("{name}', array 'x' cannot be converted from f64 to i32: the value at index (1, 1) is 4.5")),
            "{e}"
        );
        let e = npz.read_as("y", DType::Bool, u64::MAX).unwrap_err();
        assert!(e.contains("index (2,) is 9"), "{e}");
    }
}

#[test]
fn missing_members_and_limits() {
    let mut npz = NpzFile::open(&sample("limits.npz", CompressionMethod::Deflated)).unwrap();
    let e = npz.read_as("z", DType::F32, u64::MAX).unwrap_err();
    assert!(
        e.ends_with("has no array named 'z'; it has the arrays 'x', 'y'"),
        "{e}"
    );
    // f32[3, 2] is 24 bytes once converted.
    assert!(npz.read_as("x", DType::F32, 24).is_ok());
    let e = npz.read_as("x", DType::F32, 23).unwrap_err();
    assert!(
        e.contains("array 'x'") && e.contains("needs 24 bytes"),
        "{e}"
    );
}

#[test]
fn hostile_archives_are_errors() {
    // A member whose header promises more data than it has.
    let short = npy_bytes("<f4", false, "(1000000000,)", &[0; 8]);
    let path = write_npz(
        "short.npz",
        CompressionMethod::Deflated,
        &[("a.npy", short)],
    );
    let e = NpzFile::open(&path).unwrap_err();
    assert!(e.contains("array 'a' is not a valid .npy file"), "{e}");
    // A member that is not .npy at all, and an unsupported dtype.
    let path = write_npz(
        "junk.npz",
        CompressionMethod::Stored,
        &[("a.npy", b"hello".to_vec())],
    );
    assert!(NpzFile::open(&path)
        .unwrap_err()
        .contains("not a valid .npy file"));
    let c = npy_bytes("<c8", false, "(1,)", &[0; 8]);
    let path = write_npz("complex.npz", CompressionMethod::Stored, &[("c.npy", c)]);
    let e = NpzFile::open(&path).unwrap_err();
    assert!(
        e.contains("array 'c' cannot be read: it holds complex numbers"),
        "{e}"
    );
    // Not a zip; not a regular file; an empty archive.
    let dir = path.parent().unwrap().to_path_buf();
    let not_zip = dir.join("not_zip.npz");
    std::fs::write(&not_zip, b"not a zip file at all").unwrap();
    assert!(NpzFile::open(&not_zip)
        .unwrap_err()
        .contains("is not a valid .npz file"));
    assert!(NpzFile::open(&dir)
        .unwrap_err()
        .contains("not a regular file"));
    let empty = write_npz("empty.npz", CompressionMethod::Stored, &[]);
    let npz = NpzFile::open(&empty).unwrap();
    assert!(npz.member("x").unwrap_err().ends_with("it has no arrays"));
}
