//! Which node runs how: the fusion of elementwise chains into groups, `MatMul`
//! through GEMM, `cond`/`fold` through their compiled regions, and everything
//! else through the interpreter's kernels.
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

mod matmul;
pub(crate) mod multi;

use super::fused::Group;
use super::kinds::{FusedId, Id, MatMulId, ReduceId, RegionId, Table};
use super::matmul::MatMul;
use super::ops;
use super::reduce::{self, Reduction};
use crate::diag::Diag;
use crate::ir::{DType, Graph, Node, NodeId, Op, ReduceOp};
use matmul::{matmul_lowered, matmul_plan};

/// How one planned node is computed.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Not needed by the fetches.
    Unused,
    /// Computed in registers by the group of another node.
    Inlined,
    /// The root of a fused group (its kernel).
    Fused(FusedId),
    /// A matmul kernel (GEMM from JIT code).
    MatMul(MatMulId),
    /// A fused reduction kernel.
    Reduce(ReduceId),
    /// An elementwise root stored by a reduction kernel as a second output
    /// (it iterates the same elements).
    Side(ReduceId),
    /// A root stored by the kernel of another group (one with several
    /// outputs, `plan/multi.rs`), computed with it.
    Output(FusedId),
    /// A Rust kernel writing into the node's arena slot or a pooled buffer
    /// (slices, pads, `take`, pooling, losses: [`super::direct`]).
    Direct,
    /// A `cond` or `fold` whose regions are compiled executables, a region
    /// entry of the executable ([`super::control`]).
    Region(RegionId),
    /// Leaves, state, control flow and every op without a native kernel yet:
    /// the interpreter's kernel for this node.
    Fallback,
}

