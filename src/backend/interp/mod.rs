//! The ndarray reference interpreter: the oracle every other backend must agree with.

pub mod grad_kernels;

use crate::ir::{Graph, NodeId, Tensor};
use crate::syntax::{Diag, Span};
use std::collections::HashMap;

/// What one step reads: placeholder feeds and variable values at the start of the step.
pub struct StepInputs<'a> {
    pub placeholders: &'a HashMap<String, Tensor>,
    pub variables: &'a HashMap<String, Tensor>,
}

/// What one step produced.
#[derive(Debug)]
pub struct StepResult {
    /// One per fetch, in order (a `group` gives `Tensor::Bool` scalar `false`).
    pub fetched: Vec<Tensor>,
    /// New values of variables assigned by the fetched `assign`s, in graph order.
    pub updates: Vec<(String, Tensor)>,
}

/// Runs one step, computing only what `fetches` need.
pub fn run_step(
    _graph: &Graph,
    _fetches: &[NodeId],
    _inputs: &StepInputs,
) -> Result<StepResult, Diag> {
    // Replaced by the real interpreter.
    Err(Diag::unsupported("the interpreter", Span::default()))
}
