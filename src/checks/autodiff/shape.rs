//! Finite-difference checks of the reduction and movement rules (f64).

use super::util::{check_gradients, f64_ty, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{DType, Op, ReduceOp, Tensor, TensorType};

#[test]
fn reductions() {
    let cases: [(&[usize], bool); 5] = [
        (&[0], false),
        (&[1], true),
        (&[0, 2], false),
        (&[0, 1, 2], false),
        (&[2], true),
    ];
    for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min] {
        for (axes, keepdims) in cases {
            let x = Values::new(7).tensor(&[2, 3, 4], -1.0, 1.0);
            check_gradients(&[x], &[], |g, p| {
                let y = Emit::new(g, span())
                    .reduce(op, p[0], axes, keepdims)
                    .unwrap();
                weighted_sum(g, y, 8)
            });
        }
    }
}

#[test]
fn max_ties_split_equally() {
    let mut graph = crate::ir::Graph::new();
    let x = super::util::placeholder(&mut graph, "p0", f64_ty(&[4]));
    let y = Emit::new(&mut graph, span())
        .reduce(ReduceOp::Max, x, &[0], false)
        .unwrap();
    let adjoints = crate::autodiff::backward(&mut graph, y).unwrap();
    let dx = adjoints.of(&mut graph, x);
    let feed = Tensor::from_f64_vec(&f64_ty(&[4]), vec![1.0, 3.0, 3.0, -1.0]).unwrap();
    let got = super::util::run_values(&graph, &[dx], &[feed]);
    assert_eq!(got[0].to_f64_vec(), vec![0.0, 0.5, 0.5, 0.0]);
}

#[test]
fn reshape_transpose_broadcast() {
    let x = Values::new(9).tensor(&[2, 3, 4], -1.0, 1.0);
    check_gradients(&[x], &[], |g, p| {
        let mut e = Emit::new(g, span());
        let r = e.reshape(p[0], &[4, 6]).unwrap();
        let t = e.transpose(r, &[1, 0]).unwrap();
        let t3 = e.reshape(t, &[6, 1, 4]).unwrap();
        let b = e.broadcast_to(t3, &[6, 5, 4]).unwrap();
        let perm = e.transpose(b, &[2, 0, 1]).unwrap();
        weighted_sum(g, perm, 10)
    });
}

#[test]
fn concat_along_each_axis() {
    for axis in 0..2 {
        let a = Values::new(12).tensor(&[2, 3], -1.0, 1.0);
        let dims_b = if axis == 0 { [1, 3] } else { [2, 2] };
        let b = Values::new(13).tensor(&dims_b, -1.0, 1.0);
        let c = Values::new(14).tensor(&[2, 3], -1.0, 1.0);
        check_gradients(&[a, b, c], &[], |g, p| {
            let mut e = Emit::new(g, span());
            let squared = e.mul(p[2], p[2]).unwrap();
            let y = e.concat(&[p[0], p[1], squared], axis).unwrap();
            weighted_sum(g, y, 15)
        });
    }
}

#[test]
fn index_positive_and_negative() {
    for i in [0.0, 2.0, -1.0] {
        let x = Values::new(16).tensor(&[3, 2, 2], -1.0, 1.0);
        check_gradients(&[x], &[], |g, p| {
            let mut e = Emit::new(g, span());
            let i = e.constant(Tensor::scalar(DType::I32, i));
            let row = e.add(Op::Index, vec![p[0], i], f64_ty(&[2, 2]));
            let y = e.mul(row, row).unwrap();
            weighted_sum(g, y, 17)
        });
    }
}

#[test]
fn pad_with_a_value() {
    let x = Values::new(18).tensor(&[2, 3], -1.0, 1.0);
    check_gradients(&[x], &[], |g, p| {
        let op = Op::Pad {
            pads: vec![[1, 0], [2, 1]],
            value: 0.5,
        };
        let padded = g.add(op, vec![p[0]], f64_ty(&[3, 6]), span());
        let y = Emit::new(g, span()).mul(padded, padded).unwrap();
        weighted_sum(g, y, 19)
    });
}

#[test]
fn one_hot_passes_nothing() {
    let mut graph = crate::ir::Graph::new();
    let labels = graph.add(
        Op::Const(std::sync::Arc::new(
            Tensor::from_f64_vec(&TensorType::new(DType::I32, vec![2]), vec![1.0, 0.0]).unwrap(),
        )),
        vec![],
        TensorType::new(DType::I32, vec![2]),
        span(),
    );
    let hot = graph.add(
        Op::OneHot { depth: 3 },
        vec![labels],
        TensorType::new(DType::F32, vec![2, 3]),
        span(),
    );
    let y = Emit::new(&mut graph, span())
        .reduce(ReduceOp::Sum, hot, &[0, 1], false)
        .unwrap();
    let adjoints = crate::autodiff::backward(&mut graph, y).unwrap();
    assert!(adjoints.get(hot).is_some());
    assert_eq!(adjoints.get(labels), None);
}
