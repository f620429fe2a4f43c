//! Reading a checkpoint back, checked against the program before anything
//! changes: every variable of the program must be in it with the same dtype
//! and shape, and every dataset with the same rows, `batch` and `shuffle`
//! (each difference is one error, at the declaration); an entry the program
//! lacks is a warning. The `.npy` files are then read, each checked against
//! the manifest, so a damaged file is an error naming it.

use super::manifest::{layout_text, Manifest, MANIFEST};
use crate::diag::Diag;
use crate::ir::npy::NpyFile;
use crate::ir::{Module, Tensor};
use crate::runtime::data::Position;
use crate::runtime::session::Session;
use std::path::Path;

/// A checkpoint read and checked against a program, ready to [`Restored::apply`].
#[derive(Debug)]
pub struct Restored {
    step: i32,
    positions: Vec<(String, Position)>,
    values: Vec<(String, Tensor)>,
    /// Entries the program lacks (ignored), one sentence each.
    pub warnings: Vec<String>,
}

impl Restored {
    /// Sets the session's variables, step counter and dataset positions.
    pub fn apply(self, session: &mut Session) -> Result<(), Diag> {
        for (name, value) in self.values {
            session.feed(&name, value)?;
        }
        session.set_step(self.step)?;
        for (name, position) in self.positions {
            session
                .data_mut()
                .set_position(&name, position)
                .map_err(Diag::plain)?;
        }
        Ok(())
    }
}

/// Reads the checkpoint folder `dir` for `module`; every tensor within
/// `max_bytes`. All errors are reported together.
pub fn read(dir: &Path, module: &Module, max_bytes: u64) -> Result<Restored, Vec<Diag>> {
    let shown = dir.display();
    let path = dir.join(MANIFEST);
    if !dir.is_dir() {
        return Err(vec![Diag::plain(format!(
            "cannot restore '{shown}': not a folder"
        ))]);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        vec![Diag::plain(format!(
            "cannot restore '{shown}': it is not a checkpoint ('{}': {})",
            path.display(),
            crate::diag::io_error_text(&e)
        ))]
    })?;
    let manifest = Manifest::parse(&text).map_err(|m| {
        vec![Diag::plain(format!(
            "cannot restore '{shown}': '{}' is damaged: {m}",
            path.display()
        ))]
    })?;
    let (errors, warnings) = compare(&manifest, module, &shown.to_string());
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for v in &manifest.variables {
        if module.variable(&v.name).is_none() {
            continue;
        }
        match read_value(&dir.join(&v.file), &v.ty, max_bytes) {
            Ok(value) => values.push((v.name.clone(), value)),
            Err(m) => errors.push(Diag::plain(format!(
                "cannot restore '{shown}': variable `{}`: {m}",
                v.name
            ))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let positions = manifest
        .datasets
        .iter()
        .filter(|d| module.data.dataset(&d.name).is_some())
        .map(|d| (d.name.clone(), d.position))
        .collect();
    Ok(Restored {
        step: manifest.step,
        positions,
        values,
        warnings,
    })
}

/// The checkpoint's entries against the program's declarations: errors (one
/// per variable or dataset, at its declaration) and warnings.
fn compare(manifest: &Manifest, module: &Module, shown: &str) -> (Vec<Diag>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for v in &module.variables {
        match manifest.variables.iter().find(|e| e.name == v.name) {
            None => errors.push(Diag::error(
                format!(
                    "variable `{}: {}` is not in the checkpoint '{shown}'",
                    v.name, v.ty
                ),
                v.span,
            )),
            Some(e) if e.ty != v.ty => errors.push(Diag::error(
                format!(
                    "variable `{}` is {} in the checkpoint '{shown}', but the program declares {}",
                    v.name, e.ty, v.ty
                ),
                v.span,
            )),
            Some(_) => {}
        }
    }
    for d in &module.data.datasets {
        let layout = layout_text(d.rows, d.batch, d.shuffle);
        match manifest.datasets.iter().find(|e| e.name == d.name) {
            None => errors.push(Diag::error(
                format!(
                    "dataset `{}` has no position in the checkpoint '{shown}'",
                    d.name
                ),
                d.span,
            )),
            Some(e) if e.layout() != layout => errors.push(Diag::error(
                format!(
                    "dataset `{}`: the checkpoint '{shown}' has its position for {}, \
                     but the program has {layout}",
                    d.name,
                    e.layout()
                ),
                d.span,
            )),
            Some(e) if e.position.step >= d.steps_per_epoch() => errors.push(Diag::plain(format!(
                "cannot restore '{shown}': dataset `{}` is at step {} of an epoch of {} steps",
                d.name,
                e.position.step,
                d.steps_per_epoch()
            ))),
            Some(_) => {}
        }
    }
    for e in &manifest.variables {
        if module.variable(&e.name).is_none() {
            warnings.push(format!(
                "the checkpoint '{shown}' has variable `{}: {}`, which the program lacks; it is ignored",
                e.name, e.ty
            ));
        }
    }
    for e in &manifest.datasets {
        if module.data.dataset(&e.name).is_none() {
            warnings.push(format!(
                "the checkpoint '{shown}' has a position for dataset `{}`, which the program lacks; it is ignored",
                e.name
            ));
        }
    }
    let ours = super::fingerprint(module);
    if !errors.is_empty() {
        let note = if manifest.fingerprint == ours {
            "nothing was restored".to_string()
        } else {
            format!(
                "it was written by another program (fingerprint {:016x}; this program's is {ours:016x}); \
                 nothing was restored",
                manifest.fingerprint
            )
        };
        errors.push(Diag::plain(format!("cannot restore '{shown}': {note}")));
    }
    (errors, warnings)
}

/// One variable's file, which must hold exactly the type the manifest lists.
fn read_value(path: &Path, ty: &crate::ir::TensorType, max_bytes: u64) -> Result<Tensor, String> {
    let file = NpyFile::open(path)?;
    if file.ty().as_ref() != Some(ty) {
        return Err(format!(
            "'{}' holds {}, but {MANIFEST} lists {ty}",
            path.display(),
            file.describe()
        ));
    }
    crate::ir::limits::check(&format!("'{}'", path.display()), ty, max_bytes)?;
    file.read()
}
