//! The IR as text (`tdsl graph`) and as a Graphviz dot graph (`--format dot`).
//!
//! Text form, one node per line, regions nested and indented:
//! ```text
//! %0 = placeholder x : f32[64, 3072]  // x
//! %1 = const f32[] 0.01
//! %2 = reduce_sum[axes=[1], keepdims=false] %0 : f32[64]
//! %3 = cond %4, %0 : f32[64, 3072]
//!   then(%p0: f32[64, 3072]) {
//!     %0 = param %p0 : f32[64, 3072]
//!     yield %0
//!   }
//!   else(%p0: f32[64, 3072]) {
//!     ...
//!   }
//! ```
//! Node numbers inside a region are the region's own (`%p0` is its parameter 0).

use super::graph::{Graph, NodeId};
use super::op::Op;
use super::tensor::Tensor;
use std::collections::HashMap;
use std::fmt::Write;

/// Constants with more elements than this print as `<...>`.
const MAX_CONST_ELEMENTS: usize = 8;

/// The text form of `graph`; `names` (from `Module::names`) label the nodes they name.
pub fn to_text(graph: &Graph, names: &[(String, NodeId)]) -> String {
    let mut out = String::new();
    write_graph(&mut out, graph, &names_by_node(names), 0);
    out
}

fn names_by_node(names: &[(String, NodeId)]) -> HashMap<NodeId, Vec<&str>> {
    let mut map: HashMap<NodeId, Vec<&str>> = HashMap::new();
    for (name, id) in names {
        map.entry(*id).or_default().push(name);
    }
    map
}

fn write_graph(out: &mut String, graph: &Graph, names: &HashMap<NodeId, Vec<&str>>, depth: usize) {
    let indent = "  ".repeat(depth);
    for id in graph.ids() {
        let node = graph.node(id);
        let _ = write!(out, "{indent}{id} = {}", op_with_attributes(&node.op));
        let inputs: Vec<String> = node.inputs.iter().map(|i| i.to_string()).collect();
        if !inputs.is_empty() {
            let separator = if matches!(node.op, Op::Assign { .. }) {
                ", "
            } else {
                " "
            };
            let _ = write!(out, "{separator}{}", inputs.join(", "));
        }
        match &node.op {
            Op::Const(_) => {}
            Op::Group => out.push_str(" : group"),
            _ => {
                let _ = write!(out, " : {}", node.ty);
            }
        }
        if let Some(node_names) = names.get(&id) {
            let _ = write!(out, "  // {}", node_names.join(", "));
        }
        out.push('\n');
        let no_names = HashMap::new();
        match &node.op {
            Op::Cond {
                then_body,
                else_body,
            } => {
                write_region(out, "then", then_body, &no_names, depth + 1);
                write_region(out, "else", else_body, &no_names, depth + 1);
            }
            Op::Fold { body } => write_region(out, "body", body, &no_names, depth + 1),
            _ => {}
        }
    }
}

fn write_region(
    out: &mut String,
    label: &str,
    region: &Graph,
    names: &HashMap<NodeId, Vec<&str>>,
    depth: usize,
) {
    let indent = "  ".repeat(depth);
    let params: Vec<String> = region
        .params
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("%p{i}: {ty}"))
        .collect();
    let _ = writeln!(out, "{indent}{label}({}) {{", params.join(", "));
    write_graph(out, region, names, depth + 1);
    let results: Vec<String> = region.results.iter().map(|r| r.to_string()).collect();
    let _ = writeln!(out, "{indent}  yield {}", results.join(", "));
    let _ = writeln!(out, "{indent}}}");
}

