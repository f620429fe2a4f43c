//! Narrow `f32` matrix products (`[m, k] @ [k, n]` with `n ≤ 16`, e.g. an MLP's
//! last layer `h @ w2` with ten classes and its `hᵀ @ g`): one vector of
//! sixteen lanes holds a whole output row, so the product is a broadcast and
//! an `fma` per (row, k) with no packing of the left operand, nor of the right
//! one when its columns are contiguous (masked loads). The `gemm` crate
//! vectorises over rows instead and packs both operands, which at these sizes
//! costs more than the arithmetic (32×512 @ 512×10: 12 µs against 3 µs).
//!
//! Both backends call it for every `f32` product of that width, whatever the
//! operands' strides (`kernels::gemm::matmul_into` and the JIT's GEMM helper),
//! so they stay bitwise equal. Each output is one `fma` chain over `k` from
//! zero, in order, whatever its row block, thread or stride: AVX-512 and AVX2
//! give the same bits; the portable lanes round the product and the sum
//! separately (see `lanes.rs`).

use super::isa::Isa;
#[cfg(target_arch = "x86_64")]
use super::lanes::{Avx2, Avx512};
use super::lanes::{Lanes, Portable};
use std::cell::RefCell;

/// The widest product this kernel computes: one vector of lanes per row.
pub const MAX_N: usize = 16;

/// Whether `[m, k] @ [k, n]` in `f32` goes through [`product`].
pub fn applies(m: usize, k: usize, n: usize) -> bool {
    m > 0 && k > 0 && (1..=MAX_N).contains(&n)
}

/// A matrix in memory: its first element and its row and column strides in
/// elements.
#[derive(Clone, Copy)]
pub struct Strided<P> {
    pub ptr: P,
    pub rs: isize,
    pub cs: isize,
}

/// The right operand as the kernel reads it: row `p`'s lanes at `ptr + p *
/// rs`, only the lanes of `mask` (the others zero). Either `b` itself (rows
/// with contiguous columns, read with masked loads) or its packed copy.
#[derive(Clone, Copy)]
struct Right {
    ptr: *const f32,
    rs: isize,
    mask: u16,
}

thread_local! {
    /// The right operand as `k` rows of sixteen lanes (zeros past `n`),
    /// reused from call to call.
    static PACKED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `c = a @ b` for `a: [m, k]`, `b: [k, n]`, `c: [m, n]` with [`applies`];
/// `threads > 1` splits the rows among rayon tasks (the same bits).
///
/// # Safety
/// Every element `a.ptr + i*a.rs + p*a.cs` (`i < m`, `p < k`), `b.ptr + p*b.rs
/// + j*b.cs` (`j < n`) is readable and every `c.ptr + i*c.rs + j*c.cs` is
/// writable; `c`'s elements are distinct and overlap neither input.
pub unsafe fn product(
    a: Strided<*const f32>,
    b: Strided<*const f32>,
    c: Strided<*mut f32>,
    mkn: (usize, usize, usize),
    threads: usize,
) {
    // SAFETY: the caller's guarantee; the active set runs on this CPU
    // (`isa::select` checked it).
    unsafe { product_by(super::isa::active(), a, b, c, mkn, threads) }
}

/// [`product`] by the lanes of `isa`.
///
/// # Safety
/// As for [`product`], and `isa` runs on this CPU.
pub(super) unsafe fn product_by(
    isa: Isa,
    a: Strided<*const f32>,
    b: Strided<*const f32>,
    c: Strided<*mut f32>,
    (m, k, n): (usize, usize, usize),
    threads: usize,
) {
    debug_assert!(applies(m, k, n));
    let run = |right: Right| {
        if threads <= 1 || m < 2 * threads {
            // SAFETY: the caller's guarantee, for rows 0..m.
            unsafe { rows(isa, a, right, c, (0, m), (k, n)) };
            return;
        }
        // Rows are independent, so any split gives the same bits. The
        // pointers cross into the tasks as addresses.
        let (a_addr, a_rs, a_cs) = (a.ptr as usize, a.rs, a.cs);
        let (c_addr, c_rs, c_cs) = (c.ptr as usize, c.rs, c.cs);
        let (b_addr, b_rs, mask) = (right.ptr as usize, right.rs, right.mask);
        let per = m.div_ceil(threads);
        rayon::scope(|scope| {
            for lo in (0..m).step_by(per) {
                scope.spawn(move |_| {
                    let a = Strided {
                        ptr: a_addr as *const f32,
                        rs: a_rs,
                        cs: a_cs,
                    };
                    let c = Strided {
                        ptr: c_addr as *mut f32,
                        rs: c_rs,
                        cs: c_cs,
                    };
                    let right = Right {
                        ptr: b_addr as *const f32,
                        rs: b_rs,
                        mask,
                    };
                    let hi = (lo + per).min(m);
                    // SAFETY: the caller's guarantee; the tasks write
                    // disjoint row ranges of `c`.
                    unsafe { rows(isa, a, right, c, (lo, hi), (k, n)) };
                });
            }
        });
    };
    // Rows with contiguous columns are read in place (masked loads: no copy
    // of `b` per call); others are packed first.
    if b.cs == 1 {
        let mask = (((1u32 << n) - 1) & 0xFFFF) as u16;
        run(Right {
            ptr: b.ptr,
            rs: b.rs,
            mask,
        });
        return;
    }
    let full = |packed: &[f32]| Right {
        ptr: packed.as_ptr(),
        rs: MAX_N as isize,
        mask: u16::MAX,
    };
    let mut fresh = Vec::new();
    let used = PACKED.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut packed) => {
            // SAFETY: the caller's guarantee for `b`.
            unsafe { pack(b, k, n, &mut packed) };
            run(full(&packed));
            true
        }
        Err(_) => false,
    });
    if used != Ok(true) {
        // SAFETY: as above.
        unsafe { pack(b, k, n, &mut fresh) };
        run(full(&fresh));
    }
}

