//! Autodiff's `scan` as a native loop over its compiled body (next to
//! [`super::control`]'s `fold`).
//!
//! Inputs `[init: [carry], xs, captures...]`; the body's params are
//! `(state, x, captures...)` and its result is `[next state | y_t]`. The value
//! is `[final state | y_0 .. y_{T-1}]`: each step's output is copied straight
//! into its row of the one output buffer (row `t` from step `t`, also when
//! `reverse` runs `t = T-1 .. 0`), and the next state into a buffer of the
//! body's pool; the body's result goes back to that pool.

use super::control::{start, Code};
use super::exec::{at, Env};
use super::tensors::Val;
use crate::diag::Diag;
use crate::ir::{Node, Tensor, TensorType};
use std::sync::Arc;

/// Copies `src[from .. from + len]` to `dst[to ..]` (both rank-1 views of
/// contiguous tensors of one dtype). `None` on a mismatch.
fn copy_range(src: &Tensor, from: usize, len: usize, dst: &mut Tensor, to: usize) -> Option<()> {
    fn copy<T: Copy>(
        src: Option<&[T]>,
        from: usize,
        len: usize,
        dst: Option<&mut [T]>,
        to: usize,
    ) -> Option<()> {
        dst?.get_mut(to..to + len)?
            .copy_from_slice(src?.get(from..from + len)?);
        Some(())
    }
    match (src, dst) {
        (Tensor::F32(a), Tensor::F32(b)) => copy(a.as_slice(), from, len, b.as_slice_mut(), to),
        (Tensor::F64(a), Tensor::F64(b)) => copy(a.as_slice(), from, len, b.as_slice_mut(), to),
        (Tensor::I32(a), Tensor::I32(b)) => copy(a.as_slice(), from, len, b.as_slice_mut(), to),
        (Tensor::Bool(a), Tensor::Bool(b)) => copy(a.as_slice(), from, len, b.as_slice_mut(), to),
        _ => None,
    }
}

/// Runs `scan` node `node` (its needed inputs in `memo`).
pub(super) fn scan<'s>(
    body: &Code,
    (reverse, carry): (bool, usize),
    node: &Node,
    memo: &[Option<Val<'s>>],
    env: Env<'_, 's>,
) -> Result<Val<'s>, Diag> {
    let exe = &body.exe;
    let mut run = start(body, node, memo)?;
    let steps = run.steps;
    let state_ty = exe
        .graph
        .params
        .first()
        .ok_or_else(|| at(node, "the body takes no state"))?;
    if state_ty.shape.dims() != [carry] {
        return Err(at(
            node,
            format!("the body's state is {state_ty}, not {carry} elements"),
        ));
    }
    let total = node.ty.shape.numel();
    let out_n = match total.checked_sub(carry) {
        Some(rows) if steps > 0 && rows % steps == 0 => rows / steps,
        Some(0) => 0,
        _ => return Err(at(node, format!("{} is not [carry + T * out_n]", node.ty))),
    };
    let mut out = Tensor::full(&TensorType::new(node.ty.dtype, vec![total]), 0.0);
    for k in 0..steps {
        let t = if reverse { steps - 1 - k } else { k };
        let result = run.step(exe, node, env, t)?;
        let bad = || at(node, format!("the body's result does not fit step {t}"));
        copy_range(&result, carry, out_n, &mut out, carry + t * out_n).ok_or_else(bad)?;
        let mut state = exe.pool.take(state_ty);
        copy_range(&result, 0, carry, &mut state, 0).ok_or_else(bad)?;
        // The old state and the body's result go back to the pool when unshared.
        let result = run.result_pooled.then_some(result);
        for old in [run.params[0].replace(Val::Shared(Arc::new(state))), result] {
            if let Some(Val::Shared(old)) = old {
                if let Ok(old) = Arc::try_unwrap(old) {
                    exe.pool.give(old);
                }
            }
        }
    }
    run.finish(exe);
    let last = run.params[0]
        .take()
        .ok_or_else(|| at(node, "the scan has no state"))?;
    copy_range(&last, 0, carry, &mut out, 0)
        .ok_or_else(|| at(node, format!("the state is not {state_ty}")))?;
    Ok(Val::Shared(Arc::new(out)))
}