/// `matmul`, `reduce_sum[axes=[1], keepdims=false]`, `placeholder x`, `const f32[] 0.01`.
pub fn op_with_attributes(op: &Op) -> String {
    let name = op.name();
    match op {
        Op::Placeholder { name: n } | Op::Variable { name: n } => format!("{name} {n}"),
        Op::Assign { var } => format!("{name} {var}"),
        Op::Param(i) => format!("{name} %p{i}"),
        Op::Const(tensor) => format!("{name} {} {}", tensor.ty(), const_value(tensor)),
        Op::Cast(dtype) => format!("{name}[{dtype}]"),
        Op::Reduce { axes, keepdims, .. } => {
            format!("{name}[axes={}, keepdims={keepdims}]", list(axes))
        }
        Op::ArgMax { axis } | Op::Concat { axis } => format!("{name}[axis={axis}]"),
        Op::Softmax { axis } | Op::LogSoftmax { axis } => format!("{name}[axis={axis}]"),
        Op::Transpose { perm } => format!("{name}[perm={}]", list(perm)),
        Op::Pad { pads, value } => {
            let pads: Vec<String> = pads.iter().map(|p| list(p)).collect();
            format!(
                "{name}[pads=[{}], value={}]",
                pads.join(", "),
                format_float(*value)
            )
        }
        Op::OneHot { depth } => format!("{name}[depth={depth}]"),
        Op::Conv2d { strides, pads } => {
            format!("{name}[strides={}, pads={}]", list(strides), list(pads))
        }
        Op::MaxPool2d { size, strides } => {
            format!("{name}[size={}, strides={}]", list(size), list(strides))
        }
        Op::Grad(grad_op) => grad_op.with_attributes(),
        _ => name,
    }
}

/// `[1, 2, 3]`.
fn list(items: &[usize]) -> String {
    let items: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// The value of a small constant, or `<...>`.
fn const_value(tensor: &Tensor) -> String {
    if tensor.len() > MAX_CONST_ELEMENTS {
        "<...>".to_string()
    } else {
        format_values(tensor)
    }
}

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
        let regions: Vec<(&str, &Graph)> = match &node.op {
            Op::Cond {
                then_body,
                else_body,
            } => vec![("then", then_body), ("else", else_body)],
            Op::Fold { body } => vec![("body", body)],
            _ => vec![],
        };
        for (label, region) in regions {
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

// ---- numbers and tensor values (shared with the runtime's printing) ----

/// Formats `x` with 6 significant digits, like C's `printf("%.6g", x)`.
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // The exponent of the value rounded to 6 significant digits decides between
    // fixed and scientific notation, exactly as `%g` does.
    let scientific = format!("{x:.5e}");
    let (mantissa, exponent) = match scientific.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (scientific.as_str(), 0),
    };
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{}e{sign}{:02}",
            strip_trailing_zeros(mantissa),
            exponent.unsigned_abs()
        )
    } else {
        let precision = (5 - exponent) as usize;
        strip_trailing_zeros(&format!("{x:.precision$}")).to_string()
    }
}

/// `1.50000` -> `1.5`, `2.00000` -> `2`; a string without a point is kept.
fn strip_trailing_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The first `limit` elements as text, in row-major order.
pub(crate) fn element_strings(tensor: &Tensor, limit: usize) -> Vec<String> {
    match tensor {
        Tensor::F32(a) => a
            .iter()
            .take(limit)
            .map(|&v| format_float(v as f64))
            .collect(),
        Tensor::F64(a) => a.iter().take(limit).map(|&v| format_float(v)).collect(),
        Tensor::I32(a) => a.iter().take(limit).map(|v| v.to_string()).collect(),
        Tensor::Bool(a) => a.iter().take(limit).map(|v| v.to_string()).collect(),
    }
}

/// Writes `items` nested by `dims`, NumPy-like: `[[1, 2], [3, 4]]`.
fn write_nested(out: &mut String, dims: &[usize], items: &[String], position: &mut usize) {
    match dims.split_first() {
        None => {
            if let Some(item) = items.get(*position) {
                out.push_str(item);
            }
            *position += 1;
        }
        Some((&len, rest)) => {
            out.push('[');
            for i in 0..len {
                if i > 0 {
                    out.push_str(", ");
                }
                write_nested(out, rest, items, position);
            }
            out.push(']');
        }
    }
}

