//! Gather-style movement: strided slices, `take`, mirror pads, and their
//! adjoints. Each op maps every output element to one input element through
//! per-axis coordinate maps: the forward op gathers along the map, its adjoint
//! adds the gradient back along the same map (into zeros), so repeated sources
//! (a repeated `take` index, a mirrored pad) add up.

use super::{dispatch, expect_inputs, first_dtype, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::scalar::Scalar;
use crate::ir::{BinaryOp, Node, Tensor};
use ndarray::{ArrayD, IxDyn};
use std::borrow::Cow;

/// The output in rows: the flat input offset of each output row (every axis
/// but the last, in row-major order) and the map of the last axis (a scalar
/// is one row of one element). Rows keep the offsets small and let a
/// contiguous last axis be copied as a slice.
fn rows(in_dims: &[usize], maps: &[Vec<usize>]) -> (Vec<usize>, Vec<usize>) {
    let Some((last, outer)) = maps.split_last() else {
        return (vec![0], vec![0]);
    };
    let mut strides = vec![1usize; in_dims.len()];
    for k in (0..in_dims.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * in_dims[k + 1];
    }
    let mut bases = vec![0usize];
    for (map, stride) in outer.iter().zip(&strides) {
        let mut next = Vec::with_capacity(bases.len() * map.len());
        for &base in &bases {
            next.extend(map.iter().map(|&c| base + c * stride));
        }
        bases = next;
    }
    (bases, last.clone())
}

/// Whether `map` is `[a, a + 1, a + 2, ...]`.
fn contiguous(map: &[usize]) -> bool {
    map.windows(2).all(|w| w[1] == w[0] + 1)
}

/// Checks that every coordinate of `maps` lies inside `in_dims` (so indexing
/// with the offsets cannot panic) and that the maps give `count` elements.
fn check_maps(
    node: &Node,
    in_dims: &[usize],
    maps: &[Vec<usize>],
    count: usize,
) -> Result<(), Diag> {
    let fits = maps.len() == in_dims.len()
        && maps
            .iter()
            .zip(in_dims)
            .all(|(m, &n)| m.iter().all(|&c| c < n));
    if !fits || maps.iter().map(Vec::len).product::<usize>() != count {
        return Err(internal(
            node,
            format!("cannot map {in_dims:?} to {}", node.ty),
        ));
    }
    Ok(())
}

/// Gathers input 0 along `maps` into the node's shape.
fn gather(node: &Node, maps: &[Vec<usize>], inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    dispatch!(first_dtype(node, inputs)?, T => {
        let a = typed::<T>(node, inputs, 0)?;
        check_maps(node, a.shape(), maps, node.ty.shape.dims().iter().product())?;
        let src = a.as_standard_layout();
        let Some(values) = src.as_slice() else {
            return Err(internal(node, "input is not contiguous"));
        };
        let (bases, inner) = rows(a.shape(), maps);
        let mut out: Vec<T> = Vec::with_capacity(bases.len() * inner.len());
        match inner.first() {
            Some(&first) if contiguous(&inner) => {
                for base in bases {
                    out.extend_from_slice(&values[base + first..base + first + inner.len()]);
                }
            }
            _ => {
                for base in bases {
                    out.extend(inner.iter().map(|&c| values[base + c]));
                }
            }
        }
        ArrayD::from_shape_vec(IxDyn(node.ty.shape.dims()), out)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    })
}

/// Adds input 0 (the gradient) into zeros of the node's type along `maps`.
fn scatter_add(node: &Node, maps: &[Vec<usize>], inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    dispatch!(node.ty.dtype, T => {
        let g = typed::<T>(node, inputs, 0)?;
        let dims = node.ty.shape.dims();
        check_maps(node, dims, maps, g.len())?;
        let src = g.as_standard_layout();
        let Some(values) = src.as_slice() else {
            return Err(internal(node, "gradient is not contiguous"));
        };
        let (bases, inner) = rows(dims, maps);
        let mut out = vec![T::default(); dims.iter().product()];
        if !inner.is_empty() {
            for (base, row) in bases.iter().zip(values.chunks_exact(inner.len())) {
                for (&c, &v) in inner.iter().zip(row) {
                    out[base + c] = T::binary(BinaryOp::Add, out[base + c], v);
                }
            }
        }
        ArrayD::from_shape_vec(IxDyn(dims), out)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    })
}

/// The coordinate maps of a strided slice: `starts[k] + j * steps[k]`.
pub(crate) fn strided_maps(
    node: &Node,
    starts: &[usize],
    sizes: &[usize],
    steps: &[i64],
) -> Result<Vec<Vec<usize>>, Diag> {
    if starts.len() != sizes.len() || steps.len() != sizes.len() {
        return Err(internal(node, "starts, sizes and steps differ in length"));
    }
    let mut maps = Vec::with_capacity(sizes.len());
    for k in 0..sizes.len() {
        let mut map = Vec::with_capacity(sizes[k]);
        for j in 0..sizes[k] {
            let c = starts[k] as i64 + j as i64 * steps[k];
            map.push(usize::try_from(c).map_err(|_| internal(node, "slice before 0"))?);
        }
        maps.push(map);
    }
    Ok(maps)
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
    gather(node, &strided_maps(node, starts, sizes, steps)?, inputs)
}

/// The adjoint of a strided slice: `g` written into zeros of the node's type.
pub(crate) fn strided_scatter(
    node: &Node,
    starts: &[usize],
    steps: &[i64],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let sizes = super::arg(node, inputs, 0)?.shape().to_vec();
    scatter_add(node, &strided_maps(node, starts, &sizes, steps)?, inputs)
}

/// The maps of `take` along `axis` of `dims`: every other axis whole;
/// `indices` (of dims `index_dims`, negative ones count from the end) along
/// `axis`. An index out of range is the user's run-time error, naming its
/// value and position.
pub(crate) fn take_maps(
    node: &Node,
    dims: &[usize],
    axis: usize,
    (indices, index_dims): (&[i32], &[usize]),
) -> Result<Vec<Vec<usize>>, Diag> {
    let Some(&size) = dims.get(axis) else {
        return Err(internal(node, format!("axis {axis} of {dims:?}")));
    };
    let mut map = Vec::with_capacity(indices.len());
    for (flat, &i) in indices.iter().enumerate() {
        let resolved = if i < 0 {
            size as i64 + i64::from(i)
        } else {
            i64::from(i)
        };
        if resolved < 0 || resolved >= size as i64 {
            let mut position = vec![0usize; index_dims.len()];
            let mut rest = flat;
            for k in (0..index_dims.len()).rev() {
                position[k] = rest % index_dims[k].max(1);
                rest /= index_dims[k].max(1);
            }
            return Err(Diag::error(
                format!(
                    "take: index {i} at position {position:?} is out of range for axis {axis} of size {size}"
                ),
                node.span,
            ));
        }
        map.push(resolved as usize);
    }
    Ok(dims
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            if k == axis {
                map.clone()
            } else {
                (0..n).collect()
            }
        })
        .collect())
}

