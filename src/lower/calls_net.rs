//! Built-in network and layout ops: `matmul conv2d softmax log_softmax
//! softmax_cross_entropy mean_squared_error one_hot pad concat` (pooling and
//! the other losses are in `calls_pool.rs`).

use super::args::Call;
use super::{BResult, Builder, Value};
use crate::diag::Span;
use crate::ir::graph::NodeId;
use crate::ir::infer::same_pads;
use crate::ir::op::Op;
use crate::ir::types::DType;
use crate::syntax::ast::{Expr, ExprKind};

impl Builder<'_> {
    /// A network or layout op, or `None` when `call.name` is none of them.
    pub(crate) fn net_call(&mut self, call: &Call) -> BResult<Option<Value>> {
        let name = call.name;
        let span = call.span;
        let v = match name {
            "matmul" => {
                let b = self.bind(call, &["a", "b"], 2)?;
                let (na, nb, sa, sb) = self.pair(&b)?;
                self.node(Op::MatMul, &[(na, sa), (nb, sb)], span)?
            }
            "conv2d" => self.conv2d(call)?,
            "softmax" | "log_softmax" => {
                let b = self.bind(call, &["x", "axis"], 1)?;
                let x = self.arg(&b, 0)?;
                let id = self.tensor_arg(x)?;
                let ty = self.graph().ty(id).clone();
                let raw = match b[1] {
                    Some(a) => self.int_attr(name, "axis", a)?,
                    None => -1,
                };
                let axis = self.axis(name, raw, &ty, b[1].map_or(x.span, |a| a.span))?;
                let op = if name == "softmax" {
                    Op::Softmax { axis }
                } else {
                    Op::LogSoftmax { axis }
                };
                self.node(op, &[(id, x.span)], span)?
            }
            "softmax_cross_entropy" | "mean_squared_error" => {
                let params: &[&str] = if name == "mean_squared_error" {
                    &["pred", "target"]
                } else {
                    &["logits", "labels"]
                };
                let b = self.bind(call, params, 2)?;
                let (na, nb, sa, sb) = self.pair(&b)?;
                let op = if name == "mean_squared_error" {
                    Op::MeanSquaredError
                } else {
                    Op::SoftmaxCrossEntropy
                };
                self.node(op, &[(na, sa), (nb, sb)], span)?
            }
            "one_hot" => {
                let b = self.bind(call, &["labels", "depth"], 2)?;
                let (l, d) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
                let v = self.expr(l)?;
                let id = self.operand_as(&v, DType::I32, l.span)?;
                let depth = self.sizes_attr(name, "depth", d, true)?;
                let [depth] = depth[..] else {
                    return Err(self.error("`one_hot`: `depth` must be one integer", d.span));
                };
                self.node(Op::OneHot { depth }, &[(id, l.span)], span)?
            }
            "pad" => self.pad(call)?,
            "concat" => self.concat(call)?,
            "take" => self.take(call)?,
            _ => return self.pool_call(call),
        };
        Ok(Some(v))
    }

    /// Two tensor arguments of one dtype (a literal takes the other's dtype and,
    /// for the losses, its shape).
    fn pair(&mut self, b: &[Option<&Expr>]) -> BResult<(NodeId, NodeId, Span, Span)> {
        let (a, e) = (self.arg(b, 0)?, self.arg(b, 1)?);
        let (va, vb) = (self.expr(a)?, self.expr(e)?);
        let (na, nb) = match (&va, &vb) {
            (Value::Node(..), Value::Weak(_)) => {
                let na = self.operand(&va, a.span)?;
                let ty = self.graph().ty(na).clone();
                (na, self.operand_exact(&vb, &ty, e.span, "operand")?)
            }
            (Value::Weak(_), Value::Node(..)) => {
                let nb = self.operand(&vb, e.span)?;
                let ty = self.graph().ty(nb).clone();
                (self.operand_exact(&va, &ty, a.span, "operand")?, nb)
            }
            _ => self.unify2((va, a.span), (vb, e.span), "operands")?,
        };
        Ok((na, nb, a.span, e.span))
    }

    /// A window size or strides: one integer or a list of two.
    pub(crate) fn window_attr(
        &mut self,
        fname: &str,
        pname: &str,
        e: &Expr,
    ) -> BResult<[usize; 2]> {
        let list = self.sizes_attr(fname, pname, e, true)?;
        match list[..] {
            [s] => Ok([s, s]),
            [h, w] => Ok([h, w]),
            // TF style `[1, sh, sw, 1]`.
            [1, h, w, 1] if pname == "strides" => Ok([h, w]),
            _ => Err(self.error(
                format!("`{fname}`: `{pname}` must be an integer or a list of two"),
                e.span,
            )),
        }
    }

    /// `conv2d(x, w, strides=[1, 1], padding="VALID")`.
    fn conv2d(&mut self, call: &Call) -> BResult<Value> {
        let name = call.name;
        let b = self.bind(call, &["x", "w", "strides", "padding"], 2)?;
        let (x, w) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let (vx, vw) = (self.expr(x)?, self.expr(w)?);
        let (nx, nw) = self.unify2((vx, x.span), (vw, w.span), name)?;
        let strides = match b[2] {
            Some(s) => self.window_attr(name, "strides", s)?,
            None => [1, 1],
        };
        let padding = match b[3] {
            Some(p) => self.same_padding(name, p)?,
            None => false,
        };
        let (xd, wd) = (
            self.graph().ty(nx).shape.0.clone(),
            self.graph().ty(nw).shape.0.clone(),
        );
        let pads = if padding && xd.len() == 4 && wd.len() == 4 {
            let [top, bottom] = same_pads(xd[1], wd[0], strides[0]);
            let [left, right] = same_pads(xd[2], wd[1], strides[1]);
            [top, bottom, left, right]
        } else {
            [0; 4]
        };
        self.node(
            Op::Conv2d { strides, pads },
            &[(nx, x.span), (nw, w.span)],
            call.span,
        )
    }

    /// `pad(x, [[before, after], ...], value=0, mode="CONSTANT")`.
    fn pad(&mut self, call: &Call) -> BResult<Value> {
        let name = call.name;
        let b = self.bind(call, &["x", "pads", "value", "mode"], 2)?;
        let (x, p) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let id = self.tensor_arg(x)?;
        let dtype = self.graph().ty(id).dtype;
        let mut pads = Vec::new();
        let rows = match &p.kind {
            ExprKind::Array(rows) => rows.as_slice(),
            _ => &[],
        };
        if !matches!(p.kind, ExprKind::Array(_)) {
            return Err(self.error(
                "`pad`: the padding must be a list of [before, after] pairs",
                p.span,
            ));
        }
        for row in rows {
            let pair = self.sizes_attr(name, "pads", row, false)?;
            let [before, after] = pair[..] else {
                return Err(self.error("`pad`: each entry must be [before, after]", row.span));
            };
            pads.push([before, after]);
        }
        if let Some(symmetric) = self.pad_mode(b[3], b[2])? {
            return self.node(
                Op::MirrorPad { pads, symmetric },
                &[(id, x.span)],
                call.span,
            );
        }
        let value = match b[2] {
            None => 0.0,
            Some(v) => {
                let w = self.number_attr(name, "value", v)?;
                if !w.kind.fits(dtype) {
                    return Err(self.error(
                        format!("`pad`: {} cannot pad a {dtype} tensor", w.kind.describe()),
                        v.span,
                    ));
                }
                w.data.first().copied().unwrap_or(0.0)
            }
        };
        self.node(Op::Pad { pads, value }, &[(id, x.span)], call.span)
    }

    /// `concat([a, b, ...], axis=0)`.
    fn concat(&mut self, call: &Call) -> BResult<Value> {
        let name = call.name;
        let b = self.bind(call, &["tensors", "axis"], 1)?;
        let list = self.arg(&b, 0)?;
        let ExprKind::Array(items) = &list.kind else {
            return Err(self.error(
                "`concat`: the first argument must be a list `[a, b, ...]`",
                list.span,
            ));
        };
        if items.is_empty() {
            return Err(self.error("`concat`: needs at least one tensor", list.span));
        }
        let mut values = Vec::new();
        for e in items {
            values.push(self.expr(e)?);
        }
        let ids = self.unify_all(&values, items, "concat")?;
        let ty = self.graph().ty(ids[0]).clone();
        let raw = match b[1] {
            Some(a) => self.int_attr(name, "axis", a)?,
            None => 0,
        };
        let axis = self.axis(name, raw, &ty, b[1].map_or(list.span, |a| a.span))?;
        let inputs: Vec<(NodeId, Span)> = ids
            .iter()
            .copied()
            .zip(items.iter().map(|e| e.span))
            .collect();
        self.node(Op::Concat { axis }, &inputs, call.span)
    }
}
