//! Placeholders fed from data: `placeholder x: f32[?, 64] = train.x` (the
//! shape one step of a dataset feeds, B/K rows on each of K ranks), `?` sizes
//! bound by a feed (`--feed`, `:feed`) or by a default, and the stand-in size
//! for a `?` that nothing binds.

use super::data::stand_in;
use super::{BResult, Builder, Failed};
use crate::diag::{Diag, Span};
use crate::ir::data::{open_type_text, DataFeed, OpenPlaceholder};
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind, Ident, Item, TypeExpr};
use std::sync::Arc;

impl Builder<'_> {
    /// Whether a placeholder declaration goes through [`Builder::fed_placeholder`].
    pub(crate) fn is_fed_placeholder(ty: &TypeExpr, init: Option<&Expr>) -> bool {
        ty.dims.iter().any(|d| d.0.is_none())
            || init.is_some_and(|e| matches!(e.kind, ExprKind::Field(..)))
    }

    /// The type and default of a placeholder with `?` sizes or a dataset feed.
    pub(crate) fn fed_placeholder(
        &mut self,
        name: &Ident,
        ty: &TypeExpr,
        init: Option<&Expr>,
    ) -> BResult<(TensorType, Option<Tensor>)> {
        let dtype = self.decl_dtype(ty)?;
        let mut dims = Vec::new();
        for &(d, span) in &ty.dims {
            match d.map(usize::try_from) {
                None => dims.push(None),
                Some(Ok(d)) => dims.push(Some(d)),
                Some(Err(_)) => return Err(self.error("this dimension is too large", span)),
            }
        }
        let declared = open_type_text(dtype, &dims);
        let fits = |shape: &[usize]| {
            shape.len() == dims.len()
                && shape
                    .iter()
                    .zip(&dims)
                    .all(|(s, d)| d.is_none_or(|d| d == *s))
        };
        let (shape, default, bound) =
            if let Some(shape) = self.options.data.bindings.get(&name.name).cloned() {
                if !fits(&shape) {
                    let got = TensorType::new(dtype, shape);
                    return Err(self.report(
                        Diag::error(
                            format!("feed `{}`: expected {declared}, got {got}", name.name),
                            name.span,
                        )
                        .with_note(format!("`{}` is declared here as {declared}", name.name)),
                    ));
                }
                (shape, None, true)
            } else if let Some(Expr {
                kind: ExprKind::Field(base, array),
                span,
            }) = init
            {
                let shape = self.dataset_feed(name, dtype, &declared, base, array, *span)?;
                if !fits(&shape) {
                    let got = TensorType::new(dtype, shape);
                    let source = match &base.kind {
                        ExprKind::Name(d) => self
                            .module
                            .data
                            .dataset(d)
                            .and_then(|decl| decl.array(&array.name))
                            .map(|a| format!("`{d}.{}` is {}", array.name, a.value.ty())),
                        _ => None,
                    };
                    let mut diag = Diag::error(
                        format!(
                            "`{}` is declared {declared} but its feed gives {got} a step",
                            name.name
                        ),
                        *span,
                    );
                    if let Some(source) = source {
                        diag = diag.with_note(source);
                    }
                    return Err(self.report(diag.with_note(
                        "a dataset feeds `batch` rows a step (all of them without `batch`)",
                    )));
                }
                (shape, None, true)
            } else if let Some(e) = init {
                let value = self.open_default(e, dtype)?;
                if value.dtype() != dtype || !fits(value.shape()) {
                    return Err(self.error(
                        format!(
                            "`{}` is declared {declared} but its default is {}",
                            name.name,
                            value.ty()
                        ),
                        e.span,
                    ));
                }
                (value.shape().to_vec(), Some(value), true)
            } else {
                let stand_in = self.options.data.stand_in;
                (
                    dims.iter().map(|d| d.unwrap_or(stand_in)).collect(),
                    None,
                    false,
                )
            };
        let out = TensorType::new(dtype, shape);
        crate::ir::infer::check_size(&out).map_err(|m| self.error(m, ty.span))?;
        crate::ir::limits::check(&format!("`{}`", name.name), &out, self.options.max_bytes)
            .map_err(|m| self.error(m, name.span))?;
        if dims.iter().any(Option::is_none) {
            self.module.data.open.push(OpenPlaceholder {
                name: name.name.clone(),
                dims,
                bound,
            });
        }
        Ok((out, default))
    }

    /// `= train.x`: the shape one step feeds; records the feed.
    fn dataset_feed(
        &mut self,
        name: &Ident,
        dtype: DType,
        declared: &str,
        base: &Expr,
        array: &Ident,
        span: Span,
    ) -> BResult<Vec<usize>> {
        let ExprKind::Name(dataset) = &base.kind else {
            return Err(self.error(
                "a placeholder's feed `NAME.ARRAY` names a dataset",
                base.span,
            ));
        };
        let Some(decl) = self.module.data.dataset(dataset) else {
            let is_dataset = self
                .program
                .items
                .iter()
                .any(|i| matches!(i, Item::Dataset { name, .. } if name.name == *dataset));
            if is_dataset {
                return Err(Failed); // its own error is reported
            }
            let names: Vec<&str> = self
                .module
                .data
                .datasets
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            let mut diag = Diag::error(format!("`{dataset}` is not a dataset"), base.span);
            diag = diag.with_note(if names.is_empty() {
                "the program declares no dataset".to_string()
            } else {
                format!("datasets: {}", names.join(", "))
            });
            return Err(self.report(diag));
        };
        let Some(a) = decl.array(&array.name) else {
            let names: Vec<&str> = decl.arrays.iter().map(|a| a.name.as_str()).collect();
            return Err(self.report(
                Diag::error(
                    format!("dataset `{dataset}` has no array `{}`", array.name),
                    array.span,
                )
                .with_note(format!("it has: {}", names.join(", "))),
            ));
        };
        let value = Arc::clone(&a.value);
        let got = value.ty();
        let mut shape = got.shape.dims().to_vec();
        if shape.is_empty() {
            return Err(self.error(format!("array `{}` has no rows", array.name), span));
        }
        shape[0] = decl.local_rows();
        if got.dtype != dtype {
            // Converted once, here, for every step (the feed conversions' rules);
            // without values (`check`) only the type changes.
            let what = format!("`{dataset}.{}`", array.name);
            let converted = match self.options.values {
                // A float never converts to bool, whatever its values.
                false if got.dtype.is_float() && dtype == DType::Bool => Err(format!(
                    "{what} cannot be converted from {} to bool: no float is a bool",
                    got.dtype
                )),
                false => Ok(stand_in(&TensorType::new(dtype, got.shape.dims().to_vec()))),
                true => crate::ir::data_files::convert(&value, dtype, &what, a.wide),
            };
            let converted = match converted {
                Ok(t) => t,
                Err(m) => {
                    return Err(self.report(
                        Diag::error(m, span)
                            .with_note(format!("`{}` is declared {declared}", name.name)),
                    ))
                }
            };
            let slot = self
                .module
                .data
                .datasets
                .iter_mut()
                .find(|d| d.name == *dataset)
                .and_then(|d| d.arrays.iter_mut().find(|x| x.name == array.name));
            if let Some(slot) = slot {
                slot.value = Arc::new(converted);
            }
        }
        self.module.data.feeds.push(DataFeed {
            placeholder: name.name.clone(),
            dataset: dataset.clone(),
            array: array.name.clone(),
        });
        Ok(shape)
    }

    /// The default of a `?` placeholder of `dtype`: `load("x.npy")` (converted
    /// to `dtype`) or a constructor with its shape given.
    fn open_default(&mut self, e: &Expr, dtype: DType) -> BResult<Tensor> {
        if let ExprKind::Call {
            callee,
            args,
            named,
        } = &e.kind
        {
            if super::values::CONSTRUCTORS.contains(&callee.name.as_str()) {
                let call = super::args::Call {
                    name: &callee.name,
                    args,
                    named,
                    span: e.span,
                };
                // `load` converts the file to the declared dtype, as it does
                // for a declaration without `?`; the sizes are the file's.
                let target = match (callee.name.as_str(), args.first()) {
                    (
                        "load",
                        Some(Expr {
                            kind: ExprKind::Str(path),
                            ..
                        }),
                    ) => crate::ir::init::open_npy(path, self.base_dir)
                        .ok()
                        .map(|file| TensorType::new(dtype, file.shape().to_vec())),
                    _ => None,
                };
                return self.construct(&call, target.as_ref());
            }
        }
        Err(self.report(
            Diag::error("the default of a placeholder with `?` sizes must be `load(\"...\")` or a value constructor with its shape", e.span)
                .with_note("its sizes are taken from that value"),
        ))
    }
}
