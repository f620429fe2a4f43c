//! Inline `f32` `exp` and `sigmoid` (scalars or `f32x4` lanes), instead of a call
//! per element.
//!
//! `exp(x)`: `x` is clamped to `[-104, 89]` (beyond, the result is 0 or +inf
//! anyway; NaN passes through: both compares are false). `n = nearest(x·log2 e)`
//! comes from one FMA with 1.5·2²³ (the sum's low mantissa bits hold `n`, so no
//! float-to-int conversion is needed), `r = x − n·ln 2` in two FMA steps
//! (Cody–Waite: ln 2 split into an exact high part and a low part), and
//! `eʳ = 1 + r·q(r)` with `q` a degree-5 polynomial for `(eʳ − 1)/r` (minimax:
//! below 4.5e-9 relative for `|r| ≤ ln 2 / 2`), evaluated by Estrin's
//! scheme (a dependency chain of 3 multiply-adds, not Horner's 7: the loop is
//! bound by latency, see docs/jit.md, "Elementwise kernels"). The result is
//! scaled by `2ⁿ` as two factors `2^(n/2)·2^(n−n/2)`, the first folded into the
//! last FMA, so that subnormal and overflowing results round once, like libm's.
//! Results are within a few ulp of libm's `expf`, not bitwise equal (tested:
//! `checks::jit::elementwise`): the JIT's contract with `ir::scalar` for these
//! functions is 1e-5 relative (docs/jit.md).
//!
//! `sigmoid(x)` uses the same overflow-free form as `ir::scalar`: `e = exp(−|x|)`,
//! then `1/(1+e)` for `x ≥ 0` and `e/(1+e)` otherwise, as one division of the
//! chosen numerator. Since `n ≤ 0` there, one scale `2^(n+64)` (a normal
//! number) and a constant `2^-64` replace the two factors.

