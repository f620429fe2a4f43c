//! Step semantics: feeds, variables, `assign`, `group`, laziness, memo.

use super::*;
use crate::diag::DiagKind;
use crate::ir::BinaryOp;

fn variable(g: &mut Graph, name: &str, dims: &[usize]) -> NodeId {
    let op = Op::Variable { name: name.into() };
    add(g, op, &[], ty(DType::F32, dims))
}

fn scaled(g: &mut Graph, x: NodeId, k: f32, op: BinaryOp) -> NodeId {
    let c = konst(g, f32t(&[], &[k]));
    let out = g.ty(x).clone();
    binary(g, op, x, c, out)
}

#[test]
fn assigns_read_the_start_of_step_value() {
    // `train` lists its assigns out of graph order on purpose: updates come
    // back in graph order.
    let source = "
        variable v: f32[2] = [1.0, 2.0];
        variable u: f32[2] = 0.0;
        let set_v = assign(v, v + 1.0);
        let set_u = assign(u, v * 10.0);
        let train = group(set_u, set_v);
    ";
    let result = run_source(source, &["train", "v", "u", "set_v"], &[]).unwrap();
    assert_exact(&result.fetched[0], &boolt(&[], &[false]));
    assert_exact(&result.fetched[1], &f32t(&[2], &[1.0, 2.0]));
    assert_exact(&result.fetched[2], &f32t(&[2], &[0.0, 0.0]));
    assert_exact(&result.fetched[3], &f32t(&[2], &[2.0, 3.0]));
    let names: Vec<&str> = result.updates.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["v", "u"]);
    assert_exact(&result.updates[0].1, &f32t(&[2], &[2.0, 3.0]));
    assert_exact(&result.updates[1].1, &f32t(&[2], &[10.0, 20.0]));
}

#[test]
fn only_fetched_assigns_run() {
    let source = "
        variable v: f32[] = 3.0;
        let v2 = v * 2.0;
        let unfetched = assign(v, v2);
    ";
    let result = run_source(source, &["v2"], &[]).unwrap();
    assert_exact(&result.fetched[0], &f32t(&[], &[6.0]));
    assert!(result.updates.is_empty());
}

#[test]
fn repeated_fetches_compute_once() {
    let source = "
        variable v: f32[] = 1.0;
        let set = assign(v, v);
        let both = group(set, set);
    ";
    let result = run_source(source, &["set", "both", "set"], &[]).unwrap();
    assert_eq!(result.fetched.len(), 3);
    assert_eq!(result.updates.len(), 1);
}

#[test]
fn placeholders_are_fed_and_missing_inputs_are_internal_errors() {
    let mut g = Graph::new();
    let x = placeholder(&mut g, "x", ty(DType::F32, &[2]));
    let y = scaled(&mut g, x, 3.0, BinaryOp::Mul);
    let result = run_with(&g, &[y], &[("x", f32t(&[2], &[1.0, 2.0]))], &[]).unwrap();
    assert_exact(&result.fetched[0], &f32t(&[2], &[3.0, 6.0]));
    assert_eq!(run_err(&g, y).kind, DiagKind::Internal);
    // A feed of the wrong shape is caught, not trusted.
    let err = run_with(&g, &[y], &[("x", f32t(&[3], &[1.0, 2.0, 3.0]))], &[]).unwrap_err();
    assert_eq!(err.kind, DiagKind::Internal);
    let v = variable(&mut g, "v", &[]);
    assert_eq!(run_err(&g, v).kind, DiagKind::Internal);
}

#[test]
fn only_what_the_fetches_need_is_computed() {
    let mut g = Graph::new();
    let x = konst(&mut g, f32t(&[2], &[1.0, 2.0]));
    let i = konst(&mut g, i32t(&[], &[5]));
    let bad = add(&mut g, Op::Index, &[x, i], ty(DType::F32, &[]));
    let fine = scaled(&mut g, x, 1.0, BinaryOp::Add);
    assert_exact(&run1(&g, fine), &f32t(&[2], &[2.0, 3.0]));
    assert_eq!(run_err(&g, bad).kind, DiagKind::Error);
    // A fetch outside the graph is an internal error, not a panic.
    assert_eq!(run_err(&g, NodeId(99)).kind, DiagKind::Internal);
}

#[test]
fn deep_chains_do_not_overflow_the_stack() {
    let mut g = Graph::new();
    let mut x = konst(&mut g, f64t(&[], &[0.0]));
    let one = konst(&mut g, f64t(&[], &[1.0]));
    for _ in 0..200_000 {
        x = binary(&mut g, BinaryOp::Add, x, one, ty(DType::F64, &[]));
    }
    assert_exact(&run1(&g, x), &f64t(&[], &[200_000.0]));
}

#[test]
fn pure_eval_is_usable_without_a_step() {
    let mut g = Graph::new();
    let a = konst(&mut g, i32t(&[2], &[1, 2]));
    let y = binary(&mut g, BinaryOp::Mul, a, a, ty(DType::I32, &[2]));
    let x = i32t(&[2], &[3, 4]);
    let got = crate::kernels::eval::eval_pure(g.node(y), &[&x, &x]).unwrap();
    assert_exact(&got, &i32t(&[2], &[9, 16]));
    let v = variable(&mut g, "v", &[]);
    assert!(crate::kernels::eval::eval_pure(g.node(v), &[]).is_err());
}
