//! `cond` and `fold`: regions, captures, laziness.

use super::*;
use crate::diag::DiagKind;
use crate::ir::BinaryOp;

/// A region `|p0: f32[n]| p0 op c` for a constant `c`.
fn affine_region(n: usize, op: BinaryOp, c: f32) -> Graph {
    let mut r = Graph::region(vec![ty(DType::F32, &[n])]);
    let p = param(&mut r, 0);
    let k = konst(&mut r, f32t(&[], &[c]));
    let y = binary(&mut r, op, p, k, ty(DType::F32, &[n]));
    r.results.push(y);
    r
}

/// A region `|p0: f32[n]| p0[7]`: out of range when it runs.
fn bad_index_region(n: usize) -> Graph {
    let mut r = Graph::region(vec![ty(DType::F32, &[n])]);
    let p = param(&mut r, 0);
    let i = konst(&mut r, i32t(&[], &[7]));
    let y = add(&mut r, Op::Index, &[p, i], ty(DType::F32, &[]));
    let y = add(&mut r, Op::Broadcast, &[y], ty(DType::F32, &[n]));
    r.results.push(y);
    r
}

fn cond_graph(pred: bool, then_body: Graph, else_body: Graph) -> (Graph, NodeId) {
    let mut g = Graph::new();
    let p = konst(&mut g, boolt(&[], &[pred]));
    let x = konst(&mut g, f32t(&[3], &[1.0, 2.0, 3.0]));
    let op = Op::Cond {
        then_body: Box::new(then_body),
        else_body: Box::new(else_body),
    };
    let c = add(&mut g, op, &[p, x], ty(DType::F32, &[3]));
    (g, c)
}

#[test]
fn cond_takes_each_branch() {
    let (g, c) = cond_graph(
        true,
        affine_region(3, BinaryOp::Mul, 2.0),
        affine_region(3, BinaryOp::Add, 1.0),
    );
    assert_exact(&run1(&g, c), &f32t(&[3], &[2.0, 4.0, 6.0]));
    let (g, c) = cond_graph(
        false,
        affine_region(3, BinaryOp::Mul, 2.0),
        affine_region(3, BinaryOp::Add, 1.0),
    );
    assert_exact(&run1(&g, c), &f32t(&[3], &[2.0, 3.0, 4.0]));
}

#[test]
fn cond_does_not_run_the_untaken_branch() {
    let (g, c) = cond_graph(
        true,
        affine_region(3, BinaryOp::Sub, 1.0),
        bad_index_region(3),
    );
    assert_exact(&run1(&g, c), &f32t(&[3], &[0.0, 1.0, 2.0]));
    let (g, c) = cond_graph(
        false,
        bad_index_region(3),
        affine_region(3, BinaryOp::Sub, 1.0),
    );
    assert_exact(&run1(&g, c), &f32t(&[3], &[0.0, 1.0, 2.0]));
    // And the taken one does report its error.
    let (g, c) = cond_graph(
        false,
        affine_region(3, BinaryOp::Sub, 1.0),
        bad_index_region(3),
    );
    let err = run_err(&g, c);
    assert_eq!(err.message, "index 7 is out of range for axis 0 of size 3");
}

#[test]
fn cond_does_not_compute_captures_only_the_untaken_branch_uses() {
    // then: |a, b| a * 2 ; else: |a, b| b + 1, where b = x[7] is out of range.
    let region = |use_second: bool| {
        let mut r = Graph::region(vec![ty(DType::F32, &[3]), ty(DType::F32, &[3])]);
        let a = param(&mut r, 0);
        let b = param(&mut r, 1);
        let k = konst(&mut r, f32t(&[], &[2.0]));
        let src = if use_second { b } else { a };
        let y = binary(&mut r, BinaryOp::Mul, src, k, ty(DType::F32, &[3]));
        r.results.push(y);
        r
    };
    for pred in [true, false] {
        let mut g = Graph::new();
        let p = placeholder(&mut g, "p", ty(DType::Bool, &[]));
        let x = konst(&mut g, f32t(&[3], &[1.0, 2.0, 3.0]));
        let i = konst(&mut g, i32t(&[], &[7]));
        let bad = add(&mut g, Op::Index, &[x, i], ty(DType::F32, &[]));
        let bad = add(&mut g, Op::Broadcast, &[bad], ty(DType::F32, &[3]));
        let op = Op::Cond {
            then_body: Box::new(region(false)),
            else_body: Box::new(region(true)),
        };
        let c = add(&mut g, op, &[p, x, bad], ty(DType::F32, &[3]));
        let result = run_with(&g, &[c], &[("p", boolt(&[], &[pred]))], &[]);
        if pred {
            assert_exact(&result.unwrap().fetched[0], &f32t(&[3], &[2.0, 4.0, 6.0]));
        } else {
            assert_eq!(result.unwrap_err().kind, DiagKind::Error);
        }
    }
}

