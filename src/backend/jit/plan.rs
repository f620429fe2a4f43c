//! Which node runs how: the fusion of elementwise chains into groups, `MatMul`
//! through GEMM, and everything else through the interpreter's kernels.
//!
//! Only nodes reachable from the fetches are planned. An elementwise node is
//! *inlined* into its consumer (computed in registers, never stored) when:
//! - both are elementwise ops the JIT lowers (all of them, on the dtypes the
//!   language allows),
//! - the consumer is its only user among the planned nodes and it is not fetched,
//! - it has the consumer's shape (a smaller producer would be recomputed for
//!   every element it is broadcast to, so it is stored instead).
//!
//! Every other lowered elementwise node is the root of a group.

use super::fused::Group;
use super::ops;
use super::reduce::{self, Reduction};
use crate::syntax::Diag;
use crate::ir::{DType, Graph, Node, NodeId, Op};

/// How one planned node is computed.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Not needed by the fetches.
    Unused,
    /// Computed in registers by the group of another node.
    Inlined,
    /// The root of fused group `index` (its kernel).
    Fused(usize),
    /// A matmul kernel `index` (GEMM from JIT code).
    MatMul(usize),
    /// A fused reduction kernel `index`.
    Reduce(usize),
    /// Leaves, state, control flow and every op without a native kernel yet:
    /// the interpreter's kernel for this node.
    Fallback,
}

pub(crate) struct Planned {
    pub(crate) steps: Vec<Step>,
    pub(crate) groups: Vec<Group>,
    pub(crate) matmuls: Vec<NodeId>,
    pub(crate) reductions: Vec<Reduction>,
}

/// Whether the JIT has native code for this elementwise node.
pub(crate) fn lowered(graph: &Graph, node: &Node) -> bool {
    let dtype = |k: usize| node.inputs.get(k).map(|&i| graph.ty(i).dtype);
    let arity = |n: usize| node.inputs.len() == n;
    match &node.op {
        Op::Unary(op) => arity(1) && dtype(0).is_some_and(|d| ops::unary_lowered(*op, d)),
        Op::Binary(op) => {
            arity(2)
                && dtype(0) == dtype(1)
                && dtype(0).is_some_and(|d| ops::binary_lowered(*op, d))
        }
        Op::Select => arity(3) && dtype(0) == Some(DType::Bool) && dtype(1) == dtype(2),
        Op::Cast(_) | Op::StopGradient | Op::Broadcast => arity(1),
        _ => false,
    }
}

/// Whether the matmul kernel handles this node: f32/f64, both inputs of rank ≥ 2.
fn matmul_lowered(graph: &Graph, node: &Node) -> bool {
    let [a, b] = node.inputs.as_slice() else {
        return false;
    };
    let (ta, tb) = (graph.ty(*a), graph.ty(*b));
    ta.dtype.is_float()
        && ta.dtype == tb.dtype
        && ta.shape.rank() >= 2
        && tb.shape.rank() >= 2
        && node.ty.shape.rank() >= 2
}

/// Plans the nodes `fetches` need.
pub(crate) fn plan(graph: &Graph, fetches: &[NodeId]) -> Result<Planned, Diag> {
    let n = graph.len();
    // Reachability from the fetches (all inputs, including every capture of a
    // `cond`: a superset of what a step computes, which only matters for users).
    let mut needed = vec![false; n];
    let mut stack: Vec<NodeId> = fetches.iter().copied().filter(|f| f.index() < n).collect();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut needed[id.index()], true) {
            continue;
        }
        stack.extend(graph.node(id).inputs.iter().filter(|i| i.index() < n));
    }
    // Users among needed nodes; a fetch counts as a user that is not elementwise.
    let mut users: Vec<Vec<NodeId>> = vec![Vec::new(); n];
    for id in graph.ids().filter(|id| needed[id.index()]) {
        for &input in &graph.node(id).inputs {
            if input.index() < n {
                users[input.index()].push(id);
            }
        }
    }
    let mut fetched = vec![false; n];
    for f in fetches.iter().filter(|f| f.index() < n) {
        fetched[f.index()] = true;
    }
    let lowered_node: Vec<bool> = graph
        .nodes
        .iter()
        .map(|node| lowered(graph, node))
        .collect();
    let mut inline_into: Vec<Option<NodeId>> = vec![None; n];
    for id in graph.ids() {
        let i = id.index();
        if !needed[i] || fetched[i] || !lowered_node[i] {
            continue;
        }
        if let [user] = users[i].as_slice() {
            let elementwise =
                lowered_node[user.index()] && graph.ty(*user).shape == graph.ty(id).shape;
            // A reduction computes its producer's chain in its own kernel.
            if elementwise || reduce::reducible(graph, *user) {
                inline_into[i] = Some(*user);
            }
        }
    }
    // Roots, with their members collected by walking inlined inputs.
    let mut steps = vec![Step::Unused; n];
    let mut groups = Vec::new();
    let mut matmuls = Vec::new();
    let mut reductions = Vec::new();
    for id in graph.ids() {
        let i = id.index();
        if !needed[i] {
            continue;
        }
        let node = graph.node(id);
        steps[i] = if inline_into[i].is_some() {
            Step::Inlined
        } else if lowered_node[i] {
            groups.push(collect_group(graph, id, &inline_into));
            Step::Fused(groups.len() - 1)
        } else if let (true, Op::Reduce { op, .. }) = (reduce::reducible(graph, id), &node.op) {
            let mut group = collect_group(graph, id, &inline_into);
            group.members.retain(|&m| m != id);
            let layout = reduce::layout(graph, id, &group.leaves)?;
            reductions.push(Reduction {
                node: id,
                op: *op,
                group,
                layout,
            });
            Step::Reduce(reductions.len() - 1)
        } else if matches!(node.op, Op::MatMul) && matmul_lowered(graph, node) {
            matmuls.push(id);
            Step::MatMul(matmuls.len() - 1)
        } else {
            Step::Fallback
        };
    }
    Ok(Planned {
        steps,
        groups,
        matmuls,
        reductions,
    })
}

/// The group rooted at `root`: members (topologically sorted, root last) and
/// leaves (distinct, in order of first use).
fn collect_group(graph: &Graph, root: NodeId, inline_into: &[Option<NodeId>]) -> Group {
    let mut members = vec![root];
    let mut leaves = Vec::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        for &input in &graph.node(id).inputs {
            let inlined = inline_into.get(input.index()).copied().flatten() == Some(id);
            if inlined {
                members.push(input);
                stack.push(input);
            } else if !leaves.contains(&input) {
                leaves.push(input);
            }
        }
    }
    members.sort();
    Group { members, leaves }
}
