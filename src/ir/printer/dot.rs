//! The IR as a Graphviz dot graph (`tdsl graph --format dot`).

use super::{names_by_node, op_with_attributes};
use crate::ir::graph::{Graph, NodeId};
use crate::ir::op::Op;
use std::collections::HashMap;
use std::fmt::Write;

/// The Graphviz dot form of `graph`: one box per node, edges from inputs to users,
/// and each region as a cluster (its results joined to the node that owns it by
/// dashed edges).
pub fn to_dot(graph: &Graph, names: &[(String, NodeId)]) -> String {
    let mut out = String::from("digraph tdsl {\n  node [shape=box, fontname=\"monospace\"];\n");
    write_dot_graph(&mut out, graph, &names_by_node(names), "n", 1);
    out.push_str("}\n");
    out
}

fn write_dot_graph(
    out: &mut String,
    graph: &Graph,
    names: &HashMap<NodeId, Vec<&str>>,
    prefix: &str,
    depth: usize,
) {
    let indent = "  ".repeat(depth);
    let no_names = HashMap::new();
    for id in graph.ids() {
        let node = graph.node(id);
        let mut label = format!("{id} = {}\n", op_with_attributes(&node.op));
        if !matches!(node.op, Op::Group) {
            label.push_str(&node.ty.to_string());
        } else {
            label.push_str("group");
        }
        if let Some(node_names) = names.get(&id) {
            let _ = write!(label, "\n// {}", node_names.join(", "));
        }
        let node_key = format!("{prefix}{}", id.0);
        let _ = writeln!(out, "{indent}{node_key} [label=\"{}\"];", escape(&label));
        for input in &node.inputs {
            let _ = writeln!(out, "{indent}{prefix}{} -> {node_key};", input.0);
        }
        for (label, region) in node.op.regions() {
            let region_prefix = format!("{node_key}_{label}_");
            let _ = writeln!(out, "{indent}subgraph cluster_{node_key}_{label} {{");
            let _ = writeln!(
                out,
                "{indent}  label=\"{}\";\n{indent}  style=dashed;",
                escape(&format!("{id} {label}"))
            );
            write_dot_graph(out, region, &no_names, &region_prefix, depth + 1);
            let _ = writeln!(out, "{indent}}}");
            for result in &region.results {
                let _ = writeln!(
                    out,
                    "{indent}{region_prefix}{} -> {node_key} [style=dashed];",
                    result.0
                );
            }
        }
    }
}

/// Escapes a dot label: quotes and backslashes; newlines become `\n`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}
