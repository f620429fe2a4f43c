//! Inputs of items (`let`, `fn`, `placeholder`, `variable`, `dataset`, `run`):
//! every input is compiled together with the accepted items; a later definition
//! of a name replaces the earlier one, and on an error nothing changes.

use super::pieces::{Layout, Origin, Piece};
use super::print_out;
use super::state::Repl;
use crate::diag::{render_all, Diag};
use crate::runtime::signature::type_text;
use crate::runtime::Schedule;
use crate::syntax::ast::{Item, Program};
use crate::syntax::parser::parse;
use std::path::Path;
use std::rc::Rc;

impl Repl {
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
