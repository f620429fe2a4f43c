//! Small helpers the passes share: region access, constants, compaction.

use crate::ir::{Graph, NodeId, Op, Tensor};
use std::sync::Arc;

/// Runs `f` on every region of `op` (both `cond` branches, or the `fold` body),
/// returning whether any run changed something.
pub fn for_each_region(
    op: &mut Op,
    mut f: impl FnMut(&mut Graph) -> Result<bool, String>,
) -> Result<bool, String> {
    let mut changed = false;
    for region in op.regions_mut() {
        changed |= f(region)?;
    }
    Ok(changed)
}

/// Runs `f` on every region of every node of `graph`.
pub fn for_each_region_in(
    graph: &mut Graph,
    mut f: impl FnMut(&mut Graph) -> Result<bool, String>,
) -> Result<bool, String> {
    let mut changed = false;
    for node in &mut graph.nodes {
        changed |= for_each_region(&mut node.op, &mut f)?;
    }
    Ok(changed)
}

/// The constant computed by `id`, if it is a `Const` node.
pub fn const_of(graph: &Graph, id: NodeId) -> Option<&Arc<Tensor>> {
    match &graph.nodes.get(id.index())?.op {
        Op::Const(t) => Some(t),
        _ => None,
    }
}

/// Rewrites every node input and result through `alias` (old id → id to use).
pub fn apply_alias(graph: &mut Graph, alias: &[NodeId]) -> Result<(), String> {
    let look = |id: NodeId| {
        alias
            .get(id.index())
            .copied()
            .ok_or_else(|| format!("{id} is out of range"))
    };
    for node in &mut graph.nodes {
        for input in &mut node.inputs {
            *input = look(*input)?;
        }
    }
    for result in &mut graph.results {
        *result = look(*result)?;
    }
    Ok(())
}

/// Removes the nodes whose `keep` entry is false and renumbers the rest; every
/// input and result must refer to a kept node. Returns whether a node was removed.
pub fn compact(graph: &mut Graph, keep: &[bool]) -> Result<bool, String> {
    if keep.iter().all(|&k| k) {
        return Ok(false);
    }
    let mut new_id: Vec<Option<NodeId>> = Vec::with_capacity(graph.len());
    let mut next = 0u32;
    for &k in keep {
        new_id.push(k.then(|| {
            next += 1;
            NodeId(next - 1)
        }));
    }
    let map = |id: NodeId| -> Result<NodeId, String> {
        new_id
            .get(id.index())
            .copied()
            .flatten()
            .ok_or_else(|| format!("{id} is used but was removed"))
    };
    let old = std::mem::take(&mut graph.nodes);
    for (node, &k) in old.into_iter().zip(keep) {
        if k {
            let mut node = node;
            for input in &mut node.inputs {
                *input = map(*input)?;
            }
            graph.nodes.push(node);
        }
    }
    for result in &mut graph.results {
        *result = map(*result)?;
    }
    Ok(true)
}
