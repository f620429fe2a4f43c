//! `exp` and `sigmoid` over a block of `f32`, called from JIT code once per
//! block (see [`super::blocks`]) instead of being inlined in every `f32x4`
//! iteration: on x86-64 with AVX2 and FMA the kernel runs on 8 lanes, which
//! Cranelift 0.135 cannot emit.
//!
//! The algorithm is operation for operation the inline one of [`super::exp`]
//! (same constants, same FMAs, same division), so every element gets the bits
//! the inline code gives on the same CPU (asserted in
//! `checks::jit::blocks`). The JIT uses these kernels only where that holds:
//! x86-64 with AVX2 and FMA, and AArch64 (whose baseline has FMA; the portable
//! version's `mul_add` is one instruction there). Elsewhere the kernels are
//! never called.

/// What a block call computes (the `kind` argument of [`tdsl_block_f32`]).
pub(crate) const EXP: i32 = 0;
pub(crate) const SIGMOID: i32 = 1;

const LOG2_E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const MAGIC: f32 = 12_582_912.0;
/// The Estrin pairs `(hi, lo)` of `q` (as in `exp.rs`): `fma(hi, r, lo)`.
const Q23: (u32, u32) = (0x3d2a_ab51, 0x3e2a_aa4b);
const Q45: (u32, u32) = (0x3ab5_b31e, 0x3c09_1d63);

/// Whether JIT code may call [`tdsl_block_f32`] and get the inline code's bits.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(target_arch = "aarch64")]
    {
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// `dst[i] = f(src[i])` for `i < n`, `f` chosen by `kind` ([`EXP`] or
/// [`SIGMOID`]; any other value copies). `src` may equal `dst`.
///
/// # Safety
/// `src` and `dst` must be valid for `n` `f32`s (reads and writes); JIT code
/// passes a leaf's range inside its buffer, or a scratch slot of its frame.
pub(crate) unsafe extern "C" fn tdsl_block_f32(
    kind: i32,
    src: *const f32,
    dst: *mut f32,
    n: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if available() {
            // SAFETY: the CPU has AVX2 and FMA (checked, cached by std); the
            // pointers are valid for `n` elements (this function's contract).
            unsafe { avx2::block(kind, src, dst, n) };
            return;
        }
    }
    for i in 0..n {
        // SAFETY: `i < n`, and both pointers are valid for `n` elements.
        unsafe { *dst.add(i) = portable(kind, *src.add(i)) };
    }
}

/// One element, by the inline algorithm, with `fma` a fused multiply-add
/// where the target has one in its baseline (AArch64), else `a·b + c`.
pub(crate) fn portable(kind: i32, x: f32) -> f32 {
    match kind {
        EXP => exp(x),
        SIGMOID => sigmoid(x),
        _ => x,
    }
}

#[inline(always)]
fn fma(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(target_arch = "aarch64")]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        a * b + c
    }
}

/// `(t, r, q)` with `e^x = 2ⁿ·(1 + r·q)`, `n` in the low bits of `t`.
#[inline(always)]
fn parts(x: f32) -> (f32, f32, f32) {
    let t = fma(LOG2_E, x, MAGIC);
    let n = t - MAGIC;
    let r = fma(-LN2_HI, n, x);
    let r = fma(n, -LN2_LO, r);
    let (r2, c) = (r * r, f32::from_bits);
    let r4 = r2 * r2;
    let q01 = fma(0.5, r, 1.0);
    let q23 = fma(c(Q23.0), r, c(Q23.1));
    let q45 = fma(c(Q45.0), r, c(Q45.1));
    let q03 = fma(q23, r2, q01);
    (t, r, fma(q45, r4, q03))
}

