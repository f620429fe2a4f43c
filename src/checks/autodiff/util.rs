//! Test support: small f64 graphs over placeholders, and a central
//! finite-difference check of `backward`. Gradient graphs run on both backends:
//! the interpreter (the oracle, whose values are returned) and the JIT with
//! `check_bounds`, which must agree within 1e-5 relative.

use crate::autodiff::emit::Emit;
use crate::autodiff::{backward, Adjoints};
use crate::backend::jit;
use crate::backend::{interp::run_step, StepInputs};
use crate::diag::{Diag, Span};
use crate::ir::{DType, Graph, NodeId, Op, Tensor, TensorType};
use std::collections::HashMap;

/// A deterministic pseudo-random stream (splitmix64) of values in `[lo, hi)`.
pub(crate) struct Values(u64);

impl Values {
    pub(crate) fn new(seed: u64) -> Values {
        Values(seed)
    }

    pub(crate) fn next(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        lo + (hi - lo) * ((z >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// An f64 tensor of `dims` with values in `[lo, hi)`.
    pub(crate) fn tensor(&mut self, dims: &[usize], lo: f64, hi: f64) -> Tensor {
        let ty = TensorType::new(DType::F64, dims.to_vec());
        let values = (0..ty.shape.numel()).map(|_| self.next(lo, hi)).collect();
        Tensor::from_f64_vec(&ty, values).expect("shape")
    }
}

pub(crate) fn f64_ty(dims: &[usize]) -> TensorType {
    TensorType::new(DType::F64, dims.to_vec())
}

pub(crate) fn span() -> Span {
    Span::new(3, 7)
}

/// Adds a placeholder `name` of `ty`.
pub(crate) fn placeholder(graph: &mut Graph, name: &str, ty: TensorType) -> NodeId {
    graph.add(
        Op::Placeholder {
            name: name.to_string(),
        },
        vec![],
        ty,
        span(),
    )
}

/// `sum(x * c)` with a fixed random constant `c` of x's shape: a scalar whose
/// gradient with respect to x is not uniform.
pub(crate) fn weighted_sum(graph: &mut Graph, x: NodeId, seed: u64) -> NodeId {
    let dims = graph.ty(x).shape.0.clone();
    let c = Values::new(seed).tensor(&dims, -1.0, 1.0);
    let mut e = Emit::new(graph, span());
    let c = e.constant(c);
    let product = e.mul(x, c).expect("mul");
    let axes: Vec<usize> = (0..dims.len()).collect();
    e.reduce(crate::ir::ReduceOp::Sum, product, &axes, false)
        .expect("sum")
}

/// Calls `f` with the placeholders `p0, p1, ...` fed `feeds` (plus `extra`)
/// and no variables.
fn with_feeds<R>(
    feeds: &[Tensor],
    extra: &[(&str, Tensor)],
    f: impl FnOnce(&StepInputs) -> R,
) -> R {
    let mut placeholders: HashMap<String, Tensor> = feeds
        .iter()
        .enumerate()
        .map(|(k, t)| (format!("p{k}"), t.clone()))
        .collect();
    for (name, t) in extra {
        placeholders.insert(name.to_string(), t.clone());
    }
    let variables = HashMap::new();
    f(&StepInputs {
        placeholders: &placeholders,
        variables: &variables,
    })
}

/// Runs `fetches` on the interpreter only, with the placeholders `p0, p1, ...`
/// fed `feeds` (plus `extra`). For the many forward runs of finite differences.
fn run_interp(
    graph: &Graph,
    fetches: &[NodeId],
    feeds: &[Tensor],
    extra: &[(&str, Tensor)],
) -> Result<Vec<Tensor>, Diag> {
    with_feeds(feeds, extra, |inputs| {
        Ok(run_step(graph, fetches, inputs)?.fetched)
    })
}

/// Runs `fetches` with the placeholders `p0, p1, ...` fed `feeds` (plus
/// `extra`) on both backends (see [`run_on_both`]); the interpreter's values.
pub(crate) fn run(
    graph: &Graph,
    fetches: &[NodeId],
    feeds: &[Tensor],
    extra: &[(&str, Tensor)],
) -> Result<Vec<Tensor>, Diag> {
    with_feeds(feeds, extra, |inputs| run_on_both(graph, fetches, inputs))
}

/// Runs `fetches` on the interpreter and on the JIT (with `check_bounds`) and
/// asserts they agree: both fail, or every fetched value is equal within 1e-5
/// relative (see [`assert_agree`]). Returns the interpreter's values.
pub(crate) fn run_on_both(
    graph: &Graph,
    fetches: &[NodeId],
    inputs: &StepInputs,
) -> Result<Vec<Tensor>, Diag> {
    let expected = run_step(graph, fetches, inputs).map(|r| r.fetched);
    let options = jit::Options::checked();
    let actual = jit::compile(graph, fetches, options).and_then(|exe| exe.run(inputs));
    match (&expected, actual) {
        (Ok(e), Ok(a)) => {
            assert_eq!(e.len(), a.fetched.len(), "fetch counts");
            for (k, (e, a)) in e.iter().zip(&a.fetched).enumerate() {
                assert_agree(&format!("fetch {k}"), e, a);
            }
        }
        (Err(e), Err(a)) => assert_eq!(e.kind, a.kind, "{} vs {}", e.message, a.message),
        (Ok(_), Err(a)) => panic!("the interpreter runs, the JIT fails: {}", a.message),
        (Err(e), Ok(_)) => panic!("the JIT runs, the interpreter fails: {}", e.message),
    }
    expected
}

/// The interpreter's tensor `e` and the JIT's `a` are equal: exactly for
/// integers and bools, within `1e-5 · max(|x|, |y|, max |e|)` for floats (the
/// backends may sum in different orders, so an element produced by
/// cancellation is compared relative to the tensor's scale); NaN equals NaN.
#[track_caller]
pub(crate) fn assert_agree(what: &str, e: &Tensor, a: &Tensor) {
    assert_eq!(e.ty(), a.ty(), "{what}: types differ");
    let (x, y) = (e.to_f64_vec(), a.to_f64_vec());
    let scale = x
        .iter()
        .fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
    for (i, (x, y)) in x.iter().zip(&y).enumerate() {
        let same = if e.dtype().is_float() {
            let tol = 1e-5 * x.abs().max(y.abs()).max(scale);
            x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol
        } else {
            x == y
        };
        assert!(
            same,
            "{what} element {i} of {}: interp {x} vs jit {y}",
            e.ty()
        );
    }
}

/// [`run`] with no extra feeds; panics on error.
pub(crate) fn run_values(graph: &Graph, fetches: &[NodeId], feeds: &[Tensor]) -> Vec<Tensor> {
    run(graph, fetches, feeds, &[]).expect("run")
}

/// The scalar value of `t`.
fn scalar(t: &Tensor) -> f64 {
    t.to_f64_vec()[0]
}

/// Builds `y = build(graph, [p0, p1, ...])` over f64 placeholders holding
/// `feeds`, differentiates it and compares every gradient with central
/// differences (eps 1e-6, tolerance 1e-6 relative). `extra` feeds other
/// placeholders (a predicate, say) that are not differentiated.
pub(crate) fn check_gradients(
    feeds: &[Tensor],
    extra: &[(&str, Tensor)],
    build: impl Fn(&mut Graph, &[NodeId]) -> NodeId,
) {
    let mut graph = Graph::new();
    let params: Vec<NodeId> = feeds
        .iter()
        .enumerate()
        .map(|(k, t)| placeholder(&mut graph, &format!("p{k}"), t.ty()))
        .collect();
    let y = build(&mut graph, &params);
    let forward = graph.clone();
    let adjoints: Adjoints = backward(&mut graph, y).expect("backward");
    let grads: Vec<NodeId> = params.iter().map(|&p| adjoints.of(&mut graph, p)).collect();
    for (&p, &d) in params.iter().zip(&grads) {
        assert_eq!(
            graph.ty(d),
            graph.ty(p),
            "the gradient's type is the input's"
        );
    }
    verify(&graph);
    // The forward value too, so the JIT is checked on it as well.
    let fetches: Vec<NodeId> = grads.iter().copied().chain([y]).collect();
    let analytic = run(&graph, &fetches, feeds, extra).expect("run the gradients");
    let eps = 1e-6;
    for (k, feed) in feeds.iter().enumerate() {
        let base = feed.to_f64_vec();
        let got = analytic[k].to_f64_vec();
        for i in 0..base.len() {
            let mut shifted = feeds.to_vec();
            let mut at = |delta: f64| {
                let mut values = base.clone();
                values[i] += delta;
                shifted[k] = Tensor::from_f64_vec(&feed.ty(), values).expect("shape");
                scalar(&run_interp(&forward, &[y], &shifted, extra).expect("run forward")[0])
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            let tolerance = 1e-6 * (1.0 + numeric.abs().max(got[i].abs()));
            assert!(
                (got[i] - numeric).abs() <= tolerance,
                "input {k} element {i}: autodiff {} vs finite differences {numeric}",
                got[i]
            );
        }
    }
}

/// The IR verifier's checks of `graph` and its regions.
#[track_caller]
pub(crate) fn verify(graph: &Graph) {
    if let Err(e) = crate::ir::verify::verify(graph) {
        panic!("{e}");
    }
}

/// A region with params of `types`, its body built by `build` from the params.
pub(super) fn region(
    types: &[TensorType],
    build: impl Fn(&mut Emit, &[NodeId]) -> NodeId,
) -> Graph {
    let mut graph = Graph::region(types.to_vec());
    let mut e = Emit::new(&mut graph, span());
    let params: Vec<NodeId> = (0..types.len())
        .map(|i| e.add(Op::Param(i), vec![], types[i].clone()))
        .collect();
    let result = build(&mut e, &params);
    graph.results = vec![result];
    graph
}
