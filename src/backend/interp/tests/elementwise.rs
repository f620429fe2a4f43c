//! Elementwise ops, checked by hand.

use super::*;
use crate::diag::DiagKind;
use crate::ir::{BinaryOp, UnaryOp};

fn unary(x: Tensor, op: UnaryOp) -> Tensor {
    let out = x.ty();
    eval_op(Op::Unary(op), vec![x], out).unwrap()
}

fn binary(x: Tensor, y: Tensor, op: BinaryOp, out: TensorType) -> Result<Tensor, Diag> {
    eval_op(Op::Binary(op), vec![x, y], out)
}

#[test]
fn unary_float_ops() {
    let x = f32t(&[4], &[-2.0, 0.0, 1.5, f32::NAN]);
    for (op, y) in [
        (UnaryOp::Neg, [2.0, -0.0, -1.5, f32::NAN]),
        (UnaryOp::Relu, [0.0, 0.0, 1.5, f32::NAN]),
        (UnaryOp::Abs, [2.0, 0.0, 1.5, f32::NAN]),
    ] {
        assert_close(&unary(x.clone(), op), &f32t(&[4], &y), 0.0);
    }
    let e = [(-2f32).exp(), 1.0, 1.5f32.exp(), f32::NAN];
    assert_close(&unary(x.clone(), UnaryOp::Exp), &f32t(&[4], &e), 1e-7);
    let s: Vec<f64> = [-2.0f64, 0.0, 1.5]
        .iter()
        .map(|v| 1.0 / (1.0 + (-v).exp()))
        .collect();
    let got = unary(x.clone(), UnaryOp::Sigmoid).to_f64_vec();
    for k in 0..3 {
        assert!((got[k] - s[k]).abs() < 1e-7);
    }
    let y = f64t(&[3], &[4.0, 0.0, -1.0]);
    assert_close(
        &unary(y.clone(), UnaryOp::Sqrt),
        &f64t(&[3], &[2.0, 0.0, f64::NAN]),
        0.0,
    );
    assert_close(
        &unary(y.clone(), UnaryOp::Log),
        &f64t(&[3], &[4f64.ln(), f64::NEG_INFINITY, f64::NAN]),
        1e-15,
    );
    let t = unary(f64t(&[2], &[0.5, -3.0]), UnaryOp::Tanh);
    assert_close(&t, &f64t(&[2], &[0.5f64.tanh(), (-3f64).tanh()]), 1e-15);
    let sc = unary(f64t(&[1], &[1.0]), UnaryOp::Sin);
    assert_close(&sc, &f64t(&[1], &[1f64.sin()]), 1e-15);
    let c = unary(f64t(&[], &[1.0]), UnaryOp::Cos);
    assert_close(&c, &f64t(&[], &[1f64.cos()]), 1e-15);
}

#[test]
fn unary_integer_and_bool_ops() {
    let x = i32t(&[3], &[-5, 0, i32::MIN]);
    for op in [UnaryOp::Neg, UnaryOp::Abs] {
        assert_exact(&unary(x.clone(), op), &i32t(&[3], &[5, 0, i32::MIN]));
    }
    assert_exact(&unary(x, UnaryOp::Relu), &i32t(&[3], &[0, 0, 0]));
    let b = boolt(&[2], &[true, false]);
    assert_exact(&unary(b, UnaryOp::Not), &boolt(&[2], &[false, true]));
}

#[test]
fn unary_float_op_on_integers_is_internal_error() {
    let mut g = Graph::new();
    let a = konst(&mut g, i32t(&[1], &[2]));
    let y = add(&mut g, Op::Unary(UnaryOp::Exp), &[a], ty(DType::I32, &[1]));
    assert_eq!(run_err(&g, y).kind, DiagKind::Internal);
}

#[test]
fn binary_broadcasts_like_numpy() {
    let a = f32t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let b = f32t(&[3], &[10.0, 20.0, 30.0]);
    let out = binary(a, b, BinaryOp::Add, ty(DType::F32, &[2, 3])).unwrap();
    assert_exact(&out, &f32t(&[2, 3], &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]));

    let col = f64t(&[3, 1], &[1.0, 2.0, 3.0]);
    let row = f64t(&[1, 4], &[1.0, 10.0, 100.0, 1000.0]);
    let out = binary(col, row, BinaryOp::Mul, ty(DType::F64, &[3, 4])).unwrap();
    let expected: Vec<f64> = [1.0, 2.0, 3.0]
        .iter()
        .flat_map(|c| [1.0, 10.0, 100.0, 1000.0].map(|r| c * r))
        .collect();
    assert_exact(&out, &f64t(&[3, 4], &expected));

    // Scalar with a 17-element vector.
    let v: Vec<f32> = (0..17).map(|k| k as f32).collect();
    let out = binary(
        f32t(&[], &[2.0]),
        f32t(&[17], &v),
        BinaryOp::Sub,
        ty(DType::F32, &[17]),
    );
    let expected: Vec<f32> = v.iter().map(|x| 2.0 - x).collect();
    assert_exact(&out.unwrap(), &f32t(&[17], &expected));
}

