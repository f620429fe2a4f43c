//! Tests of `autodiff`, one file per topic: gradients against central finite
//! differences, the gradient graphs run on the interpreter and the JIT.

mod builtins;
mod control;
mod elementwise;
mod gather;
mod in_f32;
mod nn;
mod pool;
mod programs;
mod scan;
mod second_order;
mod shape;
pub(crate) mod util;
