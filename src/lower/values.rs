//! Value constructors at build time: `zeros ones fill randn uniform xavier he
//! truncated_normal load` (shape and dtype from a declaration they initialise,
//! else the shape required and `f32` unless `dtype=`). Each size is checked
//! against the memory limit first. A build without values (`check`, `graph`
//! without `--opt`) computes no constructor larger than `MAX_CONST_ELEMENTS`: a
//! zero tensor stands in (its zeroed pages are never touched).

use super::args::Call;
use super::{BResult, Builder};
use crate::diag::Diag;
use crate::diag::Span;
use crate::ir::init;
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind};

pub(crate) const CONSTRUCTORS: &[&str] = &[
    "zeros",
    "ones",
    "fill",
    "randn",
    "uniform",
    "xavier",
    "he",
    "truncated_normal",
    "load",
];

/// The parameters of each constructor after `shape` (always first) and before
/// `dtype` (always last), and how many of them are required.
fn value_params(name: &str) -> (&'static [&'static str], usize) {
    match name {
        "fill" => (&["value"], 1),
        "randn" => (&["seed", "std"], 0),
        "uniform" => (&["lo", "hi", "seed"], 2),
        "xavier" | "he" => (&["seed"], 0),
        "truncated_normal" => (&["seed", "std", "mean"], 0),
        "load" => (&["path"], 1),
        _ => (&[], 0),
    }
}

