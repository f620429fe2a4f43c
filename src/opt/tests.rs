//! Per-pass before/after snapshots and op-count checks, on graphs built by hand.

use super::print::to_text;
use super::{const_fold, count_nodes, cse, dce, simplify, Pass, PassManager};
use crate::ir::infer::{infer, infer_broadcast};
use crate::ir::{
    BinaryOp, DType, Graph, Module, NodeId, Op, PlaceholderDecl, ReduceOp, Tensor, TensorType,
    UnaryOp,
};
use crate::syntax::Span;
use std::sync::Arc;

/// Builds a graph node by node, typing each with `ir::infer`.
pub(super) struct Builder {
    pub graph: Graph,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            graph: Graph::new(),
        }
    }

    pub fn region(params: Vec<TensorType>) -> Builder {
        Builder {
            graph: Graph::region(params),
        }
    }

    pub fn leaf(&mut self, op: Op, ty: TensorType) -> NodeId {
        self.graph.add(op, vec![], ty, Span::default())
    }

    pub fn placeholder(&mut self, name: &str, ty: TensorType) -> NodeId {
        self.leaf(Op::Placeholder { name: name.into() }, ty)
    }

    pub fn param(&mut self, i: usize) -> NodeId {
        let ty = self.graph.params[i].clone();
        self.leaf(Op::Param(i), ty)
    }

    pub fn constant(&mut self, t: Tensor) -> NodeId {
        let ty = t.ty();
        self.leaf(Op::Const(Arc::new(t)), ty)
    }

    pub fn scalar(&mut self, dtype: DType, v: f64) -> NodeId {
        self.constant(Tensor::scalar(dtype, v))
    }

    /// A node typed by inference (`Reshape`/`Broadcast` need `shaped`).
    pub fn op(&mut self, op: Op, inputs: &[NodeId]) -> NodeId {
        let tys: Vec<&TensorType> = inputs.iter().map(|i| self.graph.ty(*i)).collect();
        let ty = infer(&op, &tys).expect("well-typed test graph");
        self.graph.add(op, inputs.to_vec(), ty, Span::default())
    }

    pub fn shaped(&mut self, op: Op, x: NodeId, dims: &[usize]) -> NodeId {
        let ty = TensorType::new(self.graph.ty(x).dtype, dims.to_vec());
        if matches!(op, Op::Broadcast) {
            assert_eq!(infer_broadcast(self.graph.ty(x), &ty.shape), Ok(ty.clone()));
        }
        self.graph.add(op, vec![x], ty, Span::default())
    }

    pub fn finish(mut self, result: NodeId) -> Graph {
        self.graph.results = vec![result];
        self.graph
    }
}

/// A module over `graph` naming `names`, with a declaration for each placeholder.
pub(super) fn module(graph: Graph, names: &[(&str, NodeId)]) -> Module {
    let placeholders = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            Op::Placeholder { name } => Some(PlaceholderDecl {
                name: name.clone(),
                ty: n.ty.clone(),
                default: None,
                span: Span::default(),
            }),
            _ => None,
        })
        .collect();
    Module {
        graph,
        placeholders,
        names: names.iter().map(|(n, id)| (n.to_string(), *id)).collect(),
        ..Module::default()
    }
}

/// Runs `passes` once each (verifying after each) and returns the printed graph.
pub(super) fn after(module: &mut Module, passes: Vec<Box<dyn Pass>>) -> String {
    let mut manager = PassManager::new(passes);
    manager.max_rounds = 1;
    manager.verify = true;
    manager.run(module).expect("passes succeed");
    to_text(&module.graph, &module.names)
}

pub(super) fn f32s(dims: &[usize]) -> TensorType {
    TensorType::new(DType::F32, dims.to_vec())
}

