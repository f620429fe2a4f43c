//! Network ops checked by hand: small cases, edge cases, 0-sized dims, speed.

use super::*;
use crate::diag::DiagKind;

fn op2(op: Op, a: Tensor, b: Tensor, out: TensorType) -> Result<Tensor, Diag> {
    eval_op(op, vec![a, b], out)
}

fn op1(op: Op, a: Tensor, out: TensorType) -> Result<Tensor, Diag> {
    eval_op(op, vec![a], out)
}

#[test]
fn matmul_by_hand() {
    let a = f32t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let b = f32t(&[3, 1], &[1.0, 0.0, -1.0]);
    let y = op2(Op::MatMul, a, b, ty(DType::F32, &[2, 1])).unwrap();
    assert_exact(&y, &f32t(&[2, 1], &[-2.0, -2.0]));
    let a = i32t(&[1, 2], &[i32::MAX, 1]);
    let b = i32t(&[2, 1], &[2, 3]);
    let y = op2(Op::MatMul, a, b, ty(DType::I32, &[1, 1])).unwrap();
    assert_exact(
        &y,
        &i32t(&[1, 1], &[i32::MAX.wrapping_mul(2).wrapping_add(3)]),
    );
}

#[test]
fn matmul_zero_sized() {
    // k = 0: a sum of nothing.
    let y = op2(
        Op::MatMul,
        f64t(&[2, 0], &[]),
        f64t(&[0, 3], &[]),
        ty(DType::F64, &[2, 3]),
    );
    assert_exact(&y.unwrap(), &f64t(&[2, 3], &[0.0; 6]));
    let zeros = |d: &[usize]| f32t(d, &vec![0.0; d.iter().product()]);
    let empty: [(&[usize], &[usize], &[usize]); 2] = [
        (&[0, 4], &[4, 3], &[0, 3]),
        (&[0, 1, 2], &[2, 3], &[0, 1, 3]),
    ];
    for (a, b, out) in empty {
        let y = op2(Op::MatMul, zeros(a), zeros(b), ty(DType::F32, out));
        assert_exact(&y.unwrap(), &f32t(out, &[]));
    }
    let bad: [(&[usize], &[usize], &[usize]); 2] =
        [(&[2, 3], &[2, 3], &[2, 3]), (&[3], &[3, 1], &[1])];
    for (a, b, out) in bad {
        let err = op2(Op::MatMul, zeros(a), zeros(b), ty(DType::F32, out));
        assert_eq!(err.unwrap_err().kind, DiagKind::Internal);
    }
}

#[test]
fn conv2d_by_hand() {
    let conv = |strides, pads| Op::Conv2d { strides, pads };
    // x = 1..9 as a 3x3 image, w = 2x2 ones: VALID sums of 2x2 windows.
    let x = f32t(
        &[1, 3, 3, 1],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    );
    let w = f32t(&[2, 2, 1, 1], &[1.0; 4]);
    let valid = conv([1, 1], [0, 0, 0, 0]);
    let y = op2(valid, x.clone(), w.clone(), ty(DType::F32, &[1, 2, 2, 1])).unwrap();
    assert_exact(&y, &f32t(&[1, 2, 2, 1], &[12.0, 16.0, 24.0, 28.0]));
    // Pad one zero on every side, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1).
    let padded = conv([2, 2], [1, 1, 1, 1]);
    let y = op2(padded, x.clone(), w.clone(), ty(DType::F32, &[1, 2, 2, 1])).unwrap();
    assert_exact(&y, &f32t(&[1, 2, 2, 1], &[1.0, 5.0, 11.0, 28.0]));
    // Window larger than the image: no output rows.
    let big = f32t(&[4, 4, 1, 2], &[1.0; 32]);
    let op = conv([1, 1], [0, 0, 0, 0]);
    let y = op2(op.clone(), x.clone(), big, ty(DType::F32, &[1, 0, 0, 2])).unwrap();
    assert_exact(&y, &f32t(&[1, 0, 0, 2], &[]));
    // Batch of 0, and the wrong channel count.
    let y = op2(
        op.clone(),
        f32t(&[0, 3, 3, 1], &[]),
        w.clone(),
        ty(DType::F32, &[0, 2, 2, 1]),
    );
    assert_exact(&y.unwrap(), &f32t(&[0, 2, 2, 1], &[]));
    let w2 = f32t(&[2, 2, 2, 1], &[1.0; 8]);
    let err = op2(op, x, w2, ty(DType::F32, &[1, 2, 2, 1])).unwrap_err();
    assert_eq!(err.kind, DiagKind::Internal);
}

