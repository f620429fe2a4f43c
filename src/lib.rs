//! tdsl: a compiler for a small tensor-program language with TF1-style static graphs.

pub mod backend;
pub mod cli;
pub mod ir;
pub mod opt;
pub mod runtime;
pub mod syntax;

pub use ir::{Module, Tensor};
pub use runtime::Session;
pub use syntax::Diag;

use std::path::Path;

/// Parses and builds a `.td` source: every node typed, every shape checked.
/// `base_dir` is where `load("...")` paths are relative to.
pub fn compile(source: &str, base_dir: &Path) -> Result<ir::Module, Vec<syntax::Diag>> {
    let program = syntax::parser::parse(source)?;
    ir::build::build(&program, base_dir)
}
