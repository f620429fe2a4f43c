//! The evaluation of one graph (the top level or one region invocation).
//!
//! A `Frame` holds the memo of one graph for one step (or one run of a region)
//! and runs its [`Program`]'s schedule: each node is computed at most once,
//! only when a fetch needs it, and a `cond` computes only its taken branch's
//! captures (`backend::schedule`).

mod collective;

use super::control;
use super::program::Program;
use crate::backend::regions::predicate;
use crate::backend::schedule::Runner;
use crate::backend::StepInputs;
use crate::diag::Diag;
use crate::ir::{Graph, NodeId, Op, Tensor};
use crate::kernels::eval::{check_type, eval_pure, internal};
use std::sync::Arc;

pub(crate) struct Frame<'g, 's> {
    pub(crate) graph: &'g Graph,
    pub(crate) program: &'g Program,
    pub(crate) inputs: &'s StepInputs<'s>,
    /// Region arguments; `None` for a capture the region does not use.
    params: Vec<Option<Arc<Tensor>>>,
    memo: Vec<Option<Arc<Tensor>>>,
    /// `Some` at the top level, where `assign`s are allowed.
    updates: Option<Vec<(NodeId, String, Tensor)>>,
    /// The loop word (`Op::Iteration`): 0 outside every loop.
    pub(crate) word: u32,
}

impl<'g, 's> Frame<'g, 's> {
    /// The frame of the top level (`params: None`, where `assign`s are
    /// allowed) or of one run of a region with these arguments.
    pub(crate) fn new(
        (graph, program): (&'g Graph, &'g Program),
        inputs: &'s StepInputs<'s>,
        params: Option<Vec<Option<Arc<Tensor>>>>,
    ) -> Frame<'g, 's> {
        Frame {
            graph,
            program,
            inputs,
            updates: params.is_none().then(Vec::new),
            params: params.unwrap_or_default(),
            memo: vec![None; graph.len()],
            word: 0,
        }
    }

    /// The recorded updates, in graph order.
    pub(crate) fn take_updates(&mut self) -> Vec<(String, Tensor)> {
        let mut updates = self.updates.take().unwrap_or_default();
        updates.sort_by_key(|(id, _, _)| *id);
        updates.into_iter().map(|(_, v, t)| (v, t)).collect()
    }

    /// The value of an already computed node.
    pub(crate) fn value(&self, id: NodeId) -> Option<&Arc<Tensor>> {
        self.memo.get(id.index()).and_then(|v| v.as_ref())
    }

    /// Computes what the program's fetches need.
    pub(crate) fn run(&mut self) -> Result<(), Diag> {
        let program = self.program;
        program.schedule.run(self)
    }

    /// The value of fetch `id` after [`Frame::run`].
    pub(crate) fn fetched(&self, id: NodeId) -> Result<Arc<Tensor>, Diag> {
        self.value(id).cloned().ok_or_else(|| {
            Diag::internal("interpreter", format!("fetch {id} was not computed"), None)
        })
    }

    /// Computes node `id`, whose needed inputs are in the memo.
    fn compute(&mut self, id: NodeId) -> Result<Arc<Tensor>, Diag> {
        let node = self.graph.node(id);
        let value =
            match &node.op {
                Op::Placeholder { name } => {
                    let v = self.inputs.placeholders.get(name).ok_or_else(|| {
                        internal(node, format!("no value was fed for placeholder '{name}'"))
                    })?;
                    Arc::new(v.clone().into_standard_layout())
                }
                Op::Variable { name } => {
                    let v =
                        self.inputs.variables.get(name).ok_or_else(|| {
                            internal(node, format!("no value for variable '{name}'"))
                        })?;
                    Arc::new(v.clone().into_standard_layout())
                }
                Op::Const(tensor) => {
                    if tensor.is_empty() || tensor_is_standard(tensor) {
                        Arc::clone(tensor)
                    } else {
                        Arc::new(Tensor::clone(tensor).into_standard_layout())
                    }
                }
                Op::Param(i) => {
                    self.params.get(*i).cloned().flatten().ok_or_else(|| {
                        internal(node, format!("region parameter {i} is not bound"))
                    })?
                }
                Op::Step => Arc::new(Tensor::scalar(
                    crate::ir::DType::I32,
                    f64::from(self.inputs.step()),
                )),
                // The word's bits as `i32` (it counts past 2^31 when nested).
                Op::Iteration => Arc::new(Tensor::scalar(
                    crate::ir::DType::I32,
                    f64::from(self.word as i32),
                )),
                Op::StopGradient => self.input(id, 0)?,
                Op::Cond {
                    then_body,
                    else_body,
                } => control::cond(self, id, then_body, else_body)?,
                Op::Fold { body } => control::fold(self, id, body)?,
                Op::Scan {
                    body,
                    reverse,
                    carry,
                } => control::scan(self, id, body, *reverse, *carry)?,
                Op::Assign { var } => {
                    let value = self.input(id, 0)?;
                    match &mut self.updates {
                        Some(updates) => updates.push((id, var.clone(), Tensor::clone(&value))),
                        None => {
                            return Err(Diag::unsupported(
                                "`assign` inside a `cond` branch or a `fold` body",
                                node.span,
                            ))
                        }
                    }
                    value
                }
                Op::Group => Arc::new(Tensor::scalar(crate::ir::DType::Bool, 0.0)),
                Op::Allreduce { op } if self.program.owns_input[id.index()] => {
                    self.allreduce_owned(id, *op)?
                }
                _ => {
                    let inputs = (0..node.inputs.len())
                        .map(|k| self.input(id, k))
                        .collect::<Result<Vec<_>, _>>()?;
                    let refs: Vec<&Tensor> = inputs.iter().map(|t| t.as_ref()).collect();
                    Arc::new(eval_pure(node, &refs)?)
                }
            };
        Ok(value)
    }

    /// The value of input `k` of node `id` (already computed).
    pub(crate) fn input(&self, id: NodeId, k: usize) -> Result<Arc<Tensor>, Diag> {
        let node = self.graph.node(id);
        let input = node
            .inputs
            .get(k)
            .ok_or_else(|| internal(node, format!("has no input {k}")))?;
        self.value(*input)
            .cloned()
            .ok_or_else(|| internal(node, format!("input {k} ({input}) was not computed")))
    }
}

impl Runner for Frame<'_, '_> {
    fn done(&self, id: NodeId) -> bool {
        self.value(id).is_some()
    }

    fn node(&mut self, id: NodeId) -> Result<(), Diag> {
        let value = self.compute(id)?;
        check_type(self.graph.node(id), &value)?;
        self.memo[id.index()] = Some(value);
        Ok(())
    }

    fn pair(&mut self, [a, b]: [NodeId; 2]) -> Result<(), Diag> {
        self.node(a)?;
        self.node(b)
    }

    fn branch(&self, id: NodeId) -> Result<usize, Diag> {
        let pred = self.input(id, 0)?;
        Ok(if predicate(self.graph.node(id), &pred)? {
            0
        } else {
            1
        })
    }
}

fn tensor_is_standard(tensor: &Tensor) -> bool {
    match tensor {
        Tensor::F32(a) => a.is_standard_layout(),
        Tensor::F64(a) => a.is_standard_layout(),
        Tensor::I32(a) => a.is_standard_layout(),
        Tensor::Bool(a) => a.is_standard_layout(),
    }
}
