//! Finite-difference checks of `cond` and `fold` (f64), and gradients of gradients.

use super::util::{check_gradients, f64_ty, region, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::diag::DiagKind;
use crate::ir::{BinaryOp, DType, Graph, Op, Tensor, TensorType, UnaryOp};

fn bool_feed(value: bool) -> Tensor {
    Tensor::scalar(DType::Bool, if value { 1.0 } else { 0.0 })
}

#[test]
fn cond_takes_one_branch() {
    for taken in [true, false] {
        let x = Values::new(101).tensor(&[3], -1.0, 1.0);
        let w = Values::new(102).tensor(&[3], -1.0, 1.0);
        check_gradients(&[x, w], &[("pred", bool_feed(taken))], |g, p| {
            let pred = super::util::placeholder(g, "pred", TensorType::scalar(DType::Bool));
            let types = [f64_ty(&[3]), f64_ty(&[3])];
            // then: x * x * w; else: sin(x) (w unused)
            let then_body = region(&types, |e, q| {
                let xx = e.mul(q[0], q[0]).unwrap();
                e.mul(xx, q[1]).unwrap()
            });
            let else_body = region(&types, |e, q| e.unary(UnaryOp::Sin, q[0]));
            let op = Op::Cond {
                then_body: Box::new(then_body),
                else_body: Box::new(else_body),
            };
            let y = g.add(op, vec![pred, p[0], p[1]], f64_ty(&[3]), span());
            weighted_sum(g, y, 103)
        });
    }
}

#[test]
fn cond_whose_branch_returns_a_capture() {
    for taken in [true, false] {
        let x = Values::new(104).tensor(&[2, 2], -1.0, 1.0);
        check_gradients(&[x], &[("pred", bool_feed(taken))], |g, p| {
            let pred = super::util::placeholder(g, "pred", TensorType::scalar(DType::Bool));
            let scalar = f64_ty(&[]);
            let total = Emit::new(g, span())
                .reduce(crate::ir::ReduceOp::Sum, p[0], &[0, 1], false)
                .unwrap();
            let types = [scalar.clone()];
            let then_body = region(&types, |_, q| q[0]);
            let else_body = region(&types, |e, q| e.mul(q[0], q[0]).unwrap());
            let op = Op::Cond {
                then_body: Box::new(then_body),
                else_body: Box::new(else_body),
            };
            let y = g.add(op, vec![pred, total], scalar, span());
            let mut e = Emit::new(g, span());
            e.mul(y, total).unwrap()
        });
    }
}

/// `fold(|acc, x| tanh(acc @ w + x), init, xs)` with `xs: [steps, 2, 3]`.
fn rnn(steps: usize) {
    let init = Values::new(111).tensor(&[2, 3], -1.0, 1.0);
    let xs = Values::new(112).tensor(&[steps, 2, 3], -1.0, 1.0);
    let w = Values::new(113).tensor(&[3, 3], -1.0, 1.0);
    check_gradients(&[init, xs, w], &[], |g, p| {
        let types = [f64_ty(&[2, 3]), f64_ty(&[2, 3]), f64_ty(&[3, 3])];
        let body = region(&types, |e, q| {
            let aw = e.matmul(q[0], q[2]).unwrap();
            let pre = e.add2(aw, q[1]).unwrap();
            e.unary(UnaryOp::Tanh, pre)
        });
        let op = Op::Fold {
            body: Box::new(body),
        };
        let y = g.add(op, vec![p[0], p[1], p[2]], f64_ty(&[2, 3]), span());
        weighted_sum(g, y, 114)
    });
}

#[test]
fn fold_rnn_lengths() {
    for steps in [0, 1, 2, 5] {
        rnn(steps);
    }
}

#[test]
fn fold_with_scalar_acc_and_a_cond_inside() {
    // acc' = cond(flag, acc * sum(x * w), acc + sum(x)) with a bool capture.
    for flag in [true, false] {
        let init = Tensor::scalar(DType::F64, 0.7);
        let xs = Values::new(121).tensor(&[4, 3], -1.0, 1.0);
        let w = Values::new(122).tensor(&[3], -1.0, 1.0);
        check_gradients(&[init, xs, w], &[("flag", bool_feed(flag))], |g, p| {
            let flag = super::util::placeholder(g, "flag", TensorType::scalar(DType::Bool));
            let s = f64_ty(&[]);
            let types = [
                s.clone(),
                f64_ty(&[3]),
                f64_ty(&[3]),
                TensorType::scalar(DType::Bool),
            ];
            let body = region(&types, |e, q| {
                let inner_types = [s.clone(), f64_ty(&[3]), f64_ty(&[3])];
                let then_body = region(&inner_types, |e, r| {
                    let xw = e.mul(r[1], r[2]).unwrap();
                    let t = e.reduce(crate::ir::ReduceOp::Sum, xw, &[0], false).unwrap();
                    e.mul(r[0], t).unwrap()
                });
                let else_body = region(&inner_types, |e, r| {
                    let t = e
                        .reduce(crate::ir::ReduceOp::Sum, r[1], &[0], false)
                        .unwrap();
                    e.add2(r[0], t).unwrap()
                });
                let op = Op::Cond {
                    then_body: Box::new(then_body),
                    else_body: Box::new(else_body),
                };
                e.add(op, vec![q[3], q[0], q[1], q[2]], s.clone())
            });
            let op = Op::Fold {
                body: Box::new(body),
            };
            let y = g.add(op, vec![p[0], p[1], p[2], flag], s.clone(), span());
            let mut e = Emit::new(g, span());
            e.mul(y, y).unwrap()
        });
    }
}

#[test]
fn second_order_through_elementwise_and_a_fold() {
    // y2 = sum(c * d/dx sum(c' * fold(|acc, x| acc * x + sin(acc), x0, xs)))
    let x0 = Values::new(131).tensor(&[2], -1.0, 1.0);
    let xs = Values::new(132).tensor(&[3, 2], -1.0, 1.0);
    check_gradients(&[x0, xs], &[], |g, p| {
        let types = [f64_ty(&[2]), f64_ty(&[2])];
        let body = region(&types, |e, q| {
            let ax = e.mul(q[0], q[1]).unwrap();
            let s = e.unary(UnaryOp::Sin, q[0]);
            e.add2(ax, s).unwrap()
        });
        let op = Op::Fold {
            body: Box::new(body),
        };
        let y = g.add(op, vec![p[0], p[1]], f64_ty(&[2]), span());
        let y = weighted_sum(g, y, 133);
        let adjoints = crate::autodiff::backward(g, y).unwrap();
        let dxs = adjoints.of(g, p[1]);
        weighted_sum(g, dxs, 134)
    });
}

#[test]
fn gradient_of_a_max_pool_gradient_is_unsupported() {
    let mut graph = Graph::new();
    let x = super::util::placeholder(&mut graph, "p0", f64_ty(&[1, 4, 4, 1]));
    let pool_span = crate::diag::Span::new(20, 30);
    let op = Op::MaxPool2d {
        size: [2, 2],
        strides: [2, 2],
        pads: [0; 4],
    };
    let y = graph.add(op, vec![x], f64_ty(&[1, 2, 2, 1]), pool_span);
    let y = weighted_sum(&mut graph, y, 141);
    let adjoints = crate::autodiff::backward(&mut graph, y).unwrap();
    let dx = adjoints.of(&mut graph, x);
    let mut e = Emit::new(&mut graph, span());
    let dx2 = e.mul(dx, x).unwrap();
    let y2 = weighted_sum(&mut graph, dx2, 142);
    let err = crate::autodiff::backward(&mut graph, y2).unwrap_err();
    assert_eq!(err.kind, DiagKind::Unsupported);
    assert_eq!(err.span, Some(pool_span));
    assert!(err.message.contains("max_pool2d_grad"), "{}", err.message);
}

#[test]
fn backward_needs_a_float_scalar() {
    let mut graph = Graph::new();
    let x = super::util::placeholder(&mut graph, "p0", f64_ty(&[3]));
    let err = crate::autodiff::backward(&mut graph, x).unwrap_err();
    assert_eq!(err.kind, DiagKind::Error);
    let mut e = Emit::new(&mut graph, span());
    let zero = e.scalar(DType::F64, 0.0);
    let b = e.binary(BinaryOp::Gt, zero, zero).unwrap();
    assert!(crate::autodiff::backward(&mut graph, b).is_err());
}

#[test]
fn fold_over_integer_indices() {
    // fold(|acc, i| acc * w[i] + sin(acc), init, [2, 0, 1, 2]): xs is i32.
    let init = Values::new(151).tensor(&[2], -1.0, 1.0);
    let w = Values::new(152).tensor(&[3, 2], -1.0, 1.0);
    check_gradients(&[init, w], &[], |g, p| {
        let ids_ty = TensorType::new(DType::I32, vec![4]);
        let ids = Tensor::from_f64_vec(&ids_ty, vec![2.0, 0.0, 1.0, 2.0]).unwrap();
        let ids = Emit::new(g, span()).constant(ids);
        let types = [
            f64_ty(&[2]),
            TensorType::scalar(DType::I32),
            f64_ty(&[3, 2]),
        ];
        let body = region(&types, |e, q| {
            let row = e.add(Op::Index, vec![q[2], q[1]], f64_ty(&[2]));
            let scaled = e.mul(q[0], row).unwrap();
            let s = e.unary(UnaryOp::Sin, q[0]);
            e.add2(scaled, s).unwrap()
        });
        let op = Op::Fold {
            body: Box::new(body),
        };
        let y = g.add(op, vec![p[0], ids, p[1]], f64_ty(&[2]), span());
        weighted_sum(g, y, 153)
    });
}

#[test]
fn nested_folds_and_a_body_ignoring_acc() {
    // outer: acc' = acc + fold(|a, x| a * x, row, row) for each row of xs;
    // then a fold whose body ignores acc: fold(|_, x| x * w, 0, xs) (last row * w).
    let init = Values::new(161).tensor(&[3], -1.0, 1.0);
    let xs = Values::new(162).tensor(&[3, 2, 3], -1.0, 1.0);
    let w = Values::new(163).tensor(&[3], -1.0, 1.0);
    check_gradients(&[init, xs, w], &[], |g, p| {
        let row_ty = f64_ty(&[3]);
        let outer_types = [row_ty.clone(), f64_ty(&[2, 3])];
        let outer = region(&outer_types, |e, q| {
            let inner_types = [row_ty.clone(), row_ty.clone()];
            let inner = region(&inner_types, |e, r| e.mul(r[0], r[1]).unwrap());
            let zero = e.constant(Tensor::scalar(DType::I32, 0.0));
            let first = e.add(Op::Index, vec![q[1], zero], row_ty.clone());
            let op = Op::Fold {
                body: Box::new(inner),
            };
            let product = e.add(op, vec![first, q[1]], row_ty.clone());
            e.add2(q[0], product).unwrap()
        });
        let op = Op::Fold {
            body: Box::new(outer),
        };
        let folded = g.add(op, vec![p[0], p[1]], row_ty.clone(), span());
        let last_types = [row_ty.clone(), row_ty.clone(), row_ty.clone()];
        let last = region(&last_types, |e, q| e.mul(q[1], q[2]).unwrap());
        let flat = Emit::new(g, span()).reshape(p[1], &[6, 3]).unwrap();
        let op = Op::Fold {
            body: Box::new(last),
        };
        let y2 = g.add(op, vec![folded, flat, p[2]], row_ty, span());
        weighted_sum(g, y2, 164)
    });
}
