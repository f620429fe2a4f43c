//! The optimiser against the interpreter: constant folding bit for bit,
//! random graphs with and without `optimize`, packed fold states cut down.
//! Graph builders: `crate::opt::tests`.

mod fold_state;
mod interp;
mod prop;
