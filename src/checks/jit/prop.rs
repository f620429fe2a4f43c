//! Property tests: random well-typed graphs give the same values on the JIT
//! (with `check_bounds`) as on the interpreter, before and after the optimiser.
//!
//! Two generators: the optimiser's (`opt::tests_gen::random_module`: small
//! shapes, elementwise chains with broadcasting, reductions with keepdims, 2-D
//! matmul, reshape/transpose, casts, `where`, `cond` and `fold`, regions inside
//! regions), and [`random_shaped`] here, over sizes that are not multiples of
//! the vector width (1, 3, 5, 17): rank-3 tensors through broadcasting chains,
//! reductions and `argmax` over random axes, 2-D and batched matmul,
//! transposes and reshapes. Also the gradients of the first generator's graphs
//! ([`gradient_module`]), so backward graphs meet the JIT's fusion too.

use crate::backend::jit::{compile, Options};
use crate::backend::{interp::run_step, StepInputs};
use crate::checks::autodiff::util::assert_agree;
use crate::diag::Span;
use crate::ir::infer::{infer, infer_reshape};
use crate::ir::init::Rng;
use crate::ir::{
    BinaryOp, DType, Graph, Module, NodeId, Op, ReduceOp, Tensor, TensorType, UnaryOp,
};
use proptest::prelude::*;
use std::collections::HashMap;

/// Runs the labelled `fetches` of `graph` on both backends and asserts they
/// agree: both fail with the same kind of diagnostic, or every value agrees
/// (see [`assert_agree`]). Returns how many native kernels (fused
/// elementwise, matmul, fused reduction) the JIT compiled.
#[track_caller]
pub(super) fn agree_scaled(
    graph: &Graph,
    fetches: &[(String, NodeId)],
    feeds: &HashMap<String, Tensor>,
) -> usize {
    let variables = HashMap::new();
    let inputs = StepInputs {
        placeholders: feeds,
        variables: &variables,
    };
    let ids: Vec<NodeId> = fetches.iter().map(|(_, id)| *id).collect();
    let expected = run_step(graph, &ids, &inputs);
    let exe = compile(graph, &ids, Options::checked());
    let native = exe.as_ref().map_or(0, |exe| {
        let (fused, matmuls) = exe.kernel_counts();
        fused + matmuls + exe.reduction_count()
    });
    let actual = exe.and_then(|exe| exe.run(&inputs));
    match (expected, actual) {
        (Ok(e), Ok(a)) => {
            assert_eq!(e.fetched.len(), a.fetched.len());
            for ((label, _), (e, a)) in fetches.iter().zip(e.fetched.iter().zip(&a.fetched)) {
                assert_agree(label, e, a);
            }
        }
        (Err(e), Err(a)) => assert_eq!(e.kind, a.kind, "{} vs {}", e.message, a.message),
        (Ok(_), Err(a)) => panic!("the interpreter runs, the JIT fails: {}", a.message),
        (Err(e), Ok(_)) => panic!("the JIT runs, the interpreter fails: {}", e.message),
    }
    native
}

/// `fetches` labelled with their index and op, for messages.
fn labelled(graph: &Graph, fetches: &[NodeId]) -> Vec<(String, NodeId)> {
    let label =
        |(k, id): (usize, &NodeId)| (format!("fetch {k} ({})", graph.node(*id).op.name()), *id);
    fetches.iter().enumerate().map(label).collect()
}

const SIZES: [usize; 4] = [1, 3, 5, 17];

/// A graph grown from a seed; every node's type comes from `ir::infer`.
struct Shaped {
    rng: Rng,
    g: Graph,
    pool: Vec<NodeId>,
    feeds: HashMap<String, Tensor>,
}

