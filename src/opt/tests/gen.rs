//! The random graph generator of the optimiser's property test
//! (`checks/opt/prop.rs`) and the JIT's (`checks/jit/prop.rs`).
//!
//! A graph is grown from a seed: placeholders and constants (including the
//! `1`, `0`, `-0.0` and `true`/`false` the rules look for), then random
//! elementwise ops with broadcasting, reductions, matmul, reshape, transpose,
//! casts, broadcasts, `where`, duplicated nodes (for CSE), `cond` (constant or
//! computed predicate) and `fold`, with `cond`s nested inside regions. Random
//! nodes are named (the tests fetch every name).

use super::{module, Builder};
use crate::ir::infer::broadcast_shapes;
use crate::ir::init::Rng;
use crate::ir::{BinaryOp, DType, Module, NodeId, Op, ReduceOp, Tensor, TensorType, UnaryOp};
use std::collections::HashMap;

fn f32s(dims: &[usize]) -> TensorType {
    TensorType::new(DType::F32, dims.to_vec())
}

struct Gen {
    rng: Rng,
    b: Builder,
    /// Float nodes that ops may use.
    pool: Vec<NodeId>,
    feeds: HashMap<String, Tensor>,
}

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }

    fn pick(&mut self) -> NodeId {
        let i = self.below(self.pool.len());
        self.pool[i]
    }

    fn pick_where(&mut self, ok: impl Fn(&TensorType) -> bool) -> Option<NodeId> {
        let candidates: Vec<NodeId> = self
            .pool
            .iter()
            .copied()
            .filter(|id| ok(self.b.graph.ty(*id)))
            .collect();
        (!candidates.is_empty()).then(|| candidates[self.below(candidates.len())])
    }

    fn values(&mut self, ty: &TensorType) -> Tensor {
        let n = ty.shape.numel();
        let values = (0..n).map(|_| self.rng.uniform() * 4.0 - 2.0).collect();
        Tensor::from_f64_vec(ty, values).expect("shape")
    }

    fn ty(&self, id: NodeId) -> TensorType {
        self.b.graph.ty(id).clone()
    }

    fn push(&mut self, id: NodeId) -> NodeId {
        self.pool.push(id);
        id
    }

    fn leaves(&mut self) {
        for (name, dims) in [
            ("a", vec![2, 3]),
            ("b", vec![3]),
            ("c", vec![3, 2]),
            ("s", vec![]),
        ] {
            let ty = f32s(&dims);
            let id = self.b.placeholder(name, ty.clone());
            let value = self.values(&ty);
            self.feeds.insert(name.into(), value);
            self.push(id);
        }
        for v in [1.0, 0.0, -0.0, 2.0] {
            let id = self.b.scalar(DType::F32, v);
            self.push(id);
        }
        for dims in [vec![3], vec![2, 3]] {
            let t = self.values(&f32s(&dims));
            let id = self.b.constant(t);
            self.push(id);
        }
        let ones = self.b.constant(Tensor::full(&f32s(&[3]), 1.0));
        self.push(ones);
    }

    fn unary(&mut self) -> Option<NodeId> {
        let ops = [
            UnaryOp::Neg,
            UnaryOp::Tanh,
            UnaryOp::Abs,
            UnaryOp::Relu,
            UnaryOp::Sigmoid,
            UnaryOp::Sin,
        ];
        let op = ops[self.below(ops.len())];
        let x = self.pick();
        Some(self.b.op(Op::Unary(op), &[x]))
    }

    fn binary(&mut self) -> Option<NodeId> {
        let ops = [
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Maximum,
            BinaryOp::Minimum,
        ];
        let op = ops[self.below(ops.len())];
        let x = self.pick();
        let xs = self.ty(x).shape;
        let y = self.pick_where(|t| broadcast_shapes(&xs, &t.shape).is_some())?;
        let (x, y) = if self.below(2) == 0 { (x, y) } else { (y, x) };
        Some(self.b.op(Op::Binary(op), &[x, y]))
    }

    fn reduce(&mut self) -> Option<NodeId> {
        let x = self.pick_where(|t| t.shape.rank() > 0)?;
        let rank = self.ty(x).shape.rank();
        let axes: Vec<usize> = (0..rank).filter(|_| self.below(2) == 0).collect();
        let ops = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];
        let op = ops[self.below(4)];
        let keepdims = self.below(2) == 0;
        Some(self.b.op(Op::Reduce { op, axes, keepdims }, &[x]))
    }

    fn matmul(&mut self) -> Option<NodeId> {
        let x = self.pick_where(|t| t.shape.rank() == 2)?;
        let k = self.ty(x).shape.0[1];
        let y = self.pick_where(|t| t.shape.rank() == 2 && t.shape.0[0] == k)?;
        Some(self.b.op(Op::MatMul, &[x, y]))
    }

    fn movement(&mut self) -> Option<NodeId> {
        let x = self.pick_where(|t| t.shape.rank() > 0)?;
        let ty = self.ty(x);
        match self.below(3) {
            0 => Some(self.b.shaped(Op::Reshape, x, &[ty.shape.numel()])),
            1 if ty.shape.rank() == 1 && ty.shape.0[0] == 6 => {
                Some(self.b.shaped(Op::Reshape, x, &[2, 3]))
            }
            _ => {
                let perm: Vec<usize> = (0..ty.shape.rank()).rev().collect();
                Some(self.b.op(Op::Transpose { perm }, &[x]))
            }
        }
    }

    fn cast_or_broadcast(&mut self) -> Option<NodeId> {
        match self.below(3) {
            0 => {
                let x = self.pick();
                let wide = self.b.op(Op::Cast(DType::F64), &[x]);
                Some(self.b.op(Op::Cast(DType::F32), &[wide]))
            }
            1 => {
                let x = self.pick();
                Some(self.b.op(Op::Cast(DType::F32), &[x]))
            }
            _ => {
                let x = self.pick_where(|t| t.shape.rank() == 0)?;
                Some(self.b.shaped(Op::Broadcast, x, &[2, 3]))
            }
        }
    }

    fn select(&mut self) -> Option<NodeId> {
        let c = self.predicate();
        let x = self.pick();
        let xs = self.ty(x).shape;
        let y = self.pick_where(|t| t.shape == xs)?;
        Some(self.b.op(Op::Select, &[c, x, y]))
    }

    /// A `bool[]`: a constant, or `sum(x) > 0`.
    fn predicate(&mut self) -> NodeId {
        match self.below(3) {
            0 => self.b.constant(Tensor::scalar(DType::Bool, 1.0)),
            1 => self.b.constant(Tensor::scalar(DType::Bool, 0.0)),
            _ => {
                let x = self.pick();
                let rank = self.ty(x).shape.rank();
                let total = self.b.op(
                    Op::Reduce {
                        op: ReduceOp::Sum,
                        axes: (0..rank).collect(),
                        keepdims: false,
                    },
                    &[x],
                );
                let zero = self.b.scalar(DType::F32, 0.0);
                self.b.op(Op::Binary(BinaryOp::Gt), &[total, zero])
            }
        }
    }

    /// A region over params `tys` computing a value of `tys[0]`'s type from
    /// its params (param 0 combined with the others that broadcast into it).
    fn region_body(&mut self, tys: &[TensorType]) -> crate::ir::Graph {
        let mut r = Builder::region(tys.to_vec());
        let mut acc = r.param(0);
        for k in 1..tys.len() {
            let fits =
                broadcast_shapes(&tys[0].shape, &tys[k].shape).as_ref() == Some(&tys[0].shape);
            if fits && self.below(3) > 0 {
                let mut p = r.param(k);
                if self.below(2) == 0 {
                    // The outer graph has `tanh(capture)` too (see `cond`, `fold`):
                    // CSE may turn this into a capture of it.
                    p = r.op(Op::Unary(UnaryOp::Tanh), &[p]);
                }
                let ops = [BinaryOp::Add, BinaryOp::Mul, BinaryOp::Maximum];
                acc = r.op(Op::Binary(ops[self.below(3)]), &[acc, p]);
            }
        }
        match self.below(4) {
            0 => {
                let one = r.scalar(DType::F32, 1.0);
                acc = r.op(Op::Binary(BinaryOp::Mul), &[acc, one]);
            }
            1 => acc = r.op(Op::Unary(UnaryOp::Tanh), &[acc]),
            2 => {
                let n = r.op(Op::Unary(UnaryOp::Neg), &[acc]);
                acc = r.op(Op::Unary(UnaryOp::Neg), &[n]);
            }
            _ => {}
        }
        if self.below(3) == 0 {
            acc = self.nested_cond(&mut r, acc);
        }
        r.finish(acc)
    }

    /// Inside region `r`: `cond(pred, -acc, p0 * 1)` over captures `(acc, p0)`, with
    /// a constant predicate or one computed from `acc` (regions in regions).
    fn nested_cond(&mut self, r: &mut Builder, acc: NodeId) -> NodeId {
        let ty = r.graph.ty(acc).clone();
        let p0 = r.param(0);
        let pred = match self.below(3) {
            0 => r.constant(Tensor::scalar(DType::Bool, 1.0)),
            1 => r.constant(Tensor::scalar(DType::Bool, 0.0)),
            _ => {
                let rank = ty.shape.rank();
                let total = r.op(
                    Op::Reduce {
                        op: ReduceOp::Max,
                        axes: (0..rank).collect(),
                        keepdims: false,
                    },
                    &[acc],
                );
                let zero = r.scalar(DType::F32, 0.0);
                r.op(Op::Binary(BinaryOp::Lt), &[total, zero])
            }
        };
        let mut then_b = Builder::region(vec![ty.clone(), ty.clone()]);
        let a = then_b.param(0);
        let n = then_b.op(Op::Unary(UnaryOp::Neg), &[a]);
        let then_body = Box::new(then_b.finish(n));
        let mut else_b = Builder::region(vec![ty.clone(), ty]);
        let q = else_b.param(1);
        let one = else_b.scalar(DType::F32, 1.0);
        let m = else_b.op(Op::Binary(BinaryOp::Mul), &[q, one]);
        let else_body = Box::new(else_b.finish(m));
        r.op(
            Op::Cond {
                then_body,
                else_body,
            },
            &[pred, acc, p0],
        )
    }

    fn cond(&mut self) -> Option<NodeId> {
        let pred = self.predicate();
        let x = self.pick();
        let y = self.pick();
        let outer = self.b.op(Op::Unary(UnaryOp::Tanh), &[y]);
        self.push(outer);
        let tys = vec![self.ty(x), self.ty(y)];
        let then_body = Box::new(self.region_body(&tys));
        let else_body = Box::new(self.region_body(&tys));
        Some(self.b.op(
            Op::Cond {
                then_body,
                else_body,
            },
            &[pred, x, y],
        ))
    }

    fn fold(&mut self) -> Option<NodeId> {
        let xs = self.pick_where(|t| t.shape.rank() > 0)?;
        let row = TensorType::new(DType::F32, self.ty(xs).shape.0[1..].to_vec());
        let init = self.pick_where(|t| *t == row)?;
        let w = self.pick();
        let outer = self.b.op(Op::Unary(UnaryOp::Tanh), &[w]);
        self.push(outer);
        let tys = vec![row.clone(), row, self.ty(w)];
        let body = Box::new(self.region_body(&tys));
        Some(self.b.op(Op::Fold { body }, &[init, xs, w]))
    }

    fn duplicate(&mut self) -> Option<NodeId> {
        let x = self.pick();
        let node = self.b.graph.node(x).clone();
        if node.inputs.is_empty() {
            return None;
        }
        Some(self.b.graph.add(node.op, node.inputs, node.ty, node.span))
    }

    fn step(&mut self) -> Option<NodeId> {
        match self.below(11) {
            0 | 1 => self.unary(),
            2 | 3 => self.binary(),
            4 => self.reduce(),
            5 => self.matmul(),
            6 => self.movement(),
            7 => self.cast_or_broadcast(),
            8 => self.select().or_else(|| self.cond()),
            9 => self.cond().or_else(|| self.fold()),
            _ => self.fold().or_else(|| self.duplicate()),
        }
    }
}

/// A random module and its feeds (also used by the JIT's property test,
/// `checks/jit/prop.rs`).
pub(crate) fn random_module(seed: u64, steps: usize) -> (Module, HashMap<String, Tensor>) {
    let mut g = Gen {
        rng: Rng::new(seed),
        b: Builder::new(),
        pool: Vec::new(),
        feeds: HashMap::new(),
    };
    g.leaves();
    let mut names = Vec::new();
    for i in 0..steps {
        if let Some(id) = g.step() {
            g.push(id);
            if g.below(3) == 0 || i + 1 == steps {
                names.push((format!("n{i}"), id));
            }
        }
    }
    if names.is_empty() {
        names.push(("a".to_string(), NodeId(0)));
    }
    let named: Vec<(&str, NodeId)> = names.iter().map(|(n, id)| (n.as_str(), *id)).collect();
    (module(g.b.graph, &named), g.feeds)
}
