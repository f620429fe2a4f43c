//! `conv2d` (NHWC input, HWIO filter) and its two backward convolutions, on
//! row-major slices, as GEMMs over im2col columns. Used by the interpreter (and
//! so by the JIT's fallback) and by constant folding, so a folded convolution
//! is bit-identical to a computed one.
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
//! Images go in chunks of about `CHUNK_ROWS` column rows (`conv_geometry.rs`)
//! so the columns stay in cache.

use super::matmul::Product;
use ndarray::{ArrayView2, ArrayViewMut2};

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

#[path = "conv_geometry.rs"]
mod geometry;
pub use geometry::{window_count, Conv};

#[path = "conv_wide.rs"]
mod wide;

#[path = "conv_direct.rs"]
mod direct;

#[cfg(test)]
#[path = "conv_tests.rs"]
mod tests;
