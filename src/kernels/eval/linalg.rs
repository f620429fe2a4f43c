//! `matmul` (2-D and batched, with broadcast leading axes) through
//! `kernels::matmul`, shared with constant folding: float products on the GEMM the
//! JIT uses too (`docs/kernels.md`), `i32` ones a wrapping loop. `conv2d` is in `conv.rs`.

use super::{expect_inputs, first_dtype, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::{DType, Node, Tensor};
use crate::kernels;
use crate::kernels::matmul::Product;

/// An interpreter element type with a matrix product (`kernels::matmul`).
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
