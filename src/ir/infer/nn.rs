//! Inference for pooling and the losses with integer or binary targets, and
//! the range check of sparse labels (shared by the builder and the kernels).

use super::layout::window_out;
use super::{arity, broadcast_shapes, need_float, need_numeric};
use crate::ir::op::Op;
use crate::ir::types::{DType, TensorType};

/// The type of a pooling op or loss, or `None` when `op` is neither.
pub(super) fn infer_nn(op: &Op, inputs: &[&TensorType]) -> Option<Result<TensorType, String>> {
    let name = op.name();
    Some(match op {
        Op::MaxPool2d {
            size,
            strides,
            pads,
        }
        | Op::AvgPool2d {
            size,
            strides,
            pads,
        } => arity(&name, inputs, 1).and_then(|()| pool(&name, inputs[0], *size, *strides, *pads)),
        Op::SparseSoftmaxCrossEntropy => arity(&name, inputs, 2).and_then(|()| sparse(inputs)),
        Op::SigmoidCrossEntropy => arity(&name, inputs, 2).and_then(|()| sigmoid(inputs)),
        _ => return None,
    })
}

fn pool(
    name: &str,
    x: &TensorType,
    size: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
) -> Result<TensorType, String> {
    if name == "avg_pool2d" {
        need_float(name, x)?;
    } else {
        need_numeric(name, x)?;
    }
    if x.shape.rank() != 4 {
        return Err(format!("{name}: expects an NHWC tensor of rank 4, got {x}"));
    }
    let d = &x.shape.0;
    let h = window_out(
        name,
        x,
        d[1],
        size[0],
        strides[0],
        pads[0].saturating_add(pads[1]),
    )?;
    let w = window_out(
        name,
        x,
        d[2],
        size[1],
        strides[1],
        pads[2].saturating_add(pads[3]),
    )?;
    Ok(TensorType::new(x.dtype, vec![d[0], h, w, d[3]]))
}

/// `[logits f[N, C], labels i32[N]]`.
fn sparse(inputs: &[&TensorType]) -> Result<TensorType, String> {
    let name = "sparse_softmax_cross_entropy";
    let (logits, labels) = (inputs[0], inputs[1]);
    need_float(name, logits)?;
    let &[n, c] = logits.shape.dims() else {
        return Err(format!(
            "{name}: the logits must be [N, C] (rank 2), got {logits}"
        ));
    };
    if labels.dtype != DType::I32 {
        return Err(format!(
            "{name}: the labels must be i32 class indices, got {labels}; use cast(labels, i32)"
        ));
    }
    if labels.shape.dims() != [n] {
        return Err(format!(
            "{name}: the labels must be i32[{n}] (one per row of the logits {logits}), got {labels}"
        ));
    }
    if c == 0 {
        return Err(format!("{name}: the logits {logits} have no classes"));
    }
    Ok(TensorType::scalar(logits.dtype))
}

/// `[logits, targets]`: one float dtype, shapes that broadcast.
fn sigmoid(inputs: &[&TensorType]) -> Result<TensorType, String> {
    let name = "sigmoid_cross_entropy";
    let (x, z) = (inputs[0], inputs[1]);
    need_float(name, x)?;
    if x.dtype != z.dtype {
        return Err(format!(
            "{name}: logits and targets must have one float dtype, got {x} and {z}; use cast(x, {})",
            x.dtype
        ));
    }
    broadcast_shapes(&x.shape, &z.shape)
        .ok_or_else(|| format!("{name}: cannot broadcast the logits {x} and the targets {z}"))?;
    Ok(TensorType::scalar(x.dtype))
}

/// The first label outside `[0, classes)`, as the user's error message.
pub fn check_labels(labels: &[i32], classes: usize) -> Result<(), String> {
    let bad = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| usize::try_from(l).map_or(true, |l| l >= classes));
    match bad {
        None => Ok(()),
        Some((row, label)) => Err(format!(
            "sparse_softmax_cross_entropy: the label {label} of row {row} is out of range: there are {classes} classes [0, {classes})"
        )),
    }
}
