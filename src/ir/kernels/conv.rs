//! `conv2d` (NHWC input, HWIO filter) and its two backward convolutions, on
//! row-major slices, as GEMMs over im2col columns. Used by the interpreter (and
//! so by the JIT's fallback) and meant for the optimiser's constant folding, so
//! a folded convolution is bit-identical to a computed one.
//!
//! The column matrix has one row per output position `(image, oy, ox)` and one
//! column per `(ky, kx, c)`, which is the row order of the HWIO filter seen as
//! `[KH*KW*C, O]`, so every product is a plain GEMM on views (transposes are
//! strides, never copies):
//! - forward: `out[rows, O] = col @ W`;
//! - filter: `dW[patch, O] = col^T @ g`, summed over chunks of images;
//! - input: `dcol = g @ W^T`, then each entry is added back to the input position
//!   it was read from (col2im); padding positions are dropped.
//!
//! Images go in chunks of about [`CHUNK_ROWS`] rows so the columns stay in cache.

use super::matmul::Product;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Rows of the column matrix per GEMM: enough for an efficient product, small
/// enough that the columns of a chunk stay in the L2 cache.
const CHUNK_ROWS: usize = 2048;

/// Element types a convolution is defined on: the matmul kernel's GEMM
/// (`Product::gemm`, so convolutions and matmuls sum alike) and an addition.
pub trait ConvElem: Product + Send + Sync {
    /// `self + other` (wrapping for integers).
    fn plus(self, other: Self) -> Self;

    /// The forward convolution by a direct kernel; `false` when this type or
    /// geometry has none (lengths are checked by the caller).
    fn direct_forward(_conv: &Conv, _x: &[Self], _w: &[Self], _out: &mut [Self]) -> bool {
        false
    }

    /// The input gradient by a direct kernel, as [`ConvElem::direct_forward`].
    fn direct_input(_conv: &Conv, _g: &[Self], _w: &[Self], _dx: &mut [Self]) -> bool {
        false
    }

    /// The filter gradient by a direct kernel, as [`ConvElem::direct_forward`].
    fn direct_filter(_conv: &Conv, _x: &[Self], _g: &[Self], _dw: &mut [Self]) -> bool {
        false
    }
}

/// f32 has direct kernels for stride-1 convolutions (`conv_direct.rs`).
impl ConvElem for f32 {
    fn plus(self, other: f32) -> f32 {
        self + other
    }

    fn direct_forward(conv: &Conv, x: &[f32], w: &[f32], out: &mut [f32]) -> bool {
        direct::conv2d(conv, x, w, out)
    }

    fn direct_input(conv: &Conv, g: &[f32], w: &[f32], dx: &mut [f32]) -> bool {
        direct::backprop_input(conv, g, w, dx)
    }

    fn direct_filter(conv: &Conv, x: &[f32], g: &[f32], dw: &mut [f32]) -> bool {
        direct::backprop_filter(conv, x, g, dw)
    }
}

impl ConvElem for f64 {
    fn plus(self, other: f64) -> f64 {
        self + other
    }
}

impl ConvElem for i32 {
    fn plus(self, other: i32) -> i32 {
        self.wrapping_add(other)
    }
}

/// `dst.copy_from_slice(src)` for the short runs of im2col (a window row, 15
/// or 18 values here): fixed-size pieces the compiler inlines as vector moves,
/// where a `memcpy` call per run cost more than the copying.
fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d8, s8) in (&mut d).zip(&mut s) {
        d8.copy_from_slice(s8);
    }
    let (mut d, mut s) = (
        d.into_remainder().chunks_exact_mut(4),
        s.remainder().chunks_exact(4),
    );
    for (d4, s4) in (&mut d).zip(&mut s) {
        d4.copy_from_slice(s4);
    }
    for (d1, s1) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d1 = *s1;
    }
}

/// The output length of a VALID window sweep over a (padded) length.
pub fn window_count(padded: usize, window: usize, stride: usize) -> usize {
    if padded < window || stride == 0 {
        0
    } else {
        (padded - window) / stride + 1
    }
}

/// The geometry of one convolution: input `x` NHWC, filter `w` HWIO, zero
/// padding `[top, bottom, left, right]`; the output is `out()` (NHWO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    x: [usize; 4],
    w: [usize; 4],
    strides: [usize; 2],
    pads: [usize; 4],
    out: [usize; 4],
}

impl Conv {
    /// Checks that the shapes fit (channels agree, strides positive, sizes do
    /// not overflow), so every index the kernels compute is in bounds.
    pub fn new(
        x: [usize; 4],
        w: [usize; 4],
        strides: [usize; 2],
        pads: [usize; 4],
    ) -> Result<Conv, String> {
        let [n, h, wd, c] = x;
        let [kh, kw, wc, o] = w;
        if wc != c || strides.contains(&0) {
            return Err(format!(
                "input {x:?} and filter {w:?} do not fit (strides {strides:?})"
            ));
        }
        let padded = |len: usize, a: usize, b: usize| len.checked_add(a)?.checked_add(b);
        let (Some(ph), Some(pw)) = (padded(h, pads[0], pads[1]), padded(wd, pads[2], pads[3]))
        else {
            return Err(format!("padding {pads:?} overflows"));
        };
        let out = [
            n,
            window_count(ph, kh, strides[0]),
            window_count(pw, kw, strides[1]),
            o,
        ];
        let sizes = [&x[..], &w[..], &out[..], &[out[1], out[2], kh, kw, c]];
        if sizes.iter().any(|dims| {
            dims.iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .is_none()
        }) {
            return Err(format!("input {x:?} and filter {w:?} are too large"));
        }
        Ok(Conv {
            x,
            w,
            strides,
            pads,
            out,
        })
    }

