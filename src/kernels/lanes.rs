//! Sixteen f32 lanes for the direct convolution kernels: AVX-512 where the CPU
//! has it, and a portable array of sixteen with the same arithmetic otherwise.
//! Every lane does exactly the same operations in both (one rounding per
//! `fma`, `f32::mul_add` in the portable one), so results do not depend on
//! which one ran: the kernels give the same bits on every x86-64 machine.
//!
//! All methods take raw pointers: the kernels check their buffers' lengths
//! once against the geometry before the loops (see `conv_direct.rs`).

/// Sixteen f32 lanes.
pub(super) trait Lanes: Copy {
    /// All lanes zero.
    ///
    /// # Safety
    /// The CPU has the lanes' instruction set (AVX-512F for `Avx512`; this and
    /// `fma`/`add` take no pointers, but executing them without it faults).
    unsafe fn zero() -> Self;
    /// Lanes `p[0..16]`.
    ///
    /// # Safety
    /// `p..p+16` is readable.
    unsafe fn load(p: *const f32) -> Self;
    /// Lanes `p[i]` where bit `i` of `mask` is set, zero elsewhere.
    ///
    /// # Safety
    /// `p + i` is readable for every set bit `i`.
    unsafe fn load_masked(p: *const f32, mask: u16) -> Self;
    /// `*p` in every lane.
    ///
    /// # Safety
    /// `p` is readable.
    unsafe fn splat(p: *const f32) -> Self;
    /// `self * b + c` in each lane, rounded once.
    ///
    /// # Safety
    /// As for `zero`.
    unsafe fn fma(self, b: Self, c: Self) -> Self;
    /// `self + b` in each lane.
    ///
    /// # Safety
    /// As for `zero`.
    unsafe fn add(self, b: Self) -> Self;
    /// Writes the lanes to `p[0..16]`.
    ///
    /// # Safety
    /// `p..p+16` is writable.
    unsafe fn store(self, p: *mut f32);
    /// Lane `i` is `base[idx[i]]`.
    ///
    /// # Safety
    /// Every `base + idx[i]` is readable.
    unsafe fn gather(base: *const f32, idx: &[i32; 16]) -> Self;
    /// Asks for `values` into the L2 cache ahead of use (a hint only).
    fn prefetch(values: &[f32]);
}

/// The portable lanes.
#[derive(Clone, Copy)]
pub(super) struct Portable([f32; 16]);

impl Lanes for Portable {
    #[inline(always)]
    unsafe fn zero() -> Self {
        Portable([0.0; 16])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 16 readable values.
        Portable(unsafe { std::ptr::read_unaligned(p as *const [f32; 16]) })
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: u16) -> Self {
        let mut v = [0.0; 16];
        for (i, d) in v.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                // SAFETY: the caller guarantees the set lanes are readable.
                *d = unsafe { *p.add(i) };
            }
        }
        Portable(v)
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> Self {
        // SAFETY: the caller guarantees `p` is readable.
        Portable([unsafe { *p }; 16])
    }
    #[inline(always)]
    unsafe fn fma(self, b: Self, c: Self) -> Self {
        Portable(std::array::from_fn(|i| self.0[i].mul_add(b.0[i], c.0[i])))
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        Portable(std::array::from_fn(|i| self.0[i] + b.0[i]))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 16 writable values.
        unsafe { std::ptr::write_unaligned(p as *mut [f32; 16], self.0) }
    }
    #[inline(always)]
    unsafe fn gather(base: *const f32, idx: &[i32; 16]) -> Self {
        // SAFETY: the caller guarantees every indexed value is readable.
        Portable(std::array::from_fn(|i| unsafe {
            *base.offset(idx[i] as isize)
        }))
    }
    #[inline(always)]
    fn prefetch(_values: &[f32]) {}
}

#[cfg(target_arch = "x86_64")]
pub(super) use avx512::Avx512;

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Lanes;
    use std::arch::x86_64::*;

    /// AVX-512 lanes. Only used inside functions compiled with
    /// `#[target_feature(enable = "avx512f")]` after a run-time check, where
    /// these `#[inline(always)]` methods inline to single instructions.
    #[derive(Clone, Copy)]
    pub(in crate::kernels) struct Avx512(__m512);

    // SAFETY (all methods): the intrinsics need AVX-512F, which the only
    // callers (functions with that target feature, entered after
    // `is_x86_feature_detected!("avx512f")`) guarantee; pointer validity is
    // the caller's contract as documented on the trait.
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
        unsafe fn gather(base: *const f32, idx: &[i32; 16]) -> Self {
            unsafe {
                let idx = _mm512_loadu_si512(idx.as_ptr() as *const __m512i);
                Avx512(_mm512_i32gather_ps::<4>(idx, base))
            }
        }
        #[inline(always)]
        fn prefetch(values: &[f32]) {
            // One hint per cache line (16 values); a prefetch never faults.
            for line in values.chunks(16) {
                unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr() as *const i8) };
            }
        }
    }
}

/// True when the AVX-512 lanes can run here.
pub(super) fn have_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
