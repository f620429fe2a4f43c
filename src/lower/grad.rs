//! `grad(y, x)` and `minimize(loss, optimizer, vars=[...])`: the builder's side
//! of autodiff (`docs/autodiff.md`). The backward pass of each `y` is built once
//! and cached in `Builder::adjoints`; the optimisers are in `optimizer.rs`.

use super::args::Call;
use super::{BResult, Builder, Value, MAX_NODES};
use crate::autodiff::{backward, Adjoints};
use crate::diag::{Diag, Span};
use crate::ir::graph::NodeId;
use crate::ir::op::{AllreduceOp, BinaryOp, Op};
use crate::ir::types::{DType, TensorType};
use crate::ir::Tensor;
use crate::syntax::ast::{Expr, ExprKind};

impl Builder<'_> {
    /// `grad(y, x)`: the gradient of the float scalar `y` with respect to `x`.
    pub(crate) fn grad_call(&mut self, call: &Call) -> BResult<Value> {
        self.require_top_level("grad", call.span)?;
        let b = self.bind(call, &["y", "x"], 2)?;
        let (ye, xe) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let y = self.loss_arg("grad", ye)?;
        if !matches!(xe.kind, ExprKind::Name(_)) {
            return Err(self.error(
                "grad: `x` must name a variable, a placeholder or a `let`",
                xe.span,
            ));
        }
        let x = self.tensor_arg(xe)?;
        let adjoints = self.adjoints(y, call.span)?;
        let before = self.graph().len();
        let id = adjoints.of(&mut self.ctxs[0].graph, x);
        self.count_new_nodes(before, call.span)?;
        Ok(self.here(id))
    }

    /// `minimize(loss, optimizer, vars=[...])`: one optimiser step, as a `group`.
    pub(crate) fn minimize_call(&mut self, call: &Call) -> BResult<Value> {
        self.require_top_level("minimize", call.span)?;
        let b = self.bind(call, &["loss", "optimizer", "vars"], 2)?;
        let (le, oe) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let loss = self.loss_arg("minimize", le)?;
        let optimizer = self.optimizer(oe)?;
        let adjoints = self.adjoints(loss, call.span)?;
        let vars = match b[2] {
            Some(list) => self.listed_vars(list)?,
            None => self.loss_vars(&adjoints),
        };
        if vars.is_empty() {
            return Err(self.report(
                Diag::error("minimize: the loss depends on no float variable", le.span)
                    .with_note("name the variables to update with `vars=[...]`"),
            ));
        }
        let (mut assigns, mut counters) = (Vec::new(), Vec::new());
        for (name, var) in vars {
            let before = self.graph().len();
            let mut g = adjoints.of(&mut self.ctxs[0].graph, var);
            if self.options.ranks > 1 {
                // Data parallel: every process applies the mean gradient, a
                // sum and a division the update's fused loop does on its way
                // (no pass of its own over the gradient).
                let ty = self.graph().ty(g).clone();
                let op = Op::Allreduce {
                    op: AllreduceOp::Sum,
                };
                let sum = self.add_typed(op, vec![g], ty.clone(), call.span)?;
                let ranks = Tensor::scalar(ty.dtype, self.options.ranks as f64);
                let ranks = self.constant(ranks, call.span)?;
                let div = Op::Binary(BinaryOp::Div);
                g = self.add_typed(div, vec![sum, ranks], ty, call.span)?;
            }
            self.count_new_nodes(before, call.span)?;
            let update = self.update(&optimizer, &name, var, g, &mut counters, call.span)?;
            assigns.extend(update);
        }
        self.check_assign_conflicts(&assigns, call.span)?;
        let ty = TensorType::scalar(DType::Bool);
        let id = self.add_typed(Op::Group, assigns, ty, call.span)?;
        Ok(self.here(id))
    }

    /// A float scalar to differentiate.
    fn loss_arg(&mut self, fname: &str, e: &Expr) -> BResult<NodeId> {
        let id = self.tensor_arg(e)?;
        let ty = self.graph().ty(id).clone();
        if !ty.dtype.is_float() || ty.shape.rank() != 0 {
            return Err(self.report(
                Diag::error(
                    format!("{fname}: the value to differentiate must be a float scalar, got {ty}"),
                    e.span,
                )
                .with_label(e.span, format!("this is {ty}")),
            ));
        }
        Ok(id)
    }

    /// The backward pass of `y`, built on first use.
    fn adjoints(&mut self, y: NodeId, span: Span) -> BResult<Adjoints> {
        if let Some(adjoints) = self.adjoints.get(&y) {
            return Ok(adjoints.clone());
        }
        let before = self.graph().len();
        let result = crate::timing::timed(&mut self.times.autodiff, || {
            backward(&mut self.ctxs[0].graph, y)
        });
        self.count_new_nodes(before, span)?;
        match result {
            Ok(adjoints) => {
                self.adjoints.insert(y, adjoints.clone());
                Ok(adjoints)
            }
            Err(diag) => Err(self.report(diag.with_label(span, "while differentiating here"))),
        }
    }

    /// Counts the nodes autodiff appended against the program size limit.
    fn count_new_nodes(&mut self, before: usize, span: Span) -> BResult<()> {
        self.node_count += self.graph().len().saturating_sub(before);
        if self.node_count > MAX_NODES {
            return Err(self.error(
                format!("the program is too large: more than {MAX_NODES} nodes with its gradients"),
                span,
            ));
        }
        Ok(())
    }

    /// `vars=[w1, w2]`: each a float variable.
    fn listed_vars(&mut self, list: &Expr) -> BResult<Vec<(String, NodeId)>> {
        let ExprKind::Array(items) = &list.kind else {
            return Err(self.error(
                "minimize: `vars` must be a list of variables, like [w1, w2]",
                list.span,
            ));
        };
        let mut vars: Vec<(String, NodeId)> = Vec::new();
        for item in items {
            let v = self.expr(item)?;
            let found = match v {
                Value::Node(0, id) => match &self.graph().node(id).op {
                    Op::Variable { name } if self.graph().ty(id).dtype.is_float() => {
                        Some((name.clone(), id))
                    }
                    _ => None,
                },
                _ => None,
            };
            match found {
                Some(var) if !vars.contains(&var) => vars.push(var),
                Some(_) => {}
                None => {
                    return Err(self.error(
                        "minimize: every entry of `vars` must be a float variable",
                        item.span,
                    ))
                }
            }
        }
        Ok(vars)
    }

    /// The float variables the loss depends on through differentiable paths.
    fn loss_vars(&self, adjoints: &Adjoints) -> Vec<(String, NodeId)> {
        let graph = self.graph();
        graph
            .ids()
            .filter(|&id| adjoints.get(id).is_some() && graph.ty(id).dtype.is_float())
            .filter_map(|id| match &graph.node(id).op {
                Op::Variable { name } => Some((name.clone(), id)),
                _ => None,
            })
            .collect()
    }
}
