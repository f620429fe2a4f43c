//! Valid `.npy` files of every dtype NumPy writes (bool, signed and unsigned
//! integers of 1 to 8 bytes, f16, f32, f64, in either byte order and C or
//! Fortran order), with values at the edges of each dtype's range for the feed
//! conversions (NaN, infinities, 2^24 + 1, the integer extremes, fractions),
//! or with small values that convert and train well.

use crate::rng::Rng;

/// The type codes of the dtypes tdsl reads.
pub const CODES: &[&str] = &[
    "b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8",
];

/// One element before encoding.
#[derive(Clone, Copy, Debug)]
pub enum V {
    I(i128),
    F(f64),
}

fn size(code: &str) -> usize {
    code[1..].parse().unwrap_or(1)
}

fn is_float(code: &str) -> bool {
    code.starts_with('f')
}

/// The `descr` of `code`: one-byte types take `|`.
pub fn descr(code: &str, little: bool) -> String {
    let order = if size(code) == 1 {
        '|'
    } else if little {
        '<'
    } else {
        '>'
    };
    format!("{order}{code}")
}

/// The range of an integer code.
fn int_range(code: &str) -> (i128, i128) {
    let bits = 8 * size(code) as u32;
    if code.starts_with('u') {
        (0, (1i128 << bits) - 1)
    } else if code == "b1" {
        (0, 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    }
}

/// A value at an edge of `code`'s range, or of a conversion's.
pub fn edge(rng: &mut Rng, code: &str) -> V {
    if is_float(code) {
        let big = if code == "f2" { 65504.0 } else { 3.4e38 };
        return V::F(*rng.pick(&[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            2.5,
            -3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-45,
            6e-8,
            big,
            -big,
            3.5e38,
            1e308,
            16_777_217.0,
            2_147_483_647.0,
            2_147_483_648.0,
            -2_147_483_648.0,
            -2_147_483_649.0,
            9_007_199_254_740_993.0,
            1e10,
        ]));
    }
    let (lo, hi) = int_range(code);
    let v = *rng.pick(&[
        0,
        1,
        -1,
        2,
        lo,
        hi,
        1 << 24,
        (1 << 24) + 1,
        (1 << 31) - 1,
        1 << 31,
        -(1 << 31),
        -(1 << 31) - 1,
        (1 << 53) + 1,
        hi - 1,
    ]);
    V::I(v.clamp(lo, hi))
}

/// A value every dtype converts: a whole number in `0..=2` (so also 0/1 for
/// bool) or, for floats, sometimes a fraction in `[-1, 1]`.
pub fn small(rng: &mut Rng, code: &str, fractions: bool) -> V {
    let top = if code == "b1" { 2 } else { 3 };
    if is_float(code) && fractions {
        V::F((rng.float(-1.0, 1.0) * 100.0).round() / 100.0)
    } else if is_float(code) {
        V::F(rng.below(top) as f64)
    } else {
        V::I(rng.below(top) as i128)
    }
}

/// IEEE half precision of `x`, rounding toward zero (any bits are a valid f16).
fn f16_bits(x: f64) -> u16 {
    let f = x as f32;
    let b = f.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    if f.is_nan() {
        return sign | 0x7E00;
    }
    let a = f.abs();
    if a >= 65520.0 {
        sign | 0x7C00
    } else if a < 6.1035156e-5 {
        // Subnormal (or zero): units of 2^-24.
        sign | (a * 16_777_216.0) as u16
    } else {
        let exp = ((b >> 23) & 0xFF) as i32 - 127 + 15;
        sign | ((exp as u16) << 10) | ((b >> 13) & 0x3FF) as u16
    }
}

/// An f16's value.
fn f16_value(h: u16) -> f64 {
    let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1F);
    let mant = f64::from(h & 0x3FF);
    sign * match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// Whether `v`, stored as `code`, converts to the tdsl dtype `to` by the
/// rules of `docs/language-notes.md` ("Feeds and `.npy` files").
pub fn converts(code: &str, v: V, to: &str) -> bool {
    let limit = 2f64.powi(31);
    if !is_float(code) {
        let i = match v {
            V::I(i) => i,
            V::F(x) => x as i128,
        };
        return match to {
            "i32" => (-(1i128 << 31)..(1i128 << 31)).contains(&i),
            "f32" => (i as f32) as i128 == i,
            "f64" => (i as f64) as i128 == i,
            _ => i == 0 || i == 1,
        };
    }
    let x = match v {
        V::I(i) => i as f64,
        V::F(x) => x,
    };
    let x = match code {
        "f2" => f16_value(f16_bits(x)),
        "f4" => f64::from(x as f32),
        _ => x,
    };
    match to {
        "i32" => x.is_finite() && x.fract() == 0.0 && x >= -limit && x < limit,
        "f32" => !(x.is_finite() && (x as f32).is_infinite()),
        "f64" => true,
        _ => false,
    }
}

/// `v` encoded as `code` (an integer value into a float code or back is
/// converted first; integers wrap to the width).
fn encode(code: &str, little: bool, v: V) -> Vec<u8> {
    let n = size(code);
    let raw: u64 = match (is_float(code), v) {
        (true, V::I(i)) => return encode(code, little, V::F(i as f64)),
        (false, V::F(x)) => x as i128 as u64,
        (false, V::I(i)) => i as u64,
        (true, V::F(x)) => match n {
            2 => u64::from(f16_bits(x)),
            4 => u64::from((x as f32).to_bits()),
            _ => x.to_bits(),
        },
    };
    let le = raw.to_le_bytes();
    let mut bytes = le[..n].to_vec();
    if !little {
        bytes.reverse();
    }
    bytes
}

/// `(3,)`, `(2, 3)` or `()`.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => {
            let d: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", d.join(", "))
        }
    }
}

