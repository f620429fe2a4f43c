//! Dropout masks of 16 Philox blocks (64 elements) at a time in AVX-512
//! registers: the rounds of [`crate::ir::philox::philox4x32_10`] on 16 lanes
//! (the high and low words of the 32×32-bit products from the even and odd
//! lanes' `vpmuludq`), the compare on each word, then a transpose into
//! element order. Integer work only: the same masks as the portable loop
//! (`dropout_mask.rs` tests both).

use crate::ir::philox::{M0, M1, W0, W1};
use std::arch::x86_64::*;

/// The masks of the 64 elements of blocks `b0 .. b0 + 16` (element `4j + k`
/// is word `k` of block `b0 + j`), in element order, for the key `key`,
/// counter words `step`, `word`.
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn chunk(
    key: [u32; 2],
    step: u32,
    word: u32,
    b0: u64,
    threshold: u32,
) -> [i32; 64] {
    let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let base = _mm512_set1_epi32(b0 as u32 as i32);
    // The block indices' low words, and their high words with the carry.
    let mut c0 = _mm512_add_epi32(base, iota);
    let carry = _mm512_cmplt_epu32_mask(c0, base);
    let high = _mm512_set1_epi32((b0 >> 32) as u32 as i32);
    let mut c1 = _mm512_mask_add_epi32(high, carry, high, _mm512_set1_epi32(1));
    let mut c2 = _mm512_set1_epi32(step as i32);
    let mut c3 = _mm512_set1_epi32(word as i32);
    let (m0, m1) = (_mm512_set1_epi32(M0 as i32), _mm512_set1_epi32(M1 as i32));
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let (hi0, lo0) = mul_hi_lo(c0, m0);
        let (hi1, lo1) = mul_hi_lo(c2, m1);
        // `hi ^ c ^ k` in one ternary-logic op (0x96: three-way xor).
        c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32(k[0] as i32), 0x96);
        c1 = lo1;
        c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32(k[1] as i32), 0x96);
        c3 = lo0;
    }
    let limit = _mm512_set1_epi32(threshold as i32);
    let ones = _mm512_set1_epi32(-1);
    let keep = |w: __m512i| {
        let kept = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(w, 8), limit);
        _mm512_maskz_mov_epi32(kept, ones)
    };
    let (v0, v1, v2, v3) = (keep(c0), keep(c1), keep(c2), keep(c3));
    // Transpose: per 128-bit lane L, `a` holds block 4L's four words, `b`
    // block 4L + 1's, and so on; then the lanes into element order.
    let (t01l, t01h) = (_mm512_unpacklo_epi32(v0, v1), _mm512_unpackhi_epi32(v0, v1));
    let (t23l, t23h) = (_mm512_unpacklo_epi32(v2, v3), _mm512_unpackhi_epi32(v2, v3));
    let a = _mm512_unpacklo_epi64(t01l, t23l);
    let b = _mm512_unpackhi_epi64(t01l, t23l);
    let c = _mm512_unpacklo_epi64(t01h, t23h);
    let d = _mm512_unpackhi_epi64(t01h, t23h);
    let ab_lo = _mm512_shuffle_i32x4(a, b, 0b01_00_01_00);
    let cd_lo = _mm512_shuffle_i32x4(c, d, 0b01_00_01_00);
    let ab_hi = _mm512_shuffle_i32x4(a, b, 0b11_10_11_10);
    let cd_hi = _mm512_shuffle_i32x4(c, d, 0b11_10_11_10);
    let rows = [
        _mm512_shuffle_i32x4(ab_lo, cd_lo, 0b10_00_10_00),
        _mm512_shuffle_i32x4(ab_lo, cd_lo, 0b11_01_11_01),
        _mm512_shuffle_i32x4(ab_hi, cd_hi, 0b10_00_10_00),
        _mm512_shuffle_i32x4(ab_hi, cd_hi, 0b11_01_11_01),
    ];
    let mut out = [0i32; 64];
    for (r, row) in rows.iter().enumerate() {
        // SAFETY: `out[16 r .. 16 r + 16]` is inside the array; unaligned
        // stores are allowed.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(16 * r).cast(), *row) };
    }
    out
}

/// The high and low 32-bit words of `a · m` per lane (unsigned).
#[inline]
#[target_feature(enable = "avx512f")]
fn mul_hi_lo(a: __m512i, m: __m512i) -> (__m512i, __m512i) {
    // Even lanes' 64-bit products sit in lanes (2i, 2i + 1); the odd lanes'
    // after shifting them down.
    let even = _mm512_mul_epu32(a, m);
    let odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    let lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    let hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    (hi, lo)
}
