//! Tests of the interpreter: graphs built directly with `Graph::add` or from
//! `.td` source (`run_source`), checked
//! against values worked out by hand or NumPy fixtures
//! (`scripts/gen_interp_fixtures.py` writes `tests/fixtures/interp/`).

mod control;
mod elementwise;
mod fixtures;
mod movement;
mod network;
mod reduce;
mod scalar;
mod shapes;
mod state;

use super::run_step;
use crate::backend::{StepInputs, StepResult};
use crate::diag::{Diag, Span};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, Tensor, TensorType};
use ndarray::{ArrayD, IxDyn};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) fn span() -> Span {
    Span::new(3, 9)
}

pub(super) fn ty(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType::new(dtype, dims.to_vec())
}

pub(super) fn f32t(dims: &[usize], values: &[f32]) -> Tensor {
    Tensor::F32(ArrayD::from_shape_vec(IxDyn(dims), values.to_vec()).expect("test shape"))
}

pub(super) fn f64t(dims: &[usize], values: &[f64]) -> Tensor {
    Tensor::F64(ArrayD::from_shape_vec(IxDyn(dims), values.to_vec()).expect("test shape"))
}

pub(super) fn i32t(dims: &[usize], values: &[i32]) -> Tensor {
    Tensor::I32(ArrayD::from_shape_vec(IxDyn(dims), values.to_vec()).expect("test shape"))
}

pub(super) fn boolt(dims: &[usize], values: &[bool]) -> Tensor {
    Tensor::Bool(ArrayD::from_shape_vec(IxDyn(dims), values.to_vec()).expect("test shape"))
}

/// Adds a node with an explicit result type.
pub(super) fn add(g: &mut Graph, op: Op, inputs: &[NodeId], out: TensorType) -> NodeId {
    g.add(op, inputs.to_vec(), out, span())
}

/// Adds `a op b` with an explicit result type.
pub(super) fn binary(g: &mut Graph, op: BinaryOp, a: NodeId, b: NodeId, out: TensorType) -> NodeId {
    add(g, Op::Binary(op), &[a, b], out)
}

/// Adds the placeholder `name`.
pub(super) fn placeholder(g: &mut Graph, name: &str, out: TensorType) -> NodeId {
    add(g, Op::Placeholder { name: name.into() }, &[], out)
}

/// Adds a constant.
pub(super) fn konst(g: &mut Graph, t: Tensor) -> NodeId {
    let out = t.ty();
    g.add(Op::Const(Arc::new(t)), Vec::new(), out, span())
}

/// Adds `Param(i)` of a region, typed like the region's parameter.
pub(super) fn param(g: &mut Graph, i: usize) -> NodeId {
    let out = g.params[i].clone();
    g.add(Op::Param(i), Vec::new(), out, span())
}

/// Runs one step with these feeds and variables.
pub(super) fn run_with(
    g: &Graph,
    fetches: &[NodeId],
    placeholders: &[(&str, Tensor)],
    variables: &[(&str, Tensor)],
) -> Result<StepResult, Diag> {
    let placeholders: HashMap<String, Tensor> = placeholders
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    let variables: HashMap<String, Tensor> = variables
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    let inputs = StepInputs {
        placeholders: &placeholders,
        variables: &variables,
    };
    run_step(g, fetches, &inputs)
}

/// Builds `source` (not optimised) and runs one step fetching these names;
/// placeholders not fed take their defaults, variables their initial values.
pub(super) fn run_source(
    source: &str,
    fetches: &[&str],
    feeds: &[(&str, Tensor)],
) -> Result<StepResult, Diag> {
    let module = crate::compile(source, std::path::Path::new(".")).expect("test source builds");
    let ids: Vec<NodeId> = fetches
        .iter()
        .map(|n| module.lookup(n).expect("name"))
        .collect();
    let mut feeds = feeds.to_vec();
    for p in &module.placeholders {
        if let (Some(t), false) = (&p.default, feeds.iter().any(|(n, _)| *n == p.name)) {
            feeds.push((p.name.as_str(), t.clone()));
        }
    }
    let vars: Vec<(&str, Tensor)> = (module.variables.iter())
        .map(|v| (v.name.as_str(), v.init.clone()))
        .collect();
    run_with(&module.graph, &ids, &feeds, &vars)
}

/// Runs `op` on constant inputs with an explicit result type.
pub(super) fn eval_op(op: Op, inputs: Vec<Tensor>, out: TensorType) -> Result<Tensor, Diag> {
    let mut g = Graph::new();
    let ids: Vec<NodeId> = inputs.into_iter().map(|t| konst(&mut g, t)).collect();
    let y = add(&mut g, op, &ids, out);
    run_with(&g, &[y], &[], &[]).map(|mut r| r.fetched.remove(0))
}

/// Runs one step without inputs and returns the one fetch.
pub(super) fn run1(g: &Graph, fetch: NodeId) -> Tensor {
    match run_with(g, &[fetch], &[], &[]) {
        Ok(mut result) => result.fetched.remove(0),
        Err(e) => panic!("step failed: {e:?}"),
    }
}

/// Runs one step without inputs, expecting an error.
pub(super) fn run_err(g: &Graph, fetch: NodeId) -> Diag {
    match run_with(g, &[fetch], &[], &[]) {
        Ok(result) => panic!("expected an error, got {:?}", result.fetched),
        Err(e) => e,
    }
}

/// Same dtype, same shape, values within `tol` (absolute + relative); NaNs match
/// NaNs and infinities match exactly.
pub(super) fn assert_close(actual: &Tensor, expected: &Tensor, tol: f64) {
    assert_eq!(actual.dtype(), expected.dtype(), "dtype");
    assert_eq!(actual.shape(), expected.shape(), "shape");
    let (a, e) = (actual.to_f64_vec(), expected.to_f64_vec());
    for (k, (&x, &y)) in a.iter().zip(&e).enumerate() {
        let ok = if y.is_nan() {
            x.is_nan()
        } else if y.is_infinite() {
            x == y
        } else {
            (x - y).abs() <= tol * (1.0 + y.abs())
        };
        assert!(
            ok,
            "element {k}: got {x}, expected {y}\nactual {a:?}\nexpected {e:?}"
        );
    }
}

/// Exact equality of dtype, shape and values.
pub(super) fn assert_exact(actual: &Tensor, expected: &Tensor) {
    assert_eq!(actual, expected);
}