impl Builder<'_> {
    /// Evaluates a constructor call; `target` is the declared type of the variable
    /// or placeholder it initialises.
    pub(crate) fn construct(
        &mut self,
        call: &Call,
        target: Option<&TensorType>,
    ) -> BResult<Tensor> {
        let name = call.name;
        let (vparams, required) = value_params(name);
        // The first positional argument is the shape when it is a list, or
        // always outside an initialiser (`zeros(3)` is `zeros([3])` there).
        let shape_first = name != "load"
            && call
                .args
                .first()
                .is_some_and(|a| target.is_none() || matches!(a.kind, ExprKind::Array(_)));
        let mut params: Vec<&str> = Vec::new();
        if shape_first {
            params.push("shape");
        }
        params.extend_from_slice(vparams);
        if !shape_first && name != "load" {
            params.push("shape");
        }
        if name != "load" {
            params.push("dtype");
        }
        let required = required + usize::from(shape_first);
        let bound = self.bind(call, &params, required)?;
        let get = |p: &str| params.iter().position(|q| *q == p).and_then(|k| bound[k]);
        if name == "load" {
            let path = get("path").ok_or(super::Failed)?;
            let path = self.str_attr(name, "path", path)?;
            let file = init::open_npy(&path, self.base_dir)
                .map_err(|m| self.error(format!("load: {m}"), call.span))?;
            // In a declaration the file converts to the declared dtype;
            // elsewhere it keeps its own, which must be one of tdsl's.
            let dtype = match target {
                Some(ty) => ty.dtype,
                None => file.ty().map(|t| t.dtype).ok_or_else(|| {
                    self.error(
                        format!(
                            "load: '{path}' holds {}, which is not a tdsl dtype; \
                             load it in a declaration of the dtype to convert it to",
                            file.describe()
                        ),
                        call.span,
                    )
                })?,
            };
            let got = file.ty_as(dtype);
            let converts = file.dtype().converts_to(dtype);
            if let Some(ty) = target.filter(|ty| **ty != got || !converts) {
                return Err(self.error(
                    format!(
                        "load: '{path}' holds {} but the declaration is {ty}",
                        file.describe()
                    ),
                    call.span,
                ));
            }
            self.within_limit(name, &got, call.span)?;
            if let Some(stand_in) = self.stand_in(&got) {
                return Ok(stand_in);
            }
            return crate::timing::timed(&mut self.times.values, || file.read_as(dtype))
                .map_err(|m| self.error(format!("load: {m}"), call.span));
        }
        let ty = self.constructor_type(call, target, get("shape"), get("dtype"))?;
        self.within_limit(name, &ty, call.span)?;
        if let Some(stand_in) = self.stand_in(&ty) {
            return Ok(stand_in);
        }
        let seed = match get("seed") {
            Some(e) => self.int_attr(name, "seed", e)? as u64,
            None => 0,
        };
        let result = match name {
            "zeros" => init::zeros(&ty),
            "ones" => init::ones(&ty),
            "fill" => {
                let e = get("value").ok_or(super::Failed)?;
                let w = self.number_attr(name, "value", e)?;
                if !w.kind.fits(ty.dtype) {
                    return Err(self.error(
                        format!("fill: {} cannot fill a {} tensor", w.kind.describe(), ty),
                        e.span,
                    ));
                }
                init::fill(&ty, w.data.first().copied().unwrap_or(0.0))
            }
            "randn" => {
                let std = match get("std") {
                    Some(e) => self.float_attr(name, "std", e)?,
                    None => 1.0,
                };
                crate::timing::timed(&mut self.times.values, || init::randn(&ty, seed, std))
            }
            "uniform" => {
                let (lo, hi) = (
                    get("lo").ok_or(super::Failed)?,
                    get("hi").ok_or(super::Failed)?,
                );
                let lo = self.float_attr(name, "lo", lo)?;
                let hi = self.float_attr(name, "hi", hi)?;
                crate::timing::timed(&mut self.times.values, || init::uniform(&ty, lo, hi, seed))
            }
            "xavier" => crate::timing::timed(&mut self.times.values, || init::xavier(&ty, seed)),
            "he" => crate::timing::timed(&mut self.times.values, || init::he(&ty, seed)),
            "truncated_normal" => {
                let std = match get("std") {
                    Some(e) => self.float_attr(name, "std", e)?,
                    None => 1.0,
                };
                let mean = match get("mean") {
                    Some(e) => self.float_attr(name, "mean", e)?,
                    None => 0.0,
                };
                crate::timing::timed(&mut self.times.values, || {
                    init::truncated_normal(&ty, seed, mean, std)
                })
            }
            _ => Err(format!("`{name}` is not a value constructor")),
        };
        result.map_err(|m| self.error(format!("{name}: {m}"), call.span))
    }

    /// An error at `span` unless a `name` value of `ty` fits the memory limit.
    fn within_limit(&mut self, name: &str, ty: &TensorType, span: Span) -> BResult<()> {
        crate::ir::limits::check(&format!("this `{name}` value"), ty, self.options.max_bytes)
            .map_err(|m| self.error(m, span))
    }

    /// The zero tensor that stands in for a value not computed (see the header).
    fn stand_in(&self, ty: &TensorType) -> Option<Tensor> {
        let shown = ty.shape.numel() <= crate::ir::printer::MAX_CONST_ELEMENTS;
        (!self.options.values && !shown).then(|| Tensor::full(ty, 0.0))
    }

    /// The type a constructor makes: from `shape=`/`dtype=` and the declaration.
    fn constructor_type(
        &mut self,
        call: &Call,
        target: Option<&TensorType>,
        shape: Option<&Expr>,
        dtype: Option<&Expr>,
    ) -> BResult<TensorType> {
        let name = call.name;
        let dims = match shape {
            Some(e) => Some(self.sizes_attr(name, "shape", e, true)?),
            None => None,
        };
        let dt = match dtype {
            Some(e) => Some(self.dtype_attr(name, e)?),
            None => None,
        };
        let ty =
            match (target, dims) {
                (Some(t), Some(dims)) if dims != t.shape.0 => {
                    return Err(self.error(
                        format!(
                            "{name}: the shape {} differs from the declared {t}",
                            crate::ir::Shape(dims)
                        ),
                        shape.map_or(call.span, |e| e.span),
                    ))
                }
                (Some(t), _) => t.clone(),
                (None, Some(dims)) => TensorType::new(dt.unwrap_or(DType::F32), dims),
                (None, None) => return Err(self.report(
                    Diag::error(format!("{name}: the shape is missing"), call.span).with_note(
                        "the shape may be left out only in a variable or placeholder initialiser",
                    ),
                )),
            };
        if let (Some(d), Some(e)) = (dt, dtype) {
            if d != ty.dtype {
                return Err(self.error(
                    format!("{name}: dtype {d} differs from the declared {ty}"),
                    e.span,
                ));
            }
        }
        if let Err(m) = crate::ir::infer::check_size(&ty) {
            return Err(self.error(m, call.span));
        }
        Ok(ty)
    }
}
