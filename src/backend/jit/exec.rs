//! Running a compiled [`Executable`] for one step.
//!
//! Evaluation is demand-driven from the fetches, like the interpreter's frame
//! (an explicit stack, one memo per step), so a `cond` computes only its
//! predicate and the captures its taken branch uses. Fused groups and matmuls
//! run their native kernels; every other node runs the interpreter's kernel
//! ([`interp::eval_pure`], or a one-node graph for `cond`/`fold`, whose regions
//! the interpreter runs).

use super::calls::run_kernel;
use super::codegen::{internal, Jit, Kernel};
use super::fused::Group;
use super::matmul::MatMul;
use super::parallel::{parts, split};
use super::plan::Step;
use super::pool::Pool;
use super::reduce::Reduction;
use super::tensors::{is_standard, Val};
use crate::backend::interp::{self, StepInputs, StepResult};
use crate::ir::{Graph, Node, NodeId, Op, Tensor, TensorType};
use crate::syntax::Diag;
use std::collections::HashMap;
use std::sync::Arc;

/// The native code and plan for one fetch set of one graph: built once, run
/// every step.
pub struct Executable {
    pub(crate) graph: Graph,
    pub(crate) fetches: Vec<NodeId>,
    pub(crate) steps: Vec<Step>,
    pub(crate) groups: Vec<Group>,
    /// One kernel per group.
    pub(crate) fused: Vec<Kernel>,
    /// Per group: the size of its outermost loop (split among threads) and the
    /// elements per step of it.
    pub(crate) fused_split: Vec<(usize, usize)>,
    pub(crate) reductions: Vec<Reduction>,
    /// One kernel per reduction.
    pub(crate) reduce_kernels: Vec<Kernel>,
    /// Buffers of kernel outputs and partials, reused from step to step.
    pub(crate) pool: Pool,
    /// Per node: how many computations list it as a dependency (see
    /// `count_uses`); `fetched`: whether it is a fetch.
    pub(crate) uses: Vec<u32>,
    pub(crate) fetched: Vec<bool>,
    /// One kernel per planned matmul node.
    pub(crate) matmuls: Vec<Kernel>,
    /// Per matmul kernel: the buffers it reads and their layouts.
    pub(crate) matmul_plans: Vec<MatMul>,
    /// Owns the code of every kernel; dropped last.
    pub(crate) _jit: Jit,
}

impl Executable {
    /// Number of fused kernels and matmul kernels (for tests and reports).
    pub fn kernel_counts(&self) -> (usize, usize) {
        (self.fused.len(), self.matmuls.len())
    }

    /// Number of fused reduction kernels.
    pub fn reduction_count(&self) -> usize {
        self.reduce_kernels.len()
    }

    /// Runs one step: the fetched values in order, and the updates of the
    /// fetched `assign`s in graph order (not applied; as [`interp::run_step`]).
    pub fn run(&self, inputs: &StepInputs) -> Result<StepResult, Diag> {
        let mut memo: Vec<Option<Val>> = vec![None; self.graph.len()];
        let mut updates: Vec<(NodeId, String, Tensor)> = Vec::new();
        let mut values = Vec::with_capacity(self.fetches.len());
        let mut remaining = self.uses.clone();
        for &fetch in &self.fetches {
            self.eval(fetch, &mut memo, &mut updates, inputs, &mut remaining)?;
            let value = memo[fetch.index()]
                .as_ref()
                .ok_or_else(|| internal(format!("fetch {fetch} was not computed")))?;
            values.push(value.clone());
        }
        // Fetched values are moved out, not copied, unless still shared (a
        // constant, a value fetched twice). Other kernel outputs go back to
        // the pool for the next step.
        for (id, value) in memo.into_iter().enumerate() {
            let native = matches!(
                self.steps.get(id),
                Some(Step::Fused(_) | Step::MatMul(_) | Step::Reduce(_) | Step::Side(_))
            );
            if let (true, Some(Val::Shared(arc))) = (native, value) {
                if let Ok(tensor) = Arc::try_unwrap(arc) {
                    self.pool.give(tensor);
                }
            }
        }
        let fetched = values.into_iter().map(Val::into_owned).collect();
        updates.sort_by_key(|(id, _, _)| *id);
        let updates = updates.into_iter().map(|(_, v, t)| (v, t)).collect();
        Ok(StepResult { fetched, updates })
    }

