//! Gradients of gradients (f64 finite differences of a first `backward`): they
//! exercise the rules on the nodes a backward pass creates, including the
//! linear backward ops `slice` and `scatter_index` and packed regions.

use super::util::{check_gradients, f64_ty, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{DType, Graph, NodeId, Op, Tensor, TensorType, UnaryOp};

/// Checks `d/dx sum(c2 * d/dx sum(c1 * f(x)))` for `f` built by `build`.
pub(super) fn second_order(feeds: &[Tensor], build: impl Fn(&mut Graph, &[NodeId]) -> NodeId) {
    check_gradients(feeds, &[], |g, p| {
        let out = build(g, p);
        let y = weighted_sum(g, out, 201);
        let adjoints = crate::autodiff::backward(g, y).unwrap();
        let mut total = None;
        for (k, &x) in p.iter().enumerate() {
            let dx = adjoints.of(g, x);
            let part = weighted_sum(g, dx, 202 + k as u64);
            total = Some(match total {
                None => part,
                Some(t) => Emit::new(g, span()).add2(t, part).unwrap(),
            });
        }
        total.unwrap()
    });
}

#[test]
fn elementwise_and_reductions() {
    let x = Values::new(211).tensor(&[2, 3], -1.0, 1.0);
    second_order(&[x], |g, p| {
        let mut e = Emit::new(g, span());
        let t = e.unary(UnaryOp::Tanh, p[0]);
        let s = e.unary(UnaryOp::Sigmoid, t);
        let m = e.reduce(crate::ir::ReduceOp::Max, s, &[1], true).unwrap();
        let q = e.mul(m, p[0]).unwrap();
        e.unary(UnaryOp::Exp, q)
    });
}

#[test]
fn matmul_and_softmax_family() {
    let a = Values::new(221).tensor(&[3, 4], -1.0, 1.0);
    let b = Values::new(222).tensor(&[4, 2], -1.0, 1.0);
    second_order(&[a, b], |g, p| {
        let h = Emit::new(g, span()).matmul(p[0], p[1]).unwrap();
        let ty = g.ty(h).clone();
        let s = g.add(Op::Softmax { axis: 1 }, vec![h], ty.clone(), span());
        let l = g.add(Op::LogSoftmax { axis: 0 }, vec![s], ty, span());
        let scalar = TensorType::scalar(DType::F64);
        let sce = g.add(Op::SoftmaxCrossEntropy, vec![h, s], scalar, span());
        Emit::new(g, span()).mul(l, sce).unwrap()
    });
}

#[test]
fn movement_ops() {
    let x = Values::new(231).tensor(&[3, 2], -1.0, 1.0);
    second_order(&[x], |g, p| {
        let op = Op::Pad {
            pads: vec![[1, 1], [0, 2]],
            value: 0.0,
        };
        let padded = g.add(op, vec![p[0]], f64_ty(&[5, 4]), span());
        let mut e = Emit::new(g, span());
        let sq = e.mul(padded, padded).unwrap();
        let joined = e.concat(&[sq, padded], 1).unwrap();
        let i = e.constant(Tensor::scalar(DType::I32, 1.0));
        let row = e.add(Op::Index, vec![joined, i], f64_ty(&[8]));
        let t = e.transpose(joined, &[1, 0]).unwrap();
        let r = e.reshape(row, &[8, 1]).unwrap();
        let prod = e.mul(t, r).unwrap();
        e.mul(prod, prod).unwrap()
    });
}

#[test]
fn through_a_cond() {
    for taken in [true, false] {
        let x = Values::new(241).tensor(&[3], -1.0, 1.0);
        let w = Values::new(242).tensor(&[3], -1.0, 1.0);
        let pred = Tensor::scalar(DType::Bool, if taken { 1.0 } else { 0.0 });
        check_gradients(&[x, w], &[("pred", pred)], |g, p| {
            let pred = super::util::placeholder(g, "pred", TensorType::scalar(DType::Bool));
            let types = [f64_ty(&[3]), f64_ty(&[3])];
            let mut then_body = Graph::region(types.to_vec());
            let mut else_body = Graph::region(types.to_vec());
            for (body, use_sin) in [(&mut then_body, true), (&mut else_body, false)] {
                let mut e = Emit::new(body, span());
                let a = e.add(Op::Param(0), vec![], types[0].clone());
                let b = e.add(Op::Param(1), vec![], types[1].clone());
                let ab = e.mul(a, b).unwrap();
                let out = if use_sin {
                    e.unary(UnaryOp::Sin, ab)
                } else {
                    e.mul(ab, a).unwrap()
                };
                body.results = vec![out];
            }
            let op = Op::Cond {
                then_body: Box::new(then_body),
                else_body: Box::new(else_body),
            };
            let y = g.add(op, vec![pred, p[0], p[1]], f64_ty(&[3]), span());
            let y = weighted_sum(g, y, 243);
            let adjoints = crate::autodiff::backward(g, y).unwrap();
            let dx = adjoints.of(g, p[0]);
            let dw = adjoints.of(g, p[1]);
            let mut e = Emit::new(g, span());
            let both = e.mul(dx, dw).unwrap();
            weighted_sum(g, both, 244)
        });
    }
}

#[test]
fn through_conv2d() {
    let x = Values::new(251).tensor(&[1, 5, 4, 2], -1.0, 1.0);
    let w = Values::new(252).tensor(&[3, 2, 2, 2], -1.0, 1.0);
    second_order(&[x, w], |g, p| {
        let op = Op::Conv2d {
            strides: [2, 1],
            pads: [1, 0, 0, 1],
        };
        let y = g.add(op, vec![p[0], p[1]], f64_ty(&[1, 2, 4, 2]), span());
        Emit::new(g, span()).mul(y, y).unwrap()
    });
}
