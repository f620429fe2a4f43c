//! `dataset` items and placeholders fed from data: `dataset NAME = load(...)`
//! (arrays read once, or handed in by the caller), `placeholder x: f32[?, 64] =
//! train.x`, and `?` sizes bound by a feed, a default or a dataset.
//!
//! A `?` with nothing to bind it takes `DataOptions::stand_in` so that the rest
//! of the program can still be checked; the module records it as unbound and
//! the runtime refuses a step that reads it.

use super::{BResult, Builder, Failed};
use crate::diag::{Diag, Span};
use crate::ir::data::{open_type_text, DataFeed, DatasetArray, DatasetDecl, OpenPlaceholder};
use crate::ir::data_files;
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind, Ident, Item, TypeExpr};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the caller binds before a build: sizes fed to `?` placeholders and
/// dataset arrays already read.
#[derive(Clone, Debug, PartialEq)]
pub struct DataOptions {
    /// The shape fed to a `?` placeholder (`--feed`, `:feed`), by name.
    pub bindings: BTreeMap<String, Vec<usize>>,
    /// Arrays that replace those a dataset's `load` names, by dataset.
    pub arrays: BTreeMap<String, Vec<DatasetArray>>,
    /// Datasets whose arrays are exactly `arrays` (their files are not read).
    pub whole: BTreeSet<String>,
    /// The size an unbound `?` builds with.
    pub stand_in: usize,
    /// This process's index among `BuildOptions::ranks`: which share of each
    /// batched dataset's steps it reads (`ir::data::Share`).
    pub rank: usize,
}

impl Default for DataOptions {
    fn default() -> DataOptions {
        DataOptions {
            bindings: BTreeMap::new(),
            arrays: BTreeMap::new(),
            whole: BTreeSet::new(),
            stand_in: 1,
            rank: 0,
        }
    }
}

// Arrays compare by value; options are compared only in tests.
impl Eq for DataOptions {}

/// What stands in for a dataset array when values are off (`tdsl check`): its
/// files' headers are read, never their data. Zeros: a large zeroed buffer is
/// given by the system untouched, so it costs no time and no real memory.
fn stand_in(ty: &TensorType) -> Tensor {
    Tensor::full(ty, 0.0)
}

/// `load(...)`'s own arguments; every other named argument is an array.
const DATASET_PARAMS: &[&str] = &["batch", "shuffle"];

