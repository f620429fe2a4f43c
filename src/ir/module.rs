//! A built program: the graph plus its declarations and `run` statements.

use super::graph::{Graph, NodeId};
use super::tensor::Tensor;
use super::types::TensorType;
use crate::diag::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct PlaceholderDecl {
    pub name: String,
    pub ty: TensorType,
    /// The default feed, evaluated at build time.
    pub default: Option<Tensor>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VariableDecl {
    pub name: String,
    pub ty: TensorType,
    /// The initial value, evaluated at build time (already broadcast to `ty`).
    pub init: Tensor,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunStmt {
    /// Names to fetch, with their spans in the `run` statement.
    pub fetches: Vec<(String, Span)>,
    /// Number of steps (1 without `repeat`).
    pub steps: u64,
    pub every: Option<u64>,
    /// `epochs E`: `steps` is then unused (the dataset read decides).
    pub epochs: Option<u64>,
    pub span: Span,
}

/// Everything the runtime needs from the build phase.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    pub graph: Graph,
    pub placeholders: Vec<PlaceholderDecl>,
    pub variables: Vec<VariableDecl>,
    /// Every fetchable top-level name (placeholders, variables, `let`s) in source
    /// order, with the node that computes it.
    pub names: Vec<(String, NodeId)>,
    pub runs: Vec<RunStmt>,
    /// Datasets, the placeholders they feed and the `?` placeholders.
    pub data: super::data::DataDecls,
}

impl Module {
    pub fn lookup(&self, name: &str) -> Option<NodeId> {
        self.names
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    pub fn placeholder(&self, name: &str) -> Option<&PlaceholderDecl> {
        self.placeholders.iter().find(|p| p.name == name)
    }

    pub fn variable(&self, name: &str) -> Option<&VariableDecl> {
        self.variables.iter().find(|v| v.name == name)
    }
}
