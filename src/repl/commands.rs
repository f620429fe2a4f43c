//! The `:` commands.

use super::expr::Target;
use super::graph_view::optimized_node_text;
use super::pieces::{Layout, Origin};
use super::state::Repl;
use super::{print_err, print_out, Flow};
use crate::backend::Backend;
use crate::runtime::signature::type_text;
use crate::runtime::{checkpoint, format_fetch, load_feed};
use crate::source::SourceFile;
use crate::syntax::parser::parse;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Every command's one-line help, the command first (also the completion list).
pub const COMMANDS: &[&str] = &[
    ":type EXPR        dtype and shape of EXPR, without running it",
    ":graph NAME       the optimised IR of NAME and every node it depends on",
    ":feed NAME=FILE   feed a placeholder (or set a variable) from a .npy file",
    ":vars             every variable: dtype, shape and value (or a summary)",
    ":load FILE|DIR    add a .td file's items (not running its `run`s), or restore a checkpoint",
    ":save DIR         write a checkpoint: variables, step counter, dataset positions",
    ":reset            empty graph: no items, variables or feeds",
    ":backend jit|interp  the backend of the following steps (default jit)",
    ":time EXPR        evaluate EXPR, with build, compile and run times",
    ":help             this list",
    ":quit             leave (so does Ctrl-D)",
];

const INTRO: &str = "\
An item (placeholder, variable, let, fn) extends the graph; a later definition of a
name replaces the earlier one. `run a, b repeat N every K;` runs steps. A bare
expression is run as one step and printed (as `_`, or under its name).
Variables keep their values between inputs; `assign` changes them.
";

pub fn command(repl: &mut Repl, input: &str) -> Flow {
    let text = input.trim_start();
    let body = text.strip_prefix(':').unwrap_or(text);
    let word_len = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
    let word = &body[..word_len];
    let rest = &body[word_len..];
    // Where `rest` starts in `input`, for diagnostics pointing into it.
    let rest_at = input.len() - rest.len();
    let arg = rest.trim();
    let needs_expr = matches!(word, "type" | "t" | "graph" | "g" | "time");
    if needs_expr && arg.is_empty() {
        let usage = if word.starts_with('g') {
            "NAME"
        } else {
            "EXPR"
        };
        let full = COMMANDS
            .iter()
            .filter_map(|line| line.split(' ').next())
            .find(|c| c[1..].starts_with(word))
            .unwrap_or(":type");
        repl.fail(&format!("error: usage: {full} {usage}"));
        return Flow::Continue;
    }
    match word {
        "quit" | "q" | "exit" => return Flow::Quit,
        "help" | "h" | "?" => help(),
        "type" | "t" => type_of(repl, input, rest_at),
        "graph" | "g" => graph(repl, input, rest_at),
        "time" => time(repl, input, rest_at),
        "vars" => vars(repl),
        "reset" => {
            repl.reset();
            print_out("the graph is empty\n");
        }
        "feed" => feed(repl, arg),
        "load" | "l" if Path::new(arg).is_dir() => restore(repl, Path::new(arg)),
        "load" | "l" => {
            load(repl, Path::new(arg));
        }
        "save" => save(repl, arg),
        "backend" => backend(repl, arg),
        "" => repl.fail("error: expected a command after `:` (`:help` lists them)"),
        other => repl.fail(&format!(
            "error: unknown command `:{other}` (`:help` lists the commands)"
        )),
    }
    Flow::Continue
}

fn help() {
    let mut text = String::from(INTRO);
    text.push_str("Commands:\n");
    for line in COMMANDS {
        text.push_str(&format!("  {line}\n"));
    }
    print_out(&text);
}

/// `:type EXPR`
fn type_of(repl: &mut Repl, input: &str, at: usize) {
    let origin = Origin::new("<repl>", input);
    match repl.target(&origin, at, input.len()) {
        Some(Target::Existing(name)) => {
            let module = repl.session.module();
            if let Some(id) = module.lookup(&name) {
                print_out(&format!("{name}: {}\n", type_text(module, id)));
            }
        }
        Some(Target::Built { module, name, .. }) => {
            if let Some(id) = module.lookup(&name) {
                print_out(&format!("_: {}\n", type_text(&module, id)));
            }
        }
        None => {}
    }
}

/// `:graph NAME` (or any expression).
fn graph(repl: &mut Repl, input: &str, at: usize) {
    let origin = Origin::new("<repl>", input);
    let text = match repl.target(&origin, at, input.len()) {
        Some(Target::Existing(name)) => optimized_node_text(repl.session.module(), &name),
        Some(Target::Built { module, name, .. }) => optimized_node_text(&module, &name),
        None => return,
    };
    print_out(&text.unwrap_or_default());
}

/// `:time EXPR`: build (parse, resolve, infer), compile (the step's plan and, on
/// the JIT, its code) and run times.
fn time(repl: &mut Repl, input: &str, at: usize) {
    let origin = Origin::new("<repl>", input);
    let started = Instant::now();
    let Some(target) = repl.target(&origin, at, input.len()) else {
        return;
    };
    let (fetch, shown) = repl.enter(target);
    let built = Instant::now();
    if let Err(diag) = repl.session.prepare(&[fetch.as_str()]) {
        repl.fail_diag(diag);
        return;
    }
    let compiled = Instant::now();
    if repl.fetch_and_print(&fetch, &shown) {
        let ran = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
        print_out(&format!(
            "time: build {:.3} ms, compile {:.3} ms, run {:.3} ms\n",
            ms(started, built),
            ms(built, compiled),
            ms(compiled, ran)
        ));
    }
}

