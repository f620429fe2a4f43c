//! Direct f32 convolutions of stride 1 (any zero padding) without a GEMM:
//! the forward one, the input gradient (a forward one of the gradient with the
//! filter flipped) and the filter gradient.
//!
//! Each image is first copied into a planar buffer, one zero-padded plane per
//! channel with rows of `pitch` values, so the values that sixteen neighbouring
//! output positions of a row read for one filter tap `(ky, kx, c)` are sixteen
//! contiguous floats. The kernels then vectorise over those sixteen positions
//! (`Lanes`) and keep a group of up to [`GROUP`] output channels in registers:
//! with 6 or 9 output channels a GEMM's vectors along the channels were mostly
//! empty, and packing the overlapping im2col views cost more than the products.
//!
//! Summation order, forward: for each output, one fused multiply-add chain per
//! window row `ky` over `(kx, c)` starting from zero, the chains added in `ky`
//! order. That is exactly what the implicit GEMM (`conv_wide.rs`) computed,
//! so forward values and input gradients keep their bits. Filter gradient: each
//! of the sixteen lanes sums its positions of one image by FMA, the images'
//! partial sums are added in order and the lanes are summed pairwise.

use super::Conv;
use crate::kernels::isa::{self, Isa};
use crate::kernels::lanes::{Lanes, Portable};

#[cfg(target_arch = "x86_64")]
use crate::kernels::lanes::{Avx2, Avx512};

/// Output channels computed together (more are done in groups).
const GROUP: usize = 12;

/// Lanes per vector.
const L16: usize = 16;

/// `idx[v][l]`: where value `16 v + l` of an `[16, o]` output block is in the
/// `[o, 16]` block of lanes.
fn block_transpose(o: usize) -> Vec<[i32; 16]> {
    (0..o)
        .map(|v| {
            std::array::from_fn(|l| {
                let e = v * L16 + l;
                ((e % o) * L16 + e / o) as i32
            })
        })
        .collect()
}

/// One or `RB` vectors of output positions of one row and `G` channels:
/// `tmp[(r * G + g) * 16 + l]` for lane `l` of vector `r`. `xp` points at the
/// planar image plus the row's and first vector's offset; `w` at the filter's
/// first channel of the group.
///
/// # Safety
/// Every `xp + tap + 16 * RB` is inside the planar image, `w + k * o + G` inside
/// the filter for every tap `k`, and `tmp` holds `RB * G * 16` values.
// Index loops over the register tile read more plainly than zipped iterators.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn forward_block<L: Lanes, const G: usize, const RB: usize>(
    xp: *const f32,
    plan: &Plan,
    w: *const f32,
    tmp: &mut [f32],
) {
    let chain = plan.taps.len() / plan.kh;
    let mut total = [[L::zero(); G]; RB];
    for (ky, taps) in plan.taps.chunks_exact(chain).enumerate() {
        let mut acc = [[L::zero(); G]; RB];
        for (j, &tap) in taps.iter().enumerate() {
            // SAFETY: the caller's bounds, per tap.
            unsafe {
                let wk = w.add((ky * chain + j) * plan.o);
                let xv: [L; RB] = std::array::from_fn(|r| L::load(xp.add(tap + r * L16)));
                for g in 0..G {
                    let wv = L::splat(wk.add(g));
                    for r in 0..RB {
                        acc[r][g] = xv[r].fma(wv, acc[r][g]);
                    }
                }
            }
        }
        for r in 0..RB {
            for g in 0..G {
                total[r][g] = if ky == 0 {
                    acc[r][g]
                } else {
                    total[r][g].add(acc[r][g])
                };
            }
        }
    }
    for r in 0..RB {
        for g in 0..G {
            // SAFETY: tmp holds RB * G * 16 values (asserted by the caller).
            unsafe { total[r][g].store(tmp.as_mut_ptr().add((r * G + g) * L16)) };
        }
    }
}

