//! Fused reductions vs the interpreter: every op, every axis choice, sizes
//! that are not multiples of the vector width or the block, 0-sized axes,
//! special values (NaN, ±inf), with and without a fused producer; the accuracy
//! of a 4M-term sum; bitwise reproducibility across runs and thread counts.

use super::no_inputs;
use super::{add, agree, konst, values};
use crate::backend::jit::{compile, Options};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, Tensor, UnaryOp};

const OPS: [ReduceOp; 4] = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];

/// Every subset of `0..rank`, sorted.
fn subsets(rank: usize) -> Vec<Vec<usize>> {
    (0..1usize << rank)
        .map(|m| (0..rank).filter(|a| m & (1 << a) != 0).collect())
        .collect()
}

fn reduced_dims(dims: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    (0..dims.len())
        .filter_map(|a| match (axes.contains(&a), keepdims) {
            (true, true) => Some(1),
            (true, false) => None,
            (false, _) => Some(dims[a]),
        })
        .collect()
}

/// `op(relu(x * y + z))` (with `chain`) or `op(x)` over `axes`.
fn graph(
    dtype: DType,
    dims: &[usize],
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    chain: bool,
    special: bool,
) -> (Graph, NodeId) {
    let mut g = Graph::new();
    let x = konst(&mut g, values(dtype, dims, 5, special));
    let input = if chain {
        let y = konst(&mut g, values(dtype, dims, 6, false));
        // A broadcast leaf: `z` has the last axis only.
        let last = dims.last().map_or(vec![], |&d| vec![d]);
        let z = konst(&mut g, values(dtype, &last, 7, false));
        let m = add(&mut g, Op::Binary(BinaryOp::Mul), &[x, y], dtype, dims);
        let s = add(&mut g, Op::Binary(BinaryOp::Add), &[m, z], dtype, dims);
        add(&mut g, Op::Unary(UnaryOp::Relu), &[s], dtype, dims)
    } else {
        x
    };
    let out = reduced_dims(dims, axes, keepdims);
    let r = Op::Reduce {
        op,
        axes: axes.to_vec(),
        keepdims,
    };
    let y = add(&mut g, r, &[input], dtype, &out);
    (g, y)
}

fn reduction_count(g: &Graph, y: NodeId) -> usize {
    match compile(g, &[y], Options::checked()) {
        Ok(exe) => exe.reduction_count(),
        Err(e) => panic!("compile: {}", e.message),
    }
}

#[test]
fn every_op_and_axis_choice_agrees() {
    let shapes: [&[usize]; 9] = [
        &[],
        &[1],
        &[3],
        &[17],
        &[1023],
        &[0],
        &[3, 0, 2],
        &[3, 5, 7],
        &[2, 300, 3],
    ];
    for dtype in [DType::F32, DType::F64] {
        for dims in shapes {
            for axes in subsets(dims.len()) {
                for op in OPS {
                    for (keepdims, chain, special) in [
                        (false, true, false),
                        (true, false, true),
                        (false, false, false),
                    ] {
                        let (g, y) = graph(dtype, dims, op, &axes, keepdims, chain, special);
                        let (fused, _) = agree(&g, &[y]);
                        let what = format!("{op:?} {dtype} {dims:?} {axes:?} chain {chain}");
                        assert_eq!(fused, 0, "{what}: the chain is inside the reduction");
                        assert_eq!(reduction_count(&g, y), 1, "{what}");
                    }
                }
            }
        }
    }
}

/// Runs `y` once with the JIT (check_bounds on) and returns its value.
fn run(g: &Graph, y: NodeId) -> Tensor {
    run_on(g, y, 0)
}