/// The values of a tensor, nested: `[[1, 2, 3], [4, 5, 6]]`, or `0.5` for a scalar.
pub fn format_values(tensor: &Tensor) -> String {
    let items = element_strings(tensor, usize::MAX);
    let mut out = String::new();
    write_nested(&mut out, tensor.shape(), &items, &mut 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, DType, ReduceOp, TensorType};
    use crate::syntax::Span;
    use std::sync::Arc;

    fn sample() -> (Graph, Vec<(String, NodeId)>) {
        let sp = Span::default();
        let mut g = Graph::new();
        let x = g.add(
            Op::Placeholder { name: "x".into() },
            vec![],
            TensorType::new(DType::F32, vec![4, 3]),
            sp,
        );
        let lr = g.add(
            Op::Const(Arc::new(Tensor::scalar(DType::F32, 0.01))),
            vec![],
            TensorType::scalar(DType::F32),
            sp,
        );
        let big = g.add(
            Op::Const(Arc::new(Tensor::full(
                &TensorType::new(DType::F32, vec![4, 3]),
                1.0,
            ))),
            vec![],
            TensorType::new(DType::F32, vec![4, 3]),
            sp,
        );
        let mul = g.add(
            Op::Binary(BinaryOp::Mul),
            vec![x, lr],
            TensorType::new(DType::F32, vec![4, 3]),
            sp,
        );
        let sum = g.add(
            Op::Reduce {
                op: ReduceOp::Sum,
                axes: vec![1],
                keepdims: false,
            },
            vec![mul],
            TensorType::new(DType::F32, vec![4]),
            sp,
        );
        let pred = g.add(
            Op::Const(Arc::new(Tensor::scalar(DType::Bool, 1.0))),
            vec![],
            TensorType::scalar(DType::Bool),
            sp,
        );
        let ty = TensorType::new(DType::F32, vec![4]);
        let mut then_body = Graph::region(vec![ty.clone()]);
        let p = then_body.add(Op::Param(0), vec![], ty.clone(), sp);
        let n = then_body.add(Op::Unary(crate::ir::UnaryOp::Neg), vec![p], ty.clone(), sp);
        then_body.results = vec![n];
        let mut else_body = Graph::region(vec![ty.clone()]);
        let q = else_body.add(Op::Param(0), vec![], ty.clone(), sp);
        else_body.results = vec![q];
        let c = g.add(
            Op::Cond {
                then_body: Box::new(then_body),
                else_body: Box::new(else_body),
            },
            vec![pred, sum],
            ty,
            sp,
        );
        let _ = big;
        (g, vec![("x".into(), x), ("s".into(), sum), ("c".into(), c)])
    }

    #[test]
    fn text_form() {
        let (g, names) = sample();
        let expected = "\
%0 = placeholder x : f32[4, 3]  // x
%1 = const f32[] 0.01
%2 = const f32[4, 3] <...>
%3 = mul %0, %1 : f32[4, 3]
%4 = reduce_sum[axes=[1], keepdims=false] %3 : f32[4]  // s
%5 = const bool[] true
%6 = cond %5, %4 : f32[4]  // c
  then(%p0: f32[4]) {
    %0 = param %p0 : f32[4]
    %1 = neg %0 : f32[4]
    yield %1
  }
  else(%p0: f32[4]) {
    %0 = param %p0 : f32[4]
    yield %0
  }
";
        assert_eq!(to_text(&g, &names), expected);
    }

    #[test]
    fn dot_form_has_clusters() {
        let (g, names) = sample();
        let dot = to_dot(&g, &names);
        assert!(dot.starts_with("digraph tdsl {\n"));
        assert!(dot.ends_with("}\n"));
        assert!(dot.contains("subgraph cluster_n6_then {"));
        assert!(dot.contains("n6_then_1 -> n6 [style=dashed];"));
        assert!(dot.contains("n0 -> n3;"));
        assert!(dot.contains("label=\"%0 = placeholder x\\nf32[4, 3]\\n// x\""));
    }
}
