//! Finite-difference checks of the network rules (f64).

use super::util::{check_gradients, f64_ty, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{Op, TensorType};

fn check_matmul(a_dims: &[usize], b_dims: &[usize]) {
    let a = Values::new(51).tensor(a_dims, -1.0, 1.0);
    let b = Values::new(52).tensor(b_dims, -1.0, 1.0);
    check_gradients(&[a, b], &[], |g, p| {
        let y = Emit::new(g, span()).matmul(p[0], p[1]).unwrap();
        weighted_sum(g, y, 53)
    });
}

#[test]
fn matmul_plain_and_batched() {
    check_matmul(&[3, 4], &[4, 2]);
    check_matmul(&[2, 3, 4], &[2, 4, 5]);
    check_matmul(&[3, 4], &[2, 4, 5]);
    check_matmul(&[2, 1, 3, 4], &[3, 4, 2]);
    check_matmul(&[2, 3, 4], &[4, 2]);
}

fn check_conv(x_dims: [usize; 4], w_dims: [usize; 4], strides: [usize; 2], pads: [usize; 4]) {
    let out = |len: usize, pad: usize, k: usize, s: usize| (len + pad - k) / s + 1;
    let oh = out(x_dims[1], pads[0] + pads[1], w_dims[0], strides[0]);
    let ow = out(x_dims[2], pads[2] + pads[3], w_dims[1], strides[1]);
    let x = Values::new(61).tensor(&x_dims, -1.0, 1.0);
    let w = Values::new(62).tensor(&w_dims, -1.0, 1.0);
    check_gradients(&[x, w], &[], |g, p| {
        let ty = f64_ty(&[x_dims[0], oh, ow, w_dims[3]]);
        let y = g.add(Op::Conv2d { strides, pads }, vec![p[0], p[1]], ty, span());
        weighted_sum(g, y, 63)
    });
}

#[test]
fn conv2d_strides_and_pads() {
    check_conv([2, 5, 5, 3], [3, 3, 3, 2], [1, 1], [0, 0, 0, 0]);
    check_conv([1, 5, 6, 2], [3, 2, 2, 3], [2, 2], [1, 1, 0, 1]);
    check_conv([2, 4, 4, 2], [3, 3, 2, 2], [1, 1], [1, 1, 1, 1]);
    check_conv([1, 7, 5, 1], [2, 3, 1, 2], [3, 2], [0, 1, 2, 0]);
}

fn check_pool(x_dims: [usize; 4], size: [usize; 2], strides: [usize; 2]) {
    let oh = (x_dims[1] - size[0]) / strides[0] + 1;
    let ow = (x_dims[2] - size[1]) / strides[1] + 1;
    let x = Values::new(71).tensor(&x_dims, -1.0, 1.0);
    check_gradients(&[x], &[], |g, p| {
        let ty = f64_ty(&[x_dims[0], oh, ow, x_dims[3]]);
        let y = g.add(
            Op::MaxPool2d {
                size,
                strides,
                pads: [0; 4],
            },
            vec![p[0]],
            ty,
            span(),
        );
        weighted_sum(g, y, 72)
    });
}

#[test]
fn max_pool2d_windows() {
    check_pool([1, 4, 5, 2], [2, 2], [2, 2]);
    check_pool([2, 5, 5, 1], [3, 3], [1, 2]);
}

#[test]
fn softmax_and_log_softmax() {
    for axis in 0..2 {
        for log in [false, true] {
            let x = Values::new(81).tensor(&[3, 4], -2.0, 2.0);
            check_gradients(&[x], &[], |g, p| {
                let op = if log {
                    Op::LogSoftmax { axis }
                } else {
                    Op::Softmax { axis }
                };
                let y = g.add(op, vec![p[0]], f64_ty(&[3, 4]), span());
                weighted_sum(g, y, 82)
            });
        }
    }
}

#[test]
fn losses() {
    let logits = Values::new(91).tensor(&[3, 4], -2.0, 2.0);
    let labels = Values::new(92).tensor(&[3, 4], 0.0, 1.0);
    check_gradients(&[logits, labels], &[], |g, p| {
        let scalar = TensorType::scalar(crate::ir::DType::F64);
        g.add(Op::SoftmaxCrossEntropy, vec![p[0], p[1]], scalar, span())
    });
    let pred = Values::new(93).tensor(&[2, 3], -2.0, 2.0);
    let target = Values::new(94).tensor(&[2, 3], -2.0, 2.0);
    check_gradients(&[pred, target], &[], |g, p| {
        let scalar = TensorType::scalar(crate::ir::DType::F64);
        let loss = g.add(Op::MeanSquaredError, vec![p[0], p[1]], scalar, span());
        let mut e = Emit::new(g, span());
        e.mul(loss, loss).unwrap()
    });
}
