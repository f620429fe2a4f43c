//! What both backends need to run `cond` and `fold` regions: the value of a
//! predicate, which region parameters (captures) a region reads, and what a
//! region node reads for the schedule.

use crate::backend::schedule::Need;
use crate::diag::Diag;
use crate::ir::{Graph, Node, NodeId, Op, Tensor};

/// The value of a `Cond` predicate: a `bool[]`.
pub(crate) fn predicate(node: &Node, value: &Tensor) -> Result<bool, Diag> {
    match value {
        Tensor::Bool(a) if a.ndim() == 0 => a
            .iter()
            .next()
            .copied()
            .ok_or_else(|| region_error(node, "empty predicate")),
        other => Err(region_error(
            node,
            format!("the predicate is {} but bool[] was expected", other.ty()),
        )),
    }
}

/// Which parameters of `region` its results depend on. Nested regions count
/// all their captures as used (a safe over-approximation).
pub(crate) fn used_params(region: &Graph) -> Vec<bool> {
    let mut used = vec![false; region.params.len()];
    let mut needed = vec![false; region.len()];
    for result in &region.results {
        if let Some(slot) = needed.get_mut(result.index()) {
            *slot = true;
        }
    }
    for index in (0..region.len()).rev() {
        if !needed[index] {
            continue;
        }
        let node = &region.nodes[index];
        if let Op::Param(i) = node.op {
            if let Some(slot) = used.get_mut(i) {
                *slot = true;
            }
        }
        for input in &node.inputs {
            if let Some(slot) = needed.get_mut(input.index()) {
                *slot = true;
            }
        }
    }
    used
}

/// The capture inputs whose parameter is used.
pub(crate) fn captures_used(captures: &[NodeId], used: &[bool]) -> Vec<NodeId> {
    captures
        .iter()
        .zip(used)
        .filter(|(_, &u)| u)
        .map(|(c, _)| *c)
        .collect()
}

/// What region node `node` reads, given which parameters its regions use
/// (`used`: the branches', or the body's): a `cond`'s predicate and per
/// branch its used captures; a loop's init, `xs` and its body's captures.
pub(crate) fn need(node: &Node, used: &[Vec<bool>]) -> Result<Need, Diag> {
    match (&node.op, used, node.inputs.split_first()) {
        (Op::Cond { .. }, [then, other], Some((&pred, captures))) => Ok(Need::Cond {
            pred,
            branches: [
                captures_used(captures, then),
                captures_used(captures, other),
            ],
        }),
        (Op::Fold { .. } | Op::Scan { .. }, [body], _) if node.inputs.len() >= 2 => {
            let mut reads = node.inputs[..2].to_vec();
            let used = body.get(2..).unwrap_or(&[]);
            reads.extend(captures_used(&node.inputs[2..], used));
            Ok(Need::Inputs(reads))
        }
        _ => Err(region_error(node, "has not the inputs its regions take")),
    }
}

/// An internal error at a `cond`/`fold` node.
fn region_error(node: &Node, message: impl std::fmt::Display) -> Diag {
    Diag::internal(
        "backend",
        format!("{}: {message}", node.op.name()),
        Some(node.span),
    )
}