    /// The output shape `[N, OH, OW, O]`.
    pub fn out(&self) -> [usize; 4] {
        self.out
    }

    fn rows_per_image(&self) -> usize {
        self.out[1] * self.out[2]
    }

    fn patch(&self) -> usize {
        self.w[0] * self.w[1] * self.w[2]
    }

    /// Images per chunk (at least one).
    fn chunk(&self) -> usize {
        (CHUNK_ROWS / self.rows_per_image().max(1)).clamp(1, self.x[0].max(1))
    }

    /// The window positions of output index `o` along one axis that read the
    /// unpadded input: `(k_lo, k_hi, first input index)`.
    fn span(o: usize, stride: usize, pad: usize, len: usize, k: usize) -> (usize, usize, usize) {
        let start = o * stride; // padded coordinate of k = 0
        let lo = pad.saturating_sub(start).min(k);
        let hi = (pad + len).saturating_sub(start).min(k).max(lo);
        (lo, hi, (start + lo).saturating_sub(pad))
    }

    /// Calls `f(col_offset, x_offset, len)` for every contiguous run of the
    /// column rows of images `first..first + images` that reads the input;
    /// `col_offset` is relative to the chunk's column matrix.
    fn runs(&self, first: usize, images: usize, mut f: impl FnMut(usize, usize, usize)) {
        let [_, h, wd, c] = self.x;
        let [kh, kw, _, _] = self.w;
        let [_, oh, ow, _] = self.out;
        let (s, p, patch) = (self.strides, self.pads, self.patch());
        for image in 0..images {
            let x_image = (first + image) * h * wd * c;
            for oy in 0..oh {
                let (ky_lo, ky_hi, iy0) = Self::span(oy, s[0], p[0], h, kh);
                for ox in 0..ow {
                    let (kx_lo, kx_hi, ix0) = Self::span(ox, s[1], p[2], wd, kw);
                    if kx_lo == kx_hi {
                        continue;
                    }
                    let row = ((image * oh + oy) * ow + ox) * patch;
                    for (ky, iy) in (ky_lo..ky_hi).zip(iy0..) {
                        f(
                            row + (ky * kw + kx_lo) * c,
                            x_image + (iy * wd + ix0) * c,
                            (kx_hi - kx_lo) * c,
                        );
                    }
                }
            }
        }
    }

    /// True when no window reaches into the padding (every column entry is
    /// written by `runs`, so the columns need no zeroing).
    fn dense(&self) -> bool {
        let [_, h, wd, _] = self.x;
        let [_, oh, ow, _] = self.out;
        let (s, p) = (self.strides, self.pads);
        let fits = |o: usize, s: usize, pad: usize, len: usize, k: usize| {
            o == 0 || (pad == 0 && (o - 1) * s + k <= len)
        };
        fits(oh, s[0], p[0], h, self.w[0]) && fits(ow, s[1], p[2], wd, self.w[1])
    }

    /// The columns of `images` images from `first` into `col` (resized).
    fn im2col<T: ConvElem>(&self, x: &[T], first: usize, images: usize, col: &mut Vec<T>) {
        let len = images * self.rows_per_image() * self.patch();
        if self.dense() {
            col.resize(len, T::default());
        } else {
            col.clear();
            col.resize(len, T::default());
        }
        self.runs(first, images, |at, from, len| {
            copy_short(&mut col[at..at + len], &x[from..from + len]);
        });
    }

    fn check(&self, what: &str, got: usize, dims: [usize; 4]) -> Result<(), String> {
        let want: usize = dims.iter().product();
        if got == want {
            Ok(())
        } else {
            Err(format!("{what} has {got} values, not {want} ({dims:?})"))
        }
    }

    /// Processes the batch in chunks: `f(first image, images, chunk rows)`.
    fn chunks(&self, mut f: impl FnMut(usize, usize, usize)) {
        let chunk = self.chunk();
        let mut first = 0;
        while first < self.x[0] {
            let images = chunk.min(self.x[0] - first);
            f(first, images, images * self.rows_per_image());
            first += images;
        }
    }
}

/// Copies `t` (`[cols, rows]`, row-major) transposed into `out` (`[rows, cols]`),
/// adding to what is there when `add`.
fn transpose_into<T: ConvElem>(t: &[T], rows: usize, out: &mut [T], add: bool) {
    if rows == 0 {
        return;
    }
    let cols = t.len() / rows;
    for (c, column) in t.chunks_exact(rows).enumerate() {
        for (r, &v) in column.iter().enumerate() {
            let d = &mut out[r * cols + c];
            *d = if add { d.plus(v) } else { v };
        }
    }
}

