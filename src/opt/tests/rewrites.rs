//! Per-pass before/after snapshots of CSE and simplification, the pass
//! manager's printing and its internal errors (the builder and the other
//! passes' snapshots are in `tests.rs`).

use super::super::print::to_text;
use super::super::{count_nodes, cse, dce, simplify, Pass, PassManager};
use super::{after, f32s, lines, module, neg_or_identity, Builder};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, Tensor, TensorType, UnaryOp};

#[test]
fn cse_snapshot_merges_values_not_effects() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[4]));
    let e1 = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let e2 = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let s = b.op(Op::Binary(BinaryOp::Add), &[e1, e2]);
    let z1 = b.scalar(DType::F32, 0.0);
    let z2 = b.scalar(DType::F32, -0.0);
    let z3 = b.scalar(DType::F32, 0.0);
    let a = b.op(Op::Binary(BinaryOp::Add), &[s, z1]);
    let c = b.op(Op::Binary(BinaryOp::Add), &[s, z2]);
    let d = b.op(Op::Binary(BinaryOp::Add), &[s, z3]);
    let g1 = b.op(Op::Group, &[a]);
    let g2 = b.op(Op::Group, &[a]);
    let names = [
        ("x", x),
        ("a", a),
        ("c", c),
        ("d", d),
        ("g1", g1),
        ("g2", g2),
    ];
    let mut m = module(b.graph, &names);
    let text = after(&mut m, vec![Box::new(cse::Cse), Box::new(dce::Dce)]);
    let expected = "
%0 = placeholder x : f32[4]  // x
%1 = exp %0 : f32[4]
%2 = add %1, %1 : f32[4]
%3 = const f32[] 0.0
%4 = const f32[] -0.0
%5 = add %2, %3 : f32[4]  // a, d
%6 = add %2, %4 : f32[4]  // c
%7 = group %5 : bool[]  // g1
%8 = group %5 : bool[]  // g2
";
    assert_eq!(text, lines(expected));
}

#[test]
fn cse_merges_inside_regions_and_identical_conds() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[2]));
    let p = b.placeholder("p", TensorType::scalar(DType::Bool));
    let c1 = neg_or_identity(&mut b, p, x);
    let c2 = neg_or_identity(&mut b, p, x);
    let mut m = module(b.graph, &[("c1", c1), ("c2", c2)]);
    after(&mut m, vec![Box::new(cse::Cse), Box::new(dce::Dce)]);
    assert_eq!(m.names[0].1, m.names[1].1);
    assert_eq!(count_nodes(&m.graph), 2 + 1 + 2 + 1);
}

#[test]
fn simplify_snapshot() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[2, 3]));
    let one = b.scalar(DType::F32, 1.0);
    let m1 = b.op(Op::Binary(BinaryOp::Mul), &[x, one]);
    let n1 = b.op(Op::Unary(UnaryOp::Neg), &[m1]);
    let n2 = b.op(Op::Unary(UnaryOp::Neg), &[n1]);
    let t1 = b.op(Op::Transpose { perm: vec![1, 0] }, &[n2]);
    let t2 = b.op(Op::Transpose { perm: vec![1, 0] }, &[t1]);
    let r1 = b.shaped(Op::Reshape, t2, &[6]);
    let r2 = b.shaped(Op::Reshape, r1, &[3, 2]);
    let c = b.op(Op::Cast(DType::F32), &[r2]);
    let zero = b.scalar(DType::F32, 0.0);
    let s = b.op(Op::Binary(BinaryOp::Sub), &[c, zero]);
    let a = b.op(Op::Binary(BinaryOp::Add), &[s, zero]);
    let mut m = module(b.graph, &[("x", x), ("a", a)]);
    let text = after(
        &mut m,
        vec![Box::new(simplify::Simplify), Box::new(dce::Dce)],
    );
    // `x + 0.0` stays: it is not exact for x = -0.0.
    let expected = "
%0 = placeholder x : f32[2, 3]  // x
%1 = reshape %0 : f32[3, 2]
%2 = const f32[] 0.0
%3 = add %1, %2 : f32[3, 2]  // a
";
    assert_eq!(text, lines(expected));
}

#[test]
fn simplify_keeps_broadcasting_rules_and_composes_transposes() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[3]));
    let ones = b.constant(Tensor::full(&f32s(&[2, 3]), 1.0));
    // x * ones broadcasts to [2, 3]: replacing it by x would change the type.
    let y = b.op(Op::Binary(BinaryOp::Mul), &[x, ones]);
    let z = b.placeholder("z", f32s(&[2, 3, 4]));
    let transpose = |b: &mut Builder, perm: Vec<usize>, x| b.op(Op::Transpose { perm }, &[x]);
    let t1 = transpose(&mut b, vec![1, 2, 0], z);
    let t2 = transpose(&mut b, vec![2, 0, 1], t1);
    let t3 = transpose(&mut b, vec![1, 0, 2], t2);
    let t4 = transpose(&mut b, vec![0, 2, 1], t3);
    let mz = b.scalar(DType::F32, -0.0);
    let w = b.op(Op::Binary(BinaryOp::Add), &[mz, x]);
    let names = [("y", y), ("t2", t2), ("t4", t4), ("w", w)];
    let mut m = module(b.graph, &names);
    let mut manager = PassManager::default_pipeline();
    manager.verify = true;
    manager.run(&mut m).expect("optimises");
    let text = to_text(&m.graph, &m.names);
    // t2 = transpose(transpose(z)) composes to the identity: it is z itself.
    let t2 = m.lookup("t2").expect("t2");
    assert!(
        matches!(m.graph.node(t2).op, Op::Placeholder { .. }),
        "{text}"
    );
    // t4 composes three transposes into one.
    let t4 = m.lookup("t4").expect("t4");
    assert_eq!(
        m.graph.node(t4).op,
        Op::Transpose {
            perm: vec![1, 2, 0]
        }
    );
    assert_eq!(m.graph.node(t4).inputs, vec![t2]);
    assert_eq!(m.graph.ty(t4), &f32s(&[3, 4, 2]));
    assert!(text.contains("mul %0, %1 : f32[2, 3]  // y"), "{text}");
    assert_eq!(m.lookup("w"), Some(NodeId(0)));
}

