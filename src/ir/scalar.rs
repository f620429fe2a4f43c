//! Scalar semantics of every elementwise op, defined once through the [`Scalar`]
//! trait (`f32`, `f64`, `i32`, `bool`), with monomorphic entry points
//! (`unary_f64`, `binary_f32`, ...): the evaluator, constant folding and the JIT's
//! constants all use it. The choices (which the JIT follows too) are listed in
//! `docs/language-notes.md`, "Scalar semantics"; tests: `backend/interp/tests/scalar.rs`.

use super::op::{BinaryOp, UnaryOp};
use super::types::DType;

/// Whether `op` on `dtype` is part of the language (the result has the same dtype).
pub fn unary_supported(op: UnaryOp, dtype: DType) -> bool {
    match op {
        UnaryOp::Not => dtype == DType::Bool,
        UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Relu => dtype.is_numeric(),
        UnaryOp::Exp
        | UnaryOp::Log
        | UnaryOp::Sqrt
        | UnaryOp::Tanh
        | UnaryOp::Sigmoid
        | UnaryOp::Sin
        | UnaryOp::Cos => dtype.is_float(),
    }
}

/// Whether `op` on two inputs of `dtype` is part of the language. Comparisons give
/// `bool`; every other op gives `dtype`.
pub fn binary_supported(op: BinaryOp, dtype: DType) -> bool {
    if op.is_logical() {
        dtype == DType::Bool
    } else if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
        true
    } else {
        dtype.is_numeric()
    }
}

/// One element type and the meaning of every elementwise op on it.
pub trait Scalar: Copy + PartialOrd + std::fmt::Debug + 'static {
    const DTYPE: DType;
    /// `unary op x`.
    fn unary(op: UnaryOp, x: Self) -> Self;
    /// `a op b` for every op that is not a comparison (comparisons give 1/0 here;
    /// use [`Scalar::compare`] for them).
    fn binary(op: BinaryOp, a: Self, b: Self) -> Self;
    /// `a op b` for a comparison or logical op.
    fn compare(op: BinaryOp, a: Self, b: Self) -> bool;
    /// Exact for every dtype.
    fn to_f64(self) -> f64;
    /// Float → `i32` truncates and saturates (`NaN → 0`); → `bool` is `!= 0`.
    fn from_f64(x: f64) -> Self;
    /// The value of `true` (1) / `false` (0) in this dtype.
    fn from_bool(b: bool) -> Self;
    /// The identity of `max`: `-inf`, `i32::MIN`, `false`.
    fn lowest() -> Self;
    /// The identity of `min`: `+inf`, `i32::MAX`, `true`.
    fn highest() -> Self;
    /// NaN for floats (only floats have NaN).
    fn is_nan(self) -> bool;
}

/// Comparison on anything ordered (IEEE semantics for floats via `PartialOrd`).
fn compare_ordered<T: PartialOrd>(op: BinaryOp, a: T, b: T, truthy: impl Fn(&T) -> bool) -> bool {
    match op {
        BinaryOp::Eq => a == b,
        BinaryOp::Ne => a != b,
        BinaryOp::Lt => a < b,
        BinaryOp::Le => a <= b,
        BinaryOp::Gt => a > b,
        BinaryOp::Ge => a >= b,
        BinaryOp::And => truthy(&a) && truthy(&b),
        BinaryOp::Or => truthy(&a) || truthy(&b),
        // Not comparisons: nonzero result means true.
        _ => false,
    }
}