/// The forward convolution of one image's planar copy `xp` into `out` (the
/// image's `[oh, ow, o]` outputs) for channels `o0..o0 + G`.
///
/// # Safety
/// The CPU has `L`'s instruction set (see [`Lanes::zero`]).
#[inline(always)]
unsafe fn forward_group<L: Lanes, const G: usize, const RB: usize>(
    plan: &Plan,
    xp: &[f32],
    w: &[f32],
    o0: usize,
    idx: &[[i32; 16]],
    out: &mut [f32],
) {
    let (o, ow) = (plan.o, plan.ow);
    let mut tmp = [0.0f32; 2 * GROUP * L16];
    let full = G == o;
    // The unsafe reads below rely on these (checked once per group and image:
    // a broken invariant stops here instead of reading out of bounds).
    assert!(xp.len() == plan.planar_len() && o0 + G <= o && RB <= 2);
    assert!(w.len() >= plan.taps.len() * o);
    for oy in 0..plan.oh {
        let mut b = 0;
        while b < plan.blocks {
            let rb = if RB == 2 && b + 2 <= plan.blocks {
                2
            } else {
                1
            };
            let at = oy * plan.pitch + b * L16;
            // SAFETY: the largest tap offset is (c - 1) * plane + (kh - 1) *
            // pitch + kw - 1; with oy < oh = padded_h - kh + 1 and (b + rb) * 16
            // <= blocks * 16 = pitch - (kw - 1), every read ends inside the
            // planar image ((c + 1) * plane values). The filter has kh*kw*c*o
            // values and o0 + G <= o. tmp holds 2 * GROUP * 16 >= rb * G * 16.
            unsafe {
                let (x0, w0) = (xp.as_ptr().add(at), w.as_ptr().add(o0));
                if rb == 2 {
                    forward_block::<L, G, RB>(x0, plan, w0, &mut tmp);
                } else {
                    forward_block::<L, G, 1>(x0, plan, w0, &mut tmp);
                }
            }
            let first = oy * ow + b * L16;
            let lanes = (rb * L16).min(ow - b * L16);
            if full && lanes == rb * L16 {
                // Whole vectors of all channels: contiguous in `out`.
                for r in 0..rb {
                    let dst = &mut out[(first + r * L16) * o..(first + (r + 1) * L16) * o];
                    for (v, ix) in idx.iter().enumerate() {
                        // SAFETY: indices are < G * 16 (block_transpose of o ==
                        // G) inside tmp's vector r; dst has 16 * o values.
                        unsafe {
                            L::gather(tmp.as_ptr().add(r * G * L16), ix)
                                .store(dst.as_mut_ptr().add(v * L16));
                        }
                    }
                }
            } else {
                for l in 0..lanes {
                    let (r, lane) = (l / L16, l % L16);
                    let dst = &mut out[(first + l) * o + o0..(first + l) * o + o0 + G];
                    for (g, d) in dst.iter_mut().enumerate() {
                        *d = tmp[(r * G + g) * L16 + lane];
                    }
                }
            }
            b += rb;
        }
    }
}

/// Registers allow two vectors of positions for narrow groups.
const fn rows_for(g: usize) -> usize {
    if g <= 7 {
        2
    } else {
        1
    }
}

/// Filter taps per register tile of the filter gradient for a group of `g`.
const fn taps_for(g: usize) -> usize {
    let t = (30 - g) / (g + 1);
    if t < 1 {
        1
    } else if t > 4 {
        4
    } else {
        t
    }
}

/// Calls `$f::<L, G, $extra(G)>` for the runtime group size `$g` (1 to GROUP).
macro_rules! by_group {
    ($g:expr, $extra:ident, $f:ident::<$l:ty>($($arg:expr),*)) => {
        match $g {
            1 => $f::<$l, 1, { $extra(1) }>($($arg),*),
            2 => $f::<$l, 2, { $extra(2) }>($($arg),*),
            3 => $f::<$l, 3, { $extra(3) }>($($arg),*),
            4 => $f::<$l, 4, { $extra(4) }>($($arg),*),
            5 => $f::<$l, 5, { $extra(5) }>($($arg),*),
            6 => $f::<$l, 6, { $extra(6) }>($($arg),*),
            7 => $f::<$l, 7, { $extra(7) }>($($arg),*),
            8 => $f::<$l, 8, { $extra(8) }>($($arg),*),
            9 => $f::<$l, 9, { $extra(9) }>($($arg),*),
            10 => $f::<$l, 10, { $extra(10) }>($($arg),*),
            11 => $f::<$l, 11, { $extra(11) }>($($arg),*),
            _ => $f::<$l, 12, { $extra(12) }>($($arg),*),
        }
    };
}

