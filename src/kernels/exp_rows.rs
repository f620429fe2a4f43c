//! `exp` of a row of `f64` values without a libm call per element: the
//! softmax rows of the sparse loss and its gradient (`kernels::loss`, shared
//! by both backends, so they stay bitwise equal to each other).
//!
//! One algorithm on every path: `n = round(x·log2 e)` by the 1.5·2⁵²
//! shifter, `r = x − n·ln2` in two parts (Cody–Waite), `e^r` by the degree-13
//! Taylor polynomial (Horner; its truncation error is below 5e-18 on |r| ≤
//! ln2/2), then scaled by `2^⌊n/2⌋ · 2^(n−⌊n/2⌋)` so that subnormal results
//! round once. The arguments are clamped to [−745.2, 709.8] first (0 and
//! +inf outside); a NaN gives NaN. With FMA (`Isa::Avx512`, `Isa::Avx2`:
//! 8 or 4 lanes, a short tail through a padded vector) every element gets the
//! same bits as [`exp_fma`]; `Isa::Portable` computes the same steps with
//! separate multiplies and adds ([`exp_plain`]). Within 1 ulp of libm's
//! correctly rounded `exp` on the values the tests sweep.

use super::isa::{self, Isa};

const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 in two parts: `LN2_HI` has 21 trailing zero bits, so `n · LN2_HI`
/// is exact for every `n` the clamp allows.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
/// Adding it rounds to an integer (ties to even) held in the low bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
const LO: f64 = -745.2;
const HI: f64 = 709.8;
/// 1/k! for k = 13 down to 0.
const TAYLOR: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// `2^k` for an integer-valued `k` in [−1022, 1023], by its bits.
fn pow2(k: f64) -> f64 {
    let bits = (k + SHIFTER).to_bits().wrapping_sub(SHIFTER.to_bits());
    f64::from_bits(bits.wrapping_add(1023) << 52)
}

/// One element, `mul` and `add` being the path's multiply-add steps.
fn exp_with(x: f64, mul_add: impl Fn(f64, f64, f64) -> f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(LO, HI);
    let n = mul_add(x, LOG2E, SHIFTER) - SHIFTER;
    let r = mul_add(-n, LN2_HI, x);
    let r = mul_add(-n, LN2_LO, r);
    let p = TAYLOR[1..].iter().fold(TAYLOR[0], |p, &c| mul_add(p, r, c));
    let half = (n * 0.5).floor();
    p * pow2(half) * pow2(n - half)
}

/// The FMA paths' value of one element (what every lane computes).
pub fn exp_fma(x: f64) -> f64 {
    exp_with(x, f64::mul_add)
}

/// The portable path's value of one element (no fused multiply-add).
pub fn exp_plain(x: f64) -> f64 {
    exp_with(x, |a, b, c| a * b + c)
}

/// `out[i] = exp(row[i] − shift)` (the subtraction in `f64`, as the loss
/// always did) on the active instruction set.
pub fn exp_shifted<T: crate::ir::scalar::Scalar>(row: &[T], shift: f64, out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(row) {
        *o = v.to_f64() - shift;
    }
    let n = row.len().min(out.len());
    exp_in_place(isa::active(), &mut out[..n]);
}

/// `xs[i] = exp(xs[i])` on `isa`, which must run on this CPU (the active
/// set does: `isa::select` checked it).
pub fn exp_in_place(isa: Isa, xs: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    match isa {
        // SAFETY: the set runs on this CPU (the caller's guarantee).
        Isa::Avx512 => return unsafe { x86::exp_avx512(xs) },
        // SAFETY: as above.
        Isa::Avx2 => return unsafe { x86::exp_avx2(xs) },
        Isa::Portable => {}
    }
    let exp = match isa {
        Isa::Portable => exp_plain,
        _ => exp_fma,
    };
    xs.iter_mut().for_each(|x| *x = exp(*x));
}

#[cfg(target_arch = "x86_64")]
#[path = "exp_rows_x86.rs"]
mod x86;

#[cfg(test)]
#[path = "exp_rows_tests.rs"]
mod tests;
