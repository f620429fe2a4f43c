//! The filter gradient of a stride-1 convolution, directly: `dw[tap, o]` is the
//! sum over images and output positions of `x[position + tap] * g[position, o]`.
//! Both operands are read from planar copies (sixteen neighbouring positions
//! contiguous); a register tile holds `TK` taps by `G` output channels of
//! sixteen-lane partial sums.

use super::{plan, taps_for, Lanes, Plan, Portable, GROUP, L16};
use crate::kernels::conv::Conv;
use crate::kernels::isa::{self, Isa};

#[cfg(target_arch = "x86_64")]
use super::{Avx2, Avx512};

/// Taps past the filter's, reading the zero plane, so every tile is whole.
const SPARE_TAPS: usize = 4;

/// Copies image `image` of the gradient (`[n, oh, ow, o]`) into `gp` as
/// `[oh, blocks, o, 16]` (zeros past `ow`): the `o` vectors of one block of
/// positions are adjacent, so the tile loads them from one base address.
///
/// # Safety
/// The CPU has `L`'s instruction set (see [`Lanes::zero`]).
#[inline(always)]
unsafe fn planar_grad<L: Lanes>(plan: &Plan, g: &[f32], image: usize, gp: &mut [f32]) {
    let (o, oh, ow) = (plan.o, plan.oh, plan.ow);
    let g = &g[image * oh * ow * o..(image + 1) * oh * ow * o];
    let stride: [i32; 16] = std::array::from_fn(|l| (l * o) as i32);
    for (row, src) in gp
        .chunks_exact_mut(plan.blocks * o * L16)
        .zip(g.chunks_exact(ow * o))
    {
        for (b, dst) in row.chunks_exact_mut(o * L16).enumerate() {
            let first = b * L16;
            if first + L16 <= ow {
                for oc in 0..o {
                    // SAFETY: lanes read src[(first + l) * o + oc], l < 16,
                    // first + 16 <= ow: inside this row; dst has o * 16 values.
                    unsafe {
                        L::gather(src.as_ptr().add(first * o + oc), &stride)
                            .store(dst.as_mut_ptr().add(oc * L16));
                    }
                }
            } else {
                dst.fill(0.0);
                for (l, px) in src[first * o..].chunks_exact(o).enumerate() {
                    for (oc, &v) in px.iter().enumerate() {
                        dst[oc * L16 + l] = v;
                    }
                }
            }
        }
    }
}

/// Adds one image's products for taps `taps` (TK of them) and channels
/// `o0..o0 + G` to `acc` (`[tap, o, 16]`, from tap `k0`).
///
/// # Safety
/// The CPU has `L`'s instruction set (see [`Lanes::zero`]).
#[inline(always)]
unsafe fn filter_tile<L: Lanes, const G: usize, const TK: usize>(
    plan: &Plan,
    xp: &[f32],
    gp: &[f32],
    taps: &[usize],
    k0: usize,
    o0: usize,
    acc: &mut [f32],
) {
    let (o, q, oh) = (plan.o, plan.blocks * L16, plan.oh);
    let tail = plan.tail_mask();
    assert!(taps.len() == TK && o0 + G <= o && gp.len() == o * oh * q);
    assert!(xp.len() == plan.planar_len() && acc.len() >= (k0 + TK) * o * L16);
    // SAFETY: `L`'s instructions are available (the callers enter with the
    // target feature after the run-time check, or use the portable lanes).
    let mut a = [[unsafe { L::zero() }; G]; TK];
    for oy in 0..oh {
        for b in 0..plan.blocks {
            let mask = if b + 1 == plan.blocks { tail } else { u16::MAX };
            // SAFETY: gp is [oh, blocks, o, 16] and oy < oh, b < blocks,
            // o0 + g < o. Each tap is below
            // (c + 1) * plane - (kh - 1) * pitch - (kw - 1)... more precisely a
            // tap plus oy * pitch + blocks * 16 is at most (c + 1) * plane (see
            // forward_group; spare taps point at the zero plane c * plane).
            unsafe {
                let block = gp.as_ptr().add(((oy * plan.blocks + b) * o + o0) * L16);
                let gv: [L; G] = std::array::from_fn(|g| L::load(block.add(g * L16)));
                let at = oy * plan.pitch + b * L16;
                for t in 0..TK {
                    let xv = L::load_masked(xp.as_ptr().add(taps[t] + at), mask);
                    for g in 0..G {
                        a[t][g] = xv.fma(gv[g], a[t][g]);
                    }
                }
            }
        }
    }
    for (t, row) in a.iter().enumerate() {
        for (g, v) in row.iter().enumerate() {
            let at = ((k0 + t) * o + o0 + g) * L16;
            let dst = &mut acc[at..at + L16];
            // SAFETY: dst has 16 values.
            unsafe { L::load(dst.as_ptr()).add(*v).store(dst.as_mut_ptr()) };
        }
    }
}

