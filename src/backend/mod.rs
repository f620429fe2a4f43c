//! Backends that execute the graph IR.

pub mod interp;
pub mod threads;
pub mod jit;

use std::fmt;

/// Which backend a [`crate::runtime::Session`] runs steps on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The ndarray reference interpreter (the default until the JIT compiles
    /// every op natively; see docs/jit.md).
    #[default]
    Interp,
    /// The Cranelift JIT: fused elementwise kernels and GEMM, the other ops
    /// through the interpreter's kernels for now.
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
