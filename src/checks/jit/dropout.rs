//! Fused `dropout` (`backend/jit/dropout.rs`): a member of the fused
//! elementwise kernels whose masks are the interpreter's bits, for odd sizes
//! (not a multiple of 4, of a 256-element block or of a chunk of 64 stream
//! elements), `f32` vector and scalar kernels, `f64`, a first row and a loop
//! word, and on 1 and 2 threads.

use super::{add, bits, konst, no_inputs, values};
use crate::backend::interp;
use crate::backend::jit::plan::Step;
use crate::backend::jit::{compile, Options};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, RandomKind, Tensor, UnaryOp};

const SEED: u64 = 0x5eed_0000_0000_0017;

/// A dropout of `x` at `rate` (a constant) with step 3, and a first row and
/// a loop word when given (constants standing for the lowered inputs).
fn dropout(g: &mut Graph, x: NodeId, rate: f64, extra: Option<(i32, i32)>) -> NodeId {
    let ty = g.ty(x).clone();
    let r = konst(g, Tensor::scalar(ty.dtype, rate));
    let step = konst(g, Tensor::scalar(DType::I32, 3.0));
    let mut inputs = vec![x, r, step];
    if let Some((row, word)) = extra {
        inputs.push(konst(g, Tensor::scalar(DType::I32, f64::from(row))));
        inputs.push(konst(g, Tensor::scalar(DType::I32, f64::from(word))));
    }
    let op = Op::Random {
        kind: RandomKind::Dropout,
        seed: SEED,
    };
    add(g, op, &inputs, ty.dtype, ty.shape.dims())
}

/// The fetched values' bits on the JIT (with `check_bounds`) with `threads`,
/// and the dropout's step there.
fn jit_bits(g: &Graph, fetches: &[NodeId], threads: usize, d: NodeId) -> (Vec<Vec<u64>>, Step) {
    let options = Options {
        threads,
        ..Options::checked()
    };
    let exe = compile(g, fetches, options).unwrap_or_else(|e| panic!("compile: {}", e.message));
    let out = exe
        .run(&no_inputs())
        .unwrap_or_else(|e| panic!("run: {}", e.message));
    let step = exe.steps[d.index()].clone();
    (out.fetched.iter().map(bits).collect(), step)
}

fn interp_bits(g: &Graph, fetches: &[NodeId]) -> Vec<Vec<u64>> {
    let out =
        interp::run_step(g, fetches, &no_inputs()).unwrap_or_else(|e| panic!("{}", e.message));
    out.fetched.iter().map(bits).collect()
}

/// Asserts the JIT's values are bitwise the interpreter's on 1 and 2
/// threads, and that the dropout ran fused (`Inlined` or a group's root).
#[track_caller]
fn assert_fused_bitwise(g: &Graph, fetches: &[NodeId], d: NodeId, what: &str) {
    let want = interp_bits(g, fetches);
    for threads in [1, 2] {
        let (got, step) = jit_bits(g, fetches, threads, d);
        assert!(
            matches!(step, Step::Inlined | Step::Fused(_)),
            "{what}: the dropout is {step:?}"
        );
        assert!(
            got == want,
            "{what}, {threads} threads: not the interpreter's bits"
        );
    }
}

