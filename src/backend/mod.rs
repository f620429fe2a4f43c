//! Backends that execute the graph IR.

pub mod interp;
