//! Emitting typed backward nodes: a small builder over a `Graph` that computes
//! each new node's type itself (autodiff runs after inference) and gives every
//! node the span of the forward node being differentiated.
//!
//! A shape mismatch here is a bug in a rule, reported as an internal error.

use crate::diag::{Diag, Span};
use crate::ir::infer::broadcast_dims as broadcast_shapes;
use crate::ir::{
    BinaryOp, DType, GradOp, Graph, NodeId, Op, ReduceOp, Shape, Tensor, TensorType, UnaryOp,
};
use std::sync::Arc;

pub(crate) struct Emit<'g> {
    pub(crate) graph: &'g mut Graph,
    pub(crate) span: Span,
}

impl<'g> Emit<'g> {
    pub(crate) fn new(graph: &'g mut Graph, span: Span) -> Emit<'g> {
        Emit { graph, span }
    }

    pub(crate) fn ty(&self, id: NodeId) -> TensorType {
        self.graph.ty(id).clone()
    }

    pub(crate) fn dims(&self, id: NodeId) -> Vec<usize> {
        self.graph.ty(id).shape.0.clone()
    }

    pub(crate) fn dtype(&self, id: NodeId) -> DType {
        self.graph.ty(id).dtype
    }

    /// An internal error of autodiff at the current span.
    pub(crate) fn bug(&self, message: impl Into<String>) -> Diag {
        Diag::internal("autodiff", message, Some(self.span))
    }

    pub(crate) fn add(&mut self, op: Op, inputs: Vec<NodeId>, ty: TensorType) -> NodeId {
        self.graph.add(op, inputs, ty, self.span)
    }

    pub(crate) fn constant(&mut self, tensor: Tensor) -> NodeId {
        let ty = tensor.ty();
        self.add(Op::Const(Arc::new(tensor)), vec![], ty)
    }

    pub(crate) fn scalar(&mut self, dtype: DType, value: f64) -> NodeId {
        self.constant(Tensor::scalar(dtype, value))
    }

    /// Zeros of `ty`: a scalar constant broadcast to the shape.
    pub(crate) fn zeros(&mut self, ty: &TensorType) -> NodeId {
        let zero = self.scalar(ty.dtype, 0.0);
        if ty.shape.rank() == 0 {
            zero
        } else {
            self.add(Op::Broadcast, vec![zero], ty.clone())
        }
    }

    pub(crate) fn unary(&mut self, op: UnaryOp, x: NodeId) -> NodeId {
        let ty = self.ty(x);
        self.add(Op::Unary(op), vec![x], ty)
    }

    pub(crate) fn binary(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> Result<NodeId, Diag> {
        let (ta, tb) = (self.ty(a), self.ty(b));
        let dims = broadcast_shapes(ta.shape.dims(), tb.shape.dims())
            .ok_or_else(|| self.bug(format!("{op:?}: cannot broadcast {ta} and {tb}")))?;
        let dtype = if op.is_comparison() {
            DType::Bool
        } else {
            ta.dtype
        };
        Ok(self.add(Op::Binary(op), vec![a, b], TensorType::new(dtype, dims)))
    }

    pub(crate) fn add2(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, Diag> {
        self.binary(BinaryOp::Add, a, b)
    }

    pub(crate) fn sub(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, Diag> {
        self.binary(BinaryOp::Sub, a, b)
    }

    pub(crate) fn mul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, Diag> {
        self.binary(BinaryOp::Mul, a, b)
    }

    pub(crate) fn div(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, Diag> {
        self.binary(BinaryOp::Div, a, b)
    }

    pub(crate) fn neg(&mut self, x: NodeId) -> NodeId {
        self.unary(UnaryOp::Neg, x)
    }

    /// `x * value` with `value` a scalar of x's dtype.
    pub(crate) fn scale(&mut self, x: NodeId, value: f64) -> Result<NodeId, Diag> {
        let c = self.scalar(self.dtype(x), value);
        self.mul(x, c)
    }

    /// `where(c, a, b)`, broadcasting the three.
    pub(crate) fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> Result<NodeId, Diag> {
        let dims = broadcast_shapes(&self.dims(c), &self.dims(a))
            .and_then(|d| broadcast_shapes(&d, &self.dims(b)))
            .ok_or_else(|| self.bug("where: the operands do not broadcast"))?;
        let dtype = self.dtype(a);
        Ok(self.add(Op::Select, vec![c, a, b], TensorType::new(dtype, dims)))
    }

    pub(crate) fn cast(&mut self, x: NodeId, dtype: DType) -> NodeId {
        if self.dtype(x) == dtype {
            return x;
        }
        let dims = self.dims(x);
        self.add(Op::Cast(dtype), vec![x], TensorType::new(dtype, dims))
    }

    pub(crate) fn reshape(&mut self, x: NodeId, dims: &[usize]) -> Result<NodeId, Diag> {
        let ty = self.ty(x);
        if ty.shape.dims() == dims {
            return Ok(x);
        }
        if ty.shape.numel() != Shape(dims.to_vec()).numel() {
            return Err(self.bug(format!("reshape {ty} to {dims:?}")));
        }
        Ok(self.add(
            Op::Reshape,
            vec![x],
            TensorType::new(ty.dtype, dims.to_vec()),
        ))
    }

    /// Flattens to one axis.
    pub(crate) fn flat(&mut self, x: NodeId) -> Result<NodeId, Diag> {
        let n = self.graph.ty(x).shape.numel();
        self.reshape(x, &[n])
    }

    pub(crate) fn broadcast_to(&mut self, x: NodeId, dims: &[usize]) -> Result<NodeId, Diag> {
        let ty = self.ty(x);
        if ty.shape.dims() == dims {
            return Ok(x);
        }
        if broadcast_shapes(ty.shape.dims(), dims).as_deref() != Some(dims) {
            return Err(self.bug(format!("broadcast {ty} to {dims:?}")));
        }
        Ok(self.add(
            Op::Broadcast,
            vec![x],
            TensorType::new(ty.dtype, dims.to_vec()),
        ))
    }

    /// `sum(x, axes, keepdims)`; `axes` sorted and distinct.
    pub(crate) fn reduce(
        &mut self,
        op: ReduceOp,
        x: NodeId,
        axes: &[usize],
        keepdims: bool,
    ) -> Result<NodeId, Diag> {
        let ty = self.ty(x);
        if axes.iter().any(|&a| a >= ty.shape.rank()) {
            return Err(self.bug(format!("reduce {ty} over {axes:?}")));
        }
        let dims: Vec<usize> = ty
            .shape
            .dims()
            .iter()
            .enumerate()
            .filter_map(|(k, &d)| match (axes.contains(&k), keepdims) {
                (false, _) => Some(d),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect();
        let op = Op::Reduce {
            op,
            axes: axes.to_vec(),
            keepdims,
        };
        Ok(self.add(op, vec![x], TensorType::new(ty.dtype, dims)))
    }

    pub(crate) fn sum_keep(&mut self, x: NodeId, axes: &[usize]) -> Result<NodeId, Diag> {
        self.reduce(ReduceOp::Sum, x, axes, true)
    }

    /// Sums a broadcast adjoint back to `dims` (the input's shape): the extra
    /// leading axes and the axes where `dims` has 1 are reduced, then reshaped.
    pub(crate) fn sum_to(&mut self, x: NodeId, dims: &[usize]) -> Result<NodeId, Diag> {
        let have = self.dims(x);
        if have == dims {
            return Ok(x);
        }
        if have.len() < dims.len() {
            return Err(self.bug(format!("sum {have:?} back to {dims:?}")));
        }
        let lead = have.len() - dims.len();
        let axes: Vec<usize> = (0..have.len())
            .filter(|&k| k < lead || (dims[k - lead] == 1 && have[k] != 1))
            .collect();
        let summed = if axes.is_empty() {
            x
        } else {
            self.sum_keep(x, &axes)?
        };
        self.reshape(summed, dims)
    }

    pub(crate) fn transpose(&mut self, x: NodeId, perm: &[usize]) -> Result<NodeId, Diag> {
        let ty = self.ty(x);
        if perm.len() != ty.shape.rank() || perm.iter().any(|&p| p >= perm.len()) {
            return Err(self.bug(format!("transpose {ty} by {perm:?}")));
        }
        let dims = perm.iter().map(|&p| ty.shape.0[p]).collect();
        let op = Op::Transpose {
            perm: perm.to_vec(),
        };
        Ok(self.add(op, vec![x], TensorType::new(ty.dtype, dims)))
    }

    /// Swaps the last two axes (rank >= 2).
    pub(crate) fn transpose_last2(&mut self, x: NodeId) -> Result<NodeId, Diag> {
        let rank = self.graph.ty(x).shape.rank();
        if rank < 2 {
            return Err(self.bug("matmul operand of rank < 2"));
        }
        let mut perm: Vec<usize> = (0..rank).collect();
        perm.swap(rank - 1, rank - 2);
        self.transpose(x, &perm)
    }

    /// Batched matmul `[.., m, k] @ [.., k, n]`, batch axes broadcast.
    pub(crate) fn matmul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, Diag> {
        let (da, db) = (self.dims(a), self.dims(b));
        if da.len() < 2 || db.len() < 2 || da[da.len() - 1] != db[db.len() - 2] {
            return Err(self.bug(format!("matmul {da:?} @ {db:?}")));
        }
        let mut dims = broadcast_shapes(&da[..da.len() - 2], &db[..db.len() - 2])
            .ok_or_else(|| self.bug(format!("matmul batch {da:?} @ {db:?}")))?;
        dims.push(da[da.len() - 2]);
        dims.push(db[db.len() - 1]);
        let dtype = self.dtype(a);
        Ok(self.add(Op::MatMul, vec![a, b], TensorType::new(dtype, dims)))
    }

    /// `x[starts .. starts + dims]`.
    pub(crate) fn slice(
        &mut self,
        x: NodeId,
        starts: &[usize],
        dims: &[usize],
    ) -> Result<NodeId, Diag> {
        let ty = self.ty(x);
        let fits = starts.len() == ty.shape.rank()
            && dims.len() == starts.len()
            && (0..dims.len()).all(|k| starts[k] + dims[k] <= ty.shape.0[k]);
        if !fits {
            return Err(self.bug(format!("slice {ty} at {starts:?} size {dims:?}")));
        }
        if ty.shape.dims() == dims {
            return Ok(x);
        }
        let op = Op::Grad(GradOp::Slice {
            starts: starts.to_vec(),
        });
        Ok(self.add(op, vec![x], TensorType::new(ty.dtype, dims.to_vec())))
    }

    /// Joins along `axis`; parts with no elements are left out.
    pub(crate) fn concat(&mut self, parts: &[NodeId], axis: usize) -> Result<NodeId, Diag> {
        let parts: Vec<NodeId> = parts
            .iter()
            .copied()
            .filter(|&p| self.graph.ty(p).shape.numel() > 0)
            .collect();
        match parts.as_slice() {
            [] => Err(self.bug("concat of nothing")),
            [one] => Ok(*one),
            [first, ..] => {
                let mut ty = self.ty(*first);
                ty.shape.0[axis] = parts.iter().map(|&p| self.graph.ty(p).shape.0[axis]).sum();
                Ok(self.add(Op::Concat { axis }, parts, ty))
            }
        }
    }

    /// Sums several adjoint contributions of one type.
    pub(crate) fn sum_all(&mut self, parts: &[NodeId]) -> Result<Option<NodeId>, Diag> {
        let mut total: Option<NodeId> = None;
        for &p in parts {
            total = Some(match total {
                None => p,
                Some(t) => self.add2(t, p)?,
            });
        }
        Ok(total)
    }
}
