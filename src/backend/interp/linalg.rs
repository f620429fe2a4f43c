//! `matmul` (2-D and batched, with broadcast leading axes); `conv2d` is in
//! `conv.rs`.
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
use ndarray::{Array3, ArrayView2, ArrayViewMut2, Axis, Dimension, Ix2, IxDyn};

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
