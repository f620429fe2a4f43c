//! Differential tests: a stage checked against another, and the JIT against
//! the interpreter (the oracle). They sit above both backends in the stage
//! order (`docs/design.md`), so they may use every stage up to the backends;
//! a module's own unit tests, next to it, use only its stage and those before.
//!
//! - `jit/`: the JIT's kernels, plans and regions against the interpreter;
//! - `autodiff/`: gradients against central finite differences, run on both
//!   backends;
//! - `opt/`: the optimiser's results against the unoptimised graph's.

mod autodiff;
mod jit;
mod opt;
