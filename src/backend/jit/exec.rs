//! Running a compiled [`Executable`]: one step, or one run of a region.
//!
//! A run follows the executable's [`Schedule`] (`backend::schedule`, shared
//! with the interpreter; one memo per run), so a `cond` computes only its
//! predicate and the captures its taken branch uses. Fused groups, reductions
//! and matmuls run their native kernels; `cond` and `fold` run the compiled
//! executables of their regions ([`super::control`]); every other node runs
//! the shared evaluator ([`crate::kernels::eval::eval_pure`]).

use super::arena::Run;

mod native;
mod outputs;
mod step;
use super::calls::Place;
use super::codegen::{internal, Jit};
use super::control::Region;
use super::kinds::{FusedId, FusedKernel, MatMulId, MatMulKernel, ReduceId, ReduceKernel};
use super::kinds::{RegionId, Table};
use super::plan::Step;
use super::pool::Pool;
use super::tensors::{is_standard, Val};
use crate::backend::schedule::Schedule;
use crate::backend::{StepInputs, StepResult};
use crate::diag::Diag;
use crate::ir::{Graph, Node, NodeId, Op, Tensor};
use std::collections::HashMap;
use std::sync::Arc;

/// The native code and plan for one fetch set of one graph (or for one
/// region: its fetch is the region's result): built once, run every step.
pub struct Executable {
    pub(crate) graph: Graph,
    pub(crate) fetches: Vec<NodeId>,
    /// What a run computes, in order (built from `steps`).
    pub(crate) schedule: Schedule,
    pub(crate) steps: Vec<Step>,
    /// The fused elementwise groups (`Step::Fused`).
    pub(crate) fused: Table<FusedId, FusedKernel>,
    /// The fused reductions (`Step::Reduce`, `Step::Side`).
    pub(crate) reductions: Table<ReduceId, ReduceKernel>,
    /// Buffers of kernel outputs and partials, reused from step to step.
    pub(crate) pool: Pool,
    /// Per node: how many computations list it as a dependency (see
    /// `count_uses`); `fetched`: whether it is a fetch.
    pub(crate) uses: Vec<u32>,
    pub(crate) fetched: Vec<bool>,
    /// The planned matmul nodes (`Step::MatMul`).
    pub(crate) matmuls: Table<MatMulId, MatMulKernel>,
    /// Which fused kernels may write into an input's buffer (`inplace.rs`).
    pub(crate) in_place: super::inplace::InPlace,
    /// Per `Step::Region`: the compiled branches or body.
    pub(crate) regions: Table<RegionId, Region>,
    /// Whether this is a region: `Op::Param` reads the values passed in and
    /// `assign` is an error (as in the interpreter).
    pub(crate) in_region: bool,
    /// The options it was compiled with (the logs and the arena read them).
    pub(crate) options: super::Options,
    /// The gradient buckets of a run on several processes (`buckets.rs`).
    pub(crate) buckets: super::buckets::Buckets,
    /// Owns the code of every kernel, the regions' too (`None` in a region,
    /// whose code its top-level executable owns); dropped last.
    pub(crate) _jit: Option<Jit>,
}

/// What one run reads: the step's feeds and variables, and a region's
/// parameters (`None` for a capture the region does not use).
#[derive(Clone, Copy)]
pub(crate) struct Env<'r, 's> {
    pub(crate) inputs: &'r StepInputs<'s>,
    pub(crate) params: &'r [Option<Val<'s>>],
    /// The loop word (`Op::Iteration`, `ir::philox::loop_word`): 0 outside
    /// every loop.
    pub(crate) word: u32,
}

/// The memo of one run and the remaining uses of each value; a fold keeps
/// one for every run of its body (no allocation per iteration).
pub(crate) struct Scratch<'s> {
    pub(super) memo: Vec<Option<Val<'s>>>,
    pub(super) remaining: Vec<u32>,
    /// The inputs of the node being computed.
    pub(super) deps: Vec<NodeId>,
    /// Per node: computed in this run.
    pub(super) done: Vec<bool>,
    /// Variables whose buffers this run owns (see `Executable::run_owning`).
    pub(super) owned: super::inplace::Owned,
    /// Memory accounting, when `Options::mem_log` is on (top level only).
    pub(super) mem: Option<super::memlog::Tracker>,
    /// The arena, held for a top-level step (`arena.rs`).
    pub(super) arena: Option<Run>,
}

