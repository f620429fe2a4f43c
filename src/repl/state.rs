//! The REPL's state: the accepted items, the running session, and how an input
//! extends them. Every input is compiled together with the accepted items; on an
//! error nothing changes.

use super::pieces::{shift, Layout, Origin, Piece};
use super::{print_err, print_out};
use crate::backend::Backend;
use crate::diag::render_all;
use crate::diag::Diag;
use crate::ir::{Module, Tensor};
use crate::runtime::signature::{is_group, type_text};
use crate::runtime::{format_fetch, Schedule, Session};
use crate::syntax::ast::{ExprKind, Item, Program};
use crate::syntax::lexer::Lexer;
use crate::syntax::parser::{parse, parse_expr};
use crate::syntax::token::Token;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

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
    counter: usize,
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

/// What an expression input refers to.
// One value per input, moved once: boxing the module would gain nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Target {
    /// A name of the current session's module.
    Existing(String),
    /// A new module with the expression as the hidden `let` `name`.
    Built {
        module: Module,
        pieces: Vec<Piece>,
        name: String,
    },
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

    /// An input of items (`let`, `fn`, `placeholder`, `variable`, `run`).
    pub fn items(&mut self, input: &str) {
        match parse_items(input) {
            Ok((text, program)) => {
                let origin = Origin::new("<repl>", text);
                self.add_items(&origin, &program, true, None);
            }
            Err(diags) => self.fail(&render_all(&diags, "<repl>", input)),
        }
    }

    /// Adds the items of `program` (written in `origin`); a later definition of a
    /// name replaces the earlier one. Runs its `run` statements if `execute`, else
    /// drops them. `load("...")` paths are made relative to `dir` if given.
    /// Returns the number of definitions, or `None` on an error.
    pub(super) fn add_items(
        &mut self,
        origin: &Rc<Origin>,
        program: &Program,
        execute: bool,
        dir: Option<&Path>,
    ) -> Option<usize> {
        let mut defs = Vec::new();
        let mut runs = Vec::new();
        for item in &program.items {
            let span = item.span();
            match item {
                Item::Run { .. } => runs.push(Piece::item(origin, span, None, false)),
                Item::Fn { name, .. } => {
                    defs.push(Piece::item(origin, span, Some(name.name.clone()), true))
                }
                Item::Placeholder { name, .. }
                | Item::Variable { name, .. }
                | Item::Let { name, .. }
                | Item::Dataset { name, .. } => {
                    defs.push(Piece::item(origin, span, Some(name.name.clone()), false))
                }
            }
        }
        if let Some(dir) = dir {
            defs = defs.into_iter().map(|p| p.rebase_loads(dir)).collect();
        }
        super::data::forget_redefined(&mut self.data, program);
        let defined: Vec<String> = defs.iter().filter_map(|p| p.name.clone()).collect();
        let mut kept: Vec<Piece> = self
            .pieces
            .iter()
            .filter(|p| !p.name.as_ref().is_some_and(|n| defined.contains(n)))
            .cloned()
            .collect();
        kept.extend(defs);
        let mut pieces = kept.clone();
        if execute {
            pieces.extend(runs);
        }
        let module = match self.build(&pieces) {
            Ok(module) => module,
            Err(text) => {
                self.fail(&text);
                return None;
            }
        };
        if let Err(diag) = super::run::check_run_names(&module) {
            self.fail(&Layout::new(&pieces).render(&[diag]));
            return None;
        }
        let runs = module.runs.clone();
        if execute {
            let mut listing = String::new();
            for name in &defined {
                if let Some(id) = module.lookup(name) {
                    listing.push_str(&format!("{name}: {}\n", type_text(&module, id)));
                }
            }
            print_out(&listing);
        }
        self.adopt(module, pieces, &defined);
        self.pieces = kept;
        for run in runs {
            let names: Vec<&str> = run.fetches.iter().map(|(n, _)| n.as_str()).collect();
            let schedule = Schedule {
                steps: run.steps.max(1),
                every: run.every,
            };
            if let Err(diag) = self.run_steps(&names, schedule) {
                self.fail_diag(diag);
                break;
            }
        }
        Some(defined.len())
    }

    /// Resolves the expression at `start..end` of `origin` (a bare name of the
    /// graph, or a new module with it as a hidden `let`). Errors are reported.
    pub(super) fn target(
        &mut self,
        origin: &Rc<Origin>,
        start: usize,
        end: usize,
    ) -> Option<Target> {
        let raw = origin.text.get(start..end).unwrap_or("");
        // A final `;` (perhaps followed by a comment) is allowed.
        let mut last = None;
        for token in Lexer::new(raw) {
            match token {
                Ok((at, token, _)) => last = Some((at, token)),
                Err(_) => {
                    last = None;
                    break;
                }
            }
        }
        let text = match last {
            Some((at, Token::Semi)) => &raw[..at],
            _ => raw,
        }
        .trim_end();
        let lead = text.len() - text.trim_start().len();
        let (start, text) = (start + lead, text.trim_start());
        if text.is_empty() {
            self.fail("error: expected an expression");
            return None;
        }
        let expr = match parse_expr(text) {
            Ok(expr) => expr,
            Err(diags) => {
                let diags: Vec<Diag> = diags.into_iter().map(|d| shift(d, start)).collect();
                self.fail(&render_all(&diags, &origin.name, &origin.text));
                return None;
            }
        };
        if let ExprKind::Name(name) = &expr.kind {
            if self.session.module().lookup(name).is_some() {
                return Some(Target::Existing(name.clone()));
            }
        }
        let name = format!("{HIDDEN}{}", self.counter);
        self.counter += 1;
        let mut pieces = self.pieces.clone();
        pieces.push(Piece::hidden_let(origin, start, start + text.len(), &name));
        match self.build(&pieces) {
            Ok(module) => Some(Target::Built {
                module,
                pieces,
                name,
            }),
            Err(rendered) => {
                self.fail(&rendered);
                None
            }
        }
    }

    /// A bare expression: built, run as one step, printed (as `_`, or under its
    /// name when it is a name of the graph).
    pub fn expr(&mut self, input: &str) {
        let origin = Origin::new("<repl>", input);
        let Some(target) = self.target(&origin, 0, input.len()) else {
            return;
        };
        let (fetch, shown) = self.enter(target);
        self.fetch_and_print(&fetch, &shown);
    }

    /// Makes `target` runnable on the session: the fetch name and the name to show.
    pub(super) fn enter(&mut self, target: Target) -> (String, String) {
        match target {
            Target::Existing(name) => (name.clone(), name),
            Target::Built {
                module,
                pieces,
                name,
            } => {
                self.adopt(module, pieces, &[]);
                (name, "_".to_string())
            }
        }
    }

    /// Runs one step fetching `fetch` and prints it as `shown`.
    pub(super) fn fetch_and_print(&mut self, fetch: &str, shown: &str) -> bool {
        match self.session.run(&[fetch]) {
            Ok(values) => {
                if is_group(self.session.module(), fetch) {
                    print_out(&format!("{shown}: group (ran)\n"));
                } else if let Some(value) = values.first() {
                    print_out(&format!("{}\n", format_fetch(shown, value)));
                }
                true
            }
            Err(diag) => {
                self.fail_diag(diag);
                false
            }
        }
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

/// Parses an input of items; a missing final `;` is added (the text parsed is
/// returned with the program).
fn parse_items(input: &str) -> Result<(String, Program), Vec<Diag>> {
    match parse(input) {
        Ok(program) => Ok((input.to_string(), program)),
        Err(diags) => {
            let at_end = diags
                .iter()
                .any(|d| d.message.starts_with("unexpected end of file"));
            if at_end {
                let text = format!("{input}\n;");
                if let Ok(program) = parse(&text) {
                    return Ok((text, program));
                }
            }
            Err(diags)
        }
    }
}
