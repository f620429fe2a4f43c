//! Algebraic simplification (`simplify`): each rule gives bit-identical results
//! for every input, NaN, infinities and signed zeros included. A rule replaces a
//! node by an input of exactly its type, or rewrites it in place; the rules and
//! those left out on purpose are listed in `docs/optimiser.md`.

use super::rewrite::{apply_alias, const_of, for_each_region_in};
use super::values::splat_value;
use super::Pass;
use crate::ir::{BinaryOp, DType, GradOp, Graph, NodeId, Op, UnaryOp};

pub struct Simplify;

impl Pass for Simplify {
    fn name(&self) -> &'static str {
        "simplify"
    }

    fn run(&self, graph: &mut Graph) -> Result<bool, String> {
        simplify_graph(graph)
    }
}

/// What a rule does to a node.
enum Rewrite {
    /// Every use of the node becomes a use of this (earlier) node.
    Alias(NodeId),
    /// The node becomes this op on these inputs (same type).
    Replace(Op, Vec<NodeId>),
}

fn simplify_graph(graph: &mut Graph) -> Result<bool, String> {
    let mut changed = for_each_region_in(graph, simplify_graph)?;
    let mut alias: Vec<NodeId> = graph.ids().collect();
    for index in 0..graph.len() {
        for input in &mut graph.nodes[index].inputs {
            *input = *alias
                .get(input.index())
                .ok_or_else(|| format!("input {input} is out of range"))?;
        }
        match rule(graph, NodeId(index as u32)) {
            Some(Rewrite::Alias(target)) if graph.ty(target) == graph.ty(NodeId(index as u32)) => {
                alias[index] = target;
                changed = true;
            }
            Some(Rewrite::Replace(op, inputs)) => {
                let node = &mut graph.nodes[index];
                node.op = op;
                node.inputs = inputs;
                changed = true;
            }
            _ => {}
        }
    }
    apply_alias(graph, &alias)?;
    Ok(changed)
}

/// The value every element of `id` has, when `id` is a constant or a broadcast
/// of one whose elements are all the same (compared bit for bit).
fn splat(graph: &Graph, id: NodeId) -> Option<f64> {
    if let Some(t) = const_of(graph, id) {
        return splat_value(t);
    }
    let node = graph.node(id);
    match (&node.op, node.inputs.as_slice()) {
        (Op::Broadcast, [x]) => splat_value(const_of(graph, *x)?),
        _ => None,
    }
}

fn is_one(graph: &Graph, id: NodeId) -> bool {
    splat(graph, id) == Some(1.0)
}

/// `+0.0` (or integer zero) exactly.
fn is_plus_zero(graph: &Graph, id: NodeId) -> bool {
    splat(graph, id).is_some_and(|v| v.to_bits() == 0)
}

fn is_minus_zero(graph: &Graph, id: NodeId) -> bool {
    splat(graph, id).is_some_and(|v| v.to_bits() == (-0.0f64).to_bits())
}

fn rule(graph: &Graph, id: NodeId) -> Option<Rewrite> {
    let node = graph.node(id);
    let input = |k: usize| node.inputs.get(k).copied();
    let producer = |k: usize| input(k).map(|i| graph.node(i));
    match &node.op {
        Op::Binary(op) => {
            let (a, b) = (input(0)?, input(1)?);
            let float = node.ty.dtype.is_float();
            let additive_zero = |x| {
                if float {
                    is_minus_zero(graph, x)
                } else {
                    node.ty.dtype == DType::I32 && is_plus_zero(graph, x)
                }
            };
            match op {
                BinaryOp::Mul if is_one(graph, b) => Some(Rewrite::Alias(a)),
                BinaryOp::Mul if is_one(graph, a) => Some(Rewrite::Alias(b)),
                BinaryOp::Div if is_one(graph, b) => Some(Rewrite::Alias(a)),
                BinaryOp::Sub if is_plus_zero(graph, b) => Some(Rewrite::Alias(a)),
                BinaryOp::Add if additive_zero(b) => Some(Rewrite::Alias(a)),
                BinaryOp::Add if additive_zero(a) => Some(Rewrite::Alias(b)),
                _ => None,
            }
        }
        Op::Unary(op @ (UnaryOp::Neg | UnaryOp::Not)) => {
            let inner = producer(0)?;
            match inner.op {
                Op::Unary(u) if u == *op => Some(Rewrite::Alias(*inner.inputs.first()?)),
                _ => None,
            }
        }
        Op::Transpose { perm } => {
            let x = input(0)?;
            let identity = |p: &[usize]| p.iter().enumerate().all(|(i, &q)| i == q);
            if identity(perm) {
                return Some(Rewrite::Alias(x));
            }
            match &graph.node(x).op {
                Op::Transpose { perm: inner } if inner.len() == perm.len() => {
                    let inner_x = *graph.node(x).inputs.first()?;
                    // Output axis i is inner axis perm[i], which is x's axis inner[perm[i]].
                    let composed: Vec<usize> = perm
                        .iter()
                        .map(|&p| inner.get(p).copied())
                        .collect::<Option<_>>()?;
                    if identity(&composed) {
                        Some(Rewrite::Alias(inner_x))
                    } else {
                        Some(Rewrite::Replace(
                            Op::Transpose { perm: composed },
                            vec![inner_x],
                        ))
                    }
                }
                _ => None,
            }
        }
        Op::Reshape => {
            let x = input(0)?;
            if graph.ty(x) == &node.ty {
                return Some(Rewrite::Alias(x));
            }
            match graph.node(x).op {
                Op::Reshape => Some(Rewrite::Replace(
                    Op::Reshape,
                    vec![*graph.node(x).inputs.first()?],
                )),
                _ => None,
            }
        }
        // Each becomes `x` only when its type is `x`'s (checked by the caller):
        // a slice of that type starts at 0 and takes everything.
        Op::Cast(_) | Op::Broadcast | Op::Grad(GradOp::Slice { .. }) => {
            Some(Rewrite::Alias(input(0)?))
        }
        Op::Select => match splat(graph, input(0)?)? {
            v if v != 0.0 => Some(Rewrite::Alias(input(1)?)),
            _ => Some(Rewrite::Alias(input(2)?)),
        },
        // With no step, a scan's value `[state]` is its init too.
        Op::Fold { .. } | Op::Scan { .. } => {
            let xs = input(1)?;
            (graph.ty(xs).shape.dims().first() == Some(&0)).then_some(Rewrite::Alias(input(0)?))
        }
        _ => None,
    }
}
