//! Inline `f32` `exp` and `sigmoid` (scalars or `f32x4` lanes), instead of a call
//! per element.
//!
//! `exp(x)`: `x` is clamped to `[-104, 89]` (beyond, the result is 0 or +inf
//! anyway; NaN passes through: both compares are false), `n = nearest(x·log2 e)`,
//! `r = x − n·ln 2` in two FMA steps (Cody–Waite: ln 2 split into an exact high
//! part and a low part), `eʳ` by its Taylor polynomial to degree 7 (truncation
//! below 6e-9 relative for `|r| ≤ ln 2 / 2`), then scaled by `2ⁿ` as two factors
//! `2^(n/2)·2^(n−n/2)` so that subnormal and overflowing results round once,
//! like libm's. Results are within a few ulp of libm's `expf`, not bitwise equal:
//! the JIT's contract with `ir::scalar` for these two functions is 1e-5 relative
//! (docs/jit.md).
//!
//! `sigmoid(x)` uses the same overflow-free form as `ir::scalar`:
//! `e = exp(−|x|)`, then `1/(1+e)` for `x ≥ 0` and `e/(1+e)` otherwise.

use super::ops::Lower;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO; LN2_HI has few significant bits, so `n·LN2_HI` is exact.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

impl Lower<'_> {
    /// An `f32` constant (splat on vectors).
    fn f32c(&self, b: &mut FunctionBuilder, v: f32) -> Value {
        let s = b.ins().f32const(v);
        if self.lanes > 1 {
            b.ins().splat(types::F32X4, s)
        } else {
            s
        }
    }

    /// `2^k` for integer lanes `k` in `[-126, 127]`, built from the exponent bits.
    fn pow2(&self, b: &mut FunctionBuilder, k: Value) -> Value {
        let bias = b.ins().iconst(types::I32, 127);
        let bias = if self.lanes > 1 {
            b.ins().splat(types::I32X4, bias)
        } else {
            bias
        };
        let biased = b.ins().iadd(k, bias);
        let bits = b.ins().ishl_imm_u(biased, 23);
        let (ty, flags) = if self.lanes > 1 {
            (
                types::F32X4,
                MemFlagsData::new().with_endianness(Endianness::Little),
            )
        } else {
            (types::F32, MemFlagsData::new())
        };
        b.ins().bitcast(ty, flags, bits)
    }

    pub(crate) fn exp_f32(&self, b: &mut FunctionBuilder, x: Value) -> Value {
        let (lo, hi) = (self.f32c(b, -104.0), self.f32c(b, 89.0));
        let below = b.ins().fcmp(FloatCC::LessThan, x, lo);
        let x = self.choose(b, below, lo, x);
        let above = b.ins().fcmp(FloatCC::GreaterThan, x, hi);
        let x = self.choose(b, above, hi, x);
        // n = round(x / ln 2); r = x - n ln 2, |r| <= ln 2 / 2.
        let log2e = self.f32c(b, LOG2_E);
        let scaled = b.ins().fmul(x, log2e);
        let n = b.ins().nearest(scaled);
        let minus_hi = self.f32c(b, -LN2_HI);
        let minus_lo = self.f32c(b, -LN2_LO);
        let r = b.ins().fma(n, minus_hi, x);
        let r = b.ins().fma(n, minus_lo, r);
        // e^r = sum r^k / k! for k <= 7, by Horner's rule.
        let coefficients = [
            1.0 / 720.0,
            1.0 / 120.0,
            1.0 / 24.0,
            1.0 / 6.0,
            0.5,
            1.0,
            1.0,
        ];
        let mut p = self.f32c(b, 1.0 / 5040.0);
        for c in coefficients {
            let c = self.f32c(b, c);
            p = b.ins().fma(p, r, c);
        }
        // Scale by 2^n = 2^n1 · 2^n2 (n in [-150, 129], each half a normal power).
        let int_ty = if self.lanes > 1 {
            types::I32X4
        } else {
            types::I32
        };
        let ni = b.ins().fcvt_to_sint_sat(int_ty, n);
        let n1 = b.ins().sshr_imm_u(ni, 1);
        let n2 = b.ins().isub(ni, n1);
        let s1 = self.pow2(b, n1);
        let s2 = self.pow2(b, n2);
        let p = b.ins().fmul(p, s1);
        b.ins().fmul(p, s2)
    }

    pub(crate) fn sigmoid_f32(&self, b: &mut FunctionBuilder, x: Value) -> Value {
        let a = b.ins().fabs(x);
        let minus_a = b.ins().fneg(a);
        let e = self.exp_f32(b, minus_a);
        let one = self.f32c(b, 1.0);
        let d = b.ins().fadd(one, e);
        let pos = b.ins().fdiv(one, d);
        let neg = b.ins().fdiv(e, d);
        let zero = self.f32c(b, 0.0);
        let ge = b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, zero);
        self.choose(b, ge, pos, neg)
    }
}
