//! Whole 16×16 f32 tile transposes in vector registers for `transpose_block`
//! (the scalar loop moves one float at a time): AVX-512 or AVX2, whichever
//! `isa.rs` chose; none on the portable path. A transpose only moves values,
//! so every path gives the same bits.

use super::TileFn;
use crate::kernels::isa::{self, Isa};

/// The tile function of the chosen instruction set, if it has one.
pub(super) fn for_f32() -> Option<TileFn<f32>> {
    for_isa(isa::active())
}

/// The tile function of `isa`, which must run on this CPU.
pub(super) fn for_isa(isa: Isa) -> Option<TileFn<f32>> {
    debug_assert!(isa.missing().is_empty());
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => Some(tile16_avx512),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Some(tile16_avx2),
        _ => None,
    }
}

/// [`TileFn`] for f32 in AVX-512 registers: 16 row loads, 64 shuffles, 16
/// row stores (the scalar tile loop moves one float at a time).
///
/// # Safety
/// AVX-512F is available; `src + i*stride + j` and `dst + j*dst_stride + i`
/// are valid for `i, j < 16`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn tile16_avx512(
    src: *const f32,
    stride: usize,
    dst: *mut f32,
    dst_stride: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's guarantee covers every load and store; the rest
    // are register operations of AVX-512F.
    unsafe {
        let mut r = [_mm512_setzero_ps(); 16];
        for (i, row) in r.iter_mut().enumerate() {
            *row = _mm512_loadu_ps(src.add(i * stride));
        }
        // Per 128-bit lane L: t[2p], t[2p+1] interleave rows 2p, 2p+1 at
        // columns 4L, 4L+1 and 4L+2, 4L+3.
        let mut t = [_mm512_setzero_ps(); 16];
        for p in 0..8 {
            t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
            t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
        }
        // s[4q + c]: column 4L + c of rows 4q..4q+4, per lane L.
        let mut s = [_mm512_setzero_ps(); 16];
        for q in 0..4 {
            let (a, b) = (_mm512_castps_pd(t[4 * q]), _mm512_castps_pd(t[4 * q + 1]));
            let (c, d) = (
                _mm512_castps_pd(t[4 * q + 2]),
                _mm512_castps_pd(t[4 * q + 3]),
            );
            s[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
            s[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
            s[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
            s[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
        }
        // u[c], u[4+c]: lanes of columns (c, c+8) and (c+4, c+12) for rows
        // 0..8; u[8+c], u[12+c] the same for rows 8..16.
        let mut u = [_mm512_setzero_ps(); 16];
        for h in [0, 8] {
            for c in 0..4 {
                let (a, b) = (s[h + c], s[h + 4 + c]);
                u[h + c] = _mm512_shuffle_f32x4::<0x88>(a, b);
                u[h + 4 + c] = _mm512_shuffle_f32x4::<0xdd>(a, b);
            }
        }
        for c in 0..4 {
            for (col, (a, b)) in [(c, (u[c], u[8 + c])), (c + 4, (u[4 + c], u[12 + c]))] {
                let (low, high) = (
                    _mm512_shuffle_f32x4::<0x88>(a, b),
                    _mm512_shuffle_f32x4::<0xdd>(a, b),
                );
                _mm512_storeu_ps(dst.add(col * dst_stride), low);
                _mm512_storeu_ps(dst.add((col + 8) * dst_stride), high);
            }
        }
    }
}

/// [`TileFn`] for f32 in AVX2 registers: four 8×8 transposes (8 row loads,
/// 24 shuffles and 8 row stores each).
///
/// # Safety
/// AVX2 is available; `src + i*stride + j` and `dst + j*dst_stride + i` are
/// valid for `i, j < 16`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn tile16_avx2(src: *const f32, stride: usize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    for (bi, bj) in [(0, 0), (0, 8), (8, 0), (8, 8)] {
        // SAFETY: rows bi..bi+8, columns bj..bj+8 of the tile, and their
        // transposed places, are inside what the caller guarantees; the rest
        // are register operations of AVX.
        unsafe {
            let mut r = [_mm256_setzero_ps(); 8];
            for (i, row) in r.iter_mut().enumerate() {
                *row = _mm256_loadu_ps(src.add((bi + i) * stride + bj));
            }
            // t[2p], t[2p+1]: rows 2p, 2p+1 interleaved, per 128-bit half.
            let mut t = [_mm256_setzero_ps(); 8];
            for p in 0..4 {
                t[2 * p] = _mm256_unpacklo_ps(r[2 * p], r[2 * p + 1]);
                t[2 * p + 1] = _mm256_unpackhi_ps(r[2 * p], r[2 * p + 1]);
            }
            // s[4h + c]: column c (+4 in the high half) of rows 4h..4h+4.
            let mut s = [_mm256_setzero_ps(); 8];
            for h in 0..2 {
                let (a, b, c, d) = (t[4 * h], t[4 * h + 1], t[4 * h + 2], t[4 * h + 3]);
                s[4 * h] = _mm256_shuffle_ps::<0x44>(a, c);
                s[4 * h + 1] = _mm256_shuffle_ps::<0xee>(a, c);
                s[4 * h + 2] = _mm256_shuffle_ps::<0x44>(b, d);
                s[4 * h + 3] = _mm256_shuffle_ps::<0xee>(b, d);
            }
            for c in 0..4 {
                let low = _mm256_permute2f128_ps::<0x20>(s[c], s[4 + c]);
                let high = _mm256_permute2f128_ps::<0x31>(s[c], s[4 + c]);
                _mm256_storeu_ps(dst.add((bj + c) * dst_stride + bi), low);
                _mm256_storeu_ps(dst.add((bj + c + 4) * dst_stride + bi), high);
            }
        }
    }
}