/// `b` as `k` rows of [`MAX_N`] lanes, zero past column `n`.
///
/// # Safety
/// As for [`product`]'s `b`.
unsafe fn pack(b: Strided<*const f32>, k: usize, n: usize, out: &mut Vec<f32>) {
    // Every lane is written below: fill only when the size changes.
    if out.len() != k * MAX_N {
        out.clear();
        out.resize(k * MAX_N, 0.0);
    }
    for (p, row) in out.chunks_exact_mut(MAX_N).enumerate() {
        let (values, zeros) = row.split_at_mut(n);
        // SAFETY: `p < k`: the caller's guarantee.
        let start = unsafe { b.ptr.offset(p as isize * b.rs) };
        if b.cs == 1 {
            // SAFETY: row `p`'s `n` values are contiguous (the caller's
            // guarantee with a column stride of 1).
            values.copy_from_slice(unsafe { std::slice::from_raw_parts(start, n) });
        } else {
            for (j, v) in values.iter_mut().enumerate() {
                // SAFETY: `j < n`: the caller's guarantee.
                *v = unsafe { *start.offset(j as isize * b.cs) };
            }
        }
        zeros.fill(0.0);
    }
}

/// Rows `lo..hi` of the product by the lanes of `isa`.
///
/// # Safety
/// As for [`product_by`]; `right` reads `b` (in place or packed by [`pack`]).
unsafe fn rows(
    isa: Isa,
    a: Strided<*const f32>,
    right: Right,
    c: Strided<*mut f32>,
    range: (usize, usize),
    kn: (usize, usize),
) {
    match isa {
        // SAFETY: the caller's guarantee that `isa` runs here.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { rows_avx512(a, right, c, range, kn) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { rows_avx2(a, right, c, range, kn) },
        // SAFETY: the portable lanes are plain Rust; the caller's pointers.
        _ => unsafe { rows_with::<Portable, 4>(a, right, c, range, kn) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn rows_avx512(
    a: Strided<*const f32>,
    right: Right,
    c: Strided<*mut f32>,
    range: (usize, usize),
    kn: (usize, usize),
) {
    // SAFETY: this function has the AVX-512F target feature; the caller's
    // pointers.
    unsafe { rows_with::<Avx512, 12>(a, right, c, range, kn) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_avx2(
    a: Strided<*const f32>,
    right: Right,
    c: Strided<*mut f32>,
    range: (usize, usize),
    kn: (usize, usize),
) {
    // SAFETY: this function has the AVX2 and FMA target features; the
    // caller's pointers.
    unsafe { rows_with::<Avx2, 4>(a, right, c, range, kn) }
}

/// Blocks of `R` rows (one accumulator each, so `R` independent `fma`
/// chains), then of four, then single rows: each output is the same chain
/// whichever block computes it.
///
/// # Safety
/// The CPU has `L`'s instruction set; as for [`rows`].
#[inline(always)]
unsafe fn rows_with<L: Lanes, const R: usize>(
    a: Strided<*const f32>,
    right: Right,
    c: Strided<*mut f32>,
    (lo, hi): (usize, usize),
    (k, n): (usize, usize),
) {
    let mut i = lo;
    while i + R <= hi {
        // SAFETY: rows i..i+R are in range; the caller's guarantees.
        unsafe { block::<L, R>(a, right, c, i, (k, n)) };
        i += R;
    }
    // Leftover rows four at a time: one chain alone waits on each `fma`.
    while i + 4 <= hi {
        // SAFETY: as above, for rows i..i+4.
        unsafe { block::<L, 4>(a, right, c, i, (k, n)) };
        i += 4;
    }
    while i < hi {
        // SAFETY: as above, for row i.
        unsafe { block::<L, 1>(a, right, c, i, (k, n)) };
        i += 1;
    }
}

/// Rows `i..i+R` of `c`.
///
/// # Safety
/// As for [`rows_with`], with `i + R` at most the row count.
#[inline(always)]
unsafe fn block<L: Lanes, const R: usize>(
    a: Strided<*const f32>,
    right: Right,
    c: Strided<*mut f32>,
    i: usize,
    (k, n): (usize, usize),
) {
    // SAFETY (whole body): the CPU has `L`'s set; `a` rows i..i+R and columns
    // 0..k are readable, `right` gives k rows of lanes, `c` rows
    // i..i+R and columns 0..n are writable (the caller's guarantees).
    unsafe {
        let mut acc = [L::zero(); R];
        let rows: [*const f32; R] = std::array::from_fn(|r| a.ptr.offset((i + r) as isize * a.rs));
        for p in 0..k {
            let row = right.ptr.offset(p as isize * right.rs);
            let bv = match right.mask {
                u16::MAX => L::load(row),
                mask => L::load_masked(row, mask),
            };
            let off = p as isize * a.cs;
            for r in 0..R {
                acc[r] = L::splat(rows[r].offset(off)).fma(bv, acc[r]);
            }
        }
        // Contiguous output rows take a masked store of their `n` lanes.
        let mask = (((1u32 << n) - 1) & 0xFFFF) as u16;
        let mut out = [0.0f32; MAX_N];
        for (r, v) in acc.iter().enumerate() {
            let dst = c.ptr.offset((i + r) as isize * c.rs);
            if c.cs == 1 {
                v.store_masked(dst, mask);
                continue;
            }
            v.store(out.as_mut_ptr());
            for (j, &x) in out[..n].iter().enumerate() {
                *dst.offset(j as isize * c.cs) = x;
            }
        }
    }
}

#[cfg(test)]
#[path = "narrow_tests.rs"]
mod tests;