// The products below write a scratch matrix whose long side (the rows of the
// batch, or the patch) is contiguous and transpose it into place afterwards: the
// GEMM vectorises along the destination's contiguous axis, and the channel axis
// (6 or 9 here) would leave most of a 16-lane vector empty.

/// The forward convolution: `out` (`conv.out()`) from `x` and `w`.
pub fn conv2d<T: ConvElem>(conv: &Conv, x: &[T], w: &[T], out: &mut [T]) -> Result<(), String> {
    conv.check("the input", x.len(), conv.x)?;
    conv.check("the filter", w.len(), conv.w)?;
    conv.check("the output", out.len(), conv.out)?;
    if T::direct_forward(conv, x, w, out) {
        return Ok(());
    }
    if conv.wide() && wide::conv2d(conv, x, w, out) {
        return Ok(());
    }
    let (patch, o) = (conv.patch(), conv.w[3]);
    let filter = ArrayView2::from_shape((patch, o), w).map_err(|e| e.to_string())?;
    let per_image = conv.rows_per_image() * o;
    let (mut col, mut t) = (Vec::new(), Vec::new());
    conv.chunks(|first, images, rows| {
        conv.im2col(x, first, images, &mut col);
        t.resize(rows * o, T::default());
        if let (Ok(a), Ok(c)) = (
            ArrayView2::from_shape((rows, patch), &col[..]),
            ArrayViewMut2::from_shape((o, rows), &mut t[..]),
        ) {
            T::gemm(a, filter, c.reversed_axes());
        }
        let part = &mut out[first * per_image..(first + images) * per_image];
        transpose_into(&t, rows, part, false);
    });
    Ok(())
}

/// The adjoint of the input: `dx` (`[N, H, W, C]`) from the output gradient
/// `g` and the filter `w`.
pub fn conv2d_backprop_input<T: ConvElem>(
    conv: &Conv,
    g: &[T],
    w: &[T],
    dx: &mut [T],
) -> Result<(), String> {
    conv.check("the gradient", g.len(), conv.out)?;
    conv.check("the filter", w.len(), conv.w)?;
    conv.check("the input gradient", dx.len(), conv.x)?;
    if T::direct_input(conv, g, w, dx) {
        return Ok(());
    }
    if conv.wide() && wide::backprop_input(conv, g, w, dx) {
        return Ok(());
    }
    dx.fill(T::default());
    let (patch, o) = (conv.patch(), conv.w[3]);
    let filter = ArrayView2::from_shape((patch, o), w).map_err(|e| e.to_string())?;
    let per_image = conv.rows_per_image() * o;
    let mut col = Vec::new();
    conv.chunks(|first, images, rows| {
        // The patch (54 or 75 here) is the contiguous axis of `dcol` already.
        col.resize(rows * patch, T::default());
        let part = &g[first * per_image..(first + images) * per_image];
        if let (Ok(a), Ok(c)) = (
            ArrayView2::from_shape((rows, o), part),
            ArrayViewMut2::from_shape((rows, patch), &mut col[..]),
        ) {
            T::gemm(a, filter.t(), c);
        }
        conv.runs(first, images, |at, to, len| {
            for (d, &v) in dx[to..to + len].iter_mut().zip(&col[at..at + len]) {
                *d = d.plus(v);
            }
        });
    });
    Ok(())
}

/// The adjoint of the filter: `dw` (`[KH, KW, C, O]`) from the input `x` and
/// the output gradient `g`.
pub fn conv2d_backprop_filter<T: ConvElem>(
    conv: &Conv,
    x: &[T],
    g: &[T],
    dw: &mut [T],
) -> Result<(), String> {
    conv.check("the input", x.len(), conv.x)?;
    conv.check("the gradient", g.len(), conv.out)?;
    conv.check("the filter gradient", dw.len(), conv.w)?;
    if T::direct_filter(conv, x, g, dw) {
        return Ok(());
    }
    if conv.wide() && wide::backprop_filter(conv, x, g, dw) {
        return Ok(());
    }
    dw.fill(T::default());
    let (patch, o) = (conv.patch(), conv.w[3]);
    let per_image = conv.rows_per_image() * o;
    let mut col = Vec::new();
    let mut t = vec![T::default(); o * patch];
    conv.chunks(|first, images, rows| {
        conv.im2col(x, first, images, &mut col);
        let part = &g[first * per_image..(first + images) * per_image];
        if let (Ok(a), Ok(b), Ok(c)) = (
            ArrayView2::from_shape((rows, patch), &col[..]),
            ArrayView2::from_shape((rows, o), part),
            ArrayViewMut2::from_shape((o, patch), &mut t[..]),
        ) {
            T::gemm(a.t(), b, c.reversed_axes());
        }
        transpose_into(&t, patch, dw, true);
    });
    Ok(())
}

#[path = "conv_wide.rs"]
mod wide;

#[path = "conv_direct.rs"]
mod direct;

#[cfg(test)]
#[path = "conv_tests.rs"]
mod tests;
