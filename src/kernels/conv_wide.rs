//! Implicit GEMM for dense stride-1 convolutions (no zero padding: the
//! `pad` op before a VALID `conv2d`, as in the convnet), so no im2col copy.
//!
//! Number the input positions of a chunk of images `r = (image*H + y)*W + x`.
//! For a fixed window row `ky`, the `KW*C` values a window at `r` reads are
//! contiguous at `(r + ky*W)*C`, so all windows form one matrix view with row
//! stride `C` (rows overlap) and column stride 1. Every `r` is a "wide" row; those
//! whose window would leave the image (`y >= OH` or `x >= OW`) are computed and
//! dropped (forward) or multiplied by zero rows of the gradient (filter). The
//! products run once per `ky` on these views.
//!
//! The input gradient of such a convolution is itself one: the "full"
//! correlation of the gradient, zero-padded by `K-1` on each side, with the
//! filter flipped in space and with its channel axes swapped.

use super::{Conv, ConvElem};
use ndarray::{s, ArrayView2, ArrayViewMut2, ShapeBuilder};

impl Conv {
    /// The implicit GEMM applies: stride 1, no padding, nothing empty.
    pub(super) fn wide(&self) -> bool {
        let empty = [self.x, self.w, self.out].iter().any(|d| d.contains(&0));
        self.strides == [1, 1] && self.pads == [0; 4] && !empty && self.dense()
    }

    /// The wide rows of `images` images: up to the last valid output position.
    fn wide_rows(&self, images: usize) -> usize {
        let [_, h, wd, _] = self.x;
        let [_, oh, ow, _] = self.out;
        (images - 1) * h * wd + (oh - 1) * wd + ow
    }

    /// The windows' row `ky` of a chunk (`x` starts at its first image) as an
    /// `[rows, KW*C]` view; `None` when ndarray refuses the overlapping strides.
    fn window_rows<'a, T>(&self, x: &'a [T], ky: usize, rows: usize) -> Option<ArrayView2<'a, T>> {
        let [_, _, wd, c] = self.x;
        let start = ky * wd * c;
        ArrayView2::from_shape((rows, self.w[1] * c).strides((c, 1)), x.get(start..)?).ok()
    }

    /// `f(wide row, dense row)` for every output position of `images` images,
    /// counted from the chunk's start.
    fn valid_rows(&self, images: usize, mut f: impl FnMut(usize, usize)) {
        let [_, h, wd, _] = self.x;
        let [_, oh, ow, _] = self.out;
        for image in 0..images {
            for oy in 0..oh {
                let (wide, dense) = ((image * h + oy) * wd, (image * oh + oy) * ow);
                for ox in 0..ow {
                    f(wide + ox, dense + ox);
                }
            }
        }
    }
}

/// The forward convolution by implicit GEMM; `false` when the views cannot be
/// made (`out` is then incomplete: the caller computes it another way).
/// Lengths were checked by the caller.
pub(super) fn conv2d<T: ConvElem>(conv: &Conv, x: &[T], w: &[T], out: &mut [T]) -> bool {
    let (probe_rows, [kh, kw, c, o]) = (conv.wide_rows(conv.chunk()), conv.w);
    if conv.window_rows(x, kh - 1, probe_rows).is_none() {
        return false;
    }
    let (run, per_x, per_out) = (kw * c, conv.x[1] * conv.x[2] * c, conv.rows_per_image() * o);
    let Ok(filter) = ArrayView2::from_shape((kh * run, o), w) else {
        return false;
    };
    let (mut t, mut part, mut made) = (Vec::new(), Vec::new(), true);
    conv.chunks(|first, images, _| {
        let rows = conv.wide_rows(images);
        let xs = &x[first * per_x..(first + images) * per_x];
        t.resize(o * rows, T::default());
        part.resize(o * rows, T::default());
        for ky in 0..kh {
            let dst = if ky == 0 { &mut t } else { &mut part };
            let (Some(a), Ok(c)) = (
                conv.window_rows(xs, ky, rows),
                ArrayViewMut2::from_shape((o, rows), &mut dst[..]),
            ) else {
                made = false;
                continue;
            };
            T::gemm(
                a,
                filter.slice(s![ky * run..(ky + 1) * run, ..]),
                c.reversed_axes(),
            );
            if ky > 0 {
                for (d, &v) in t.iter_mut().zip(&part) {
                    *d = d.plus(v);
                }
            }
        }
        let dest = &mut out[first * per_out..(first + images) * per_out];
        conv.valid_rows(images, |wide, dense| {
            for (oc, d) in dest[dense * o..(dense + 1) * o].iter_mut().enumerate() {
                *d = t[oc * rows + wide];
            }
        });
    });
    // The views were proved in bounds by the probe, so `made` stays true; if
    // not, the caller recomputes everything on the im2col path.
    made
}