    /// Computes `target` and what it needs.
    fn eval<'s>(
        &self,
        target: NodeId,
        memo: &mut [Option<Val<'s>>],
        updates: &mut Vec<(NodeId, String, Tensor)>,
        inputs: &StepInputs<'s>,
        remaining: &mut [u32],
    ) -> Result<(), Diag> {
        if target.index() >= self.graph.len() {
            return Err(internal(format!("node {target} is not in the graph")));
        }
        let mut stack = vec![target];
        while let Some(&id) = stack.last() {
            if memo[id.index()].is_some() {
                stack.pop();
                continue;
            }
            let mut ready = true;
            let deps = self.deps(id, memo)?;
            for &dep in &deps {
                if dep >= id {
                    return Err(internal(format!("input {dep} does not precede node {id}")));
                }
                if memo[dep.index()].is_none() {
                    stack.push(dep);
                    ready = false;
                }
            }
            if ready {
                let mut side = None;
                let value = self.compute(id, memo, updates, inputs, &mut side)?;
                if let Some((side_id, side_value)) = side {
                    memo[side_id.index()] = Some(side_value);
                }
                let node = self.graph.node(id);
                if value.dtype() != node.ty.dtype || value.shape() != node.ty.shape.dims() {
                    return Err(at(
                        node,
                        format!("computed {} for a {} node", value.ty(), node.ty),
                    ));
                }
                memo[id.index()] = Some(value);
                stack.pop();
                self.release(&deps, memo, remaining);
            }
        }
        Ok(())
    }

    /// The inputs `id` needs now.
    fn deps(&self, id: NodeId, memo: &[Option<Val>]) -> Result<Vec<NodeId>, Diag> {
        let node = self.graph.node(id);
        match (&self.steps[id.index()], &node.op) {
            (Step::Fused(g), _) => Ok(self.groups[*g].leaves.clone()),
            (Step::Reduce(r), _) => Ok(self.reductions[*r].group.leaves.clone()),
            // Stored by the reduction's kernel.
            (Step::Side(r), _) => Ok(vec![self.reductions[*r].node]),
            (Step::MatMul(m), _) => Ok(self.matmul_plans[*m].operands.to_vec()),
            (Step::Unused | Step::Inlined, _) => Err(at(node, "is not computed on its own")),
            (
                _,
                Op::Cond {
                    then_body,
                    else_body,
                },
            ) => {
                let pred = *node
                    .inputs
                    .first()
                    .ok_or_else(|| at(node, "has no predicate"))?;
                let Some(value) = &memo[pred.index()] else {
                    return Ok(vec![pred]);
                };
                let branch = if predicate(node, value)? {
                    then_body
                } else {
                    else_body
                };
                let mut deps = vec![pred];
                deps.extend(used_captures(&node.inputs[1..], &used_params(branch)));
                Ok(deps)
            }
            (_, Op::Fold { body }) => {
                if node.inputs.len() < 2 {
                    return Err(at(node, "needs inputs [init, xs, captures...]"));
                }
                let used = used_params(body);
                let mut deps = node.inputs[..2].to_vec();
                deps.extend(used_captures(
                    &node.inputs[2..],
                    used.get(2..).unwrap_or(&[]),
                ));
                Ok(deps)
            }
            _ => Ok(node.inputs.clone()),
        }
    }

