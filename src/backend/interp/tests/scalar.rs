//! The scalar semantics table (`crate::ir::scalar`), checked by hand.
use crate::ir::scalar::*;
use crate::ir::{BinaryOp, DType, UnaryOp};

#[test]
fn integer_division_truncates_and_defines_zero() {
    assert_eq!(binary_i32(BinaryOp::Div, 7, 2), 3);
    assert_eq!(binary_i32(BinaryOp::Div, -7, 2), -3);
    assert_eq!(binary_i32(BinaryOp::Div, 7, -2), -3);
    assert_eq!(binary_i32(BinaryOp::Div, 5, 0), 0);
    assert_eq!(binary_i32(BinaryOp::Div, i32::MIN, -1), i32::MIN);
    assert_eq!(binary_i32(BinaryOp::Add, i32::MAX, 1), i32::MIN);
}

#[test]
fn integer_power() {
    assert_eq!(binary_i32(BinaryOp::Pow, 3, 4), 81);
    assert_eq!(binary_i32(BinaryOp::Pow, 5, 0), 1);
    assert_eq!(binary_i32(BinaryOp::Pow, 2, -1), 0);
    assert_eq!(binary_i32(BinaryOp::Pow, -1, -3), -1);
    assert_eq!(binary_i32(BinaryOp::Pow, -1, -2), 1);
    assert_eq!(binary_i32(BinaryOp::Pow, 0, -2), 0);
}

#[test]
fn maximum_and_minimum_propagate_nan() {
    assert!(binary_f64(BinaryOp::Maximum, f64::NAN, 1.0).is_nan());
    assert!(binary_f64(BinaryOp::Maximum, 1.0, f64::NAN).is_nan());
    assert!(binary_f32(BinaryOp::Minimum, 1.0, f32::NAN).is_nan());
    assert_eq!(binary_f64(BinaryOp::Maximum, -1.0, 2.0), 2.0);
    assert_eq!(binary_f32(BinaryOp::Minimum, -1.0, 2.0), -1.0);
}

#[test]
fn relu_and_sigmoid() {
    assert!(unary_f64(UnaryOp::Relu, f64::NAN).is_nan());
    assert_eq!(unary_f64(UnaryOp::Relu, -3.0), 0.0);
    assert_eq!(unary_f32(UnaryOp::Relu, 2.5), 2.5);
    assert_eq!(unary_i32(UnaryOp::Relu, -4), 0);
    assert_eq!(unary_f64(UnaryOp::Sigmoid, 0.0), 0.5);
    assert_eq!(unary_f64(UnaryOp::Sigmoid, -1000.0), 0.0);
    assert_eq!(unary_f64(UnaryOp::Sigmoid, 1000.0), 1.0);
    let s = unary_f64(UnaryOp::Sigmoid, -2.0);
    assert!((s - 1.0 / (1.0 + 2f64.exp())).abs() < 1e-15);
}

#[test]
fn comparisons_and_logic() {
    assert!(!compare_f64(BinaryOp::Eq, f64::NAN, f64::NAN));
    assert!(compare_f64(BinaryOp::Ne, f64::NAN, f64::NAN));
    assert!(compare_i32(BinaryOp::Le, 3, 3));
    assert!(compare_bool(BinaryOp::Lt, false, true));
    assert!(!compare_bool(BinaryOp::And, true, false));
    assert!(compare_bool(BinaryOp::Or, true, false));
    assert!(!unary_bool(UnaryOp::Not, true));
}

#[test]
fn casts() {
    assert_eq!(cast::<f64, i32>(2.9), 2);
    assert_eq!(cast::<f64, i32>(-2.9), -2);
    assert_eq!(cast::<f64, i32>(1e20), i32::MAX);
    assert_eq!(cast::<f32, i32>(-1e20), i32::MIN);
    assert_eq!(cast::<f64, i32>(f64::NAN), 0);
    assert!(cast::<f64, bool>(f64::NAN));
    assert!(!cast::<i32, bool>(0));
    assert!(cast::<i32, bool>(-3));
    assert_eq!(cast::<bool, f32>(true), 1.0);
    assert_eq!(cast::<i32, f32>(16_777_217), 16_777_216.0);
    assert_eq!(cast::<f64, f32>(0.1), 0.1f32);
}

#[test]
fn support_table() {
    assert!(unary_supported(UnaryOp::Exp, DType::F32));
    assert!(!unary_supported(UnaryOp::Exp, DType::I32));
    assert!(unary_supported(UnaryOp::Neg, DType::I32));
    assert!(!unary_supported(UnaryOp::Not, DType::F64));
    assert!(binary_supported(BinaryOp::And, DType::Bool));
    assert!(!binary_supported(BinaryOp::Add, DType::Bool));
    assert!(binary_supported(BinaryOp::Eq, DType::Bool));
    assert!(!binary_supported(BinaryOp::Or, DType::F32));
}