fn pow2(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

fn exp(x: f32) -> f32 {
    let x = if x < -104.0 { -104.0 } else { x };
    let x = if x > 89.0 { 89.0 } else { x };
    let (t, r, q) = parts(x);
    let ni = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let n1 = ni >> 1;
    let (s1, s2) = (pow2(n1), pow2(ni - n1));
    fma(r * s1, q, s1) * s2
}

fn sigmoid(x: f32) -> f32 {
    let m = f32::from_bits(x.to_bits() | 0x8000_0000);
    let m = if m < -104.0 { -104.0 } else { m };
    let (t, r, q) = parts(m);
    let biased = (t.to_bits() as i32).wrapping_add(191 - MAGIC.to_bits() as i32);
    let s = f32::from_bits((biased as u32) << 23);
    let big = fma(r * s, q, s);
    let tiny = 2f32.powi(-64);
    let d = fma(big, tiny, 1.0);
    let numerator = if x >= 0.0 { 1.0 } else { big * tiny };
    numerator / d
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{LN2_HI, LN2_LO, LOG2_E, MAGIC, Q23, Q45};
    use std::arch::x86_64::*;

    /// # Safety
    /// AVX2 and FMA must be available; `src`/`dst` valid for `n` elements.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn block(kind: i32, src: *const f32, dst: *mut f32, n: usize) {
        let f = |x| match kind {
            super::EXP => exp(x),
            super::SIGMOID => sigmoid(x),
            _ => x,
        };
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: `i + 8 <= n`: both ranges are inside the buffers.
            unsafe { _mm256_storeu_ps(dst.add(i), f(_mm256_loadu_ps(src.add(i)))) };
            i += 8;
        }
        if i < n {
            // The last lanes through a padded copy: the same operations as a
            // full vector, so an element's bits do not depend on its position.
            let mut buf = [0f32; 8];
            for (k, slot) in buf.iter_mut().enumerate().take(n - i) {
                // SAFETY: `i + k < n`.
                *slot = unsafe { *src.add(i + k) };
            }
            let mut out = [0f32; 8];
            // SAFETY: both arrays hold 8 `f32`s.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), f(_mm256_loadu_ps(buf.as_ptr()))) };
            for (k, v) in out.iter().enumerate().take(n - i) {
                // SAFETY: `i + k < n`.
                unsafe { *dst.add(i + k) = *v };
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn c(v: f32) -> __m256 {
        _mm256_set1_ps(v)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn parts(x: __m256) -> (__m256, __m256, __m256) {
        let t = _mm256_fmadd_ps(c(LOG2_E), x, c(MAGIC));
        let n = _mm256_sub_ps(t, c(MAGIC));
        let r = _mm256_fmadd_ps(c(-LN2_HI), n, x);
        let r = _mm256_fmadd_ps(n, c(-LN2_LO), r);
        let r2 = _mm256_mul_ps(r, r);
        let r4 = _mm256_mul_ps(r2, r2);
        let bits = |b: u32| c(f32::from_bits(b));
        let q01 = _mm256_fmadd_ps(c(0.5), r, c(1.0));
        let q23 = _mm256_fmadd_ps(bits(Q23.0), r, bits(Q23.1));
        let q45 = _mm256_fmadd_ps(bits(Q45.0), r, bits(Q45.1));
        let q03 = _mm256_fmadd_ps(q23, r2, q01);
        (t, r, _mm256_fmadd_ps(q45, r4, q03))
    }

    /// `2^k` for lanes `k` in `[-126, 127]`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn pow2(k: __m256i) -> __m256 {
        let biased = _mm256_add_epi32(k, _mm256_set1_epi32(127));
        _mm256_castsi256_ps(_mm256_slli_epi32::<23>(biased))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn exp(x: __m256) -> __m256 {
        // `x < lo ? lo : x`: a NaN lane compares false and stays NaN.
        let lo = c(-104.0);
        let x = _mm256_blendv_ps(x, lo, _mm256_cmp_ps::<_CMP_LT_OQ>(x, lo));
        let hi = c(89.0);
        let x = _mm256_blendv_ps(x, hi, _mm256_cmp_ps::<_CMP_GT_OQ>(x, hi));
        let (t, r, q) = parts(x);
        let magic = _mm256_set1_epi32(MAGIC.to_bits() as i32);
        let ni = _mm256_sub_epi32(_mm256_castps_si256(t), magic);
        let n1 = _mm256_srai_epi32::<1>(ni);
        let n2 = _mm256_sub_epi32(ni, n1);
        let (s1, s2) = (pow2(n1), pow2(n2));
        let p = _mm256_fmadd_ps(_mm256_mul_ps(r, s1), q, s1);
        _mm256_mul_ps(p, s2)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn sigmoid(x: __m256) -> __m256 {
        let m = _mm256_or_ps(x, c(-0.0));
        let lo = c(-104.0);
        let m = _mm256_blendv_ps(m, lo, _mm256_cmp_ps::<_CMP_LT_OQ>(m, lo));
        let (t, r, q) = parts(m);
        let bias = _mm256_set1_epi32(191 - MAGIC.to_bits() as i32);
        let biased = _mm256_add_epi32(_mm256_castps_si256(t), bias);
        let s = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(biased));
        let big = _mm256_fmadd_ps(_mm256_mul_ps(r, s), q, s);
        let tiny = c(2f32.powi(-64));
        let e = _mm256_mul_ps(big, tiny);
        let d = _mm256_fmadd_ps(big, tiny, c(1.0));
        let ge = _mm256_cmp_ps::<_CMP_GE_OQ>(x, _mm256_setzero_ps());
        let numerator = _mm256_blendv_ps(e, c(1.0), ge);
        _mm256_div_ps(numerator, d)
    }
}
