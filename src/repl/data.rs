//! Datasets and `?` sizes in the REPL: arrays read once and reused by every
//! rebuild (until the dataset is defined again), positions carried from one
//! session to the next, and `:feed` of a dataset or of a `?` placeholder,
//! which rebuilds the program for the fed data.

use super::build_cache::BuildKey;
use super::state::Repl;
use crate::lower::DataOptions;
use crate::runtime::bind::{bind_feed, Names};
use crate::runtime::Session;
use crate::syntax::ast::{Item, Program};
use std::path::Path;

/// After a build: keeps the new session's dataset arrays for later builds and
/// moves each dataset of the same name and epoch length to where it was.
pub(super) fn carry_datasets(data: &mut DataOptions, old: &Session, new: &mut Session) {
    let datasets = new.module().data.datasets.clone();
    for d in &datasets {
        if !data.whole.contains(&d.name) {
            data.arrays.insert(d.name.clone(), d.arrays.clone());
            data.whole.insert(d.name.clone());
        }
        let same = old
            .module()
            .data
            .dataset(&d.name)
            .is_some_and(|o| o.steps_per_epoch() == d.steps_per_epoch());
        if let Some(position) = old.data().position(&d.name).filter(|_| same) {
            let _ = new.data_mut().set_position(&d.name, position);
        }
    }
}

/// Before a build of new items: a dataset defined again is read again, and a
/// placeholder defined again loses its bound size.
pub(super) fn forget_redefined(data: &mut DataOptions, program: &Program) {
    for item in &program.items {
        match item {
            Item::Dataset { name, .. } => {
                data.arrays.remove(&name.name);
                data.whole.remove(&name.name);
            }
            Item::Placeholder { name, .. } => {
                data.bindings.remove(&name.name);
            }
            _ => {}
        }
    }
}

/// `:feed` of a dataset (`d=FILE.npz`, `d.x=FILE.npy`) or of a `?` placeholder:
/// rebinds and rebuilds. Returns `None` when the name is neither (the caller
/// feeds it as usual), else whether it succeeded.
pub(super) fn feed(repl: &mut Repl, name: &str, path: &Path) -> Option<bool> {
    let module = repl.session.module();
    let dataset_name = name.split_once('.').map_or(name, |(d, _)| d);
    let is_data = module.data.dataset(dataset_name).is_some();
    let is_open = module.data.open(name).is_some() && module.data.feed_of(name).is_none();
    if !is_data && !is_open {
        return None;
    }
    let mut data = repl.data.clone();
    let names = Names {
        is_dataset: &|n| repl.session.module().data.dataset(n).is_some(),
        is_open: &|n| {
            let data = &repl.session.module().data;
            data.open(n).is_some() && data.feed_of(n).is_none()
        },
    };
    let max = crate::ir::limits::default_max_bytes();
    if let Err(diag) = bind_feed(&names, (name, path), max, &mut data) {
        repl.fail_diag(diag);
        return Some(false);
    }
    let old = std::mem::replace(&mut repl.data, data);
    let pieces = repl.session_pieces.clone();
    let key = BuildKey::new(&pieces, &repl.data, repl.backend, repl.max_memory);
    let (module, executables) = match repl.cache.take(&key) {
        Some(build) => build,
        None => match repl.build(&pieces) {
            Ok(module) => {
                repl.cache.builds += 1;
                (module, Default::default())
            }
            Err(text) => {
                repl.data = old;
                repl.fail(&text);
                return Some(false);
            }
        },
    };
    let tensor = if is_open {
        match crate::runtime::load_feed(&module, name, path) {
            Ok(t) => Some(t),
            Err(diag) => {
                repl.cache.put(key, module, executables);
                repl.data = old;
                repl.fail_diag(diag);
                return Some(false);
            }
        }
    } else {
        None
    };
    if let Some(t) = &tensor {
        repl.feeds.insert(name.to_string(), t.clone());
    }
    // The current build is kept for a later switch back to its sizes.
    let current = BuildKey::new(&repl.session_pieces, &old, repl.backend, repl.max_memory);
    let current_module = repl.session.module().clone();
    let compiled = repl.session.take_executables();
    repl.cache.put(current, current_module, compiled);
    repl.adopt(module, pieces, &[]);
    repl.session.give_executables(executables);
    match tensor {
        Some(t) => super::print_out(&format!("fed {name}: {}\n", t.ty())),
        None => {
            let d = repl.session.module().data.dataset(dataset_name).map(|d| {
                let arrays: Vec<String> = d
                    .arrays
                    .iter()
                    .map(|a| format!("{}: {}", a.name, a.value.ty()))
                    .collect();
                arrays.join(", ")
            });
            super::print_out(&format!("fed {name}: {}\n", d.unwrap_or_default()));
        }
    }
    Some(true)
}
