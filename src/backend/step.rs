//! What a step of any backend reads and produces.

use crate::ir::Tensor;
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