/// `relu(x · y) → dropout → + z` in one kernel, for `f32` (vector) and `f64`
/// (scalar), sizes around the vector width, the blocks and the chunks,
/// several rates, with special values (NaN, ±inf, ±0) in `x`.
#[test]
fn dropout_in_a_chain_is_the_interpreters_bits() {
    let shapes: [&[usize]; 7] = [
        &[7],
        &[3, 5],
        &[2, 3, 37],
        &[257],
        &[4, 300],
        &[1030],
        &[65, 3],
    ];
    for dtype in [DType::F32, DType::F64] {
        for (s, dims) in shapes.iter().enumerate() {
            for rate in [0.0, 0.25, 0.5, 0.9] {
                let mut g = Graph::new();
                let seed = s as u64 * 10;
                let x = konst(&mut g, values(dtype, dims, seed, true));
                let y = konst(&mut g, values(dtype, dims, seed + 1, false));
                let z = konst(&mut g, values(dtype, dims, seed + 2, false));
                let xy = add(&mut g, Op::Binary(BinaryOp::Mul), &[x, y], dtype, dims);
                let h = add(&mut g, Op::Unary(UnaryOp::Relu), &[xy], dtype, dims);
                let d = dropout(&mut g, h, rate, None);
                let out = add(&mut g, Op::Binary(BinaryOp::Add), &[d, z], dtype, dims);
                let what = format!("{dtype} {dims:?} rate {rate}");
                assert_fused_bitwise(&g, &[out], d, &what);
                // The dropout as a kernel's root (fetched).
                assert_fused_bitwise(&g, &[d], d, &format!("{what}, root"));
            }
        }
    }
}

/// A share of a batch (first row 5) inside a loop (word 9), a broadcast
/// operand, and a scalar `f32` kernel (a `bool` leaf keeps it off vectors).
#[test]
fn first_rows_loop_words_broadcasts_and_scalar_kernels_agree() {
    let f = DType::F32;
    for dims in [[6usize, 7], [5, 300], [3, 64]] {
        let mut g = Graph::new();
        let x = konst(&mut g, values(f, &dims, 1, true));
        let b = konst(&mut g, values(f, &dims[1..], 2, false));
        let xb = add(&mut g, Op::Binary(BinaryOp::Add), &[x, b], f, &dims);
        let d = dropout(&mut g, xb, 0.3, Some((5, 9)));
        let e = add(&mut g, Op::Unary(UnaryOp::Exp), &[d], f, &dims);
        let out = add(&mut g, Op::Binary(BinaryOp::Mul), &[e, x], f, &dims);
        // `exp` is inline or blocked: compare its input's bits, not its own.
        assert_fused_bitwise(&g, &[d], d, &format!("{dims:?} first row, word"));
        super::agree(&g, &[out]);

        let mut g = Graph::new();
        let x = konst(&mut g, values(f, &dims, 3, true));
        let y = konst(&mut g, values(f, &dims, 4, false));
        let m = konst(&mut g, values(DType::Bool, &dims, 5, false));
        let d = dropout(&mut g, x, 0.5, Some((2, 1)));
        let out = add(&mut g, Op::Select, &[m, d, y], f, &dims);
        assert_fused_bitwise(&g, &[out], d, &format!("{dims:?} scalar kernel"));
    }
}

/// A chain long enough to be split among threads (≥ 64K elements, rows not
/// a multiple of 4): the masks do not depend on the split.
#[test]
fn split_kernels_draw_the_same_masks() {
    let f = DType::F32;
    let dims = [301usize, 257];
    let mut g = Graph::new();
    let x = konst(&mut g, values(f, &dims, 7, false));
    let d = dropout(&mut g, x, 0.5, None);
    let out = add(&mut g, Op::Unary(UnaryOp::Neg), &[d], f, &dims);
    assert_fused_bitwise(&g, &[out], d, "[301, 257]");
    let kept = interp_bits(&g, &[d])[0].iter().filter(|&&b| b != 0).count();
    let n = dims[0] * dims[1];
    assert!(
        kept > n * 45 / 100 && kept < n * 55 / 100,
        "kept {kept} of {n}"
    );
}

