//! `tdsl check FILE`: build the program and print its signature, one line per
//! placeholder, variable, `let` and `run` statement. It needs types, not
//! values: large constructor values are never computed.

use super::args::CheckArgs;
use super::{print_stdout, Failure, SourceFile};
use crate::runtime::signature::signature;

pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    let source = SourceFile::read(&args.file)?;
    let options = crate::Options {
        optimize: false,
        max_memory: args.max_memory,
        values: false,
        ranks: 1,
    };
    let module = source.compile_with(&options)?.module;
    print_stdout(&signature(&module)).map_err(|d| source.failure(vec![d]))
}
