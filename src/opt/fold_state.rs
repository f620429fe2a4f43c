//! Dead pieces of packed `fold` states and `cond` results, removed (part of
//! the `dce` pass; when it applies: `docs/optimiser.md`, "Packed results").

use super::packed::{
    cond_plan, cut_result, move_slices, overlaps, packed_reads, result_pieces, rewrite_cond,
    slice_range, users_of, Plan,
};
use crate::ir::{GradOp, Graph, NodeId, Op, Tensor, TensorType};
use ndarray::{ArrayD, IxDyn};
use std::sync::Arc;

/// Drops the dead pieces of every packed `cond` result and `fold` state in `graph` (and in its
/// regions). Returns whether anything changed; the caller runs DCE afterwards.
pub fn prune_fold_states(graph: &mut Graph) -> Result<bool, String> {
    let mut changed = super::rewrite::for_each_region_in(graph, prune_fold_states)?;
    let users = users_of(graph);
    let cond_plans: Vec<Plan> = (0..graph.len())
        .filter_map(|i| cond_plan(graph, &users, i))
        .collect();
    for plan in &cond_plans {
        rewrite_cond(graph, &users, plan)?;
        changed = true;
    }
    let plans: Vec<Plan> = (0..graph.len())
        .filter_map(|i| plan(graph, &users, i))
        .collect();
    if !plans.is_empty() {
        rewrite(graph, &users, plans)?;
        changed = true;
    }
    Ok(changed)
}

/// The plan for node `index`, when it is a fold with dead state pieces.
fn plan(graph: &Graph, users: &[Vec<usize>], index: usize) -> Option<Plan> {
    let node = &graph.nodes[index];
    let (body, scan) = match &node.op {
        Op::Fold { body } => (body, None),
        Op::Scan { body, carry, .. } => (body, Some(*carry)),
        _ => return None,
    };
    let mut reads = packed_reads(graph, users, index)?;
    let mut total = node.ty.shape.numel();
    let mut scan_plan = None;
    if let Some(carry) = scan {
        // Work in the body's result `[state | y_t]`: a read of any output row
        // reads the whole `y_t`.
        let out_n = body
            .nodes
            .get(body.results.first()?.index())?
            .ty
            .shape
            .numel()
            .checked_sub(carry)?;
        let steps = (total.checked_sub(carry)?).checked_div(out_n).unwrap_or(0);
        let reads_output = reads.iter().any(|&(s, l)| s + l > carry);
        reads = reads
            .iter()
            .filter(|&&(s, _)| s < carry)
            .map(|&(s, l)| (s, l.min(carry - s)))
            .collect();
        if reads_output {
            reads.push((carry, out_n));
        }
        total = carry + out_n;
        scan_plan = Some((carry, steps));
    }
    let pieces = result_pieces(body, total)?;
    if let Some((carry, _)) = scan_plan {
        if pieces.iter().any(|&(s, l)| s < carry && s + l > carry) {
            return None;
        }
    }
    let result = body.nodes.get(body.results.first()?.index())?;
    let piece_reads = body_reads(body, &result.inputs)?;
    let mut live: Vec<bool> = pieces
        .iter()
        .map(|&p| reads.iter().any(|&r| overlaps(p, r)))
        .collect();
    // Close under "a live piece's next value reads it".
    let mut work: Vec<usize> = (0..pieces.len()).filter(|&k| live[k]).collect();
    while let Some(k) = work.pop() {
        for &r in &piece_reads[k] {
            for (j, &p) in pieces.iter().enumerate() {
                if !live[j] && overlaps(p, r) {
                    live[j] = true;
                    work.push(j);
                }
            }
        }
    }
    let dead_data = pieces.iter().zip(&live).any(|(p, &l)| !l && p.1 > 0);
    (dead_data && live.contains(&true)).then_some(Plan {
        fold: index,
        pieces,
        live,
        scan: scan_plan,
    })
}