#[test]
fn binary_with_zero_sized_dims() {
    let a = f32t(&[0, 3], &[]);
    let b = f32t(&[3], &[1.0, 2.0, 3.0]);
    let out = binary(a, b, BinaryOp::Add, ty(DType::F32, &[0, 3])).unwrap();
    assert_exact(&out, &f32t(&[0, 3], &[]));
    let a = f32t(&[1, 0], &[]);
    let b = f32t(&[3, 1], &[1.0, 2.0, 3.0]);
    let out = binary(a, b, BinaryOp::Mul, ty(DType::F32, &[3, 0])).unwrap();
    assert_exact(&out, &f32t(&[3, 0], &[]));
}

#[test]
fn binary_mismatched_shapes_are_internal_errors() {
    let a = f32t(&[2], &[1.0, 2.0]);
    let b = f32t(&[3], &[1.0, 2.0, 3.0]);
    let err = binary(a, b, BinaryOp::Add, ty(DType::F32, &[3])).unwrap_err();
    assert_eq!(err.kind, DiagKind::Internal);
    // Right values, wrong declared type.
    let a = f32t(&[2], &[1.0, 2.0]);
    let err = binary(a.clone(), a, BinaryOp::Add, ty(DType::F32, &[2, 1])).unwrap_err();
    assert_eq!(err.kind, DiagKind::Internal);
    assert!(err.message.contains("f32[2, 1]"), "{}", err.message);
}

#[test]
fn integer_arithmetic() {
    let a = i32t(&[5], &[7, -7, 7, 5, i32::MAX]);
    let b = i32t(&[5], &[2, 2, -2, 0, 1]);
    let out = |op| binary(a.clone(), b.clone(), op, ty(DType::I32, &[5])).unwrap();
    assert_exact(&out(BinaryOp::Div), &i32t(&[5], &[3, -3, -3, 0, i32::MAX]));
    assert_exact(&out(BinaryOp::Add), &i32t(&[5], &[9, -5, 5, 5, i32::MIN]));
    assert_exact(&out(BinaryOp::Pow), &i32t(&[5], &[49, 49, 0, 1, i32::MAX]));
    assert_exact(
        &out(BinaryOp::Maximum),
        &i32t(&[5], &[7, 2, 7, 5, i32::MAX]),
    );
    assert_exact(&out(BinaryOp::Minimum), &i32t(&[5], &[2, -7, -2, 0, 1]));
}

#[test]
fn float_maximum_pow_and_division() {
    let a = f64t(&[4], &[1.0, f64::NAN, 2.0, -1.0]);
    let b = f64t(&[4], &[3.0, 0.0, f64::NAN, 0.0]);
    let out = |op| binary(a.clone(), b.clone(), op, ty(DType::F64, &[4])).unwrap();
    assert_close(
        &out(BinaryOp::Maximum),
        &f64t(&[4], &[3.0, f64::NAN, f64::NAN, 0.0]),
        0.0,
    );
    assert_close(
        &out(BinaryOp::Minimum),
        &f64t(&[4], &[1.0, f64::NAN, f64::NAN, -1.0]),
        0.0,
    );
    assert_close(
        &out(BinaryOp::Div),
        &f64t(&[4], &[1.0 / 3.0, f64::NAN, f64::NAN, f64::NEG_INFINITY]),
        0.0,
    );
    assert_close(
        &out(BinaryOp::Pow),
        &f64t(&[4], &[1.0, 1.0, f64::NAN, 1.0]),
        0.0,
    );
}

