//! NumPy basic indexing `x[i, a:b, :, a:b:s, -1]` (at most an `Index`, one
//! `StridedSlice` and a `Reshape`; constant bounds checked here, at their own
//! spans) and `take(x, indices, axis)`.

use super::args::Call;
use super::literals::WeakKind;
use super::{BResult, Builder, Value};
use crate::diag::{Diag, Span};
use crate::ir::op::Op;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, Subscript};

/// One axis of a resolved slice: the start, the element count and the step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct AxisSlice {
    pub start: usize,
    pub size: usize,
    pub step: i64,
}

/// NumPy's `slice(start, stop, step).indices(n)` and the element count.
/// `step` is never 0. Bounds clamp to the axis; negative ones count from the end.
pub(crate) fn resolve_slice(
    n: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: i64,
) -> AxisSlice {
    // i128: no bound or step a program can write overflows here.
    let (n, step) = (n as i128, i128::from(step));
    let clamp = |v: Option<i64>, default: i128, lo: i128, hi: i128| match v.map(i128::from) {
        None => default,
        Some(v) if v < 0 => (v + n).max(lo),
        Some(v) => v.min(hi),
    };
    let (begin, end) = if step > 0 {
        (clamp(start, 0, 0, n), clamp(stop, n, 0, n))
    } else {
        (clamp(start, n - 1, -1, n - 1), clamp(stop, -1, -1, n - 1))
    };
    let size = if step > 0 {
        (end - begin + step - 1).div_euclid(step)
    } else {
        (begin - end - step - 1).div_euclid(-step)
    }
    .clamp(0, n);
    AxisSlice {
        // An empty slice reads nothing: its start is irrelevant.
        start: if size == 0 { 0 } else { begin as usize },
        size: size as usize,
        step: step as i64,
    }
}

impl Builder<'_> {
    /// `x[items]` with a slice or more than one item (a single index is `index`).
    pub(crate) fn subscript(
        &mut self,
        x: &Expr,
        items: &[Subscript],
        span: Span,
    ) -> BResult<Value> {
        let xv = self.expr(x)?;
        let mut id = self.operand(&xv, x.span)?;
        let x_ty = self.graph().ty(id).clone();
        let mut rest = items;
        // A run-time index selects along axis 0 first, as `x[i]` does.
        if let Some((Subscript::Index(i), tail)) = items.split_first() {
            let iv = self.expr(i)?;
            if let Value::Node(..) = iv {
                let index = self.operand(&iv, i.span)?;
                id = self.add_node(Op::Index, &[(id, x.span), (index, i.span)], span)?;
                rest = tail;
            }
        }
        let ty = self.graph().ty(id).clone();
        let dims = ty.shape.dims().to_vec();
        if rest.len() > dims.len() {
            return Err(self.error(
                format!("too many indices: {} given for {x_ty}", items.len()),
                span,
            ));
        }
        let first_axis = items.len() - rest.len();
        let mut slices = Vec::with_capacity(dims.len());
        let mut kept = Vec::with_capacity(dims.len());
        for (k, &n) in dims.iter().enumerate() {
            let Some(item) = rest.get(k) else {
                slices.push(AxisSlice {
                    start: 0,
                    size: n,
                    step: 1,
                });
                kept.push(n);
                continue;
            };
            match item {
                Subscript::Index(e) => {
                    let i = self.constant_int(e, "an index after the first")?;
                    let axis = k + first_axis;
                    let (ni, nn) = (i, n as i64);
                    if ni < -nn || ni >= nn {
                        return Err(self.report(
                            Diag::error(
                                format!("index {i} is out of range for axis {axis} of size {n}"),
                                e.span,
                            )
                            .with_label(x.span, format!("this is {x_ty}")),
                        ));
                    }
                    let start = if ni < 0 { ni + nn } else { ni } as usize;
                    slices.push(AxisSlice {
                        start,
                        size: 1,
                        step: 1,
                    });
                }
                Subscript::Slice {
                    start, stop, step, ..
                } => {
                    let bound = |b: &mut Self, e: &Option<Expr>| match e {
                        Some(e) => b.constant_int(e, "a slice bound").map(Some),
                        None => Ok(None),
                    };
                    let (a, b) = (bound(self, start)?, bound(self, stop)?);
                    let s = bound(self, step)?.unwrap_or(1);
                    if s == 0 {
                        let at = step.as_ref().map_or(span, |e| e.span);
                        return Err(self.error("slice step cannot be zero", at));
                    }
                    let slice = resolve_slice(n, a, b, s);
                    kept.push(slice.size);
                    slices.push(slice);
                }
            }
        }
        let whole = slices
            .iter()
            .zip(&dims)
            .all(|(s, &n)| s.start == 0 && s.size == n && s.step == 1);
        if !whole {
            let op = Op::StridedSlice {
                starts: slices.iter().map(|s| s.start).collect(),
                sizes: slices.iter().map(|s| s.size).collect(),
                steps: slices.iter().map(|s| s.step).collect(),
            };
            id = self.add_node(op, &[(id, x.span)], span)?;
        }
        if kept.len() != dims.len() {
            let out = TensorType::new(ty.dtype, kept);
            id = self.add_typed(Op::Reshape, vec![id], out, span)?;
        }
        Ok(self.here(id))
    }

    /// A constant integer scalar (a literal, or a name bound to one); `what`
    /// names the place in the error otherwise.
    fn constant_int(&mut self, e: &Expr, what: &str) -> BResult<i64> {
        match self.expr(e)? {
            Value::Weak(w) if w.kind == WeakKind::Int && w.shape.rank() == 0 => {
                Ok(w.data.first().copied().unwrap_or(0.0) as i64)
            }
            Value::Weak(_) => Err(self.error(format!("{what} must be an integer"), e.span)),
            Value::Node(..) => Err(self.error(
                format!(
                    "{what} must be a constant integer (only a single index, or the first one, may be a run-time i32[] tensor)"
                ),
                e.span,
            )),
        }
    }

    /// `take(x, indices, axis=0)`: constant indices are checked now.
    pub(crate) fn take(&mut self, call: &Call) -> BResult<Value> {
        let name = call.name;
        let b = self.bind(call, &["x", "indices", "axis"], 2)?;
        let (x, i) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let xn = self.tensor_arg(x)?;
        let ty = self.graph().ty(xn).clone();
        let raw = match b[2] {
            Some(a) => self.int_attr(name, "axis", a)?,
            None => 0,
        };
        let axis = self.axis(name, raw, &ty, b[2].map_or(x.span, |a| a.span))?;
        let iv = self.expr(i)?;
        if let Value::Weak(w) = &iv {
            if w.kind != WeakKind::Int {
                return Err(self.error("`take`: the indices must be integers", i.span));
            }
            let n = ty.shape.dims()[axis] as f64;
            let dims = w.shape.dims().to_vec();
            if let Some((k, v)) = w.data.iter().enumerate().find(|(_, &v)| v < -n || v >= n) {
                let position = unravel(k, &dims);
                return Err(self.report(
                    Diag::error(
                        format!(
                            "take: index {v} at position {position:?} is out of range for axis {axis} of size {n}"
                        ),
                        i.span,
                    )
                    .with_label(x.span, format!("this is {ty}")),
                ));
            }
        }
        let indices = self.operand_as(&iv, DType::I32, i.span)?;
        self.node(
            Op::Take { axis },
            &[(xn, x.span), (indices, i.span)],
            call.span,
        )
    }
}

