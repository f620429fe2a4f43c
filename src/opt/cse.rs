//! Common-subexpression elimination (`cse`): hash-consing of (op, attributes,
//! inputs, type) in one walk in topological order, inside every region; a region
//! node that recomputes an outer value captures it instead (rules and limits:
//! `docs/optimiser.md`).

use super::rewrite::{apply_alias, for_each_region_in};
use super::values::{leading_values, same_bits};
use super::Pass;
use crate::ir::{Graph, Node, NodeId, Op};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Constants up to this many elements are compared by value.
pub const MAX_COMPARED_CONST: usize = 1024;

pub struct Cse;

impl Pass for Cse {
    fn name(&self) -> &'static str {
        "cse"
    }

    fn run(&self, graph: &mut Graph) -> Result<bool, String> {
        cse_graph(graph)
    }
}

fn cse_graph(graph: &mut Graph) -> Result<bool, String> {
    let mut changed = for_each_region_in(graph, cse_graph)?;
    let mut alias: Vec<NodeId> = graph.ids().collect();
    let mut table: HashMap<u64, Vec<NodeId>> = HashMap::new();
    for index in 0..graph.len() {
        let id = NodeId(index as u32);
        let node = &mut graph.nodes[index];
        for input in &mut node.inputs {
            *input = *alias
                .get(input.index())
                .ok_or_else(|| format!("input {input} is out of range"))?;
        }
        if matches!(node.op, Op::Assign { .. } | Op::Group) {
            continue;
        }
        if matches!(node.op, Op::Cond { .. } | Op::Fold { .. } | Op::Scan { .. }) {
            changed |= hoist_into_captures(graph, index, &table)?;
        }
        let bucket = table.entry(hash_node(&graph.nodes[index])).or_default();
        let node = &graph.nodes[index];
        match bucket
            .iter()
            .find(|&&prev| same_node(&graph.nodes[prev.index()], node))
        {
            Some(&prev) => {
                alias[index] = prev;
                changed = true;
            }
            None => bucket.push(id),
        }
    }
    // Inputs are already rewritten; this rewrites the results.
    apply_alias(graph, &alias)?;
    Ok(changed)
}

/// Region nodes of the `cond`/`fold` at `index` that recompute a value the
/// enclosing graph already has (the same op on the captures of the same outer
/// nodes) become captures of that value. Only infallible ops move: a capture of
/// a `fold` is computed before the loop even when it runs zero times, and a
/// `cond` computes only the captures its taken branch uses, so nothing runs that
/// did not run before, except once instead of once per iteration.
fn hoist_into_captures(
    graph: &mut Graph,
    index: usize,
    table: &HashMap<u64, Vec<NodeId>>,
) -> Result<bool, String> {
    let (before, rest) = graph.nodes.split_at_mut(index);
    let Some(node) = rest.first_mut() else {
        return Ok(false);
    };
    let fixed = usize::from(matches!(node.op, Op::Cond { .. }));
    let regions = node.op.regions_mut();
    if regions.is_empty() {
        return Ok(false);
    }
    // A param's outer value: `cond` param k is input 1 + k; `fold` params 0 and 1
    // (acc, x) change per iteration, param k >= 2 is input k.
    let capture_of = |k: usize| -> Option<NodeId> {
        if fixed == 0 && k < 2 {
            None
        } else {
            node.inputs.get(fixed + k).copied()
        }
    };
    let mut new_captures: Vec<NodeId> = Vec::new();
    let mut plans: Vec<Vec<(usize, NodeId)>> = Vec::new();
    for region in &regions {
        let mut equivalent: Vec<Option<NodeId>> = vec![None; region.len()];
        let mut plan = Vec::new();
        for (r, inner) in region.nodes.iter().enumerate() {
            if let Op::Param(k) = inner.op {
                equivalent[r] = capture_of(k);
                continue;
            }
            let is_const = matches!(inner.op, Op::Const(_));
            if !is_const && !infallible(&inner.op) {
                continue;
            }
            let Some(outer_inputs) = inner
                .inputs
                .iter()
                .map(|i| equivalent.get(i.index()).copied().flatten())
                .collect::<Option<Vec<NodeId>>>()
            else {
                continue;
            };
            let probe = Node {
                op: inner.op.clone(),
                inputs: outer_inputs,
                ty: inner.ty.clone(),
                span: inner.span,
            };
            let found = table.get(&hash_node(&probe)).and_then(|bucket| {
                bucket
                    .iter()
                    .copied()
                    .find(|p| before.get(p.index()).is_some_and(|o| same_node(o, &probe)))
            });
            if let Some(outer) = found {
                equivalent[r] = Some(outer);
                if !is_const {
                    plan.push((r, outer));
                    if !new_captures.contains(&outer) {
                        new_captures.push(outer);
                    }
                }
            }
        }
        plans.push(plan);
    }
    if new_captures.is_empty() {
        return Ok(false);
    }
    let new_types: Vec<_> = new_captures
        .iter()
        .map(|o| before[o.index()].ty.clone())
        .collect();
    for (region, plan) in regions.into_iter().zip(plans) {
        let first = region.params.len();
        region.params.extend(new_types.iter().cloned());
        for (r, outer) in plan {
            let k = new_captures
                .iter()
                .position(|c| *c == outer)
                .ok_or("a hoisted value has no capture")?;
            let inner = &mut region.nodes[r];
            inner.op = Op::Param(first + k);
            inner.inputs.clear();
        }
    }
    node.inputs.extend(new_captures);
    Ok(true)
}

