//! Loss kernels on tensors (`sparse_softmax_cross_entropy`,
//! `sigmoid_cross_entropy`, `sparse_softmax_grad`) through `kernels::loss`; a
//! label out of range is the user's run-time error at the node, naming the row.

use super::{dispatch_float, expect_inputs, first_dtype, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::{Node, Tensor};
use crate::kernels::loss;
use ndarray::{ArrayD, IxDyn};

/// The logits as a row-major vector, the labels, and the class count.
fn logits_and_labels<T: Elem>(
    node: &Node,
    inputs: &[&Tensor],
) -> Result<(Vec<T>, Vec<i32>, usize), Diag> {
    expect_inputs(node, inputs, 2)?;
    let logits = typed::<T>(node, inputs, 0)?;
    let labels = typed::<i32>(node, inputs, 1)?;
    let &[rows, classes] = logits.shape() else {
        return Err(internal(node, format!("logits {:?}", logits.shape())));
    };
    if labels.shape() != [rows] {
        return Err(internal(
            node,
            format!(
                "labels {:?} for logits {:?}",
                labels.shape(),
                logits.shape()
            ),
        ));
    }
    let labels: Vec<i32> = labels.iter().copied().collect();
    loss::check_labels(&labels, classes).map_err(|m| Diag::error(m, node.span))?;
    let logits = logits.as_standard_layout().iter().copied().collect();
    Ok((logits, labels, classes))
}

/// Inputs `[logits f[N, C], labels i32[N]]`; the mean loss as a scalar.
pub(crate) fn sparse_softmax_cross_entropy(
    node: &Node,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    dispatch_float!(node, first_dtype(node, inputs)?, T => {
        let (logits, labels, classes) = logits_and_labels::<T>(node, inputs)?;
        let value = loss::sparse_softmax_cross_entropy(&logits, &labels, classes)
            .map_err(|m| internal(node, m))?;
        Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), value)))
    })
}

/// Inputs `[logits f[N, C], labels i32[N]]`; `softmax(logits) - one_hot(labels)`.
pub(crate) fn sparse_softmax_grad(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    dispatch_float!(node, first_dtype(node, inputs)?, T => {
        let (logits, labels, classes) = logits_and_labels::<T>(node, inputs)?;
        let values =
            loss::sparse_softmax_grad(&logits, &labels, classes).map_err(|m| internal(node, m))?;
        ArrayD::from_shape_vec(IxDyn(&[labels.len(), classes]), values)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    })
}

/// Inputs `[logits, targets]` (broadcast together); the mean loss as a scalar.
pub(crate) fn sigmoid_cross_entropy(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    dispatch_float!(node, first_dtype(node, inputs)?, T => {
        let (x, z) = (typed::<T>(node, inputs, 0)?, typed::<T>(node, inputs, 1)?);
        let value =
            loss::sigmoid_cross_entropy(x.view(), z.view()).map_err(|m| internal(node, m))?;
        Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), value)))
    })
}