/// `fold(|acc, x| acc * w + x, init, xs)` with a captured outer `w`.
fn fold_graph(xs: Tensor) -> (Graph, NodeId) {
    let mut body = Graph::region(vec![
        ty(DType::F64, &[2]),
        ty(DType::F64, &[2]),
        ty(DType::F64, &[2]),
    ]);
    let acc = param(&mut body, 0);
    let x = param(&mut body, 1);
    let w = param(&mut body, 2);
    let aw = binary(&mut body, BinaryOp::Mul, acc, w, ty(DType::F64, &[2]));
    let next = binary(&mut body, BinaryOp::Add, aw, x, ty(DType::F64, &[2]));
    body.results.push(next);

    let mut g = Graph::new();
    let init = konst(&mut g, f64t(&[2], &[1.0, -1.0]));
    let xs = konst(&mut g, xs);
    let w = add(
        &mut g,
        Op::Variable { name: "w".into() },
        &[],
        ty(DType::F64, &[2]),
    );
    let op = Op::Fold {
        body: Box::new(body),
    };
    let f = add(&mut g, op, &[init, xs, w], ty(DType::F64, &[2]));
    (g, f)
}

#[test]
fn fold_loops_over_axis_zero() {
    let w = [2.0, 0.5];
    for len in [0usize, 1, 5] {
        let values: Vec<f64> = (0..2 * len).map(|k| k as f64 + 1.0).collect();
        let (g, f) = fold_graph(f64t(&[len, 2], &values));
        let mut acc = [1.0, -1.0];
        for t in 0..len {
            for j in 0..2 {
                acc[j] = acc[j] * w[j] + values[2 * t + j];
            }
        }
        let result = run_with(&g, &[f], &[], &[("w", f64t(&[2], &w))]).unwrap();
        assert_exact(&result.fetched[0], &f64t(&[2], &acc));
    }
}

#[test]
fn fold_of_scalars_with_cond_inside() {
    // fold(|acc, x| cond(x > 2, acc + x, acc), 0, [1, 2, 3, 4]) = 7
    let branch = |add_x: bool| {
        let mut r = Graph::region(vec![ty(DType::I32, &[]), ty(DType::I32, &[])]);
        let acc = param(&mut r, 0);
        let x = param(&mut r, 1);
        let y = if add_x {
            binary(&mut r, BinaryOp::Add, acc, x, ty(DType::I32, &[]))
        } else {
            acc
        };
        r.results.push(y);
        r
    };
    let mut body = Graph::region(vec![ty(DType::I32, &[]), ty(DType::I32, &[])]);
    let acc = param(&mut body, 0);
    let x = param(&mut body, 1);
    let two = konst(&mut body, i32t(&[], &[2]));
    let p = binary(&mut body, BinaryOp::Gt, x, two, ty(DType::Bool, &[]));
    let op = Op::Cond {
        then_body: Box::new(branch(true)),
        else_body: Box::new(branch(false)),
    };
    let c = add(&mut body, op, &[p, acc, x], ty(DType::I32, &[]));
    body.results.push(c);
    let mut g = Graph::new();
    let init = konst(&mut g, i32t(&[], &[0]));
    let xs = konst(&mut g, i32t(&[4], &[1, 2, 3, 4]));
    let op = Op::Fold {
        body: Box::new(body),
    };
    let f = add(&mut g, op, &[init, xs], ty(DType::I32, &[]));
    assert_exact(&run1(&g, f), &i32t(&[], &[7]));
}

