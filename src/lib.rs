//! tdsl: a compiler for a small tensor-program language with TF1-style static graphs.

pub mod autodiff;
pub mod backend;
pub mod cli;
pub mod diag;
pub mod engines;
pub mod ir;
pub mod kernels;
pub mod lower;
pub mod opt;
pub mod repl;
pub mod runtime;
pub mod source;
pub mod syntax;
pub mod timing;

#[cfg(test)]
mod checks;

pub use diag::Diag;
pub use ir::{Module, Tensor};
pub use lower::BUILTINS;
pub use runtime::Session;

use std::path::Path;
use std::time::Instant;

/// Parses and builds a `.td` source: every node typed, every shape checked.
/// `base_dir` is where `load("...")` paths are relative to.
pub fn compile(source: &str, base_dir: &Path) -> Result<ir::Module, Vec<diag::Diag>> {
    let program = syntax::parser::parse(source)?;
    lower::build(&program, base_dir)
}

/// How [`compile_with`] builds a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Run the optimiser (`opt::optimize`) on the built graph (the default).
    pub optimize: bool,
    /// The most bytes one tensor may take; `None` is the memory available
    /// (`ir::limits`).
    pub max_memory: Option<u64>,
    /// Compute constructor values (the default). Off, large ones are not
    /// computed and the module must not be run: for `check` and `graph`.
    pub values: bool,
    /// Sizes bound to `?` placeholders and dataset arrays handed in.
    pub data: lower::DataOptions,
    /// The processes of a data-parallel run: above 1, `minimize` averages
    /// every gradient over them (`docs/distributed.md`).
    pub ranks: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            optimize: true,
            max_memory: None,
            values: true,
            data: lower::DataOptions::default(),
            ranks: 1,
        }
    }
}

/// A built (and possibly optimised) program.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub module: ir::Module,
    /// What the optimiser did (node counts per pass); `None` when it did not run.
    pub stats: Option<opt::Stats>,
    /// How long building, autodiff and the optimiser took (`tdsl run --timings`).
    pub times: timing::BuildTimes,
}

/// [`compile`], then the optimiser unless `options.optimize` is off. This is the
/// path the command line uses: backends run the optimised graph by default.
pub fn compile_with(
    source: &str,
    base_dir: &Path,
    options: &Options,
) -> Result<Compiled, Vec<diag::Diag>> {
    let start = Instant::now();
    let build_options = lower::BuildOptions {
        max_bytes: options
            .max_memory
            .unwrap_or_else(ir::limits::default_max_bytes),
        values: options.values,
        data: options.data.clone(),
        ranks: options.ranks,
    };
    let program = syntax::parser::parse(source)?;
    let (mut module, inner) = lower::build_timed(&program, base_dir, &build_options)?;
    let built = start.elapsed();
    let timing::Inner { values, autodiff } = inner;
    let start = Instant::now();
    let stats = if options.optimize {
        Some(opt::optimize(&mut module).map_err(|diag| vec![diag])?)
    } else {
        None
    };
    let times = timing::BuildTimes {
        build: built.saturating_sub(autodiff).saturating_sub(values),
        values,
        autodiff,
        optimise: start.elapsed(),
    };
    Ok(Compiled {
        module,
        stats,
        times,
    })
}
