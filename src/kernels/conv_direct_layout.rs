//! The plan of a direct convolution: the planar image layout (one zero-padded
//! plane per channel, rows of `pitch` values), the filter taps' offsets in it
//! and the copy of an NHWC image into it.

use super::{Conv, Lanes, L16};

/// The geometry of a stride-1 convolution on planar images.
pub(super) struct Plan {
    pub(super) x: [usize; 4],
    pub(super) pads: [usize; 2],
    pub(super) kh: usize,
    pub(super) o: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
    /// Vectors per output row.
    pub(super) blocks: usize,
    /// Values per planar row: every vector of a row plus `kw - 1` stays inside.
    pub(super) pitch: usize,
    /// Values per planar channel.
    pub(super) plane: usize,
    /// Offset of each filter tap `(ky, kx, c)` in the planar image.
    pub(super) taps: Vec<usize>,
}

impl Plan {
    pub(super) fn new(conv: &Conv) -> Option<Plan> {
        let empty = [conv.x, conv.w, conv.out].iter().any(|d| d.contains(&0));
        if conv.strides != [1, 1] || empty {
            return None;
        }
        let ([_, h, _, c], [kh, kw, _, o], [_, oh, ow, _]) = (conv.x, conv.w, conv.out);
        // Gather indices (`l * c`, `l * o`, l < 16) are i32.
        if c.max(o) > i32::MAX as usize / L16 {
            return None;
        }
        let blocks = ow.div_ceil(L16);
        let pitch = blocks * L16 + kw - 1;
        let padded_h = h + conv.pads[0] + conv.pads[1];
        let plane = padded_h.checked_mul(pitch)?;
        // Every planar index below (c + 1) * plane must fit an isize.
        (c + 1)
            .checked_mul(plane)
            .filter(|&n| n <= isize::MAX as usize / 4)?;
        let mut taps = Vec::with_capacity(kh * kw * c);
        for ky in 0..kh {
            for kx in 0..kw {
                taps.extend((0..c).map(|ci| ci * plane + ky * pitch + kx));
            }
        }
        Some(Plan {
            x: conv.x,
            pads: [conv.pads[0], conv.pads[2]],
            kh,
            o,
            oh,
            ow,
            blocks,
            pitch,
            plane,
            taps,
        })
    }

    /// Length of a planar image: the channels and one zero plane more.
    pub(super) fn planar_len(&self) -> usize {
        (self.x[3] + 1) * self.plane
    }

    /// Lanes of the last vector of a row that are output positions.
    pub(super) fn tail_mask(&self) -> u16 {
        let tail = self.ow - (self.blocks - 1) * L16;
        (((1u32 << tail) - 1) & 0xffff) as u16
    }

    /// Copies image `image` of `x` (NHWC, checked length) into `xp` (length
    /// `planar_len`), zeros around it and in the last plane.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set (see [`Lanes::zero`]).
    #[inline(always)]
    pub(super) unsafe fn planar<L: Lanes>(&self, x: &[f32], image: usize, xp: &mut [f32]) {
        let [_, h, wd, c] = self.x;
        let [top, left] = self.pads;
        let x = &x[image * h * wd * c..(image + 1) * h * wd * c];
        let stride: [i32; 16] = std::array::from_fn(|l| (l * c) as i32);
        let whole = wd / L16 * L16;
        xp.fill(0.0);
        // Each input row once from memory, then its channels from L1.
        for iy in 0..h {
            for ci in 0..c {
                let start = ci * self.plane + (iy + top) * self.pitch + left;
                let row = &mut xp[start..start + wd];
                let src = &x[iy * wd * c + ci..];
                for ix in (0..whole).step_by(L16) {
                    // SAFETY: lanes read `src[(ix + l) * c]`, l < 16, and
                    // ix + 16 <= wd, inside this image row; the store writes
                    // row[ix..ix + 16] with ix + 16 <= wd = row.len().
                    unsafe {
                        L::gather(src.as_ptr().add(ix * c), &stride)
                            .store(row.as_mut_ptr().add(ix));
                    }
                }
                for (ix, d) in row.iter_mut().enumerate().skip(whole) {
                    *d = src[ix * c];
                }
            }
        }
    }
}
