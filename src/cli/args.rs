//! The command line, declared with clap's derive API. A malformed command line is
//! a usage error: clap prints it and exits with status 2.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// tdsl: a compiler for a small tensor language with TF1-style static graphs.
#[derive(Debug, Parser)]
#[command(name = "tdsl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: boxing `RunArgs` would gain nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a program and run its `run` statements (or `--fetch`), printing the fetches.
    Run(RunArgs),
    /// Parse, resolve and infer every shape; print the program's signature.
    Check(CheckArgs),
    /// Print the graph IR as text or as Graphviz dot.
    Graph(GraphArgs),
    /// An interactive session: items, expressions and `:` commands (docs/repl.md).
    Repl(ReplArgs),
}

/// The most `--threads` accepted (more is surely a typo, and each is an OS thread).
pub const MAX_THREADS: u64 = 1024;

/// Which backend executes the steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Cranelift JIT (the default): fused elementwise kernels and GEMM; other ops
    /// run the interpreter's kernels for now.
    Jit,
    /// The ndarray reference interpreter.
    Interp,
}

/// The instruction set of the hand-written kernels and the JIT (`--isa`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IsaArg {
    /// AVX-512F (needs a CPU with it).
    Avx512,
    /// AVX2 and FMA.
    Avx2,
    /// No vector intrinsics, no FMA: the fallback of other CPUs.
    Portable,
}

impl IsaArg {
    /// The kernels' instruction set.
    pub fn isa(self) -> crate::kernels::isa::Isa {
        use crate::kernels::isa::Isa;
        match self {
            IsaArg::Avx512 => Isa::Avx512,
            IsaArg::Avx2 => Isa::Avx2,
            IsaArg::Portable => Isa::Portable,
        }
    }
}

