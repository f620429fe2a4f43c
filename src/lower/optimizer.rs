//! The optimisers of `minimize` (`sgd`, `momentum`, `adam`): their
//! hyper-parameters (any `f32[]` expression; a literal folds at build time) and
//! the assigns of one step, with slot variables named `VAR.momentum`, ...
//! (`docs/autodiff.md`, `docs/language-notes.md`).

use super::args::Call;
use super::literals::WeakKind;
use super::{BResult, Builder, Value};
use crate::diag::{Diag, Span};
use crate::ir::graph::NodeId;
use crate::ir::module::VariableDecl;
use crate::ir::op::{BinaryOp, Op, UnaryOp};
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind};

/// A hyper-parameter: a number known at build time, or an `f32[]` node.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Hyper {
    Lit(f64),
    Node(NodeId),
}

/// An optimiser and its hyper-parameters.
pub(crate) enum Optimizer {
    Sgd {
        lr: Hyper,
    },
    Momentum {
        lr: Hyper,
        beta: Hyper,
    },
    Adam {
        lr: Hyper,
        beta1: Hyper,
        beta2: Hyper,
        eps: Hyper,
    },
}

impl Builder<'_> {
    /// `sgd(lr)`, `momentum(lr, beta)` or `adam(lr, beta1, beta2, eps)`.
    pub(crate) fn optimizer(&mut self, e: &Expr) -> BResult<Optimizer> {
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
                Some(v) => Some(self.hyper(name, p, v)?),
                None => None,
            });
        }
        let value = |k: usize, default: f64| values[k].unwrap_or(Hyper::Lit(default));
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

    /// One hyper-parameter: a number literal, or an `f32[]` expression.
    fn hyper(&mut self, opt: &str, pname: &str, e: &Expr) -> BResult<Hyper> {
        let v = self.expr(e)?;
        let ty = match &v {
            Value::Weak(w) if w.shape.rank() == 0 && w.kind != WeakKind::Bool => {
                return Ok(Hyper::Lit(w.data.first().copied().unwrap_or(0.0)))
            }
            Value::Weak(w) => TensorType::new(w.kind.default_dtype(), w.shape.dims().to_vec()),
            Value::Node(..) => {
                let id = self.operand(&v, e.span)?;
                let ty = self.graph().ty(id).clone();
                if ty.dtype == DType::F32 && ty.shape.rank() == 0 {
                    return Ok(Hyper::Node(id));
                }
                ty
            }
        };
        Err(self.report(
            Diag::error(
                format!(
                    "{opt}: the hyper-parameter `{pname}` must be an f32 scalar (f32[]), got {ty}"
                ),
                e.span,
            )
            .with_label(e.span, format!("this is {ty}")),
        ))
    }

    fn not_an_optimizer(&mut self, span: Span) -> super::Failed {
        self.report(
            Diag::error("minimize: the optimizer must be `sgd(lr)`, `momentum(lr, beta)` or `adam(lr, beta1, beta2, eps)`", span),
        )
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

    /// A hyper-parameter as a scalar node of `dtype`.
    fn opt_hyper(&mut self, h: Hyper, dtype: DType, span: Span) -> BResult<NodeId> {
        match h {
            Hyper::Lit(value) => self.opt_scalar(dtype, value, span),
            Hyper::Node(id) if self.graph().ty(id).dtype == dtype => Ok(id),
            Hyper::Node(id) => self.add_node(Op::Cast(dtype), &[(id, span)], span),
        }
    }

    /// `1 - h` as a scalar node of `dtype` (folded for a literal).
    fn opt_one_minus(&mut self, h: Hyper, dtype: DType, span: Span) -> BResult<NodeId> {
        match h {
            Hyper::Lit(value) => self.opt_scalar(dtype, 1.0 - value, span),
            Hyper::Node(_) => {
                let one = self.opt_scalar(dtype, 1.0, span)?;
                let h = self.opt_hyper(h, dtype, span)?;
                self.opt_bin(BinaryOp::Sub, one, h, span)
            }
        }
    }

    /// `a * x + b * y` for scalar nodes `a`, `b`.
    fn opt_mix(
        &mut self,
        a: NodeId,
        x: NodeId,
        b: NodeId,
        y: NodeId,
        span: Span,
    ) -> BResult<NodeId> {
        let ax = self.opt_bin(BinaryOp::Mul, a, x, span)?;
        let by = self.opt_bin(BinaryOp::Mul, b, y, span)?;
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
    /// `counters`: Adam's step counts of this `minimize` so far, one per
    /// dtype (the new value of each): every variable of one `minimize` is
    /// updated together, so one count serves them all, and their bias
    /// corrections are then one computation.
    pub(crate) fn update(
        &mut self,
        opt: &Optimizer,
        name: &str,
        var: NodeId,
        g: NodeId,
        counters: &mut Vec<(DType, NodeId)>,
        span: Span,
    ) -> BResult<Vec<NodeId>> {
        let ty = self.graph().ty(var).clone();
        let dtype = ty.dtype;
        let mut assigns = Vec::new();
        let step = match *opt {
            // v -= lr * g
            Optimizer::Sgd { lr } => {
                let c = self.opt_hyper(lr, dtype, span)?;
                self.opt_bin(BinaryOp::Mul, c, g, span)?
            }
            // m = beta * m + g; v -= lr * m
            Optimizer::Momentum { lr, beta } => {
                let m = self.opt_slot(name, "momentum", &ty, span)?;
                let b = self.opt_hyper(beta, dtype, span)?;
                let one = self.opt_scalar(dtype, 1.0, span)?;
                let m_new = self.opt_mix(b, m, one, g, span)?;
                assigns.push(self.opt_assign(m, m_new, span)?);
                let c = self.opt_hyper(lr, dtype, span)?;
                self.opt_bin(BinaryOp::Mul, c, m_new, span)?
            }
            // t += 1; m = b1 m + (1-b1) g; s = b2 s + (1-b2) g^2;
            // v -= lr * (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps), computed as
            // v -= (lr * r / (1 - b1^t)) * (m / (sqrt(s) + eps * r)), r = sqrt(1 - b2^t)
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                let m = self.opt_slot(name, "adam_m", &ty, span)?;
                let s = self.opt_slot(name, "adam_v", &ty, span)?;
                let one = self.opt_scalar(dtype, 1.0, span)?;
                let t_new = match counters.iter().find(|(d, _)| *d == dtype) {
                    Some(&(_, t_new)) => t_new,
                    None => {
                        let scalar = TensorType::scalar(dtype);
                        let t = self.opt_slot(name, "adam_t", &scalar, span)?;
                        let t_new = self.opt_bin(BinaryOp::Add, t, one, span)?;
                        assigns.push(self.opt_assign(t, t_new, span)?);
                        counters.push((dtype, t_new));
                        t_new
                    }
                };
                let (b1, c1) = (
                    self.opt_hyper(beta1, dtype, span)?,
                    self.opt_one_minus(beta1, dtype, span)?,
                );
                let m_new = self.opt_mix(b1, m, c1, g, span)?;
                let g2 = self.opt_bin(BinaryOp::Mul, g, g, span)?;
                let (b2, c2) = (
                    self.opt_hyper(beta2, dtype, span)?,
                    self.opt_one_minus(beta2, dtype, span)?,
                );
                let s_new = self.opt_mix(b2, s, c2, g2, span)?;
                let mut corrections = Vec::new();
                for beta in [beta1, beta2] {
                    let b = self.opt_hyper(beta, dtype, span)?;
                    let power = self.opt_bin(BinaryOp::Pow, b, t_new, span)?;
                    corrections.push(self.opt_bin(BinaryOp::Sub, one, power, span)?);
                }
                // The bias corrections fold into two scalars, so an element
                // costs one division and one square root instead of three
                // divisions and one: the same value up to rounding.
                let root_c2 =
                    self.add_node(Op::Unary(UnaryOp::Sqrt), &[(corrections[1], span)], span)?;
                let c = self.opt_hyper(lr, dtype, span)?;
                let lr_root = self.opt_bin(BinaryOp::Mul, c, root_c2, span)?;
                let scale = self.opt_bin(BinaryOp::Div, lr_root, corrections[0], span)?;
                let e = self.opt_hyper(eps, dtype, span)?;
                let eps_hat = self.opt_bin(BinaryOp::Mul, e, root_c2, span)?;
                let root = self.add_node(Op::Unary(UnaryOp::Sqrt), &[(s_new, span)], span)?;
                let denominator = self.opt_bin(BinaryOp::Add, root, eps_hat, span)?;
                let ratio = self.opt_bin(BinaryOp::Div, m_new, denominator, span)?;
                for (slot, value) in [(m, m_new), (s, s_new)] {
                    assigns.push(self.opt_assign(slot, value, span)?);
                }
                self.opt_bin(BinaryOp::Mul, scale, ratio, span)?
            }
        };
        let new = self.opt_bin(BinaryOp::Sub, var, step, span)?;
        assigns.push(self.opt_assign(var, new, span)?);
        Ok(assigns)
    }
}
