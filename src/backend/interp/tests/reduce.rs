//! Reductions and argmax, checked by hand (NumPy cases are in `fixtures`).

use super::*;
use crate::ir::ReduceOp;

fn reduce(x: Tensor, op: ReduceOp, axes: &[usize], keepdims: bool, out: &[usize]) -> Tensor {
    let out = ty(x.dtype(), out);
    let axes = axes.to_vec();
    eval_op(Op::Reduce { op, axes, keepdims }, vec![x], out).unwrap()
}

fn argmax(x: Tensor, axis: usize, out: &[usize]) -> Tensor {
    eval_op(Op::ArgMax { axis }, vec![x], ty(DType::I32, out)).unwrap()
}

#[test]
fn sums_means_maxima_by_hand() {
    let x = f32t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_exact(
        &reduce(x.clone(), ReduceOp::Sum, &[0, 1], false, &[]),
        &f32t(&[], &[21.0]),
    );
    assert_exact(
        &reduce(x.clone(), ReduceOp::Sum, &[0], false, &[3]),
        &f32t(&[3], &[5.0, 7.0, 9.0]),
    );
    assert_exact(
        &reduce(x.clone(), ReduceOp::Mean, &[1], true, &[2, 1]),
        &f32t(&[2, 1], &[2.0, 5.0]),
    );
    assert_exact(
        &reduce(x.clone(), ReduceOp::Max, &[1], false, &[2]),
        &f32t(&[2], &[3.0, 6.0]),
    );
    assert_exact(
        &reduce(x.clone(), ReduceOp::Min, &[0], true, &[1, 3]),
        &f32t(&[1, 3], &[1.0, 2.0, 3.0]),
    );
    // No axes: the identity.
    assert_exact(&reduce(x.clone(), ReduceOp::Sum, &[], false, &[2, 3]), &x);
}

#[test]
fn integer_and_bool_reductions() {
    let x = i32t(&[2, 2], &[1, -4, i32::MAX, 1]);
    assert_exact(
        &reduce(x.clone(), ReduceOp::Sum, &[1], false, &[2]),
        &i32t(&[2], &[-3, i32::MIN]),
    );
    // Mean is exact then truncated: (-3) / 2 = -1, (MAX + 1) / 2.
    assert_exact(
        &reduce(x.clone(), ReduceOp::Mean, &[1], false, &[2]),
        &i32t(&[2], &[-1, 1 << 30]),
    );
    assert_exact(
        &reduce(x, ReduceOp::Max, &[0, 1], false, &[]),
        &i32t(&[], &[i32::MAX]),
    );
    let b = boolt(&[3], &[false, true, false]);
    assert_exact(
        &reduce(b.clone(), ReduceOp::Max, &[0], false, &[]),
        &boolt(&[], &[true]),
    );
    assert_exact(
        &reduce(b, ReduceOp::Min, &[0], false, &[]),
        &boolt(&[], &[false]),
    );
}

#[test]
fn empty_reductions() {
    let x = f64t(&[2, 0], &[]);
    let nan = f64::NAN;
    assert_close(
        &reduce(x.clone(), ReduceOp::Mean, &[1], false, &[2]),
        &f64t(&[2], &[nan, nan]),
        0.0,
    );
    assert_exact(
        &reduce(x.clone(), ReduceOp::Sum, &[0, 1], false, &[]),
        &f64t(&[], &[0.0]),
    );
    let inf = f64::INFINITY;
    assert_exact(
        &reduce(x.clone(), ReduceOp::Max, &[1], true, &[2, 1]),
        &f64t(&[2, 1], &[-inf, -inf]),
    );
    assert_exact(
        &reduce(x.clone(), ReduceOp::Min, &[0, 1], false, &[]),
        &f64t(&[], &[inf]),
    );
    // Reducing the non-empty axis keeps the empty one.
    assert_exact(
        &reduce(x, ReduceOp::Sum, &[0], false, &[0]),
        &f64t(&[0], &[]),
    );
    let e = f32t(&[0], &[]);
    assert_close(
        &reduce(e.clone(), ReduceOp::Mean, &[0], false, &[]),
        &f32t(&[], &[f32::NAN]),
        0.0,
    );
    assert_exact(
        &reduce(e, ReduceOp::Max, &[0], false, &[]),
        &f32t(&[], &[f32::NEG_INFINITY]),
    );
    let i = i32t(&[0, 3], &[]);
    assert_exact(
        &reduce(i.clone(), ReduceOp::Mean, &[0], false, &[3]),
        &i32t(&[3], &[0, 0, 0]),
    );
    assert_exact(
        &reduce(i, ReduceOp::Max, &[0], false, &[3]),
        &i32t(&[3], &[i32::MIN; 3]),
    );
}

#[test]
fn max_propagates_nan() {
    let x = f32t(&[2, 2], &[1.0, f32::NAN, 3.0, 2.0]);
    let got = reduce(x, ReduceOp::Max, &[1], false, &[2]);
    assert_close(&got, &f32t(&[2], &[f32::NAN, 3.0]), 0.0);
}

#[test]
fn f32_sum_of_millions_stays_accurate() {
    let n = 1 << 22;
    let x = Tensor::F32(ArrayD::from_elem(IxDyn(&[n]), 0.1f32));
    let got = reduce(x, ReduceOp::Sum, &[0], false, &[]).to_f64_vec()[0];
    let exact = 0.1f32 as f64 * n as f64;
    assert!(((got - exact) / exact).abs() < 1e-7, "{got} vs {exact}");
    let y = Tensor::F32(ArrayD::from_elem(IxDyn(&[4, n / 4]), 0.1f32));
    let mean = reduce(y, ReduceOp::Mean, &[0, 1], false, &[]).to_f64_vec()[0];
    assert!((mean - 0.1f32 as f64).abs() < 1e-8, "{mean}");
}

#[test]
fn argmax_first_maximum_and_nan() {
    let x = f32t(
        &[2, 4],
        &[1.0, 5.0, 5.0, 2.0, -1.0, f32::NAN, 7.0, f32::NAN],
    );
    assert_exact(&argmax(x.clone(), 1, &[2]), &i32t(&[2], &[1, 1]));
    assert_exact(&argmax(x, 0, &[4]), &i32t(&[4], &[0, 1, 1, 1]));
    let i = i32t(&[3, 1], &[4, 9, 9]);
    assert_exact(&argmax(i.clone(), 0, &[1]), &i32t(&[1], &[1]));
    assert_exact(&argmax(i, 1, &[3]), &i32t(&[3], &[0, 0, 0]));
    assert_exact(&argmax(f64t(&[0, 3], &[]), 1, &[0]), &i32t(&[0], &[]));
    assert_exact(&argmax(f64t(&[2, 0], &[]), 1, &[2]), &i32t(&[2], &[0, 0]));
}
