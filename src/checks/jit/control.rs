//! `cond` and `fold` run their compiled regions natively: each graph runs on
//! the JIT (with `check_bounds`) and on the interpreter, which must agree
//! (`checks::autodiff::util::run_on_both`); the regions' kernels are counted.

use super::control_bits::{assert_same_bits, feed_map};
use super::regions::{cond, f32_ty, f32_values, flag, fold, region};
use crate::autodiff::backward;
use crate::backend::jit::{compile, Options};
use crate::backend::StepInputs;
use crate::checks::autodiff::util::{
    check_gradients, f64_ty, placeholder, run_on_both, weighted_sum, Values,
};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, Tensor, TensorType, UnaryOp};
use std::collections::HashMap;

/// Runs `fetches` on both backends with `feeds` (asserting agreement) and
/// returns the JIT executable's (region count, kernels in all its regions,
/// top-level kernels).
#[track_caller]
fn both(g: &Graph, fetches: &[NodeId], feeds: &[(&str, Tensor)]) -> (usize, usize, usize) {
    let placeholders = feed_map(feeds);
    let variables = HashMap::new();
    let inputs = StepInputs {
        placeholders: &placeholders,
        variables: &variables,
    };
    if let Err(e) = run_on_both(g, fetches, &inputs) {
        panic!("both backends failed: {}", e.message);
    }
    let exe = match compile(g, fetches, Options::checked()) {
        Ok(exe) => exe,
        Err(e) => panic!("compile: {}", e.message),
    };
    // Pooled buffers reused across steps give the same values every step.
    let first = exe.run(&inputs).expect("run").fetched;
    for _ in 0..3 {
        let again = exe.run(&inputs).expect("run again").fetched;
        for (a, b) in first.iter().zip(&again) {
            assert_eq!(a.to_f64_vec(), b.to_f64_vec(), "a later step differs");
        }
    }
    let (fused, matmuls) = exe.kernel_counts();
    let own = fused + matmuls + exe.reduction_count();
    (exe.region_count(), exe.total_kernels() - own, own)
}

/// then: `sum(relu(x * w * 1 + x * w))` over axis 1 (a fused chain and reduction);
/// else: `x @ m` summed over axis 1 (a matmul).
fn two_branch_graph() -> (Graph, NodeId) {
    let mut g = Graph::new();
    let pred = placeholder(&mut g, "pred", TensorType::scalar(DType::Bool));
    let x = placeholder(&mut g, "x", f32_ty(&[6, 80]));
    let w = placeholder(&mut g, "w", f32_ty(&[6, 80]));
    let m = placeholder(&mut g, "m", f32_ty(&[80, 80]));
    let types = [f32_ty(&[6, 80]), f32_ty(&[6, 80]), f32_ty(&[80, 80])];
    let then_body = region(&types, |e, q| {
        let xw = e.mul(q[0], q[1]);
        let pre = e.scale(xw, 1.0);
        let pre = e.add2(pre, xw);
        let r = e.unary(UnaryOp::Relu, pre);
        e.sum(r, 1)
    });
    let else_body = region(&types, |e, q| {
        let xm = e.matmul(q[0], q[2]);
        e.sum(xm, 1)
    });
    let y = cond(&mut g, pred, &[x, w, m], then_body, else_body);
    (g, y)
}

#[test]
fn cond_takes_each_branch_natively() {
    let (g, y) = two_branch_graph();
    for taken in [true, false] {
        let feeds = [
            ("pred", flag(taken)),
            ("x", f32_values(&[6, 80], 1)),
            ("w", f32_values(&[6, 80], 2)),
            ("m", f32_values(&[80, 80], 3)),
        ];
        let (regions, region_kernels, _) = both(&g, &[y], &feeds);
        assert_eq!(regions, 2, "both branches are compiled");
        // then: one fused reduction; else: a matmul and a reduction.
        assert_eq!(region_kernels, 3, "the branches' kernels");
    }
}

#[test]
fn cond_does_not_compute_unused_captures() {
    // `missing` is never fed: computing it is an error. Only the else branch
    // uses it, and no branch uses `also_missing`.
    let mut g = Graph::new();
    let pred = placeholder(&mut g, "pred", TensorType::scalar(DType::Bool));
    let x = placeholder(&mut g, "x", f32_ty(&[7]));
    let missing = placeholder(&mut g, "missing", f32_ty(&[7]));
    let also_missing = placeholder(&mut g, "also_missing", f32_ty(&[7]));
    let types = [f32_ty(&[7]), f32_ty(&[7]), f32_ty(&[7])];
    let then_body = region(&types, |e, q| e.mul(q[0], q[0]));
    let else_body = region(&types, |e, q| e.add2(q[0], q[1]));
    let y = cond(
        &mut g,
        pred,
        &[x, missing, also_missing],
        then_body,
        else_body,
    );
    both(
        &g,
        &[y],
        &[("pred", flag(true)), ("x", f32_values(&[7], 4))],
    );
    // Taking the else branch needs `missing`: both backends fail alike.
    let placeholders: HashMap<String, Tensor> = [
        ("pred".to_string(), flag(false)),
        ("x".to_string(), f32_values(&[7], 4)),
    ]
    .into_iter()
    .collect();
    let variables = HashMap::new();
    let inputs = StepInputs {
        placeholders: &placeholders,
        variables: &variables,
    };
    assert!(run_on_both(&g, &[y], &inputs).is_err());
}

