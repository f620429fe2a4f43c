//! The REPL's builds per `?` size: switching back to a size seen before takes
//! that build (its module and compiled executables) from here. A build is keyed
//! by everything it was made from; the last [`CAPACITY`] are kept, least
//! recently used dropped first (`docs/language-notes.md`).

use super::pieces::{Layout, Piece};
use crate::backend::{Backend, Executable};
use crate::ir::Module;
use crate::lower::DataOptions;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// How many builds are kept.
pub const CAPACITY: usize = 8;

/// What a build was made from.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildKey {
    text: String,
    bindings: BTreeMap<String, Vec<usize>>,
    /// Each dataset's arrays: their names and where their data lives.
    arrays: BTreeMap<String, Vec<(String, usize)>>,
    whole: BTreeSet<String>,
    backend: Backend,
    max_memory: Option<u64>,
}

impl BuildKey {
    pub fn new(
        pieces: &[Piece],
        data: &DataOptions,
        backend: Backend,
        max_memory: Option<u64>,
    ) -> BuildKey {
        let arrays = data
            .arrays
            .iter()
            .map(|(d, arrays)| {
                let ids = arrays
                    .iter()
                    .map(|a| (a.name.clone(), Arc::as_ptr(&a.value) as usize))
                    .collect();
                (d.clone(), ids)
            })
            .collect();
        BuildKey {
            text: Layout::new(pieces).text,
            bindings: data.bindings.clone(),
            arrays,
            whole: data.whole.clone(),
            backend,
            max_memory,
        }
    }
}

/// The executables a session compiled, by fetch list.
pub type Executables = HashMap<Vec<String>, Box<dyn Executable>>;

/// A kept build.
struct Entry {
    key: BuildKey,
    module: Module,
    executables: Executables,
}

/// The last builds, most recently used last.
#[derive(Default)]
pub struct BuildCache {
    entries: VecDeque<Entry>,
    /// Programs built for a feed (misses).
    pub builds: usize,
    /// Builds taken from the cache (hits).
    pub hits: usize,
    /// Off: nothing is kept (tests compare results with and without it).
    pub off: bool,
}

impl BuildCache {
    /// Takes the build of `key` out of the cache, if it is there.
    pub fn take(&mut self, key: &BuildKey) -> Option<(Module, Executables)> {
        let i = self.entries.iter().position(|e| e.key == *key)?;
        let entry = self.entries.remove(i)?;
        self.hits += 1;
        Some((entry.module, entry.executables))
    }

    /// Keeps a build (replacing one of the same key), dropping the oldest
    /// beyond [`CAPACITY`].
    pub fn put(&mut self, key: BuildKey, module: Module, executables: Executables) {
        if self.off {
            return;
        }
        self.entries.retain(|e| e.key != key);
        self.entries.push_back(Entry {
            key,
            module,
            executables,
        });
        while self.entries.len() > CAPACITY {
            self.entries.pop_front();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
#[path = "build_cache_tests.rs"]
mod tests;