#[test]
fn max_pool_by_hand() {
    let pool = |strides| Op::MaxPool2d {
        size: [2, 2],
        strides,
        pads: [0; 4],
    };
    let x = f32t(
        &[1, 3, 3, 1],
        &[1.0, 9.0, 3.0, 4.0, 5.0, 6.0, f32::NAN, 8.0, 2.0],
    );
    let op = pool([1, 1]);
    let y = op1(op, x, ty(DType::F32, &[1, 2, 2, 1])).unwrap();
    assert_close(&y, &f32t(&[1, 2, 2, 1], &[9.0, 9.0, f32::NAN, 8.0]), 0.0);
    let op = pool([2, 2]);
    let y = op1(
        op,
        f32t(&[2, 1, 5, 3], &[0.0; 30]),
        ty(DType::F32, &[2, 0, 2, 3]),
    )
    .unwrap();
    assert_exact(&y, &f32t(&[2, 0, 2, 3], &[]));
}

#[test]
fn softmax_family_by_hand() {
    let x = f64t(&[2, 2], &[0.0, 0.0, 1000.0, 1000.0 + 2f64.ln()]);
    let y = op1(Op::Softmax { axis: 1 }, x.clone(), ty(DType::F64, &[2, 2])).unwrap();
    assert_close(&y, &f64t(&[2, 2], &[0.5, 0.5, 1.0 / 3.0, 2.0 / 3.0]), 1e-12);
    let y = op1(Op::Softmax { axis: 0 }, x.clone(), ty(DType::F64, &[2, 2])).unwrap();
    assert_close(&y, &f64t(&[2, 2], &[0.0, 0.0, 1.0, 1.0]), 1e-12);
    let y = op1(Op::LogSoftmax { axis: 1 }, x, ty(DType::F64, &[2, 2])).unwrap();
    let l2 = 2f64.ln();
    assert_close(
        &y,
        &f64t(&[2, 2], &[-l2, -l2, -(3f64.ln()), l2 - 3f64.ln()]),
        1e-12,
    );
    let e = op1(
        Op::Softmax { axis: 1 },
        f32t(&[2, 0], &[]),
        ty(DType::F32, &[2, 0]),
    )
    .unwrap();
    assert_exact(&e, &f32t(&[2, 0], &[]));
    let err = op1(
        Op::Softmax { axis: 0 },
        i32t(&[2], &[1, 2]),
        ty(DType::I32, &[2]),
    )
    .unwrap_err();
    assert_eq!(err.kind, DiagKind::Internal);
}

#[test]
fn losses_by_hand() {
    // Uniform logits over 4 classes: each row's loss is ln 4 whatever the labels.
    let logits = f32t(&[3, 4], &[2.0; 12]);
    let labels = f32t(
        &[3, 4],
        &[1.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 1.0],
    );
    let y = op2(Op::SoftmaxCrossEntropy, logits, labels, ty(DType::F32, &[])).unwrap();
    assert_close(&y, &f32t(&[], &[4f32.ln()]), 1e-7);
    let y = op2(
        Op::SoftmaxCrossEntropy,
        f64t(&[0, 3], &[]),
        f64t(&[0, 3], &[]),
        ty(DType::F64, &[]),
    );
    assert_close(&y.unwrap(), &f64t(&[], &[f64::NAN]), 0.0);
    let p = f64t(&[3], &[1.0, 2.0, 3.0]);
    let t = f64t(&[3], &[1.0, 0.0, 0.0]);
    let y = op2(Op::MeanSquaredError, p, t, ty(DType::F64, &[])).unwrap();
    assert_exact(&y, &f64t(&[], &[13.0 / 3.0]));
    let y = op2(
        Op::MeanSquaredError,
        f32t(&[0], &[]),
        f32t(&[0], &[]),
        ty(DType::F32, &[]),
    );
    assert_close(&y.unwrap(), &f32t(&[], &[f32::NAN]), 0.0);
}
