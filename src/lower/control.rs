//! `cond` and `fold`: each branch and each body is a region `Graph`. A region never
//! refers to an outer node: an outer value used inside becomes a capture, an
//! extra input of the `Cond`/`Fold` node and an `Op::Param(i)` inside the region
//! (constants are copied instead). Captures go through every open level.

use super::literals::WeakKind;
use super::{BResult, Builder, Failed, Value};
use crate::diag::{Diag, Span};
use crate::ir::graph::{Graph, NodeId};
use crate::ir::op::Op;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind, Item};
use std::collections::HashMap;

/// A graph being built: the top level or an open region.
pub(crate) struct GraphCtx {
    pub graph: Graph,
    /// Parameters before the captures (`acc, x` of a fold body).
    fixed: usize,
    /// Outer nodes (in the enclosing graph) captured, in parameter order. The two
    /// branches of a `cond` share one list.
    captures: Vec<NodeId>,
    /// Outer node -> the node standing for it in this graph.
    capture_map: HashMap<NodeId, NodeId>,
    /// The outer nodes the fixed parameters stand for (a fold's init and xs).
    fixed_inputs: Vec<NodeId>,
}

impl GraphCtx {
    pub(crate) fn new(graph: Graph, fixed: usize, captures: Vec<NodeId>) -> GraphCtx {
        GraphCtx {
            graph,
            fixed,
            captures,
            capture_map: HashMap::new(),
            fixed_inputs: Vec::new(),
        }
    }

    /// The node of the enclosing graph that parameter `index` stands for: a
    /// capture, or a fold's init (`acc`) or xs (`x` is one of its rows).
    pub(crate) fn outer_of(&self, index: usize) -> Option<NodeId> {
        match index.checked_sub(self.fixed) {
            Some(k) => self.captures.get(k).copied(),
            None => self.fixed_inputs.get(index).copied(),
        }
    }
}

/// A built branch: its graph, its value (a local node or a literal) and the span.
struct Branch {
    ctx: GraphCtx,
    value: Value,
    span: Span,
}