/// Ops that cannot fail at run time and have no effect (`x[i]` can fail; leaves,
/// regions and effects are not values to move).
fn infallible(op: &Op) -> bool {
    use crate::ir::OpKind::*;
    let fallible = matches!(
        op,
        Op::Random { .. }
            | Op::Grad(_)
            | Op::Index
            | Op::Take { .. }
            | Op::SparseSoftmaxCrossEntropy
    );
    !fallible && matches!(op.kind(), Elementwise | Reduction | Movement | Network)
}

fn hash_node(node: &Node) -> u64 {
    let mut h = DefaultHasher::new();
    node.op.name().hash(&mut h);
    node.inputs.hash(&mut h);
    node.ty.hash(&mut h);
    match &node.op {
        Op::Placeholder { name } | Op::Variable { name } => name.hash(&mut h),
        Op::Param(p) => p.hash(&mut h),
        Op::Const(t) => {
            for v in leading_values(t, 8) {
                v.to_bits().hash(&mut h);
            }
        }
        Op::Reduce { axes, .. } => axes.hash(&mut h),
        Op::Transpose { perm } => perm.hash(&mut h),
        _ => {}
    }
    h.finish()
}

/// Whether two nodes compute the same value.
fn same_node(a: &Node, b: &Node) -> bool {
    a.inputs == b.inputs && a.ty == b.ty && same_op(&a.op, &b.op)
}

fn same_op(a: &Op, b: &Op) -> bool {
    match (a, b) {
        (Op::Const(x), Op::Const(y)) => {
            Arc::ptr_eq(x, y) || (x.len() <= MAX_COMPARED_CONST && same_bits(x, y))
        }
        (Op::Pad { pads: p, value: v }, Op::Pad { pads: q, value: w }) => {
            p == q && v.to_bits() == w.to_bits()
        }
        (
            Op::Cond {
                then_body: t1,
                else_body: e1,
            },
            Op::Cond {
                then_body: t2,
                else_body: e2,
            },
        ) => same_graph(t1, t2) && same_graph(e1, e2),
        (Op::Fold { body: b1 }, Op::Fold { body: b2 }) => same_graph(b1, b2),
        (
            Op::Scan {
                body: b1,
                reverse: r1,
                carry: c1,
            },
            Op::Scan {
                body: b2,
                reverse: r2,
                carry: c2,
            },
        ) => r1 == r2 && c1 == c2 && same_graph(b1, b2),
        (Op::Assign { .. }, _) | (Op::Group, _) | (Op::Const(_), _) | (Op::Pad { .. }, _) => false,
        (Op::Cond { .. }, _) | (Op::Fold { .. }, _) | (Op::Scan { .. }, _) => false,
        _ => a == b,
    }
}

/// Structural equality of regions (spans ignored).
fn same_graph(a: &Graph, b: &Graph) -> bool {
    a.params == b.params
        && a.results == b.results
        && a.len() == b.len()
        && a.nodes.iter().zip(&b.nodes).all(|(x, y)| same_node(x, y))
}
