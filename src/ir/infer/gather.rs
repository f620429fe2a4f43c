//! Inference for the gather-style movement ops: strided slices, `take` and
//! mirror pads.

use super::{arity, need_axis};
use crate::ir::op::Op;
use crate::ir::types::{DType, TensorType};

pub(super) fn infer_gather(op: &Op, inputs: &[&TensorType]) -> Result<TensorType, String> {
    let name = op.name();
    match op {
        Op::StridedSlice {
            starts,
            sizes,
            steps,
        } => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            let rank = x.shape.rank();
            if starts.len() != rank || sizes.len() != rank || steps.len() != rank {
                return Err(format!("slice: {} axes given for {x}", starts.len()));
            }
            for (k, &n) in x.shape.dims().iter().enumerate() {
                // i128: a hand-made op with a huge step cannot overflow here.
                let (start, size, step) = (starts[k] as i128, sizes[k] as i128, steps[k]);
                let last = start + (size - 1) * i128::from(step);
                let inside = |c: i128| (0..n as i128).contains(&c);
                let fits = step != 0 && (size == 0 || (inside(start) && inside(last)));
                if !fits {
                    return Err(format!(
                        "slice: {size} elements from {start} by {step} do not fit axis {k} of {x}"
                    ));
                }
            }
            Ok(TensorType::new(x.dtype, sizes.clone()))
        }
        Op::Take { axis } => {
            arity(&name, inputs, 2)?;
            let (x, indices) = (inputs[0], inputs[1]);
            need_axis("take", x, *axis)?;
            if indices.dtype != DType::I32 {
                return Err(format!("take: the indices must be i32, got {indices}"));
            }
            let dims = x.shape.dims();
            let mut out = dims[..*axis].to_vec();
            out.extend_from_slice(indices.shape.dims());
            out.extend_from_slice(&dims[axis + 1..]);
            Ok(TensorType::new(x.dtype, out))
        }
        Op::MirrorPad { pads, symmetric } => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            if pads.len() != x.shape.rank() {
                return Err(format!(
                    "pad: {} [before, after] pairs given for {x} of rank {}",
                    pads.len(),
                    x.shape.rank()
                ));
            }
            let mode = if *symmetric { "SYMMETRIC" } else { "REFLECT" };
            let mut dims = Vec::new();
            for (k, (&n, &[before, after])) in x.shape.dims().iter().zip(pads).enumerate() {
                let widest = before.max(after);
                let too_wide = if *symmetric {
                    widest > n
                } else {
                    widest >= n && widest > 0
                };
                if too_wide {
                    let rule = if *symmetric { "at most" } else { "less than" };
                    return Err(format!(
                        "pad: mode {mode} needs pads {rule} the size, but axis {k} of {x} has size {n} and pads [{before}, {after}]"
                    ));
                }
                dims.push(n + before + after);
            }
            Ok(TensorType::new(x.dtype, dims))
        }
        _ => Err(format!("{name}: no inference rule")),
    }
}
