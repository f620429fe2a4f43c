//! Direct f32 convolutions of stride 1 on small images, vectorised over the
//! output channels (`o` a multiple of 16, output rows narrower than 16).
//!
//! The planar kernels (`conv_direct.rs`) put sixteen positions of one output
//! row in a vector; with rows of 8 or 4 positions (the digits convnet) half or
//! three quarters of every lane did nothing. Here the images are copied once
//! into a zero-padded NHWC buffer, and a vector holds sixteen output channels
//! (contiguous in the NHWC output, the HWIO filter and the gradient), with the
//! input value of a position splatted.
//!
//! Summation order, forward: for each output, one fused multiply-add chain per
//! window row `ky` over `(kx, c)` from zero, the chains added in `ky` order:
//! exactly the planar kernel's (and the implicit GEMM's), so the forward values
//! and input gradients keep their bits (tested). Filter gradient: each `dw`
//! value sums a chunk of about [`CHAIN_POSITIONS`] positions (whole images) by
//! FMA, and the chunks are added in order; the chunks depend only on the shapes.

use super::Conv;
use crate::kernels::isa::Isa;
use crate::kernels::lanes::{Lanes, Portable};

#[cfg(target_arch = "x86_64")]
use crate::kernels::lanes::{Avx2, Avx512};

/// Lanes per vector.
const L16: usize = 16;

/// Output positions per chunk of the forward kernel (bounds the copy).
const FORWARD_POSITIONS: usize = 256;

/// Output positions per chain of the filter gradient.
const CHAIN_POSITIONS: usize = 64;

/// The geometry of a convolution these kernels compute.
pub(super) struct Layout {
    n: usize,
    x: [usize; 3],
    pads: [usize; 2],
    kh: usize,
    o: usize,
    /// Output positions per image.
    per_image: usize,
    /// Output rows and columns.
    out_hw: [usize; 2],
    /// The padded image `[hp, wp, c]`.
    padded: [usize; 3],
    /// Offset of each filter tap `(ky, kx, c)` from its window's first value.
    offs: Vec<usize>,
}

impl Layout {
    /// The layout of `conv`, or `None` when these kernels do not apply: not
    /// stride 1, empty, `o` not a multiple of 16, or rows of 16 or more
    /// positions (the planar kernels fill their lanes there).
    pub(super) fn new(conv: &Conv) -> Option<Layout> {
        let empty = [conv.x, conv.w, conv.out].iter().any(|d| d.contains(&0));
        let ([n, h, w, c], [kh, kw, _, o], [_, oh, ow, _]) = (conv.x, conv.w, conv.out);
        if conv.strides != [1, 1] || empty || o % L16 != 0 || ow >= L16 {
            return None;
        }
        let hp = h + conv.pads[0] + conv.pads[1];
        let wp = w + conv.pads[2] + conv.pads[3];
        // A chunk's padded copy must be addressable (Conv::new checked the
        // unpadded sizes only).
        let per_image = oh * ow;
        let images = (FORWARD_POSITIONS / per_image).max(CHAIN_POSITIONS / per_image);
        hp.checked_mul(wp)?
            .checked_mul(c)?
            .checked_mul(images.max(1))
            .filter(|&len| len <= isize::MAX as usize / 4)?;
        let mut offs = Vec::with_capacity(kh * kw * c);
        for ky in 0..kh {
            for kx in 0..kw {
                offs.extend((0..c).map(|ci| (ky * wp + kx) * c + ci));
            }
        }
        Some(Layout {
            n,
            x: [h, w, c],
            pads: [conv.pads[0], conv.pads[2]],
            kh,
            o,
            per_image,
            out_hw: [oh, ow],
            padded: [hp, wp, c],
            offs,
        })
    }

    /// Images per chunk of about `positions` output positions (at least one).
    fn images_per(&self, positions: usize) -> usize {
        (positions / self.per_image).clamp(1, self.n)
    }

