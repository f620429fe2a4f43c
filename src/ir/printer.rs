//! The IR as text (`tdsl graph`, the REPL's `:graph`, the optimiser's dumps: one
//! node per line, regions nested and indented, `docs/cli.md`) and as a Graphviz
//! dot graph (`--format dot`, in [`dot`]).

mod dot;
mod values;

pub use dot::to_dot;
pub(crate) use values::element_strings;
pub use values::{format_float, format_values};

use super::graph::{Graph, NodeId};
use super::op::Op;
use super::tensor::Tensor;
use std::collections::HashMap;
use std::fmt::Write;

/// Constants with more elements than this print as `<...>` (`<N values>`).
pub const MAX_CONST_ELEMENTS: usize = 8;

/// Which text form [`to_text_with`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `tdsl graph`'s form, shown above.
    Graph,
    /// The optimiser's form (`opt::print`), which its passes' snapshot tests
    /// pin: regions as `then(f32[4])`, `param 0`, constants with Rust's float
    /// digits (`2.0`), flat (`[1.0, 2.0]`) or counted (`<64 values>`),
    /// `transpose[1, 0]`, `pad[[[0, 0]], value=0]`, `group` typed `bool[]` and
    /// `assign w %1`.
    Compact,
}

/// The text form of `graph`; `names` (from `Module::names`) label the nodes they name.
pub fn to_text(graph: &Graph, names: &[(String, NodeId)]) -> String {
    to_text_with(graph, names, Style::Graph)
}

/// [`to_text`] in the given style.
pub fn to_text_with(graph: &Graph, names: &[(String, NodeId)], style: Style) -> String {
    let mut out = String::new();
    write_graph(&mut out, graph, &names_by_node(names), style, 0);
    out
}

fn names_by_node(names: &[(String, NodeId)]) -> HashMap<NodeId, Vec<&str>> {
    let mut map: HashMap<NodeId, Vec<&str>> = HashMap::new();
    for (name, id) in names {
        map.entry(*id).or_default().push(name);
    }
    map
}

fn write_graph(
    out: &mut String,
    graph: &Graph,
    names: &HashMap<NodeId, Vec<&str>>,
    style: Style,
    depth: usize,
) {
    let indent = "  ".repeat(depth);
    for id in graph.ids() {
        let node = graph.node(id);
        let _ = write!(out, "{indent}{id} = {}", op_text(&node.op, style));
        let inputs: Vec<String> = node.inputs.iter().map(|i| i.to_string()).collect();
        if !inputs.is_empty() {
            let assign = matches!(node.op, Op::Assign { .. });
            let separator = if assign && style == Style::Graph {
                ", "
            } else {
                " "
            };
            let _ = write!(out, "{separator}{}", inputs.join(", "));
        }
        match (&node.op, style) {
            (Op::Const(_), _) => {}
            (Op::Group, Style::Graph) => out.push_str(" : group"),
            _ => {
                let _ = write!(out, " : {}", node.ty);
            }
        }
        if let Some(node_names) = names.get(&id) {
            let _ = write!(out, "  // {}", node_names.join(", "));
        }
        out.push('\n');
        for (label, region) in node.op.regions() {
            write_region(out, label, region, style, depth + 1);
        }
    }
}

fn write_region(out: &mut String, label: &str, region: &Graph, style: Style, depth: usize) {
    let indent = "  ".repeat(depth);
    let params: Vec<String> = region
        .params
        .iter()
        .enumerate()
        .map(|(i, ty)| match style {
            Style::Graph => format!("%p{i}: {ty}"),
            Style::Compact => ty.to_string(),
        })
        .collect();
    let _ = writeln!(out, "{indent}{label}({}) {{", params.join(", "));
    write_graph(out, region, &HashMap::new(), style, depth + 1);
    let results: Vec<String> = region.results.iter().map(|r| r.to_string()).collect();
    let _ = writeln!(out, "{indent}  yield {}", results.join(", "));
    let _ = writeln!(out, "{indent}}}");
}

fn op_text(op: &Op, style: Style) -> String {
    match (style, op) {
        (Style::Graph, _) => op_with_attributes(op),
        (Style::Compact, Op::Param(i)) => format!("param {i}"),
        (Style::Compact, Op::Const(tensor)) => {
            format!("const {} {}", tensor.ty(), compact_const_value(tensor))
        }
        (Style::Compact, Op::Transpose { perm }) => format!("transpose{perm:?}"),
        (Style::Compact, Op::Pad { pads, value }) => format!("pad[{pads:?}, value={value}]"),
        (Style::Compact, _) => op_with_attributes(op),
    }
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
        Op::StridedSlice {
            starts,
            sizes,
            steps,
        } => format!(
            "{name}[starts={}, sizes={}, steps={steps:?}]",
            list(starts),
            list(sizes)
        ),
        Op::Take { axis } => format!("{name}[axis={axis}]"),
        Op::MirrorPad { pads, symmetric } => {
            let pads: Vec<String> = pads.iter().map(|p| list(p)).collect();
            let mode = if *symmetric { "SYMMETRIC" } else { "REFLECT" };
            format!("{name}[pads=[{}], mode={mode}]", pads.join(", "))
        }
        Op::Conv2d { strides, pads } => {
            format!("{name}[strides={}, pads={}]", list(strides), list(pads))
        }
        Op::MaxPool2d {
            size,
            strides,
            pads,
        }
        | Op::AvgPool2d {
            size,
            strides,
            pads,
        } => window_label(&name, size, strides, pads),
        Op::Grad(grad_op) => grad_op.with_attributes(),
        Op::Random { seed, .. } => format!("{name}[seed={seed}]"),
        Op::Scan { reverse, carry, .. } => format!("{name}[carry={carry}, reverse={reverse}]"),
        _ => name,
    }
}

/// `[1, 2, 3]`.
/// A pooling window's label: `NAME[size=.., strides=..]`, with `pads=..` only
/// when there are some (VALID windows print as they always have).
pub(crate) fn window_label(
    name: &str,
    size: &[usize],
    strides: &[usize],
    pads: &[usize],
) -> String {
    let pads = if pads.iter().all(|&p| p == 0) {
        String::new()
    } else {
        format!(", pads={}", list(pads))
    };
    format!(
        "{name}[size={}, strides={}{pads}]",
        list(size),
        list(strides)
    )
}

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

/// A small constant's values in Rust's float digits, flat, or `<N values>`.
fn compact_const_value(tensor: &Tensor) -> String {
    if tensor.len() > MAX_CONST_ELEMENTS {
        return format!("<{} values>", tensor.len());
    }
    let values: Vec<String> = match tensor {
        Tensor::Bool(a) => a.iter().map(|v| v.to_string()).collect(),
        Tensor::I32(a) => a.iter().map(|v| v.to_string()).collect(),
        Tensor::F32(a) => a.iter().map(|v| format!("{v:?}")).collect(),
        Tensor::F64(a) => a.iter().map(|v| format!("{v:?}")).collect(),
    };
    if tensor.shape().is_empty() {
        values.join("")
    } else {
        format!("[{}]", values.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::ir::{BinaryOp, DType, ReduceOp, TensorType};
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
    fn compact_form() {
        let (g, names) = sample();
        let text = to_text_with(&g, &names, Style::Compact);
        assert!(text.starts_with("%0 = placeholder x : f32[4, 3]  // x\n"));
        assert!(text.contains("%2 = const f32[4, 3] <12 values>\n"));
        assert!(text.contains("  then(f32[4]) {\n    %0 = param 0 : f32[4]\n"));
        assert!(text.contains("%5 = const bool[] true\n"));
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