impl Shaped {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }

    fn pick(&mut self) -> NodeId {
        let i = self.below(self.pool.len());
        self.pool[i]
    }

    fn dims(&self, id: NodeId) -> Vec<usize> {
        self.g.ty(id).shape.dims().to_vec()
    }

    /// Adds `op` over `inputs` if it is well typed.
    fn add(&mut self, op: Op, inputs: &[NodeId]) -> Option<NodeId> {
        let tys: Vec<&TensorType> = inputs.iter().map(|&i| self.g.ty(i)).collect();
        let ty = infer(&op, &tys).ok()?;
        Some(self.g.add(op, inputs.to_vec(), ty, Span::new(1, 2)))
    }

    fn placeholder(&mut self, name: &str, dims: Vec<usize>) -> NodeId {
        let ty = TensorType::new(DType::F32, dims);
        let n = ty.shape.numel();
        let values = (0..n).map(|_| self.rng.uniform() * 4.0 - 2.0).collect();
        let value = Tensor::from_f64_vec(&ty, values).expect("shape");
        self.feeds.insert(name.to_string(), value);
        let op = Op::Placeholder {
            name: name.to_string(),
        };
        self.g.add(op, Vec::new(), ty, Span::new(1, 2))
    }

    /// `x` (f32 `[a, b, c]`), `y` broadcasting into it, and a scalar `s`.
    fn leaves(&mut self) {
        let dims: Vec<usize> = (0..3).map(|_| SIZES[self.below(SIZES.len())]).collect();
        let x = self.placeholder("x", dims.clone());
        let drop = self.below(3);
        let small: Vec<usize> = dims[drop..]
            .iter()
            .map(|&d| if self.below(2) == 0 { 1 } else { d })
            .collect();
        let y = self.placeholder("y", small);
        let s = self.placeholder("s", Vec::new());
        self.pool.extend([x, y, s]);
    }

    fn elementwise(&mut self) -> Option<NodeId> {
        let x = self.pick();
        let y = self.pick();
        match self.below(3) {
            0 => {
                let ops = [UnaryOp::Neg, UnaryOp::Exp, UnaryOp::Tanh, UnaryOp::Relu];
                let op = ops[self.below(ops.len())];
                self.add(Op::Unary(op), &[x])
            }
            1 => {
                let ops = [
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Maximum,
                ];
                let op = ops[self.below(ops.len())];
                self.add(Op::Binary(op), &[x, y])
            }
            _ => {
                let c = self.add(Op::Binary(BinaryOp::Gt), &[x, y])?;
                self.add(Op::Select, &[c, x, y])
            }
        }
    }

    fn reduce(&mut self) -> Option<NodeId> {
        let x = self.pick();
        let rank = self.dims(x).len();
        let mut axes: Vec<usize> = (0..rank).filter(|_| self.below(2) == 0).collect();
        if axes.is_empty() && rank > 0 {
            axes.push(self.below(rank));
        }
        let ops = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];
        let op = ops[self.below(ops.len())];
        let keepdims = self.below(2) == 0;
        self.add(Op::Reduce { op, axes, keepdims }, &[x])
    }

    fn argmax(&mut self) -> Option<NodeId> {
        let x = self.pick();
        let rank = self.dims(x).len();
        if rank == 0 {
            return None;
        }
        let axis = self.below(rank);
        let i = self.add(Op::ArgMax { axis }, &[x])?;
        self.add(Op::Cast(DType::F32), &[i])
    }

    fn movement(&mut self) -> Option<NodeId> {
        let x = self.pick();
        let dims = self.dims(x);
        if self.below(2) == 0 {
            let mut perm: Vec<usize> = (0..dims.len()).collect();
            for i in (1..perm.len()).rev() {
                let j = self.below(i + 1);
                perm.swap(i, j);
            }
            return self.add(Op::Transpose { perm }, &[x]);
        }
        let spec: Vec<i64> = match self.below(2) {
            0 => vec![-1],
            _ => dims.iter().rev().map(|&d| d as i64).collect(),
        };
        let ty = infer_reshape(self.g.ty(x), &spec).ok()?;
        Some(self.g.add(Op::Reshape, vec![x], ty, Span::new(1, 2)))
    }

    /// `x @ w` with a fed `w` of `[k, n]`, or `[batch, k, n]` when `x` is batched.
    fn matmul(&mut self, id: usize) -> Option<NodeId> {
        let x = self.pick();
        let dims = self.dims(x);
        if dims.len() < 2 {
            return None;
        }
        let k = dims[dims.len() - 1];
        let n = SIZES[self.below(SIZES.len())];
        let w_dims = if dims.len() == 3 && self.below(2) == 0 {
            vec![dims[0], k, n]
        } else {
            vec![k, n]
        };
        let w = self.placeholder(&format!("w{id}"), w_dims);
        self.add(Op::MatMul, &[x, w])
    }

    fn step(&mut self, id: usize) -> Option<NodeId> {
        match self.below(7) {
            0..=2 => self.elementwise(),
            3 => self.reduce(),
            4 => self.argmax(),
            5 => self.movement(),
            _ => self.matmul(id),
        }
    }
}

/// A random graph over sizes 1, 3, 5 and 17, its fetches and feeds.
fn random_shaped(seed: u64, steps: usize) -> (Graph, Vec<NodeId>, HashMap<String, Tensor>) {
    let mut s = Shaped {
        rng: Rng::new(seed),
        g: Graph::new(),
        pool: Vec::new(),
        feeds: HashMap::new(),
    };
    s.leaves();
    let mut fetches = Vec::new();
    for i in 0..steps {
        if let Some(id) = s.step(i) {
            s.pool.push(id);
            if s.below(3) == 0 {
                fetches.push(id);
            }
        }
    }
    fetches.push(s.pool[s.pool.len() - 1]);
    (s.g, fetches, s.feeds)
}

