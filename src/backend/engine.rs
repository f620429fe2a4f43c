//! The contract every backend implements: an [`Engine`] compiles the part of
//! a graph that a fetch list needs into an [`Executable`], which runs steps.

use super::StepResult;
use crate::diag::Diag;
use crate::ir::{Graph, NodeId, Tensor};
use std::collections::HashMap;

/// A backend: compiles fetch lists of a graph (with the options it was made
/// with) into executables.
pub trait Engine {
    /// The backend's name, as `--backend` spells it.
    fn name(&self) -> &'static str;

    /// Compiles what `fetches` need of `graph`. The executable runs steps of
    /// this same graph, which the caller passes again to every
    /// [`Executable::run`] (so a backend need not copy it).
    fn compile(&self, graph: &Graph, fetches: &[NodeId]) -> Result<Box<dyn Executable>, Diag>;
}

/// One compiled fetch list, run once per step.
pub trait Executable {
    /// Runs one step of `graph` (the graph it was compiled from): the fetched
    /// values in order and the updates of the fetched `assign`s, not applied.
    ///
    /// `variables` holds every variable's value at the start of the step. A
    /// backend may move out the buffers of variables the step overwrites in
    /// place: after a successful step such a variable is missing from
    /// `variables` and its new value is among the updates. After an error
    /// every variable is back.
    fn run(
        &self,
        graph: &Graph,
        placeholders: &HashMap<String, Tensor>,
        variables: &mut HashMap<String, Tensor>,
    ) -> Result<StepResult, Diag>;

    /// Takes back values the caller is done with (fetched values, replaced
    /// variable values) so later steps can reuse their buffers; a backend
    /// that keeps no buffers drops them.
    fn recycle(&self, values: Vec<Tensor>) {
        drop(values);
    }

    /// Buffers this executable holds for reuse (tests: must not grow from
    /// step to step).
    fn pooled_buffers(&self) -> usize {
        0
    }
}
