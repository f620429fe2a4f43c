//! Constant folding (`const-fold`): a node whose inputs are all constants
//! becomes a constant, and a `cond` with a constant predicate becomes its taken
//! branch. Values come from [`crate::kernels::eval::eval_pure`], the evaluator
//! the backends run, so folding never changes a result (limits: `docs/optimiser.md`).

use super::rewrite::{const_of, for_each_region_in};
use super::Pass;
use crate::ir::{Graph, Node, NodeId, Op, Tensor};
use crate::kernels::eval::eval_pure;
use std::sync::Arc;

/// The largest folded constant, in elements.
pub const MAX_FOLD_ELEMENTS: usize = 1 << 16;

pub struct ConstFold;

impl Pass for ConstFold {
    fn name(&self) -> &'static str {
        "const-fold"
    }

    fn run(&self, graph: &mut Graph) -> Result<bool, String> {
        fold_graph(graph)
    }
}

fn fold_graph(graph: &mut Graph) -> Result<bool, String> {
    let mut changed = for_each_region_in(graph, fold_graph)?;
    for index in 0..graph.len() {
        let node = &graph.nodes[index];
        if node.inputs.is_empty()
            || node.ty.shape.checked_numel().unwrap_or(usize::MAX) > MAX_FOLD_ELEMENTS
        {
            continue;
        }
        let Some(values) = node
            .inputs
            .iter()
            .map(|i| const_of(graph, *i).cloned())
            .collect::<Option<Vec<Arc<Tensor>>>>()
        else {
            continue;
        };
        let refs: Vec<&Tensor> = values.iter().map(|t| t.as_ref()).collect();
        // Autodiff's internal gradient ops are left to the backends (they are
        // large and rarely constant); an op the evaluator rejects, such as an
        // index out of range, is left for the run to report.
        // `allreduce` talks to the other processes at run time.
        if matches!(node.op, Op::Grad(_) | Op::Allreduce { .. }) {
            continue;
        }
        if let Ok(value) = eval_pure(node, &refs) {
            let node = &mut graph.nodes[index];
            node.op = Op::Const(Arc::new(value));
            node.inputs.clear();
            changed = true;
        }
    }
    changed |= inline_constant_conds(graph)?;
    Ok(changed)
}

/// The value of a constant `bool[]` predicate.
fn constant_predicate(graph: &Graph, node: &Node) -> Option<bool> {
    let pred = const_of(graph, *node.inputs.first()?)?;
    match pred.as_ref() {
        Tensor::Bool(a) if a.ndim() == 0 => a.iter().next().copied(),
        _ => None,
    }
}

/// Replaces each `cond` with a constant predicate by a copy of its taken branch.
fn inline_constant_conds(graph: &mut Graph) -> Result<bool, String> {
    let any = graph.nodes.iter().any(|node| {
        matches!(node.op, Op::Cond { .. }) && constant_predicate(graph, node).is_some()
    });
    if !any {
        return Ok(false);
    }
    let predicates: Vec<Option<bool>> = graph
        .nodes
        .iter()
        .map(|node| match node.op {
            Op::Cond { .. } => constant_predicate(graph, node),
            _ => None,
        })
        .collect();
    let old = std::mem::take(&mut graph.nodes);
    let mut map: Vec<NodeId> = Vec::with_capacity(old.len());
    for (node, predicate) in old.into_iter().zip(predicates) {
        let inputs = remap(&map, &node.inputs)?;
        match (node.op, predicate) {
            (
                Op::Cond {
                    then_body,
                    else_body,
                },
                Some(taken),
            ) => {
                let branch = if taken { then_body } else { else_body };
                let captures = inputs.get(1..).unwrap_or(&[]);
                map.push(inline_region(&mut graph.nodes, &branch, captures)?);
            }
            (op, _) => {
                map.push(NodeId(graph.nodes.len() as u32));
                graph.nodes.push(Node {
                    op,
                    inputs,
                    ty: node.ty,
                    span: node.span,
                });
            }
        }
    }
    graph.results = remap(&map, &graph.results)?;
    Ok(true)
}

fn remap(map: &[NodeId], ids: &[NodeId]) -> Result<Vec<NodeId>, String> {
    ids.iter()
        .map(|id| {
            map.get(id.index())
                .copied()
                .ok_or_else(|| format!("{id} is used before it is defined"))
        })
        .collect()
}

/// Appends the nodes of `region` to `nodes` (params become `captures`) and
/// returns the id of its result.
fn inline_region(
    nodes: &mut Vec<Node>,
    region: &Graph,
    captures: &[NodeId],
) -> Result<NodeId, String> {
    let mut map: Vec<NodeId> = Vec::with_capacity(region.len());
    for node in &region.nodes {
        if let Op::Param(p) = node.op {
            let capture = captures
                .get(p)
                .copied()
                .ok_or_else(|| format!("param {p} has no capture"))?;
            map.push(capture);
            continue;
        }
        map.push(NodeId(nodes.len() as u32));
        nodes.push(Node {
            op: node.op.clone(),
            inputs: remap(&map, &node.inputs)?,
            ty: node.ty.clone(),
            span: node.span,
        });
    }
    match region.results.as_slice() {
        [result] => remap(&map, &[*result]).map(|ids| ids[0]),
        other => Err(format!("a branch has {} results, not 1", other.len())),
    }
}
