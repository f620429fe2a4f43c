//! Bare expressions: a name of the graph, or an expression built into a new
//! module as a hidden `let`, run as one step and printed.

use super::pieces::{shift, Origin, Piece};
use super::print_out;
use super::state::{Repl, HIDDEN};
use crate::diag::{render_all, Diag};
use crate::ir::Module;
use crate::runtime::format_fetch;
use crate::runtime::signature::is_group;
use crate::syntax::ast::ExprKind;
use crate::syntax::lexer::Lexer;
use crate::syntax::parser::parse_expr;
use crate::syntax::token::Token;
use std::rc::Rc;

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

impl Repl {
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
}