/// [`run`] with `threads` (`Options::threads`; 0: every core).
fn run_on(g: &Graph, y: NodeId, threads: usize) -> Tensor {
    let inputs = no_inputs();
    let options = Options {
        threads,
        ..Options::checked()
    };
    let exe = match compile(g, &[y], options) {
        Ok(exe) => exe,
        Err(e) => panic!("compile: {}", e.message),
    };
    match exe.run(&inputs) {
        Ok(mut r) => r.fetched.remove(0),
        Err(e) => panic!("run: {}", e.message),
    }
}

#[test]
fn a_sum_of_4m_f32_is_within_1e_6_of_f64() {
    let n = 4 << 20;
    let x = values(DType::F32, &[n], 11, false);
    // Positive terms with a nonzero mean (as in the elementwise benchmark).
    let exact: f64 = x.to_f64_vec().iter().map(|v| (v + 4.0) as f32 as f64).sum();
    let mut g = Graph::new();
    let a = konst(&mut g, x);
    let four = konst(
        &mut g,
        Tensor::full(&crate::ir::TensorType::new(DType::F32, vec![n]), 4.0),
    );
    let s = add(
        &mut g,
        Op::Binary(BinaryOp::Add),
        &[a, four],
        DType::F32,
        &[n],
    );
    let r = Op::Reduce {
        op: ReduceOp::Sum,
        axes: vec![0],
        keepdims: false,
    };
    let y = add(&mut g, r, &[s], DType::F32, &[]);
    let got = run(&g, y).to_f64_vec()[0];
    let rel = (got - exact).abs() / exact.abs();
    assert!(
        rel <= 1e-6,
        "sum {got} vs f64 {exact}: relative error {rel}"
    );
    agree(&g, &[y]);
}

#[test]
fn results_are_bitwise_reproducible_across_runs_and_thread_counts() {
    let dims = [3, 300, 257];
    let mut results = Vec::new();
    for threads in [1, 2, 2, 1] {
        let mut out = Vec::new();
        for axes in [vec![0, 1, 2], vec![2], vec![0], vec![1]] {
            let (g, y) = graph(DType::F32, &dims, ReduceOp::Sum, &axes, false, true, false);
            out.push(run_on(&g, y, threads).to_f64_vec());
        }
        // A large elementwise chain (split by threads) and a large matmul.
        let (g, y) = graph(DType::F32, &dims, ReduceOp::Sum, &[], false, true, false);
        out.push(run_on(&g, y, threads).to_f64_vec());
        let mut g = Graph::new();
        let a = konst(&mut g, values(DType::F32, &[512, 256], 1, false));
        let b = konst(&mut g, values(DType::F32, &[256, 256], 2, false));
        let y = add(&mut g, Op::MatMul, &[a, b], DType::F32, &[512, 256]);
        out.push(run_on(&g, y, threads).to_f64_vec());
        results.push(out);
    }
    for r in &results[1..] {
        for (a, b) in r.iter().zip(&results[0]) {
            assert_eq!(a.len(), b.len());
            let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "results differ between runs or thread counts");
        }
    }
}