#[test]
fn comparisons_and_logic_give_bool() {
    let a = f32t(&[4], &[1.0, 2.0, 3.0, f32::NAN]);
    let b = f32t(&[], &[2.0]);
    let cmp = |op| binary(a.clone(), b.clone(), op, ty(DType::Bool, &[4])).unwrap();
    let t = true;
    let f = false;
    for (op, expected) in [
        (BinaryOp::Lt, [t, f, f, f]),
        (BinaryOp::Le, [t, t, f, f]),
        (BinaryOp::Gt, [f, f, t, f]),
        (BinaryOp::Ge, [f, t, t, f]),
        (BinaryOp::Eq, [f, t, f, f]),
    ] {
        assert_exact(&cmp(op), &boolt(&[4], &expected));
    }
    assert_exact(&cmp(BinaryOp::Ne), &boolt(&[4], &[true, false, true, true]));
    let i = binary(
        i32t(&[2], &[1, 5]),
        i32t(&[2], &[5, 5]),
        BinaryOp::Lt,
        ty(DType::Bool, &[2]),
    );
    assert_exact(&i.unwrap(), &boolt(&[2], &[true, false]));
    let p = boolt(&[2, 2], &[true, true, false, false]);
    let q = boolt(&[2], &[true, false]);
    let and = binary(
        p.clone(),
        q.clone(),
        BinaryOp::And,
        ty(DType::Bool, &[2, 2]),
    )
    .unwrap();
    assert_exact(&and, &boolt(&[2, 2], &[true, false, false, false]));
    let or = binary(p, q, BinaryOp::Or, ty(DType::Bool, &[2, 2])).unwrap();
    assert_exact(&or, &boolt(&[2, 2], &[true, true, true, false]));
}

#[test]
fn select_broadcasts_three_ways() {
    let mut g = Graph::new();
    let c = konst(&mut g, boolt(&[2, 1], &[true, false]));
    let a = konst(&mut g, f32t(&[3], &[1.0, 2.0, 3.0]));
    let b = konst(&mut g, f32t(&[], &[-1.0]));
    let s = add(&mut g, Op::Select, &[c, a, b], ty(DType::F32, &[2, 3]));
    assert_exact(
        &run1(&g, s),
        &f32t(&[2, 3], &[1.0, 2.0, 3.0, -1.0, -1.0, -1.0]),
    );
}

#[test]
fn casts_between_all_dtypes() {
    let cast = |x: Tensor, to: DType| {
        let mut g = Graph::new();
        let out = ty(to, x.shape());
        let a = konst(&mut g, x);
        let y = add(&mut g, Op::Cast(to), &[a], out);
        run1(&g, y)
    };
    let x = f32t(&[6], &[2.7, -2.7, 0.0, f32::NAN, 3e9, -3e9]);
    assert_exact(
        &cast(x.clone(), DType::I32),
        &i32t(&[6], &[2, -2, 0, 0, i32::MAX, i32::MIN]),
    );
    assert_exact(
        &cast(x.clone(), DType::Bool),
        &boolt(&[6], &[true, true, false, true, true, true]),
    );
    assert_close(
        &cast(x, DType::F64),
        &f64t(
            &[6],
            &[2.7f32 as f64, -2.7f32 as f64, 0.0, f64::NAN, 3e9, -3e9],
        ),
        0.0,
    );
    assert_exact(
        &cast(boolt(&[2], &[true, false]), DType::F32),
        &f32t(&[2], &[1.0, 0.0]),
    );
    assert_exact(
        &cast(boolt(&[2], &[true, false]), DType::I32),
        &i32t(&[2], &[1, 0]),
    );
    assert_exact(
        &cast(i32t(&[3], &[-3, 0, 16_777_217]), DType::F32),
        &f32t(&[3], &[-3.0, 0.0, 16_777_216.0]),
    );
    assert_exact(
        &cast(i32t(&[2], &[-3, 0]), DType::Bool),
        &boolt(&[2], &[true, false]),
    );
    assert_exact(&cast(f64t(&[1], &[0.1]), DType::F32), &f32t(&[1], &[0.1]));
    assert_exact(&cast(i32t(&[0], &[]), DType::F64), &f64t(&[0], &[]));
}

#[test]
fn broadcast_and_stop_gradient() {
    let mut g = Graph::new();
    let a = konst(&mut g, i32t(&[3], &[1, 2, 3]));
    let b = add(&mut g, Op::Broadcast, &[a], ty(DType::I32, &[2, 3]));
    let s = add(&mut g, Op::StopGradient, &[b], ty(DType::I32, &[2, 3]));
    let one = konst(&mut g, f32t(&[1], &[4.0]));
    let empty = add(&mut g, Op::Broadcast, &[one], ty(DType::F32, &[2, 0]));
    assert_exact(&run1(&g, s), &i32t(&[2, 3], &[1, 2, 3, 1, 2, 3]));
    assert_exact(&run1(&g, empty), &f32t(&[2, 0], &[]));
    let bad = add(&mut g, Op::Broadcast, &[a], ty(DType::I32, &[2, 4]));
    assert_eq!(run_err(&g, bad).kind, DiagKind::Internal);
}
