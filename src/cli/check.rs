//! `tdsl check FILE`: build the program and print its signature, one line per
//! placeholder, variable, `let` and `run` statement.

use super::args::CheckArgs;
use super::{print_stdout, Failure, SourceFile};
use crate::ir::{Module, Op};

pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    let source = SourceFile::read(&args.file)?;
    let module = source.compile()?;
    print_stdout(&signature(&module)).map_err(|d| source.failure(vec![d]))
}

/// The signature of a module:
/// ```text
/// placeholder x: f32[64, 32, 32, 3] (has default)
/// variable w1: f32[3072, 42]
/// let scores: f32[64, 10]
/// let train: group
/// run train, loss repeat 100 every 10
/// ```
pub fn signature(module: &Module) -> String {
    let mut out = String::new();
    for p in &module.placeholders {
        let default = if p.default.is_some() {
            " (has default)"
        } else {
            ""
        };
        out.push_str(&format!("placeholder {}: {}{default}\n", p.name, p.ty));
    }
    for v in &module.variables {
        out.push_str(&format!("variable {}: {}\n", v.name, v.ty));
    }
    for (name, id) in &module.names {
        if module.placeholder(name).is_some() || module.variable(name).is_some() {
            continue;
        }
        out.push_str(&format!("let {name}: {}\n", type_text(module, *id)));
    }
    for run in &module.runs {
        let names: Vec<&str> = run.fetches.iter().map(|(n, _)| n.as_str()).collect();
        out.push_str(&format!("run {}", names.join(", ")));
        if run.steps != 1 || run.every.is_some() {
            out.push_str(&format!(" repeat {}", run.steps));
        }
        if let Some(every) = run.every {
            out.push_str(&format!(" every {every}"));
        }
        out.push('\n');
    }
    out
}

/// `f32[64, 10]`, or `group` for a node without a value.
pub fn type_text(module: &Module, id: crate::ir::NodeId) -> String {
    if id.index() >= module.graph.len() {
        return "?".to_string();
    }
    let node = module.graph.node(id);
    if matches!(node.op, Op::Group) {
        "group".to_string()
    } else {
        node.ty.to_string()
    }
}