/// The forward value and the gradient of `sum(relu(a*b+c)*sigmoid(d))` (as the
/// optimiser leaves them): `a*b+c` and `sigmoid(d)` have two users each and
/// are recomputed rather than stored; `gt`/`where` run on lane masks; and the
/// gradient is a second output of the reduction's kernel (one pass), unless it
/// comes first in the graph (then it is its own kernel).
#[test]
fn shared_cheap_producers_are_recomputed_and_outputs_merged() {
    for n in [1usize, 3, 17, 1023] {
        for grad_first in [false, true] {
            let dims = [n, 2];
            let f = DType::F32;
            let mut g = Graph::new();
            let leaf = |g: &mut Graph, seed| konst(g, values(f, &dims, seed, seed == 1));
            let (a, b, c, d) = (
                leaf(&mut g, 1),
                leaf(&mut g, 2),
                leaf(&mut g, 3),
                leaf(&mut g, 4),
            );
            let zero = konst(&mut g, Tensor::scalar(f, 0.0));
            let m = add(&mut g, Op::Binary(BinaryOp::Mul), &[a, b], f, &dims);
            let s = add(&mut g, Op::Binary(BinaryOp::Add), &[m, c], f, &dims);
            let sg = add(&mut g, Op::Unary(UnaryOp::Sigmoid), &[d], f, &dims);
            let grad = |g: &mut Graph| {
                let gt = add(g, Op::Binary(BinaryOp::Gt), &[s, zero], DType::Bool, &dims);
                let w = add(g, Op::Select, &[gt, sg, zero], f, &dims);
                add(g, Op::Binary(BinaryOp::Mul), &[w, b], f, &dims)
            };
            let early = grad_first.then(|| grad(&mut g));
            let r = add(&mut g, Op::Unary(UnaryOp::Relu), &[s], f, &dims);
            let p = add(&mut g, Op::Binary(BinaryOp::Mul), &[r, sg], f, &dims);
            let sum = Op::Reduce {
                op: ReduceOp::Sum,
                axes: vec![0, 1],
                keepdims: false,
            };
            let y = add(&mut g, sum, &[p], f, &[]);
            let da = early.unwrap_or_else(|| grad(&mut g));
            for fetches in [vec![y, da], vec![da, y], vec![da]] {
                let (fused, _) = agree(&g, &fetches);
                let merged = !grad_first && fetches.contains(&y);
                let what = format!("n {n}, grad first {grad_first}, fetches {fetches:?}");
                assert_eq!(fused, usize::from(!merged), "{what}");
                let exe = compile(&g, &fetches, Options::checked());
                let reductions = usize::from(fetches.contains(&y));
                assert_eq!(
                    exe.map(|e| e.reduction_count()).ok(),
                    Some(reductions),
                    "{what}"
                );
            }
        }
    }
}

/// The optimiser's order for the chain's value and gradient: the `0` of the
/// relu gradient is a constant created after the reduction. The gradient is
/// still the reduction kernel's side output (constants may follow their user).
#[test]
fn a_side_output_may_read_a_later_constant() {
    let (f, dims) = (DType::F32, [33usize, 5]);
    let mut g = Graph::new();
    let leaves: Vec<NodeId> = (1..=4)
        .map(|seed| konst(&mut g, values(f, &dims, seed, false)))
        .collect();
    let (a, b, c, d) = (leaves[0], leaves[1], leaves[2], leaves[3]);
    let m = add(&mut g, Op::Binary(BinaryOp::Mul), &[a, b], f, &dims);
    let s = add(&mut g, Op::Binary(BinaryOp::Add), &[m, c], f, &dims);
    let r = add(&mut g, Op::Unary(UnaryOp::Relu), &[s], f, &dims);
    let sg = add(&mut g, Op::Unary(UnaryOp::Sigmoid), &[d], f, &dims);
    let p = add(&mut g, Op::Binary(BinaryOp::Mul), &[r, sg], f, &dims);
    let sum = Op::Reduce {
        op: ReduceOp::Sum,
        axes: vec![0, 1],
        keepdims: false,
    };
    let y = add(&mut g, sum, &[p], f, &[]);
    let zero = konst(&mut g, Tensor::scalar(f, 0.0));
    let gt = add(
        &mut g,
        Op::Binary(BinaryOp::Gt),
        &[s, zero],
        DType::Bool,
        &dims,
    );
    let w = add(&mut g, Op::Select, &[gt, sg, zero], f, &dims);
    let da = add(&mut g, Op::Binary(BinaryOp::Mul), &[w, b], f, &dims);
    let (fused, _) = agree(&g, &[y, da]);
    assert_eq!(fused, 0, "the gradient is a side output");
    let exe = compile(&g, &[y, da], Options::checked());
    assert_eq!(exe.map(|e| e.reduction_count()).ok(), Some(1));
}

