//! Backward rules of the per-step random ops.

use super::emit::Emit;
use super::rules_elementwise::input;
use crate::diag::Diag;
use crate::ir::{Node, NodeId, Op, RandomKind};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// `y = dropout(x, rate, step)` is `x * mask * scale`, linear in `x`:
/// dx = dropout(g, rate, step) with the same seed, so the same mask and scale
/// are drawn again from the same key instead of being stored. `rate` (the
/// mask is a step function of it) and `step` pass no gradient; `random_normal`
/// and `random_uniform` read only the step.
pub(crate) fn random(
    e: &mut Emit,
    kind: RandomKind,
    seed: u64,
    node: &Node,
    g: NodeId,
) -> Contributions {
    match kind {
        RandomKind::Normal | RandomKind::Uniform => Ok(vec![]),
        RandomKind::Dropout => {
            let (x, rate, step) = (input(e, node, 0)?, input(e, node, 1)?, input(e, node, 2)?);
            let ty = e.ty(x);
            let mut inputs = vec![g, rate, step];
            // The global first row (a data-parallel share) and the loop word
            // (inside a `fold` body) key the same mask.
            for k in 3..node.inputs.len() {
                inputs.push(input(e, node, k)?);
            }
            let dx = e.add(Op::Random { kind, seed }, inputs, ty);
            let mut contributions = vec![Some(dx), None, None];
            contributions.resize(node.inputs.len(), None);
            Ok(contributions)
        }
    }
}
