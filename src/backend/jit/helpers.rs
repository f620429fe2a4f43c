//! Rust functions that generated code calls (registered with `JITBuilder::symbol`).
//!
//! Scalar helpers give ops the JIT does not lower natively yet (transcendentals,
//! `pow`, `i32` division) exactly [`crate::ir::scalar`]'s meaning. A call costs
//! about 2 ns per element, far more than the memory traffic of a fused loop:
//! inline vector approximations are the next step (docs/jit.md).
//!
//! The GEMM helpers are in `gemm.rs`, the block kernel in `vecmath.rs`.

use super::codegen::Jit;
use super::ops::Helpers;
use crate::diag::Diag;
use crate::ir::scalar::Scalar;
use crate::ir::{BinaryOp, UnaryOp};
use cranelift_codegen::ir::types;
use cranelift_codegen::ir::Type;
use cranelift_module::Module;

/// Declares the scalar helpers in the function being built.
pub(crate) fn declare(jit: &mut Jit) -> Result<Helpers, Diag> {
    let mut import = |name: &str, params: &[Type], ret: Type| -> Result<_, Diag> {
        let id = jit.import(name, params, &[ret])?;
        Ok(jit.module.declare_func_in_func(id, &mut jit.ctx.func))
    };
    let (f32_, f64_, i32_) = (types::F32, types::F64, types::I32);
    Ok(Helpers {
        unary_f32: import("tdsl_unary_f32", &[i32_, f32_], f32_)?,
        unary_f64: import("tdsl_unary_f64", &[i32_, f64_], f64_)?,
        binary_f32: import("tdsl_binary_f32", &[i32_, f32_, f32_], f32_)?,
        binary_f64: import("tdsl_binary_f64", &[i32_, f64_, f64_], f64_)?,
        binary_i32: import("tdsl_binary_i32", &[i32_, i32_, i32_], i32_)?,
        block_f32: {
            let ptr = jit.ptr_type();
            let id = jit.import("tdsl_block_f32", &[i32_, ptr, ptr, ptr], &[])?;
            jit.module.declare_func_in_func(id, &mut jit.ctx.func)
        },
        dropout_mask: super::dropout::import(jit, "tdsl_dropout_mask")?,
        random_draw: super::dropout::import(jit, "tdsl_random_draw")?,
        fma: jit.fma,
    })
}

/// Every unary op, indexed by its code in generated code.
pub(crate) const UNARY_OPS: [UnaryOp; 11] = [
    UnaryOp::Neg,
    UnaryOp::Not,
    UnaryOp::Exp,
    UnaryOp::Log,
    UnaryOp::Sqrt,
    UnaryOp::Abs,
    UnaryOp::Tanh,
    UnaryOp::Sigmoid,
    UnaryOp::Relu,
    UnaryOp::Sin,
    UnaryOp::Cos,
];

/// Every binary op, indexed by its code in generated code.
pub(crate) const BINARY_OPS: [BinaryOp; 15] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Pow,
    BinaryOp::Maximum,
    BinaryOp::Minimum,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::And,
    BinaryOp::Or,
];

pub(crate) fn unary_code(op: UnaryOp) -> i64 {
    UNARY_OPS.iter().position(|&o| o == op).unwrap_or(0) as i64
}

pub(crate) fn binary_code(op: BinaryOp) -> i64 {
    BINARY_OPS.iter().position(|&o| o == op).unwrap_or(0) as i64
}

fn unary<T: Scalar>(code: i32, x: T) -> T {
    match UNARY_OPS.get(code as usize) {
        Some(&op) => T::unary(op, x),
        None => x,
    }
}

fn binary<T: Scalar>(code: i32, a: T, b: T) -> T {
    match BINARY_OPS.get(code as usize) {
        Some(&op) => T::binary(op, a, b),
        None => a,
    }
}

extern "C" fn tdsl_unary_f32(code: i32, x: f32) -> f32 {
    unary(code, x)
}

extern "C" fn tdsl_unary_f64(code: i32, x: f64) -> f64 {
    unary(code, x)
}

extern "C" fn tdsl_binary_f32(code: i32, a: f32, b: f32) -> f32 {
    binary(code, a, b)
}

extern "C" fn tdsl_binary_f64(code: i32, a: f64, b: f64) -> f64 {
    binary(code, a, b)
}

extern "C" fn tdsl_binary_i32(code: i32, a: i32, b: i32) -> i32 {
    binary(code, a, b)
}

/// The name and address of every helper, for `JITBuilder::symbol`.
pub(crate) fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("tdsl_unary_f32", tdsl_unary_f32 as *const u8),
        ("tdsl_unary_f64", tdsl_unary_f64 as *const u8),
        ("tdsl_binary_f32", tdsl_binary_f32 as *const u8),
        ("tdsl_binary_f64", tdsl_binary_f64 as *const u8),
        ("tdsl_binary_i32", tdsl_binary_i32 as *const u8),
        ("tdsl_gemm_f32", super::gemm::tdsl_gemm_f32 as *const u8),
        ("tdsl_gemm_f64", super::gemm::tdsl_gemm_f64 as *const u8),
        (
            "tdsl_gemm_f32_log",
            super::gemm::tdsl_gemm_f32_log as *const u8,
        ),
        (
            "tdsl_gemm_f64_log",
            super::gemm::tdsl_gemm_f64_log as *const u8,
        ),
        ("tdsl_adam_f32", super::adam::tdsl_adam_f32 as *const u8),
        (
            "tdsl_block_f32",
            super::vecmath::tdsl_block_f32 as *const u8,
        ),
        (
            "tdsl_dropout_mask",
            super::dropout::mask::tdsl_dropout_mask as *const u8,
        ),
        (
            "tdsl_random_draw",
            super::dropout::draws::tdsl_random_draw as *const u8,
        ),
    ]
}
