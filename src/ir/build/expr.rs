//! Expressions: literals, names, operators, indexing, blocks; and the helpers that
//! create typed nodes and turn weak literals into constants.

use super::literals::{fold_binary, fold_unary, Weak, WeakKind};
use super::{BResult, Builder, Failed, Value, MAX_NODES};
use crate::ir::graph::NodeId;
use crate::ir::infer::{binary_name, infer};
use crate::ir::op::{BinaryOp, Op, UnaryOp};
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{self, Expr, ExprKind};
use crate::syntax::{Diag, Span};
use std::rc::Rc;
use std::sync::Arc;

impl Builder<'_> {
    pub(crate) fn expr(&mut self, e: &Expr) -> BResult<Value> {
        self.enter(e.span)?;
        let result = self.expr_inner(e);
        self.leave();
        result
    }

    fn expr_inner(&mut self, e: &Expr) -> BResult<Value> {
        let weak = |kind, v| Ok(Value::Weak(Rc::new(Weak::scalar(kind, v))));
        match &e.kind {
            ExprKind::Int(i) => weak(WeakKind::Int, *i as f64),
            ExprKind::Float(f) => weak(WeakKind::Float, *f),
            ExprKind::Bool(b) => weak(WeakKind::Bool, f64::from(u8::from(*b))),
            ExprKind::Str(_) => Err(self.error(
                "a string is only allowed as an argument of `load` or `conv2d`'s padding",
                e.span,
            )),
            ExprKind::Name(name) => self.lookup(name, e.span),
            ExprKind::Array(elements) => self.array_literal(elements, e.span),
            ExprKind::Unary(op, x) => {
                let op = match op {
                    ast::UnaryOp::Neg => UnaryOp::Neg,
                    ast::UnaryOp::Not => UnaryOp::Not,
                };
                let v = self.expr(x)?;
                self.unary(op, v, x.span, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let va = self.expr(a)?;
                let vb = self.expr(b)?;
                match lower_binary(*op) {
                    Some(op) => self.binary(op, (va, a.span), (vb, b.span), e.span),
                    None => {
                        let (na, nb) = self.unify2((va, a.span), (vb, b.span), "matmul")?;
                        let id =
                            self.add_node(Op::MatMul, &[(na, a.span), (nb, b.span)], e.span)?;
                        Ok(self.here(id))
                    }
                }
            }
            ExprKind::Call {
                callee,
                args,
                named,
            } => self.call(callee, args, named, e.span),
            ExprKind::Index(x, i) => self.index(x, i, e.span),
            ExprKind::Block(block) => self.block(block),
            ExprKind::Lambda { .. } => Err(self.error(
                "a lambda `|acc, x| ...` is only allowed as the first argument of `fold`",
                e.span,
            )),
            ExprKind::Cond(p, a, b) => self.cond(p, a, b, e.span),
            ExprKind::Fold { f, init, xs } => self.fold(f, init, xs, e.span),
        }
    }

    /// `{ let a = ...; EXPR }`: the lets are visible to the later lets and the result.
    pub(crate) fn block(&mut self, block: &ast::Block) -> BResult<Value> {
        self.frame().push();
        let result = (|| {
            for (name, value) in &block.lets {
                let v = self.expr(value)?;
                self.frame().bind(&name.name, v);
            }
            self.expr(&block.result)
        })();
        self.frame().pop();
        result
    }

    /// A node of the current graph as a value.
    pub(crate) fn here(&self, id: NodeId) -> Value {
        Value::Node(self.level(), id)
    }

    /// The type of a strong value.
    pub(crate) fn value_type(&self, v: &Value) -> Option<TensorType> {
        match v {
            Value::Node(level, id) => self.ctxs.get(*level).map(|c| c.graph.ty(*id).clone()),
            Value::Weak(_) => None,
        }
    }

    /// Appends a node after inferring its type; a type error gets the span and a
    /// "this is f32[..]" label per operand.
    pub(crate) fn add_node(
        &mut self,
        op: Op,
        inputs: &[(NodeId, Span)],
        span: Span,
    ) -> BResult<NodeId> {
        let types: Vec<TensorType> = inputs
            .iter()
            .map(|(id, _)| self.graph().ty(*id).clone())
            .collect();
        let refs: Vec<&TensorType> = types.iter().collect();
        match infer(&op, &refs) {
            Ok(ty) => self.add_typed(op, inputs.iter().map(|(id, _)| *id).collect(), ty, span),
            Err(message) => {
                let mut diag = Diag::error(message, span);
                let mut labelled: Vec<Span> = Vec::new();
                for ((_, s), ty) in inputs.iter().zip(&types) {
                    if *s != span && !labelled.contains(s) {
                        labelled.push(*s);
                        diag = diag.with_label(*s, format!("this is {ty}"));
                    }
                }
                Err(self.report(diag))
            }
        }
    }

    /// Appends a node whose type is known.
    pub(crate) fn add_typed(
        &mut self,
        op: Op,
        inputs: Vec<NodeId>,
        ty: TensorType,
        span: Span,
    ) -> BResult<NodeId> {
        self.node_count += 1;
        if self.node_count > MAX_NODES {
            return Err(self.error(
                format!("the program is too large: more than {MAX_NODES} nodes after inlining fns"),
                span,
            ));
        }
        let level = self.level();
        Ok(self.ctxs[level].graph.add(op, inputs, ty, span))
    }

    pub(crate) fn constant(&mut self, tensor: crate::ir::Tensor, span: Span) -> BResult<NodeId> {
        let ty = tensor.ty();
        self.add_typed(Op::Const(Arc::new(tensor)), Vec::new(), ty, span)
    }

    /// A weak literal as a constant of `dtype`.
    pub(crate) fn materialize(&mut self, w: &Weak, dtype: DType, span: Span) -> BResult<NodeId> {
        match w.to_tensor(dtype) {
            Ok(t) => self.constant(t, span),
            Err(message) => Err(self.error(message, span)),
        }
    }

    /// A value as a node of the current graph: outer nodes are captured, weak
    /// literals take their default dtype. A `group` has no value.
    pub(crate) fn operand(&mut self, v: &Value, span: Span) -> BResult<NodeId> {
        match v {
            Value::Weak(w) => self.materialize(w, w.kind.default_dtype(), span),
            Value::Node(level, id) => {
                let id = self.lift(*level, *id);
                if let Op::Group = self.graph().node(id).op {
                    return Err(self.error(
                        "a `group` has no value; it can only be fetched or grouped",
                        span,
                    ));
                }
                Ok(id)
            }
        }
    }

    /// A value with `dtype` (weak literals adapt; nodes must already have it).
    pub(crate) fn operand_as(&mut self, v: &Value, dtype: DType, span: Span) -> BResult<NodeId> {
        match v {
            Value::Weak(w) => self.materialize(w, dtype, span),
            Value::Node(..) => self.operand(v, span),
        }
    }

    /// A value with exactly type `ty`: a weak literal takes the dtype and is broadcast
    /// to the shape; a node must have the type (`what` describes the mismatch).
    pub(crate) fn operand_exact(
        &mut self,
        v: &Value,
        ty: &TensorType,
        span: Span,
        what: &str,
    ) -> BResult<NodeId> {
        let id = self.operand_as(v, ty.dtype, span)?;
        let got = self.graph().ty(id).clone();
        if &got == ty {
            return Ok(id);
        }
        if let Value::Weak(_) = v {
            if let Ok(out) = crate::ir::infer::infer_broadcast(&got, &ty.shape) {
                return self.add_typed(Op::Broadcast, vec![id], out, span);
            }
        }
        Err(self.report(
            Diag::error(format!("{what}: expected {ty}, got {got}"), span)
                .with_label(span, format!("this is {got}")),
        ))
    }

    /// Two operands of one dtype: a weak literal takes the other's dtype.
    pub(crate) fn unify2(
        &mut self,
        (a, sa): (Value, Span),
        (b, sb): (Value, Span),
        what: &str,
    ) -> BResult<(NodeId, NodeId)> {
        match (&a, &b) {
            (Value::Weak(wa), Value::Weak(wb)) => {
                // Both literals: ints join floats; a bool with a number stays apart
                // (and the op reports the dtypes).
                let (da, db) = if (wa.kind == WeakKind::Bool) == (wb.kind == WeakKind::Bool) {
                    let d = wa.kind.max(wb.kind).default_dtype();
                    (d, d)
                } else {
                    (wa.kind.default_dtype(), wb.kind.default_dtype())
                };
                Ok((self.materialize(wa, da, sa)?, self.materialize(wb, db, sb)?))
            }
            (Value::Weak(w), Value::Node(..)) => {
                let nb = self.operand(&b, sb)?;
                let na = self.adapt(w, nb, sa, sb, what)?;
                Ok((na, nb))
            }
            (Value::Node(..), Value::Weak(w)) => {
                let na = self.operand(&a, sa)?;
                let nb = self.adapt(w, na, sb, sa, what)?;
                Ok((na, nb))
            }
            _ => Ok((self.operand(&a, sa)?, self.operand(&b, sb)?)),
        }
    }

    /// Literal `w` (at `span`) given the dtype of node `other` (at `other_span`).
    fn adapt(
        &mut self,
        w: &Weak,
        other: NodeId,
        span: Span,
        other_span: Span,
        what: &str,
    ) -> BResult<NodeId> {
        let ty = self.graph().ty(other).clone();
        match w.to_tensor(ty.dtype) {
            Ok(t) => self.constant(t, span),
            Err(message) => Err(self.report(
                Diag::error(format!("{what}: {message} (the other operand is {ty})"), span)
                    .with_label(other_span, format!("this is {ty}"))
                    .with_note(format!("use cast(x, {}) to convert a tensor", w.kind.default_dtype())),
            )),
        }
    }

    pub(crate) fn unary(&mut self, op: UnaryOp, v: Value, vspan: Span, span: Span) -> BResult<Value> {
        if let Value::Weak(w) = &v {
            return match fold_unary(op, w) {
                Ok(r) => Ok(Value::Weak(Rc::new(r))),
                Err(message) => Err(self.error(message, span)),
            };
        }
        let x = self.operand(&v, vspan)?;
        let id = self.add_node(Op::Unary(op), &[(x, vspan)], span)?;
        Ok(self.here(id))
    }

    pub(crate) fn binary(
        &mut self,
        op: BinaryOp,
        a: (Value, Span),
        b: (Value, Span),
        span: Span,
    ) -> BResult<Value> {
        if let (Value::Weak(wa), Value::Weak(wb)) = (&a.0, &b.0) {
            return match fold_binary(op, wa, wb) {
                Ok(r) => Ok(Value::Weak(Rc::new(r))),
                Err(message) => Err(self.error(message, span)),
            };
        }
        let (sa, sb) = (a.1, b.1);
        let (na, nb) = self.unify2(a, b, binary_name(op))?;
        let id = self.add_node(Op::Binary(op), &[(na, sa), (nb, sb)], span)?;
        Ok(self.here(id))
    }

    /// `x[i]` along axis 0: a literal index is checked now, a node index at run time.
    fn index(&mut self, x: &Expr, i: &Expr, span: Span) -> BResult<Value> {
        let xv = self.expr(x)?;
        let iv = self.expr(i)?;
        let (len, ty_text) = match &xv {
            Value::Weak(w) => (w.shape.dims().first().copied(), format!("{}", w.shape)),
            Value::Node(..) => {
                let ty = self.value_type(&xv).ok_or(Failed)?;
                (ty.shape.dims().first().copied(), ty.to_string())
            }
        };
        let Some(len) = len else {
            return Err(self.error(format!("cannot index the scalar {ty_text}"), x.span));
        };
        let index = match &iv {
            Value::Weak(w) if w.kind == WeakKind::Int && w.shape.rank() == 0 => {
                let k = w.data.first().copied().unwrap_or(0.0);
                let n = len as f64;
                if k < -n || k >= n {
                    return Err(self.report(
                        Diag::error(
                            format!("index {k} is out of range for axis 0 of {ty_text} (length {len})"),
                            i.span,
                        )
                        .with_label(x.span, format!("this is {ty_text}")),
                    ));
                }
                let k = if k < 0.0 { k + n } else { k } as usize;
                if let Value::Weak(xw) = &xv {
                    return Ok(Value::Weak(Rc::new(xw.index(k))));
                }
                let t = crate::ir::Tensor::scalar(DType::I32, k as f64);
                self.constant(t, i.span)?
            }
            Value::Weak(_) => {
                return Err(self.error("an index must be an integer scalar", i.span));
            }
            Value::Node(..) => self.operand(&iv, i.span)?,
        };
        let xn = self.operand(&xv, x.span)?;
        let id = self.add_node(Op::Index, &[(xn, x.span), (index, i.span)], span)?;
        Ok(self.here(id))
    }

    /// `[a, b, ...]`: literals stay weak; with tensors inside, the elements are
    /// stacked along a new axis 0 (reshape + concat), as `tf.stack` would.
    fn array_literal(&mut self, elements: &[Expr], span: Span) -> BResult<Value> {
        let mut values = Vec::with_capacity(elements.len());
        for e in elements {
            values.push(self.expr(e)?);
        }
        let weaks: Vec<&Weak> = values
            .iter()
            .filter_map(|v| match v {
                Value::Weak(w) => Some(&**w),
                Value::Node(..) => None,
            })
            .collect();
        if weaks.len() == values.len() {
            return match Weak::stack(&weaks) {
                Ok(w) => Ok(Value::Weak(Rc::new(w))),
                Err(message) => Err(self.error(message, span)),
            };
        }
        let nodes = self.unify_all(&values, elements, "array literal")?;
        let mut stacked = Vec::new();
        for (id, e) in nodes.iter().zip(elements) {
            let ty = self.graph().ty(*id).clone();
            let mut dims = vec![1];
            dims.extend_from_slice(ty.shape.dims());
            let out = TensorType::new(ty.dtype, dims);
            stacked.push((self.add_typed(Op::Reshape, vec![*id], out, e.span)?, e.span));
        }
        let id = self.add_node(Op::Concat { axis: 0 }, &stacked, span)?;
        Ok(self.here(id))
    }

    /// Several operands of one dtype (that of the first node; literals adapt).
    pub(crate) fn unify_all(
        &mut self,
        values: &[Value],
        exprs: &[Expr],
        what: &str,
    ) -> BResult<Vec<NodeId>> {
        let anchor = values.iter().position(|v| matches!(v, Value::Node(..)));
        let Some(anchor) = anchor else {
            let mut out = Vec::new();
            for (v, e) in values.iter().zip(exprs) {
                out.push(self.operand(v, e.span)?);
            }
            return Ok(out);
        };
        let anchor_id = self.operand(&values[anchor], exprs[anchor].span)?;
        let mut out = Vec::new();
        for (k, (v, e)) in values.iter().zip(exprs).enumerate() {
            let id = match v {
                Value::Weak(w) if k != anchor => {
                    self.adapt(w, anchor_id, e.span, exprs[anchor].span, what)?
                }
                _ => self.operand(v, e.span)?,
            };
            out.push(id);
        }
        Ok(out)
    }
}

/// The IR op of a binary operator; `None` for `@` (a network op, not elementwise).
pub(crate) fn lower_binary(op: ast::BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        ast::BinaryOp::Or => BinaryOp::Or,
        ast::BinaryOp::And => BinaryOp::And,
        ast::BinaryOp::Eq => BinaryOp::Eq,
        ast::BinaryOp::Ne => BinaryOp::Ne,
        ast::BinaryOp::Lt => BinaryOp::Lt,
        ast::BinaryOp::Le => BinaryOp::Le,
        ast::BinaryOp::Gt => BinaryOp::Gt,
        ast::BinaryOp::Ge => BinaryOp::Ge,
        ast::BinaryOp::Add => BinaryOp::Add,
        ast::BinaryOp::Sub => BinaryOp::Sub,
        ast::BinaryOp::Mul => BinaryOp::Mul,
        ast::BinaryOp::Div => BinaryOp::Div,
        ast::BinaryOp::Pow => BinaryOp::Pow,
        ast::BinaryOp::MatMul => return None,
    })
}
