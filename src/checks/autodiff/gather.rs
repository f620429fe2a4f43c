//! Finite-difference checks (f64) of strided slices, `take` and mirror pads,
//! and of gradients of their gradients (the adjoint ops' own rules).

use super::util::{check_gradients, f64_ty, span, weighted_sum, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{DType, Graph, NodeId, Op, Tensor, TensorType};
use std::sync::Arc;

/// `x * op(x)`-style nonlinearity, so a wrong adjoint cannot cancel out.
fn squared(g: &mut Graph, y: NodeId) -> NodeId {
    Emit::new(g, span()).mul(y, y).unwrap()
}

fn indices(g: &mut Graph, dims: &[usize], values: &[f64]) -> NodeId {
    let ty = TensorType::new(DType::I32, dims.to_vec());
    let t = Tensor::from_f64_vec(&ty, values.to_vec()).unwrap();
    g.add(Op::Const(Arc::new(t)), vec![], ty, span())
}

/// Checks `f` and `d/dx sum(c2 * d/dx sum(c1 * f(x)))`.
fn first_and_second(x: Tensor, seed: u64, build: impl Fn(&mut Graph, NodeId) -> NodeId) {
    check_gradients(std::slice::from_ref(&x), &[], |g, p| {
        let y = build(g, p[0]);
        let y = squared(g, y);
        weighted_sum(g, y, seed)
    });
    check_gradients(&[x], &[], |g, p| {
        let y = build(g, p[0]);
        let y = squared(g, y);
        let y = weighted_sum(g, y, seed);
        let adjoints = crate::autodiff::backward(g, y).unwrap();
        let dx = adjoints.of(g, p[0]);
        weighted_sum(g, dx, seed + 1)
    });
}

#[test]
fn strided_slices_forward_and_backward() {
    // x[1:3, ::-2, 3:0:-1] of [4, 5, 4]: sizes 2, 3, 3.
    let x = Values::new(301).tensor(&[4, 5, 4], -1.0, 1.0);
    first_and_second(x, 302, |g, x| {
        let op = Op::StridedSlice {
            starts: vec![1, 4, 3],
            sizes: vec![2, 3, 3],
            steps: vec![1, -2, -1],
        };
        g.add(op, vec![x], f64_ty(&[2, 3, 3]), span())
    });
}

#[test]
fn take_with_repeats_and_negative_indices() {
    let x = Values::new(311).tensor(&[3, 4, 2], -1.0, 1.0);
    first_and_second(x, 312, |g, x| {
        let i = indices(g, &[2, 3], &[0.0, 3.0, 0.0, -1.0, 1.0, 0.0]);
        g.add(
            Op::Take { axis: 1 },
            vec![x, i],
            f64_ty(&[3, 2, 3, 2]),
            span(),
        )
    });
}

#[test]
fn take_passes_nothing_to_indices() {
    let mut graph = Graph::new();
    let x = super::util::placeholder(&mut graph, "p0", f64_ty(&[3]));
    let i = indices(&mut graph, &[2], &[2.0, 2.0]);
    let y = graph.add(Op::Take { axis: 0 }, vec![x, i], f64_ty(&[2]), span());
    let s = weighted_sum(&mut graph, y, 1);
    let adjoints = crate::autodiff::backward(&mut graph, s).unwrap();
    assert_eq!(adjoints.get(i), None);
    let dx = adjoints.of(&mut graph, x);
    let feed = Tensor::from_f64_vec(&f64_ty(&[3]), vec![1.0, 2.0, 3.0]).unwrap();
    let got = super::util::run_values(&graph, &[dx, y], &[feed]);
    // Both picks of element 2 add up there.
    let dx = got[0].to_f64_vec();
    assert_eq!(dx[0], 0.0);
    assert_eq!(dx[1], 0.0);
    assert!(dx[2] != 0.0);
    assert_eq!(got[1].to_f64_vec(), vec![3.0, 3.0]);
}

#[test]
fn mirror_pads_fold_back() {
    for symmetric in [false, true] {
        let x = Values::new(321).tensor(&[3, 4], -1.0, 1.0);
        let pads = if symmetric {
            vec![[3, 1], [0, 4]]
        } else {
            vec![[2, 1], [3, 2]]
        };
        let dims: Vec<usize> = [3, 4]
            .iter()
            .zip(&pads)
            .map(|(n, p)| n + p[0] + p[1])
            .collect();
        first_and_second(x, 322, |g, x| {
            let op = Op::MirrorPad {
                pads: pads.clone(),
                symmetric,
            };
            g.add(op, vec![x], f64_ty(&dims), span())
        });
    }
}
