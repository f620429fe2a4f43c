//! A compact text form of a graph, for `print_after` dumps and the passes'
//! before/after snapshot tests. One node per line, regions nested:
//! ```text
//! %0 = placeholder x : f32[4]  // x
//! %1 = const f32[] 2
//! %2 = mul %0, %1 : f32[4]  // y
//! %3 = cond %4, %0 : f32[4]
//!   then(f32[4]) {
//!     %0 = param 0 : f32[4]
//!     yield %0
//!   }
//! ```

use crate::ir::{Graph, NodeId, Op, Tensor};
use std::fmt::Write;

/// Constants with more elements than this print as `<N values>`.
const MAX_PRINTED: usize = 8;

/// The graph as text; `names` label the nodes they name.
pub fn to_text(graph: &Graph, names: &[(String, NodeId)]) -> String {
    let mut out = String::new();
    write_graph(&mut out, graph, names, 0);
    out
}

fn write_graph(out: &mut String, graph: &Graph, names: &[(String, NodeId)], depth: usize) {
    let indent = "  ".repeat(depth);
    for id in graph.ids() {
        let node = graph.node(id);
        let _ = write!(out, "{indent}{id} = {}", op_text(&node.op));
        let inputs: Vec<String> = node.inputs.iter().map(|i| i.to_string()).collect();
        if !inputs.is_empty() {
            let _ = write!(out, " {}", inputs.join(", "));
        }
        if !matches!(node.op, Op::Const(_)) {
            let _ = write!(out, " : {}", node.ty);
        }
        let labels: Vec<&str> = names
            .iter()
            .filter(|(_, n)| *n == id)
            .map(|(name, _)| name.as_str())
            .collect();
        if !labels.is_empty() {
            let _ = write!(out, "  // {}", labels.join(", "));
        }
        out.push('\n');
        let regions: Vec<(&str, &Graph)> = match &node.op {
            Op::Cond {
                then_body,
                else_body,
            } => vec![("then", then_body), ("else", else_body)],
            Op::Fold { body } => vec![("body", body)],
            _ => vec![],
        };
        for (label, region) in regions {
            let params: Vec<String> = region.params.iter().map(|p| p.to_string()).collect();
            let _ = writeln!(out, "{indent}  {label}({}) {{", params.join(", "));
            write_graph(out, region, &[], depth + 2);
            let results: Vec<String> = region.results.iter().map(|r| r.to_string()).collect();
            let _ = writeln!(out, "{indent}    yield {}", results.join(", "));
            let _ = writeln!(out, "{indent}  }}");
        }
    }
}

fn op_text(op: &Op) -> String {
    match op {
        Op::Placeholder { name } => format!("placeholder {name}"),
        Op::Variable { name } => format!("variable {name}"),
        Op::Param(i) => format!("param {i}"),
        Op::Const(t) => format!("const {}", const_text(t)),
        Op::Cast(d) => format!("cast[{d}]"),
        Op::Reduce { axes, keepdims, .. } => {
            format!("{}[axes={axes:?}, keepdims={keepdims}]", op.name())
        }
        Op::ArgMax { axis }
        | Op::Concat { axis }
        | Op::Softmax { axis }
        | Op::LogSoftmax { axis } => format!("{}[axis={axis}]", op.name()),
        Op::Transpose { perm } => format!("transpose{perm:?}"),
        Op::Pad { pads, value } => format!("pad[{pads:?}, value={value}]"),
        Op::OneHot { depth } => format!("one_hot[depth={depth}]"),
        Op::Conv2d { strides, pads } => format!("conv2d[strides={strides:?}, pads={pads:?}]"),
        Op::MaxPool2d { size, strides } => {
            format!("max_pool2d[size={size:?}, strides={strides:?}]")
        }
        Op::Assign { var } => format!("assign {var}"),
        Op::Grad(g) => g.with_attributes(),
        other => other.name(),
    }
}

fn const_text(t: &Tensor) -> String {
    let ty = t.ty();
    if t.len() > MAX_PRINTED {
        return format!("{ty} <{} values>", t.len());
    }
    let values: Vec<String> = match t {
        Tensor::Bool(a) => a.iter().map(|v| v.to_string()).collect(),
        Tensor::I32(a) => a.iter().map(|v| v.to_string()).collect(),
        Tensor::F32(a) => a.iter().map(|v| format!("{v:?}")).collect(),
        Tensor::F64(a) => a.iter().map(|v| format!("{v:?}")).collect(),
    };
    if ty.shape.rank() == 0 {
        format!("{ty} {}", values.join(""))
    } else {
        format!("{ty} [{}]", values.join(", "))
    }
}