use super::ops::Lower;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO; LN2_HI has few significant bits, so `n·LN2_HI` is exact.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5·2²³: adding it rounds `|v| < 2²²` to an integer held in the low mantissa bits.
const MAGIC: f32 = 12_582_912.0;

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

    /// `a * x + c`: one fused multiply-add when the ISA has FMA, else a
    /// multiply and an add (Cranelift's `fma` without the FMA flag is a libm
    /// call per element). Rounded twice there, so results differ in the last
    /// bits, within the 1e-5 contract with `ir::scalar`.
    fn mul_add(&self, b: &mut FunctionBuilder, a: Value, x: Value, c: Value) -> Value {
        if self.helpers.fma {
            b.ins().fma(a, x, c)
        } else {
            let p = b.ins().fmul(a, x);
            b.ins().fadd(p, c)
        }
    }

    /// `2^k` for integer lanes `k` in `[-126, 127]`, built from the exponent bits.
    fn pow2(&self, b: &mut FunctionBuilder, k: Value) -> Value {
        let bias = self.i32c(b, 127);
        let biased = b.ins().iadd(k, bias);
        let bits = b.ins().ishl_imm_u(biased, 23);
        self.reinterpret(b, bits, true)
    }

    /// The bits of `v` as integer lanes (`i32`/`i32x4`), or back (`to` float).
    fn reinterpret(&self, b: &mut FunctionBuilder, v: Value, float: bool) -> Value {
        let ty = match (self.lanes > 1, float) {
            (true, true) => types::F32X4,
            (true, false) => types::I32X4,
            (false, true) => types::F32,
            (false, false) => types::I32,
        };
        let flags = if self.lanes > 1 {
            MemFlagsData::new().with_endianness(Endianness::Little)
        } else {
            MemFlagsData::new()
        };
        b.ins().bitcast(ty, flags, v)
    }

    pub(crate) fn exp_f32(&self, b: &mut FunctionBuilder, x: Value) -> Value {
        let (lo, hi) = (self.f32c(b, -104.0), self.f32c(b, 89.0));
        let below = b.ins().fcmp(FloatCC::LessThan, x, lo);
        let x = self.choose(b, below, lo, x);
        let above = b.ins().fcmp(FloatCC::GreaterThan, x, hi);
        let x = self.choose(b, above, hi, x);
        let (t, r, q) = self.exp_parts(b, x);
        // 2^n = 2^n1 · 2^n2, n in [-150, 129], each half a normal power; then
        // e^x = (s1 + (r·s1)·q) · s2 (r·s1 is exact: s1 is a normal power of 2).
        let magic_bits = self.i32c(b, MAGIC.to_bits() as i64);
        let t_bits = self.reinterpret(b, t, false);
        let ni = b.ins().isub(t_bits, magic_bits);
        let n1 = b.ins().sshr_imm_u(ni, 1);
        let n2 = b.ins().isub(ni, n1);
        let s1 = self.pow2(b, n1);
        let s2 = self.pow2(b, n2);
        let rs = b.ins().fmul(r, s1);
        let p = self.mul_add(b, rs, q, s1);
        b.ins().fmul(p, s2)
    }

    /// For `x` in `[-104, 89]` or NaN: `t` (whose bits hold `n` = round(x/ln 2)
    /// above those of [`MAGIC`]), `r = x − n·ln 2` and `q(r)`, with
    /// `e^x = 2ⁿ·(1 + r·q)`.
    fn exp_parts(&self, b: &mut FunctionBuilder, x: Value) -> (Value, Value, Value) {
        // Adding 1.5·2²³ in the FMA rounds x·log2 e to an integer (the sum's ulp
        // is 1); subtracting it again gives n exactly. (Constant factors come
        // first in the FMAs here: x64's `vfmadd213` overwrites its first
        // operand, and a freshly loaded constant there saves a copy of a value
        // that is still live; the product is the same either way.)
        let (log2e, magic) = (self.f32c(b, LOG2_E), self.f32c(b, MAGIC));
        let t = self.mul_add(b, log2e, x, magic);
        let n = b.ins().fsub(t, magic);
        let minus_hi = self.f32c(b, -LN2_HI);
        let minus_lo = self.f32c(b, -LN2_LO);
        let r = self.mul_add(b, minus_hi, n, x);
        let r = self.mul_add(b, n, minus_lo, r);
        // q = (1 + r/2) + r²((c2 + c3·r) + r²(c4 + c5·r)): c2..c5 minimize the
        // largest relative error of 1 + r·q on |r| <= 1.02·ln 2 / 2 (fitted by
        // Lawson's weighted least squares, then rounded to f32: 4.4e-9).
        let r2 = b.ins().fmul(r, r);
        let r4 = b.ins().fmul(r2, r2);
        let mut pair = |hi: u32, lo: u32| {
            let (hi, lo) = (
                self.f32c(b, f32::from_bits(hi)),
                self.f32c(b, f32::from_bits(lo)),
            );
            self.mul_add(b, hi, r, lo)
        };
        let q01 = pair(0.5f32.to_bits(), 1.0f32.to_bits());
        let q23 = pair(0x3d2a_ab51, 0x3e2a_aa4b);
        let q45 = pair(0x3ab5_b31e, 0x3c09_1d63);
        let q03 = self.mul_add(b, q23, r2, q01);
        let q = self.mul_add(b, q45, r4, q03);
        (t, r, q)
    }

    /// An `i32` constant (splat on vectors).
    fn i32c(&self, b: &mut FunctionBuilder, v: i64) -> Value {
        // Cranelift's `i32` immediates are zero-extended.
        let s = b.ins().iconst(types::I32, v as i32 as u32 as i64);
        if self.lanes > 1 {
            b.ins().splat(types::I32X4, s)
        } else {
            s
        }
    }

    pub(crate) fn sigmoid_f32(&self, b: &mut FunctionBuilder, x: Value) -> Value {
        // -|x|: on vectors one `or` of the sign bit (fabs and fneg each build
        // their mask in three instructions). NaN stays NaN.
        let m = if self.lanes > 1 {
            let sign = self.f32c(b, -0.0);
            b.ins().bor(x, sign)
        } else {
            let a = b.ins().fabs(x);
            b.ins().fneg(a)
        };
        // Only the lower clamp: -|x| <= 0.
        let lo = self.f32c(b, -104.0);
        let below = b.ins().fcmp(FloatCC::LessThan, m, lo);
        let m = self.choose(b, below, lo, m);
        let (t, r, q) = self.exp_parts(b, m);
        // n in [-150, 0]: s = 2^(n+64) is normal, its biased exponent is
        // n + 191 = t_bits − MAGIC_bits + 191; e·2^64 = s + (r·s)·q.
        let bias = self.i32c(b, 191 - MAGIC.to_bits() as i64);
        let t_bits = self.reinterpret(b, t, false);
        let biased = b.ins().iadd(t_bits, bias);
        let bits = b.ins().ishl_imm_u(biased, 23);
        let s = self.reinterpret(b, bits, true);
        let rs = b.ins().fmul(r, s);
        let big = self.mul_add(b, rs, q, s);
        // e (rounded once, to a subnormal if need be) and 1 + e (one FMA).
        let tiny = self.f32c(b, 2f32.powi(-64));
        let e = b.ins().fmul(big, tiny);
        let one = self.f32c(b, 1.0);
        let d = self.mul_add(b, big, tiny, one);
        // One division, of the interpreter's numerator (1 for x >= 0, e
        // otherwise) by 1 + e: rounded once, like its two-division form.
        let zero = self.f32c(b, 0.0);
        let ge = b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, zero);
        let numerator = self.choose(b, ge, one, e);
        b.ins().fdiv(numerator, d)
    }

    /// `tanh(x) = sign(x)·E/(E + 2)` with `E = e^(2|x|) − 1` computed as
    /// `2ⁿ·r·q + (2ⁿ − 1)` (an `expm1`: for small `|x|`, `n = 0` and
    /// `E = r·q` has no cancellation, so `tanh(x) ≈ x` stays accurate). `|x|`
    /// is clamped to 10, where `tanh` rounds to 1 (so `2ⁿ`, `n <= 29`, is one
    /// normal factor and `2ⁿ − 1` is exact up to `n = 24`). NaN stays NaN and
    /// `tanh(−0) = −0`.
    pub(crate) fn tanh_f32(&self, b: &mut FunctionBuilder, x: Value) -> Value {
        let sign = self.f32c(b, -0.0);
        let a = if self.lanes > 1 {
            b.ins().band_not(x, sign)
        } else {
            b.ins().fabs(x)
        };
        let hi = self.f32c(b, 10.0);
        let above = b.ins().fcmp(FloatCC::GreaterThan, a, hi);
        let a = self.choose(b, above, hi, a);
        let y = b.ins().fadd(a, a);
        let (t, r, q) = self.exp_parts(b, y);
        let magic_bits = self.i32c(b, MAGIC.to_bits() as i64);
        let t_bits = self.reinterpret(b, t, false);
        let n = b.ins().isub(t_bits, magic_bits);
        let s = self.pow2(b, n);
        let one = self.f32c(b, 1.0);
        let s_minus_1 = b.ins().fsub(s, one);
        let rs = b.ins().fmul(r, s);
        let em1 = self.mul_add(b, rs, q, s_minus_1);
        let two = self.f32c(b, 2.0);
        let d = b.ins().fadd(em1, two);
        // libm's two forms: `E/(E+2)` below 1 (no cancellation near 0) and
        // `1 − 2/(E+2)` from 1 on, which rounds to exactly 1 where libm's
        // does (|x| ≥ ~9.01): comparisons with 1 then agree.
        let small = b.ins().fdiv(em1, d);
        let q = b.ins().fdiv(two, d);
        let big = b.ins().fsub(one, q);
        let at_least_one = b.ins().fcmp(FloatCC::GreaterThanOrEqual, a, one);
        let th = self.choose(b, at_least_one, big, small);
        if self.lanes > 1 {
            let x_sign = b.ins().band(x, sign);
            b.ins().bor(th, x_sign)
        } else {
            b.ins().fcopysign(th, x)
        }
    }

    /// `ln(x)` as musl's `logf`: `x = 2^k·m` with `m` in `[√½, √2)` (by integer
    /// operations on the bits; subnormal `x` is first scaled by 2²³), then with
    /// `f = m − 1`, `s = f/(2 + f)`: `ln m = f − f²/2 + s·(f²/2 + R(s²))`, `R` a
    /// degree-4 polynomial. Special inputs are selected at the end: `±0 → −inf`,
    /// `+inf → +inf`, negative or NaN → NaN.
    pub(crate) fn log_f32(&self, b: &mut FunctionBuilder, x: Value) -> Value {
        // Subnormals: scale into the normal range, remember 23 in the exponent.
        let min_normal = self.f32c(b, f32::MIN_POSITIVE);
        let small = b.ins().fcmp(FloatCC::LessThan, x, min_normal);
        let two23 = self.f32c(b, 8_388_608.0);
        let scaled = b.ins().fmul(x, two23);
        let xs = self.choose(b, small, scaled, x);
        let (c23, zero) = (self.f32c(b, 23.0), self.f32c(b, 0.0));
        let k_adjust = self.choose(b, small, c23, zero);
        // k and m: shifting the bits by (1 − √½)'s offset puts m in [√½, √2).
        let bits = self.reinterpret(b, xs, false);
        let shift = self.i32c(b, 0x3f80_0000 - 0x3f35_04f3);
        let ix = b.ins().iadd(bits, shift);
        let k = b.ins().sshr_imm_u(ix, 23);
        let bias = self.i32c(b, 0x7f);
        let k = b.ins().isub(k, bias);
        let mask = self.i32c(b, 0x007f_ffff);
        let mantissa = b.ins().band(ix, mask);
        let sqrt_half = self.i32c(b, 0x3f35_04f3);
        let m_bits = b.ins().iadd(mantissa, sqrt_half);
        let m = self.reinterpret(b, m_bits, true);
        let ty = if self.lanes > 1 {
            types::F32X4
        } else {
            types::F32
        };
        let dk = b.ins().fcvt_from_sint(ty, k);
        let dk = b.ins().fsub(dk, k_adjust);
        // ln m (musl's coefficients Lg1..Lg4).
        let one = self.f32c(b, 1.0);
        let f = b.ins().fsub(m, one);
        let two = self.f32c(b, 2.0);
        let denominator = b.ins().fadd(two, f);
        let s_ = b.ins().fdiv(f, denominator);
        let z = b.ins().fmul(s_, s_);
        let w = b.ins().fmul(z, z);
        let [lg1, lg2, lg3, lg4] = [0x3f2a_aaaa, 0x3ecc_ce13, 0x3e91_e9ee, 0x3e78_9e26]
            .map(|c| self.f32c(b, f32::from_bits(c)));
        let t1 = self.mul_add(b, lg4, w, lg2);
        let t1 = b.ins().fmul(w, t1);
        let t2 = self.mul_add(b, lg3, w, lg1);
        let t2 = b.ins().fmul(z, t2);
        let r = b.ins().fadd(t2, t1);
        let half = self.f32c(b, 0.5);
        let hf = b.ins().fmul(half, f);
        let hfsq = b.ins().fmul(hf, f);
        // ln 2 = ln2_hi + ln2_lo, ln2_hi with 12 significant bits (k·ln2_hi exact).
        let [ln2_hi, ln2_lo] = [0x3f31_7180, 0x3717_f7d1].map(|c| self.f32c(b, f32::from_bits(c)));
        let sum = b.ins().fadd(hfsq, r);
        let v = b.ins().fmul(s_, sum);
        let v = self.mul_add(b, ln2_lo, dk, v);
        let v = b.ins().fsub(v, hfsq);
        let v = b.ins().fadd(v, f);
        let main = self.mul_add(b, dk, ln2_hi, v);
        // Special inputs.
        let inf = self.f32c(b, f32::INFINITY);
        let (neg_inf, nan) = (self.f32c(b, f32::NEG_INFINITY), self.f32c(b, f32::NAN));
        let is_zero = b.ins().fcmp(FloatCC::Equal, x, zero);
        let special = self.choose(b, is_zero, neg_inf, nan);
        let is_inf = b.ins().fcmp(FloatCC::Equal, x, inf);
        let special = self.choose(b, is_inf, inf, special);
        let positive = b.ins().fcmp(FloatCC::GreaterThan, x, zero);
        let finite = b.ins().fcmp(FloatCC::LessThan, x, inf);
        let ok = b.ins().band(positive, finite);
        self.choose(b, ok, main, special)
    }
}
