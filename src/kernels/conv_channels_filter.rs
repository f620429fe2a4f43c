//! The filter gradient of the small-image kernels (`conv_channels.rs`):
//! `dw[tap, o]` sums `x[position + tap] * g[position, o]` over a chunk of
//! positions in a register tile of `T` taps of one window row by `V` vectors
//! of sixteen channels, and the chunks' sums are added in order.

use super::{Layout, CHAIN_POSITIONS, L16};
use crate::kernels::isa::Isa;
use crate::kernels::lanes::{Lanes, Portable};

#[cfg(target_arch = "x86_64")]
use crate::kernels::lanes::{Avx2, Avx512};

/// Values past a chunk's padded copy, so a tile of the filter gradient may
/// read on past the end of a window row (at least the largest tile).
const SPARE: usize = 32;

/// One chain of the filter gradient: the sums over the chunk's positions of
/// `x[base + t] * g[position, o0 + 16 v + l]` for `T` consecutive values `t`
/// of a window row (`x` points at the row's first value in the tile). The
/// offsets are constants, so the addresses need one register.
///
/// # Safety
/// Every `x + bases[j] + t` (t < T) is readable, `g + j * o + 16 V` for every
/// position `j`; the CPU has `L`'s instruction set.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn filter_tile<L: Lanes, const T: usize, const V: usize>(
    x: *const f32,
    bases: &[usize],
    g: *const f32,
    o: usize,
) -> [[L; V]; T] {
    // SAFETY (all blocks below): the caller's bounds and instruction set.
    let mut acc = [[unsafe { L::zero() }; V]; T];
    for (j, &base) in bases.iter().enumerate() {
        unsafe {
            let gv: [L; V] = std::array::from_fn(|v| L::load(g.add(j * o + v * L16)));
            let xj = x.add(base);
            for t in 0..T {
                let xs = L::splat(xj.add(t));
                for v in 0..V {
                    acc[t][v] = xs.fma(gv[v], acc[t][v]);
                }
            }
        }
    }
    acc
}

/// Adds one chunk's products for channels `o0..o0 + 16 V` to `dw`: per window
/// row `ky`, its `kw * c` taps (contiguous in the padded copy) `T` at a time.
///
/// # Safety
/// The CPU has `L`'s instruction set.
#[inline(always)]
unsafe fn filter_chunk<L: Lanes, const T: usize, const V: usize>(
    lay: &Layout,
    xp: &[f32],
    bases: &[usize],
    g: &[f32],
    o0: usize,
    dw: &mut [f32],
) {
    let (o, taps) = (lay.o, lay.offs.len());
    let run = taps / lay.kh;
    lay.check(bases, xp, T - 1);
    assert!(g.len() == bases.len() * o && o0 + V * L16 <= o && dw.len() == taps * o);
    for ky in 0..lay.kh {
        let row = lay.offs[ky * run];
        for t0 in (0..run).step_by(T) {
            // SAFETY: row + t0 + t <= (the row's last offset) + T - 1, which
            // `check` bounds with `extra = T - 1` (the copy has SPARE >= T
            // values past its end); `g` has `o` values per position.
            let acc = unsafe {
                filter_tile::<L, T, V>(xp.as_ptr().add(row + t0), bases, g.as_ptr().add(o0), o)
            };
            // Values read past the row are dropped.
            for (t, sums) in acc.iter().enumerate().take(run - t0) {
                for (v, sum) in sums.iter().enumerate() {
                    let at = (ky * run + t0 + t) * o + o0 + v * L16;
                    // SAFETY: ky * run + t0 + t < taps and o0 + 16 (v + 1)
                    // <= o: inside dw.
                    unsafe {
                        let d = dw.as_mut_ptr().add(at);
                        L::load(d).add(*sum).store(d);
                    }
                }
            }
        }
    }
}

/// Tiles of `T` taps (`S` when a window row has at most `S` taps) for one
/// vector (`T1`, `S1`) or two (`T2`, `S2`) of channels.
///
/// # Safety
/// The CPU has `L`'s instruction set.
#[inline(always)]
unsafe fn filter_with<
    L: Lanes,
    const T1: usize,
    const S1: usize,
    const T2: usize,
    const S2: usize,
>(
    lay: &Layout,
    x: &[f32],
    g: &[f32],
    dw: &mut [f32],
) {
    const { assert!(T1 <= SPARE && T2 <= SPARE && S1 <= T1 && S2 <= T2) };
    let images = lay.images_per(CHAIN_POSITIONS);
    let mut xp = vec![0.0f32; lay.padded_len(images) + SPARE];
    let all = lay.bases(images);
    let per_g = lay.per_image * lay.o;
    let run = lay.offs.len() / lay.kh;
    dw.fill(0.0);
    for first in (0..lay.n).step_by(images) {
        let count = images.min(lay.n - first);
        lay.pad(x, first, count, &mut xp);
        let bases = &all[..count * lay.per_image];
        let g = &g[first * per_g..(first + count) * per_g];
        let mut o0 = 0;
        while o0 < lay.o {
            // SAFETY: the caller's instruction set.
            unsafe {
                if lay.o - o0 >= 2 * L16 {
                    if run <= S2 {
                        filter_chunk::<L, S2, 2>(lay, &xp, bases, g, o0, dw);
                    } else {
                        filter_chunk::<L, T2, 2>(lay, &xp, bases, g, o0, dw);
                    }
                    o0 += 2 * L16;
                } else {
                    if run <= S1 {
                        filter_chunk::<L, S1, 1>(lay, &xp, bases, g, o0, dw);
                    } else {
                        filter_chunk::<L, T1, 1>(lay, &xp, bases, g, o0, dw);
                    }
                    o0 += L16;
                }
            }
        }
    }
}

// Register tiles as for the forward kernels (`conv_channels.rs`).

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn filter_avx512(lay: &Layout, x: &[f32], g: &[f32], dw: &mut [f32]) {
    // SAFETY: this function has the AVX-512F target feature.
    unsafe { filter_with::<Avx512, 24, 4, 12, 4>(lay, x, g, dw) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn filter_avx2(lay: &Layout, x: &[f32], g: &[f32], dw: &mut [f32]) {
    // SAFETY: this function has the AVX2 and FMA target features.
    unsafe { filter_with::<Avx2, 4, 2, 2, 1>(lay, x, g, dw) }
}

/// The filter gradient by the lanes of `isa` (which must run here).
pub(in crate::kernels::conv::direct) fn filter_by(
    isa: Isa,
    lay: &Layout,
    x: &[f32],
    g: &[f32],
    dw: &mut [f32],
) {
    debug_assert!(isa.missing().is_empty());
    match isa {
        // SAFETY: `isa` runs here: the CPU has AVX-512F.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { filter_avx512(lay, x, g, dw) },
        // SAFETY: `isa` runs here: the CPU has AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { filter_avx2(lay, x, g, dw) },
        // SAFETY: the portable lanes are plain Rust.
        _ => unsafe { filter_with::<Portable, 4, 2, 2, 1>(lay, x, g, dw) },
    }
}
