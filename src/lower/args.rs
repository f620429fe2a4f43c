//! Arguments of built-in calls: binding positional and named arguments to
//! parameter names, and reading attributes (axes, shapes, strides, depth, dtype
//! names, strings), which must be literals.

use super::literals::{Weak, WeakKind};
use super::{BResult, Builder, Value};
use crate::diag::Span;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind, Ident, UnaryOp};

/// One call of a built-in function.
#[derive(Clone, Copy)]
pub(crate) struct Call<'e> {
    pub name: &'e str,
    pub args: &'e [Expr],
    pub named: &'e [(Ident, Expr)],
    pub span: Span,
}

/// The literal integer of `e` (`3` or `-3`), if it is one.
pub(crate) fn int_literal(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Int(i) => Some(*i),
        ExprKind::Unary(UnaryOp::Neg, inner) => match inner.kind {
            ExprKind::Int(i) => i.checked_neg(),
            _ => None,
        },
        _ => None,
    }
}

impl Builder<'_> {
    /// Binds the call's arguments to `params` (positional first, then by name);
    /// the first `required` parameters must be given.
    pub(crate) fn bind<'e>(
        &mut self,
        call: &Call<'e>,
        params: &[&str],
        required: usize,
    ) -> BResult<Vec<Option<&'e Expr>>> {
        let name = call.name;
        let mut bound: Vec<Option<&'e Expr>> = vec![None; params.len()];
        if call.args.len() > params.len() {
            let extra = &call.args[params.len()];
            return Err(self.error(
                format!(
                    "`{name}` takes at most {} argument{} ({}), got {}",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    params.join(", "),
                    call.args.len()
                ),
                extra.span,
            ));
        }
        for (slot, arg) in bound.iter_mut().zip(call.args) {
            *slot = Some(arg);
        }
        for (key, value) in call.named {
            let Some(k) = params.iter().position(|p| *p == key.name) else {
                return Err(self.error(
                    format!(
                        "`{name}` has no argument `{}`; its arguments are: {}",
                        key.name,
                        params.join(", ")
                    ),
                    key.span,
                ));
            };
            if bound[k].is_some() {
                return Err(self.error(
                    format!("`{name}`: argument `{}` is given twice", key.name),
                    key.span,
                ));
            }
            bound[k] = Some(value);
        }
        if let Some(missing) = (0..required).find(|&k| bound[k].is_none()) {
            return Err(self.error(
                format!("`{name}`: missing argument `{}`", params[missing]),
                call.span,
            ));
        }
        Ok(bound)
    }

    /// An integer attribute: a literal such as `1` or `-1`.
    pub(crate) fn int_attr(&mut self, fname: &str, pname: &str, e: &Expr) -> BResult<i64> {
        int_literal(e).ok_or_else(|| {
            self.error(
                format!("`{fname}`: `{pname}` must be an integer literal"),
                e.span,
            )
        })
    }

    /// A list of integer literals; a single integer is accepted when `single` is set.
    pub(crate) fn ints_attr(
        &mut self,
        fname: &str,
        pname: &str,
        e: &Expr,
        single: bool,
    ) -> BResult<Vec<i64>> {
        if single {
            if let Some(i) = int_literal(e) {
                return Ok(vec![i]);
            }
        }
        let list = match &e.kind {
            ExprKind::Array(items) => items.iter().map(int_literal).collect::<Option<Vec<_>>>(),
            _ => None,
        };
        list.ok_or_else(|| {
            let what = if single {
                "an integer literal or a list of them"
            } else {
                "a list of integer literals"
            };
            self.error(format!("`{fname}`: `{pname}` must be {what}"), e.span)
        })
    }

    /// A list of non-negative integers (a shape, strides, sizes).
    pub(crate) fn sizes_attr(
        &mut self,
        fname: &str,
        pname: &str,
        e: &Expr,
        single: bool,
    ) -> BResult<Vec<usize>> {
        let list = self.ints_attr(fname, pname, e, single)?;
        list.iter()
            .map(|&i| usize::try_from(i).ok())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.error(format!("`{fname}`: `{pname}` must not be negative"), e.span))
    }

    pub(crate) fn bool_attr(&mut self, fname: &str, pname: &str, e: &Expr) -> BResult<bool> {
        match e.kind {
            ExprKind::Bool(b) => Ok(b),
            _ => Err(self.error(
                format!("`{fname}`: `{pname}` must be `true` or `false`"),
                e.span,
            )),
        }
    }

    pub(crate) fn str_attr(&mut self, fname: &str, pname: &str, e: &Expr) -> BResult<String> {
        match &e.kind {
            ExprKind::Str(s) => Ok(s.clone()),
            _ => Err(self.error(
                format!("`{fname}`: `{pname}` must be a string literal"),
                e.span,
            )),
        }
    }

    /// A dtype written as a bare name: `f32`, `f64`, `i32`, `bool`.
    pub(crate) fn dtype_attr(&mut self, fname: &str, e: &Expr) -> BResult<DType> {
        match &e.kind {
            ExprKind::Name(n) => DType::from_name(n).ok_or_else(|| {
                self.error(
                    format!("unknown dtype `{n}`; the dtypes are f32, f64, i32 and bool"),
                    e.span,
                )
            }),
            _ => Err(self.error(
                format!("`{fname}`: expected a dtype name: f32, f64, i32 or bool"),
                e.span,
            )),
        }
    }

    /// A constant number (a literal, or literals combined: `-1`, `1e-3 * 2`).
    pub(crate) fn number_attr(&mut self, fname: &str, pname: &str, e: &Expr) -> BResult<Weak> {
        let v = self.expr(e)?;
        match v {
            Value::Weak(w) if w.shape.rank() == 0 => Ok((*w).clone()),
            _ => Err(self.error(
                format!("`{fname}`: `{pname}` must be a constant number"),
                e.span,
            )),
        }
    }

    /// A float-valued constant (`std=`, `lo`, `hi`): ints are fine, bools are not.
    pub(crate) fn float_attr(&mut self, fname: &str, pname: &str, e: &Expr) -> BResult<f64> {
        let w = self.number_attr(fname, pname, e)?;
        if w.kind == WeakKind::Bool {
            return Err(self.error(format!("`{fname}`: `{pname}` must be a number"), e.span));
        }
        Ok(w.data.first().copied().unwrap_or(0.0))
    }

    /// Axis `axis` of `ty`, negative counting from the end.
    pub(crate) fn axis(
        &mut self,
        fname: &str,
        axis: i64,
        ty: &TensorType,
        span: Span,
    ) -> BResult<usize> {
        let rank = ty.shape.rank() as i64;
        if axis < -rank || axis >= rank {
            return Err(self.error(
                format!("{fname}: axis {axis} is out of range for {ty} (rank {rank})"),
                span,
            ));
        }
        Ok(if axis < 0 { axis + rank } else { axis } as usize)
    }
}
