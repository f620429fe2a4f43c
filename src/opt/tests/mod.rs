//! Per-pass before/after snapshots and op-count checks, on graphs built by hand.

use super::print::to_text;
use super::{const_fold, count_nodes, dce, Pass, PassManager};
use crate::diag::Span;
use crate::ir::infer::{infer, infer_broadcast};
use crate::ir::{
    BinaryOp, DType, Graph, Module, NodeId, Op, PlaceholderDecl, Tensor, TensorType, UnaryOp,
};
use std::sync::Arc;

/// Builds a graph node by node, typing each with `ir::infer`.
pub(crate) struct Builder {
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
pub(crate) fn module(graph: Graph, names: &[(&str, NodeId)]) -> Module {
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
pub(crate) fn after(module: &mut Module, passes: Vec<Box<dyn Pass>>) -> String {
    let mut manager = PassManager::new(passes);
    manager.max_rounds = 1;
    manager.verify = true;
    manager.run(module).expect("passes succeed");
    to_text(&module.graph, &module.names)
}

pub(crate) fn f32s(dims: &[usize]) -> TensorType {
    TensorType::new(DType::F32, dims.to_vec())
}

pub(crate) fn lines(text: &str) -> String {
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
pub(super) fn neg_or_identity(b: &mut Builder, pred: NodeId, x: NodeId) -> NodeId {
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
    // `conv2d` folds (through `kernels::conv`, like the interpreter).
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

pub(crate) mod gen;
mod rewrites;