/// The indices of `take` (input 1) in row-major order, and their dims.
fn indices<'a>(node: &Node, inputs: &[&'a Tensor]) -> Result<(Cow<'a, [i32]>, &'a [usize]), Diag> {
    let indices = super::arg(node, inputs, 1)?;
    let Tensor::I32(idx) = indices else {
        return Err(internal(
            node,
            format!("the indices are {}, not i32", indices.ty()),
        ));
    };
    let values = match idx.as_slice() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(idx.iter().copied().collect()),
    };
    Ok((values, idx.shape()))
}

/// `take(x, indices, axis)`: inputs `[x, indices: i32]`.
pub(crate) fn take(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    let x = super::arg(node, inputs, 0)?;
    let (idx, idx_dims) = indices(node, inputs)?;
    let maps = take_maps(node, x.shape(), axis, (&idx, idx_dims))?;
    gather(node, &maps, inputs)
}

/// The adjoint of `take` for `x`: inputs `[g, indices]`; the node's type is x's.
pub(crate) fn take_grad(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    let (idx, idx_dims) = indices(node, inputs)?;
    let maps = take_maps(node, node.ty.shape.dims(), axis, (&idx, idx_dims))?;
    scatter_add(node, &maps, inputs)
}

/// The source coordinate of every output coordinate of one mirror-padded axis
/// of size `n`; `None` when a pad is too wide for the mode.
pub(crate) fn mirror_map(
    n: usize,
    [before, after]: [usize; 2],
    symmetric: bool,
) -> Option<Vec<usize>> {
    if before == 0 && after == 0 {
        return Some((0..n).collect());
    }
    let limit = if symmetric { n } else { n.checked_sub(1)? };
    if before > limit || after > limit {
        return None;
    }
    let (n, b) = (n as i64, before as i64);
    let edge = i64::from(symmetric);
    let map = (0..n + b + after as i64)
        .map(|p| {
            let i = p - b;
            let i = if i < 0 {
                -i - edge
            } else if i >= n {
                2 * n - 2 + edge - i
            } else {
                i
            };
            i as usize
        })
        .collect();
    Some(map)
}

/// The maps of a mirror pad of an input of `dims`.
pub(crate) fn mirror_maps(
    node: &Node,
    dims: &[usize],
    pads: &[[usize; 2]],
    symmetric: bool,
) -> Result<Vec<Vec<usize>>, Diag> {
    if pads.len() != dims.len() {
        return Err(internal(
            node,
            format!("{} pads for rank {}", pads.len(), dims.len()),
        ));
    }
    dims.iter()
        .zip(pads)
        .map(|(&n, &p)| {
            mirror_map(n, p, symmetric)
                .ok_or_else(|| internal(node, format!("pad {p:?} is too wide for size {n}")))
        })
        .collect()
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
        &mirror_maps(node, x.shape(), pads, symmetric)?,
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
    let maps = mirror_maps(node, node.ty.shape.dims(), pads, symmetric)?;
    scatter_add(node, &maps, inputs)
}