/// The error of folding `body` from `init` over `xs`, typed `f32[]`.
fn fold_error(body: Graph, init: Tensor, xs: Tensor) -> Diag {
    let mut g = Graph::new();
    let init = konst(&mut g, init);
    let xs = konst(&mut g, xs);
    let op = Op::Fold {
        body: Box::new(body),
    };
    let f = add(&mut g, op, &[init, xs], ty(DType::F32, &[]));
    run_err(&g, f)
}

#[test]
fn fold_body_errors_and_bad_regions() {
    // A body whose result has the wrong type is an internal error.
    let mut body = Graph::region(vec![ty(DType::F32, &[]), ty(DType::F32, &[])]);
    let x = param(&mut body, 1);
    let y = add(&mut body, Op::Broadcast, &[x], ty(DType::F32, &[2]));
    body.results.push(y);
    let xs = f32t(&[3], &[1.0, 2.0, 3.0]);
    let err = fold_error(body, f32t(&[], &[0.0]), xs);
    assert_eq!(err.kind, DiagKind::Internal);
    // A scalar `xs` cannot be folded over.
    let mut body = Graph::region(vec![ty(DType::F32, &[]), ty(DType::F32, &[])]);
    let acc = param(&mut body, 0);
    body.results.push(acc);
    let err = fold_error(body, f32t(&[], &[0.0]), f32t(&[], &[1.0]));
    assert_eq!(err.kind, DiagKind::Internal);
}

#[test]
fn nested_cond_captures_an_outer_parameter() {
    // cond(p, cond(q, x * 2, x + 1), x - 1) with x captured twice.
    let mut outer_then = Graph::region(vec![ty(DType::F32, &[3]), ty(DType::Bool, &[])]);
    let x = param(&mut outer_then, 0);
    let q = param(&mut outer_then, 1);
    let op = Op::Cond {
        then_body: Box::new(affine_region(3, BinaryOp::Mul, 2.0)),
        else_body: Box::new(affine_region(3, BinaryOp::Add, 1.0)),
    };
    let inner = add(&mut outer_then, op, &[q, x], ty(DType::F32, &[3]));
    outer_then.results.push(inner);
    let mut outer_else = Graph::region(vec![ty(DType::F32, &[3]), ty(DType::Bool, &[])]);
    let x = param(&mut outer_else, 0);
    let one = konst(&mut outer_else, f32t(&[], &[1.0]));
    let y = binary(&mut outer_else, BinaryOp::Sub, x, one, ty(DType::F32, &[3]));
    outer_else.results.push(y);

    let mut g = Graph::new();
    let p = placeholder(&mut g, "p", ty(DType::Bool, &[]));
    let q = placeholder(&mut g, "q", ty(DType::Bool, &[]));
    let x = konst(&mut g, f32t(&[3], &[1.0, 2.0, 3.0]));
    let op = Op::Cond {
        then_body: Box::new(outer_then),
        else_body: Box::new(outer_else),
    };
    let c = add(&mut g, op, &[p, x, q], ty(DType::F32, &[3]));
    let cases = [
        (true, true, [2.0, 4.0, 6.0]),
        (true, false, [2.0, 3.0, 4.0]),
        (false, true, [0.0, 1.0, 2.0]),
    ];
    for (pv, qv, expected) in cases {
        let feeds = [("p", boolt(&[], &[pv])), ("q", boolt(&[], &[qv]))];
        let result = run_with(&g, &[c], &feeds, &[]).unwrap();
        assert_exact(&result.fetched[0], &f32t(&[3], &expected));
    }
    // The untaken outer branch does not need `q`: no feed, no error.
    let result = run_with(&g, &[c], &[("p", boolt(&[], &[false]))], &[]).unwrap();
    assert_exact(&result.fetched[0], &f32t(&[3], &[0.0, 1.0, 2.0]));
}

#[test]
fn non_scalar_predicate_is_internal_error() {
    let mut g = Graph::new();
    let p = konst(&mut g, boolt(&[1], &[true]));
    let x = konst(&mut g, f32t(&[3], &[1.0, 2.0, 3.0]));
    let op = Op::Cond {
        then_body: Box::new(affine_region(3, BinaryOp::Mul, 2.0)),
        else_body: Box::new(affine_region(3, BinaryOp::Add, 1.0)),
    };
    let c = add(&mut g, op, &[p, x], ty(DType::F32, &[3]));
    assert_eq!(run_err(&g, c).kind, DiagKind::Internal);
}
