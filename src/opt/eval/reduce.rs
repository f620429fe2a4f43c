//! `sum`/`mean`/`max`/`min` through the interpreter's own kernel
//! (`ir::kernels::reduce`).

use crate::kernels::elem::{dispatch, Elem};
use crate::kernels::{self, reduce::Reducible};
use crate::ir::{DType, ReduceOp, Tensor};

pub(super) fn reduce(op: ReduceOp, axes: &[usize], keepdims: bool, x: &Tensor) -> Option<Tensor> {
    if x.dtype() == DType::Bool && matches!(op, ReduceOp::Sum | ReduceOp::Mean) {
        return None;
    }
    dispatch!(x.dtype(), T => reduce_typed::<T>(op, axes, keepdims, x))
}

fn reduce_typed<T: Elem + Reducible>(
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    x: &Tensor,
) -> Option<Tensor> {
    let out = kernels::reduce::reduce(T::array(x)?.view(), op, axes, keepdims).ok()?;
    Some(T::wrap(out))
}
