//! The `tdsl` command line: a thin front end over the library facade.
//!
//! Results go to stdout, diagnostics to stderr. Exit status: 0 on success, 1 for
//! an error in the program, its feeds or its run, 2 for a usage error (clap's).

pub mod args;
mod check;
mod distributed;
mod graph_cmd;
mod log;
mod plot;
mod run;
mod timings;
mod watch;

pub use args::{Backend, Cli, Command, GraphFormat, IsaArg};

use crate::diag::Diag;
pub use crate::source::{io_error_text, Failure, SourceFile};
use std::io::Write;

/// Runs a parsed command line other than `repl` (which `main.rs` hands to the
/// REPL); returns the exit status (0, 1, or 2 for an unknown `TDSL_ISA`).
pub fn run_cli(cli: Cli) -> i32 {
    // Before anything is compiled: constant folding runs the kernels too.
    let flag = match &cli.command {
        Command::Run(args) => args.isa.map(IsaArg::isa),
        _ => None,
    };
    let env = std::env::var(crate::kernels::isa::ENV).ok();
    if let Err(error) = crate::kernels::isa::select(flag, env.as_deref()) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(Failure::plain(error.to_string()).render().as_bytes());
        let _ = stderr.flush();
        return match error {
            crate::kernels::isa::IsaError::Unknown(_) => 2,
            crate::kernels::isa::IsaError::Missing(..) => 1,
        };
    }
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Graph(args) => graph_cmd::graph(&args),
        Command::Repl(_) => Err(Failure::plain(
            "internal: `tdsl repl` is run by the binary's main",
        )),
    };
    match result {
        Ok(()) => {
            distributed::finish();
            0
        }
        Err(failure) => {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(failure.render().as_bytes());
            let _ = stderr.flush();
            1
        }
    }
}

/// Writes `text` to stdout; a closed stdout is an error, not a panic.
pub(crate) fn print_stdout(text: &str) -> Result<(), Diag> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(|e| Diag::plain(format!("cannot write to stdout: {}", io_error_text(&e))))
}