    fn padded_len(&self, images: usize) -> usize {
        images * self.padded.iter().product::<usize>()
    }

    /// Where each output position of a chunk of `images` images reads its
    /// window's first value in the padded copy.
    fn bases(&self, images: usize) -> Vec<usize> {
        let [hp, wp, c] = self.padded;
        let [oh, ow] = self.out_hw;
        let mut bases = Vec::with_capacity(images * self.per_image);
        for image in 0..images {
            for oy in 0..oh {
                bases.extend((0..ow).map(|ox| ((image * hp + oy) * wp + ox) * c));
            }
        }
        bases
    }

    /// Copies `count` images from `first` of `x` into the inside of `xp` (the
    /// border stays as it is: zero).
    fn pad(&self, x: &[f32], first: usize, count: usize, xp: &mut [f32]) {
        let [h, w, c] = self.x;
        let [hp, wp, _] = self.padded;
        let [top, left] = self.pads;
        let src = &x[first * h * w * c..(first + count) * h * w * c];
        for (image, src) in src.chunks_exact(h * w * c).enumerate() {
            for (y, row) in src.chunks_exact(w * c).enumerate() {
                let at = ((image * hp + y + top) * wp + left) * c;
                xp[at..at + w * c].copy_from_slice(row);
            }
        }
    }

    /// Checks that every read of a chunk's positions, and `extra` values past
    /// each window's last one, stays inside `xp`.
    fn check(&self, bases: &[usize], xp: &[f32], extra: usize) {
        let last = bases.iter().max().copied().unwrap_or(0);
        let reach = self.offs.iter().max().copied().unwrap_or(0);
        assert!(
            last + reach + extra < xp.len(),
            "a window leaves the padded copy"
        );
    }
}

/// `P` positions by `V` vectors of channels: `out[p * o + 16 v + l]` for the
/// positions reading from `bases`, the first `valid` of them stored.
///
/// # Safety
/// Every `xp + bases[p] + offs[k]` is readable, `w + k * o + 16 V` for every
/// tap `k`, and `out + p * o + 16 V` writable for `p < valid`; the CPU has
/// `L`'s instruction set (see [`Lanes::zero`]).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn forward_block<L: Lanes, const P: usize, const V: usize>(
    lay: &Layout,
    xp: *const f32,
    bases: &[usize; P],
    w: *const f32,
    out: *mut f32,
    valid: usize,
) {
    let chain = lay.offs.len() / lay.kh;
    // SAFETY (all blocks below): the caller's bounds and instruction set.
    let mut total = [[unsafe { L::zero() }; V]; P];
    for (ky, offs) in lay.offs.chunks_exact(chain).enumerate() {
        let mut acc = [[unsafe { L::zero() }; V]; P];
        for (j, &off) in offs.iter().enumerate() {
            unsafe {
                let wk = w.add((ky * chain + j) * lay.o);
                let wv: [L; V] = std::array::from_fn(|v| L::load(wk.add(v * L16)));
                for p in 0..P {
                    let xs = L::splat(xp.add(bases[p] + off));
                    for v in 0..V {
                        acc[p][v] = xs.fma(wv[v], acc[p][v]);
                    }
                }
            }
        }
        for p in 0..P {
            for v in 0..V {
                total[p][v] = if ky == 0 {
                    acc[p][v]
                } else {
                    unsafe { total[p][v].add(acc[p][v]) }
                };
            }
        }
    }
    for p in 0..valid.min(P) {
        for v in 0..V {
            unsafe { total[p][v].store(out.add(p * lay.o + v * L16)) };
        }
    }
}

