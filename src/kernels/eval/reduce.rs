//! Reductions: `sum`, `mean`, `max`, `min` over sorted axes (the shared kernel
//! `kernels::reduce`, whose header lists the choices), and `argmax`: the first
//! index of the maximum; a NaN counts as the maximum (first NaN wins, like
//! `np.argmax`); an empty axis gives index 0.

use super::{dispatch, expect_inputs, first_dtype, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::{DType, Node, ReduceOp, Tensor};
use ndarray::ArrayD;

use crate::kernels::{self, reduce::Reducible};

pub(crate) fn reduce(
    node: &Node,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let dtype = first_dtype(node, inputs)?;
    if dtype == DType::Bool && matches!(op, ReduceOp::Sum | ReduceOp::Mean) {
        return Err(internal(node, "not defined on bool"));
    }
    dispatch!(dtype, T => reduce_typed::<T>(node, op, axes, keepdims, typed::<T>(node, inputs, 0)?))
}

fn reduce_typed<T: Elem + Reducible>(
    node: &Node,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    a: &ArrayD<T>,
) -> Result<Tensor, Diag> {
    let out =
        kernels::reduce::reduce(a.view(), op, axes, keepdims).map_err(|m| internal(node, m))?;
    Ok(T::wrap(out))
}

pub(crate) fn argmax(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    dispatch!(first_dtype(node, inputs)?, T => {
        let a = typed::<T>(node, inputs, 0)?;
        kernels::reduce::argmax(a.view(), axis)
            .map(Tensor::I32)
            .map_err(|m| internal(node, m))
    })
}
