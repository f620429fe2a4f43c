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
            // when `x` is one process's share of a batch (`docs/distributed.md`);
            // a fifth, the loop word inside a `fold` body (`Op::Iteration`).
            if let Some(first) = inputs.get(3) {
                if first.dtype != DType::I32 || first.shape.rank() != 0 {
                    return Err(format!(
                        "{name}: the first-row input must be i32[], got {first}"
                    ));
                }
            } else {
                arity(name, inputs, 3)?;
            }
            if let Some(word) = inputs.get(4) {
                need_word(name, word)?;
            }
            if inputs.len() > 5 {
                arity(name, inputs, 5)?;
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

/// The step input of a random op is `i32[]`.
pub fn need_step(name: &str, step: &TensorType) -> Result<(), String> {
    if step.dtype != DType::I32 || step.shape.rank() != 0 {
        return Err(format!("{name}: the step input must be i32[], got {step}"));
    }
    Ok(())
}

/// The loop-word input of a random op inside a `fold` body is `i32[]`.
pub fn need_word(name: &str, word: &TensorType) -> Result<(), String> {
    if word.dtype != DType::I32 || word.shape.rank() != 0 {
        return Err(format!(
            "{name}: the loop-word input must be i32[], got {word}"
        ));
    }
    Ok(())
}
