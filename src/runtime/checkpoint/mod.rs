//! Checkpoints: the whole state of a [`Session`] in a folder, written
//! atomically (`atomic.rs`) and restored with checks (`restore.rs`): a run
//! restored continues bitwise as if it had never stopped (`docs/cli.md`,
//! "Checkpoints").

mod atomic;
mod manifest;
mod restore;

#[cfg(test)]
mod tests;

pub use atomic::check_target;
pub use manifest::{fingerprint, Manifest, MANIFEST};
pub use restore::{read, Restored};

use super::session::Session;
use crate::ir::npy::write_npy_atomic;
use manifest::{file_names, DatasetEntry, VariableEntry};
use std::io::Write;
use std::path::Path;

/// Writes the session's state to the checkpoint folder `dir` (created, or
/// replaced whole if it is a checkpoint already; see [`check_target`]).
pub fn save(session: &Session, dir: &Path) -> Result<(), String> {
    let module = session.module();
    let values: Vec<(&str, &crate::ir::Tensor)> = session.variables().collect();
    let files = file_names(values.iter().map(|(name, _)| *name));
    let manifest = Manifest {
        fingerprint: fingerprint(module),
        step: session.step(),
        datasets: module
            .data
            .datasets
            .iter()
            .map(|d| DatasetEntry::of(d, session.data().position(&d.name).unwrap_or_default()))
            .collect(),
        variables: values
            .iter()
            .zip(&files)
            .map(|((name, value), file)| VariableEntry {
                name: name.to_string(),
                ty: value.ty(),
                file: file.clone(),
            })
            .collect(),
    };
    atomic::write_dir(dir, |tmp| {
        for ((_, value), file) in values.iter().zip(&files) {
            write_npy_atomic(&tmp.join(file), value)?;
        }
        let path = tmp.join(MANIFEST);
        std::fs::File::create(&path)
            .and_then(|mut f| {
                f.write_all(manifest.to_text().as_bytes())?;
                f.sync_all()
            })
            .map_err(|e| {
                format!(
                    "cannot write '{}': {}",
                    path.display(),
                    crate::diag::io_error_text(&e)
                )
            })
    })
}
