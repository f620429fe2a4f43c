//! Inference for the per-step random ops.

use super::{arity, need_float};
use crate::ir::op::RandomKind;
use crate::ir::types::{DType, TensorType};

pub(super) fn infer_random(kind: RandomKind, inputs: &[&TensorType]) -> Result<TensorType, String> {
    let name = kind.name();
    match kind {
        // Their shape is an attribute of the call: the node's type holds it.
        RandomKind::Normal | RandomKind::Uniform => Err(format!(
            "{name}: the output type comes from the node, not from the inputs"
        )),
        RandomKind::Dropout => {
            // A fourth input, `i32[]`, is the global index of `x`'s first row
            // when `x` is one process's share of a batch (`docs/distributed.md`).
            if let Some(first) = inputs.get(3) {
                if first.dtype != DType::I32 || first.shape.rank() != 0 || x_rank0(inputs) {
                    return Err(format!(
                        "{name}: the first-row input must be i32[] on a tensor with rows, got {first}"
                    ));
                }
            } else {
                arity(name, inputs, 3)?;
            }
            if inputs.len() > 4 {
                arity(name, inputs, 4)?;
            }
            let (x, rate, step) = (inputs[0], inputs[1], inputs[2]);
            need_float(name, x)?;
            if rate.dtype != x.dtype || rate.shape.rank() != 0 {
                return Err(format!(
                    "{name}: the rate must be a {}[] scalar, but it is {rate}",
                    x.dtype
                ));
            }
            need_step(name, step)?;
            Ok(x.clone())
        }
    }
}

/// Whether dropout's `x` is a scalar (it has no rows to offset).
fn x_rank0(inputs: &[&TensorType]) -> bool {
    inputs.first().is_none_or(|x| x.shape.rank() == 0)
}

/// The step input of a random op is `i32[]`.
pub fn need_step(name: &str, step: &TensorType) -> Result<(), String> {
    if step.dtype != DType::I32 || step.shape.rank() != 0 {
        return Err(format!("{name}: the step input must be i32[], got {step}"));
    }
    Ok(())
}
