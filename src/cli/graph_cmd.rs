//! `tdsl graph FILE [--opt] [--format text|dot]`: print the graph IR.

use super::args::{GraphArgs, GraphFormat};
use super::{print_stdout, Failure, SourceFile};
use crate::ir::printer;

pub fn graph(args: &GraphArgs) -> Result<(), Failure> {
    let source = SourceFile::read(&args.file)?;
    let module = source.compile()?;
    if args.opt {
        eprintln!("note: no optimisation passes exist yet; the graph is printed as built");
    }
    let text = match args.format {
        GraphFormat::Text => printer::to_text(&module.graph, &module.names),
        GraphFormat::Dot => printer::to_dot(&module.graph, &module.names),
    };
    print_stdout(&text).map_err(|d| source.failure(vec![d]))
}