/// # Safety
/// The CPU has `L`'s instruction set (see [`Lanes::zero`]).
#[inline(always)]
unsafe fn forward_with<L: Lanes>(plan: &Plan, x: &[f32], w: &[f32], out: &mut [f32]) {
    let (o, per_out) = (plan.o, plan.oh * plan.ow * plan.o);
    let idx = block_transpose(o);
    let mut xp = vec![0.0f32; plan.planar_len()];
    for (image, dst) in out.chunks_exact_mut(per_out).enumerate() {
        plan.planar::<L>(x, image, &mut xp);
        // The next image arrives from memory while this one is computed.
        let per_x = x.len() / plan.x[0];
        L::prefetch(
            x.get((image + 1) * per_x..(image + 2) * per_x)
                .unwrap_or(&[]),
        );
        for o0 in (0..o).step_by(GROUP) {
            let g = (o - o0).min(GROUP);
            by_group!(g, rows_for, forward_group::<L>(plan, &xp, w, o0, &idx, dst));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn forward_avx512(plan: &Plan, x: &[f32], w: &[f32], out: &mut [f32]) {
    // SAFETY: this function has the AVX-512F target feature.
    unsafe { forward_with::<Avx512>(plan, x, w, out) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn forward_avx2(plan: &Plan, x: &[f32], w: &[f32], out: &mut [f32]) {
    // SAFETY: this function has the AVX2 and FMA target features.
    unsafe { forward_with::<Avx2>(plan, x, w, out) }
}

/// The forward convolution by the lanes of `isa`; `isa` must run on this CPU
/// (`isa::active()` always does).
fn forward_by(isa: Isa, plan: &Plan, x: &[f32], w: &[f32], out: &mut [f32]) {
    debug_assert!(isa.missing().is_empty());
    match isa {
        // SAFETY: `isa` runs here: the CPU has AVX-512F.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { forward_avx512(plan, x, w, out) },
        // SAFETY: `isa` runs here: the CPU has AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { forward_avx2(plan, x, w, out) },
        // SAFETY: the portable lanes are plain Rust.
        _ => unsafe { forward_with::<Portable>(plan, x, w, out) },
    }
}

/// Whether a direct kernel can compute `conv` and its gradients.
fn plan(conv: &Conv) -> Option<Plan> {
    Plan::new(conv)
}

/// The forward convolution (lengths checked by the caller); `false` when it
/// is not a stride-1 convolution.
pub(super) fn conv2d(conv: &Conv, x: &[f32], w: &[f32], out: &mut [f32]) -> bool {
    if let Some(lay) = channels::Layout::new(conv) {
        channels::forward_by(isa::active(), &lay, x, w, out);
        return true;
    }
    let Some(plan) = plan(conv) else {
        return false;
    };
    forward_by(isa::active(), &plan, x, w, out);
    true
}

/// The input gradient: the forward convolution of `g`, zero-padded by `k - 1 -
/// pad` on each side, with the filter flipped in space and its channel axes
/// swapped; `false` when that does not apply (strides, a pad of `k` or more).
pub(super) fn backprop_input(conv: &Conv, g: &[f32], w: &[f32], dx: &mut [f32]) -> bool {
    input_by(conv, g, w, dx, conv2d)
}

/// [`backprop_input`] with the forward kernel `forward`.
fn input_by(
    conv: &Conv,
    g: &[f32],
    w: &[f32],
    dx: &mut [f32],
    forward: impl Fn(&Conv, &[f32], &[f32], &mut [f32]) -> bool,
) -> bool {
    let ([n, _, _, c], [kh, kw, _, o], [_, oh, ow, _], p) = (conv.x, conv.w, conv.out, conv.pads);
    if conv.strides != [1, 1] || p[0].max(p[1]) >= kh || p[2].max(p[3]) >= kw {
        return false;
    }
    let pads = [kh - 1 - p[0], kh - 1 - p[1], kw - 1 - p[2], kw - 1 - p[3]];
    let Ok(full) = Conv::new([n, oh, ow, o], [kh, kw, o, c], [1, 1], pads) else {
        return false;
    };
    if full.out != conv.x {
        return false;
    }
    let mut flipped = vec![0.0f32; w.len()];
    for ky in 0..kh {
        for kx in 0..kw {
            for oc in 0..o {
                for ci in 0..c {
                    let src = (((kh - 1 - ky) * kw + (kw - 1 - kx)) * c + ci) * o + oc;
                    flipped[((ky * kw + kx) * o + oc) * c + ci] = w[src];
                }
            }
        }
    }
    forward(&full, g, &flipped, dx)
}

#[path = "conv_direct_layout.rs"]
mod layout;
use layout::Plan;

#[path = "conv_channels.rs"]
mod channels;

#[path = "conv_direct_filter.rs"]
mod filter;
pub(super) use filter::backprop_filter;

#[cfg(test)]
#[path = "conv_direct_tests.rs"]
pub(crate) mod tests;
