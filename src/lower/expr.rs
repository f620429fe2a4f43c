//! Expressions: literals, names, operators, indexing, blocks; and the helpers that
//! create typed nodes and turn weak literals into constants.

use super::literals::{fold_binary, fold_unary, Weak, WeakKind};
use super::{BResult, Builder, Failed, Value};
use crate::diag::{Diag, Span};
use crate::ir::infer::binary_name;
use crate::ir::op::{BinaryOp, Op, UnaryOp};
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{self, Expr, ExprKind};
use std::rc::Rc;

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
            ExprKind::Subscript(x, items) => self.subscript(x, items, e.span),
            ExprKind::Block(block) => self.block(block),
            ExprKind::Lambda { .. } => Err(self.error(
                "a lambda `|acc, x| ...` is only allowed as the first argument of `fold`",
                e.span,
            )),
            ExprKind::Field(..) => Err(self.error(
                "`DATASET.ARRAY` is only allowed as a placeholder's feed: `placeholder x: f32[?, 4] = train.x;`",
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

    pub(crate) fn unary(
        &mut self,
        op: UnaryOp,
        v: Value,
        vspan: Span,
        span: Span,
    ) -> BResult<Value> {
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
        self.check_literal_operand(op, &a, &b, span)?;
        let (na, nb) = self.unify2(a, b, binary_name(op))?;
        let id = self.add_node(Op::Binary(op), &[(na, sa), (nb, sb)], span)?;
        Ok(self.here(id))
    }

    /// A tensor of the wrong kind next to a literal (`x && true` with `x` f32) is
    /// reported as the op's error, not as the literal's.
    fn check_literal_operand(
        &mut self,
        op: BinaryOp,
        a: &(Value, Span),
        b: &(Value, Span),
        span: Span,
    ) -> BResult<()> {
        let (node, weak, node_first) = match (&a.0, &b.0) {
            (Value::Node(..), Value::Weak(w)) => (&a.0, w, true),
            (Value::Weak(w), Value::Node(..)) => (&b.0, w, false),
            _ => return Ok(()),
        };
        let Some(ty) = self.value_type(node) else {
            return Ok(());
        };
        let is_bool = ty.dtype == DType::Bool;
        let expected = match (op.is_logical(), op.is_comparison()) {
            (true, _) if !is_bool => "bool operands",
            (false, false) if is_bool => "numeric operands",
            _ => return Ok(()),
        };
        let (first, second) = if node_first {
            (ty.to_string(), weak.kind.describe().to_string())
        } else {
            (weak.kind.describe().to_string(), ty.to_string())
        };
        let node_span = if node_first { a.1 } else { b.1 };
        Err(self.report(
            Diag::error(
                format!(
                    "{}: expects {expected}, got {first} and {second}",
                    binary_name(op)
                ),
                span,
            )
            .with_label(node_span, format!("this is {ty}")),
        ))
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
                            format!(
                                "index {k} is out of range for axis 0 of {ty_text} (length {len})"
                            ),
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