    /// Computes node `id`, whose needed inputs are in `memo`.
    fn compute<'s>(
        &self,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        updates: &mut Vec<(NodeId, String, Tensor)>,
        inputs: &StepInputs<'s>,
        side: &mut Option<(NodeId, Val<'s>)>,
    ) -> Result<Val<'s>, Diag> {
        let node = self.graph.node(id);
        let value = |k: NodeId| -> Result<&Val<'s>, Diag> {
            memo[k.index()]
                .as_ref()
                .ok_or_else(|| at(node, format!("input {k} was not computed")))
        };
        match &self.steps[id.index()] {
            Step::Fused(g) => {
                let group = &self.groups[*g];
                let args: Vec<&Tensor> = group
                    .leaves
                    .iter()
                    .map(|&l| value(l).map(|t| &**t))
                    .collect::<Result<_, _>>()?;
                let types: Vec<&TensorType> =
                    group.leaves.iter().map(|&l| self.graph.ty(l)).collect();
                let (outer, per) = self.fused_split[*g];
                let align = if per == 1 { 8 } else { 1 };
                let mut ranges: Vec<Vec<usize>> = split(outer, parts(outer * per), align)
                    .into_iter()
                    .map(|(lo, hi)| vec![lo, hi])
                    .collect();
                if ranges.is_empty() {
                    // A scalar nest (no outer loop): one call; the range is unused.
                    ranges.push(vec![0, 0]);
                }
                let out = self.pool.take(&node.ty);
                return run_kernel(&self.fused[*g], node, &args, &types, out, &ranges)
                    .map(|t| Val::Shared(Arc::new(t)));
            }
            Step::Reduce(r) => {
                let (value, side_value) = self.reduce(*r, node, memo)?;
                if let (Some(id), Some(t)) = (self.reductions[*r].side, side_value) {
                    *side = Some((id, Val::Shared(Arc::new(t))));
                }
                return Ok(Val::Shared(Arc::new(value)));
            }
            Step::Side(_) => return Err(at(node, "was not stored by its reduction")),
            Step::MatMul(m) => {
                let operands = &self.matmul_plans[*m].operands;
                let args: Vec<&Tensor> = operands
                    .iter()
                    .map(|&l| value(l).map(|t| &**t))
                    .collect::<Result<_, _>>()?;
                let types: Vec<&TensorType> = operands.iter().map(|&l| self.graph.ty(l)).collect();
                let out = self.pool.take(&node.ty);
                return run_kernel(&self.matmuls[*m], node, &args, &types, out, &[vec![]])
                    .map(|t| Val::Shared(Arc::new(t)));
            }
            Step::Unused | Step::Inlined => return Err(at(node, "is not computed on its own")),
            Step::Fallback => {}
        }
        Ok(match &node.op {
            Op::Placeholder { name } => {
                let fed: &'s HashMap<String, Tensor> = inputs.placeholders;
                let v = fed.get(name).ok_or_else(|| {
                    at(node, format!("no value was fed for placeholder '{name}'"))
                })?;
                Val::of(v)
            }
            Op::Variable { name } => {
                let state: &'s HashMap<String, Tensor> = inputs.variables;
                let v = state
                    .get(name)
                    .ok_or_else(|| at(node, format!("no value for variable '{name}'")))?;
                Val::of(v)
            }
            Op::Const(tensor) if is_standard(tensor) => Val::Shared(Arc::clone(tensor)),
            Op::Const(tensor) => Val::Shared(Val::of(tensor).to_arc()),
            Op::Param(i) => return Err(at(node, format!("parameter {i} outside a region"))),
            Op::Assign { var } => {
                let input = *node
                    .inputs
                    .first()
                    .ok_or_else(|| at(node, "has no value"))?;
                let v = value(input)?.clone();
                updates.push((id, var.clone(), Tensor::clone(&v)));
                v
            }
            Op::Group => Val::Shared(Arc::new(Tensor::scalar(crate::ir::DType::Bool, 0.0))),
            Op::Cond { .. } | Op::Fold { .. } => {
                Val::Shared(Arc::new(self.region_op(node, memo, inputs)?))
            }
            _ => {
                let args: Vec<&Tensor> = node
                    .inputs
                    .iter()
                    .map(|&k| value(k).map(|t| &**t))
                    .collect::<Result<_, _>>()?;
                Val::Shared(Arc::new(interp::eval_pure(node, &args)?))
            }
        })
    }

    /// A `cond` or `fold` through the interpreter: a one-node graph whose inputs
    /// are constants holding the computed input values (an input the region does
    /// not use was not computed and is never read: it gets an empty constant).
    fn region_op(
        &self,
        node: &Node,
        memo: &[Option<Val>],
        inputs: &StepInputs,
    ) -> Result<Tensor, Diag> {
        let mut mini = Graph::new();
        let unused = Arc::new(Tensor::scalar(crate::ir::DType::Bool, 0.0));
        let mut args = Vec::with_capacity(node.inputs.len());
        for &input in &node.inputs {
            let value = memo
                .get(input.index())
                .and_then(|v| v.as_ref())
                .map(Val::to_arc);
            let ty = self.graph.ty(input).clone();
            args.push(mini.add(
                Op::Const(value.unwrap_or_else(|| unused.clone())),
                vec![],
                ty,
                node.span,
            ));
        }
        let id = mini.add(node.op.clone(), args, node.ty.clone(), node.span);
        let mut result = interp::run_step(&mini, &[id], inputs)?;
        result
            .fetched
            .pop()
            .ok_or_else(|| at(node, "the interpreter returned no value"))
    }
}

/// An internal error at `node`.
pub(super) fn at(node: &Node, message: impl std::fmt::Display) -> Diag {
    Diag::internal(
        "jit",
        format!("{}: {message}", node.op.name()),
        Some(node.span),
    )
}

/// The value of a `cond` predicate (`bool[]`).
fn predicate(node: &Node, value: &Tensor) -> Result<bool, Diag> {
    match value {
        Tensor::Bool(a) if a.ndim() == 0 => a
            .iter()
            .next()
            .copied()
            .ok_or_else(|| at(node, "empty predicate")),
        other => Err(at(node, format!("the predicate is {}", other.ty()))),
    }
}

/// Which parameters of `region` its results depend on (nested regions count all
/// their captures): the interpreter's rule, so both compute the same captures.
fn used_params(region: &Graph) -> Vec<bool> {
    let mut used = vec![false; region.params.len()];
    let mut needed = vec![false; region.len()];
    for r in &region.results {
        if let Some(slot) = needed.get_mut(r.index()) {
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

fn used_captures(captures: &[NodeId], used: &[bool]) -> Vec<NodeId> {
    captures
        .iter()
        .zip(used)
        .filter(|(_, &u)| u)
        .map(|(c, _)| *c)
        .collect()
}