/// For each piece (a node of `body`), the state ranges its value reads; `None`
/// when the body uses its state other than through rank-1 slices.
fn body_reads(body: &Graph, pieces: &[NodeId]) -> Option<Vec<Vec<(usize, usize)>>> {
    let users = users_of(body);
    let mut state_slice: Vec<Option<(usize, usize)>> = vec![None; body.len()];
    for (p, node) in body.nodes.iter().enumerate() {
        if !matches!(node.op, Op::Param(0)) {
            continue;
        }
        if body.results.iter().any(|r| r.index() == p) {
            return None;
        }
        for &u in &users[p] {
            state_slice[u] = Some(slice_range(&body.nodes[u], p)?);
        }
    }
    let reads = pieces
        .iter()
        .map(|piece| {
            let mut seen = vec![false; body.len()];
            let mut stack = vec![piece.index()];
            let mut ranges = Vec::new();
            while let Some(i) = stack.pop() {
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                match state_slice[i] {
                    Some(range) => ranges.push(range),
                    None => stack.extend(body.nodes[i].inputs.iter().map(|x| x.index())),
                }
            }
            ranges
        })
        .collect();
    Some(reads)
}

/// Applies `plans` (sorted by fold index): new initial values are inserted just
/// before their folds, so the graph is rebuilt with renumbered ids.
fn rewrite(graph: &mut Graph, users: &[Vec<usize>], plans: Vec<Plan>) -> Result<(), String> {
    for plan in &plans {
        let node = &mut graph.nodes[plan.fold];
        match (&mut node.op, plan.scan) {
            (Op::Fold { body }, None) => rewrite_body(body, plan)?,
            (Op::Scan { body, carry, .. }, Some((_, steps))) => {
                rewrite_body(body, plan)?;
                let state = state_plan(plan);
                *carry = state.new_len();
                let out_n = plan.new_len() - *carry;
                node.ty = TensorType::new(node.ty.dtype, vec![*carry + steps * out_n]);
            }
            _ => return Err("a planned fold or scan is neither".into()),
        }
        move_slices(graph, users, plan);
    }
    let old = std::mem::take(&mut graph.nodes);
    let mut map: Vec<NodeId> = Vec::with_capacity(old.len());
    let mut plans = plans.into_iter().peekable();
    for (index, mut node) in old.into_iter().enumerate() {
        for input in &mut node.inputs {
            *input = *map
                .get(input.index())
                .ok_or_else(|| format!("{input} is used before it is defined"))?;
        }
        if let Some(plan) = plans.next_if(|p| p.fold == index) {
            let init = *node.inputs.first().ok_or("a fold without inputs")?;
            let state = state_plan(&plan);
            let ty = TensorType::new(node.ty.dtype, vec![state.new_len()]);
            node.inputs[0] = new_init(graph, init, &state, &ty);
            if plan.scan.is_none() {
                node.ty = ty;
            }
        }
        map.push(NodeId(graph.nodes.len() as u32));
        graph.nodes.push(node);
    }
    for result in &mut graph.results {
        *result = map[result.index()];
    }
    Ok(())
}

/// Cuts the dead pieces out of the body's result, then re-types the state
/// param and moves its slices.
fn rewrite_body(body: &mut Graph, plan: &Plan) -> Result<(), String> {
    let dtype = body.params.first().ok_or("no params")?.dtype;
    let result_ty = TensorType::new(dtype, vec![plan.new_len()]);
    cut_result(body, plan, &result_ty)?;
    let ty = TensorType::new(dtype, vec![state_plan(plan).new_len()]);
    let params: Vec<bool> = body
        .nodes
        .iter()
        .map(|n| matches!(n.op, Op::Param(0)))
        .collect();
    for node in &mut body.nodes {
        if matches!(node.op, Op::Param(0)) {
            node.ty = ty.clone();
        } else if let Op::Grad(GradOp::Slice { starts }) = &mut node.op {
            if node.inputs.first().is_some_and(|i| params[i.index()]) {
                starts[0] = plan.new_pos(starts[0]);
            }
        }
    }
    let first = body
        .params
        .first_mut()
        .ok_or("a fold body without params")?;
    *first = ty;
    Ok(())
}

