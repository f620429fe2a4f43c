//! The `tdsl` binary: see `tdsl --help` and `docs/cli.md`.

fn main() {
    std::process::exit(tdsl::cli::main());
}
