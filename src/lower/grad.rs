//! `grad(y, x)` and `minimize(loss, optimizer, vars=[...])`: the builder's side
//! of autodiff (`crate::autodiff`, see `docs/autodiff.md`).
//!
//! Both are top-level only. The backward pass of each differentiated node is
//! built once and cached in `Builder::adjoints`, so all `grad`s (and `minimize`s)
//! of one `y` share it. `minimize` creates its optimiser's slot variables itself
//! (named `VAR.momentum`, `VAR.adam_m`, `VAR.adam_v`, `VAR.adam_t`: a `.` cannot
//! appear in a user's name, and the names work with `--feed NAME=FILE.npy`), and
//! gives a `group` of the assigns of one step:
//! - `sgd(lr)`: `v -= lr * g`;
//! - `momentum(lr, beta=0.9)` (TF's): `m = beta * m + g; v -= lr * m`;
//! - `adam(lr, beta1=0.9, beta2=0.999, eps=1e-8)` (the paper's, as optax):
//!   `t += 1; m = b1 m + (1 - b1) g; s = b2 s + (1 - b2) g^2;
//!   v -= lr * (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)`.
//!
//! Every read of a variable sees its value at the start of the step, so the new
//! slot values are computed from the old ones and all assigns land together.

use super::args::Call;
use super::{BResult, Builder, Value, MAX_NODES};
use crate::autodiff::{backward, Adjoints};
use crate::diag::{Diag, Span};
use crate::ir::graph::NodeId;
use crate::ir::module::VariableDecl;
use crate::ir::op::{AllreduceOp, BinaryOp, Op, UnaryOp};
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind};

