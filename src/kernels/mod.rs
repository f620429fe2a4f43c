//! Tensor kernels shared by every stage that computes values: the optimiser's
//! constant folding and both backends. One implementation per kernel keeps
//! folded constants bit-identical to what a backend would compute at run time.

pub mod adam;
pub mod collective;
pub mod conv;
pub mod dropout_mask;
pub mod elem;
pub mod eval;
pub mod exp_rows;
pub mod fault;
pub mod gather;
pub mod gather_maps;
pub mod gemm;
pub mod isa;
mod lanes;
pub mod loss;
pub mod matmul;
pub mod movement;
pub mod narrow;
pub mod nn;
pub mod pool;
pub mod reduce;
pub mod rows;
