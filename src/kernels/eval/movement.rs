//! Movement kernels: `reshape`, `transpose`, `concat`, `x[i]`, `pad`, `one_hot`,
//! through the shared `kernels::movement` (constant folding calls it too).

use super::{dispatch, expect_inputs, first_dtype, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::{Node, Tensor};
use crate::kernels::movement;
use ndarray::Axis;

/// Reshapes to the node's shape (row-major order, like NumPy's default).
pub(crate) fn reshape(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    dispatch!(first_dtype(node, inputs)?, T => {
        let a = typed::<T>(node, inputs, 0)?;
        movement::reshape(a, node.ty.shape.dims())
            .map(T::wrap)
            .map_err(|m| internal(node, m))
    })
}

/// Output axis `i` is input axis `perm[i]`.
pub(crate) fn transpose(node: &Node, perm: &[usize], inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    dispatch!(first_dtype(node, inputs)?, T => {
        let a = typed::<T>(node, inputs, 0)?;
        movement::transpose(a, perm)
            .map(T::wrap)
            .map_err(|m| internal(node, m))
    })
}

/// Joins the inputs along `axis`; every other axis must agree.
pub(crate) fn concat(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    dispatch!(first_dtype(node, inputs)?, T => {
        let arrays = (0..inputs.len())
            .map(|k| typed::<T>(node, inputs, k))
            .collect::<Result<Vec<_>, _>>()?;
        movement::concat(&arrays, axis)
            .map(T::wrap)
            .map_err(|m| internal(node, m))
    })
}

/// `x[i]` along axis 0: inputs `[x, i: i32[]]`; a negative `i` counts from the end.
/// An index out of range is the user's run-time error, reported at the node.
pub(crate) fn index(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    let i = typed::<i32>(node, inputs, 1)?;
    if i.ndim() != 0 {
        return Err(internal(
            node,
            format!("the index has shape {:?}, not []", i.shape()),
        ));
    }
    let i = i
        .iter()
        .next()
        .copied()
        .ok_or_else(|| internal(node, "empty index"))?;
    dispatch!(first_dtype(node, inputs)?, T => {
        let a = typed::<T>(node, inputs, 0)?;
        let size = *a
            .shape()
            .first()
            .ok_or_else(|| internal(node, "cannot index a scalar"))?;
        let row = movement::resolve_index(i, size).map_err(|m| Diag::error(m, node.span))?;
        Ok(T::wrap(a.index_axis(Axis(0), row).to_owned()))
    })
}

/// `one_hot(labels, depth)`: the node's dtype, shape `labels.shape + [depth]`; a
/// label outside `0..depth` gives a row of zeros.
pub(crate) fn one_hot(node: &Node, depth: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let labels = typed::<i32>(node, inputs, 0)?;
    dispatch!(node.ty.dtype, T => {
        movement::one_hot::<T>(labels, depth)
            .map(T::wrap)
            .map_err(|m| internal(node, m))
    })
}