/// The filter gradient by implicit GEMM into `dw`; `false` when the views
/// cannot be made (as for [`conv2d`]).
pub(super) fn backprop_filter<T: ConvElem>(conv: &Conv, x: &[T], g: &[T], dw: &mut [T]) -> bool {
    let (probe_rows, [kh, kw, c, o]) = (conv.wide_rows(conv.chunk()), conv.w);
    if conv.window_rows(x, kh - 1, probe_rows).is_none() {
        return false;
    }
    let (run, per_x, per_g) = (kw * c, conv.x[1] * conv.x[2] * c, conv.rows_per_image() * o);
    let (mut g_wide, mut t, mut made) = (Vec::new(), vec![T::default(); o * run], true);
    dw.fill(T::default());
    conv.chunks(|first, images, _| {
        let rows = conv.wide_rows(images);
        let xs = &x[first * per_x..(first + images) * per_x];
        let gs = &g[first * per_g..(first + images) * per_g];
        // The gradient on the wide rows: zero where the window leaves the image.
        g_wide.clear();
        g_wide.resize(rows * o, T::default());
        conv.valid_rows(images, |wide, dense| {
            g_wide[wide * o..(wide + 1) * o].copy_from_slice(&gs[dense * o..(dense + 1) * o]);
        });
        for ky in 0..kh {
            let (Some(a), Ok(b), Ok(dst)) = (
                conv.window_rows(xs, ky, rows),
                ArrayView2::from_shape((rows, o), &g_wide[..]),
                ArrayViewMut2::from_shape((o, run), &mut t[..]),
            ) else {
                made = false;
                continue;
            };
            T::gemm(a.t(), b, dst.reversed_axes());
            for (oc, column) in t.chunks_exact(run).enumerate() {
                for (j, &v) in column.iter().enumerate() {
                    let d = &mut dw[(ky * run + j) * o + oc];
                    *d = d.plus(v);
                }
            }
        }
    });
    // The views were proved in bounds by the probe, so `made` stays true; if
    // not, the caller recomputes everything on the im2col path.
    made
}

/// The input gradient by implicit GEMM, as a forward convolution of the padded
/// gradient with the flipped filter; `false` when not possible.
pub(super) fn backprop_input<T: ConvElem>(conv: &Conv, g: &[T], w: &[T], dx: &mut [T]) -> bool {
    let ([n, h, wd, c], [kh, kw, _, o], [_, oh, ow, _]) = (conv.x, conv.w, conv.out);
    let (ph, pw) = (oh + 2 * (kh - 1), ow + 2 * (kw - 1));
    let Ok(full) = Conv::new([n, ph, pw, o], [kh, kw, o, c], [1, 1], [0; 4]) else {
        return false;
    };
    if full.out != [n, h, wd, c] || !full.wide() {
        return false;
    }
    let mut padded = vec![T::default(); n * ph * pw * o];
    for image in 0..n {
        for oy in 0..oh {
            let from = ((image * oh + oy) * ow) * o;
            let to = ((image * ph + oy + kh - 1) * pw + kw - 1) * o;
            padded[to..to + ow * o].copy_from_slice(&g[from..from + ow * o]);
        }
    }
    let mut flipped = vec![T::default(); w.len()];
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
    conv2d(&full, &padded, &flipped, dx)
}