/// One image's taps for channels `o0..o0 + G`, `TK` taps at a time.
///
/// # Safety
/// The CPU has `L`'s instruction set (see [`Lanes::zero`]).
#[inline(always)]
unsafe fn filter_group<L: Lanes, const G: usize, const TK: usize>(
    plan: &Plan,
    xp: &[f32],
    gp: &[f32],
    taps: &[usize],
    o0: usize,
    acc: &mut [f32],
) {
    let real = plan.taps.len();
    for k0 in (0..real).step_by(TK) {
        filter_tile::<L, G, TK>(plan, xp, gp, &taps[k0..k0 + TK], k0, o0, acc);
    }
}

/// # Safety
/// The CPU has `L`'s instruction set (see [`Lanes::zero`]).
#[inline(always)]
pub(super) unsafe fn filter_with<L: Lanes>(plan: &Plan, x: &[f32], g: &[f32], dw: &mut [f32]) {
    let (o, k) = (plan.o, plan.taps.len());
    let zero_plane = plan.x[3] * plan.plane;
    let mut taps = plan.taps.clone();
    taps.extend([zero_plane; SPARE_TAPS]);
    let mut acc = vec![0.0f32; (k + SPARE_TAPS) * o * L16];
    let mut xp = vec![0.0f32; plan.planar_len()];
    let mut gp = vec![0.0f32; o * plan.oh * plan.blocks * L16];
    for image in 0..plan.x[0] {
        plan.planar::<L>(x, image, &mut xp);
        planar_grad::<L>(plan, g, image, &mut gp);
        // The next image arrives from memory while this one is computed.
        let (per_x, per_g) = (x.len() / plan.x[0], g.len() / plan.x[0]);
        L::prefetch(
            x.get((image + 1) * per_x..(image + 2) * per_x)
                .unwrap_or(&[]),
        );
        L::prefetch(
            g.get((image + 1) * per_g..(image + 2) * per_g)
                .unwrap_or(&[]),
        );
        for o0 in (0..o).step_by(GROUP) {
            let gs = (o - o0).min(GROUP);
            by_group!(
                gs,
                taps_for,
                filter_group::<L>(plan, &xp, &gp, &taps, o0, &mut acc)
            );
        }
    }
    // The sixteen lanes of each sum, pairwise.
    for (d, lanes) in dw.iter_mut().zip(acc.chunks_exact(L16)) {
        let mut v: [f32; 16] = std::array::from_fn(|l| lanes[l]);
        let mut width = L16 / 2;
        while width > 0 {
            for l in 0..width {
                v[l] += v[l + width];
            }
            width /= 2;
        }
        *d = v[0];
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn filter_avx512(plan: &Plan, x: &[f32], g: &[f32], dw: &mut [f32]) {
    // SAFETY: this function has the AVX-512F target feature.
    unsafe { filter_with::<Avx512>(plan, x, g, dw) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn filter_avx2(plan: &Plan, x: &[f32], g: &[f32], dw: &mut [f32]) {
    // SAFETY: this function has the AVX2 and FMA target features.
    unsafe { filter_with::<Avx2>(plan, x, g, dw) }
}

/// The filter gradient by the lanes of `isa`; `isa` must run on this CPU
/// (`isa::active()` always does).
pub(super) fn filter_by(isa: Isa, plan: &Plan, x: &[f32], g: &[f32], dw: &mut [f32]) {
    debug_assert!(isa.missing().is_empty());
    match isa {
        // SAFETY: `isa` runs here: the CPU has AVX-512F.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { filter_avx512(plan, x, g, dw) },
        // SAFETY: `isa` runs here: the CPU has AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { filter_avx2(plan, x, g, dw) },
        // SAFETY: the portable lanes are plain Rust.
        _ => unsafe { filter_with::<Portable>(plan, x, g, dw) },
    }
}

/// The filter gradient (lengths checked by the caller); `false` when it is not
/// a stride-1 convolution.
pub(in crate::kernels) fn backprop_filter(
    conv: &Conv,
    x: &[f32],
    g: &[f32],
    dw: &mut [f32],
) -> bool {
    if let Some(lay) = super::channels::Layout::new(conv) {
        super::channels::filter_by(isa::active(), &lay, x, g, dw);
        return true;
    }
    let Some(plan) = plan(conv) else {
        return false;
    };
    filter_by(isa::active(), &plan, x, g, dw);
    true
}