/// `sum(y)` of the last fetch of the optimiser generator's module and its
/// gradients with respect to every placeholder: the backward graph (reverse
/// `fold`s, `cond` adjoints, reduction and matmul rules) for the JIT, raw and
/// optimised, fused with the forward pass as in a training step.
fn gradient_module(seed: u64, steps: usize) -> Option<(Module, HashMap<String, Tensor>)> {
    let (module, feeds) = crate::opt::tests::gen::random_module(seed, steps);
    let mut graph = module.graph.clone();
    let &(_, y) = module.names.last()?;
    let rank = graph.ty(y).shape.rank();
    let sum = Op::Reduce {
        op: ReduceOp::Sum,
        axes: (0..rank).collect(),
        keepdims: false,
    };
    let ty = infer(&sum, &[graph.ty(y)]).ok()?;
    let loss = graph.add(sum, vec![y], ty, Span::new(1, 2));
    let adjoints = crate::autodiff::backward(&mut graph, loss).ok()?;
    let mut names = vec![("loss".to_string(), loss)];
    let placeholders: Vec<(String, NodeId)> = (0..module.graph.len())
        .map(|i| NodeId(i as u32))
        .filter_map(|id| match &module.graph.node(id).op {
            Op::Placeholder { name } => Some((format!("d_{name}"), id)),
            _ => None,
        })
        .collect();
    for (name, x) in placeholders {
        let d = adjoints.of(&mut graph, x);
        names.push((name, d));
    }
    let module = Module {
        graph,
        names,
        ..module
    };
    Some((module, feeds))
}

/// Every named value of `module`, before and after the optimiser, agrees
/// between the backends.
fn module_and_optimised_agree(mut module: Module, feeds: &HashMap<String, Tensor>) {
    for optimise in [false, true] {
        if optimise {
            crate::opt::optimize(&mut module).expect("optimises");
        }
        let fetches: Vec<NodeId> = module.names.iter().map(|(_, id)| *id).collect();
        let _ = agree_scaled(&module.graph, &labelled(&module.graph, &fetches), feeds);
    }
}

proptest! {
    // A fixed seed: CI runs the same 96 cases every time. An inline
    // transcendental is a few ulp from libm, so a random graph that compares
    // its results can flip a boolean (docs/jit.md, "Known limits"); such a
    // case, once found, is pinned in proptest-regressions/.
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x7d51_2026),
        ..ProptestConfig::with_cases(96)
    })]

    #[test]
    fn optimiser_generator_graphs_agree(seed in any::<u64>(), steps in 4usize..24) {
        let (module, feeds) = crate::opt::tests::gen::random_module(seed, steps);
        module_and_optimised_agree(module, &feeds);
    }

    #[test]
    fn gradients_of_random_graphs_agree(seed in any::<u64>(), steps in 4usize..16) {
        if let Some((module, feeds)) = gradient_module(seed, steps) {
            module_and_optimised_agree(module, &feeds);
        }
    }

    #[test]
    fn odd_sized_graphs_agree(seed in any::<u64>(), steps in 4usize..16) {
        let (graph, fetches, feeds) = random_shaped(seed, steps);
        let _ = agree_scaled(&graph, &labelled(&graph, &fetches), &feeds);
    }
}

/// The odd-sized generator makes what it promises over a few seeds.
#[test]
fn the_shaped_generator_covers_its_ops() {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for seed in 0..30 {
        let (graph, _, _) = random_shaped(seed, 12);
        for node in &graph.nodes {
            let batched = matches!(node.op, Op::MatMul) && node.ty.shape.rank() == 3;
            let name = if batched {
                "batched matmul".to_string()
            } else {
                node.op.name()
            };
            *seen.entry(name).or_default() += 1;
        }
    }
    for op in [
        "matmul",
        "batched matmul",
        "argmax",
        "transpose",
        "reshape",
        "where",
    ] {
        assert!(seen.get(op).copied().unwrap_or(0) > 0, "{op}: {seen:?}");
    }
    let reductions = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min"];
    assert!(reductions.iter().all(|r| seen.contains_key(*r)), "{seen:?}");
}

/// The gradient property test is not vacuous: most seeds differentiate.
#[test]
fn most_random_graphs_have_gradients() {
    let with_gradients = (0..30)
        .filter_map(|seed| gradient_module(seed, 12))
        .filter(|(m, _)| m.names.len() > 1)
        .count();
    assert!(with_gradients >= 20, "{with_gradients} of 30");
}
