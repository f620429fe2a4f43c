//! Common-subexpression elimination: identical (op, inputs) pairs are merged.
//! ```text
//! before:                                  after:
//! %0 = placeholder x : f32[4]              %0 = placeholder x : f32[4]
//! %1 = exp %0 : f32[4]                     %1 = exp %0 : f32[4]
//! %2 = exp %0 : f32[4]                     %2 = exp %0 : f32[4]   (dead, DCE removes it)
//! %3 = add %1, %2 : f32[4]                 %3 = add %1, %1 : f32[4]
//! ```
//! Hash-consing in one walk in topological order: each node's inputs are first
//! rewritten to their representatives, then the node is looked up by (op,
//! attributes, inputs, type); a match becomes its representative. This merges
//! the forward and backward passes' shared subexpressions too, and runs inside
//! every region (each region on its own; whole `cond`/`fold` nodes merge when
//! their regions are structurally identical).
//!
//! Limits and rules:
//! - constants are compared by value, bit for bit (`-0.0` ≠ `0.0`), only up to
//!   [`MAX_COMPARED_CONST`] elements; larger ones merge only when they share storage;
//! - `assign` and `group` never merge (they are effects, not values); placeholders
//!   and variables merge only with the same name (the same value in a step);
//! - no commutativity: `a + b` and `b + a` stay apart (NaN payloads may depend
//!   on the operand order), and nothing merges across region boundaries.

use super::eval::{leading_values, same_bits};
use super::rewrite::{apply_alias, for_each_region_in};
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
        let bucket = table.entry(hash_node(node)).or_default();
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
        (Op::Assign { .. }, _) | (Op::Group, _) | (Op::Const(_), _) | (Op::Pad { .. }, _) => false,
        (Op::Cond { .. }, _) | (Op::Fold { .. }, _) => false,
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
