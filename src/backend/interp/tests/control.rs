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

/// The three branch values of the `cond` tests on `x = [1, 2, 3]`; `x[i]`
/// (`i = 7`) is out of range when it runs.
const COND: &str = "
    placeholder p: bool[];
    placeholder q: bool[];
    placeholder x: f32[3] = [1.0, 2.0, 3.0];
    placeholder i: i32[] = 7;
    let bad = x[i] * x;
    let taken = cond(p, x * 2.0, x + 1.0);
    let lazy = cond(p, x - 1.0, x[i] * x);
    let lazy_else = cond(p, x[i] * x, x - 1.0);
    let captured = cond(p, x * 2.0, bad * 2.0);
    let nested = cond(p, cond(q, x * 2.0, x + 1.0), x - 1.0);
";

fn run_cond(fetch: &str, feeds: &[(&str, bool)]) -> Result<Tensor, Diag> {
    let feeds: Vec<(&str, Tensor)> = (feeds.iter())
        .map(|&(n, v)| (n, boolt(&[], &[v])))
        .collect();
    run_source(COND, &[fetch], &feeds).map(|mut r| r.fetched.remove(0))
}

#[test]
fn cond_takes_each_branch() {
    let taken = |p| run_cond("taken", &[("p", p)]).unwrap();
    assert_exact(&taken(true), &f32t(&[3], &[2.0, 4.0, 6.0]));
    assert_exact(&taken(false), &f32t(&[3], &[2.0, 3.0, 4.0]));
}

#[test]
fn cond_does_not_run_the_untaken_branch() {
    let expected = f32t(&[3], &[0.0, 1.0, 2.0]);
    assert_exact(&run_cond("lazy", &[("p", true)]).unwrap(), &expected);
    assert_exact(&run_cond("lazy_else", &[("p", false)]).unwrap(), &expected);
    // And the taken one does report its error.
    let err = run_cond("lazy", &[("p", false)]).unwrap_err();
    assert_eq!(err.message, "index 7 is out of range for axis 0 of size 3");
}

#[test]
fn cond_does_not_compute_captures_only_the_untaken_branch_uses() {
    let result = run_cond("captured", &[("p", true)]);
    assert_exact(&result.unwrap(), &f32t(&[3], &[2.0, 4.0, 6.0]));
    assert_eq!(
        run_cond("captured", &[("p", false)]).unwrap_err().kind,
        DiagKind::Error
    );
}

#[test]
fn nested_cond_captures_an_outer_parameter() {
    let cases = [
        (true, true, [2.0, 4.0, 6.0]),
        (true, false, [2.0, 3.0, 4.0]),
        (false, true, [0.0, 1.0, 2.0]),
    ];
    for (p, q, expected) in cases {
        let result = run_cond("nested", &[("p", p), ("q", q)]).unwrap();
        assert_exact(&result, &f32t(&[3], &expected));
    }
    // The untaken outer branch does not need `q`: no feed, no error.
    let result = run_cond("nested", &[("p", false)]).unwrap();
    assert_exact(&result, &f32t(&[3], &[0.0, 1.0, 2.0]));
}

#[test]
fn fold_loops_over_axis_zero() {
    let w = [2.0, 0.5];
    for len in [0usize, 1, 5] {
        let values: Vec<f64> = (0..2 * len).map(|k| k as f64 + 1.0).collect();
        let source = format!(
            "placeholder xs: f64[{len}, 2];
             placeholder init: f64[2] = [1.0, -1.0];
             variable w: f64[2] = [2.0, 0.5];
             let f = fold(|acc, x| acc * w + x, init, xs);"
        );
        let mut acc = [1.0, -1.0];
        for t in 0..len {
            for j in 0..2 {
                acc[j] = acc[j] * w[j] + values[2 * t + j];
            }
        }
        let feeds = [("xs", f64t(&[len, 2], &values))];
        let result = run_source(&source, &["f"], &feeds).unwrap();
        assert_exact(&result.fetched[0], &f64t(&[2], &acc));
    }
}

#[test]
fn fold_of_scalars_with_cond_inside() {
    let source = "
        placeholder xs: i32[4] = [1, 2, 3, 4];
        let f = fold(|acc, x| cond(x > 2, acc + x, acc), 0, xs);
    ";
    assert_exact(
        &run_source(source, &["f"], &[]).unwrap().fetched[0],
        &i32t(&[], &[7]),
    );
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
