//! The IR verifier: the structural and type invariants every graph keeps (ids,
//! types re-inferred, region params and results; what each means:
//! `docs/optimiser.md`, "Verifier"). [`verify_module`] also checks the names and
//! that placeholder, variable and assign nodes agree with their declarations.

use super::graph::{Graph, NodeId};
use super::infer::{infer, infer_broadcast};
use super::infer::{need_step, need_word};
use super::module::Module;
use super::op::{Op, RandomKind};

/// Checks one graph (the top level, or a region when it has params or results).
pub fn verify(graph: &Graph) -> Result<(), String> {
    verify_graph(graph, false, "")
}

/// Checks the module's graph, its names and its declarations.
pub fn verify_module(module: &Module) -> Result<(), String> {
    verify_graph(&module.graph, false, "")?;
    let count = module.graph.len();
    for (name, id) in &module.names {
        if id.index() >= count {
            return Err(format!(
                "name `{name}` refers to {id}, but the graph has {count} nodes"
            ));
        }
    }
    for id in module.graph.ids() {
        let node = module.graph.node(id);
        match &node.op {
            Op::Placeholder { name } => match module.placeholder(name) {
                Some(decl) if decl.ty == node.ty => {}
                Some(decl) => {
                    return Err(format!(
                        "{id}: placeholder `{name}` is {} but declared {}",
                        node.ty, decl.ty
                    ))
                }
                None => return Err(format!("{id}: undeclared placeholder `{name}`")),
            },
            Op::Variable { name: var } | Op::Assign { var } => match module.variable(var) {
                Some(decl) if decl.ty == node.ty => {}
                Some(decl) => {
                    return Err(format!(
                        "{id}: {} of variable `{var}` is {} but the variable is {}",
                        node.op.name(),
                        node.ty,
                        decl.ty
                    ))
                }
                None => return Err(format!("{id}: undeclared variable `{var}`")),
            },
            _ => {}
        }
    }
    Ok(())
}

fn verify_graph(graph: &Graph, in_region: bool, path: &str) -> Result<(), String> {
    let in_region = in_region || !graph.params.is_empty();
    for (index, node) in graph.nodes.iter().enumerate() {
        let id = NodeId(index as u32);
        let at = |message: String| format!("{path}{id} ({}): {message}", node.op.name());
        if let Some(bad) = node.inputs.iter().find(|i| i.index() >= index) {
            return Err(at(format!("input {bad} does not precede its user")));
        }
        let inputs: Vec<_> = node.inputs.iter().map(|i| graph.ty(*i)).collect();
        match &node.op {
            Op::Param(p) => {
                if !in_region {
                    return Err(at("a parameter outside a region".into()));
                }
                match graph.params.get(*p) {
                    Some(ty) if *ty == node.ty => {}
                    Some(ty) => {
                        return Err(at(format!(
                            "parameter {p} is {ty} but the node is {}",
                            node.ty
                        )))
                    }
                    None => {
                        return Err(at(format!(
                            "parameter {p} is out of range ({} params)",
                            graph.params.len()
                        )))
                    }
                }
                if !node.inputs.is_empty() {
                    return Err(at("a parameter has inputs".into()));
                }
            }
            Op::Placeholder { .. } | Op::Variable { .. } => {
                if !node.inputs.is_empty() {
                    return Err(at("a leaf has inputs".into()));
                }
            }
            Op::Reshape => {
                let [x] = inputs.as_slice() else {
                    return Err(at(format!("expects 1 input, got {}", inputs.len())));
                };
                if x.dtype != node.ty.dtype
                    || x.shape.checked_numel() != node.ty.shape.checked_numel()
                {
                    return Err(at(format!("cannot reshape {x} to {}", node.ty)));
                }
            }
            Op::Broadcast => {
                let [x] = inputs.as_slice() else {
                    return Err(at(format!("expects 1 input, got {}", inputs.len())));
                };
                let ty = infer_broadcast(x, &node.ty.shape).map_err(at)?;
                if ty != node.ty {
                    return Err(at(format!("inferred {ty} but the node is {}", node.ty)));
                }
            }
            // Typed by their node: the shape is an attribute of the call.
            Op::Random {
                kind: kind @ (RandomKind::Normal | RandomKind::Uniform),
                ..
            } => {
                let (step, word) = match inputs.as_slice() {
                    [step] => (step, None),
                    [step, word] => (step, Some(word)),
                    _ => return Err(at(format!("expects 1 or 2 inputs, got {}", inputs.len()))),
                };
                need_step(kind.name(), step).map_err(at)?;
                if let Some(word) = word {
                    need_word(kind.name(), word).map_err(at)?;
                }
                if !node.ty.dtype.is_float() {
                    return Err(at(format!("draws floats, not {}", node.ty)));
                }
            }
            // Autodiff's backward ops are typed by their node (like `Reshape`);
            // `infer` has no rule for them, so they are checked for ids only.
            Op::Grad(_) => {}
            op => {
                let ty = infer(op, &inputs).map_err(at)?;
                if ty != node.ty {
                    return Err(at(format!("inferred {ty} but the node is {}", node.ty)));
                }
            }
        }
        for (label, region) in node.op.regions() {
            verify_region(region, &format!("{path}{id}.{label}: "))?;
        }
    }
    for result in &graph.results {
        if result.index() >= graph.len() {
            return Err(format!(
                "{path}result {result} is out of range ({} nodes)",
                graph.len()
            ));
        }
    }
    Ok(())
}

fn verify_region(region: &Graph, path: &str) -> Result<(), String> {
    if region.results.len() != 1 {
        return Err(format!(
            "{path}a region must have one result, not {}",
            region.results.len()
        ));
    }
    verify_graph(region, true, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::ir::{BinaryOp, DType, Tensor, TensorType};
    use std::sync::Arc;

    fn f32s(dims: &[usize]) -> TensorType {
        TensorType::new(DType::F32, dims.to_vec())
    }

    #[test]
    fn rejects_wrong_types_order_and_params() {
        let s = Span::default();
        let mut g = Graph::new();
        let one = Tensor::scalar(DType::F32, 1.0);
        let a = g.add(Op::Const(Arc::new(one)), vec![], f32s(&[]), s);
        let b = g.add(Op::Binary(BinaryOp::Add), vec![a, a], f32s(&[]), s);
        assert_eq!(verify(&g), Ok(()));
        g.nodes[b.index()].ty = f32s(&[2]);
        let e = verify(&g).unwrap_err();
        assert!(e.contains("inferred f32[]"), "{e}");
        g.nodes[b.index()].ty = f32s(&[]);
        g.nodes[a.index()].inputs = vec![b];
        assert!(verify(&g).unwrap_err().contains("does not precede"));
        g.nodes[a.index()].inputs = vec![];
        g.add(Op::Param(0), vec![], f32s(&[]), s);
        assert!(verify(&g).unwrap_err().contains("outside a region"));
        let mut r = Graph::region(vec![f32s(&[])]);
        let p = r.add(Op::Param(1), vec![], f32s(&[]), s);
        r.results.push(p);
        assert!(verify(&r).unwrap_err().contains("out of range"));
    }
}
