//! Control flow: `cond` runs only its taken branch; `fold` is a real loop.
//!
//! A region (a branch or the fold body) runs in a fresh [`Frame`] whose params
//! are bound to the values passed in; its single result is the value. Captures
//! the region does not use are not computed and are bound to `None`.

use super::frame::Frame;
use crate::backend::regions::{predicate, used_params};
use crate::kernels::eval::internal;

use crate::diag::Diag;
use crate::ir::philox::loop_word;
use crate::ir::{Graph, Node, NodeId, Tensor, TensorType};
use ndarray::Axis;
use std::sync::Arc;

/// Runs region `k` of node `id` (`region`) with `params` and loop word
/// `word`: its single result.
fn run_region(
    frame: &Frame,
    (id, k): (NodeId, usize),
    region: &Graph,
    params: Vec<Option<Arc<Tensor>>>,
    word: u32,
) -> Result<Arc<Tensor>, Diag> {
    let node = frame.graph.node(id);
    if params.len() != region.params.len() {
        return Err(internal(
            node,
            format!(
                "the region takes {} parameters but {} were passed",
                region.params.len(),
                params.len()
            ),
        ));
    }
    let result = match region.results.as_slice() {
        [result] => *result,
        other => {
            return Err(internal(
                node,
                format!("a region must have one result, not {}", other.len()),
            ))
        }
    };
    let program = frame.program.region(frame.graph, id, k)?;
    let mut inner = Frame::new((region, program), frame.inputs, Some(params));
    inner.word = word;
    inner.run()?;
    inner.fetched(result)
}

/// The captures (inputs from `first` on) bound for `region`'s parameters from
/// `offset` on; those the region does not use stay `None`.
fn bind_captures(
    frame: &Frame,
    id: NodeId,
    first: usize,
    used: &[bool],
) -> Result<Vec<Option<Arc<Tensor>>>, Diag> {
    let node = frame.graph.node(id);
    let count = node.inputs.len().saturating_sub(first);
    (0..count)
        .map(|k| {
            if used.get(k).copied().unwrap_or(false) {
                frame.input(id, first + k).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect()
}

/// `cond(pred, then, else)`: inputs `[pred, captures...]`.
pub(crate) fn cond(
    frame: &Frame,
    id: NodeId,
    then_body: &Graph,
    else_body: &Graph,
) -> Result<Arc<Tensor>, Diag> {
    let node = frame.graph.node(id);
    let pred = frame.input(id, 0)?;
    let (k, branch) = if predicate(node, &pred)? {
        (0, then_body)
    } else {
        (1, else_body)
    };
    let params = bind_captures(frame, id, 1, &used_params(branch))?;
    run_region(frame, (id, k), branch, params, frame.word)
}

/// A loop's initial state, `xs`, the captures its body uses (the others
/// `None`) and its number of steps.
type LoopInputs = (Arc<Tensor>, Arc<Tensor>, Vec<Option<Arc<Tensor>>>, usize);

/// The [`LoopInputs`] of loop `id` (inputs `[init, xs, captures...]`).
fn loop_inputs(frame: &Frame, id: NodeId, body: &Graph) -> Result<LoopInputs, Diag> {
    let init = frame.input(id, 0)?;
    let xs = frame.input(id, 1)?;
    let used = used_params(body);
    let captures = bind_captures(frame, id, 2, used.get(2..).unwrap_or(&[]))?;
    let steps = match xs.shape().first() {
        Some(&n) => n,
        None => {
            let node = frame.graph.node(id);
            return Err(internal(node, "xs must have at least one axis"));
        }
    };
    Ok((init, xs, captures, steps))
}

/// `fold(body, init, xs)`: inputs `[init, xs, captures...]`; the body's params are
/// `(acc, x, captures...)`. For `t` in `0..len(xs)`: `acc = body(acc, xs[t], ...)`.
pub(crate) fn fold(frame: &Frame, id: NodeId, body: &Graph) -> Result<Arc<Tensor>, Diag> {
    let (mut acc, xs, captures, steps) = loop_inputs(frame, id, body)?;
    for t in 0..steps {
        let x = slice_axis0(&xs, t);
        let mut params = Vec::with_capacity(2 + captures.len());
        params.push(Some(acc));
        params.push(Some(Arc::new(x)));
        params.extend(captures.iter().cloned());
        let word = loop_word(frame.word, steps, t);
        acc = run_region(frame, (id, 0), body, params, word)?;
    }
    Ok(acc)
}

/// `scan(body, init, xs)`: like `fold`, but the body's result is
/// `[next state (carry) | y_t]`; the value is `[final state | y_0 .. y_{T-1}]`
/// (row `t` from step `t`, whatever the direction; `reverse` runs `t = T-1 .. 0`).
pub(crate) fn scan(
    frame: &Frame,
    id: NodeId,
    body: &Graph,
    reverse: bool,
    carry: usize,
) -> Result<Arc<Tensor>, Diag> {
    let node = frame.graph.node(id);
    let (mut state, xs, captures, steps) = loop_inputs(frame, id, body)?;
    let mut rows: Vec<Vec<f64>> = vec![Vec::new(); steps];
    let order: Vec<usize> = if reverse {
        (0..steps).rev().collect()
    } else {
        (0..steps).collect()
    };
    for t in order {
        let mut params = Vec::with_capacity(2 + captures.len());
        params.push(Some(state));
        params.push(Some(Arc::new(slice_axis0(&xs, t))));
        params.extend(captures.iter().cloned());
        let word = loop_word(frame.word, steps, t);
        let result = run_region(frame, (id, 0), body, params, word)?;
        let mut values = result.to_f64_vec();
        if values.len() < carry || result.shape().len() != 1 {
            return Err(internal(node, format!("the body gave {}", result.ty())));
        }
        rows[t] = values.split_off(carry);
        let ty = TensorType::new(result.dtype(), vec![carry]);
        state = Arc::new(from_f64(node, &ty, values)?);
    }
    let mut all = state.to_f64_vec();
    all.extend(rows.into_iter().flatten());
    from_f64(node, &node.ty, all).map(Arc::new)
}

/// Values are carried through f64: exact for f32, f64, i32 and bool.
fn from_f64(node: &Node, ty: &TensorType, values: Vec<f64>) -> Result<Tensor, Diag> {
    Tensor::from_f64_vec(ty, values)
        .ok_or_else(|| internal(node, format!("a value does not fit {ty}")))
}

/// `xs[t]` along axis 0, in standard layout (`t` is in range).
fn slice_axis0(xs: &Tensor, t: usize) -> Tensor {
    crate::ir::tensor::each_dtype!(xs, a => a.index_axis(Axis(0), t).to_owned())
}
