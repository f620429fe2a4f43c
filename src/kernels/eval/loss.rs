//! Loss kernels on tensors (`sparse_softmax_cross_entropy`,
//! `sigmoid_cross_entropy`, `sparse_softmax_grad`) through `kernels::loss`; a
//! label out of range is the user's run-time error at the node, naming the row.

use super::{dispatch_float, expect_inputs, first_dtype, internal, row_major, Elem};
use crate::diag::Diag;
use crate::ir::scalar::Scalar;
use crate::ir::{Node, Tensor};
use crate::kernels::loss;
use ndarray::{ArrayD, IxDyn};
use std::borrow::Cow;

/// The logits, the labels and the class count, their shapes checked.
#[allow(clippy::type_complexity)]
fn logits_and_labels<'a, T: Elem>(
    node: &Node,
    inputs: &[&'a Tensor],
) -> Result<(Cow<'a, [T]>, Cow<'a, [i32]>, usize), Diag> {
    expect_inputs(node, inputs, 2)?;
    let (logits, dims) = row_major::<T>(node, inputs, 0)?;
    let (labels, label_dims) = row_major::<i32>(node, inputs, 1)?;
    match *dims {
        [rows, classes] if label_dims == [rows] => Ok((logits, labels, classes)),
        _ => Err(internal(
            node,
            format!("labels {label_dims:?} for logits {dims:?}"),
        )),
    }
}

/// Inputs `[logits f[N, C], labels i32[N]]`; the mean loss as a scalar.
pub(crate) fn sparse_softmax_cross_entropy(
    node: &Node,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    dispatch_float!(node, first_dtype(node, inputs)?, T => {
        let (logits, labels, classes) = logits_and_labels::<T>(node, inputs)?;
        let value = loss::sparse_softmax_cross_entropy(&logits, &labels, classes, false)
            .map_err(|f| f.at(node, "interpreter"))?;
        Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), T::from_f64(value))))
    })
}

/// Inputs `[logits f[N, C], labels i32[N]]`; `softmax(logits) - one_hot(labels)`.
pub(crate) fn sparse_softmax_grad(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    dispatch_float!(node, first_dtype(node, inputs)?, T => {
        let (logits, labels, classes) = logits_and_labels::<T>(node, inputs)?;
        let mut out = vec![T::default(); logits.len()];
        loss::sparse_softmax_grad(&logits, &labels, classes, 0, &mut out)
            .map_err(|f| f.at(node, "interpreter"))?;
        ArrayD::from_shape_vec(IxDyn(&[labels.len(), classes]), out)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    })
}

/// Inputs `[logits, targets]` (broadcast together); the mean loss as a scalar.
pub(crate) fn sigmoid_cross_entropy(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    dispatch_float!(node, first_dtype(node, inputs)?, T => {
        let (x, x_dims) = row_major::<T>(node, inputs, 0)?;
        let (z, z_dims) = row_major::<T>(node, inputs, 1)?;
        let value = loss::sigmoid_cross_entropy((&x, x_dims), (&z, z_dims), false)
            .map_err(|m| internal(node, m))?;
        Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), T::from_f64(value))))
    })
}