/// A version 1.0 `.npy` file of `values` (in file order) as NumPy writes it.
pub fn npy(code: &str, little: bool, fortran: bool, shape: &[usize], values: &[V]) -> Vec<u8> {
    let fortran = if fortran { "True" } else { "False" };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': {fortran}, 'shape': {}, }}",
        descr(code, little),
        shape_text(shape)
    );
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    for &v in values {
        out.extend(encode(code, little, v));
    }
    out
}

/// A random dtype code, byte order and (rarely) Fortran order.
pub fn layout(rng: &mut Rng) -> (&'static str, bool, bool) {
    (*rng.pick(CODES), rng.chance(3, 4), rng.chance(1, 8))
}

/// An array of `shape` whose values are edges of `code` (a few) or small ones.
pub fn edgy(rng: &mut Rng, code: &str, shape: &[usize]) -> Vec<V> {
    let n: usize = shape.iter().product();
    let wild = rng.chance(2, 3);
    (0..n)
        .map(|_| {
            if wild && rng.chance(1, 3) {
                edge(rng, code)
            } else {
                small(rng, code, true)
            }
        })
        .collect()
}

#[test]
fn half_precision_encodes_exactly_where_it_can() {
    assert_eq!(f16_bits(1.0), 0x3C00);
    assert_eq!(f16_bits(-2.0), 0xC000);
    assert_eq!(f16_bits(65504.0), 0x7BFF);
    assert_eq!(f16_bits(f64::INFINITY), 0x7C00);
    assert_eq!(f16_bits(6e-8), 0x0001);
    assert_eq!(f16_bits(f64::NAN) & 0x7E00, 0x7E00);
    assert_eq!(f16_value(0x7BFF), 65504.0);
    assert_eq!(f16_value(0x0001), 2f64.powi(-24));
    assert!(!converts("f2", V::F(16_777_217.0), "i32"));
    assert!(converts("f2", V::F(1e-45), "i32"));
    assert!(!converts("f4", V::F(2_147_483_647.0), "i32"));
    assert!(converts("u4", V::I(4_294_967_295), "f64"));
    assert!(!converts("i8", V::I((1 << 24) + 1), "f32"));
    assert!(!converts("f8", V::F(3.5e38), "f32"));
    assert_eq!(encode("i2", false, V::I(-2)), vec![0xFF, 0xFE]);
    assert_eq!(encode("u1", true, V::I(255)), vec![0xFF]);
}