/// Output form of `tdsl graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The `.td` program.
    pub file: PathBuf,
    /// The most bytes one tensor may take (suffixes K, M, G, T; default: the
    /// memory available). A larger one is an error naming it, before allocation.
    #[arg(long, value_name = "BYTES", value_parser = crate::ir::limits::parse_bytes)]
    pub max_memory: Option<u64>,
    /// Feed a placeholder, or replace a variable's initial value, from a `.npy` file
    /// (path relative to the current directory); `DATASET=FILE.npz` or
    /// `DATASET.ARRAY=FILE.npy` replaces a dataset's data. Repeatable.
    #[arg(long = "feed", value_name = "NAME=FILE.npy", value_parser = parse_feed)]
    pub feeds: Vec<(String, PathBuf)>,
    /// Fetch these names instead of the file's `run` statements (comma-separated; repeatable).
    #[arg(long = "fetch", value_name = "NAME,...", value_delimiter = ',', value_parser = parse_name)]
    pub fetch: Vec<String>,
    /// Number of steps of the `--fetch` run; without `--fetch`, overrides every
    /// `run` statement's `repeat`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub steps: Option<u64>,
    /// Run E epochs of the dataset the fetches read (like `epochs E`); same
    /// scope as `--steps`, and `--every` then counts epochs.
    #[arg(long, value_name = "E", conflicts_with = "steps", value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: Option<u64>,
    /// Print every K steps (like `every K`); same scope as `--steps`.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub every: Option<u64>,
    /// Write every fetched tensor of the last step to DIR/NAME.npy (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write a checkpoint at the end: every variable (DIR/NAME.npy), the step
    /// counter and each dataset's position, atomically.
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// Start from the checkpoint in DIR (written by `--save`).
    #[arg(long, value_name = "DIR")]
    pub restore: Option<PathBuf>,
    /// Also write the `--save` checkpoint after every N-th step (counted by `step()`).
    #[arg(long, value_name = "N", requires = "save", value_parser = clap::value_parser!(u64).range(1..))]
    pub save_every: Option<u64>,
    /// Append one JSON object a line per printed step to FILE.jsonl: step,
    /// epoch, wall seconds and every scalar fetch.
    #[arg(long, value_name = "FILE.jsonl")]
    pub log: Option<PathBuf>,
    /// Draw every scalar fetch against the step to FILE.svg (written atomically).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// The backend that executes the steps.
    #[arg(long, value_enum, default_value_t = Backend::Jit)]
    pub backend: Backend,
    /// Worker threads of the JIT (1 to 1024; default: every core). The
    /// interpreter is single-threaded and ignores it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: Option<u64>,
    /// Print, on stderr, the time of each compiler phase and the median, min and
    /// max step time.
    #[arg(long)]
    pub timings: bool,
    /// Insert a bound check before every load and store of JIT code (slower; a
    /// failed check is an internal error). The interpreter ignores it.
    #[arg(long)]
    pub check_bounds: bool,
    /// Run the graph as built, without the optimiser (for comparison).
    #[arg(long)]
    pub no_opt: bool,
    /// Force the instruction set of the kernels and the JIT (default: the best
    /// this CPU has, or `TDSL_ISA`). One the CPU lacks is an error.
    #[arg(long, value_enum, value_name = "ISA")]
    pub isa: Option<IsaArg>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The `.td` program.
    pub file: PathBuf,
    /// The most bytes one tensor may take (suffixes K, M, G, T; default: the
    /// memory available). A larger one is an error naming it, before allocation.
    #[arg(long, value_name = "BYTES", value_parser = crate::ir::limits::parse_bytes)]
    pub max_memory: Option<u64>,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The `.td` program.
    pub file: PathBuf,
    /// The most bytes one tensor may take (suffixes K, M, G, T; default: the
    /// memory available). A larger one is an error naming it, before allocation.
    #[arg(long, value_name = "BYTES", value_parser = crate::ir::limits::parse_bytes)]
    pub max_memory: Option<u64>,
    /// Print the graph after optimisation.
    #[arg(long)]
    pub opt: bool,
    /// After the graph, print the node count before and after each optimiser
    /// pass, as `// ` comment lines (implies `--opt`).
    #[arg(long)]
    pub stats: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct ReplArgs {
    /// A `.td` file to load first.
    pub file: Option<PathBuf>,
    /// The most bytes one tensor may take (suffixes K, M, G, T; default: the
    /// memory available). A larger one is an error naming it, before allocation.
    #[arg(long, value_name = "BYTES", value_parser = crate::ir::limits::parse_bytes)]
    pub max_memory: Option<u64>,
}

/// `NAME=FILE.npy` -> (NAME, FILE.npy).
fn parse_feed(text: &str) -> Result<(String, PathBuf), String> {
    let Some((name, path)) = text.split_once('=') else {
        return Err(format!("expected NAME=FILE.npy, got '{text}'"));
    };
    let name = parse_name(name)?;
    if path.is_empty() {
        return Err(format!("feed `{name}` has an empty file name"));
    }
    Ok((name, PathBuf::from(path)))
}