impl<'s> Scratch<'s> {
    pub(crate) fn new(exe: &Executable) -> Scratch<'s> {
        Scratch {
            memo: vec![None; exe.graph.len()],
            remaining: exe.uses.clone(),
            deps: Vec::new(),
            done: vec![false; exe.graph.len()],
            owned: Vec::new(),
            mem: None,
            arena: None,
        }
    }
}

/// Whether `step` stores its value in a buffer taken from the pool.
pub(super) fn pooled(step: Option<&Step>) -> bool {
    matches!(
        step,
        Some(
            Step::Fused(_)
                | Step::MatMul(_)
                | Step::Reduce(_)
                | Step::Side(_)
                | Step::Output(_)
                | Step::Direct
        )
    )
}

impl Executable {
    /// Number of fused kernels and matmul kernels (for tests and reports).
    pub fn kernel_counts(&self) -> (usize, usize) {
        (self.fused.len(), self.matmuls.len())
    }

    /// Number of fused reduction kernels.
    pub fn reduction_count(&self) -> usize {
        self.reductions.len()
    }

    /// Runs one step: the fetched values in order, and the updates of the
    /// fetched `assign`s in graph order (not applied; the step contract of `crate::backend::StepResult`).
    pub fn run(&self, inputs: &StepInputs) -> Result<StepResult, Diag> {
        self.run_with(inputs, Vec::new()).0
    }

