//! Lowering of one elementwise op to Cranelift instructions, on scalars or on
//! `f32x4` vectors, with exactly [`crate::ir::scalar`]'s semantics:
//!
//! - `relu(x)` is `x <= 0 ? 0 : x` (NaN stays NaN, `-0.0` becomes `+0.0`), a
//!   compare plus a select/`bitselect` (not `fmax`, which is slow and drops NaN);
//! - `maximum`/`minimum` select on a compare, then give NaN when either side is
//!   NaN (`a + b` is NaN then);
//! - float comparisons are IEEE (`!=` is unordered-or-not-equal);
//! - casts: float → `i32` truncates and saturates with `NaN → 0`
//!   (`fcvt_to_sint_sat`), number → `bool` is `x != 0`;
//! - `exp`, `sigmoid`, `tanh` and `log` on `f32` are inline polynomials
//!   ([`super::exp`], within a few ulp of libm); the other transcendentals, `f64` ones, `pow` and `i32`
//!   division call the Rust helpers of [`super::helpers`] (per lane on vectors).
//!
//! `bool` values are `i8` 0/1, in memory and in registers.

use super::codegen::internal;
use super::helpers::{binary_code, unary_code};
use crate::diag::Diag;
use crate::ir::{BinaryOp, DType, UnaryOp};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, FuncRef, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;

/// The helper functions, declared in the function being built.
pub(crate) struct Helpers {
    pub(crate) unary_f32: FuncRef,
    pub(crate) unary_f64: FuncRef,
    pub(crate) binary_f32: FuncRef,
    pub(crate) binary_f64: FuncRef,
    pub(crate) binary_i32: FuncRef,
    /// `tdsl_block_f32(kind, src, dst, n)` (see `blocks.rs`).
    pub(crate) block_f32: FuncRef,
    /// `tdsl_dropout_mask(seed, step, word, threshold, first, n, dst)`
    /// (see `dropout.rs`).
    pub(crate) dropout_mask: FuncRef,
    /// `tdsl_random_draw(seed, step, word, code, first, n, dst)`.
    pub(crate) random_draw: FuncRef,
    /// Whether the JIT's ISA has FMA (see `Jit::fma`).
    pub(crate) fma: bool,
}

/// The scalar Cranelift type of a dtype.
pub(crate) fn clif_type(dtype: DType) -> Type {
    match dtype {
        DType::F32 => types::F32,
        DType::F64 => types::F64,
        DType::I32 => types::I32,
        DType::Bool => types::I8,
    }
}

/// Whether `v` was built as the constant `+0.0` (a scalar or a splat of one).
fn is_pos_zero(b: &FunctionBuilder, v: Value) -> bool {
    use cranelift_codegen::ir::{InstructionData, Opcode, ValueDef};
    let ValueDef::Result(inst, _) = b.func.dfg.value_def(v) else {
        return false;
    };
    match b.func.dfg.insts[inst] {
        InstructionData::UnaryIeee32 {
            opcode: Opcode::F32const,
            imm,
        } => imm.bits() == 0,
        InstructionData::Unary {
            opcode: Opcode::Splat,
            arg,
        } => is_pos_zero(b, arg),
        _ => false,
    }
}

/// Whether the JIT lowers `op` on `dtype` (everything the language allows).
pub(crate) fn unary_lowered(op: UnaryOp, dtype: DType) -> bool {
    crate::ir::scalar::unary_supported(op, dtype)
}

/// Whether the JIT lowers `op` on two `dtype` inputs.
pub(crate) fn binary_lowered(op: BinaryOp, dtype: DType) -> bool {
    crate::ir::scalar::binary_supported(op, dtype)
}

/// Whether `op` can run on `f32x4` vectors (all inputs and the result `f32`).
pub(crate) fn binary_vectorizes(op: BinaryOp) -> bool {
    !op.is_comparison() && !op.is_logical()
}

/// Lowers ops for values with `lanes` lanes (1, or 4 for `f32x4`).
pub(crate) struct Lower<'h> {
    pub(crate) lanes: u32,
    pub(crate) helpers: &'h Helpers,
    /// Call the interpreter's transcendentals instead of inlining them.
    pub(crate) exact: bool,
}

