//! `dataset` items: `dataset NAME = load(...)`, arrays read once (or handed in
//! by the caller), and the options a caller binds before a build
//! ([`DataOptions`]). Placeholders that read them are in `fed.rs`.
//!
//! A `?` with nothing to bind it takes `DataOptions::stand_in` so that the rest
//! of the program can still be checked; the module records it as unbound and
//! the runtime refuses a step that reads it.

use super::{BResult, Builder, Failed};
use crate::diag::{Diag, Span};
use crate::ir::data::{DatasetArray, DatasetDecl};
use crate::ir::data_files;
use crate::ir::tensor::Tensor;
use crate::ir::types::TensorType;
use crate::syntax::ast::{Expr, ExprKind, Ident, Item};
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
pub(super) fn stand_in(ty: &TensorType) -> Tensor {
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
                    false => data_files::npz_member_type(&full, &member, max)
                        .map(|t| (stand_in(&t), false)),
                }
                .map_err(|m| self.error(m, pspan))?;
                arrays.push(DatasetArray {
                    name: member,
                    value: Arc::new(value.0),
                    wide: value.1,
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
                false => data_files::npy_array_type(&full, max).map(|t| (stand_in(&t), false)),
            }
            .map_err(|m| self.error(m, *pspan))?;
            arrays.push(DatasetArray {
                name: array.clone(),
                value: Arc::new(value.0),
                wide: value.1,
            });
        }
        let _ = span;
        arrays.extend(given);
        Ok(arrays)
    }
}
