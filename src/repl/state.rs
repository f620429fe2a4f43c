//! The REPL's state: the accepted items, the running session, and how a new
//! module replaces it (variables and feeds carried over). Items are added in
//! `items.rs`, bare expressions resolved in `expr.rs`.

use super::pieces::{Layout, Piece};
use super::print_err;
use crate::backend::Backend;
use crate::diag::Diag;
use crate::ir::{Module, Tensor};
use crate::runtime::Session;
use std::collections::HashMap;
use std::path::PathBuf;

/// Hidden names of bare expressions start with this.
pub const HIDDEN: &str = "__repl_";

pub struct Repl {
    /// The accepted items (never `run` statements or bare expressions).
    pub(super) pieces: Vec<Piece>,
    pub(super) session: Session,
    /// What the session's module was built from (for runtime diagnostics).
    pub(super) session_pieces: Vec<Piece>,
    /// Placeholder feeds given with `:feed`, re-fed after every rebuild.
    pub(super) feeds: HashMap<String, Tensor>,
    /// `?` sizes bound by `:feed`, and dataset arrays read once (`data.rs`).
    pub(super) data: crate::lower::DataOptions,
    /// Numbers the hidden names of bare expressions (`expr.rs`).
    pub(super) counter: usize,
    /// Where `load("...")` paths are relative to: the current directory.
    pub(super) base_dir: PathBuf,
    /// The backend sessions run on (`:backend`).
    pub(super) backend: Backend,
    /// How the JIT compiles (its switches read from the environment once).
    jit: crate::backend::jit::Options,
    /// How many inputs failed.
    pub errors: usize,
    /// Builds per `?` size (`build_cache.rs`).
    pub(super) cache: super::build_cache::BuildCache,
    /// The most bytes one tensor may take (`--max-memory`); `None` is the
    /// memory available.
    pub max_memory: Option<u64>,
}

impl Default for Repl {
    fn default() -> Self {
        Repl::new()
    }
}

impl Repl {
    pub fn new() -> Repl {
        let jit = crate::engines::jit_options_from_env();
        Repl {
            pieces: Vec::new(),
            session: Session::new(
                Module::default(),
                crate::engines::engine(Backend::default(), jit),
            ),
            session_pieces: Vec::new(),
            feeds: HashMap::new(),
            data: crate::lower::DataOptions::default(),
            counter: 0,
            base_dir: PathBuf::from("."),
            backend: Backend::default(),
            jit,
            errors: 0,
            cache: Default::default(),
            max_memory: None,
        }
    }

    /// Reports an error (already rendered) and counts it.
    pub(super) fn fail(&mut self, text: &str) {
        self.errors += 1;
        let mut text = text.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        print_err(&text);
    }

    /// Reports a diagnostic about the session's program text.
    pub(super) fn fail_diag(&mut self, mut diag: Diag) {
        // Notes written for the command line name its flag; here it is `:feed`.
        for note in &mut diag.notes {
            *note = note.replace("`--feed ", "`:feed ");
        }
        let text = Layout::new(&self.session_pieces).render(&[diag]);
        self.fail(&text);
    }

    /// Compiles `pieces`; errors come back rendered against their origins.
    pub(super) fn build(&self, pieces: &[Piece]) -> Result<Module, String> {
        let layout = Layout::new(pieces);
        let options = crate::Options {
            optimize: false,
            max_memory: self.max_memory,
            ranks: 1,
            data: self.data.clone(),
            ..Default::default()
        };
        crate::compile_with(&layout.text, &self.base_dir, &options)
            .map(|compiled| compiled.module)
            .map_err(|diags| layout.render(&diags))
    }

    /// Starts a session on `module`, carrying over every variable whose name and
    /// type are unchanged (except those `fresh`ly defined) and the `:feed`s.
    pub(super) fn adopt(&mut self, module: Module, pieces: Vec<Piece>, fresh: &[String]) {
        let mut session = Session::new(module, self.engine());
        // The step counter goes on: `step()` counts every step of the REPL.
        let _ = session.set_step(self.session.step());
        let carried: Vec<(String, Tensor)> = session
            .module()
            .variables
            .iter()
            .filter(|v| !fresh.contains(&v.name))
            .filter_map(|v| {
                let old = self.session.variable(&v.name)?;
                (old.ty() == v.ty).then(|| (v.name.clone(), old.clone()))
            })
            .collect();
        for (name, value) in carried {
            let _ = session.feed(&name, value);
        }
        let module = session.module();
        self.feeds.retain(|name, value| {
            !fresh.contains(name) && module.placeholder(name).is_some_and(|p| p.ty == value.ty())
        });
        for (name, value) in &self.feeds {
            let _ = session.feed(name, value.clone());
        }
        super::data::carry_datasets(&mut self.data, &self.session, &mut session);
        self.session = session;
        self.session_pieces = pieces;
    }

    /// Runs the following steps on `backend`; the graph, the variables and the
    /// feeds stay.
    pub(super) fn set_backend(&mut self, backend: Backend) {
        self.backend = backend;
        let module = self.session.module().clone();
        let pieces = self.session_pieces.clone();
        self.adopt(module, pieces, &[]);
    }

    /// The engine of the chosen backend.
    fn engine(&self) -> Box<dyn crate::backend::Engine> {
        crate::engines::engine(self.backend, self.jit)
    }

    /// Empties the graph: no items, variables or feeds.
    pub fn reset(&mut self) {
        self.pieces.clear();
        self.feeds.clear();
        self.data = crate::lower::DataOptions::default();
        self.cache.clear();
        self.session = Session::new(Module::default(), self.engine());
        self.session_pieces.clear();
    }

    /// Every name to complete: graph names and `fn`s (hidden names left out).
    pub fn completion_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .session
            .module()
            .names
            .iter()
            .map(|(n, _)| n.clone())
            .chain(
                self.pieces
                    .iter()
                    .filter(|p| p.is_fn)
                    .filter_map(|p| p.name.clone()),
            )
            .filter(|n| !n.starts_with(HIDDEN))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}
