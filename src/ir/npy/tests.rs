//! Reading `.npy` files: every byte order and layout NumPy writes, and files
//! that lie about their size.

use super::*;
use ndarray::{ArrayD, IxDyn};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tdsl-npy-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A version-1 file: the dict padded to 64 bytes with the prefix, then `data`.
pub(super) fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

fn read_bytes(d: &Path, bytes: &[u8]) -> Result<Tensor, String> {
    let path = d.join("t.npy");
    std::fs::write(&path, bytes).unwrap();
    read_npy(&path)
}

#[test]
fn every_byte_order_numpy_writes() {
    let d = dir("order");
    let le: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let be: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    for (descr, data) in [("<f4", &le), (">f4", &be), ("=f4", &le)] {
        let t = read_bytes(&d, &npy_bytes(descr, false, "(2,)", data));
        assert_eq!(t.map(|t| t.to_f64_vec()), Ok(vec![1.5, -2.0]), "{descr}");
    }
    let be64: Vec<u8> = [3.25f64].iter().flat_map(|v| v.to_be_bytes()).collect();
    let t = read_bytes(&d, &npy_bytes(">f8", false, "(1,)", &be64));
    assert_eq!(t.map(|t| t.to_f64_vec()), Ok(vec![3.25]));
    let bei: Vec<u8> = (-7i32).to_be_bytes().to_vec();
    let t = read_bytes(&d, &npy_bytes(">i4", false, "()", &bei));
    assert_eq!(
        t.map(|t| (t.dtype(), t.to_f64_vec())),
        Ok((DType::I32, vec![-7.0]))
    );
    let t = read_bytes(&d, &npy_bytes("|b1", false, "(3,)", &[1, 0, 1]));
    assert_eq!(t.map(|t| t.to_f64_vec()), Ok(vec![1.0, 0.0, 1.0]));
    assert!(read_bytes(&d, &npy_bytes("|b1", false, "(1,)", &[7])).is_err());
}

#[test]
fn fortran_order_is_read_row_major() {
    let d = dir("fortran");
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    let data: Vec<u8> = [1i32, 4, 2, 5, 3, 6]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let t = read_bytes(&d, &npy_bytes("<i4", true, "(2, 3)", &data)).unwrap();
    assert_eq!(t.shape(), &[2, 3]);
    assert_eq!(t.to_f64_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn written_files_read_back() {
    let d = dir("roundtrip");
    let path = d.join("w.npy");
    let a = Tensor::F64(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    write_npy_atomic(&path, &a).unwrap();
    assert_eq!(read_npy(&path), Ok(a));
}

#[test]
fn files_that_lie_about_their_size() {
    let d = dir("lies");
    let short = npy_bytes("<f4", false, "(2, 3)", &[0; 20]);
    let e = read_bytes(&d, &short).unwrap_err();
    assert!(
        e.contains("24 bytes of data") && e.contains("20 bytes"),
        "{e}"
    );
    let long = npy_bytes("<f4", false, "(1,)", &[0; 8]);
    assert!(read_bytes(&d, &long).is_err());
    let huge = npy_bytes("<f4", false, "(100000000000,)", &[]);
    assert!(read_bytes(&d, &huge)
        .unwrap_err()
        .contains("400000000000 bytes"));
    let mut bad_len = npy_bytes("<f4", false, "(1,)", &[0; 4]);
    bad_len[8] = 0xff;
    bad_len[9] = 0xff;
    assert!(read_bytes(&d, &bad_len)
        .unwrap_err()
        .contains("header length"));
    // Not a regular file: never read.
    assert!(read_npy(&d).unwrap_err().contains("not a regular file"));
    assert!(read_npy(Path::new("/dev/zero"))
        .unwrap_err()
        .contains("not a regular file"));
}

#[test]
fn the_memory_limit_is_checked_before_reading() {
    let d = dir("limit");
    let path = d.join("t.npy");
    std::fs::write(&path, npy_bytes("<f4", false, "(10,)", &[0; 40])).unwrap();
    assert!(read_npy_within(&path, 40).is_ok());
    let e = read_npy_within(&path, 39).unwrap_err();
    assert!(e.contains("needs 40 bytes"), "{e}");
}