impl Builder<'_> {
    /// `pad`'s `mode` (any case): `None` for `"CONSTANT"` (the default),
    /// `Some(symmetric)` for `"REFLECT"` / `"SYMMETRIC"`, which take no `value`.
    pub(crate) fn pad_mode(
        &mut self,
        mode: Option<&Expr>,
        value: Option<&Expr>,
    ) -> BResult<Option<bool>> {
        let Some(m) = mode else {
            return Ok(None);
        };
        let text = self.str_attr("pad", "mode", m)?;
        let symmetric = match text.to_ascii_uppercase().as_str() {
            "CONSTANT" => return Ok(None),
            "REFLECT" => false,
            "SYMMETRIC" => true,
            _ => {
                return Err(self.error(
                    format!(
                        "`pad`: mode must be \"CONSTANT\", \"REFLECT\" or \"SYMMETRIC\", got \"{text}\""
                    ),
                    m.span,
                ))
            }
        };
        if let Some(v) = value {
            return Err(self.error(
                format!("`pad`: `value` is only used with mode \"CONSTANT\", not \"{text}\""),
                v.span,
            ));
        }
        Ok(Some(symmetric))
    }
}

/// The multi-index of flat position `k` in a row-major array of shape `dims`.
fn unravel(mut k: usize, dims: &[usize]) -> Vec<usize> {
    let mut out = vec![0; dims.len()];
    for (slot, &d) in out.iter_mut().zip(dims).rev() {
        if d > 0 {
            *slot = k % d;
            k /= d;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::resolve_slice;

    /// (n, start, stop, step) → the indices NumPy's `range(*slice.indices(n))` gives.
    fn indices(n: usize, a: Option<i64>, b: Option<i64>, s: i64) -> Vec<i64> {
        let r = resolve_slice(n, a, b, s);
        (0..r.size as i64).map(|j| r.start as i64 + j * s).collect()
    }

    #[test]
    fn slices_follow_numpy() {
        assert_eq!(indices(5, None, None, 1), vec![0, 1, 2, 3, 4]);
        assert_eq!(indices(5, Some(1), Some(3), 1), vec![1, 2]);
        assert_eq!(indices(5, Some(-2), None, 1), vec![3, 4]);
        assert_eq!(indices(5, None, Some(-1), 2), vec![0, 2]);
        assert_eq!(indices(5, None, None, -1), vec![4, 3, 2, 1, 0]);
        assert_eq!(indices(5, Some(3), Some(0), -1), vec![3, 2, 1]);
        assert_eq!(indices(5, Some(-1), Some(-6), -2), vec![4, 2, 0]);
        assert_eq!(indices(5, Some(10), Some(-10), -3), vec![4, 1]);
        assert_eq!(indices(5, Some(3), Some(1), 1), Vec::<i64>::new());
        assert_eq!(indices(5, Some(-100), Some(100), 4), vec![0, 4]);
        assert_eq!(indices(0, None, None, -1), Vec::<i64>::new());
        assert_eq!(indices(6, Some(1), None, 3), vec![1, 4]);
        assert_eq!(
            indices(6, Some(i64::MIN), Some(i64::MAX), i64::MAX),
            vec![0]
        );
        assert_eq!(
            indices(6, Some(i64::MAX), Some(i64::MIN), i64::MIN),
            vec![5]
        );
    }
}
