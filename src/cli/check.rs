//! `tdsl check FILE`: build the program and print its signature, one line per
//! placeholder, variable, `let` and `run` statement.

use super::args::CheckArgs;
use super::{print_stdout, Failure, SourceFile};
use crate::runtime::signature::signature;

pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    let source = SourceFile::read(&args.file)?;
    let module = source.compile()?;
    print_stdout(&signature(&module)).map_err(|d| source.failure(vec![d]))
}