/// The plan restricted to the carried state (a scan's output pieces left out).
fn state_plan(plan: &Plan) -> Plan {
    let carry = plan.scan.map_or(usize::MAX, |(c, _)| c);
    let (pieces, live) = plan
        .pieces
        .iter()
        .zip(&plan.live)
        .filter(|(p, _)| p.0 < carry)
        .map(|(p, l)| (*p, *l))
        .unzip();
    Plan {
        fold: plan.fold,
        pieces,
        live,
        scan: None,
    }
}

/// Appends the new initial value (the live pieces of `init`) to `graph`.
fn new_init(graph: &mut Graph, init: NodeId, plan: &Plan, ty: &TensorType) -> NodeId {
    let node = &graph.nodes[init.index()];
    let span = node.span;
    // No piece is live (a scan whose output rows read none of its state): an
    // empty constant, not a `concat` of nothing.
    if ty.shape.numel() == 0 {
        let empty = Tensor::full(ty, 0.0);
        return graph.add(Op::Const(Arc::new(empty)), vec![], ty.clone(), span);
    }
    // The packing `concat` itself, cut the same way: keep its live inputs.
    if matches!(node.op, Op::Concat { axis: 0 }) && node.inputs.len() == plan.pieces.len() {
        let inputs = node.inputs.clone();
        let same_cuts = inputs
            .iter()
            .zip(&plan.pieces)
            .all(|(i, p)| graph.ty(*i).shape.dims() == [p.1]);
        if same_cuts {
            let kept: Vec<NodeId> = inputs
                .into_iter()
                .zip(&plan.live)
                .filter(|(_, &l)| l)
                .map(|(i, _)| i)
                .collect();
            return match kept.as_slice() {
                [one] => *one,
                _ => graph.add(Op::Concat { axis: 0 }, kept, ty.clone(), span),
            };
        }
    }
    let runs = live_runs(plan);
    if let Op::Const(t) = &node.op {
        if let Some(cut) = keep_ranges(t, &runs) {
            return graph.add(Op::Const(Arc::new(cut)), vec![], ty.clone(), span);
        }
    }
    // Anything else: slice the live runs out of it.
    let parts: Vec<NodeId> = runs
        .iter()
        .map(|&(start, len)| {
            let slice = Op::Grad(GradOp::Slice {
                starts: vec![start],
            });
            graph.add(
                slice,
                vec![init],
                TensorType::new(ty.dtype, vec![len]),
                span,
            )
        })
        .collect();
    match parts.as_slice() {
        [one] => *one,
        _ => graph.add(Op::Concat { axis: 0 }, parts, ty.clone(), span),
    }
}

/// Maximal `(start, len)` runs of consecutive live pieces.
fn live_runs(plan: &Plan) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (&(start, len), &live) in plan.pieces.iter().zip(&plan.live) {
        if !live || len == 0 {
            continue;
        }
        match runs.last_mut() {
            Some(last) if last.0 + last.1 == start => last.1 += len,
            _ => runs.push((start, len)),
        }
    }
    runs
}

/// The elements of rank-1 `t` in `ranges`, concatenated.
fn keep_ranges(t: &Tensor, ranges: &[(usize, usize)]) -> Option<Tensor> {
    fn cut<T: Clone>(a: &ArrayD<T>, ranges: &[(usize, usize)]) -> Option<ArrayD<T>> {
        let all: Vec<T> = a.iter().cloned().collect();
        let mut out = Vec::new();
        for &(start, len) in ranges {
            out.extend_from_slice(all.get(start..start + len)?);
        }
        ArrayD::from_shape_vec(IxDyn(&[out.len()]), out).ok()
    }
    if t.shape().len() != 1 {
        return None;
    }
    Some(crate::ir::tensor::each_dtype!(t, a => cut(a, ranges)?))
}