#[test]
fn simplify_select_and_empty_fold() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[2]));
    let y = b.placeholder("y", f32s(&[2]));
    let t = b.constant(Tensor::full(&TensorType::new(DType::Bool, vec![2]), 1.0));
    let s = b.op(Op::Select, &[t, x, y]);
    let xs = b.placeholder("xs", f32s(&[0, 2]));
    let mut body = Builder::region(vec![f32s(&[2]), f32s(&[2])]);
    let (acc, item) = (body.param(0), body.param(1));
    let sum = body.op(Op::Binary(BinaryOp::Add), &[acc, item]);
    let body = Box::new(body.finish(sum));
    let f = b.op(Op::Fold { body }, &[y, xs]);
    let mut m = module(b.graph, &[("s", s), ("f", f)]);
    after(
        &mut m,
        vec![Box::new(simplify::Simplify), Box::new(dce::Dce)],
    );
    assert_eq!(m.lookup("s"), Some(NodeId(0)));
    assert_eq!(m.lookup("f"), Some(NodeId(1)));
    assert_eq!(count_nodes(&m.graph), 2);
}

#[test]
fn print_after_and_stats() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[2]));
    let e1 = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let e2 = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let s = b.op(Op::Binary(BinaryOp::Add), &[e1, e2]);
    let mut m = module(b.graph, &[("s", s)]);
    let mut manager = PassManager::default_pipeline();
    manager.print_after = Some("cse".into());
    let stats = manager.run(&mut m).expect("optimises");
    assert_eq!(stats.initial, 4);
    assert_eq!(stats.last(), 3);
    assert_eq!(stats.dumps.len(), 2);
    assert!(stats.dumps[0].1.contains("add %1, %1"));
    let text = stats.to_text();
    assert!(text.contains("cse"), "{text}");
    assert!(text.ends_with("total 4 -> 3 nodes\n"), "{text}");
    assert_eq!(
        manager.pass_names(),
        ["const-fold", "simplify", "cse", "dce"]
    );
}

#[test]
fn a_broken_pass_is_an_internal_error_naming_it() {
    struct Breaks;
    impl Pass for Breaks {
        fn name(&self) -> &'static str {
            "breaks"
        }
        fn run(&self, graph: &mut Graph) -> Result<bool, String> {
            if let Some(node) = graph.nodes.last_mut() {
                node.ty = TensorType::scalar(DType::I32);
            }
            Ok(true)
        }
    }
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[2]));
    let e = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let mut m = module(b.graph, &[("e", e)]);
    let mut manager = PassManager::new(vec![Box::new(Breaks)]);
    manager.verify = true;
    let diag = manager.run(&mut m).unwrap_err();
    assert_eq!(diag.kind, crate::diag::DiagKind::Internal);
    assert!(diag.message.contains("breaks"), "{}", diag.message);
    assert!(diag.message.contains("verifier"), "{}", diag.message);
}

/// A branch that recomputes an outer value captures it instead (cond.td's
/// `cond(max(x) > 2.0, max(x), min(x))`).
#[test]
fn cse_turns_recomputed_outer_values_into_captures() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[4]));
    let max = |axes: Vec<usize>| Op::Reduce {
        op: ReduceOp::Max,
        axes,
        keepdims: false,
    };
    let outer = b.op(max(vec![0]), &[x]);
    let two = b.scalar(DType::F32, 2.0);
    let pred = b.op(Op::Binary(BinaryOp::Gt), &[outer, two]);
    let mut then_b = Builder::region(vec![f32s(&[4])]);
    let p = then_b.param(0);
    let m = then_b.op(max(vec![0]), &[p]);
    let then_body = Box::new(then_b.finish(m));
    let mut else_b = Builder::region(vec![f32s(&[4])]);
    let p = else_b.param(0);
    let m = else_b.op(
        Op::Reduce {
            op: ReduceOp::Min,
            axes: vec![0],
            keepdims: false,
        },
        &[p],
    );
    let else_body = Box::new(else_b.finish(m));
    let c = b.op(
        Op::Cond {
            then_body,
            else_body,
        },
        &[pred, x],
    );
    let mut m = module(b.graph, &[("x", x), ("pick", c)]);
    let text = after(&mut m, vec![Box::new(cse::Cse), Box::new(dce::Dce)]);
    let expected = "
%0 = placeholder x : f32[4]  // x
%1 = reduce_max[axes=[0], keepdims=false] %0 : f32[]
%2 = const f32[] 2.0
%3 = gt %1, %2 : bool[]
%4 = cond %3, %0, %1 : f32[]  // pick
  then(f32[4], f32[]) {
    %0 = param 1 : f32[]
    yield %0
  }
  else(f32[4], f32[]) {
    %0 = param 0 : f32[4]
    %1 = reduce_min[axes=[0], keepdims=false] %0 : f32[]
    yield %1
  }
";
    assert_eq!(text, lines(expected));
}
