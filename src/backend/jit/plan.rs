//! Which node runs how: the fusion of elementwise chains into groups, `MatMul`
//! through GEMM, and everything else through the interpreter's kernels.
//!
//! Only nodes reachable from the fetches are planned. An elementwise node is
//! *inlined* into its consumers (computed in registers, never stored) when:
//! - it is an elementwise op the JIT lowers, and it is not fetched;
//! - every user is a lowered elementwise op of the same shape (a smaller
//!   producer would be recomputed for every element it is broadcast to, so it
//!   is stored instead) or a fused reduction ([`super::reduce`]) of it;
//! - it has one user, or its inlined subtree is cheap (inline `f32` ops, at
//!   most [`RECOMPUTE_COST`]): then each user's kernel recomputes it, which
//!   costs less than storing and reloading it on memory-bound chains (the
//!   forward value and the gradient of a chain share `a*b+c` and `sigmoid(d)`).
//!
//! Every other lowered elementwise node is the root of a group; every float
//! `sum`/`mean`/`max`/`min` is the root of a fused reduction.

use super::fused::Group;
use super::ops;
use super::reduce::{self, Reduction};
use crate::ir::{DType, Graph, Node, NodeId, Op};
use crate::syntax::Diag;

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

/// The largest inlined subtree (in ops) recomputed by each of several users.
const RECOMPUTE_COST: usize = 12;

/// Whether `node` is cheap enough to recompute in several kernels: `f32` ops
/// generated inline (no helper calls).
fn cheap(graph: &Graph, node: &Node) -> bool {
    use crate::ir::{BinaryOp as B, UnaryOp as U};
    let f32_in = node
        .inputs
        .iter()
        .all(|&i| matches!(graph.ty(i).dtype, DType::F32 | DType::Bool));
    f32_in
        && match &node.op {
            Op::Unary(op) => matches!(
                op,
                U::Neg | U::Abs | U::Relu | U::Exp | U::Sigmoid | U::Sqrt
            ),
            Op::Binary(op) => !matches!(op, B::Pow | B::And | B::Or),
            Op::Select | Op::Broadcast | Op::StopGradient => true,
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
    // `inline[i]`: node i is computed in registers inside the kernel of every
    // user. With one user always; with several (each then recomputes it) only
    // when its inlined subtree is cheap, which saves storing and reloading it.
    let mut inline = vec![false; n];
    let mut cost = vec![0usize; n];
    for id in graph.ids() {
        let i = id.index();
        if !needed[i] || fetched[i] || !lowered_node[i] || users[i].is_empty() {
            continue;
        }
        let in_kernel = users[i].iter().all(|user| {
            let elementwise =
                lowered_node[user.index()] && graph.ty(*user).shape == graph.ty(id).shape;
            // A reduction computes its producer's chain in its own kernel.
            elementwise || reduce::reducible(graph, *user)
        });
        let node = graph.node(id);
        cost[i] = 1 + node
            .inputs
            .iter()
            .filter(|j| inline.get(j.index()) == Some(&true))
            .map(|j| cost[j.index()])
            .sum::<usize>();
        let single = users[i].len() == 1;
        inline[i] = in_kernel && (single || (cheap(graph, node) && cost[i] <= RECOMPUTE_COST));
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
        steps[i] = if inline[i] {
            Step::Inlined
        } else if lowered_node[i] {
            groups.push(collect_group(graph, id, &inline));
            Step::Fused(groups.len() - 1)
        } else if let (true, Op::Reduce { op, .. }) = (reduce::reducible(graph, id), &node.op) {
            let mut group = collect_group(graph, id, &inline);
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
fn collect_group(graph: &Graph, root: NodeId, inline: &[bool]) -> Group {
    let mut members = vec![root];
    let mut leaves = Vec::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        for &input in &graph.node(id).inputs {
            if inline.get(input.index()) == Some(&true) {
                if !members.contains(&input) {
                    members.push(input);
                    stack.push(input);
                }
            } else if !leaves.contains(&input) {
                leaves.push(input);
            }
        }
    }
    members.sort();
    Group { members, leaves }
}