impl Builder<'_> {
    /// Builds every `dataset` item, before the placeholders that read them.
    pub(crate) fn build_datasets(&mut self) {
        let program = self.program;
        for item in &program.items {
            if let Item::Dataset { name, value, span } = item {
                if let Ok(decl) = self.dataset(name, value, *span) {
                    self.module.data.datasets.push(decl);
                }
            }
        }
    }

    fn dataset(&mut self, name: &Ident, value: &Expr, span: Span) -> BResult<DatasetDecl> {
        let ExprKind::Call {
            callee,
            args,
            named,
        } = &value.kind
        else {
            return Err(self.dataset_form(value.span));
        };
        if callee.name != "load" {
            return Err(self.dataset_form(value.span));
        }
        let mut batch = None;
        let mut shuffle = None;
        let mut files: Vec<(String, String, Span)> = Vec::new();
        for (key, e) in named {
            match key.name.as_str() {
                "batch" => batch = Some((self.int_attr("load", "batch", e)?, e.span)),
                "shuffle" => shuffle = Some(self.int_attr("load", "shuffle", e)? as u64),
                array => {
                    let path = self.str_attr("load", array, e)?;
                    files.push((array.to_string(), path, e.span));
                }
            }
        }
        let npz = match args.as_slice() {
            [] => None,
            [path] if files.is_empty() => Some((self.str_attr("load", "path", path)?, path.span)),
            [_, extra, ..] | [extra] => {
                return Err(self.report(
                    Diag::error(
                        "a dataset's `load` takes one `.npz` path, or one `NAME=\"file.npy\"` per array",
                        extra.span,
                    )
                    .with_note(format!("its other arguments are {}", DATASET_PARAMS.join(", "))),
                ))
            }
        };
        let arrays = self.dataset_arrays(&name.name, npz, &files, value.span)?;
        let Some(first) = arrays.first() else {
            return Err(self.error(format!("dataset `{}` has no arrays", name.name), value.span));
        };
        let rows = first.value.shape().first().copied().unwrap_or(0);
        for a in &arrays {
            let got = a.value.shape().first().copied();
            if got != Some(rows) {
                let describe = |a: &DatasetArray| format!("`{}` is {}", a.name, a.value.ty());
                return Err(self.report(
                    Diag::error(
                        format!(
                            "the arrays of dataset `{}` have different row counts",
                            name.name
                        ),
                        value.span,
                    )
                    .with_note(format!("{}, {}", describe(first), describe(a)))
                    .with_note("every array needs the same leading dimension (rows)"),
                ));
            }
        }
        if rows == 0 {
            return Err(self.error(format!("dataset `{}` has no rows", name.name), value.span));
        }
        let batch = match batch {
            None => None,
            Some((b, bspan)) => match usize::try_from(b) {
                Ok(b) if b >= 1 && b <= rows => Some(b),
                _ => {
                    return Err(self.report(
                        Diag::error(
                            format!("`batch={b}` must be between 1 and the dataset's {rows} rows"),
                            bspan,
                        )
                        .with_note(format!("dataset `{}` has {rows} rows", name.name)),
                    ))
                }
            },
        };
        let share = self.share(batch, super::split::batch_span(named))?;
        Ok(DatasetDecl {
            name: name.name.clone(),
            arrays,
            rows,
            batch,
            shuffle,
            share,
            span,
        })
    }

    fn dataset_form(&mut self, span: Span) -> Failed {
        self.report(
            Diag::error("a dataset is `load(...)`", span).with_note(
                "`dataset d = load(\"f.npz\", batch=32, shuffle=1);` or `load(x=\"x.npy\", y=\"y.npy\")`",
            ),
        )
    }

    /// The arrays: handed in by the caller, or read from the files.
    fn dataset_arrays(
        &mut self,
        dataset: &str,
        npz: Option<(String, Span)>,
        files: &[(String, String, Span)],
        span: Span,
    ) -> BResult<Vec<DatasetArray>> {
        let given = self.options.data.arrays.get(dataset).cloned();
        if self.options.data.whole.contains(dataset) {
            return Ok(given.unwrap_or_default());
        }
        let given = given.unwrap_or_default();
        let is_given = |n: &str| given.iter().any(|a| a.name == n);
        let max = self.options.max_bytes;
        let mut arrays = Vec::new();
        if let Some((path, pspan)) = npz {
            let full = self.base_dir.join(&path);
            let members = data_files::npz_members(&full).map_err(|m| self.error(m, pspan))?;
            for (member, _) in members {
                if is_given(&member) {
                    continue;
                }
                let value = match self.options.values {
                    true => crate::timing::timed(&mut self.times.values, || {
                        data_files::read_npz_member(&full, &member, max)
                    }),
                    false => data_files::npz_member_type(&full, &member, max).map(|t| stand_in(&t)),
                }
                .map_err(|m| self.error(m, pspan))?;
                arrays.push(DatasetArray {
                    name: member,
                    value: Arc::new(value),
                });
            }
        }
        for (array, path, pspan) in files {
            if is_given(array) {
                continue;
            }
            let full = self.base_dir.join(path);
            let value = match self.options.values {
                true => crate::timing::timed(&mut self.times.values, || {
                    data_files::read_npy_array(&full, max)
                }),
                false => data_files::npy_array_type(&full, max).map(|t| stand_in(&t)),
            }
            .map_err(|m| self.error(m, *pspan))?;
            arrays.push(DatasetArray {
                name: array.clone(),
                value: Arc::new(value),
            });
        }
        let _ = span;
        arrays.extend(given);
        Ok(arrays)
    }

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
                true => crate::ir::data_files::convert(&value, dtype, &what),
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
