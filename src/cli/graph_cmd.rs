//! `tdsl graph FILE [--opt] [--stats] [--format text|dot]`: print the graph IR,
//! as built or optimised, and optionally the optimiser's node counts.

use super::args::{GraphArgs, GraphFormat};
use super::{print_stdout, Failure, SourceFile};
use crate::ir::printer;

pub fn graph(args: &GraphArgs) -> Result<(), Failure> {
    let source = SourceFile::read(&args.file)?;
    // Without the optimiser nothing needs the values of constructors (the
    // printer shows only small constants, and those are computed).
    let optimize = args.opt || args.stats;
    let options = crate::Options {
        optimize,
        max_memory: args.max_memory,
        values: optimize,
        ranks: 1,
        ..Default::default()
    };
    let compiled = source.compile_with(&options)?;
    let module = &compiled.module;
    let mut text = match args.format {
        GraphFormat::Text => printer::to_text(&module.graph, &module.names),
        GraphFormat::Dot => printer::to_dot(&module.graph, &module.names),
    };
    if let (true, Some(stats)) = (args.stats, &compiled.stats) {
        // `// ` lines keep the output a valid dot file too.
        text.push_str("// optimiser: nodes (region nodes included) before -> after each pass\n");
        for line in stats.to_text().lines() {
            text.push_str(&format!("// {line}\n"));
        }
    }
    print_stdout(&text).map_err(|d| source.failure(vec![d]))
}
