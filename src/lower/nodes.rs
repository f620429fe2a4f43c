//! Creating typed nodes, and turning values into node operands: outer nodes are
//! captured into the current region, weak literals become constants of the dtype
//! the context asks for.

use super::literals::{Weak, WeakKind};
use super::{BResult, Builder, Value, MAX_NODES};
use crate::diag::{Diag, Span};
use crate::ir::graph::NodeId;
use crate::ir::infer::infer;
use crate::ir::op::Op;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::Expr;
use std::sync::Arc;

impl Builder<'_> {
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
        crate::ir::limits::check(
            &crate::ir::limits::describe(&op),
            &ty,
            self.options.max_bytes,
        )
        .map_err(|m| self.error(m, span))?;
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
            Value::Node(level, _) if *level > self.level() => Err(self.report(Diag::internal(
                "the IR builder",
                "a value escaped its region",
                Some(span),
            ))),
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
    pub(crate) fn adapt(
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
                Diag::error(
                    format!("{what}: {message} (the other operand is {ty})"),
                    span,
                )
                .with_label(other_span, format!("this is {ty}"))
                .with_note(format!(
                    "use cast(x, {}) to convert a tensor",
                    w.kind.default_dtype()
                )),
            )),
        }
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
