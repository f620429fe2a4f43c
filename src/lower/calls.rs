//! Calls: user `fn`s (inlined at the call site) and the built-in functions
//! (elementwise, reductions, shape ops, state). Network ops are in `calls_net.rs`,
//! value constructors in `values.rs`.

use super::args::Call;
use super::literals::fold_select;
use super::scope::with_suggestion;
use super::{BResult, Builder, Value};
use crate::diag::{Diag, Span};
use crate::ir::graph::NodeId;
use crate::ir::infer::infer_reshape;
use crate::ir::op::{AllreduceOp, BinaryOp, Op, ReduceOp, UnaryOp};
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, Ident, Item};
use std::rc::Rc;

/// Every built-in function name (for "did you mean" and the REPL's completion).
pub const BUILTINS: &[&str] = &[
    "exp",
    "log",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "maximum",
    "minimum",
    "where",
    "cast",
    "stop_gradient",
    "allreduce",
    "sum",
    "mean",
    "max",
    "min",
    "argmax",
    "reshape",
    "flatten",
    "transpose",
    "concat",
    "pad",
    "take",
    "one_hot",
    "matmul",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy",
    "mean_squared_error",
    "sparse_softmax_cross_entropy",
    "sigmoid_cross_entropy",
    "zeros",
    "ones",
    "fill",
    "randn",
    "uniform",
    "xavier",
    "he",
    "truncated_normal",
    "load",
    "assign",
    "group",
    "grad",
    "minimize",
    "sgd",
    "momentum",
    "adam",
    "step",
    "random_normal",
    "random_uniform",
    "dropout",
];

fn unary_builtin(name: &str) -> Option<UnaryOp> {
    Some(match name {
        "exp" => UnaryOp::Exp,
        "log" => UnaryOp::Log,
        "sqrt" => UnaryOp::Sqrt,
        "abs" => UnaryOp::Abs,
        "tanh" => UnaryOp::Tanh,
        "sigmoid" => UnaryOp::Sigmoid,
        "relu" => UnaryOp::Relu,
        "sin" => UnaryOp::Sin,
        "cos" => UnaryOp::Cos,
        _ => return None,
    })
}

fn reduce_builtin(name: &str) -> Option<ReduceOp> {
    Some(match name {
        "sum" => ReduceOp::Sum,
        "mean" => ReduceOp::Mean,
        "max" => ReduceOp::Max,
        "min" => ReduceOp::Min,
        _ => return None,
    })
}