impl Builder<'_> {
    /// Node `id` of level `level` as a node of the current graph.
    pub(crate) fn lift(&mut self, level: usize, id: NodeId) -> NodeId {
        let mut id = id;
        for l in level + 1..=self.level() {
            id = self.capture(l, id);
        }
        id
    }

    /// Outer node `outer` (of level `l - 1`) inside level `l`.
    fn capture(&mut self, l: usize, outer: NodeId) -> NodeId {
        if let Some(&inner) = self.ctxs[l].capture_map.get(&outer) {
            return inner;
        }
        // Only the op of a constant is copied: a cond or fold node holds whole regions.
        let node = self.ctxs[l - 1].graph.node(outer);
        let (ty, span) = (node.ty.clone(), node.span);
        let constant = match &node.op {
            Op::Const(t) => Some(Op::Const(t.clone())),
            _ => None,
        };
        let ctx = &mut self.ctxs[l];
        let inner = if let Some(op) = constant {
            ctx.graph.add(op, Vec::new(), ty, span)
        } else {
            let position = match ctx.captures.iter().position(|&c| c == outer) {
                Some(p) => p,
                None => {
                    ctx.captures.push(outer);
                    ctx.captures.len() - 1
                }
            };
            let index = ctx.fixed + position;
            ctx.graph.add(Op::Param(index), Vec::new(), ty, span)
        };
        ctx.capture_map.insert(outer, inner);
        self.node_count += 1;
        inner
    }

    /// Whether the current graph is a `fold` body or inside one (a `cond`
    /// branch in a body too).
    pub(crate) fn in_fold(&self) -> bool {
        self.ctxs[1..].iter().any(|c| c.fixed == 2)
    }

    /// Builds `body` in a new region; the region is popped even on errors. The
    /// value is made local to the region (a literal stays a literal).
    fn in_region(
        &mut self,
        ctx: GraphCtx,
        span: Span,
        body: impl FnOnce(&mut Self) -> BResult<Value>,
    ) -> (GraphCtx, BResult<Value>) {
        self.ctxs.push(ctx);
        let result = body(self).and_then(|v| match v {
            Value::Node(..) => {
                let id = self.operand(&v, span)?;
                Ok(Value::Node(self.level(), id))
            }
            weak => Ok(weak),
        });
        let ctx = self
            .ctxs
            .pop()
            .unwrap_or_else(|| GraphCtx::new(Graph::new(), 0, Vec::new()));
        (ctx, result)
    }

    /// The types of a region's captures (in the enclosing graph).
    fn capture_types(&self, captures: &[NodeId]) -> Vec<TensorType> {
        captures
            .iter()
            .map(|&c| self.graph().ty(c).clone())
            .collect()
    }

    /// `cond(pred, a, b)`.
    pub(crate) fn cond(&mut self, pred: &Expr, a: &Expr, b: &Expr, span: Span) -> BResult<Value> {
        let pv = self.expr(pred)?;
        let p = self.operand_as(&pv, DType::Bool, pred.span)?;
        let pty = self.graph().ty(p).clone();
        if pty != TensorType::scalar(DType::Bool) {
            return Err(self.report(
                Diag::error(
                    format!("cond: the predicate must be bool[], got {pty}"),
                    pred.span,
                )
                .with_label(pred.span, format!("this is {pty}")),
            ));
        }
        let then_ctx = GraphCtx::new(Graph::region(vec![]), 0, vec![]);
        let (then_ctx, tv) = self.in_region(then_ctx, a.span, |s| s.expr(a));
        let tv = tv?;
        let shared = then_ctx.captures.clone();
        let else_ctx = GraphCtx::new(Graph::region(vec![]), 0, shared);
        let (else_ctx, ev) = self.in_region(else_ctx, b.span, |s| s.expr(b));
        let ev = ev?;
        let mut then_b = Branch {
            ctx: then_ctx,
            value: tv,
            span: a.span,
        };
        let mut else_b = Branch {
            ctx: else_ctx,
            value: ev,
            span: b.span,
        };
        let ty = self.branch_type(&then_b, &else_b, span)?;
        let rt = self.finish_branch(&mut then_b, &ty)?;
        let re = self.finish_branch(&mut else_b, &ty)?;
        let captures = else_b.ctx.captures.clone();
        let params = self.capture_types(&captures);
        let mut then_body = then_b.ctx.graph;
        let mut else_body = else_b.ctx.graph;
        then_body.params = params.clone();
        else_body.params = params;
        then_body.results = vec![rt];
        else_body.results = vec![re];
        let mut inputs = vec![(p, pred.span)];
        inputs.extend(captures.iter().map(|&c| (c, span)));
        let op = Op::Cond {
            then_body: Box::new(then_body),
            else_body: Box::new(else_body),
        };
        let id = self.add_node(op, &inputs, span)?;
        Ok(self.here(id))
    }

    /// The common type of two branches (literals adapt to the other branch).
    fn branch_type(&mut self, t: &Branch, e: &Branch, span: Span) -> BResult<TensorType> {
        let ty_of = |b: &Branch| match &b.value {
            Value::Node(_, id) => Some(b.ctx.graph.ty(*id).clone()),
            Value::Weak(_) => None,
        };
        match (ty_of(t), ty_of(e), &t.value, &e.value) {
            (Some(x), Some(y), _, _) if x == y => Ok(x),
            (Some(x), Some(y), _, _) => Err(self.report(
                Diag::error(format!("cond: the branches differ: {x} and {y}"), span)
                    .with_label(t.span, format!("this is {x}"))
                    .with_label(e.span, format!("this is {y}"))
                    .with_note("both branches must have the same dtype and shape"),
            )),
            (Some(x), None, _, _) | (None, Some(x), _, _) => Ok(x),
            (None, None, Value::Weak(wa), Value::Weak(wb)) => {
                let kind = wa.kind.max(wb.kind);
                if (wa.kind == WeakKind::Bool) != (wb.kind == WeakKind::Bool) {
                    return Err(self.error("cond: one branch is a bool, the other a number", span));
                }
                match crate::ir::infer::broadcast_shapes(&wa.shape, &wb.shape) {
                    Some(shape) => Ok(TensorType {
                        dtype: kind.default_dtype(),
                        shape,
                    }),
                    None => Err(self.error(
                        format!(
                            "cond: the branches differ: shapes {} and {}",
                            wa.shape, wb.shape
                        ),
                        span,
                    )),
                }
            }
            _ => Err(Failed),
        }
    }

    /// The branch's result node, a literal made a constant of type `ty` inside it.
    fn finish_branch(&mut self, b: &mut Branch, ty: &TensorType) -> BResult<NodeId> {
        match &b.value {
            Value::Node(_, id) => Ok(*id),
            weak => {
                let weak = weak.clone();
                self.ctxs.push(std::mem::replace(
                    &mut b.ctx,
                    GraphCtx::new(Graph::new(), 0, Vec::new()),
                ));
                let r = self.operand_exact(&weak, ty, b.span, "cond branch");
                if let Some(ctx) = self.ctxs.pop() {
                    b.ctx = ctx;
                }
                r
            }
        }
    }

    /// `fold(f, init, xs)`.
    pub(crate) fn fold(&mut self, f: &Expr, init: &Expr, xs: &Expr, span: Span) -> BResult<Value> {
        let iv = self.expr(init)?;
        let xv = self.expr(xs)?;
        let x_id = self.operand(&xv, xs.span)?;
        let xs_ty = self.graph().ty(x_id).clone();
        if xs_ty.shape.rank() == 0 {
            return Err(self.report(
                Diag::error(
                    format!("fold: xs must have rank 1 or more, got {xs_ty}"),
                    xs.span,
                )
                .with_label(xs.span, format!("this is {xs_ty}")),
            ));
        }
        // A literal accumulator takes the dtype of xs when it can (`0.0` over f64 xs).
        let i_id = match &iv {
            Value::Weak(w) if w.kind.fits(xs_ty.dtype) => {
                self.operand_as(&iv, xs_ty.dtype, init.span)?
            }
            _ => self.operand(&iv, init.span)?,
        };
        let acc_ty = self.graph().ty(i_id).clone();
        let x_ty = TensorType::new(xs_ty.dtype, xs_ty.shape.dims()[1..].to_vec());
        let mut region = Graph::region(vec![acc_ty.clone(), x_ty.clone()]);
        let acc = region.add(Op::Param(0), vec![], acc_ty.clone(), init.span);
        let x = region.add(Op::Param(1), vec![], x_ty.clone(), xs.span);
        self.node_count += 2;
        let mut ctx = GraphCtx::new(region, 2, Vec::new());
        ctx.fixed_inputs = vec![i_id, x_id];
        let (mut ctx, result) = self.in_region(ctx, f.span, |s| {
            let level = s.level();
            let args = [Value::Node(level, acc), Value::Node(level, x)];
            s.apply_step(f, &args)
        });
        let result = result?;
        let body_span = match &f.kind {
            ExprKind::Lambda { body, .. } => body.span,
            _ => f.span,
        };
        let r = match &result {
            Value::Node(_, id) => {
                let got = ctx.graph.ty(*id).clone();
                if got != acc_ty {
                    return Err(self.report(
                        Diag::error(
                            format!("fold: the body gives {got} but the accumulator is {acc_ty}"),
                            body_span,
                        )
                        .with_label(body_span, format!("this is {got}"))
                        .with_label(init.span, format!("the accumulator is {acc_ty}")),
                    ));
                }
                *id
            }
            weak => {
                self.ctxs.push(ctx);
                let r = self.operand_exact(weak, &acc_ty, body_span, "fold body");
                ctx = self.ctxs.pop().ok_or(Failed)?;
                r?
            }
        };
        let mut body = ctx.graph;
        body.params.extend(self.capture_types(&ctx.captures));
        body.results = vec![r];
        let mut inputs = vec![(i_id, init.span), (x_id, xs.span)];
        inputs.extend(ctx.captures.iter().map(|&c| (c, span)));
        let id = self.add_node(
            Op::Fold {
                body: Box::new(body),
            },
            &inputs,
            span,
        )?;
        Ok(self.here(id))
    }

    /// Applies a fold's step function (a lambda or a `fn` name) to `(acc, x)`.
    fn apply_step(&mut self, f: &Expr, args: &[Value; 2]) -> BResult<Value> {
        match &f.kind {
            ExprKind::Lambda { params, body } => {
                if params.len() != 2 {
                    return Err(self.error(
                        format!(
                            "fold: the lambda must take two parameters `|acc, x|`, it takes {}",
                            params.len()
                        ),
                        f.span,
                    ));
                }
                self.frame().push();
                for (p, v) in params.iter().zip(args) {
                    self.frame().bind(&p.name, v.clone());
                }
                let r = self.expr(body);
                self.frame().pop();
                r
            }
            ExprKind::Name(name) => {
                let index = self.globals.get(name).copied();
                match index.map(|i| &self.program.items[i]) {
                    Some(Item::Fn { .. }) => {
                        self.inline_fn(name, f.span, args, f.span)
                    }
                    Some(_) => Err(self.error(
                        format!("fold: `{name}` is not a function; pass a lambda `|acc, x| ...` or a fn name"),
                        f.span,
                    )),
                    None => Err(self.unknown_name(name, f.span)),
                }
            }
            _ => Err(self.error(
                "fold: the first argument must be a lambda `|acc, x| ...` or the name of a fn",
                f.span,
            )),
        }
    }

    /// Fails unless the current graph is the top level (for `assign`, `group`).
    pub(crate) fn require_top_level(&mut self, what: &str, span: Span) -> BResult<()> {
        if self.level() == 0 {
            Ok(())
        } else {
            Err(self.error(
                format!("`{what}` is not allowed inside a cond branch or a fold body; use it at the top level"),
                span,
            ))
        }
    }
}