macro_rules! float_scalar {
    ($t:ident, $dtype:expr) => {
        impl Scalar for $t {
            const DTYPE: DType = $dtype;

            fn unary(op: UnaryOp, x: $t) -> $t {
                match op {
                    UnaryOp::Neg => -x,
                    // Not part of the language on floats: `x == 0` as 0/1.
                    UnaryOp::Not => {
                        if x == 0.0 {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    UnaryOp::Exp => x.exp(),
                    UnaryOp::Log => x.ln(),
                    UnaryOp::Sqrt => x.sqrt(),
                    UnaryOp::Abs => x.abs(),
                    UnaryOp::Tanh => x.tanh(),
                    UnaryOp::Sigmoid => {
                        if x >= 0.0 {
                            1.0 / (1.0 + (-x).exp())
                        } else {
                            let e = x.exp();
                            e / (1.0 + e)
                        }
                    }
                    // NaN stays NaN; -0.0 and negatives become +0.0.
                    UnaryOp::Relu => {
                        if x > 0.0 || x.is_nan() {
                            x
                        } else {
                            0.0
                        }
                    }
                    UnaryOp::Sin => x.sin(),
                    UnaryOp::Cos => x.cos(),
                }
            }

            fn binary(op: BinaryOp, a: $t, b: $t) -> $t {
                match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div => a / b,
                    BinaryOp::Pow => a.powf(b),
                    BinaryOp::Maximum => {
                        if a.is_nan() || b.is_nan() {
                            $t::NAN
                        } else if a >= b {
                            a
                        } else {
                            b
                        }
                    }
                    BinaryOp::Minimum => {
                        if a.is_nan() || b.is_nan() {
                            $t::NAN
                        } else if a <= b {
                            a
                        } else {
                            b
                        }
                    }
                    _ => {
                        if Self::compare(op, a, b) {
                            1.0
                        } else {
                            0.0
                        }
                    }
                }
            }

            fn compare(op: BinaryOp, a: $t, b: $t) -> bool {
                compare_ordered(op, a, b, |v| *v != 0.0)
            }

            fn to_f64(self) -> f64 {
                self as f64
            }

            fn from_f64(x: f64) -> $t {
                x as $t
            }

            fn from_bool(b: bool) -> $t {
                if b {
                    1.0
                } else {
                    0.0
                }
            }

            fn lowest() -> $t {
                $t::NEG_INFINITY
            }

            fn highest() -> $t {
                $t::INFINITY
            }

            fn is_nan(self) -> bool {
                self.is_nan()
            }
        }
    };
}

float_scalar!(f32, DType::F32);
float_scalar!(f64, DType::F64);

/// `a ** b` on `i32` (see the module header).
fn pow_i32(a: i32, b: i32) -> i32 {
    if b >= 0 {
        a.wrapping_pow(b as u32)
    } else {
        match a {
            1 => 1,
            -1 => {
                if b % 2 == 0 {
                    1
                } else {
                    -1
                }
            }
            _ => 0,
        }
    }
}

impl Scalar for i32 {
    const DTYPE: DType = DType::I32;

    fn unary(op: UnaryOp, x: i32) -> i32 {
        match op {
            UnaryOp::Neg => x.wrapping_neg(),
            UnaryOp::Abs => x.wrapping_abs(),
            UnaryOp::Relu => x.max(0),
            UnaryOp::Not => i32::from(x == 0),
            // Not part of the language on i32: computed in f64, cast back.
            _ => i32::from_f64(f64::unary(op, x as f64)),
        }
    }

    fn binary(op: BinaryOp, a: i32, b: i32) -> i32 {
        match op {
            BinaryOp::Add => a.wrapping_add(b),
            BinaryOp::Sub => a.wrapping_sub(b),
            BinaryOp::Mul => a.wrapping_mul(b),
            // Truncating division; x / 0 = 0; MIN / -1 wraps.
            BinaryOp::Div => {
                if b == 0 {
                    0
                } else {
                    a.wrapping_div(b)
                }
            }
            BinaryOp::Pow => pow_i32(a, b),
            BinaryOp::Maximum => a.max(b),
            BinaryOp::Minimum => a.min(b),
            _ => i32::from(Self::compare(op, a, b)),
        }
    }

    fn compare(op: BinaryOp, a: i32, b: i32) -> bool {
        compare_ordered(op, a, b, |v| *v != 0)
    }

    fn to_f64(self) -> f64 {
        self as f64
    }

    fn from_f64(x: f64) -> i32 {
        // Rust's `as` truncates toward zero, saturates, and maps NaN to 0.
        x as i32
    }

    fn from_bool(b: bool) -> i32 {
        i32::from(b)
    }

    fn lowest() -> i32 {
        i32::MIN
    }

    fn highest() -> i32 {
        i32::MAX
    }

    fn is_nan(self) -> bool {
        false
    }
}

impl Scalar for bool {
    const DTYPE: DType = DType::Bool;

    fn unary(op: UnaryOp, x: bool) -> bool {
        match op {
            UnaryOp::Not => !x,
            // Not part of the language on bool: on 0/1 as i32.
            _ => i32::unary(op, i32::from(x)) != 0,
        }
    }

    fn binary(op: BinaryOp, a: bool, b: bool) -> bool {
        match op {
            BinaryOp::And => a && b,
            BinaryOp::Or => a || b,
            BinaryOp::Maximum => a || b,
            BinaryOp::Minimum => a && b,
            _ if op.is_comparison() => Self::compare(op, a, b),
            // Not part of the language on bool: on 0/1 as i32.
            _ => i32::binary(op, i32::from(a), i32::from(b)) != 0,
        }
    }

    fn compare(op: BinaryOp, a: bool, b: bool) -> bool {
        compare_ordered(op, a, b, |v| *v)
    }

    fn to_f64(self) -> f64 {
        if self {
            1.0
        } else {
            0.0
        }
    }

    fn from_f64(x: f64) -> bool {
        x != 0.0
    }

    fn from_bool(b: bool) -> bool {
        b
    }

    fn lowest() -> bool {
        false
    }

    fn highest() -> bool {
        true
    }

    fn is_nan(self) -> bool {
        false
    }
}

/// Converts between element types with the cast semantics of the module header.
pub fn cast<From: Scalar, To: Scalar>(x: From) -> To {
    To::from_f64(x.to_f64())
}

macro_rules! entry_points {
    ($t:ty, $unary:ident, $binary:ident, $compare:ident) => {
        #[doc = concat!("`op x` on `", stringify!($t), "`.")]
        pub fn $unary(op: UnaryOp, x: $t) -> $t {
            <$t as Scalar>::unary(op, x)
        }

        #[doc = concat!("`a op b` on `", stringify!($t), "` for non-comparison ops.")]
        pub fn $binary(op: BinaryOp, a: $t, b: $t) -> $t {
            <$t as Scalar>::binary(op, a, b)
        }

        #[doc = concat!("A comparison or logical op on `", stringify!($t), "`.")]
        pub fn $compare(op: BinaryOp, a: $t, b: $t) -> bool {
            <$t as Scalar>::compare(op, a, b)
        }
    };
}

entry_points!(f64, unary_f64, binary_f64, compare_f64);
entry_points!(f32, unary_f32, binary_f32, compare_f32);
entry_points!(i32, unary_i32, binary_i32, compare_i32);
entry_points!(bool, unary_bool, binary_bool, compare_bool);
