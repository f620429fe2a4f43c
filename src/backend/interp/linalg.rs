//! `matmul` (2-D and batched, with broadcast leading axes) and `conv2d`
//! (im2col, then one matrix product per group of images).
//!
//! Float products use the GEMM shared with the JIT (`ir::kernels::gemm`), so both
//! backends sum in the same order; results may differ from a naive loop in the
//! last bits, as any blocked GEMM does. `i32` products use a plain loop with
//! wrapping arithmetic.

use super::elementwise::broadcast_shapes;
use super::{expect_inputs, first_dtype, internal, numel, typed, Elem};
use crate::ir::kernels::gemm::matmul_into;
use crate::ir::{DType, Node, Tensor};
use crate::syntax::Diag;
use ndarray::{Array3, ArrayD, ArrayView2, ArrayViewMut2, Axis, Dimension, Ix2, IxDyn};

/// `c = a @ b` for one matrix each; shapes are checked by the caller.
pub(crate) trait Gemm: Elem {
    fn gemm(a: ArrayView2<Self>, b: ArrayView2<Self>, c: ArrayViewMut2<Self>);
}

macro_rules! float_gemm {
    ($t:ty) => {
        impl Gemm for $t {
            fn gemm(a: ArrayView2<$t>, b: ArrayView2<$t>, c: ArrayViewMut2<$t>) {
                // The caller checked the shapes, so this cannot refuse.
                let agreed = matmul_into(a, b, c);
                debug_assert!(agreed, "matmul shapes were checked by the caller");
            }
        }
    };
}

float_gemm!(f32);
float_gemm!(f64);

impl Gemm for i32 {
    fn gemm(a: ArrayView2<i32>, b: ArrayView2<i32>, mut c: ArrayViewMut2<i32>) {
        for ((i, j), out) in c.indexed_iter_mut() {
            *out = a
                .row(i)
                .iter()
                .zip(b.column(j))
                .fold(0i32, |acc, (&x, &y)| acc.wrapping_add(x.wrapping_mul(y)));
        }
    }
}

/// A 2-D view of `a` (rank 2), or an internal error.
fn as_matrix<'a, T>(node: &Node, a: ndarray::ArrayViewD<'a, T>) -> Result<ArrayView2<'a, T>, Diag> {
    a.into_dimensionality::<Ix2>()
        .map_err(|e| internal(node, e))
}

/// Runs `$f::<T>` for the dtypes that have a product (not `bool`).
macro_rules! dispatch_gemm {
    ($node:expr, $dtype:expr, $f:ident($($arg:expr),*)) => {
        match $dtype {
            DType::F32 => $f::<f32>($($arg),*),
            DType::F64 => $f::<f64>($($arg),*),
            DType::I32 => $f::<i32>($($arg),*),
            DType::Bool => Err(internal($node, "not defined on bool")),
        }
    };
}

/// `a @ b` with `a: [..., m, k]`, `b: [..., k, n]`; the leading axes broadcast.
pub(crate) fn matmul(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    dispatch_gemm!(node, first_dtype(node, inputs)?, matmul_impl(node, inputs))
}

fn matmul_impl<T: Gemm>(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    let a = typed::<T>(node, inputs, 0)?;
    let b = typed::<T>(node, inputs, 1)?;
    let (ra, rb) = (a.ndim(), b.ndim());
    if ra < 2 || rb < 2 || a.shape()[ra - 1] != b.shape()[rb - 2] {
        return Err(internal(
            node,
            format!("cannot multiply {:?} by {:?}", a.shape(), b.shape()),
        ));
    }
    let (m, k, n) = (a.shape()[ra - 2], a.shape()[ra - 1], b.shape()[rb - 1]);
    let batch = broadcast_shapes(node, &[&a.shape()[..ra - 2], &b.shape()[..rb - 2]])?;
    let count = numel(node, &batch)?;
    let with = |last: [usize; 2]| -> Vec<usize> { batch.iter().copied().chain(last).collect() };
    let a_full = a
        .broadcast(IxDyn(&with([m, k])))
        .ok_or_else(|| internal(node, "cannot broadcast the left operand"))?;
    let b_full = b
        .broadcast(IxDyn(&with([k, n])))
        .ok_or_else(|| internal(node, "cannot broadcast the right operand"))?;
    numel(node, &[count, m, n])?;
    let mut out = Array3::<T>::default((count, m, n));
    for (flat, index) in ndarray::indices(IxDyn(&batch)).into_iter().enumerate() {
        let mut av = a_full.view();
        let mut bv = b_full.view();
        for &i in index.slice() {
            av = av.index_axis_move(Axis(0), i);
            bv = bv.index_axis_move(Axis(0), i);
        }
        T::gemm(
            as_matrix(node, av)?,
            as_matrix(node, bv)?,
            out.index_axis_mut(Axis(0), flat),
        );
    }
    let out = out
        .into_shape_with_order(IxDyn(&with([m, n])))
        .map_err(|e| internal(node, e))?;
    Ok(T::wrap(out))
}