/// A non-empty name without spaces.
fn parse_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("empty name".to_string());
    }
    if name.chars().any(char::is_whitespace) {
        return Err(format!("'{name}' is not a name"));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tdsl").chain(args.iter().copied()))
    }

    fn run_args(args: &[&str]) -> RunArgs {
        match parse(args).unwrap().command {
            Command::Run(r) => r,
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn run_defaults() {
        let r = run_args(&["run", "prog.td"]);
        assert_eq!(r.file, PathBuf::from("prog.td"));
        assert!(r.feeds.is_empty() && r.fetch.is_empty());
        assert_eq!((r.steps, r.every), (None, None));
        assert_eq!(r.backend, Backend::Jit);
        assert_eq!(r.threads, None);
        assert!(!r.timings && !r.check_bounds);
    }

    #[test]
    fn run_all_flags() {
        let r = run_args(&[
            "run",
            "p.td",
            "--feed",
            "x=data/x.npy",
            "--feed",
            "w=a=b.npy",
            "--fetch",
            "loss,acc",
            "--fetch",
            "w",
            "--steps",
            "100",
            "--every",
            "10",
            "--out",
            "o",
            "--save",
            "s",
            "--backend",
            "interp",
            "--threads",
            "4",
            "--timings",
            "--check-bounds",
        ]);
        assert_eq!(
            r.feeds,
            vec![
                ("x".to_string(), PathBuf::from("data/x.npy")),
                ("w".to_string(), PathBuf::from("a=b.npy")),
            ]
        );
        assert_eq!(r.fetch, vec!["loss", "acc", "w"]);
        assert_eq!((r.steps, r.every), (Some(100), Some(10)));
        assert_eq!(r.out, Some(PathBuf::from("o")));
        assert_eq!(r.save, Some(PathBuf::from("s")));
        assert_eq!((r.restore.clone(), r.save_every), (None, None));
        assert_eq!(r.backend, Backend::Interp);
        assert_eq!(r.threads, Some(4));
        assert!(r.timings && r.check_bounds);
    }

    #[test]
    fn usage_errors() {
        let bad: &[&[&str]] = &[
            &[],
            &["run"],
            &["run", "p.td", "--feed", "x"],
            &["run", "p.td", "--feed", "=x.npy"],
            &["run", "p.td", "--feed", "x="],
            &["run", "p.td", "--fetch", "a,,b"],
            &["run", "p.td", "--steps", "0"],
            &["run", "p.td", "--steps", "-3"],
            &["run", "p.td", "--every", "0"],
            &["run", "p.td", "--save-every", "5"],
            &["run", "p.td", "--save", "c", "--save-every", "0"],
            &["run", "p.td", "--threads", "0"],
            &["run", "p.td", "--threads", "1025"],
            &["run", "p.td", "--backend", "gpu"],
            &["run", "p.td", "--bogus"],
            &["graph", "p.td", "--format", "svg"],
            &["frobnicate"],
        ];
        for args in bad {
            let err = parse(args).expect_err(&format!("{args:?} should be rejected"));
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn other_commands() {
        match parse(&["check", "p.td"]).unwrap().command {
            Command::Check(c) => assert_eq!(c.file, PathBuf::from("p.td")),
            other => panic!("{other:?}"),
        }
        match parse(&["graph", "p.td", "--opt", "--format", "dot"])
            .unwrap()
            .command
        {
            Command::Graph(g) => {
                assert!(g.opt);
                assert_eq!(g.format, GraphFormat::Dot);
            }
            other => panic!("{other:?}"),
        }
        match parse(&["graph", "p.td"]).unwrap().command {
            Command::Graph(g) => assert_eq!((g.opt, g.format), (false, GraphFormat::Text)),
            other => panic!("{other:?}"),
        }
        match parse(&["repl"]).unwrap().command {
            Command::Repl(r) => assert_eq!(r.file, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn checkpoint_flags() {
        let r = run_args(&[
            "run",
            "p.td",
            "--restore",
            "a",
            "--save",
            "b",
            "--save-every",
            "10",
        ]);
        assert_eq!(r.restore, Some(PathBuf::from("a")));
        assert_eq!(r.save, Some(PathBuf::from("b")));
        assert_eq!(r.save_every, Some(10));
    }

    #[test]
    fn max_memory_takes_suffixes() {
        assert_eq!(
            run_args(&["run", "p.td", "--max-memory", "512M"]).max_memory,
            Some(512 << 20)
        );
        assert_eq!(run_args(&["run", "p.td"]).max_memory, None);
        match parse(&["check", "p.td", "--max-memory", "1000"])
            .unwrap()
            .command
        {
            Command::Check(c) => assert_eq!(c.max_memory, Some(1000)),
            other => panic!("{other:?}"),
        }
        let err = parse(&["run", "p.td", "--max-memory", "lots"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
