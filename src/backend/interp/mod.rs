//! The ndarray reference interpreter: the oracle every other backend must agree with.
//!
//! A step evaluates only what its fetches need: [`frame`] runs the
//! [`program`]'s schedule (`backend::schedule`, which the JIT runs too), with
//! one memo per step and per region invocation. Every pure op is computed by the one
//! evaluator, [`crate::kernels::eval::eval_pure`], shared with constant
//! folding and the JIT's fallback; this module adds the schedule run, the
//! state (`assign`) and control flow (`cond`, `fold`, `scan`).
//!
//! Choices other backends must match (details in each module's header):
//! - scalar ops: `ir::scalar` (i32 division truncates, `x / 0 = 0`; NaN propagates
//!   through `maximum`/`minimum`/`relu`; casts truncate and saturate);
//! - reductions and losses accumulate floats in `f64` (pairwise); empty `mean` is
//!   NaN, empty `max`/`min` are `-inf`/`+inf`; `argmax` takes the first maximum;
//! - `x[i]` out of range is a user error at the node's span;
//! - `one_hot` gives a zero row for a label outside `0..depth`;
//! - `cond` computes only its taken branch and the captures that branch uses;
//! - `assign` records `(variable, value)` and changes nothing during the step;
//!   `assign` inside a region is reported as not supported.

mod control;
mod frame;
mod program;

#[cfg(test)]
mod tests;

use crate::backend::{Engine, Executable, StepInputs, StepResult};
use crate::diag::Diag;
use crate::ir::{Graph, NodeId, Tensor};
use program::Program;
use std::collections::HashMap;

/// The interpreter as an [`Engine`]: compiling keeps the fetch list and its
/// program; every step runs it on the graph it is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interpreter;

/// A fetch list and its program.
struct Fetches(Vec<NodeId>, Program);

impl Engine for Interpreter {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn compile(&self, graph: &Graph, fetches: &[NodeId]) -> Result<Box<dyn Executable>, Diag> {
        let program = Program::new(graph, fetches)?;
        Ok(Box::new(Fetches(fetches.to_vec(), program)))
    }
}

impl Executable for Fetches {
    fn run(
        &self,
        graph: &Graph,
        placeholders: &HashMap<String, Tensor>,
        variables: &mut HashMap<String, Tensor>,
    ) -> Result<StepResult, Diag> {
        let inputs = StepInputs {
            placeholders,
            variables,
        };
        run_program(graph, &self.1, &self.0, &inputs)
    }
}

/// Runs one step, computing only what `fetches` need.
///
/// Every read of a variable sees its value in `inputs` (the start of the step);
/// the `assign`s that ran are returned in `updates` and not applied here.
pub fn run_step(
    graph: &Graph,
    fetches: &[NodeId],
    inputs: &StepInputs,
) -> Result<StepResult, Diag> {
    run_program(graph, &Program::new(graph, fetches)?, fetches, inputs)
}

/// Runs one step of `program` (of `graph` and `fetches`).
fn run_program(
    graph: &Graph,
    program: &Program,
    fetches: &[NodeId],
    inputs: &StepInputs,
) -> Result<StepResult, Diag> {
    let mut frame = frame::Frame::top_level(graph, program, inputs);
    frame.run()?;
    let fetched = fetches
        .iter()
        .map(|&f| frame.fetched(f).map(|v| Tensor::clone(&v)))
        .collect::<Result<_, _>>()?;
    let updates = frame.take_updates();
    Ok(StepResult { fetched, updates })
}