/// `conv2d`: `x: [N, H, W, C]`, `w: [KH, KW, C, O]`, `pads = [top, bottom, left,
/// right]` of zeros; output `[N, OH, OW, O]` with
/// `OH = (H + top + bottom - KH) / stride_h + 1` (0 when the window does not fit).
pub(crate) fn conv2d(
    node: &Node,
    strides: [usize; 2],
    pads: [usize; 4],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    dispatch_gemm!(
        node,
        first_dtype(node, inputs)?,
        conv2d_impl(node, strides, pads, inputs)
    )
}

/// The output length of a VALID window sweep over a (padded) length.
pub(crate) fn window_count(padded: usize, window: usize, stride: usize) -> usize {
    if padded < window {
        0
    } else {
        (padded - window) / stride + 1
    }
}

fn conv2d_impl<T: Gemm>(
    node: &Node,
    strides: [usize; 2],
    pads: [usize; 4],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    let x = typed::<T>(node, inputs, 0)?;
    let w = typed::<T>(node, inputs, 1)?;
    let (&[n, h, wd, c], &[kh, kw, wc, o]) = (x.shape(), w.shape()) else {
        return Err(internal(
            node,
            format!(
                "expected NHWC and HWIO, got {:?} and {:?}",
                x.shape(),
                w.shape()
            ),
        ));
    };
    if wc != c || strides.contains(&0) {
        return Err(internal(
            node,
            format!(
                "input {:?} and filter {:?} do not fit (strides {strides:?})",
                x.shape(),
                w.shape()
            ),
        ));
    }
    let [sh, sw] = strides;
    let [top, bottom, left, right] = pads;
    let oh = window_count(h.saturating_add(top).saturating_add(bottom), kh, sh);
    let ow = window_count(wd.saturating_add(left).saturating_add(right), kw, sw);
    let patch = numel(node, &[kh, kw, c])?;
    let rows_per_image = oh * ow;
    numel(node, &[n, rows_per_image, o.max(patch)])?;
    let mut out = ArrayD::<T>::default(IxDyn(&[n, oh, ow, o]));
    if out.is_empty() {
        return Ok(T::wrap(out));
    }
    let xs = x
        .as_slice()
        .ok_or_else(|| internal(node, "input is not contiguous"))?;
    let filter = w
        .view()
        .into_shape_with_order((patch, o))
        .map_err(|e| internal(node, e))?;
    let out_rows = out
        .as_slice_mut()
        .ok_or_else(|| internal(node, "output is not contiguous"))?;
    // Images per GEMM: enough rows to keep the product efficient, bounded memory.
    let images_per_chunk = (4096 / rows_per_image.max(1)).clamp(1, n);
    let mut col: Vec<T> = Vec::new();
    for (chunk, out_chunk) in out_rows
        .chunks_mut(images_per_chunk * rows_per_image * o)
        .enumerate()
    {
        let first = chunk * images_per_chunk;
        let images = out_chunk.len() / (rows_per_image * o);
        col.clear();
        col.resize(images * rows_per_image * patch, T::default());
        // im2col: row (image, oy, ox) holds the window, in (ky, kx, channel) order,
        // which is the row order of the HWIO filter seen as [KH*KW*C, O].
        for image in 0..images {
            let x_image = &xs[(first + image) * h * wd * c..][..h * wd * c];
            for oy in 0..oh {
                for ox in 0..ow {
                    let row = (image * rows_per_image + oy * ow + ox) * patch;
                    for ky in 0..kh {
                        let Some(iy) = (oy * sh + ky).checked_sub(top).filter(|&iy| iy < h) else {
                            continue;
                        };
                        for kx in 0..kw {
                            let Some(ix) = (ox * sw + kx).checked_sub(left).filter(|&ix| ix < wd)
                            else {
                                continue;
                            };
                            let src = &x_image[(iy * wd + ix) * c..][..c];
                            col[row + (ky * kw + kx) * c..][..c].copy_from_slice(src);
                        }
                    }
                }
            }
        }
        let col = ArrayView2::from_shape((images * rows_per_image, patch), &col)
            .map_err(|e| internal(node, e))?;
        let dest = ArrayViewMut2::from_shape((images * rows_per_image, o), out_chunk)
            .map_err(|e| internal(node, e))?;
        T::gemm(col, filter.view(), dest);
    }
    Ok(T::wrap(out))
}
