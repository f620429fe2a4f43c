//! Movement kernels: `reshape`, `transpose`, `concat`, `x[i]`, `pad`, `one_hot`.

use super::blocks::copy_block;
use super::{dispatch, expect_inputs, first_dtype, internal, numel, typed, Elem};
use crate::ir::{Node, Tensor};
use crate::syntax::Diag;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

/// Reshapes to the node's shape (row-major order, like NumPy's default).
pub(crate) fn reshape(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    fn kernel<T: Elem>(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
        let a = typed::<T>(node, inputs, 0)?;
        let dims = node.ty.shape.dims();
        if numel(node, dims)? != a.len() {
            return Err(internal(
                node,
                format!("cannot reshape {:?} to {dims:?}", a.shape()),
            ));
        }
        let values: Vec<T> = match a.as_slice() {
            Some(s) => s.to_vec(),
            None => a.iter().copied().collect(),
        };
        ArrayD::from_shape_vec(IxDyn(dims), values)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    }
    dispatch!(first_dtype(node, inputs)?, T => kernel::<T>(node, inputs))
}

/// Output axis `i` is input axis `perm[i]`.
pub(crate) fn transpose(node: &Node, perm: &[usize], inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    fn kernel<T: Elem>(node: &Node, perm: &[usize], inputs: &[&Tensor]) -> Result<Tensor, Diag> {
        let a = typed::<T>(node, inputs, 0)?;
        let mut seen = vec![false; a.ndim()];
        let valid = perm.len() == a.ndim()
            && perm
                .iter()
                .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(internal(
                node,
                format!(
                    "{perm:?} is not a permutation of the axes of {:?}",
                    a.shape()
                ),
            ));
        }
        if let (&[rows, cols], [1, 0], Some(values)) = (a.shape(), perm, a.as_slice()) {
            return ArrayD::from_shape_vec(IxDyn(&[cols, rows]), transpose_2d(values, rows, cols))
                .map(T::wrap)
                .map_err(|e| internal(node, e));
        }
        let view = a.view().permuted_axes(IxDyn(perm));
        Ok(T::wrap(view.as_standard_layout().into_owned()))
    }
    dispatch!(first_dtype(node, inputs)?, T => kernel::<T>(node, perm, inputs))
}

/// The transpose of a row-major `[rows, cols]` matrix: 8 x 8 blocks through a
/// fixed-size buffer (which the compiler keeps in registers), so reads and
/// writes are both 8 contiguous values; the ragged edges element by element.
fn transpose_2d<T: Copy + Default>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    const B: usize = 8;
    let mut out = vec![T::default(); a.len()];
    let (full_r, full_c) = (rows - rows % B, cols - cols % B);
    for r0 in (0..full_r).step_by(B) {
        for c0 in (0..full_c).step_by(B) {
            let mut t = [[T::default(); B]; B];
            for (i, row) in t.iter_mut().enumerate() {
                row.copy_from_slice(&a[(r0 + i) * cols + c0..][..B]);
            }
            for j in 0..B {
                let dst = &mut out[(c0 + j) * rows + r0..][..B];
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = t[i][j];
                }
            }
        }
    }
    let edge = (0..rows)
        .flat_map(|r| (full_c..cols).map(move |c| (r, c)))
        .chain((full_r..rows).flat_map(|r| (0..full_c).map(move |c| (r, c))));
    for (r, c) in edge {
        out[c * rows + r] = a[r * cols + c];
    }
    out
}

