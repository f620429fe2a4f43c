//! Sixteen f32 lanes for the direct convolution kernels: AVX-512 (one
//! register), AVX2 (two registers of eight) and a portable array of sixteen.
//! The kernels are generic over [`Lanes`], so all three run the same kernel
//! code; `isa.rs` chooses which.
//!
//! Bits: each lane of `Avx512` and `Avx2` does exactly the same operations
//! (one rounding per `fma`), so those two give the same bits (tested). The
//! portable `fma` is `a * b + c`, rounded twice: a per-element call of libm's
//! `fmaf` (what `f32::mul_add` becomes without the `fma` target feature) costs
//! far more than the product itself. Its results differ from the vector ones in
//! the last bits, within the kernels' tolerance (tested).
//!
//! All methods take raw pointers: the kernels check their buffers' lengths
//! once against the geometry before the loops (see `conv_direct.rs`).

/// Sixteen f32 lanes.
pub(super) trait Lanes: Copy {
    /// All lanes zero.
    ///
    /// # Safety
    /// The CPU has the lanes' instruction set (AVX-512F for `Avx512`, AVX2 and
    /// FMA for `Avx2`; this and `fma`/`add` take no pointers, but executing
    /// them without it faults).
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
    /// `self * b + c` in each lane: rounded once in the vector lanes, twice in
    /// the portable ones.
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
    /// Writes lane `i` to `p[i]` where bit `i` of `mask` is set.
    ///
    /// # Safety
    /// `p + i` is writable for every set bit `i`.
    unsafe fn store_masked(self, p: *mut f32, mask: u16);
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
        // Not `mul_add`: without the `fma` target feature that is a libm call.
        Portable(std::array::from_fn(|i| self.0[i] * b.0[i] + c.0[i]))
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
    unsafe fn store_masked(self, p: *mut f32, mask: u16) {
        for (i, &v) in self.0.iter().enumerate() {
            if mask & (1 << i) != 0 {
                // SAFETY: the caller guarantees the set lanes are writable.
                unsafe { *p.add(i) = v };
            }
        }
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
#[path = "lanes_x86.rs"]
mod x86;
#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2, Avx512};