/// A dropout under a reduction is stored (a reduction's kernel has no output
/// offset to draw by), and one with a rate that is not a constant runs the
/// interpreter's kernel; both agree with the interpreter.
#[test]
fn dropout_under_a_reduction_or_with_a_computed_rate_still_agrees() {
    let f = DType::F32;
    let dims = [9usize, 70];
    let mut g = Graph::new();
    let x = konst(&mut g, values(f, &dims, 8, false));
    let d = dropout(&mut g, x, 0.5, None);
    let twice = add(&mut g, Op::Binary(BinaryOp::Add), &[d, d], f, &dims);
    let axes = vec![1];
    let op = Op::Reduce {
        op: crate::ir::ReduceOp::Sum,
        axes,
        keepdims: false,
    };
    let s = add(&mut g, op, &[twice], f, &dims[..1]);
    let (_, step) = jit_bits(&g, &[s], 1, d);
    assert!(matches!(step, Step::Fused(_)), "{step:?}");
    super::agree(&g, &[s]);

    let mut g = Graph::new();
    let x = konst(&mut g, values(f, &dims, 9, false));
    let half = konst(&mut g, Tensor::scalar(f, 0.5));
    let rate = add(&mut g, Op::Unary(UnaryOp::Neg), &[half], f, &[]);
    let rate = add(&mut g, Op::Unary(UnaryOp::Neg), &[rate], f, &[]);
    let step = konst(&mut g, Tensor::scalar(DType::I32, 3.0));
    let op = Op::Random {
        kind: RandomKind::Dropout,
        seed: SEED,
    };
    let d = add(&mut g, op, &[x, rate, step], f, &dims);
    let (got, step) = jit_bits(&g, &[d], 1, d);
    assert!(matches!(step, Step::Fallback), "{step:?}");
    assert!(got == interp_bits(&g, &[d]));
}

/// A `random_normal` or `random_uniform` of `dims` with step 3, and a loop
/// word when given.
fn draw(
    g: &mut Graph,
    kind: RandomKind,
    dtype: DType,
    dims: &[usize],
    word: Option<i32>,
) -> NodeId {
    let step = konst(g, Tensor::scalar(DType::I32, 3.0));
    let mut inputs = vec![step];
    if let Some(w) = word {
        inputs.push(konst(g, Tensor::scalar(DType::I32, f64::from(w))));
    }
    let op = Op::Random { kind, seed: SEED };
    add(g, op, &inputs, dtype, dims)
}

/// Normals and uniforms drawn inside a chain (`x · noise + noise`, an `exp`
/// after a uniform) and as a kernel's root: the interpreter's bits, `f32`
/// and `f64`, odd sizes, with and without a loop word, 1 and 2 threads.
#[test]
fn normals_and_uniforms_in_a_chain_are_the_interpreters_bits() {
    let shapes: [&[usize]; 5] = [&[7], &[3, 5], &[257], &[4, 300], &[301, 257]];
    for dtype in [DType::F32, DType::F64] {
        for (s, dims) in shapes.iter().enumerate() {
            for kind in [RandomKind::Normal, RandomKind::Uniform] {
                for word in [None, Some(6)] {
                    let mut g = Graph::new();
                    let x = konst(&mut g, values(dtype, dims, s as u64, true));
                    let noise = draw(&mut g, kind, dtype, dims, word);
                    let xn = add(&mut g, Op::Binary(BinaryOp::Mul), &[x, noise], dtype, dims);
                    let out = add(&mut g, Op::Binary(BinaryOp::Add), &[xn, noise], dtype, dims);
                    let what = format!("{kind:?} {dtype} {dims:?} word {word:?}");
                    assert_fused_bitwise(&g, &[out], noise, &what);
                    assert_fused_bitwise(&g, &[noise], noise, &format!("{what}, root"));
                }
            }
        }
    }
    let f = DType::F32;
    let mut g = Graph::new();
    let u = draw(&mut g, RandomKind::Uniform, f, &[5, 67], None);
    let e = add(&mut g, Op::Unary(UnaryOp::Exp), &[u], f, &[5, 67]);
    let (_, step) = jit_bits(&g, &[e], 1, u);
    assert!(matches!(step, Step::Inlined), "{step:?}");
    super::agree(&g, &[e]);
}
