//! Finite-difference checks (f64) of pooling with pads, `avg_pool2d`, the
//! sparse and sigmoid cross-entropies, and of their backward ops (second order).

use super::second_order::second_order;
use super::util::{check_gradients, f64_ty, placeholder, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{DType, Op, Tensor, TensorType};
use ndarray::{ArrayD, IxDyn};

type Window = ([usize; 2], [usize; 2], [usize; 4]);

fn pool_op(avg: bool, (size, strides, pads): Window) -> Op {
    if avg {
        Op::AvgPool2d {
            size,
            strides,
            pads,
        }
    } else {
        Op::MaxPool2d {
            size,
            strides,
            pads,
        }
    }
}

fn pooled_dims(x: [usize; 4], (size, strides, pads): Window) -> Vec<usize> {
    let out = |len: usize, pad: usize, k: usize, s: usize| (len + pad - k) / s + 1;
    vec![
        x[0],
        out(x[1], pads[0] + pads[1], size[0], strides[0]),
        out(x[2], pads[2] + pads[3], size[1], strides[1]),
        x[3],
    ]
}

/// Windows with and without pads (SAME-like, asymmetric, overlapping).
const WINDOWS: &[([usize; 4], Window)] = &[
    ([1, 4, 5, 2], ([2, 2], [2, 2], [0, 0, 0, 1])),
    ([2, 5, 5, 1], ([3, 3], [1, 2], [1, 1, 1, 1])),
    ([1, 5, 6, 2], ([3, 2], [1, 3], [1, 1, 0, 0])),
    ([1, 3, 4, 1], ([4, 4], [3, 3], [1, 2, 1, 2])),
];

#[test]
fn max_and_avg_pool_with_pads() {
    for avg in [false, true] {
        for &(x_dims, window) in WINDOWS {
            let x = Values::new(71).tensor(&x_dims, -1.0, 1.0);
            check_gradients(&[x], &[], |g, p| {
                let ty = f64_ty(&pooled_dims(x_dims, window));
                let y = g.add(pool_op(avg, window), vec![p[0]], ty, span());
                weighted_sum(g, y, 72)
            });
        }
    }
}

#[test]
fn avg_pool_second_order() {
    for &(x_dims, window) in WINDOWS {
        let x = Values::new(73).tensor(&x_dims, -1.0, 1.0);
        second_order(&[x], |g, p| {
            let ty = f64_ty(&pooled_dims(x_dims, window));
            let y = g.add(pool_op(true, window), vec![p[0]], ty, span());
            // Squared, so the first gradient depends on x.
            Emit::new(g, span()).mul(y, y).unwrap()
        });
    }
}

fn labels(values: &[i32]) -> Tensor {
    Tensor::I32(ArrayD::from_shape_vec(IxDyn(&[values.len()]), values.to_vec()).unwrap())
}

#[test]
fn sparse_softmax_cross_entropy_and_its_second_order() {
    let logits = Values::new(91).tensor(&[4, 5], -3.0, 3.0);
    let extra = [("labels", labels(&[3, 0, 4, 4]))];
    let build = |second: bool| {
        move |g: &mut crate::ir::Graph, p: &[crate::ir::NodeId]| {
            let l = placeholder(g, "labels", TensorType::new(DType::I32, vec![4]));
            let scalar = TensorType::scalar(DType::F64);
            let loss = g.add(Op::SparseSoftmaxCrossEntropy, vec![p[0], l], scalar, span());
            if !second {
                return loss;
            }
            let dz = crate::autodiff::backward(g, loss).unwrap().of(g, p[0]);
            weighted_sum(g, dz, 94)
        }
    };
    check_gradients(std::slice::from_ref(&logits), &extra, build(false));
    check_gradients(&[logits], &extra, build(true));
}

#[test]
fn sigmoid_cross_entropy_broadcast_both_ways() {
    for (x_dims, z_dims) in [
        (&[3, 4][..], &[3, 4][..]),
        (&[3, 4], &[4]),
        (&[1, 4], &[3, 1]),
    ] {
        let x = Values::new(95).tensor(x_dims, -4.0, 4.0);
        let z = Values::new(96).tensor(z_dims, 0.0, 1.0);
        check_gradients(&[x, z], &[], |g, p| {
            let scalar = TensorType::scalar(DType::F64);
            g.add(Op::SigmoidCrossEntropy, vec![p[0], p[1]], scalar, span())
        });
    }
}
