//! Reductions over leading axes (column mode, `columns.rs`) vs the
//! interpreter: kept axes of 1, 3, 17 and 1023 elements, row counts around
//! the block of 32, 0-sized axes, outer kept axes, fused chains with a
//! broadcast leaf, every op; bitwise reproducibility across thread counts.

use super::no_inputs;
use super::{add, agree, konst, values};
use crate::backend::jit::{compile, Options};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, UnaryOp};

const OPS: [ReduceOp; 4] = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];

/// `op(relu(x * y + z))` over `axes` of `dims`, `z` broadcast along the last
/// axis (a bias), with special values in `x` when `special`.
fn graph(
    dtype: DType,
    dims: &[usize],
    op: ReduceOp,
    axes: &[usize],
    special: bool,
) -> (Graph, NodeId) {
    let mut g = Graph::new();
    let x = konst(&mut g, values(dtype, dims, 31, special));
    let y = konst(&mut g, values(dtype, dims, 32, false));
    let last = dims.last().map_or(vec![], |&d| vec![d]);
    let z = konst(&mut g, values(dtype, &last, 33, false));
    let m = add(&mut g, Op::Binary(BinaryOp::Mul), &[x, y], dtype, dims);
    let s = add(&mut g, Op::Binary(BinaryOp::Add), &[m, z], dtype, dims);
    let r = add(&mut g, Op::Unary(UnaryOp::Relu), &[s], dtype, dims);
    let out: Vec<usize> = (0..dims.len())
        .filter(|a| !axes.contains(a))
        .map(|a| dims[a])
        .collect();
    let red = Op::Reduce {
        op,
        axes: axes.to_vec(),
        keepdims: false,
    };
    let y = add(&mut g, red, &[r], dtype, &out);
    (g, y)
}

/// Whether the reduction of `y` runs in column mode.
fn column_mode(g: &Graph, y: NodeId) -> bool {
    match compile(g, &[y], Options::checked()) {
        Ok(exe) => exe
            .reductions
            .iter()
            .any(|r| r.reduction.layout.columns.is_some()),
        Err(e) => panic!("compile: {}", e.message),
    }
}

#[test]
fn leading_axis_reductions_agree() {
    let cases: [(&[usize], &[usize]); 12] = [
        (&[256, 1023], &[0]),
        (&[33, 17], &[0]),
        (&[32, 3], &[0]),
        (&[5, 1], &[0]),
        (&[1, 17], &[0]),
        (&[0, 17], &[0]),
        (&[17, 0], &[0]),
        (&[4, 6, 5, 17], &[0, 1, 2]),
        (&[2, 3, 3, 4], &[0, 1, 2]),
        (&[3, 40, 17], &[1]),
        (&[2, 0, 5], &[1]),
        (&[65, 1023], &[0]),
    ];
    for dtype in [DType::F32, DType::F64] {
        for (dims, axes) in cases {
            for op in OPS {
                for special in [false, true] {
                    let (g, y) = graph(dtype, dims, op, axes, special);
                    let what = format!("{op:?} {dtype} {dims:?} {axes:?}");
                    let (fused, _) = agree(&g, &[y]);
                    assert_eq!(fused, 0, "{what}: the chain is inside the reduction");
                    let kept = dims.last().copied().unwrap_or(0);
                    assert_eq!(column_mode(&g, y), kept >= 4, "{what}");
                }
            }
        }
    }
}

#[test]
fn column_reductions_are_bitwise_reproducible_across_thread_counts() {
    let inputs = no_inputs();
    let cases: [(&[usize], &[usize]); 3] = [
        (&[256, 1023], &[0]),
        (&[16, 32, 32, 17], &[0, 1, 2]),
        (&[3, 1000, 40], &[1]),
    ];
    let mut results = Vec::new();
    for threads in [1, 2, 2, 1] {
        let options = Options {
            threads,
            ..Options::checked()
        };
        let mut out = Vec::new();
        for (dims, axes) in cases {
            let (g, y) = graph(DType::F32, dims, ReduceOp::Sum, axes, false);
            let exe =
                compile(&g, &[y], options).unwrap_or_else(|e| panic!("compile: {}", e.message));
            let mut r = exe.run(&inputs).unwrap_or_else(|e| panic!("{}", e.message));
            out.push(r.fetched.remove(0).to_f64_vec());
        }
        results.push(out);
    }
    for r in &results[1..] {
        for (a, b) in r.iter().zip(&results[0]) {
            let same =
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "results differ between thread counts");
        }
    }
}
