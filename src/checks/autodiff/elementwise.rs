//! Finite-difference checks of the elementwise rules (f64).

use super::util::{check_gradients, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, Tensor, TensorType, UnaryOp};

fn check_unary(op: UnaryOp, lo: f64, hi: f64) {
    let x = Values::new(11).tensor(&[2, 3], lo, hi);
    check_gradients(&[x], &[], |g, p| {
        let y = Emit::new(g, span()).unary(op, p[0]);
        weighted_sum(g, y, 1)
    });
}

#[test]
fn unary_functions() {
    check_unary(UnaryOp::Neg, -1.0, 1.0);
    check_unary(UnaryOp::Exp, -1.0, 1.0);
    check_unary(UnaryOp::Log, 0.5, 2.0);
    check_unary(UnaryOp::Sqrt, 0.5, 2.0);
    check_unary(UnaryOp::Tanh, -1.0, 1.0);
    check_unary(UnaryOp::Sigmoid, -2.0, 2.0);
    check_unary(UnaryOp::Sin, -2.0, 2.0);
    check_unary(UnaryOp::Cos, -2.0, 2.0);
}

#[test]
fn abs_and_relu_away_from_zero() {
    for op in [UnaryOp::Abs, UnaryOp::Relu] {
        // Values with |x| >= 0.1 on both sides of zero.
        let x = Tensor::from_f64_vec(
            &TensorType::new(DType::F64, vec![2, 3]),
            vec![-0.7, 0.3, -0.1, 0.9, 0.2, -1.5],
        )
        .unwrap();
        check_gradients(&[x], &[], |g, p| {
            let y = Emit::new(g, span()).unary(op, p[0]);
            weighted_sum(g, y, 2)
        });
    }
}

fn check_binary(op: BinaryOp, a_dims: &[usize], b_dims: &[usize], lo: f64, hi: f64) {
    let a = Values::new(21).tensor(a_dims, lo, hi);
    let b = Values::new(22).tensor(b_dims, lo, hi);
    check_gradients(&[a, b], &[], |g, p| {
        let y = Emit::new(g, span()).binary(op, p[0], p[1]).unwrap();
        weighted_sum(g, y, 3)
    });
}

#[test]
fn arithmetic_with_broadcasting() {
    let shapes: [(&[usize], &[usize]); 5] = [
        (&[2, 3], &[2, 3]),
        (&[2, 3], &[3]),
        (&[2, 1], &[1, 3]),
        (&[], &[2, 3]),
        (&[4, 1, 3], &[2, 1]),
    ];
    for (a, b) in shapes {
        for op in [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul] {
            check_binary(op, a, b, -1.0, 1.0);
        }
        check_binary(BinaryOp::Div, a, b, 0.5, 2.0);
        check_binary(BinaryOp::Pow, a, b, 0.5, 2.0);
        // Random values never tie.
        check_binary(BinaryOp::Maximum, a, b, -1.0, 1.0);
        check_binary(BinaryOp::Minimum, a, b, -1.0, 1.0);
    }
}

#[test]
fn pow_with_a_constant_exponent() {
    let x = Values::new(5).tensor(&[3], -2.0, 2.0);
    check_gradients(&[x], &[], |g, p| {
        let mut e = Emit::new(g, span());
        let three = e.scalar(DType::F64, 3.0);
        let y = e.binary(BinaryOp::Pow, p[0], three).unwrap();
        weighted_sum(g, y, 4)
    });
}

#[test]
fn where_with_broadcasting() {
    let a = Values::new(31).tensor(&[2, 3], -1.0, 1.0);
    let b = Values::new(32).tensor(&[3], -1.0, 1.0);
    let c = Values::new(33).tensor(&[2, 1], -1.0, 1.0);
    check_gradients(&[a, b, c], &[], |g, p| {
        let mut e = Emit::new(g, span());
        let zero = e.scalar(DType::F64, 0.0);
        let cond = e.binary(BinaryOp::Gt, p[2], zero).unwrap();
        let y = e.select(cond, p[0], p[1]).unwrap();
        weighted_sum(g, y, 5)
    });
}

#[test]
fn stop_gradient_blocks() {
    // y = sum(x * stop_gradient(x)): dy/dx = x (not 2x).
    let mut graph = Graph::new();
    let x = super::util::placeholder(&mut graph, "p0", TensorType::new(DType::F64, vec![3]));
    let ty = graph.ty(x).clone();
    let stopped = graph.add(Op::StopGradient, vec![x], ty, span());
    let mut e = Emit::new(&mut graph, span());
    let product = e.mul(x, stopped).unwrap();
    let y = e
        .reduce(crate::ir::ReduceOp::Sum, product, &[0], false)
        .unwrap();
    let adjoints = crate::autodiff::backward(&mut graph, y).unwrap();
    assert!(adjoints.get(stopped).is_some());
    let dx = adjoints.of(&mut graph, x);
    let feed = Values::new(1).tensor(&[3], -1.0, 1.0);
    let got = super::util::run_values(&graph, &[dx], std::slice::from_ref(&feed));
    assert_eq!(got[0].to_f64_vec(), feed.to_f64_vec());
}

#[test]
fn cast_between_floats() {
    // y = sum(cast(x, f32) * c) in f32, so check exact values: dy/dx = c.
    let mut graph = Graph::new();
    let x = super::util::placeholder(&mut graph, "p0", TensorType::new(DType::F64, vec![3]));
    let mut e = Emit::new(&mut graph, span());
    let x32 = e.cast(x, DType::F32);
    let c = e.constant(
        Tensor::from_f64_vec(&TensorType::new(DType::F32, vec![3]), vec![1.5, -2.0, 0.25]).unwrap(),
    );
    let prod = e.mul(x32, c).unwrap();
    let y = e
        .reduce(crate::ir::ReduceOp::Sum, prod, &[0], false)
        .unwrap();
    let adjoints = crate::autodiff::backward(&mut graph, y).unwrap();
    let dx = adjoints.of(&mut graph, x);
    assert_eq!(graph.ty(dx), graph.ty(x));
    let feed = Values::new(1).tensor(&[3], -1.0, 1.0);
    let got = super::util::run_values(&graph, &[dx], &[feed]);
    assert_eq!(got[0].to_f64_vec(), vec![1.5, -2.0, 0.25]);
}

#[test]
fn integer_paths_pass_nothing() {
    // y = sum(x * cast(argmax(x) == 0, f64)): the cast from bool blocks the gradient.
    let mut graph = Graph::new();
    let x = super::util::placeholder(&mut graph, "p0", TensorType::new(DType::F64, vec![3]));
    let arg = graph.add(
        Op::ArgMax { axis: 0 },
        vec![x],
        TensorType::scalar(DType::I32),
        span(),
    );
    let as_float = graph.add(
        Op::Cast(DType::F64),
        vec![arg],
        TensorType::scalar(DType::F64),
        span(),
    );
    let mut e = Emit::new(&mut graph, span());
    let y = e.mul(as_float, as_float).unwrap();
    let adjoints = crate::autodiff::backward(&mut graph, y).unwrap();
    assert_eq!(adjoints.get(x), None);
    assert_eq!(adjoints.get(arg), None);
    let zeros: NodeId = adjoints.of(&mut graph, x);
    assert_eq!(graph.ty(zeros), graph.ty(x));
}
