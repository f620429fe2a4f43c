//! Describing a built module in words: its signature (`tdsl check`) and the names
//! a step can fetch (`tdsl run` of a program without `run` statements, the REPL).

use crate::ir::{Module, NodeId, Op};

/// The signature of a module, one line per placeholder, variable, `let` and `run`:
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
        if let Some(epochs) = run.epochs {
            out.push_str(&format!(" epochs {epochs}"));
        } else if run.steps != 1 || run.every.is_some() {
            out.push_str(&format!(" repeat {}", run.steps));
        }
        if let Some(every) = run.every {
            out.push_str(&format!(" every {every}"));
        }
        out.push('\n');
    }
    out
}

/// Every fetchable name with its type, indented, in source order.
pub fn fetchable_names(module: &Module) -> String {
    module
        .names
        .iter()
        .map(|(name, id)| format!("  {name}: {}\n", type_text(module, *id)))
        .collect()
}

/// `f32[64, 10]`, or `group` for a node without a value.
pub fn type_text(module: &Module, id: NodeId) -> String {
    match module.graph.nodes.get(id.index()) {
        Some(node) if matches!(node.op, Op::Group) => "group".to_string(),
        Some(node) => node.ty.to_string(),
        None => "?".to_string(),
    }
}

/// Whether `name` is a `group` (it runs, but has no value).
pub fn is_group(module: &Module, name: &str) -> bool {
    module
        .lookup(name)
        .and_then(|id| module.graph.nodes.get(id.index()))
        .is_some_and(|node| matches!(node.op, Op::Group))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::ir::{DType, Graph, PlaceholderDecl, RunStmt, Tensor, TensorType, VariableDecl};

    #[test]
    fn signature_lines() {
        let sp = Span::default();
        let ty = TensorType::new(DType::F32, vec![2]);
        let mut g = Graph::new();
        let x = g.add(Op::Placeholder { name: "x".into() }, vec![], ty.clone(), sp);
        let w = g.add(Op::Variable { name: "w".into() }, vec![], ty.clone(), sp);
        let a = g.add(Op::Assign { var: "w".into() }, vec![x], ty.clone(), sp);
        let t = g.add(Op::Group, vec![a], TensorType::scalar(DType::Bool), sp);
        let module = Module {
            graph: g,
            placeholders: vec![PlaceholderDecl {
                name: "x".into(),
                ty: ty.clone(),
                default: Some(Tensor::full(&ty, 0.0)),
                span: sp,
            }],
            variables: vec![VariableDecl {
                name: "w".into(),
                ty: ty.clone(),
                init: Tensor::full(&ty, 0.0),
                span: sp,
            }],
            names: vec![
                ("x".into(), x),
                ("w".into(), w),
                ("a".into(), a),
                ("train".into(), t),
            ],
            runs: vec![
                RunStmt {
                    fetches: vec![("a".into(), sp)],
                    steps: 1,
                    every: None,
                    epochs: None,
                    span: sp,
                },
                RunStmt {
                    fetches: vec![("train".into(), sp), ("w".into(), sp)],
                    steps: 100,
                    every: Some(10),
                    epochs: None,
                    span: sp,
                },
                RunStmt {
                    fetches: vec![("w".into(), sp)],
                    steps: 5,
                    every: None,
                    epochs: None,
                    span: sp,
                },
            ],
            data: Default::default(),
        };
        assert_eq!(
            signature(&module),
            "placeholder x: f32[2] (has default)\nvariable w: f32[2]\nlet a: f32[2]\n\
             let train: group\nrun a\nrun train, w repeat 100 every 10\nrun w repeat 5\n"
        );
        assert_eq!(
            fetchable_names(&module),
            "  x: f32[2]\n  w: f32[2]\n  a: f32[2]\n  train: group\n"
        );
        assert!(is_group(&module, "train"));
        assert!(!is_group(&module, "a"));
        assert!(!is_group(&module, "nope"));
    }
}
