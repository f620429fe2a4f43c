//! The JIT behind the backends' contract: [`Compiler`] is its
//! [`crate::backend::Engine`], and an [`Executable`] runs a step owning the
//! buffers of the variables it updates in place.

use super::exec::Executable;
use super::{compile, Options};
use crate::backend::{Engine, StepInputs, StepResult};
use crate::diag::Diag;
use crate::ir::{Graph, NodeId, Tensor};
use std::collections::HashMap;

/// The JIT as an [`Engine`]: compiles with its options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compiler {
    pub options: Options,
}

impl Compiler {
    pub fn new(options: Options) -> Compiler {
        Compiler { options }
    }
}

impl Engine for Compiler {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn compile(
        &self,
        graph: &Graph,
        fetches: &[NodeId],
    ) -> Result<Box<dyn crate::backend::Executable>, Diag> {
        Ok(Box::new(compile(graph, fetches, self.options)?))
    }
}

impl crate::backend::Executable for Executable {
    /// The variables the step may update in place move into it and come back
    /// (all of them if it fails; see [`Executable::run_owning`]). The graph
    /// is not read: the executable holds its own copy.
    fn run(
        &self,
        _graph: &Graph,
        placeholders: &HashMap<String, Tensor>,
        variables: &mut HashMap<String, Tensor>,
    ) -> Result<StepResult, Diag> {
        // A list, not a map: a step hands over a few variables and looks
        // each up once (no hashing or table per step).
        let owned: super::inplace::Owned = self
            .owned_variables()
            .filter_map(|name| variables.remove_entry(name))
            .collect();
        let inputs = StepInputs {
            placeholders,
            variables,
        };
        let (result, back) = self.run_owning(&inputs, owned);
        variables.extend(back);
        result
    }

    fn recycle(&self, values: Vec<Tensor>) {
        Executable::recycle(self, values);
    }

    fn pooled_buffers(&self) -> usize {
        Executable::pooled_buffers(self)
    }
}