pub(crate) struct Planned {
    pub(crate) steps: Vec<Step>,
    pub(crate) groups: Table<FusedId, Group>,
    pub(crate) matmuls: Table<MatMulId, MatMul>,
    pub(crate) reductions: Table<ReduceId, Reduction>,
    /// The `cond` and `fold` nodes, in graph order (`Step::Region` ids).
    pub(crate) regions: Table<RegionId, NodeId>,
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
        Op::Random { .. } => super::dropout::lowered(graph, node),
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

/// Reduced terms per output below which a `sum`/`mean` inside a region runs
/// the interpreter's kernel (exact `f64` pairwise sums) rather than a fused
/// reduction (`f32` lane accumulators): a loop feeds each result back in, so
/// a last-bit difference compounds over iterations and training steps (it
/// shows in `programs/fold_rnn.out` after 20 steps); a short sum gains little
/// from a kernel anyway.
const REGION_MIN_TERMS: usize = 64;

/// Whether reduction `id` runs as a fused reduction kernel.
fn fused_reduction(graph: &Graph, id: NodeId, in_region: bool) -> bool {
    let node = graph.node(id);
    let short_sum = match &node.op {
        Op::Reduce { op, axes, .. } => {
            let dims = node.inputs.first().map(|&i| graph.ty(i).shape.dims());
            let terms: usize = axes
                .iter()
                .filter_map(|&a| dims.and_then(|d| d.get(a)))
                .product();
            matches!(op, ReduceOp::Sum | ReduceOp::Mean) && terms < REGION_MIN_TERMS
        }
        _ => false,
    };
    reduce::reducible(graph, id) && !(in_region && short_sum)
}

/// Plans the nodes `fetches` need (`in_region`: of a `cond` branch or a
/// `fold` body).
pub(crate) fn plan(graph: &Graph, fetches: &[NodeId], in_region: bool) -> Result<Planned, Diag> {
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
    // `random[i]`: node i is a random op or inlines one. A random op draws by
    // its output offset, which a reduction's kernel does not have: such a
    // chain is not inlined into a reduction.
    let mut random = vec![false; n];
    for id in graph.ids() {
        let i = id.index();
        if !needed[i] || fetched[i] || !lowered_node[i] || users[i].is_empty() {
            continue;
        }
        random[i] = super::dropout::is_random(graph, id)
            || graph.node(id).inputs.iter().any(|j| {
                inline.get(j.index()) == Some(&true) && random.get(j.index()) == Some(&true)
            });
        let in_kernel = users[i].iter().all(|user| {
            let elementwise =
                lowered_node[user.index()] && graph.ty(*user).shape == graph.ty(id).shape;
            // A reduction computes its producer's chain in its own kernel.
            elementwise || (!random[i] && fused_reduction(graph, *user, in_region))
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
    let mut groups = Table::new();
    let mut matmuls = Table::new();
    let mut reductions = Table::new();
    let mut regions = Table::new();
    for id in graph.ids() {
        let i = id.index();
        if !needed[i] {
            continue;
        }
        let node = graph.node(id);
        steps[i] = if inline[i] {
            Step::Inlined
        } else if lowered_node[i] {
            Step::Fused(groups.push(collect_group(graph, id, &inline)))
        } else if let (true, Op::Reduce { op, .. }) =
            (fused_reduction(graph, id, in_region), &node.op)
        {
            let mut group = collect_group(graph, id, &inline);
            group.members.retain(|&m| m != id);
            let layout = reduce::layout(graph, id, &group.leaves)?;
            Step::Reduce(reductions.push(Reduction {
                node: id,
                op: *op,
                group,
                layout,
                side: None,
            }))
        } else if matches!(node.op, Op::MatMul) && matmul_lowered(graph, node) {
            Step::MatMul(matmuls.push(matmul_plan(graph, id, &fetched)))
        } else if matches!(node.op, Op::Cond { .. } | Op::Fold { .. } | Op::Scan { .. }) {
            Step::Region(regions.push(id))
        } else if super::direct::handled(graph, node) {
            Step::Direct
        } else {
            Step::Fallback
        };
    }
    // A transpose or reshape every user of which reads its input in place
    // (or is itself not stored) is not stored; transposes first, then the
    // reshapes under them (`transpose(reshape(x))`).
    let below = |id: NodeId| graph.node(id).inputs.clone();
    for depth in 0..2 {
        for mm in &matmuls {
            let mut inputs = graph.node(mm.node).inputs.clone();
            if depth == 1 {
                inputs = inputs.into_iter().flat_map(below).collect();
            }
            for input in inputs {
                let absorbed = |user: &NodeId| match steps[user.index()] {
                    Step::MatMul(m) => !matmuls[m].operands.contains(&input),
                    Step::Unused => depth == 1,
                    _ => false,
                };
                let in_place = matches!(graph.node(input).op, Op::Transpose { .. } | Op::Reshape);
                if in_place
                    && !mm.operands.contains(&input)
                    && !fetched[input.index()]
                    && users[input.index()].iter().all(absorbed)
                {
                    steps[input.index()] = Step::Unused;
                }
            }
        }
    }
    let groups = merge_sides(graph, &mut steps, groups, &mut reductions)?;
    let deps = multi::step_deps(graph, &steps, &groups, &matmuls, &reductions);
    let mut groups = multi::merge_outputs(graph, &mut steps, groups, &deps)?;
    // Slices read in place by the fused kernels (after the side outputs,
    // whose leaves must be the reduction's own, and after the merged
    // outputs, so the views index the merged groups' leaves).
    let (s, g, r) = (&mut steps, &mut groups, &mut reductions);
    super::views::absorb(graph, s, g, r, &matmuls, &fetched)?;
    // In a region (a loop body, or a branch inside one) results feed back,
    // so a last-bit difference from the interpreter compounds over the
    // iterations: transcendentals use its functions there (programs/fold_rnn's
    // loss drifted by 1.2e-5 relative with the inline `tanh`, ≤ 4 ulp).
    for group in groups
        .iter_mut()
        .chain(reductions.iter_mut().map(|r| &mut r.group))
    {
        group.exact = in_region;
    }
    Ok(Planned {
        steps,
        groups,
        matmuls,
        reductions,
        regions,
    })
}

/// Multi-output fusion: an elementwise group of the shape a reduction
/// iterates, whose leaves the reduction kernel also has at hand (its own
/// leaves, or placeholders, variables and constants), is computed and stored
/// by the reduction's kernel: one pass over the inputs instead of two (the
/// forward value and the gradient of a chain). Returns the remaining groups.
fn merge_sides(
    graph: &Graph,
    steps: &mut [Step],
    groups: Table<FusedId, Group>,
    reductions: &mut Table<ReduceId, Reduction>,
) -> Result<Table<FusedId, Group>, Diag> {
    // Extra leaves the reduction's kernel can read: placeholders and
    // variables before it, and constants anywhere (they depend on nothing).
    let source = |id: &NodeId, reduction: NodeId| match graph.node(*id).op {
        Op::Placeholder { .. } | Op::Variable { .. } => *id < reduction,
        Op::Const(_) => true,
        _ => false,
    };
    let mut merged = vec![false; groups.len()];
    for (index, r) in reductions.iter_mut().enumerate() {
        let index = ReduceId::new(index);
        let node = graph.node(r.node);
        let Some(&input) = node.inputs.first() else {
            continue;
        };
        let fits = |group: &Group| {
            group.root().is_some_and(|root| {
                // The side root is demanded after the reduction (it depends
                // on it in the step's evaluation order), and every extra leaf
                // precedes the reduction.
                graph.ty(root).shape == graph.ty(input).shape
                    && graph.ty(root).dtype == node.ty.dtype
                    && !group
                        .members
                        .iter()
                        .any(|&m| super::dropout::is_random(graph, m))
                    && root > r.node
                    && !r.group.leaves.contains(&root)
                    && group
                        .leaves
                        .iter()
                        .all(|l| r.group.leaves.contains(l) || source(l, r.node))
            })
        };
        let found = groups
            .ids()
            .find(|&g| !merged[g.index()] && fits(&groups[g]));
        let Some((g, side)) = found.and_then(|g| Some((g, groups[g].root()?))) else {
            continue;
        };
        merged[g.index()] = true;
        for &m in &groups[g].members {
            if !r.group.members.contains(&m) {
                r.group.members.push(m);
            }
        }
        r.group.members.sort();
        for &l in &groups[g].leaves {
            if !r.group.leaves.contains(&l) {
                r.group.leaves.push(l);
            }
        }
        let mut operands = r.group.leaves.clone();
        operands.push(side);
        r.layout = reduce::layout(graph, r.node, &operands)?;
        r.side = Some(side);
        steps[side.index()] = Step::Side(index);
    }
    // Renumber the remaining groups.
    let mut renumber = vec![None; groups.len()];
    let mut kept = Table::new();
    for (g, group) in groups.into_iter().enumerate() {
        if !merged[g] {
            renumber[g] = Some(kept.push(group));
        }
    }
    for step in steps.iter_mut() {
        if let Step::Fused(g) = step {
            *g = renumber[g.index()].ok_or_else(|| super::codegen::internal("merged group"))?;
        }
    }
    Ok(kept)
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
    Group {
        members,
        leaves,
        exact: false,
        outputs: Vec::new(),
        views: Vec::new(),
    }
}
