//! `:graph NAME`: the IR text of one node and every node it depends on, in the
//! form of `tdsl graph` (same node numbers, regions nested below their node).

use super::state::HIDDEN;
use crate::ir::printer::to_text;
use crate::ir::{Module, NodeId};

/// The text of `id` and its transitive inputs.
pub fn node_text(module: &Module, id: NodeId) -> String {
    let graph = &module.graph;
    let mut needed = vec![false; graph.nodes.len()];
    let mut stack = vec![id];
    while let Some(next) = stack.pop() {
        match needed.get_mut(next.index()) {
            Some(seen) if !*seen => *seen = true,
            _ => continue,
        }
        if let Some(node) = graph.nodes.get(next.index()) {
            stack.extend(node.inputs.iter().copied());
        }
    }
    let names: Vec<(String, NodeId)> = module
        .names
        .iter()
        .filter(|(n, _)| !n.starts_with(HIDDEN))
        .cloned()
        .collect();
    let full = to_text(graph, &names);
    // Top-level lines start with `%N = `; indented lines belong to the node above.
    let mut out = String::new();
    let mut keep = false;
    for line in full.lines() {
        if !line.starts_with(' ') {
            keep = line
                .strip_prefix('%')
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| needed.get(n).copied().unwrap_or(false));
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `:graph NAME` shows the optimised IR, as `tdsl graph --opt` does; if the
/// optimiser fails (an internal error), the graph as built.
pub fn optimized_node_text(module: &Module, name: &str) -> Option<String> {
    let mut optimized = module.clone();
    let shown = match crate::opt::optimize(&mut optimized) {
        Ok(_) => &optimized,
        Err(_) => module,
    };
    shown.lookup(name).map(|id| node_text(shown, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn only_the_dependencies() {
        let source = "variable a: f32[2] = 1.0;\nvariable b: f32[1] = 0.0;\nlet c = a * 2.0;\n";
        let module = crate::compile(source, Path::new(".")).unwrap_or_default();
        let id = module.lookup("c").unwrap_or(NodeId(0));
        let text = node_text(&module, id);
        assert!(text.contains("// c"), "{text}");
        assert!(text.contains("// a"), "{text}");
        assert!(!text.contains("// b"), "{text}");
    }
}
