//! `fold` gradients through `scan` (O(T)), and `scan`'s own gradient rule:
//! finite differences in f64 on both backends, and the backward graph's size.

use super::util::{check_gradients, f64_ty, region, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{DType, Graph, NodeId, Op, Tensor, TensorType, UnaryOp};

/// `fold(|h, x| tanh(h @ w + x) * v, init, xs)`: float xs, two captures.
fn rnn(g: &mut Graph, p: &[NodeId]) -> NodeId {
    let types = [
        f64_ty(&[2, 3]),
        f64_ty(&[2, 3]),
        f64_ty(&[3, 3]),
        f64_ty(&[3]),
    ];
    let body = region(&types, |e, q| {
        let hw = e.matmul(q[0], q[2]).unwrap();
        let pre = e.add2(hw, q[1]).unwrap();
        let t = e.unary(UnaryOp::Tanh, pre);
        e.mul(t, q[3]).unwrap()
    });
    let op = Op::Fold {
        body: Box::new(body),
    };
    g.add(op, p.to_vec(), f64_ty(&[2, 3]), span())
}

#[test]
fn fold_with_float_xs_and_captures_over_1_2_and_17_steps() {
    for steps in [1, 2, 17] {
        let init = Values::new(201).tensor(&[2, 3], -1.0, 1.0);
        let xs = Values::new(202).tensor(&[steps, 2, 3], -1.0, 1.0);
        let w = Values::new(203).tensor(&[3, 3], -0.7, 0.7);
        let v = Values::new(204).tensor(&[3], 0.5, 1.2);
        check_gradients(&[init, xs, w, v], &[], |g, p| {
            let y = rnn(g, p);
            weighted_sum(g, y, 205)
        });
    }
}

#[test]
fn fold_with_int_xs_over_1_2_and_17_steps() {
    // fold(|acc, i| sin(acc * w[i]) + acc, init, ids): xs is i32.
    for steps in [1, 2, 17] {
        let init = Values::new(211).tensor(&[2], -1.0, 1.0);
        let w = Values::new(212).tensor(&[3, 2], -1.0, 1.0);
        check_gradients(&[init, w], &[], |g, p| {
            let ids_ty = TensorType::new(DType::I32, vec![steps]);
            let ids = (0..steps).map(|t| ((t * 7) % 3) as f64).collect();
            let ids = Tensor::from_f64_vec(&ids_ty, ids).unwrap();
            let ids = Emit::new(g, span()).constant(ids);
            let types = [
                f64_ty(&[2]),
                TensorType::scalar(DType::I32),
                f64_ty(&[3, 2]),
            ];
            let body = region(&types, |e, q| {
                let row = e.add(Op::Index, vec![q[2], q[1]], f64_ty(&[2]));
                let scaled = e.mul(q[0], row).unwrap();
                let s = e.unary(UnaryOp::Sin, scaled);
                e.add2(s, q[0]).unwrap()
            });
            let op = Op::Fold {
                body: Box::new(body),
            };
            let y = g.add(op, vec![p[0], ids, p[1]], f64_ty(&[2]), span());
            weighted_sum(g, y, 213)
        });
    }
}

/// `scan` with state `[2]`, `x: [3]`, capture `w: [3]`, output `[3]` per step:
/// `s' = tanh(s * sum(x * w))`, `y_t = x * s[0] + w`.
fn scan(g: &mut Graph, p: &[NodeId], reverse: bool, steps: usize) -> NodeId {
    let types = [f64_ty(&[2]), f64_ty(&[3]), f64_ty(&[3])];
    let body = region(&types, |e, q| {
        let xw = e.mul(q[1], q[2]).unwrap();
        let total = e.reduce(crate::ir::ReduceOp::Sum, xw, &[0], false).unwrap();
        let ss = e.mul(q[0], total).unwrap();
        let next = e.unary(UnaryOp::Tanh, ss);
        let first = e.slice(q[0], &[0], &[1]).unwrap();
        let xs0 = e.mul(q[1], first).unwrap();
        let y = e.add2(xs0, q[2]).unwrap();
        e.concat(&[next, y], 0).unwrap()
    });
    let op = Op::Scan {
        body: Box::new(body),
        reverse,
        carry: 2,
    };
    g.add(op, p.to_vec(), f64_ty(&[2 + 3 * steps]), span())
}

#[test]
fn scan_gradient_in_both_directions() {
    // A gradient of the scan itself (what a second-order gradient of a fold
    // meets): the cotangent reaches both the final state and every row.
    for reverse in [false, true] {
        for steps in [1, 2, 5] {
            let init = Values::new(221).tensor(&[2], -1.0, 1.0);
            let xs = Values::new(222).tensor(&[steps, 3], -1.0, 1.0);
            let w = Values::new(223).tensor(&[3], -1.0, 1.0);
            check_gradients(&[init, xs, w], &[], |g, p| {
                let y = scan(g, p, reverse, steps);
                weighted_sum(g, y, 224)
            });
        }
    }
}

/// Every node of `graph` and of its regions.
fn all_nodes(graph: &Graph, out: &mut Vec<(Op, TensorType, bool)>, in_scan: bool) {
    for node in &graph.nodes {
        out.push((node.op.clone(), node.ty.clone(), in_scan));
        match &node.op {
            Op::Scan { body, .. } => all_nodes(body, out, true),
            Op::Fold { body } => all_nodes(body, out, in_scan),
            Op::Cond {
                then_body,
                else_body,
            } => {
                all_nodes(then_body, out, in_scan);
                all_nodes(else_body, out, in_scan);
            }
            _ => {}
        }
    }
}

#[test]
fn fold_backward_is_linear_in_the_length() {
    // The same RNN over 4 and 40 steps: the backward graph has the same nodes,
    // no node inside a loop body other than its params (the captured xs and
    // history) grows with T, no `scatter_index` of xs is left, and the history
    // scan carries the 6 state elements (not T * 6).
    let shape = |steps: usize| {
        let mut g = Graph::new();
        let p: Vec<NodeId> = [
            f64_ty(&[2, 3]),
            f64_ty(&[steps, 2, 3]),
            f64_ty(&[3, 3]),
            f64_ty(&[3]),
        ]
        .into_iter()
        .enumerate()
        .map(|(k, ty)| super::util::placeholder(&mut g, &format!("p{k}"), ty))
        .collect();
        let y = rnn(&mut g, &p);
        let loss = weighted_sum(&mut g, y, 231);
        crate::autodiff::backward(&mut g, loss).expect("backward");
        let mut nodes = Vec::new();
        all_nodes(&g, &mut nodes, false);
        nodes
    };
    let (short, long) = (shape(4), shape(40));
    assert_eq!(short.len(), long.len());
    let in_body = |nodes: &[(Op, TensorType, bool)]| -> usize {
        nodes
            .iter()
            .filter(|(op, _, in_scan)| *in_scan && !matches!(op, Op::Param(_)))
            .map(|(_, ty, _)| ty.shape.numel())
            .max()
            .unwrap_or(0)
    };
    assert!(in_body(&short) > 0);
    assert_eq!(in_body(&short), in_body(&long));
    assert!(!long.iter().any(|(op, _, _)| op.name() == "scatter_index"));
    let carries: Vec<usize> = long
        .iter()
        .filter_map(|(op, _, _)| match op {
            Op::Scan { carry, .. } => Some(*carry),
            _ => None,
        })
        .collect();
    // History: the state (6); reverse: d state (6) + d w (9) + d v (3).
    assert_eq!(carries, [6, 6 + 9 + 3]);
}