/// A second output over any axis choice: the reduction's kernel stores
/// `x * y` at every element it visits (permuted order, broadcast leaves).
#[test]
fn side_outputs_follow_any_axis_choice() {
    let dims = [3, 5, 7];
    for axes in subsets(3) {
        for op in OPS {
            let (mut g, r) = graph(DType::F32, &dims, op, &axes, true, true, true);
            let x = NodeId(0);
            let y = NodeId(1);
            let side = add(
                &mut g,
                Op::Binary(BinaryOp::Mul),
                &[x, y],
                DType::F32,
                &dims,
            );
            let (fused, _) = agree(&g, &[r, side]);
            assert_eq!(fused, 0, "{op:?} {axes:?}");
        }
    }
}

/// Buffers go back to the pool after their last use within a step and are
/// reused by later nodes of the same type (here `t2` takes `t1`'s buffer and
/// `m2` takes `m1`'s): results stay right over several steps.
#[test]
fn buffers_reused_within_and_across_steps_keep_results_right() {
    let f = DType::F32;
    let dims = [8, 8];
    let mut g = Graph::new();
    let x = konst(&mut g, values(f, &dims, 1, false));
    let w = konst(&mut g, values(f, &dims, 2, false));
    let t1 = add(&mut g, Op::Unary(UnaryOp::Exp), &[x], f, &dims);
    let m1 = add(&mut g, Op::MatMul, &[t1, w], f, &dims);
    let t2 = add(&mut g, Op::Unary(UnaryOp::Relu), &[m1], f, &dims);
    let m2 = add(&mut g, Op::MatMul, &[t2, w], f, &dims);
    let t3 = add(&mut g, Op::Unary(UnaryOp::Neg), &[m2], f, &dims);
    let inputs = no_inputs();
    let expected = crate::backend::interp::run_step(&g, &[t3, m1], &inputs);
    let exe = compile(&g, &[t3, m1], Options::checked());
    let (Ok(expected), Ok(exe)) = (expected, exe) else {
        panic!("interp or compile failed")
    };
    for _ in 0..3 {
        match exe.run(&inputs) {
            Ok(actual) => super::assert_results(&expected, &actual),
            Err(e) => panic!("run: {}", e.message),
        }
    }
}

/// A long group (`fused::heavy`: one vector per iteration, alternating
/// accumulators) sums in exactly the order of the ×2 loop: `sum(sigmoid(d))`
/// is bitwise `sum(y)` with `y` the JIT's own `sigmoid(d)` stored first, for
/// inner lengths with an odd and an even number of vectors and a scalar tail,
/// on one and two threads.
#[test]
fn long_groups_sum_in_the_order_of_short_ones() {
    let f = DType::F32;
    for dims in [
        vec![5, 269],
        vec![2, 20],
        vec![3, 256 * 3 + 8],
        vec![1, 4 << 10],
    ] {
        let d = values(f, &dims, 21, false);
        let mut g = Graph::new();
        let dk = konst(&mut g, d.clone());
        let sg = add(&mut g, Op::Unary(UnaryOp::Sigmoid), &[dk], f, &dims);
        let y = run(&g, sg);
        for threads in [1, 2] {
            let sum = |g: &mut Graph, x| {
                let r = Op::Reduce {
                    op: ReduceOp::Sum,
                    axes: vec![1],
                    keepdims: false,
                };
                add(g, r, &[x], f, &dims[..1])
            };
            let mut long = Graph::new();
            let dk = konst(&mut long, d.clone());
            let sg = add(&mut long, Op::Unary(UnaryOp::Sigmoid), &[dk], f, &dims);
            let s_long = sum(&mut long, sg);
            let mut short = Graph::new();
            let yk = konst(&mut short, y.clone());
            let s_short = sum(&mut short, yk);
            let (a, b) = (
                run_on(&long, s_long, threads),
                run_on(&short, s_short, threads),
            );
            let same = a
                .to_f64_vec()
                .iter()
                .zip(b.to_f64_vec())
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{dims:?}, {threads} threads: {a:?} vs {b:?}");
        }
    }
}
