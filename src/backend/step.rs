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

/// The feed that carries the step counter (`step()`) to the backends, next to
/// the placeholders: `step()` is no identifier, so no placeholder has this name.
pub const STEP_FEED: &str = "step()";

impl StepInputs<'_> {
    /// The index of this step (`step()`): the session's counter, or 0 when the
    /// caller feeds none (a step run outside a session).
    pub fn step(&self) -> i32 {
        match self.placeholders.get(STEP_FEED) {
            Some(Tensor::I32(a)) => a.iter().next().copied().unwrap_or(0),
            _ => 0,
        }
    }
}
