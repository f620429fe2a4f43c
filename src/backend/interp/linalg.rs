//! `matmul` (2-D and batched, with broadcast leading axes) and `conv2d`
//! (im2col, then one matrix product per group of images).
//!
//! `matmul` is `ir::kernels::matmul` (shared with constant folding). Float
//! products use the GEMM shared with the JIT (`ir::kernels::gemm`), so both
//! backends sum in the same order; results may differ from a naive loop in the
//! last bits, as any blocked GEMM does. `i32` products use a plain loop with
//! wrapping arithmetic.

use super::{expect_inputs, first_dtype, internal, numel, typed, Elem};
use crate::ir::kernels;
use crate::ir::kernels::matmul::Product;
use crate::ir::{DType, Node, Tensor};
use crate::syntax::Diag;
use ndarray::{ArrayD, ArrayView2, ArrayViewMut2, IxDyn};

/// An interpreter element type with a matrix product (`ir::kernels::matmul`).
pub(crate) trait Gemm: Elem + Product {}

impl<T: Elem + Product> Gemm for T {}

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
    let out = kernels::matmul::matmul(a.view(), b.view()).map_err(|e| internal(node, e))?;
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
