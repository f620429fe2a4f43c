//! `tdsl repl [FILE]`: try items, expressions and commands interactively
//! (`docs/repl.md`, which lists the files). Results go to stdout, diagnostics to
//! stderr.

mod build_cache;
mod commands;
mod data;
mod editor;
mod expr;
mod graph_view;
mod input;
mod interrupt;
mod items;
mod pieces;
mod run;
mod state;

pub use state::Repl;

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// Whether the session goes on after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Runs the REPL; returns the exit status. On a terminal: 0. Otherwise (a
/// script): 0 if every input succeeded, else 1.
pub fn main(file: Option<&Path>, max_memory: Option<u64>) -> i32 {
    // `TDSL_ISA` when this CPU has it, else the detected best (a bad value
    // leaves the choice unchanged: the REPL has no usage errors to report).
    let env = std::env::var(crate::kernels::isa::ENV).ok();
    let _ = crate::kernels::isa::select(None, env.as_deref());
    let mut repl = Repl::new();
    repl.max_memory = max_memory;
    if let Some(path) = file {
        commands::load(&mut repl, path);
    }
    if std::io::stdin().is_terminal() {
        editor::interactive(&mut repl);
        0
    } else {
        plain(&mut repl, std::io::stdin().lock());
        i32::from(repl.errors > 0)
    }
}

/// Handles one complete input.
pub fn handle(repl: &mut Repl, text: &str) -> Flow {
    if input::is_blank(text) {
        return Flow::Continue;
    }
    match input::kind(text) {
        input::Kind::Command => commands::command(repl, text),
        input::Kind::Items => {
            repl.items(text);
            Flow::Continue
        }
        input::Kind::Expr => {
            repl.expr(text);
            Flow::Continue
        }
    }
}

/// Reads inputs from `reader` without prompts, joining lines while a bracket is
/// open, until the end of the input or `:quit`.
pub fn plain(repl: &mut Repl, mut reader: impl BufRead) {
    let mut pending = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let done = match reader.read_until(b'\n', &mut line) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => {
                repl.fail(&format!(
                    "error: cannot read the input: {}",
                    crate::source::io_error_text(&e)
                ));
                true
            }
        };
        if done {
            if !pending.trim().is_empty() {
                handle(repl, &pending);
            }
            return;
        }
        let text = String::from_utf8_lossy(&line);
        pending.push_str(text.trim_end_matches(['\n', '\r']));
        if input::needs_more(&pending) {
            pending.push('\n');
            continue;
        }
        let complete = std::mem::take(&mut pending);
        if handle(repl, &complete) == Flow::Quit {
            return;
        }
    }
}

/// Writes to stdout and flushes (a closed stdout is ignored).
pub(crate) fn print_out(text: &str) {
    if text.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes to stderr and flushes.
pub(crate) fn print_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