impl Lower<'_> {
    fn vector(&self) -> bool {
        self.lanes > 1
    }

    /// A float constant of the type of `like` (splat on vectors).
    fn float_const(&self, b: &mut FunctionBuilder, dtype: DType, value: f64) -> Value {
        let scalar = match dtype {
            DType::F64 => b.ins().f64const(value),
            _ => b.ins().f32const(value as f32),
        };
        if self.vector() {
            b.ins().splat(types::F32X4, scalar)
        } else {
            scalar
        }
    }

    /// `cond ? x : y` where `cond` is the result of a compare on these values.
    pub(crate) fn choose(&self, b: &mut FunctionBuilder, cond: Value, x: Value, y: Value) -> Value {
        if self.vector() {
            // A lane mask (i32x4 all-ones/zeros) reinterpreted as f32x4 lanes.
            let flags =
                MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
            let mask = b.ins().bitcast(types::F32X4, flags, cond);
            // A select against +0.0 (relu and its gradient) is one `and`, and
            // its value operand comes first so Cranelift computes the mask
            // after it (a long-lived mask spills in heavy bodies). Bitwise the
            // same as `bitselect`: the mask lanes are all ones or all zeros.
            if is_pos_zero(b, y) {
                b.ins().band(x, mask)
            } else if is_pos_zero(b, x) {
                b.ins().band_not(y, mask)
            } else {
                b.ins().bitselect(mask, x, y)
            }
        } else {
            b.ins().select(cond, x, y)
        }
    }

    /// Calls a helper `(code, args...) -> value`, per lane on vectors.
    fn call(&self, b: &mut FunctionBuilder, f: FuncRef, code: i64, args: &[Value]) -> Value {
        let code = b.ins().iconst(types::I32, code);
        if !self.vector() {
            let mut full = vec![code];
            full.extend_from_slice(args);
            let call = b.ins().call(f, &full);
            return b.inst_results(call)[0];
        }
        let mut result = args[0];
        for lane in 0..self.lanes as u8 {
            let mut full = vec![code];
            for &a in args {
                full.push(b.ins().extractlane(a, lane));
            }
            let call = b.ins().call(f, &full);
            let r = b.inst_results(call)[0];
            result = b.ins().insertlane(result, r, lane);
        }
        result
    }

    pub(crate) fn unary(
        &self,
        b: &mut FunctionBuilder,
        op: UnaryOp,
        dtype: DType,
        x: Value,
    ) -> Result<Value, Diag> {
        let float = dtype.is_float();
        Ok(match op {
            UnaryOp::Neg if float => b.ins().fneg(x),
            UnaryOp::Neg => b.ins().ineg(x),
            UnaryOp::Not => b.ins().bxor_imm_s(x, 1),
            UnaryOp::Abs if float => b.ins().fabs(x),
            UnaryOp::Abs => b.ins().iabs(x),
            UnaryOp::Sqrt if float => b.ins().sqrt(x),
            UnaryOp::Relu if float => {
                let zero = self.float_const(b, dtype, 0.0);
                let le = b.ins().fcmp(FloatCC::LessThanOrEqual, x, zero);
                self.choose(b, le, zero, x)
            }
            UnaryOp::Relu => {
                let zero = b.ins().iconst(types::I32, 0);
                b.ins().smax(x, zero)
            }
            UnaryOp::Exp if dtype == DType::F32 && !self.exact => self.exp_f32(b, x),
            UnaryOp::Sigmoid if dtype == DType::F32 && !self.exact => self.sigmoid_f32(b, x),
            UnaryOp::Tanh if dtype == DType::F32 && !self.exact => self.tanh_f32(b, x),
            UnaryOp::Log if dtype == DType::F32 && !self.exact => self.log_f32(b, x),
            _ if float => {
                let f = match dtype {
                    DType::F64 => self.helpers.unary_f64,
                    _ => self.helpers.unary_f32,
                };
                self.call(b, f, unary_code(op), &[x])
            }
            _ => return Err(internal(format!("{op:?} on {dtype} is not lowered"))),
        })
    }

    pub(crate) fn binary(
        &self,
        b: &mut FunctionBuilder,
        op: BinaryOp,
        dtype: DType,
        x: Value,
        y: Value,
    ) -> Result<Value, Diag> {
        use BinaryOp::*;
        let float = dtype.is_float();
        if op.is_comparison() {
            return Ok(if float {
                let cc = match op {
                    Eq => FloatCC::Equal,
                    Ne => FloatCC::NotEqual,
                    Lt => FloatCC::LessThan,
                    Le => FloatCC::LessThanOrEqual,
                    Gt => FloatCC::GreaterThan,
                    _ => FloatCC::GreaterThanOrEqual,
                };
                b.ins().fcmp(cc, x, y)
            } else {
                // i32 compares signed; bool (0/1) compares unsigned: false < true.
                let signed = dtype == DType::I32;
                let cc = match (op, signed) {
                    (Eq, _) => IntCC::Equal,
                    (Ne, _) => IntCC::NotEqual,
                    (Lt, true) => IntCC::SignedLessThan,
                    (Le, true) => IntCC::SignedLessThanOrEqual,
                    (Gt, true) => IntCC::SignedGreaterThan,
                    (Ge, true) => IntCC::SignedGreaterThanOrEqual,
                    (Lt, false) => IntCC::UnsignedLessThan,
                    (Le, false) => IntCC::UnsignedLessThanOrEqual,
                    (Gt, false) => IntCC::UnsignedGreaterThan,
                    _ => IntCC::UnsignedGreaterThanOrEqual,
                };
                b.ins().icmp(cc, x, y)
            });
        }
        Ok(match (op, dtype) {
            (And, DType::Bool) | (Minimum, DType::Bool) => b.ins().band(x, y),
            (Or, DType::Bool) | (Maximum, DType::Bool) => b.ins().bor(x, y),
            (Add, _) if float => b.ins().fadd(x, y),
            (Sub, _) if float => b.ins().fsub(x, y),
            (Mul, _) if float => b.ins().fmul(x, y),
            (Div, _) if float => b.ins().fdiv(x, y),
            (Maximum | Minimum, _) if float => {
                let cc = if op == Maximum {
                    FloatCC::GreaterThanOrEqual
                } else {
                    FloatCC::LessThanOrEqual
                };
                let keep_x = b.ins().fcmp(cc, x, y);
                let chosen = self.choose(b, keep_x, x, y);
                let nan = b.ins().fcmp(FloatCC::Unordered, x, y);
                let sum = b.ins().fadd(x, y);
                self.choose(b, nan, sum, chosen)
            }
            (Pow, _) if float => {
                let f = match dtype {
                    DType::F64 => self.helpers.binary_f64,
                    _ => self.helpers.binary_f32,
                };
                self.call(b, f, binary_code(op), &[x, y])
            }
            (Add, DType::I32) => b.ins().iadd(x, y),
            (Sub, DType::I32) => b.ins().isub(x, y),
            (Mul, DType::I32) => b.ins().imul(x, y),
            (Maximum, DType::I32) => b.ins().smax(x, y),
            (Minimum, DType::I32) => b.ins().smin(x, y),
            (Div | Pow, DType::I32) => {
                self.call(b, self.helpers.binary_i32, binary_code(op), &[x, y])
            }
            _ => return Err(internal(format!("{op:?} on {dtype} is not lowered"))),
        })
    }

    /// `where(c, x, y)` on scalars (`c` is an `i8` 0/1).
    pub(crate) fn select(&self, b: &mut FunctionBuilder, c: Value, x: Value, y: Value) -> Value {
        b.ins().select(c, x, y)
    }

    /// `cast(x)` from `from` to `to` (scalars, or `f32 → f32` on vectors).
    pub(crate) fn cast(&self, b: &mut FunctionBuilder, from: DType, to: DType, x: Value) -> Value {
        use DType::*;
        match (from, to) {
            _ if from == to => x,
            (F32, F64) => b.ins().fpromote(types::F64, x),
            (F64, F32) => b.ins().fdemote(types::F32, x),
            (I32, F32 | F64) => b.ins().fcvt_from_sint(clif_type(to), x),
            (F32 | F64, I32) => b.ins().fcvt_to_sint_sat(types::I32, x),
            (Bool, I32) => b.ins().uextend(types::I32, x),
            (Bool, F32 | F64) => {
                let wide = b.ins().uextend(types::I32, x);
                b.ins().fcvt_from_sint(clif_type(to), wide)
            }
            (F32 | F64, Bool) => {
                let zero = self.float_const(b, from, 0.0);
                b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
            (I32, Bool) => b.ins().icmp_imm_s(IntCC::NotEqual, x, 0),
            // Unreachable (`from == to` above), kept total.
            _ => x,
        }
    }
}
