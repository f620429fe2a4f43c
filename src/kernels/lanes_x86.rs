//! The x86-64 lanes: [`Avx512`] (one `__m512`) and [`Avx2`] (two `__m256`,
//! lanes 0..8 and 8..16). Each is only used inside functions compiled with its
//! target feature (`avx512f`, or `avx2,fma`) and entered after `isa.rs` found
//! it on this CPU; there these `#[inline(always)]` methods inline to single
//! instructions (two for `Avx2`). Both round each lane's `fma` once, so they
//! give the same bits.

use super::Lanes;
use std::arch::x86_64::*;

/// AVX-512 lanes.
#[derive(Clone, Copy)]
pub(in crate::kernels) struct Avx512(__m512);

// SAFETY (all methods): the intrinsics need AVX-512F, which the only callers
// (functions with that target feature, entered after `isa.rs` found it)
// guarantee; pointer validity is the caller's contract as documented on the
// trait.
impl Lanes for Avx512 {
    #[inline(always)]
    unsafe fn zero() -> Self {
        Avx512(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Avx512(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: u16) -> Self {
        Avx512(unsafe { _mm512_maskz_loadu_ps(mask, p) })
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> Self {
        Avx512(unsafe { _mm512_set1_ps(*p) })
    }
    #[inline(always)]
    unsafe fn fma(self, b: Self, c: Self) -> Self {
        Avx512(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        Avx512(unsafe { _mm512_add_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, mask: u16) {
        unsafe { _mm512_mask_storeu_ps(p, mask, self.0) }
    }
    #[inline(always)]
    unsafe fn gather(base: *const f32, idx: &[i32; 16]) -> Self {
        unsafe {
            let idx = _mm512_loadu_si512(idx.as_ptr() as *const __m512i);
            Avx512(_mm512_i32gather_ps::<4>(idx, base))
        }
    }
    #[inline(always)]
    fn prefetch(values: &[f32]) {
        prefetch_lines(values);
    }
}

/// One L2 prefetch hint per cache line (16 values); a prefetch never faults.
#[inline(always)]
fn prefetch_lines(values: &[f32]) {
    for line in values.chunks(16) {
        // SAFETY: `prefetcht1` is SSE (baseline x86-64) and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr() as *const i8) };
    }
}

/// AVX2 lanes: two registers of eight.
#[derive(Clone, Copy)]
pub(in crate::kernels) struct Avx2(__m256, __m256);

/// The all-ones-or-zero lanes of the eight bits `bits` (lane `i` from bit `i`).
///
/// # Safety
/// The CPU has AVX2.
#[inline(always)]
unsafe fn mask8(bits: u16) -> __m256i {
    unsafe {
        let bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
        let set = _mm256_and_si256(_mm256_set1_epi32(bits as i32 & 0xff), bit);
        _mm256_cmpeq_epi32(set, bit)
    }
}

// SAFETY (all methods): the intrinsics need AVX2 and FMA, which the only
// callers (functions with `#[target_feature(enable = "avx2,fma")]`, entered
// after `isa.rs` found both) guarantee; pointer validity is the caller's
// contract as documented on the trait (masked-off lanes are not read).
impl Lanes for Avx2 {
    #[inline(always)]
    unsafe fn zero() -> Self {
        unsafe { Avx2(_mm256_setzero_ps(), _mm256_setzero_ps()) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        unsafe { Avx2(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: u16) -> Self {
        unsafe {
            Avx2(
                _mm256_maskload_ps(p, mask8(mask)),
                _mm256_maskload_ps(p.wrapping_add(8), mask8(mask >> 8)),
            )
        }
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> Self {
        unsafe {
            let v = _mm256_set1_ps(*p);
            Avx2(v, v)
        }
    }
    #[inline(always)]
    unsafe fn fma(self, b: Self, c: Self) -> Self {
        unsafe {
            Avx2(
                _mm256_fmadd_ps(self.0, b.0, c.0),
                _mm256_fmadd_ps(self.1, b.1, c.1),
            )
        }
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        unsafe { Avx2(_mm256_add_ps(self.0, b.0), _mm256_add_ps(self.1, b.1)) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe {
            _mm256_storeu_ps(p, self.0);
            _mm256_storeu_ps(p.add(8), self.1);
        }
    }
    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, mask: u16) {
        unsafe {
            _mm256_maskstore_ps(p, mask8(mask), self.0);
            _mm256_maskstore_ps(p.wrapping_add(8), mask8(mask >> 8), self.1);
        }
    }
    #[inline(always)]
    unsafe fn gather(base: *const f32, idx: &[i32; 16]) -> Self {
        unsafe {
            let lo = _mm256_loadu_si256(idx.as_ptr() as *const __m256i);
            let hi = _mm256_loadu_si256(idx.as_ptr().add(8) as *const __m256i);
            Avx2(
                _mm256_i32gather_ps::<4>(base, lo),
                _mm256_i32gather_ps::<4>(base, hi),
            )
        }
    }
    #[inline(always)]
    fn prefetch(values: &[f32]) {
        prefetch_lines(values);
    }
}