impl Builder<'_> {
    pub(crate) fn call(
        &mut self,
        callee: &Ident,
        args: &[Expr],
        named: &[(Ident, Expr)],
        span: Span,
    ) -> BResult<Value> {
        let name = callee.name.as_str();
        let call = Call {
            name,
            args,
            named,
            span,
        };
        if let Some(&index) = self.globals.get(name) {
            if let Item::Fn { .. } = self.program.items[index] {
                if let Some((key, _)) = named.first() {
                    return Err(self.error(
                        format!("`{name}` is a fn: it takes positional arguments only"),
                        key.span,
                    ));
                }
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.expr(a)?);
                }
                return self.inline_fn(name, callee.span, &values, span);
            }
        }
        if let Some(op) = unary_builtin(name) {
            let b = self.bind(&call, &["x"], 1)?;
            let x = b[0].ok_or(super::Failed)?;
            let v = self.expr(x)?;
            return self.unary(op, v, x.span, span);
        }
        if let Some(op) = reduce_builtin(name) {
            return self.reduce(&call, op);
        }
        match name {
            "maximum" | "minimum" => {
                let b = self.bind(&call, &["a", "b"], 2)?;
                let (a, bb) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
                let op = if name == "maximum" {
                    BinaryOp::Maximum
                } else {
                    BinaryOp::Minimum
                };
                let (va, vb) = (self.expr(a)?, self.expr(bb)?);
                self.binary(op, (va, a.span), (vb, bb.span), span)
            }
            "where" => self.select(&call),
            "cast" => {
                let b = self.bind(&call, &["x", "dtype"], 2)?;
                let (x, d) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
                let dtype = self.dtype_attr(name, d)?;
                let v = self.expr(x)?;
                let id = match &v {
                    Value::Weak(w) if w.kind.fits(dtype) => self.operand_as(&v, dtype, x.span)?,
                    _ => self.operand(&v, x.span)?,
                };
                self.node(Op::Cast(dtype), &[(id, x.span)], span)
            }
            "stop_gradient" => {
                let b = self.bind(&call, &["x"], 1)?;
                let x = self.arg(&b, 0)?;
                let id = self.tensor_arg(x)?;
                self.node(Op::StopGradient, &[(id, x.span)], span)
            }
            "allreduce" => {
                // In a region, ranks could take different branches and wait forever.
                self.require_top_level(name, span)?;
                let b = self.bind(&call, &["x", "op"], 1)?;
                let x = self.arg(&b, 0)?;
                let op = match b[1] {
                    None => AllreduceOp::Mean,
                    Some(e) => match self.str_attr(name, "op", e)?.as_str() {
                        "sum" => AllreduceOp::Sum,
                        "mean" => AllreduceOp::Mean,
                        "max" => AllreduceOp::Max,
                        other => {
                            return Err(self.error(
                                format!("allreduce: `op` must be \"sum\", \"mean\" or \"max\", got \"{other}\""),
                                e.span,
                            ))
                        }
                    },
                };
                let id = self.tensor_arg(x)?;
                self.node(Op::Allreduce { op }, &[(id, x.span)], span)
            }
            "argmax" => {
                let b = self.bind(&call, &["x", "axis"], 2)?;
                let (x, a) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
                let id = self.tensor_arg(x)?;
                let ty = self.graph().ty(id).clone();
                let axis = self.int_attr(name, "axis", a)?;
                let axis = self.axis(name, axis, &ty, a.span)?;
                self.node(Op::ArgMax { axis }, &[(id, x.span)], span)
            }
            "reshape" => {
                let b = self.bind(&call, &["x", "shape"], 2)?;
                let (x, s) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
                let id = self.tensor_arg(x)?;
                let spec = self.ints_attr(name, "shape", s, true)?;
                let ty = self.graph().ty(id).clone();
                match infer_reshape(&ty, &spec) {
                    Ok(out) => self.typed(Op::Reshape, id, out, span),
                    Err(m) => Err(self
                        .report(Diag::error(m, span).with_label(x.span, format!("this is {ty}")))),
                }
            }
            "flatten" => {
                let b = self.bind(&call, &["x"], 1)?;
                let x = self.arg(&b, 0)?;
                let id = self.tensor_arg(x)?;
                let ty = self.graph().ty(id).clone();
                let Some((&first, rest)) = ty.shape.dims().split_first() else {
                    return Err(
                        self.error(format!("flatten: cannot flatten the scalar {ty}"), x.span)
                    );
                };
                let rest = rest.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                let Some(rest) = rest else {
                    return Err(self.error(format!("tensor too large: flatten of {ty}"), span));
                };
                let out = TensorType::new(ty.dtype, vec![first, rest]);
                self.typed(Op::Reshape, id, out, span)
            }
            "transpose" => {
                let b = self.bind(&call, &["x", "perm"], 1)?;
                let x = self.arg(&b, 0)?;
                let id = self.tensor_arg(x)?;
                let ty = self.graph().ty(id).clone();
                let perm = match b[1] {
                    None => (0..ty.shape.rank()).rev().collect(),
                    Some(p) => {
                        let raw = self.ints_attr(name, "perm", p, false)?;
                        let mut perm = Vec::new();
                        for a in raw {
                            perm.push(self.axis(name, a, &ty, p.span)?);
                        }
                        perm
                    }
                };
                self.node(Op::Transpose { perm }, &[(id, x.span)], span)
            }
            "assign" => self.assign(&call),
            "group" => self.group(&call),
            "grad" => self.grad_call(&call),
            "minimize" => self.minimize_call(&call),
            "sgd" | "momentum" | "adam" => Err(self.error(
                format!("`{name}` is an optimizer: use it inside `minimize(loss, {name}(...))`"),
                span,
            )),
            "zeros" | "ones" | "fill" | "randn" | "uniform" | "xavier" | "load" => {
                let t = self.construct(&call, None)?;
                let id = self.constant(t, span)?;
                Ok(self.here(id))
            }
            _ => match self.net_call(&call)? {
                Some(v) => Ok(v),
                None => match self.random_call(&call)? {
                    Some(v) => Ok(v),
                    None => Err(self.unknown_function(callee)),
                },
            },
        }
    }

    fn unknown_function(&mut self, callee: &Ident) -> super::Failed {
        let fns: Vec<String> = self
            .program
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Fn { name, .. } => Some(name.name.clone()),
                _ => None,
            })
            .collect();
        let candidates = BUILTINS
            .iter()
            .copied()
            .chain(fns.iter().map(String::as_str));
        let diag = Diag::error(format!("unknown function `{}`", callee.name), callee.span);
        self.report(with_suggestion(diag, &callee.name, candidates))
    }

    /// The bound argument `k` (required ones are checked by `bind`).
    pub(crate) fn arg<'e>(&mut self, bound: &[Option<&'e Expr>], k: usize) -> BResult<&'e Expr> {
        bound.get(k).copied().flatten().ok_or(super::Failed)
    }

    /// An argument that must be a tensor: built, literals take their default dtype.
    pub(crate) fn tensor_arg(&mut self, e: &Expr) -> BResult<NodeId> {
        let v = self.expr(e)?;
        self.operand(&v, e.span)
    }

    /// A node from inferred inputs, as a value.
    pub(crate) fn node(&mut self, op: Op, inputs: &[(NodeId, Span)], span: Span) -> BResult<Value> {
        let id = self.add_node(op, inputs, span)?;
        Ok(self.here(id))
    }

    /// A one-input node of a known type (reshapes).
    fn typed(&mut self, op: Op, input: NodeId, ty: TensorType, span: Span) -> BResult<Value> {
        let id = self.add_typed(op, vec![input], ty, span)?;
        Ok(self.here(id))
    }

    /// `sum mean max min (x, axis=, keepdims=)`.
    fn reduce(&mut self, call: &Call, op: ReduceOp) -> BResult<Value> {
        let name = call.name;
        let b = self.bind(call, &["x", "axis", "keepdims"], 1)?;
        let x = self.arg(&b, 0)?;
        let id = self.tensor_arg(x)?;
        let ty = self.graph().ty(id).clone();
        let mut axes: Vec<usize> = match b[1] {
            None => (0..ty.shape.rank()).collect(),
            Some(a) => {
                let raw = self.ints_attr(name, "axis", a, true)?;
                let mut axes = Vec::new();
                for r in raw {
                    let k = self.axis(name, r, &ty, a.span)?;
                    if axes.contains(&k) {
                        return Err(self.error(format!("{name}: axis {r} appears twice"), a.span));
                    }
                    axes.push(k);
                }
                axes
            }
        };
        axes.sort_unstable();
        let keepdims = match b[2] {
            None => false,
            Some(k) => self.bool_attr(name, "keepdims", k)?,
        };
        self.node(
            Op::Reduce { op, axes, keepdims },
            &[(id, x.span)],
            call.span,
        )
    }

    /// `where(c, a, b)`.
    fn select(&mut self, call: &Call) -> BResult<Value> {
        let b = self.bind(call, &["c", "a", "b"], 3)?;
        let (c, a, e) = (self.arg(&b, 0)?, self.arg(&b, 1)?, self.arg(&b, 2)?);
        let (vc, va, vb) = (self.expr(c)?, self.expr(a)?, self.expr(e)?);
        if let (Value::Weak(wc), Value::Weak(wa), Value::Weak(wb)) = (&vc, &va, &vb) {
            return match fold_select(wc, wa, wb) {
                Ok(w) => Ok(Value::Weak(Rc::new(w))),
                Err(m) => Err(self.error(m, call.span)),
            };
        }
        let nc = self.operand_as(&vc, DType::Bool, c.span)?;
        let (na, nb) = self.unify2((va, a.span), (vb, e.span), "where")?;
        self.node(
            Op::Select,
            &[(nc, c.span), (na, a.span), (nb, e.span)],
            call.span,
        )
    }
}
