//! Backends that execute the graph IR.

mod engine;
pub mod interp;
pub mod jit;
pub(crate) mod regions;
pub(crate) mod schedule;
mod step;
pub mod threads;

pub use engine::{Engine, Executable};
pub use step::{StepInputs, StepResult, STEP_FEED};

use std::fmt;

/// Which backend a [`crate::runtime::Session`] runs steps on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The ndarray reference interpreter, the oracle.
    Interp,
    /// The Cranelift JIT (the default): fused elementwise kernels and GEMM, the
    /// other ops through the interpreter's kernels for now.
    #[default]
    Jit,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Interp => "interp",
            Backend::Jit => "jit",
        })
    }
}