    /// Runs this region with `env.params` bound: its result. `scratch` (made
    /// for this executable) is left empty for the next run.
    pub(crate) fn run_region<'s>(
        &self,
        env: Env<'_, 's>,
        scratch: &mut Scratch<'s>,
    ) -> Result<Val<'s>, Diag> {
        let [result] = self.fetches[..] else {
            return Err(internal("a region has one result"));
        };
        if scratch.memo.len() != self.graph.len() || scratch.remaining.len() != self.uses.len() {
            *scratch = Scratch::new(self);
        }
        scratch.memo.iter_mut().for_each(|m| *m = None);
        scratch.done.iter_mut().for_each(|d| *d = false);
        scratch.remaining.copy_from_slice(&self.uses);
        let mut updates = Vec::new();
        scratch.mem = None;
        self.run_schedule(scratch, &mut updates, env)?;
        let value = scratch.memo[result.index()]
            .take()
            .ok_or_else(|| internal(format!("region result {result} was not computed")));
        self.release_memo(scratch);
        value
    }

    /// The inputs `id` needs now, appended to `out`.
    fn deps(&self, id: NodeId, memo: &[Option<Val>], out: &mut Vec<NodeId>) -> Result<(), Diag> {
        let node = self.graph.node(id);
        match &self.steps[id.index()] {
            Step::Region(r) => self.region_deps(*r, node, memo, out)?,
            Step::Unused | Step::Inlined => return Err(at(node, "is not computed on its own")),
            _ => out.extend_from_slice(self.step_deps(id.index())),
        }
        Ok(())
    }

    /// Computes node `id`, whose needed inputs are in `memo`: into its arena
    /// slot when `place` has one for it.
    #[allow(clippy::too_many_arguments)]
    fn compute<'s>(
        &self,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        updates: &mut Vec<(NodeId, String, Val<'s>)>,
        env: Env<'_, 's>,
        side: &mut Vec<(NodeId, Val<'s>)>,
        mut reuse: Vec<(usize, Tensor)>,
        place: Place,
    ) -> Result<Val<'s>, Diag> {
        let node = self.graph.node(id);
        let value = |k: NodeId| -> Result<&Val<'s>, Diag> {
            memo[k.index()]
                .as_ref()
                .ok_or_else(|| at(node, format!("input {k} was not computed")))
        };
        match &self.steps[id.index()] {
            Step::Fused(g) if !self.fused[*g].group.outputs.is_empty() => {
                return self.fused_outputs(*g, id, memo, reuse, place, side)
            }
            Step::Fused(g) => return self.fused(*g, id, memo, reuse.pop(), place),
            Step::Reduce(r) => {
                let (value, side_value) = self.reduce(*r, node, memo, place)?;
                if let (Some(id), Some(v)) = (self.reductions[*r].reduction.side, side_value) {
                    side.push((id, v));
                }
                return Ok(value);
            }
            Step::Side(_) => return Err(at(node, "was not stored by its reduction")),
            Step::Output(_) => return Err(at(node, "was not stored by its kernel")),
            Step::MatMul(m) => return self.matmul(*m, id, memo, place),
            Step::Direct => return self.direct(id, memo, place),
            Step::Region(r) => return self.run_region_op(*r, node, memo, env),
            Step::Unused | Step::Inlined => return Err(at(node, "is not computed on its own")),
            Step::Fallback => {}
        }
        Ok(match &node.op {
            Op::Placeholder { name } => {
                let fed: &'s HashMap<String, Tensor> = env.inputs.placeholders;
                let v = fed.get(name).ok_or_else(|| {
                    at(node, format!("no value was fed for placeholder '{name}'"))
                })?;
                Val::of(v)
            }
            Op::Variable { name } => {
                let state: &'s HashMap<String, Tensor> = env.inputs.variables;
                let v = state
                    .get(name)
                    .ok_or_else(|| at(node, format!("no value for variable '{name}'")))?;
                Val::of(v)
            }
            Op::Step => Val::Shared(Arc::new(Tensor::scalar(
                crate::ir::DType::I32,
                f64::from(env.inputs.step()),
            ))),
            // The word's bits as `i32` (it counts past 2^31 when nested).
            Op::Iteration => Val::Shared(Arc::new(Tensor::scalar(
                crate::ir::DType::I32,
                f64::from(env.word as i32),
            ))),
            Op::Const(tensor) if is_standard(tensor) => Val::Shared(Arc::clone(tensor)),
            Op::Const(tensor) => Val::Shared(Val::of(tensor).to_arc()),
            Op::Param(i) => env
                .params
                .get(*i)
                .cloned()
                .flatten()
                .ok_or_else(|| at(node, format!("region parameter {i} is not bound")))?,
            Op::Assign { .. } if self.in_region => {
                return Err(Diag::unsupported(
                    "`assign` inside a `cond` branch or a `fold` body",
                    node.span,
                ))
            }
            Op::Assign { var } => {
                let input = *node
                    .inputs
                    .first()
                    .ok_or_else(|| at(node, "has no value"))?;
                let v = value(input)?.clone();
                // Kept shared until the step ends: then, once the memo has let go, the
                // value is moved into the update instead of copied.
                updates.push((id, var.clone(), v.clone()));
                v
            }
            Op::Group => Val::Shared(Arc::new(Tensor::scalar(crate::ir::DType::Bool, 0.0))),
            _ => {
                let args: Vec<&Tensor> = node
                    .inputs
                    .iter()
                    .map(|&k| value(k).map(|t| &**t))
                    .collect::<Result<_, _>>()?;
                Val::Shared(Arc::new(crate::kernels::eval::eval_pure(node, &args)?))
            }
        })
    }
}

/// An internal error unless `value` (a tensor; an arena value's slot size is
/// checked by its kernel call) has `node`'s type.
pub(super) fn check_type(node: &Node, value: &Val) -> Result<(), Diag> {
    let arena_value = matches!(value, Val::Arena { .. });
    if !arena_value && !super::tensors::has_type(value, &node.ty) {
        return Err(at(
            node,
            format!("computed {} for a {} node", value.ty(), node.ty),
        ));
    }
    Ok(())
}

/// An internal error at `node`.
pub(super) fn at(node: &Node, message: impl std::fmt::Display) -> Diag {
    Diag::internal(
        "jit",
        format!("{}: {message}", node.op.name()),
        Some(node.span),
    )
}
