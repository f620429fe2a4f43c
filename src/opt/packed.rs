//! Packed results: autodiff's backward `cond` and `fold` yield several adjoints
//! as one flat vector (`concat` of flattened pieces) that the outer graph
//! slices apart. This module finds the pieces no `slice` reads and cuts them
//! out; `cond` results here, `fold` states in [`super::fold_state`].

use crate::ir::{GradOp, Graph, Node, NodeId, Op, TensorType};

/// Which pieces of the state of fold `fold` stay.
pub(super) struct Plan {
    /// The packed node: a `fold` or a `cond`.
    pub fold: usize,
    /// `(start, len)` of each piece, in state order.
    pub pieces: Vec<(usize, usize)>,
    pub live: Vec<bool>,
    /// For a `scan`: `(carry, steps)`; its pieces are those of the body's
    /// result, `[state | one step's output]`.
    pub scan: Option<(usize, usize)>,
}

impl Plan {
    pub(super) fn new_len(&self) -> usize {
        self.pieces
            .iter()
            .zip(&self.live)
            .filter(|(_, &l)| l)
            .map(|(p, _)| p.1)
            .sum()
    }

    /// Where old offset `s` lands once the dead pieces are cut out.
    pub(super) fn new_pos(&self, s: usize) -> usize {
        let dead_before: usize = self
            .pieces
            .iter()
            .zip(&self.live)
            .filter(|(_, &l)| !l)
            .map(|(&(start, len), _)| (start + len).min(s).saturating_sub(start))
            .sum();
        s - dead_before
    }
}

pub(super) fn users_of(graph: &Graph) -> Vec<Vec<usize>> {
    let mut users = vec![Vec::new(); graph.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        for input in &node.inputs {
            if let Some(u) = users.get_mut(input.index()) {
                u.push(i);
            }
        }
    }
    users
}

/// `(start, len)` of a rank-1 `slice` of exactly `of`.
pub(super) fn slice_range(node: &Node, of: usize) -> Option<(usize, usize)> {
    match &node.op {
        Op::Grad(GradOp::Slice { starts })
            if starts.len() == 1
                && node.ty.shape.rank() == 1
                && node.inputs.len() == 1
                && node.inputs[0].index() == of =>
        {
            Some((starts[0], node.ty.shape.numel()))
        }
        _ => None,
    }
}

pub(super) fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

/// The ranges the users of node `index` read: `None` unless every user is a
/// rank-1 `slice` of it (and it has users, and is no root).
pub(super) fn packed_reads(
    graph: &Graph,
    users: &[Vec<usize>],
    index: usize,
) -> Option<Vec<(usize, usize)>> {
    if graph.nodes[index].ty.shape.rank() != 1
        || users[index].is_empty()
        || graph.results.iter().any(|r| r.index() == index)
    {
        return None;
    }
    users[index]
        .iter()
        .map(|&u| slice_range(&graph.nodes[u], index))
        .collect()
}

/// `(start, len)` of each input of `region`'s result, a `concat` on axis 0 of
/// rank-1 pieces `total` long.
pub(super) fn result_pieces(region: &Graph, total: usize) -> Option<Vec<(usize, usize)>> {
    let [result] = region.results.as_slice() else {
        return None;
    };
    let result = region.nodes.get(result.index())?;
    if !matches!(result.op, Op::Concat { axis: 0 }) {
        return None;
    }
    let mut pieces = Vec::with_capacity(result.inputs.len());
    let mut offset = 0;
    for input in &result.inputs {
        let ty = &region.nodes.get(input.index())?.ty;
        if ty.shape.rank() != 1 {
            return None;
        }
        pieces.push((offset, ty.shape.numel()));
        offset += ty.shape.numel();
    }
    (offset == total).then_some(pieces)
}

/// The plan for node `index`, when it is a `cond` whose packed result has
/// pieces nobody reads (both branches cut the same way).
pub(super) fn cond_plan(graph: &Graph, users: &[Vec<usize>], index: usize) -> Option<Plan> {
    let node = &graph.nodes[index];
    let Op::Cond {
        then_body,
        else_body,
    } = &node.op
    else {
        return None;
    };
    let reads = packed_reads(graph, users, index)?;
    let pieces = result_pieces(then_body, node.ty.shape.numel())?;
    if result_pieces(else_body, node.ty.shape.numel())? != pieces {
        return None;
    }
    let live: Vec<bool> = pieces
        .iter()
        .map(|&p| reads.iter().any(|&r| overlaps(p, r)))
        .collect();
    let dead_data = pieces.iter().zip(&live).any(|(p, &l)| !l && p.1 > 0);
    (dead_data && live.contains(&true)).then_some(Plan {
        fold: index,
        pieces,
        live,
        scan: None,
    })
}

/// Cuts the dead pieces out of both branches and re-types the `cond`.
pub(super) fn rewrite_cond(
    graph: &mut Graph,
    users: &[Vec<usize>],
    plan: &Plan,
) -> Result<(), String> {
    let node = &mut graph.nodes[plan.fold];
    let Op::Cond {
        then_body,
        else_body,
    } = &mut node.op
    else {
        return Err("a planned cond is not a cond".into());
    };
    let ty = TensorType::new(node.ty.dtype, vec![plan.new_len()]);
    cut_result(then_body, plan, &ty)?;
    cut_result(else_body, plan, &ty)?;
    node.ty = ty;
    move_slices(graph, users, plan);
    Ok(())
}

/// Moves the outer slices of the planned node to the new offsets.
pub(super) fn move_slices(graph: &mut Graph, users: &[Vec<usize>], plan: &Plan) {
    for &u in &users[plan.fold] {
        if let Op::Grad(GradOp::Slice { starts }) = &mut graph.nodes[u].op {
            starts[0] = plan.new_pos(starts[0]);
        }
    }
}

/// Makes the result of `region` the concat of its live pieces, then removes
/// what only the dead ones needed.
pub(super) fn cut_result(region: &mut Graph, plan: &Plan, ty: &TensorType) -> Result<(), String> {
    let result = *region.results.first().ok_or("a region without a result")?;
    let old = region.nodes[result.index()].clone();
    let kept: Vec<NodeId> = old
        .inputs
        .iter()
        .zip(&plan.live)
        .filter(|(_, &l)| l)
        .map(|(i, _)| *i)
        .collect();
    region.results = match kept.as_slice() {
        [one] => vec![*one],
        _ => vec![region.add(old.op.clone(), kept, ty.clone(), old.span)],
    };
    super::dce::dce_graph(region)?;
    Ok(())
}
