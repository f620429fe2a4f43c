//! The ndarray reference interpreter: the oracle every other backend must agree with.
//! A step evaluates only what its fetches need: [`frame`] runs the [`program`]'s
//! schedule with one memo per step and per region invocation; every pure op is
//! computed by [`crate::kernels::eval::eval_pure`]. The choices other backends
//! must match: `docs/design.md`, "backend/interp/".

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
    let mut frame = frame::Frame::new((graph, program), inputs, None);
    frame.run()?;
    let fetched = fetches
        .iter()
        .map(|&f| frame.fetched(f).map(|v| Tensor::clone(&v)))
        .collect::<Result<_, _>>()?;
    let updates = frame.take_updates();
    Ok(StepResult { fetched, updates })
}
