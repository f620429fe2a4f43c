//! A small builder of graphs with `cond` and `fold` regions for the tests of
//! [`super::control`] (types inferred as the IR builder would).

use crate::checks::autodiff::util::{span, Values};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, Tensor, TensorType, UnaryOp};
use std::sync::Arc;

pub(super) fn f32_ty(dims: &[usize]) -> TensorType {
    TensorType::new(DType::F32, dims.to_vec())
}

pub(super) fn f32_values(dims: &[usize], seed: u64) -> Tensor {
    let t = Values::new(seed).tensor(dims, -1.0, 1.0);
    Tensor::from_f64_vec(&f32_ty(dims), t.to_f64_vec()).expect("shape")
}

pub(super) fn flag(value: bool) -> Tensor {
    Tensor::scalar(DType::Bool, if value { 1.0 } else { 0.0 })
}

/// A small graph builder (types inferred; binary ops broadcast).
pub(super) struct Emit<'g>(pub(super) &'g mut Graph);

impl Emit<'_> {
    pub(super) fn add(&mut self, op: Op, inputs: Vec<NodeId>, ty: TensorType) -> NodeId {
        self.0.add(op, inputs, ty, span())
    }

    pub(super) fn binary(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> NodeId {
        let (ta, tb) = (self.0.ty(a).clone(), self.0.ty(b).clone());
        let (da, db) = (ta.shape.dims(), tb.shape.dims());
        let dims = crate::ir::infer::broadcast_dims(da, db).expect("broadcastable");
        self.add(Op::Binary(op), vec![a, b], TensorType::new(ta.dtype, dims))
    }

    pub(super) fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.binary(BinaryOp::Mul, a, b)
    }

    pub(super) fn add2(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.binary(BinaryOp::Add, a, b)
    }

    pub(super) fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.binary(BinaryOp::Sub, a, b)
    }

    pub(super) fn scale(&mut self, x: NodeId, value: f64) -> NodeId {
        let dtype = self.0.ty(x).dtype;
        let c = Tensor::scalar(dtype, value);
        let c = self.add(Op::Const(Arc::new(c)), vec![], TensorType::scalar(dtype));
        self.mul(x, c)
    }

    pub(super) fn unary(&mut self, op: UnaryOp, x: NodeId) -> NodeId {
        let ty = self.0.ty(x).clone();
        self.add(Op::Unary(op), vec![x], ty)
    }

    pub(super) fn sum(&mut self, x: NodeId, axis: usize) -> NodeId {
        let ty = self.0.ty(x).clone();
        let mut dims = ty.shape.dims().to_vec();
        dims.remove(axis);
        let op = Op::Reduce {
            op: ReduceOp::Sum,
            axes: vec![axis],
            keepdims: false,
        };
        self.add(op, vec![x], TensorType::new(ty.dtype, dims))
    }

    pub(super) fn matmul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let (ta, tb) = (self.0.ty(a).clone(), self.0.ty(b).clone());
        let dims = vec![ta.shape.dims()[0], tb.shape.dims()[1]];
        self.add(Op::MatMul, vec![a, b], TensorType::new(ta.dtype, dims))
    }
}

/// A region with params of `types`, its result built by `build` from them.
pub(super) fn region(
    types: &[TensorType],
    build: impl Fn(&mut Emit, &[NodeId]) -> NodeId,
) -> Graph {
    let mut graph = Graph::region(types.to_vec());
    let mut e = Emit(&mut graph);
    let params: Vec<NodeId> = (0..types.len())
        .map(|i| e.add(Op::Param(i), vec![], types[i].clone()))
        .collect();
    let result = build(&mut e, &params);
    graph.results = vec![result];
    graph
}

pub(super) fn cond(
    g: &mut Graph,
    pred: NodeId,
    captures: &[NodeId],
    then_body: Graph,
    else_body: Graph,
) -> NodeId {
    let ty = then_body.ty(then_body.results[0]).clone();
    let op = Op::Cond {
        then_body: Box::new(then_body),
        else_body: Box::new(else_body),
    };
    let mut inputs = vec![pred];
    inputs.extend_from_slice(captures);
    g.add(op, inputs, ty, span())
}

pub(super) fn fold(
    g: &mut Graph,
    init: NodeId,
    xs: NodeId,
    captures: &[NodeId],
    body: Graph,
) -> NodeId {
    let ty = g.ty(init).clone();
    let mut inputs = vec![init, xs];
    inputs.extend_from_slice(captures);
    g.add(
        Op::Fold {
            body: Box::new(body),
        },
        inputs,
        ty,
        span(),
    )
}
