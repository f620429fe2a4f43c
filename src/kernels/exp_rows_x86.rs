//! The vector paths of `kernels::exp_rows`: 8 lanes on AVX-512, 4 on AVX2,
//! each lane the operations of `exp_rows::exp_fma` in the same order (so
//! the same bits); the last `len mod lanes` values go through a vector
//! padded with zeros.

use crate::kernels::exp_rows::{HI, LN2_HI, LN2_LO, LO, LOG2E, SHIFTER, TAYLOR};
use std::arch::x86_64::*;

/// `xs[i] = exp(xs[i])`, 8 lanes at a time.
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn exp_avx512(xs: &mut [f64]) {
    let mut chunks = xs.chunks_exact_mut(8);
    for c in &mut chunks {
        // SAFETY: `c` holds 8 values (unaligned loads and stores).
        unsafe { _mm512_storeu_pd(c.as_mut_ptr(), exp8(_mm512_loadu_pd(c.as_ptr()))) };
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut pad = [0.0f64; 8];
        pad[..tail.len()].copy_from_slice(tail);
        // SAFETY: `pad` holds 8 values.
        unsafe { _mm512_storeu_pd(pad.as_mut_ptr(), exp8(_mm512_loadu_pd(pad.as_ptr()))) };
        let n = tail.len();
        tail.copy_from_slice(&pad[..n]);
    }
}

#[target_feature(enable = "avx512f")]
fn exp8(x: __m512d) -> __m512d {
    let nan = _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(x, x);
    let c = _mm512_min_pd(_mm512_max_pd(x, _mm512_set1_pd(LO)), _mm512_set1_pd(HI));
    let shifter = _mm512_set1_pd(SHIFTER);
    let n = _mm512_sub_pd(_mm512_fmadd_pd(c, _mm512_set1_pd(LOG2E), shifter), shifter);
    let r = _mm512_fnmadd_pd(n, _mm512_set1_pd(LN2_HI), c);
    let r = _mm512_fnmadd_pd(n, _mm512_set1_pd(LN2_LO), r);
    let mut p = _mm512_set1_pd(TAYLOR[0]);
    for &t in &TAYLOR[1..] {
        p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(t));
    }
    let half = _mm512_roundscale_pd::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(
        _mm512_mul_pd(n, _mm512_set1_pd(0.5)),
    );
    let pow2 = |k: __m512d| {
        let bits = _mm512_sub_epi64(
            _mm512_castpd_si512(_mm512_add_pd(k, shifter)),
            _mm512_castpd_si512(shifter),
        );
        _mm512_castsi512_pd(_mm512_slli_epi64::<52>(_mm512_add_epi64(
            bits,
            _mm512_set1_epi64(1023),
        )))
    };
    let y = _mm512_mul_pd(_mm512_mul_pd(p, pow2(half)), pow2(_mm512_sub_pd(n, half)));
    _mm512_mask_blend_pd(nan, y, x)
}

/// `xs[i] = exp(xs[i])`, 4 lanes at a time.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn exp_avx2(xs: &mut [f64]) {
    let mut chunks = xs.chunks_exact_mut(4);
    for c in &mut chunks {
        // SAFETY: `c` holds 4 values (unaligned loads and stores).
        unsafe { _mm256_storeu_pd(c.as_mut_ptr(), exp4(_mm256_loadu_pd(c.as_ptr()))) };
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut pad = [0.0f64; 4];
        pad[..tail.len()].copy_from_slice(tail);
        // SAFETY: `pad` holds 4 values.
        unsafe { _mm256_storeu_pd(pad.as_mut_ptr(), exp4(_mm256_loadu_pd(pad.as_ptr()))) };
        let n = tail.len();
        tail.copy_from_slice(&pad[..n]);
    }
}

#[target_feature(enable = "avx2,fma")]
fn exp4(x: __m256d) -> __m256d {
    let nan = _mm256_cmp_pd::<_CMP_UNORD_Q>(x, x);
    let c = _mm256_min_pd(_mm256_max_pd(x, _mm256_set1_pd(LO)), _mm256_set1_pd(HI));
    let shifter = _mm256_set1_pd(SHIFTER);
    let n = _mm256_sub_pd(_mm256_fmadd_pd(c, _mm256_set1_pd(LOG2E), shifter), shifter);
    let r = _mm256_fnmadd_pd(n, _mm256_set1_pd(LN2_HI), c);
    let r = _mm256_fnmadd_pd(n, _mm256_set1_pd(LN2_LO), r);
    let mut p = _mm256_set1_pd(TAYLOR[0]);
    for &t in &TAYLOR[1..] {
        p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(t));
    }
    let half = _mm256_floor_pd(_mm256_mul_pd(n, _mm256_set1_pd(0.5)));
    let pow2 = |k: __m256d| {
        let bits = _mm256_sub_epi64(
            _mm256_castpd_si256(_mm256_add_pd(k, shifter)),
            _mm256_castpd_si256(shifter),
        );
        _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_add_epi64(
            bits,
            _mm256_set1_epi64x(1023),
        )))
    };
    let y = _mm256_mul_pd(_mm256_mul_pd(p, pow2(half)), pow2(_mm256_sub_pd(n, half)));
    _mm256_blendv_pd(y, x, nan)
}
