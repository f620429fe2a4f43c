//! Every element of a kernel's output is computed by the same operations,
//! wherever it falls relative to the vector width, the blocks and the thread
//! split: a matrix whose columns (or rows) are all equal reduces to outputs
//! that are bitwise equal, and an elementwise kernel maps equal inputs to
//! bitwise-equal outputs, for 1 and 2 threads.

use super::{add, bits, konst};
use crate::backend::jit::{compile, parallel::MIN_PARALLEL, Options};
use crate::backend::threads::with_threads;
use crate::backend::StepInputs;
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, Tensor, TensorType, UnaryOp};
use std::collections::HashMap;

/// `h` pseudo-random values in about [-4, 4).
fn column(h: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..h)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 8.0
        })
        .collect()
}

fn tensor(dims: &[usize], v: Vec<f64>) -> Tensor {
    let ty = TensorType::new(DType::F32, dims.to_vec());
    Tensor::from_f64_vec(&ty, v).unwrap_or_else(|| panic!("tensor {dims:?}"))
}

/// `[h, w]` with every column equal (`axis` 0), or `[w, h]` with every row
/// equal (`axis` 1): reducing over `axis` gives `w` outputs that must agree.
fn uniform(h: usize, w: usize, axis: usize) -> Tensor {
    let c = column(h, h as u64 + 7);
    if axis == 0 {
        let v = c.iter().flat_map(|&x| std::iter::repeat_n(x, w)).collect();
        tensor(&[h, w], v)
    } else {
        let v = (0..w).flat_map(|_| c.iter().copied()).collect();
        tensor(&[w, h], v)
    }
}

/// Runs `g`'s fetches with 1 and 2 threads (one compile) and asserts that
/// every fetched tensor's elements are bitwise equal, and equal between the
/// two thread counts.
#[track_caller]
fn assert_uniform(g: &Graph, fetches: &[NodeId], what: &str) {
    let empty = HashMap::new();
    let inputs = StepInputs {
        placeholders: &empty,
        variables: &empty,
    };
    let exe = compile(g, fetches, Options::checked())
        .unwrap_or_else(|e| panic!("{what}: compile: {}", e.message));
    let mut runs = Vec::new();
    for threads in [1, 2] {
        let r = with_threads(threads, || exe.run(&inputs))
            .unwrap_or_else(|e| panic!("{what}: {}", e.message));
        let out: Vec<Vec<u64>> = r.fetched.iter().map(bits).collect();
        for (k, t) in out.iter().enumerate() {
            let first = t.first().copied();
            assert!(
                t.iter().all(|&b| Some(b) == first),
                "{what}, fetch {k}, {threads} threads: elements differ: {:?}",
                r.fetched[k].to_f64_vec()
            );
        }
        runs.push(out);
    }
    assert_eq!(runs[0], runs[1], "{what}: 1 and 2 threads differ");
}

/// `sum(x)`, `sum(exp(x) * x)`, `mean(x)` and `max(x)` over `axis`.
fn reductions(x: Tensor, axis: usize, w: usize) -> (Graph, Vec<NodeId>) {
    let dims = x.shape().to_vec();
    let mut g = Graph::new();
    let x = konst(&mut g, x);
    let e = add(&mut g, Op::Unary(UnaryOp::Exp), &[x], DType::F32, &dims);
    let chain = add(
        &mut g,
        Op::Binary(BinaryOp::Mul),
        &[e, x],
        DType::F32,
        &dims,
    );
    let mut fetches = Vec::new();
    for (op, input) in [
        (ReduceOp::Sum, x),
        (ReduceOp::Sum, chain),
        (ReduceOp::Mean, x),
        (ReduceOp::Max, x),
    ] {
        let r = Op::Reduce {
            op,
            axes: vec![axis],
            keepdims: false,
        };
        fetches.push(add(&mut g, r, &[input], DType::F32, &[w]));
    }
    (g, fetches)
}

#[test]
fn equal_columns_and_rows_reduce_to_bitwise_equal_outputs() {
    // Around the column block (32 rows) and the row block (256 terms).
    let heights = [1, 2, 3, 31, 32, 33, 255, 257, 1000];
    for axis in [0, 1] {
        for h in heights {
            for w in 1..=40 {
                let (g, fetches) = reductions(uniform(h, w, axis), axis, w);
                assert_uniform(&g, &fetches, &format!("axis {axis} of {h}x{w}"));
            }
        }
    }
}

#[test]
fn equal_columns_and_rows_reduce_alike_when_split_among_threads() {
    // Enough work for a split in two: widths that leave 0..3 columns after
    // the vectors of 16 and 4.
    for w in [1, 2, 3, 5, 7, 17, 22, 39, 40] {
        let h = MIN_PARALLEL / w + 100;
        for axis in [0, 1] {
            let (g, fetches) = reductions(uniform(h, w, axis), axis, w);
            assert_uniform(&g, &fetches, &format!("axis {axis} of {h}x{w}"));
        }
    }
}

#[test]
fn elementwise_kernels_map_equal_inputs_to_equal_outputs() {
    // The scalar tail computes what a vector lane computes (inline `exp`,
    // `sigmoid`, `tanh`, `log` included).
    let ops = [
        UnaryOp::Exp,
        UnaryOp::Sigmoid,
        UnaryOp::Tanh,
        UnaryOp::Log,
        UnaryOp::Sqrt,
        UnaryOp::Relu,
        UnaryOp::Sin,
    ];
    for v in [0.3, -2.75, 7.0, 1e-3, -0.0, 60.0] {
        for n in (1..=40).chain([MIN_PARALLEL + 3]) {
            let mut g = Graph::new();
            let x = konst(&mut g, tensor(&[n], vec![v; n]));
            let fetches: Vec<NodeId> = ops
                .iter()
                .map(|&op| add(&mut g, Op::Unary(op), &[x], DType::F32, &[n]))
                .collect();
            assert_uniform(&g, &fetches, &format!("{v} x {n}"));
        }
    }
}

/// The thread count is an option of each executable, not of the process:
/// two executables with different counts, stepped at once on two threads,
/// each run with their own, and give the same bits.
#[test]
fn each_executable_steps_with_its_own_thread_count() {
    let n = 4 * MIN_PARALLEL;
    let step = |threads: usize| {
        let mut g = Graph::new();
        let x = konst(&mut g, tensor(&[n], column(n, 3)));
        let y = add(&mut g, Op::Unary(UnaryOp::Sigmoid), &[x], DType::F32, &[n]);
        let options = Options {
            threads,
            ..Options::checked()
        };
        let exe = compile(&g, &[y], options).unwrap_or_else(|e| panic!("{}", e.message));
        let empty = HashMap::new();
        let inputs = StepInputs {
            placeholders: &empty,
            variables: &empty,
        };
        let seen = exe.with_own_threads(crate::backend::threads::threads);
        let mut r = exe.run(&inputs).unwrap_or_else(|e| panic!("{}", e.message));
        (seen, bits(&r.fetched.remove(0)))
    };
    let (one, three) = std::thread::scope(|s| {
        let one = s.spawn(|| step(1));
        let three = s.spawn(|| step(3));
        (one.join(), three.join())
    });
    let (one, three) = (one.expect("1 thread"), three.expect("3 threads"));
    assert_eq!((one.0, three.0), (1, 3));
    assert!(one.1 == three.1, "1 and 3 threads give other bits");
    // 0: the count in effect where the step runs (every core by default).
    assert_eq!(with_threads(2, || step(0).0), 2);
}
