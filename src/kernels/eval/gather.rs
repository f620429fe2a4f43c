//! Gather-style movement on tensors: strided and static slices, constant and
//! mirror pads, `take`, and their adjoints, through the shared maps
//! (`kernels::gather_maps`) and kernel (`kernels::gather`): the forward op
//! gathers along the maps, its adjoint adds the gradient back along them
//! into zeros (so repeated sources add up); the adjoint of a strided slice
//! gathers along the inverse maps.

use super::{dispatch, expect_inputs, first_dtype, internal, row_major, Elem};
use crate::diag::Diag;
use crate::ir::scalar::Scalar;
use crate::ir::{Node, Tensor};
use crate::kernels::gather::Gather;
use crate::kernels::gather_maps as maps;
use ndarray::{ArrayD, IxDyn};
use std::borrow::Cow;

type Maps = Vec<Vec<usize>>;

/// Gathers input 0 along `maps` into the node's type: `fill` (converted like
/// a cast) where a map says `FILL`, `0 + x` with `plus_zero`.
fn gather(
    node: &Node,
    maps: Result<Maps, String>,
    fill: f64,
    plus_zero: bool,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    let fail = |m: String| internal(node, m);
    let dims = super::arg(node, inputs, 0)?.shape();
    let g = Gather::new(dims, maps.map_err(fail)?, true).map_err(fail)?;
    let out_dims = node.ty.shape.dims();
    if g.len() != out_dims.iter().product::<usize>() {
        return Err(internal(
            node,
            format!("cannot map {dims:?} to {}", node.ty),
        ));
    }
    dispatch!(first_dtype(node, inputs)?, T => {
        let mut out = vec![T::default(); g.len()];
        g.rows(&row_major::<T>(node, inputs, 0)?.0, T::from_f64(fill), plus_zero, 0, &mut out)
            .map_err(fail)?;
        ArrayD::from_shape_vec(IxDyn(out_dims), out)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    })
}

/// Adds input 0 (the gradient) into zeros of the node's type along `maps`.
fn scatter_add(
    node: &Node,
    maps: Result<Maps, String>,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    let fail = |m: String| internal(node, m);
    let dims = node.ty.shape.dims();
    let k = Gather::new(dims, maps.map_err(fail)?, false).map_err(fail)?;
    dispatch!(node.ty.dtype, T => {
        let mut out = vec![T::default(); k.input_len()];
        k.scatter_add(&row_major::<T>(node, inputs, 0)?.0, &mut out).map_err(fail)?;
        ArrayD::from_shape_vec(IxDyn(dims), out)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    })
}

/// `x[starts : .. : steps]` with every axis kept.
pub(crate) fn strided_slice(
    node: &Node,
    starts: &[usize],
    sizes: &[usize],
    steps: &[i64],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    gather(
        node,
        maps::strided_maps(starts, sizes, steps),
        0.0,
        false,
        inputs,
    )
}

/// The adjoint of a strided slice: `g` written into zeros of the node's type.
pub(crate) fn strided_scatter(
    node: &Node,
    starts: &[usize],
    steps: &[i64],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let sizes = super::arg(node, inputs, 0)?.shape();
    let maps = maps::strided_maps(starts, sizes, steps)
        .and_then(|m| maps::inverse_maps(node.ty.shape.dims(), &m));
    gather(node, maps, 0.0, true, inputs)
}

/// A static slice at `starts` of the node's extents (the adjoint of `pad`).
pub(crate) fn slice(node: &Node, starts: &[usize], inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let maps = maps::slice_maps(starts, node.ty.shape.dims());
    gather(node, maps, 0.0, false, inputs)
}

/// Pads each axis with `[before, after]` copies of `value` (converted to the
/// dtype like a cast: nonzero is `true` for bool).
pub(crate) fn pad(
    node: &Node,
    pads: &[[usize; 2]],
    value: f64,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let x = super::arg(node, inputs, 0)?;
    gather(node, maps::pad_maps(x.shape(), pads), value, false, inputs)
}

/// The indices of `take` (input 1) in row-major order, and their dims.
fn indices<'a>(node: &Node, inputs: &[&'a Tensor]) -> Result<(Cow<'a, [i32]>, &'a [usize]), Diag> {
    row_major::<i32>(node, inputs, 1)
}

/// `take(x, indices, axis)`: inputs `[x, indices: i32]`.
pub(crate) fn take(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    let x = super::arg(node, inputs, 0)?;
    let (idx, idx_dims) = indices(node, inputs)?;
    let maps = maps::take_maps(x.shape(), axis, (&idx, idx_dims))
        .map_err(|f| f.at(node, "interpreter"))?;
    gather(node, Ok(maps), 0.0, false, inputs)
}

/// The adjoint of `take` for `x`: inputs `[g, indices]`; the node's type is x's.
pub(crate) fn take_grad(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    let (idx, idx_dims) = indices(node, inputs)?;
    let maps = maps::take_maps(node.ty.shape.dims(), axis, (&idx, idx_dims))
        .map_err(|f| f.at(node, "interpreter"))?;
    scatter_add(node, Ok(maps), inputs)
}

/// `pad(x, pads, mode="REFLECT" | "SYMMETRIC")`.
pub(crate) fn mirror_pad(
    node: &Node,
    pads: &[[usize; 2]],
    symmetric: bool,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let x = super::arg(node, inputs, 0)?;
    gather(
        node,
        maps::mirror_maps(x.shape(), pads, symmetric),
        0.0,
        false,
        inputs,
    )
}

/// The adjoint of a mirror pad: the gradient folded back onto x's type.
pub(crate) fn mirror_pad_grad(
    node: &Node,
    pads: &[[usize; 2]],
    symmetric: bool,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let maps = maps::mirror_maps(node.ty.shape.dims(), pads, symmetric);
    scatter_add(node, maps, inputs)
}