/// An optimiser and its hyper-parameters.
enum Optimizer {
    Sgd {
        lr: f64,
    },
    Momentum {
        lr: f64,
        beta: f64,
    },
    Adam {
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
}

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
        let mut assigns = Vec::new();
        for (name, var) in vars {
            let before = self.graph().len();
            let mut g = adjoints.of(&mut self.ctxs[0].graph, var);
            if self.options.ranks > 1 {
                // Data parallel: every process applies the mean gradient.
                let ty = self.graph().ty(g).clone();
                let op = Op::Allreduce {
                    op: AllreduceOp::Mean,
                };
                g = self.add_typed(op, vec![g], ty, call.span)?;
            }
            self.count_new_nodes(before, call.span)?;
            assigns.extend(self.update(&optimizer, &name, var, g, call.span)?);
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

    /// `sgd(lr)`, `momentum(lr, beta)` or `adam(lr, beta1, beta2, eps)`; the
    /// hyper-parameters are number literals.
    fn optimizer(&mut self, e: &Expr) -> BResult<Optimizer> {
        let ExprKind::Call {
            callee,
            args,
            named,
        } = &e.kind
        else {
            return Err(self.not_an_optimizer(e.span));
        };
        let name = callee.name.as_str();
        let call = Call {
            name,
            args,
            named,
            span: e.span,
        };
        let params: &[&str] = match name {
            "sgd" => &["lr"],
            "momentum" => &["lr", "beta"],
            "adam" => &["lr", "beta1", "beta2", "eps"],
            _ => return Err(self.not_an_optimizer(e.span)),
        };
        let b = self.bind(&call, params, 1)?;
        let mut values = Vec::with_capacity(params.len());
        for (k, p) in params.iter().enumerate() {
            values.push(match b[k] {
                Some(v) => Some(self.float_attr(name, p, v)?),
                None => None,
            });
        }
        let value = |k: usize, default: f64| values[k].unwrap_or(default);
        Ok(match name {
            "sgd" => Optimizer::Sgd { lr: value(0, 0.0) },
            "momentum" => Optimizer::Momentum {
                lr: value(0, 0.0),
                beta: value(1, 0.9),
            },
            _ => Optimizer::Adam {
                lr: value(0, 0.0),
                beta1: value(1, 0.9),
                beta2: value(2, 0.999),
                eps: value(3, 1e-8),
            },
        })
    }

    fn not_an_optimizer(&mut self, span: Span) -> super::Failed {
        self.report(
            Diag::error("minimize: the optimizer must be `sgd(lr)`, `momentum(lr, beta)` or `adam(lr, beta1, beta2, eps)`", span),
        )
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

    /// A new slot variable `VAR.suffix` of `ty`, initialised to zeros.
    fn opt_slot(
        &mut self,
        var: &str,
        suffix: &str,
        ty: &TensorType,
        span: Span,
    ) -> BResult<NodeId> {
        let base = format!("{var}.{suffix}");
        let taken = |b: &Builder, n: &str| {
            b.module.variables.iter().any(|v| v.name == n)
                || b.module.placeholders.iter().any(|p| p.name == n)
        };
        let mut name = base.clone();
        let mut k = 2;
        while taken(self, &name) {
            name = format!("{base}{k}");
            k += 1;
        }
        let id = self.add_typed(
            Op::Variable { name: name.clone() },
            Vec::new(),
            ty.clone(),
            span,
        )?;
        self.module.variables.push(VariableDecl {
            name,
            ty: ty.clone(),
            init: Tensor::full(ty, 0.0),
            span,
        });
        Ok(id)
    }

    /// `a op b` with type inference.
    fn opt_bin(&mut self, op: BinaryOp, a: NodeId, b: NodeId, span: Span) -> BResult<NodeId> {
        self.add_node(Op::Binary(op), &[(a, span), (b, span)], span)
    }

    fn opt_scalar(&mut self, dtype: DType, value: f64, span: Span) -> BResult<NodeId> {
        self.constant(Tensor::scalar(dtype, value), span)
    }

    /// `a * x + b * y` for scalars `a`, `b`.
    fn opt_mix(&mut self, a: f64, x: NodeId, b: f64, y: NodeId, span: Span) -> BResult<NodeId> {
        let dtype = self.graph().ty(x).dtype;
        let (ca, cb) = (
            self.opt_scalar(dtype, a, span)?,
            self.opt_scalar(dtype, b, span)?,
        );
        let ax = self.opt_bin(BinaryOp::Mul, ca, x, span)?;
        let by = self.opt_bin(BinaryOp::Mul, cb, y, span)?;
        self.opt_bin(BinaryOp::Add, ax, by, span)
    }

    fn opt_assign(&mut self, var: NodeId, value: NodeId, span: Span) -> BResult<NodeId> {
        let (op, ty) = match &self.graph().node(var).op {
            Op::Variable { name } => (
                Op::Assign { var: name.clone() },
                self.graph().ty(var).clone(),
            ),
            _ => {
                return Err(self.report(Diag::internal(
                    "the IR builder",
                    "assign to a non-variable",
                    Some(span),
                )))
            }
        };
        self.add_typed(op, vec![value], ty, span)
    }

    /// The assigns of one optimiser step for variable `var` with gradient `g`.
    fn update(
        &mut self,
        opt: &Optimizer,
        name: &str,
        var: NodeId,
        g: NodeId,
        span: Span,
    ) -> BResult<Vec<NodeId>> {
        let ty = self.graph().ty(var).clone();
        let dtype = ty.dtype;
        let mut assigns = Vec::new();
        let step = match *opt {
            // v -= lr * g
            Optimizer::Sgd { lr } => {
                let c = self.opt_scalar(dtype, lr, span)?;
                self.opt_bin(BinaryOp::Mul, c, g, span)?
            }
            // m = beta * m + g; v -= lr * m
            Optimizer::Momentum { lr, beta } => {
                let m = self.opt_slot(name, "momentum", &ty, span)?;
                let m_new = self.opt_mix(beta, m, 1.0, g, span)?;
                assigns.push(self.opt_assign(m, m_new, span)?);
                let c = self.opt_scalar(dtype, lr, span)?;
                self.opt_bin(BinaryOp::Mul, c, m_new, span)?
            }
            // t += 1; m = b1 m + (1-b1) g; s = b2 s + (1-b2) g^2;
            // v -= lr * (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                let m = self.opt_slot(name, "adam_m", &ty, span)?;
                let s = self.opt_slot(name, "adam_v", &ty, span)?;
                let t = self.opt_slot(name, "adam_t", &TensorType::scalar(dtype), span)?;
                let one = self.opt_scalar(dtype, 1.0, span)?;
                let t_new = self.opt_bin(BinaryOp::Add, t, one, span)?;
                let m_new = self.opt_mix(beta1, m, 1.0 - beta1, g, span)?;
                let g2 = self.opt_bin(BinaryOp::Mul, g, g, span)?;
                let s_new = self.opt_mix(beta2, s, 1.0 - beta2, g2, span)?;
                let mut corrections = Vec::new();
                for beta in [beta1, beta2] {
                    let b = self.opt_scalar(dtype, beta, span)?;
                    let power = self.opt_bin(BinaryOp::Pow, b, t_new, span)?;
                    corrections.push(self.opt_bin(BinaryOp::Sub, one, power, span)?);
                }
                let m_hat = self.opt_bin(BinaryOp::Div, m_new, corrections[0], span)?;
                let s_hat = self.opt_bin(BinaryOp::Div, s_new, corrections[1], span)?;
                let root = self.add_node(Op::Unary(UnaryOp::Sqrt), &[(s_hat, span)], span)?;
                let e = self.opt_scalar(dtype, eps, span)?;
                let denominator = self.opt_bin(BinaryOp::Add, root, e, span)?;
                let ratio = self.opt_bin(BinaryOp::Div, m_hat, denominator, span)?;
                let c = self.opt_scalar(dtype, lr, span)?;
                for (slot, value) in [(t, t_new), (m, m_new), (s, s_new)] {
                    assigns.push(self.opt_assign(slot, value, span)?);
                }
                self.opt_bin(BinaryOp::Mul, c, ratio, span)?
            }
        };
        let new = self.opt_bin(BinaryOp::Sub, var, step, span)?;
        assigns.push(self.opt_assign(var, new, span)?);
        Ok(assigns)
    }
}