/// `:vars`
fn vars(repl: &mut Repl) {
    let mut text = String::new();
    for (name, value) in repl.session.variables() {
        text.push_str(&format_fetch(name, value));
        text.push('\n');
    }
    if text.is_empty() {
        text.push_str("no variables\n");
    }
    print_out(&text);
}

/// `:feed NAME=FILE.npy`
fn feed(repl: &mut Repl, arg: &str) {
    let Some((name, path)) = arg.split_once('=') else {
        repl.fail("error: usage: :feed NAME=FILE.npy");
        return;
    };
    let (name, path) = (name.trim(), path.trim());
    if name.is_empty() || path.is_empty() {
        repl.fail("error: usage: :feed NAME=FILE.npy");
        return;
    }
    if super::data::feed(repl, name, Path::new(path)).is_some() {
        return;
    }
    let result = load_feed(repl.session.module(), name, Path::new(path)).and_then(|tensor| {
        repl.session.feed(name, tensor.clone())?;
        Ok(tensor)
    });
    match result {
        Ok(tensor) => {
            if repl.session.module().placeholder(name).is_some() {
                repl.feeds.insert(name.to_string(), tensor.clone());
            }
            print_out(&format!("fed {name}: {}\n", tensor.ty()));
        }
        Err(diag) => repl.fail_diag(diag),
    }
}

/// `:load FILE`: the file's items are added; its `run` statements are not run.
pub fn load(repl: &mut Repl, path: &Path) -> bool {
    if path.as_os_str().is_empty() {
        repl.fail("error: usage: :load FILE");
        return false;
    }
    let source = match SourceFile::read(path) {
        Ok(source) => source,
        Err(failure) => {
            repl.fail(&failure.render());
            return false;
        }
    };
    let program = match parse(&source.text) {
        Ok(program) => program,
        Err(diags) => {
            repl.fail(&source.failure(diags).render());
            return false;
        }
    };
    let runs = program
        .items
        .iter()
        .filter(|i| matches!(i, crate::syntax::ast::Item::Run { .. }))
        .count();
    let origin = Origin::new(source.display_name.clone(), source.text.clone());
    let dir = (source.base_dir != Path::new(".")).then_some(source.base_dir.as_path());
    let Some(count) = repl.add_items(&origin, &program, false, dir) else {
        return false;
    };
    let mut message = format!("loaded {}: {count} definitions", source.display_name);
    if runs > 0 {
        let s = if runs == 1 { "" } else { "s" };
        message.push_str(&format!(" ({runs} `run` statement{s} not run)"));
    }
    print_out(&format!("{message}\n"));
    true
}

/// `:save DIR`: a checkpoint of the session, written atomically like
/// `tdsl run --save`.
fn save(repl: &mut Repl, arg: &str) {
    if arg.is_empty() {
        repl.fail("error: usage: :save DIR");
        return;
    }
    let dir = PathBuf::from(arg);
    match checkpoint::save(&repl.session, &dir) {
        Err(message) => repl.fail(&format!("error: :save: {message}")),
        Ok(()) => print_state(repl, "saved", "to", &dir),
    }
}

/// `:load DIR`: restores a checkpoint into the session (the same checks as
/// `tdsl run --restore`; on an error nothing changes).
fn restore(repl: &mut Repl, dir: &Path) {
    let max_bytes = repl
        .max_memory
        .unwrap_or_else(crate::ir::limits::default_max_bytes);
    let restored = match checkpoint::read(dir, repl.session.module(), max_bytes) {
        Ok(restored) => restored,
        Err(diags) => {
            let text = Layout::new(&repl.session_pieces).render(&diags);
            repl.fail(&text);
            return;
        }
    };
    for warning in &restored.warnings {
        print_err(&format!("warning: {warning}\n"));
    }
    if let Err(diag) = restored.apply(&mut repl.session) {
        repl.fail_diag(diag);
        return;
    }
    print_state(repl, "restored", "from", dir);
}

/// `saved 2 variables and step 3 to DIR` (or `restored ... from DIR`).
fn print_state(repl: &Repl, done: &str, to: &str, dir: &Path) {
    let count = repl.session.variables().count();
    let s = if count == 1 { "" } else { "s" };
    let step = repl.session.step();
    print_out(&format!(
        "{done} {count} variable{s} and step {step} {to} {}\n",
        dir.display()
    ));
}

/// `:backend jit|interp`
fn backend(repl: &mut Repl, arg: &str) {
    let chosen = match arg {
        "" => None,
        "interp" => Some(Backend::Interp),
        "jit" => Some(Backend::Jit),
        other => {
            repl.fail(&format!(
                "error: unknown backend `{other}`; expected jit or interp"
            ));
            return;
        }
    };
    if let Some(backend) = chosen {
        repl.set_backend(backend);
    }
    let what = match repl.backend {
        Backend::Interp => "the reference interpreter",
        Backend::Jit => "the Cranelift JIT",
    };
    print_out(&format!("backend: {} ({what})\n", repl.backend));
}
