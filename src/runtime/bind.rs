//! What feeds decide before a build: the sizes of `?` placeholders (from a
//! file's header) and the data of datasets (read whole, within the memory
//! limit); the program is parsed, not built, to learn which names they are.

use crate::diag::Diag;
use crate::ir::data::DatasetArray;
use crate::ir::data_files;
use crate::lower::DataOptions;
use crate::syntax::ast::{ExprKind, Item, Program};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A `NAME=FILE` feed, as the command line or the REPL gives it.
pub type Feed = (String, PathBuf);

/// Splits `feeds` into what binds the build (returned as options) and the
/// feeds left for the session (placeholders and variables, `?` ones included:
/// their values are fed after the build).
pub fn bind_feeds(
    program: &Program,
    feeds: &[Feed],
    max_bytes: u64,
) -> Result<(DataOptions, Vec<Feed>), Vec<Diag>> {
    let mut options = DataOptions::default();
    let mut rest = Vec::new();
    let mut errors = Vec::new();
    for (name, path) in feeds {
        match bind_one(program, name, path, max_bytes, &mut options) {
            Ok(true) => {}
            Ok(false) => rest.push((name.clone(), path.clone())),
            Err(diag) => errors.push(diag),
        }
    }
    if errors.is_empty() {
        Ok((options, rest))
    } else {
        Err(errors)
    }
}

/// Whether `program` has a `dataset` named `name`.
pub fn is_dataset(program: &Program, name: &str) -> bool {
    program
        .items
        .iter()
        .any(|i| matches!(i, Item::Dataset { name: n, .. } if n.name == name))
}

/// Binds one feed of `program`; `false` when it is left for the session.
fn bind_one(
    program: &Program,
    name: &str,
    path: &Path,
    max_bytes: u64,
    options: &mut DataOptions,
) -> Result<bool, Diag> {
    let open = |name: &str| {
        program.items.iter().any(|i| {
            // A placeholder a dataset feeds is not bound here: feeding it is an error.
            matches!(i, Item::Placeholder { name: n, ty, default, .. }
                if n.name == name && ty.dims.iter().any(|d| d.0.is_none())
                    && !default.as_ref().is_some_and(|e| matches!(e.kind, ExprKind::Field(..))))
        })
    };
    let names = Names {
        is_dataset: &|n| is_dataset(program, n),
        is_open: &open,
    };
    bind_feed(&names, (name, path), max_bytes, options)
}

/// What a feed's name may refer to.
pub struct Names<'a> {
    pub is_dataset: &'a dyn Fn(&str) -> bool,
    /// A placeholder with `?` sizes.
    pub is_open: &'a dyn Fn(&str) -> bool,
}

/// Binds one `NAME=FILE` feed into `options`: a dataset's data (read now), or
/// the shape of a `?` placeholder (from the file's header). Returns `false`
/// when the feed is still to be given to the session (every placeholder and
/// variable feed, `?` ones included).
pub fn bind_feed(
    names: &Names,
    (name, path): (&str, &Path),
    max_bytes: u64,
    options: &mut DataOptions,
) -> Result<bool, Diag> {
    let in_feed = |m: String| Diag::plain(format!("feed `{name}`: {m}"));
    // `DATASET.ARRAY`; other dotted names are variables (optimiser slots such
    // as `w.adam_m`) or unknown, which the ordinary feed path reports.
    if let Some((dataset, array)) = name
        .split_once('.')
        .filter(|(dataset, _)| (names.is_dataset)(dataset))
    {
        let (value, wide) = data_files::read_npy_array(path, max_bytes).map_err(in_feed)?;
        let arrays = options.arrays.entry(dataset.to_string()).or_default();
        arrays.retain(|a| a.name != array);
        arrays.push(DatasetArray {
            name: array.to_string(),
            value: Arc::new(value),
            wide,
        });
        return Ok(true);
    }
    if (names.is_dataset)(name) {
        let members = data_files::npz_members(path).map_err(in_feed)?;
        let mut arrays = Vec::new();
        for (member, _) in members {
            let (value, wide) =
                data_files::read_npz_member(path, &member, max_bytes).map_err(in_feed)?;
            arrays.push(DatasetArray {
                name: member,
                value: Arc::new(value),
                wide,
            });
        }
        options.arrays.insert(name.to_string(), arrays);
        options.whole.insert(name.to_string());
        return Ok(true);
    }
    if (names.is_open)(name) {
        let ty = data_files::feed_type(path, name).map_err(in_feed)?;
        options
            .bindings
            .insert(name.to_string(), ty.shape.dims().to_vec());
    }
    Ok(false)
}