/// The forward outputs of one chunk (`out`: its `[positions, o]`) for the
/// channels `o0..o0 + 16 V`, `P` positions at a time.
///
/// # Safety
/// The CPU has `L`'s instruction set.
#[inline(always)]
unsafe fn forward_chunk<L: Lanes, const P: usize, const V: usize>(
    lay: &Layout,
    xp: &[f32],
    bases: &[usize],
    w: &[f32],
    o0: usize,
    out: &mut [f32],
) {
    let o = lay.o;
    lay.check(bases, xp, 0);
    assert!(w.len() == lay.offs.len() * o && o0 + V * L16 <= o);
    assert!(out.len() == bases.len() * o && !bases.is_empty());
    for j0 in (0..bases.len()).step_by(P) {
        // Positions past the chunk repeat its last one and are not stored.
        let b: [usize; P] = std::array::from_fn(|p| bases[(j0 + p).min(bases.len() - 1)]);
        let valid = (bases.len() - j0).min(P);
        // SAFETY: `check` bounds every read from `xp`; the filter has `offs`
        // taps of `o` channels and o0 + 16 V <= o; the stores write positions
        // j0 + p < bases.len() (p < valid), channels o0..o0 + 16 V, inside `out`.
        unsafe {
            forward_block::<L, P, V>(
                lay,
                xp.as_ptr(),
                &b,
                w.as_ptr().add(o0),
                out.as_mut_ptr().add(j0 * o + o0),
                valid,
            );
        }
    }
}

/// # Safety
/// The CPU has `L`'s instruction set.
#[inline(always)]
unsafe fn forward_with<L: Lanes, const P1: usize, const P2: usize>(
    lay: &Layout,
    x: &[f32],
    w: &[f32],
    out: &mut [f32],
) {
    let images = lay.images_per(FORWARD_POSITIONS);
    let mut xp = vec![0.0f32; lay.padded_len(images)];
    let all = lay.bases(images);
    let per_out = lay.per_image * lay.o;
    for first in (0..lay.n).step_by(images) {
        let count = images.min(lay.n - first);
        lay.pad(x, first, count, &mut xp);
        let bases = &all[..count * lay.per_image];
        let out = &mut out[first * per_out..(first + count) * per_out];
        let mut o0 = 0;
        while o0 < lay.o {
            // SAFETY: the caller's instruction set.
            unsafe {
                if lay.o - o0 >= 2 * L16 {
                    forward_chunk::<L, P2, 2>(lay, &xp, bases, w, o0, out);
                    o0 += 2 * L16;
                } else {
                    forward_chunk::<L, P1, 1>(lay, &xp, bases, w, o0, out);
                    o0 += L16;
                }
            }
        }
    }
}

// Register tiles: AVX-512 has 32 vector registers, AVX2 16 of half the width
// (two per `Avx2` lanes value); the portable lanes take AVX2's sizes.

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn forward_avx512(lay: &Layout, x: &[f32], w: &[f32], out: &mut [f32]) {
    // SAFETY: this function has the AVX-512F target feature.
    unsafe { forward_with::<Avx512, 8, 6>(lay, x, w, out) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn forward_avx2(lay: &Layout, x: &[f32], w: &[f32], out: &mut [f32]) {
    // SAFETY: this function has the AVX2 and FMA target features.
    unsafe { forward_with::<Avx2, 4, 2>(lay, x, w, out) }
}

/// The forward convolution by the lanes of `isa` (which must run here).
pub(super) fn forward_by(isa: Isa, lay: &Layout, x: &[f32], w: &[f32], out: &mut [f32]) {
    debug_assert!(isa.missing().is_empty());
    match isa {
        // SAFETY: `isa` runs here: the CPU has AVX-512F.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { forward_avx512(lay, x, w, out) },
        // SAFETY: `isa` runs here: the CPU has AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { forward_avx2(lay, x, w, out) },
        // SAFETY: the portable lanes are plain Rust.
        _ => unsafe { forward_with::<Portable, 4, 2>(lay, x, w, out) },
    }
}

#[path = "conv_channels_filter.rs"]
mod filter;
pub(super) use filter::filter_by;

#[cfg(test)]
#[path = "conv_channels_tests.rs"]
mod tests;
