//! Each conversion and each refusal, on hand-made headers.

use super::*;
use std::io::Cursor;

fn header(code: &str, little: bool, shape: &[usize], fortran: bool) -> Header {
    let dtype = FileDType::from_code(code).unwrap();
    let data_bytes = (dtype.size() * shape.iter().product::<usize>()) as u64;
    Header {
        dtype,
        shape: shape.to_vec(),
        fortran_order: fortran,
        little_endian: little,
        data_offset: 128,
        data_bytes,
    }
}

/// Reads little-endian `data` of `code` and shape `shape` as `to`.
fn read(code: &str, shape: &[usize], data: &[u8], to: DType) -> Result<Tensor, String> {
    let h = header(code, true, shape, false);
    read_as(&mut Cursor::new(data), &h, to, "'t.npy'")
}

fn le<T: Copy, const N: usize>(values: &[T], f: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

#[test]
fn integers_of_every_width_to_i32() {
    let i8s = le(&[-128i8, 127], i8::to_le_bytes);
    assert_eq!(
        read("i1", &[2], &i8s, DType::I32).unwrap().to_f64_vec(),
        vec![-128.0, 127.0]
    );
    let u16s = le(&[65535u16], u16::to_le_bytes);
    assert_eq!(
        read("u2", &[1], &u16s, DType::I32).unwrap().to_f64_vec(),
        vec![65535.0]
    );
    let i64s = le(&[-2147483648i64, 2147483647], i64::to_le_bytes);
    assert_eq!(
        read("i8", &[2], &i64s, DType::I32).unwrap().to_f64_vec(),
        vec![-2147483648.0, 2147483647.0]
    );
    let u64s = le(&[7u64], u64::to_le_bytes);
    assert_eq!(
        read("u8", &[1], &u64s, DType::I32).unwrap().to_f64_vec(),
        vec![7.0]
    );
    let bools = [1u8, 0, 1];
    let t = read("b1", &[3], &bools, DType::I32).unwrap();
    assert_eq!(
        (t.dtype(), t.to_f64_vec()),
        (DType::I32, vec![1.0, 0.0, 1.0])
    );
}

#[test]
fn out_of_range_integers_name_the_index_and_value() {
    let i64s = le(&[1i64, 2, 3, 4, 5, 3_000_000_000], i64::to_le_bytes);
    let e = read("i8", &[2, 3], &i64s, DType::I32).unwrap_err();
    assert_eq!(
        e,
        "'t.npy' cannot be converted from i64 to i32: the value at index (1, 2) is \
         3000000000, which is out of range for i32"
    );
    let u32s = le(&[u32::MAX], u32::to_le_bytes);
    let e = read("u4", &[1], &u32s, DType::I32).unwrap_err();
    assert!(
        e.contains("index (0,) is 4294967295, which is out of range"),
        "{e}"
    );
}

#[test]
fn whole_floats_to_i32_and_fractions_refused() {
    let f = le(&[1.0f64, -3.0, 2147483647.0], f64::to_le_bytes);
    assert_eq!(
        read("f8", &[3], &f, DType::I32).unwrap().to_f64_vec(),
        vec![1.0, -3.0, 2147483647.0]
    );
    let f = le(&[1.0f32, 2.5], f32::to_le_bytes);
    let e = read("f4", &[2], &f, DType::I32).unwrap_err();
    assert!(
        e.ends_with("index (1,) is 2.5, which is not a whole number"),
        "{e}"
    );
    let f = le(&[f64::NAN], f64::to_le_bytes);
    let e = read("f8", &[], &f, DType::I32).unwrap_err();
    assert!(e.ends_with("index () is nan, which is not a number"), "{e}");
    let f = le(&[f64::NEG_INFINITY], f64::to_le_bytes);
    let e = read("f8", &[1], &f, DType::I32).unwrap_err();
    assert!(e.ends_with("is -inf, which is out of range for i32"), "{e}");
    let f = le(&[2147483648.0f64], f64::to_le_bytes);
    assert!(read("f8", &[1], &f, DType::I32)
        .unwrap_err()
        .contains("out of range"));
}

#[test]
fn integers_to_floats_exactly() {
    let big = 1i64 << 24;
    let i = le(&[-5i64, big, big + 2, 1 << 40], i64::to_le_bytes);
    let t = read("i8", &[4], &i, DType::F32).unwrap();
    assert_eq!(
        t.to_f64_vec(),
        vec![-5.0, 16777216.0, 16777218.0, (1u64 << 40) as f64]
    );
    let i = le(&[big + 1], i64::to_le_bytes);
    let e = read("i8", &[1], &i, DType::F32).unwrap_err();
    assert!(
        e.ends_with(
            "is 16777217, which f32 cannot hold exactly (it holds every integer up to 2^24)"
        ),
        "{e}"
    );
    let i = le(&[(1i64 << 53) + 1], i64::to_le_bytes);
    let e = read("i8", &[1], &i, DType::F64).unwrap_err();
    assert!(
        e.contains("f64 cannot hold exactly") && e.contains("2^53"),
        "{e}"
    );
    let u = le(&[u64::MAX], u64::to_le_bytes);
    assert!(read("u8", &[1], &u, DType::F64).is_err());
    let u = le(&[1u64 << 63], u64::to_le_bytes);
    assert_eq!(
        read("u8", &[1], &u, DType::F64).unwrap().to_f64_vec(),
        vec![2f64.powi(63)]
    );
    let b = [0u8, 1];
    assert_eq!(
        read("b1", &[2], &b, DType::F32).unwrap().to_f64_vec(),
        vec![0.0, 1.0]
    );
    assert_eq!(
        read("b1", &[2], &b, DType::F64).unwrap().dtype(),
        DType::F64
    );
}

#[test]
fn floats_between_widths() {
    // f64 to f32 rounds; NaN and infinities stay; a finite value beyond f32 is refused.
    let f = le(&[0.1f64, f64::NAN, f64::INFINITY, 1e-50], f64::to_le_bytes);
    let t = read("f8", &[4], &f, DType::F32).unwrap();
    let Tensor::F32(a) = t else { panic!("not f32") };
    let v: Vec<f32> = a.iter().copied().collect();
    assert_eq!(v[0], 0.1f32);
    assert!(v[1].is_nan() && v[2] == f32::INFINITY && v[3] == 0.0);
    let f = le(&[1.0f64, 1e300], f64::to_le_bytes);
    let e = read("f8", &[2], &f, DType::F32).unwrap_err();
    assert!(
        e.ends_with("index (1,) is 1e300, which is out of range for f32"),
        "{e}"
    );
    // f32 to f64 exactly.
    let f = le(&[0.1f32], f32::to_le_bytes);
    assert_eq!(
        read("f4", &[1], &f, DType::F64).unwrap().to_f64_vec(),
        vec![f64::from(0.1f32)]
    );
    // f16: 1.0, -2.5, the smallest subnormal, infinity.
    let h = le(&[0x3c00u16, 0xc100, 0x0001, 0x7c00], u16::to_le_bytes);
    let t = read("f2", &[4], &h, DType::F64).unwrap().to_f64_vec();
    assert_eq!(t, vec![1.0, -2.5, 2f64.powi(-24), f64::INFINITY]);
}

#[test]
fn same_dtype_keeps_every_bit() {
    let nan = f32::from_bits(0x7fa0_0001); // a signalling NaN with a payload
    let f = le(&[nan, -0.0], f32::to_le_bytes);
    let Tensor::F32(a) = read("f4", &[2], &f, DType::F32).unwrap() else {
        panic!("not f32")
    };
    let bits: Vec<u32> = a.iter().map(|x| x.to_bits()).collect();
    assert_eq!(bits, vec![0x7fa0_0001, 0x8000_0000]);
}

#[test]
fn to_bool_from_bool_and_zero_or_one() {
    let u = [0u8, 1, 1];
    let t = read("u1", &[3], &u, DType::Bool).unwrap();
    assert_eq!(t.to_f64_vec(), vec![0.0, 1.0, 1.0]);
    let u = [0u8, 2];
    let e = read("u1", &[2], &u, DType::Bool).unwrap_err();
    assert!(
        e.ends_with("index (1,) is 2, which is neither 0 nor 1"),
        "{e}"
    );
    let f = le(&[1.0f32], f32::to_le_bytes);
    let e = read("f4", &[1], &f, DType::Bool).unwrap_err();
    assert_eq!(e, "'t.npy' holds f32 values, which do not convert to bool");
    let e = read("b1", &[2], &[1, 7], DType::Bool).unwrap_err();
    assert!(
        e.contains("not a valid .npy file: the bool at index (1,) is the byte 7"),
        "{e}"
    );
}

#[test]
fn big_endian_and_fortran_order() {
    // [[1, 2, 3], [4, 5, 6]] as big-endian i16, stored column by column.
    let data: Vec<u8> = [1i16, 4, 2, 5, 3, 6]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let h = header("i2", false, &[2, 3], true);
    let t = read_as(&mut Cursor::new(&data), &h, DType::F32, "'t.npy'").unwrap();
    assert_eq!(t.to_f64_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    // Two bad values: (1, 0) comes first in the file, (0, 2) first in row-major order.
    let data: Vec<u8> = [1i16, -1, 0, 1, -7, 1]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let e = read_as(&mut Cursor::new(&data), &h, DType::Bool, "'t.npy'").unwrap_err();
    assert!(
        e.ends_with("index (0, 2) is -7, which is neither 0 nor 1"),
        "{e}"
    );
}

#[test]
fn large_arrays_cross_chunks_and_short_data_is_an_error() {
    let n = CHUNK; // two chunks of u16
    let data: Vec<u8> = (0..n).flat_map(|i| (i as u16).to_le_bytes()).collect();
    let t = read("u2", &[n], &data, DType::I32).unwrap();
    let v = t.to_f64_vec();
    assert_eq!((v.len(), v[n - 1]), (n, (n - 1) as u16 as f64));
    let e = read("u2", &[n], &data, DType::Bool).unwrap_err();
    assert!(
        e.ends_with("index (2,) is 2, which is neither 0 nor 1"),
        "{e}"
    );
    let e = read("u2", &[n], &data[..100], DType::I32).unwrap_err();
    assert!(e.contains("ended before its data did"), "{e}");
}

#[test]
fn index_and_value_text() {
    assert_eq!(index_tuple(&[]), "()");
    assert_eq!(index_tuple(&[4]), "(4,)");
    assert_eq!(index_tuple(&[1, 0, 2]), "(1, 0, 2)");
    assert_eq!(unravel(5, &[2, 3], false), vec![1, 2]);
    assert_eq!(unravel(5, &[2, 3], true), vec![1, 2]);
    assert_eq!(unravel(1, &[2, 3], true), vec![1, 0]);
    assert_eq!(show(Elem::F32(0.1)), "0.1");
    assert_eq!(show(Elem::F64(f64::INFINITY)), "inf");
    assert_eq!(show(Elem::Bool(true)), "True");
}