/// Joins the inputs along `axis`; every other axis must agree.
pub(crate) fn concat(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    fn kernel<T: Elem>(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
        let arrays = (0..inputs.len())
            .map(|k| typed::<T>(node, inputs, k))
            .collect::<Result<Vec<_>, _>>()?;
        let first = arrays
            .first()
            .ok_or_else(|| internal(node, "needs at least one input"))?;
        let rank = first.ndim();
        let compatible = axis < rank
            && arrays.iter().all(|a| {
                a.ndim() == rank
                    && (0..rank).all(|ax| ax == axis || a.shape()[ax] == first.shape()[ax])
            });
        if !compatible {
            let shapes: Vec<&[usize]> = arrays.iter().map(|a| a.shape()).collect();
            return Err(internal(
                node,
                format!("cannot join {shapes:?} along axis {axis}"),
            ));
        }
        let views: Vec<ArrayViewD<T>> = arrays.iter().map(|a| a.view()).collect();
        ndarray::concatenate(Axis(axis), &views)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    }
    dispatch!(first_dtype(node, inputs)?, T => kernel::<T>(node, axis, inputs))
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
    fn kernel<T: Elem>(node: &Node, inputs: &[&Tensor], i: i32) -> Result<Tensor, Diag> {
        let a = typed::<T>(node, inputs, 0)?;
        let size = *a
            .shape()
            .first()
            .ok_or_else(|| internal(node, "cannot index a scalar"))?;
        let resolved = if i < 0 {
            (size as i64) + i64::from(i)
        } else {
            i64::from(i)
        };
        if resolved < 0 || resolved >= size as i64 {
            return Err(Diag::error(
                format!("index {i} is out of range for axis 0 of size {size}"),
                node.span,
            ));
        }
        Ok(T::wrap(a.index_axis(Axis(0), resolved as usize).to_owned()))
    }
    dispatch!(first_dtype(node, inputs)?, T => kernel::<T>(node, inputs, i))
}

/// Pads each axis with `[before, after]` copies of `value` (converted to the dtype
/// like a cast: nonzero is `true` for bool).
pub(crate) fn pad(
    node: &Node,
    pads: &[[usize; 2]],
    value: f64,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    fn kernel<T: Elem>(
        node: &Node,
        pads: &[[usize; 2]],
        value: f64,
        inputs: &[&Tensor],
    ) -> Result<Tensor, Diag> {
        let a = typed::<T>(node, inputs, 0)?;
        if pads.len() != a.ndim() {
            return Err(internal(
                node,
                format!("{} pads for a rank-{} input", pads.len(), a.ndim()),
            ));
        }
        let dims = a
            .shape()
            .iter()
            .zip(pads)
            .map(|(&d, [before, after])| d.checked_add(*before)?.checked_add(*after))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| internal(node, "padded shape overflows"))?;
        let mut out = vec![T::from_f64(value); numel(node, &dims)?];
        let src = a.as_standard_layout();
        let at: Vec<usize> = pads.iter().map(|p| p[0]).collect();
        let origin = vec![0; dims.len()];
        let copied = src
            .as_slice()
            .is_some_and(|s| copy_block(s, a.shape(), &origin, &mut out, &dims, &at, a.shape()));
        if !copied {
            return Err(internal(node, "the input does not fit the padded shape"));
        }
        ArrayD::from_shape_vec(IxDyn(&dims), out)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    }
    dispatch!(first_dtype(node, inputs)?, T => kernel::<T>(node, pads, value, inputs))
}

/// `one_hot(labels, depth)`: the node's dtype, shape `labels.shape + [depth]`; a
/// label outside `0..depth` gives a row of zeros.
pub(crate) fn one_hot(node: &Node, depth: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let labels = typed::<i32>(node, inputs, 0)?;
    let mut dims = labels.shape().to_vec();
    dims.push(depth);
    let total = numel(node, &dims)?;
    fn kernel<T: Elem>(
        node: &Node,
        labels: &ArrayD<i32>,
        depth: usize,
        dims: &[usize],
        total: usize,
    ) -> Result<Tensor, Diag> {
        let mut values = vec![T::from_bool(false); total];
        for (row, &label) in labels.iter().enumerate() {
            if label >= 0 && (label as usize) < depth {
                values[row * depth + label as usize] = T::from_bool(true);
            }
        }
        ArrayD::from_shape_vec(IxDyn(dims), values)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    }
    dispatch!(node.ty.dtype, T => kernel::<T>(node, labels, depth, &dims, total))
}
