//! Hostile `.npy` files: bad magic and versions, huge, negative or overflowing
//! header shapes, every dtype descriptor and byte order, Fortran order,
//! malformed header dicts, truncated data, trailing bytes.

use crate::rng::Rng;

const DESCRS: &[&str] = &[
    "<f4",
    ">f4",
    "|f4",
    "=f4",
    "<f8",
    ">f8",
    "<f2",
    "<i4",
    ">i4",
    "<i8",
    ">i8",
    "<i2",
    "|i1",
    "|u1",
    "<u2",
    "<u4",
    "<u8",
    "|b1",
    "?",
    "<c8",
    "<c16",
    "|S4",
    "<U4",
    "|O",
    "<m8",
    "<M8",
    "|V8",
    "float32",
    "",
    "<f4'",
    "<f0",
    "<f99999999999",
    "<i0",
];

const SHAPES: &[&str] = &[
    "()", "(0,)", "(2, 2)", "(2, 2)", "(2, 2)", "(3, 2)", "(4,)", "(0, 2)", "(2, 0)", "(-1, 2)",
    "(18446744073709551615,)", "(18446744073709551616,)", "(9223372036854775807, 2)",
    "(4294967296, 4294967296)", "(100000, 100000, 100000)", "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)",
    "(2, 2,)", "(2.5, 2)", "(2 2)", "[2, 2]", "(2, -0)", "(1e3,)", "('a',)", "(2, 2",
];

fn item_size(descr: &str) -> usize {
    let digits: String = descr.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.parse::<usize>().unwrap_or(4).clamp(1, 16)
}

/// The header dict, sometimes malformed.
fn dict(rng: &mut Rng, descr: &str, shape: &str) -> String {
    let fortran = *rng.pick(&["False", "False", "True", "0", "'yes'"]);
    match rng.below(10) {
        0 => format!("{{'descr': '{descr}', 'shape': {shape}, }}"),
        1 => format!(
            "{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, 'extra': 1, }}"
        ),
        2 => "{".to_string(),
        3 => "not a dict".to_string(),
        4 => format!("{{'shape': {shape}, 'fortran_order': {fortran}, 'descr': '{descr}'}}"),
        _ => format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"),
    }
}

/// A whole file; `dtype` and `dims` describe the placeholder it will feed so
/// that some files are right in every respect but one.
pub fn file(rng: &mut Rng) -> Vec<u8> {
    let descr = if rng.chance(1, 3) {
        "<f4"
    } else {
        *rng.pick(DESCRS)
    };
    let shape = *rng.pick(SHAPES);
    let mut header = dict(rng, descr, shape).into_bytes();
    let version = *rng.pick(&[1u8, 1, 1, 2, 3, 0, 9]);
    let prefix_len = if version == 1 { 10 } else { 12 };
    while !(prefix_len + header.len() + 1).is_multiple_of(64) {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    if rng.chance(1, 15) {
        out = rng
            .pick(&[&b"\x93NUMPX"[..], b"NUMPY", b"", b"\x93"])
            .to_vec();
    }
    out.push(version);
    out.push(0);
    let len = match rng.below(12) {
        0 => 0xFFFF_FFFF,
        1 => 0,
        2 => header.len() as u64 + 1000,
        _ => header.len() as u64,
    };
    if version == 1 {
        out.extend_from_slice(&(len.min(0xFFFF) as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(&header);
    // The data: as many elements as a (2, 2)-ish shape needs, then cut or padded.
    let count: usize = match shape {
        "(3, 2)" => 6,
        "(4,)" | "(2, 2)" | "(2, 2,)" => 4,
        "()" => 1,
        _ => 4,
    };
    let mut data = Vec::new();
    for _ in 0..count * item_size(descr) {
        data.push(match rng.below(4) {
            0 => 0,
            1 => 0xFF,
            2 => 0x7F,
            _ => rng.below(256) as u8,
        });
    }
    match rng.below(6) {
        0 => data.truncate(rng.below(data.len() + 1)),
        1 => data.extend((0..1 + rng.below(40)).map(|i| i as u8)),
        _ => {}
    }
    out.extend_from_slice(&data);
    if rng.chance(1, 20) {
        out.truncate(rng.below(out.len() + 1));
    }
    out
}
