//! The `tdsl` binary: see `tdsl --help` and `docs/cli.md`. It parses the command
//! line and hands `tdsl repl` to the REPL and every other command to the CLI.

use clap::Parser;
use tdsl::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let status = match &cli.command {
        Command::Repl(args) => tdsl::repl::main(args.file.as_deref(), args.max_memory),
        _ => tdsl::cli::run_cli(cli),
    };
    std::process::exit(status);
}
