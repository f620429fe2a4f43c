//! Built-in pooling and the losses with integer or binary targets:
//! `max_pool2d avg_pool2d sparse_softmax_cross_entropy sigmoid_cross_entropy`.

use super::args::Call;
use super::{BResult, Builder, Value};
use crate::ir::infer::{check_labels, same_pads};
use crate::ir::op::Op;
use crate::ir::types::DType;
use crate::ir::Tensor;
use crate::syntax::ast::Expr;

impl Builder<'_> {
    /// A pooling op or one of these losses, or `None` when `call.name` is none
    /// of them.
    pub(crate) fn pool_call(&mut self, call: &Call) -> BResult<Option<Value>> {
        Ok(Some(match call.name {
            "max_pool2d" | "avg_pool2d" => self.pool2d(call)?,
            "sparse_softmax_cross_entropy" => self.sparse_softmax_cross_entropy(call)?,
            "sigmoid_cross_entropy" => {
                let b = self.bind(call, &["logits", "targets"], 2)?;
                let (x, z) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
                let (vx, vz) = (self.expr(x)?, self.expr(z)?);
                let (nx, nz) = self.unify2((vx, x.span), (vz, z.span), call.name)?;
                self.node(
                    Op::SigmoidCrossEntropy,
                    &[(nx, x.span), (nz, z.span)],
                    call.span,
                )?
            }
            _ => return Ok(None),
        }))
    }

    /// `max_pool2d(x, size, strides=size, padding="VALID")`, and `avg_pool2d`.
    fn pool2d(&mut self, call: &Call) -> BResult<Value> {
        let name = call.name;
        let b = self.bind(call, &["x", "size", "strides", "padding"], 2)?;
        let (x, s) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let id = self.tensor_arg(x)?;
        let size = self.window_attr(name, "size", s)?;
        let strides = match b[2] {
            Some(st) => self.window_attr(name, "strides", st)?,
            None => size,
        };
        let same = match b[3] {
            Some(p) => self.same_padding(name, p)?,
            None => false,
        };
        let dims = self.graph().ty(id).shape.0.clone();
        let pads = if same && dims.len() == 4 {
            let [top, bottom] = same_pads(dims[1], size[0], strides[0]);
            let [left, right] = same_pads(dims[2], size[1], strides[1]);
            [top, bottom, left, right]
        } else {
            [0; 4]
        };
        let op = if name == "max_pool2d" {
            Op::MaxPool2d {
                size,
                strides,
                pads,
            }
        } else {
            Op::AvgPool2d {
                size,
                strides,
                pads,
            }
        };
        self.node(op, &[(id, x.span)], call.span)
    }

    /// `padding="SAME"` (true) or `"VALID"` (false), in any case.
    pub(crate) fn same_padding(&mut self, name: &str, p: &Expr) -> BResult<bool> {
        let text = self.str_attr(name, "padding", p)?;
        match text.to_ascii_uppercase().as_str() {
            "VALID" => Ok(false),
            "SAME" => Ok(true),
            _ => Err(self.error(
                format!("`{name}`: padding must be \"VALID\" or \"SAME\", got \"{text}\""),
                p.span,
            )),
        }
    }

    /// `sparse_softmax_cross_entropy(logits, labels)`: constant labels are
    /// checked against the class count here, at build time.
    fn sparse_softmax_cross_entropy(&mut self, call: &Call) -> BResult<Value> {
        let b = self.bind(call, &["logits", "labels"], 2)?;
        let (l, y) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let logits = self.tensor_arg(l)?;
        let v = self.expr(y)?;
        let labels = self.operand_as(&v, DType::I32, y.span)?;
        let classes = match self.graph().ty(logits).shape.dims() {
            [_, c] => Some(*c),
            _ => None,
        };
        if let (Some(c), Op::Const(t)) = (classes, &self.graph().node(labels).op) {
            if let Tensor::I32(a) = t.as_ref() {
                let values: Vec<i32> = a.iter().copied().collect();
                if let Err(m) = check_labels(&values, c) {
                    return Err(self.error(m, y.span));
                }
            }
        }
        self.node(
            Op::SparseSoftmaxCrossEntropy,
            &[(logits, l.span), (labels, y.span)],
            call.span,
        )
    }
}