/// `fold(|h, x| tanh(x @ wx + h @ wh + b), h0, xs)`: captures and matmuls.
fn rnn_graph(steps: usize) -> (Graph, NodeId, Vec<(&'static str, Tensor)>) {
    let mut g = Graph::new();
    let h0 = placeholder(&mut g, "h0", f32_ty(&[3, 8]));
    let xs = placeholder(&mut g, "xs", f32_ty(&[steps, 3, 4]));
    let wx = placeholder(&mut g, "wx", f32_ty(&[4, 8]));
    let wh = placeholder(&mut g, "wh", f32_ty(&[8, 8]));
    let b = placeholder(&mut g, "b", f32_ty(&[8]));
    let types = [
        f32_ty(&[3, 8]),
        f32_ty(&[3, 4]),
        f32_ty(&[4, 8]),
        f32_ty(&[8, 8]),
        f32_ty(&[8]),
    ];
    let body = region(&types, |e, q| {
        let xw = e.matmul(q[1], q[2]);
        let hw = e.matmul(q[0], q[3]);
        let s = e.add2(xw, hw);
        let s = e.add2(s, q[4]);
        e.unary(UnaryOp::Tanh, s)
    });
    let h = fold(&mut g, h0, xs, &[wx, wh, b], body);
    let feeds = vec![
        ("h0", f32_values(&[3, 8], 5)),
        ("xs", f32_values(&[steps, 3, 4], 6)),
        ("wx", f32_values(&[4, 8], 7)),
        ("wh", f32_values(&[8, 8], 8)),
        ("b", f32_values(&[8], 9)),
    ];
    (g, h, feeds)
}

#[test]
fn fold_with_captures_and_matmuls_over_0_1_and_9_steps() {
    for steps in [0, 1, 9] {
        let (g, h, feeds) = rnn_graph(steps);
        let (regions, region_kernels, _) = both(&g, &[h], &feeds);
        assert_eq!(regions, 1);
        // Two matmuls and the fused add/add/tanh.
        assert_eq!(region_kernels, 3, "{steps} steps");
    }
}

#[test]
fn fold_with_a_reduction_in_the_body() {
    // acc + sum(x * c, axis 1) with `c` a capture; acc: [4].
    let mut g = Graph::new();
    let init = placeholder(&mut g, "init", f32_ty(&[4]));
    let xs = placeholder(&mut g, "xs", f32_ty(&[5, 4, 300]));
    let c = placeholder(&mut g, "c", f32_ty(&[4, 300]));
    let types = [f32_ty(&[4]), f32_ty(&[4, 300]), f32_ty(&[4, 300])];
    let body = region(&types, |e, q| {
        let xc = e.mul(q[1], q[2]);
        let s = e.sum(xc, 1);
        e.add2(q[0], s)
    });
    let y = fold(&mut g, init, xs, &[c], body);
    let feeds = [
        ("init", f32_values(&[4], 10)),
        ("xs", f32_values(&[5, 4, 300], 11)),
        ("c", f32_values(&[4, 300], 12)),
    ];
    let (regions, region_kernels, _) = both(&g, &[y], &feeds);
    assert_eq!((regions, region_kernels), (1, 2));
}

#[test]
fn short_sums_in_a_loop_are_the_interpreters_bits() {
    // acc * 0.9 + sum(x, axis 0) over 8 rows: the interpreter's f64
    // pairwise kernel (`plan::REGION_MIN_TERMS`), so no last-bit drift.
    let mut g = Graph::new();
    let init = placeholder(&mut g, "init", f32_ty(&[5]));
    let xs = placeholder(&mut g, "xs", f32_ty(&[40, 8, 5]));
    let types = [f32_ty(&[5]), f32_ty(&[8, 5])];
    let body = region(&types, |e, q| {
        let s = e.sum(q[1], 0);
        let decay = e.scale(q[0], 0.9);
        e.add2(decay, s)
    });
    let y = fold(&mut g, init, xs, &[], body);
    let feeds = [
        ("init", f32_values(&[5], 15)),
        ("xs", f32_values(&[40, 8, 5], 16)),
    ];
    let (regions, region_kernels, _) = both(&g, &[y], &feeds);
    // acc * 0.9 + s is a fused kernel; the sum is not.
    assert_eq!((regions, region_kernels), (1, 1));
    assert_same_bits(&g, y, &feeds);
}

/// A fold whose body holds a cond (on a captured flag), and a cond whose
/// branch holds a fold; both directions of nesting.
#[test]
fn nested_regions() {
    for taken in [true, false] {
        let mut g = Graph::new();
        let flag_node = placeholder(&mut g, "flag", TensorType::scalar(DType::Bool));
        let init = placeholder(&mut g, "init", f32_ty(&[6]));
        let xs = placeholder(&mut g, "xs", f32_ty(&[4, 6]));
        let types = [f32_ty(&[6]), f32_ty(&[6]), TensorType::scalar(DType::Bool)];
        let body = region(&types, |e, q| {
            let inner = [f32_ty(&[6]), f32_ty(&[6])];
            let then_body = region(&inner, |e, r| {
                let p = e.mul(r[0], r[1]);
                e.unary(UnaryOp::Sin, p)
            });
            let else_body = region(&inner, |e, r| e.sub(r[0], r[1]));
            let op = Op::Cond {
                then_body: Box::new(then_body),
                else_body: Box::new(else_body),
            };
            e.add(op, vec![q[2], q[0], q[1]], f32_ty(&[6]))
        });
        let folded = fold(&mut g, init, xs, &[flag_node], body);
        // cond(flag, fold(|a, x| a * 0.5 + x, init, xs), init * 3)
        let types = [f32_ty(&[6]), f32_ty(&[4, 6])];
        let then_body = region(&types, |e, q| {
            let inner = [f32_ty(&[6]), f32_ty(&[6])];
            let body = region(&inner, |e, r| {
                let half = e.scale(r[0], 0.5);
                e.add2(half, r[1])
            });
            let op = Op::Fold {
                body: Box::new(body),
            };
            e.add(op, vec![q[0], q[1]], f32_ty(&[6]))
        });
        let else_body = region(&types, |e, q| e.scale(q[0], 3.0));
        let chosen = cond(&mut g, flag_node, &[init, xs], then_body, else_body);
        let feeds = [
            ("flag", flag(taken)),
            ("init", f32_values(&[6], 13)),
            ("xs", f32_values(&[4, 6], 14)),
        ];
        let (regions, region_kernels, _) = both(&g, &[folded, chosen], &feeds);
        // fold body + its 2 branches; 2 branches + the inner fold body.
        assert_eq!(regions, 6);
        // sin(a*x); a-x; a*3; a*0.5+x: one fused kernel each.
        assert_eq!(region_kernels, 4);
    }
}

#[test]
fn gradients_through_cond_and_fold() {
    // d/d(init, xs, w) of sum(c * fold(|h, x| cond(p, tanh(h @ w + x), h * x), ...)).
    for taken in [true, false] {
        let init = Values::new(21).tensor(&[2, 3], -1.0, 1.0);
        let xs = Values::new(22).tensor(&[3, 2, 3], -1.0, 1.0);
        let w = Values::new(23).tensor(&[3, 3], -1.0, 1.0);
        check_gradients(&[init, xs, w], &[("p", flag(taken))], |g, p| {
            let pred = placeholder(g, "p", TensorType::scalar(DType::Bool));
            let types = [
                f64_ty(&[2, 3]),
                f64_ty(&[2, 3]),
                f64_ty(&[3, 3]),
                TensorType::scalar(DType::Bool),
            ];
            let body = region(&types, |e, q| {
                let inner = [f64_ty(&[2, 3]), f64_ty(&[2, 3]), f64_ty(&[3, 3])];
                let then_body = region(&inner, |e, r| {
                    let hw = e.matmul(r[0], r[2]);
                    let s = e.add2(hw, r[1]);
                    e.unary(UnaryOp::Tanh, s)
                });
                let else_body = region(&inner, |e, r| e.mul(r[0], r[1]));
                let op = Op::Cond {
                    then_body: Box::new(then_body),
                    else_body: Box::new(else_body),
                };
                e.add(op, vec![q[3], q[0], q[1], q[2]], f64_ty(&[2, 3]))
            });
            let h = fold(g, p[0], p[1], &[p[2], pred], body);
            weighted_sum(g, h, 24)
        });
    }
}

#[test]
fn second_order_gradient_through_a_fold() {
    // d/dw of sum(c2 * d/dw sum(c1 * fold(|h, x| sin(h * w) + x, init, xs))).
    let init = Values::new(31).tensor(&[3], -1.0, 1.0);
    let xs = Values::new(32).tensor(&[4, 3], -1.0, 1.0);
    let w = Values::new(33).tensor(&[3], -1.0, 1.0);
    check_gradients(&[init, xs, w], &[], |g, p| {
        let types = [f64_ty(&[3]), f64_ty(&[3]), f64_ty(&[3])];
        let body = region(&types, |e, q| {
            let hw = e.binary(BinaryOp::Mul, q[0], q[2]);
            let s = e.unary(UnaryOp::Sin, hw);
            e.add2(s, q[1])
        });
        let h = fold(g, p[0], p[1], &[p[2]], body);
        let y = weighted_sum(g, h, 34);
        let adjoints = backward(g, y).expect("backward");
        let dw = adjoints.of(g, p[2]);
        weighted_sum(g, dw, 35)
    });
}
