//! Kernels whose `exp`/`sigmoid` run a block at a time in the Rust kernel
//! (`blocks.rs`): results agree with the interpreter at every block edge,
//! are bitwise those of the inline kernels on this CPU, and bitwise the same
//! for 1 and 2 threads.

use super::no_inputs;
use super::{add, agree, bits, konst, values};
use crate::backend::jit::blocks::without_blocks;
use crate::backend::jit::{compile, Options};
use crate::backend::threads::with_threads;
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, UnaryOp};

/// The fetched values' bits of `g`, compiled with `check_bounds`.
fn run_bits(g: &Graph, fetches: &[NodeId]) -> Vec<Vec<u64>> {
    let inputs = no_inputs();
    let exe = compile(g, fetches, Options::checked()).unwrap();
    let out = exe.run(&inputs).unwrap();
    out.fetched.iter().map(bits).collect()
}

/// Graphs over `dims` with blocked members: a contiguous leaf argument, a
/// computed one, one that reads another blocked member, a leaf broadcast
/// along the innermost axis (argument computed per element), and the chain
/// reduction with its gradient-like side product.
fn graphs(dims: &[usize], seed: u64) -> Vec<(Graph, Vec<NodeId>)> {
    let f = DType::F32;
    let leaf = |g: &mut Graph, s: u64| konst(g, values(f, dims, seed + s, s == 0));
    let unary = |g: &mut Graph, op, x| add(g, Op::Unary(op), &[x], f, dims);
    let binary = |g: &mut Graph, op, x, y| add(g, Op::Binary(op), &[x, y], f, dims);
    let mut out = Vec::new();

    let mut g = Graph::new();
    let (a, b) = (leaf(&mut g, 0), leaf(&mut g, 1));
    let s = unary(&mut g, UnaryOp::Sigmoid, a);
    let y = binary(&mut g, BinaryOp::Mul, s, b);
    out.push((g, vec![y]));

    let mut g = Graph::new();
    let (a, b, c) = (leaf(&mut g, 0), leaf(&mut g, 1), leaf(&mut g, 2));
    let ab = binary(&mut g, BinaryOp::Mul, a, b);
    let x = binary(&mut g, BinaryOp::Sub, ab, c);
    let e = unary(&mut g, UnaryOp::Exp, x);
    let s = unary(&mut g, UnaryOp::Sigmoid, e);
    let y = binary(&mut g, BinaryOp::Add, s, e);
    out.push((g, vec![y]));

    let mut g = Graph::new();
    let (a, b, c, d) = (
        leaf(&mut g, 0),
        leaf(&mut g, 1),
        leaf(&mut g, 2),
        leaf(&mut g, 3),
    );
    let ab = binary(&mut g, BinaryOp::Mul, a, b);
    let abc = binary(&mut g, BinaryOp::Add, ab, c);
    let r = unary(&mut g, UnaryOp::Relu, abc);
    let s = unary(&mut g, UnaryOp::Sigmoid, d);
    let y = binary(&mut g, BinaryOp::Mul, r, s);
    let total = add(
        &mut g,
        Op::Reduce {
            op: ReduceOp::Sum,
            axes: (0..dims.len()).collect(),
            keepdims: false,
        },
        &[y],
        f,
        &[],
    );
    let one_minus = {
        let one = konst(&mut g, crate::ir::Tensor::scalar(f, 1.0));
        let one = add(&mut g, Op::Broadcast, &[one], f, dims);
        binary(&mut g, BinaryOp::Sub, one, s)
    };
    let grad = binary(&mut g, BinaryOp::Mul, one_minus, r);
    out.push((g, vec![total, grad]));

    if dims.len() == 2 {
        // A column `[rows, 1]` broadcast along the innermost axis.
        let mut g = Graph::new();
        let col = konst(&mut g, values(f, &[dims[0], 1], seed + 7, false));
        let col = add(&mut g, Op::Broadcast, &[col], f, dims);
        let a = leaf(&mut g, 1);
        let x = binary(&mut g, BinaryOp::Add, col, a);
        let e = unary(&mut g, UnaryOp::Exp, col);
        let s = unary(&mut g, UnaryOp::Sigmoid, x);
        let y = binary(&mut g, BinaryOp::Mul, e, s);
        out.push((g, vec![y]));
    }
    out
}

/// Every block edge (sizes around multiples of 4, 8 and 256), flat and as
/// rows: the interpreter's results within the contract, and the inline
/// kernels' bits.
#[test]
fn blocked_kernels_agree_with_the_interpreter_and_the_inline_bits() {
    let sizes = [1, 3, 4, 7, 8, 9, 255, 256, 257, 511, 512, 515, 1000];
    for (i, &n) in sizes.iter().enumerate() {
        for dims in [vec![n], vec![3, n]] {
            for (g, fetches) in graphs(&dims, i as u64) {
                agree(&g, &fetches);
                let blocked = run_bits(&g, &fetches);
                let inline = without_blocks(|| run_bits(&g, &fetches));
                assert_eq!(blocked, inline, "{dims:?}: blocked vs inline bits");
            }
        }
    }
}

/// Kernels split among threads (above 64K elements) give the same bits for
/// 1 and 2 threads: an element's value does not depend on its block.
#[test]
fn blocked_kernels_are_bitwise_the_same_for_every_thread_count() {
    for dims in [vec![70_001], vec![5, 20_003]] {
        for (g, fetches) in graphs(&dims, 11) {
            let one = with_threads(1, || run_bits(&g, &fetches));
            let two = with_threads(2, || run_bits(&g, &fetches));
            assert_eq!(one, two, "{dims:?}");
            assert_eq!(one, without_blocks(|| run_bits(&g, &fetches)));
        }
    }
}

/// The Rust kernel itself, on every length up to two vectors past a block,
/// from an offset start, against its one-element form (tail lanes included).
#[test]
fn the_block_kernel_handles_every_length() {
    use crate::backend::jit::vecmath::{self, tdsl_block_f32};
    if !vecmath::available() {
        return;
    }
    let xs: Vec<f32> = (0..300).map(|i| (i as f32 - 150.0) * 0.37).collect();
    for kind in [vecmath::EXP, vecmath::SIGMOID] {
        for n in 0..=20 {
            let mut out = vec![f32::NAN; n + 1];
            // SAFETY: `xs[3..]` holds at least `n` elements and `out` `n + 1`.
            unsafe { tdsl_block_f32(kind, xs[3..].as_ptr(), out.as_mut_ptr(), n) };
            for k in 0..n {
                let mut one = [0f32];
                // SAFETY: one element each.
                unsafe { tdsl_block_f32(kind, &xs[3 + k], one.as_mut_ptr(), 1) };
                assert_eq!(
                    out[k].to_bits(),
                    one[0].to_bits(),
                    "kind {kind} n {n} k {k}"
                );
            }
            assert!(out[n].is_nan(), "kind {kind}: wrote past n = {n}");
        }
    }
}
