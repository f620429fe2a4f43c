//! The `tdsl` command line: a thin front end over the library facade.
//!
//! Results go to stdout, diagnostics to stderr. Exit status: 0 on success, 1 for
//! an error in the program, its feeds or its run, 2 for a usage error (clap's).

pub mod args;
mod check;
mod graph_cmd;
mod run;
mod timings;

pub use args::{Backend, Cli, Command, GraphFormat, IsaArg};

use crate::syntax::Diag;
use clap::Parser;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A `.td` file read from disk.
pub struct SourceFile {
    /// The path as given on the command line, for diagnostics.
    pub display_name: String,
    pub text: String,
    /// Where `load("...")` paths are relative to: the file's folder.
    pub base_dir: PathBuf,
}

impl SourceFile {
    /// Reads `path`; a missing, unreadable, non-UTF-8 or not regular file (a
    /// folder, `/dev/zero`, a pipe: they could be read forever) is an error.
    pub fn read(path: &Path) -> Result<SourceFile, Failure> {
        let display_name = path.display().to_string();
        let cannot = |why: String| Failure::plain(format!("cannot read '{display_name}': {why}"));
        let mut file = std::fs::File::open(path).map_err(|e| cannot(io_error_text(&e)))?;
        let meta = file.metadata().map_err(|e| cannot(io_error_text(&e)))?;
        if !meta.is_file() {
            return Err(cannot("not a regular file".into()));
        }
        // Spans are u32 offsets: a larger file cannot be parsed anyway.
        if meta.len() > u64::from(u32::MAX) {
            return Err(cannot("the file is too large (4 GiB or more)".into()));
        }
        let mut bytes = Vec::new();
        (&mut file)
            .take(meta.len())
            .read_to_end(&mut bytes)
            .map_err(|e| cannot(io_error_text(&e)))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let diag = Diag::error(
                format!("the file is not valid UTF-8 (invalid byte at offset {at})"),
                crate::syntax::Span::new(at, at + char::REPLACEMENT_CHARACTER.len_utf8()),
            );
            Failure {
                diags: vec![diag],
                file: Some((display_name.clone(), text)),
            }
        })?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(SourceFile {
            display_name,
            text,
            base_dir,
        })
    }

    /// Compiles the file; errors are rendered against it.
    pub fn compile(&self) -> Result<crate::ir::Module, Failure> {
        crate::compile(&self.text, &self.base_dir).map_err(|diags| self.failure(diags))
    }

    /// Compiles the file with `options` (the optimiser on or off).
    pub fn compile_with(&self, options: &crate::Options) -> Result<crate::Compiled, Failure> {
        crate::compile_with(&self.text, &self.base_dir, options)
            .map_err(|diags| self.failure(diags))
    }

    /// A failure whose diagnostics point into this file.
    pub fn failure(&self, diags: Vec<Diag>) -> Failure {
        Failure {
            diags,
            file: Some((self.display_name.clone(), self.text.clone())),
        }
    }
}

/// `No such file or directory`, without Rust's ` (os error 2)` suffix.
pub fn io_error_text(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Why a command failed: its diagnostics, and the file they point into.
pub struct Failure {
    pub diags: Vec<Diag>,
    pub file: Option<(String, String)>,
}

impl Failure {
    /// An error outside any source file.
    pub fn plain(message: impl Into<String>) -> Failure {
        Failure {
            diags: vec![Diag::plain(message)],
            file: None,
        }
    }

    /// Renders every diagnostic, one after another.
    pub fn render(&self) -> String {
        let (name, text) = match &self.file {
            Some((name, text)) => (name.as_str(), text.as_str()),
            None => ("", ""),
        };
        crate::syntax::diag::render_all(&self.diags, name, text)
    }
}

/// Parses the process's arguments and runs the command; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    run_cli(cli)
}

/// Runs a parsed command line; returns the exit status (0, 1, or 2 for an
/// unknown `TDSL_ISA`).
pub fn run_cli(cli: Cli) -> i32 {
    // Before anything is compiled: constant folding runs the kernels too.
    let flag = match &cli.command {
        Command::Run(args) => args.isa.map(IsaArg::isa),
        _ => None,
    };
    if let Err(error) = crate::ir::kernels::isa::select(flag) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(Failure::plain(error.to_string()).render().as_bytes());
        let _ = stderr.flush();
        return match error {
            crate::ir::kernels::isa::IsaError::Unknown(_) => 2,
            crate::ir::kernels::isa::IsaError::Missing(..) => 1,
        };
    }
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Graph(args) => graph_cmd::graph(&args),
        Command::Repl(args) => return crate::repl::main(args.file.as_deref()),
    };
    match result {
        Ok(()) => 0,
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