pub(super) fn lines(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn const_fold_snapshot() {
    let mut b = Builder::new();
    let two = b.scalar(DType::F32, 2.0);
    let three = b.scalar(DType::F32, 3.0);
    let six = b.op(Op::Binary(BinaryOp::Mul), &[two, three]);
    let x = b.placeholder("x", f32s(&[2]));
    let y = b.op(Op::Binary(BinaryOp::Add), &[x, six]);
    let mut m = module(b.graph, &[("x", x), ("y", y)]);
    let text = after(&mut m, vec![Box::new(const_fold::ConstFold)]);
    let expected = "
%0 = const f32[] 2.0
%1 = const f32[] 3.0
%2 = const f32[] 6.0
%3 = placeholder x : f32[2]  // x
%4 = add %3, %2 : f32[2]  // y
";
    assert_eq!(text, lines(expected));
}

/// A cond on `pred` over capture `x`: then = -x, else = x.
fn neg_or_identity(b: &mut Builder, pred: NodeId, x: NodeId) -> NodeId {
    let ty = b.graph.ty(x).clone();
    let mut then_b = Builder::region(vec![ty.clone()]);
    let p = then_b.param(0);
    let n = then_b.op(Op::Unary(UnaryOp::Neg), &[p]);
    let then_body = Box::new(then_b.finish(n));
    let mut else_b = Builder::region(vec![ty]);
    let p = else_b.param(0);
    let else_body = Box::new(else_b.finish(p));
    b.op(
        Op::Cond {
            then_body,
            else_body,
        },
        &[pred, x],
    )
}

#[test]
fn const_fold_inlines_the_taken_branch() {
    for (taken, expected) in [
        (
            true,
            "
%0 = placeholder x : f32[3]  // x
%1 = const bool[] true
%2 = neg %0 : f32[3]  // y
",
        ),
        (
            false,
            "
%0 = placeholder x : f32[3]  // x, y
%1 = const bool[] false
",
        ),
    ] {
        let mut b = Builder::new();
        let x = b.placeholder("x", f32s(&[3]));
        let pred = b.constant(Tensor::scalar(DType::Bool, if taken { 1.0 } else { 0.0 }));
        let y = neg_or_identity(&mut b, pred, x);
        let mut m = module(b.graph, &[("x", x), ("y", y)]);
        let text = after(&mut m, vec![Box::new(const_fold::ConstFold)]);
        assert_eq!(text, lines(expected));
    }
}

#[test]
fn const_fold_respects_the_size_cap_and_leaves_runtime_errors() {
    let mut b = Builder::new();
    let one = b.scalar(DType::F32, 1.0);
    let big = b.shaped(Op::Broadcast, one, &[const_fold::MAX_FOLD_ELEMENTS + 1]);
    let small = b.shaped(Op::Broadcast, one, &[2, 2]);
    // `conv2d` folds (through `ir::kernels::conv`, like the interpreter).
    let image = b.shaped(Op::Broadcast, one, &[1, 2, 2, 1]);
    let filter = b.shaped(Op::Broadcast, one, &[1, 1, 1, 1]);
    let conv = b.op(
        Op::Conv2d {
            strides: [1, 1],
            pads: [0; 4],
        },
        &[image, filter],
    );
    // An index out of range stays: it is the user's run-time error.
    let i = b.scalar(DType::I32, 2.0);
    let row = b.op(Op::Index, &[small, i]);
    let names = [("big", big), ("conv", conv), ("row", row)];
    let mut m = module(b.graph, &names);
    after(&mut m, vec![Box::new(const_fold::ConstFold)]);
    let ops: Vec<String> = m.graph.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(
        ops,
        [
            "const",
            "broadcast",
            "const",
            "const",
            "const",
            "const",
            "const",
            "index"
        ]
    );
}

#[test]
fn dce_snapshot_prunes_regions_and_captures() {
    let mut b = Builder::new();
    let x = b.placeholder("x", f32s(&[4]));
    let p = b.placeholder("p", TensorType::scalar(DType::Bool));
    let unused = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    // Both branches capture (x, unused) but only use x; the else branch has a dead node.
    let ty = f32s(&[4]);
    let mut then_b = Builder::region(vec![ty.clone(), ty.clone()]);
    let p0 = then_b.param(0);
    let then_body = Box::new(then_b.finish(p0));
    let mut else_b = Builder::region(vec![ty.clone(), ty]);
    let p0 = else_b.param(0);
    let p1 = else_b.param(1);
    let _dead = else_b.op(Op::Unary(UnaryOp::Exp), &[p1]);
    let n = else_b.op(Op::Unary(UnaryOp::Neg), &[p0]);
    let else_body = Box::new(else_b.finish(n));
    let c = b.op(
        Op::Cond {
            then_body,
            else_body,
        },
        &[p, x, unused],
    );
    let mut m = module(b.graph, &[("x", x), ("p", p), ("c", c)]);
    let before = count_nodes(&m.graph);
    let text = after(&mut m, vec![Box::new(dce::Dce)]);
    let expected = "
%0 = placeholder x : f32[4]  // x
%1 = placeholder p : bool[]  // p
%2 = cond %1, %0 : f32[4]  // c
  then(f32[4]) {
    %0 = param 0 : f32[4]
    yield %0
  }
  else(f32[4]) {
    %0 = param 0 : f32[4]
    %1 = neg %0 : f32[4]
    yield %1
  }
";
    assert_eq!(text, lines(expected));
    assert_eq!((before, count_nodes(&m.graph)), (9, 6));
}

#[test]
fn dce_keeps_fold_params_and_removes_unnamed_effects() {
    let mut b = Builder::new();
    let xs = b.placeholder("xs", f32s(&[3, 2]));
    let init = b.placeholder("init", f32s(&[2]));
    let w = b.placeholder("w", f32s(&[2]));
    // body(acc, x, w) = acc (x and w unused: x stays, w goes).
    let mut body = Builder::region(vec![f32s(&[2]), f32s(&[2]), f32s(&[2])]);
    let acc = body.param(0);
    let body = Box::new(body.finish(acc));
    let f = b.op(Op::Fold { body }, &[init, xs, w]);
    let _unnamed_group = b.op(Op::Group, &[f]);
    let mut m = module(b.graph, &[("xs", xs), ("init", init), ("f", f)]);
    let text = after(&mut m, vec![Box::new(dce::Dce)]);
    let expected = "
%0 = placeholder xs : f32[3, 2]  // xs
%1 = placeholder init : f32[2]  // init
%2 = fold %1, %0 : f32[2]  // f
  body(f32[2], f32[2]) {
    %0 = param 0 : f32[2]
    yield %0
  }
";
    assert_eq!(text, lines(expected));
}

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
    let t1 = b.op(
        Op::Transpose {
            perm: vec![1, 2, 0],
        },
        &[z],
    );
    let t2 = b.op(
        Op::Transpose {
            perm: vec![2, 0, 1],
        },
        &[t1],
    );
    let t3 = b.op(
        Op::Transpose {
            perm: vec![1, 0, 2],
        },
        &[t2],
    );
    let t4 = b.op(
        Op::Transpose {
            perm: vec![0, 2, 1],
        },
        &[t3],
    );
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
    assert_eq!(diag.kind, crate::syntax::diag::DiagKind::Internal);
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
