//! Tests of the JIT against the interpreter (the oracle): graphs built directly
//! with `Graph::add`, every kernel compiled with `check_bounds`.

mod blocks;
mod bounds;
mod columns;
mod control;
mod control_bits;
mod elementwise;
mod math;
mod matmul;
mod prop;
mod random;
mod reduce;
mod regions;
mod scan;
mod sizes;
mod transpose;
mod uniform;

use super::{compile, Options};
use crate::backend::{interp, StepInputs, StepResult};
use crate::diag::Span;
use crate::ir::{DType, Graph, NodeId, Op, Tensor, TensorType};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) fn span() -> Span {
    Span::new(3, 9)
}

pub(super) fn add(
    g: &mut Graph,
    op: Op,
    inputs: &[NodeId],
    dtype: DType,
    dims: &[usize],
) -> NodeId {
    g.add(
        op,
        inputs.to_vec(),
        TensorType::new(dtype, dims.to_vec()),
        span(),
    )
}

pub(super) fn konst(g: &mut Graph, t: Tensor) -> NodeId {
    let out = t.ty();
    g.add(Op::Const(Arc::new(t)), Vec::new(), out, span())
}

/// Deterministic test values of `dtype` and `dims`: pseudo-random, with special
/// values (0, -0, ±inf, NaN, i32::MIN, ...) sprinkled in when `special`.
pub(super) fn values(dtype: DType, dims: &[usize], seed: u64, special: bool) -> Tensor {
    let n: usize = dims.iter().product();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = ((state >> 11) as f64) / ((1u64 << 53) as f64); // [0, 1)
        let v = match dtype {
            DType::F32 | DType::F64 => {
                let specials = [
                    0.0,
                    -0.0,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NAN,
                    1.0,
                    -1.0,
                ];
                if special && i % 7 == 3 {
                    specials[(i / 7) % specials.len()]
                } else {
                    (u - 0.5) * 8.0
                }
            }
            DType::I32 => {
                let specials = [0.0, -1.0, 1.0, i32::MIN as f64, i32::MAX as f64, 2.0];
                if special && i % 5 == 2 {
                    specials[(i / 5) % specials.len()]
                } else {
                    ((u - 0.5) * 20.0).trunc()
                }
            }
            DType::Bool => f64::from(u < 0.5),
        };
        out.push(v);
    }
    match Tensor::from_f64_vec(&TensorType::new(dtype, dims.to_vec()), out) {
        Some(t) => t,
        None => panic!("test values for {dims:?}"),
    }
}

/// Runs both backends on `g` (no feeds) and asserts the fetched values agree:
/// exactly for integers and bools, within 1e-5 relative for floats (NaN equal
/// to NaN). Returns the JIT's (fused, matmul) kernel counts.
#[track_caller]
pub(super) fn agree(g: &Graph, fetches: &[NodeId]) -> (usize, usize) {
    let empty = HashMap::new();
    let inputs = StepInputs {
        placeholders: &empty,
        variables: &empty,
    };
    let expected = interp::run_step(g, fetches, &inputs);
    let exe = match compile(g, fetches, Options::checked()) {
        Ok(exe) => exe,
        Err(e) => panic!("JIT compile failed: {}", e.message),
    };
    let actual = exe.run(&inputs);
    match (expected, actual) {
        (Ok(e), Ok(a)) => assert_results(&e, &a),
        (Err(e), Err(a)) => assert_eq!(e.kind, a.kind, "{} vs {}", e.message, a.message),
        (e, a) => panic!("interp {:?} vs jit {:?}", e.map(|_| ()), a.map(|_| ())),
    }
    exe.kernel_counts()
}

#[track_caller]
pub(super) fn assert_results(expected: &StepResult, actual: &StepResult) {
    assert_eq!(expected.fetched.len(), actual.fetched.len());
    for (e, a) in expected.fetched.iter().zip(&actual.fetched) {
        assert_close(e, a);
    }
    assert_eq!(expected.updates.len(), actual.updates.len());
    for ((en, e), (an, a)) in expected.updates.iter().zip(&actual.updates) {
        assert_eq!(en, an);
        assert_close(e, a);
    }
}

#[track_caller]
pub(super) fn assert_close(e: &Tensor, a: &Tensor) {
    assert_eq!(e.ty(), a.ty(), "types differ");
    let float = e.dtype().is_float();
    for (i, (x, y)) in e.to_f64_vec().into_iter().zip(a.to_f64_vec()).enumerate() {
        let same = if float {
            // 1e-5 relative; the 1e-44 floor absorbs a few units of the last place
            // of f32 subnormals (inline `exp` vs libm's).
            let tol = 1e-5 * x.abs().max(y.abs()) + 1e-44;
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= tol
        } else {
            x == y
        };
        assert!(same, "element {i} of {}: interp {x} vs jit {y}", e.ty());
    }
}

/// The bits of every element (as `f64`, which keeps every `f32`'s bits apart).
pub(crate) fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

/// Asserts that the JIT's product of `y` (`y_dims`) with `x` (`x_dims`)
/// transposed by `perm` — `transpose(x) @ y` when `x_left`, else
/// `y @ transpose(x)` — is bitwise the interpreter's.
#[track_caller]
pub(crate) fn assert_transposed_product_bitwise(
    dtype: DType,
    (y_dims, x_dims, perm, out): (&[usize], &[usize], Vec<usize>, &[usize]),
    x_left: bool,
    seed: u64,
) {
    let empty = HashMap::new();
    let inputs = StepInputs {
        placeholders: &empty,
        variables: &empty,
    };
    let mut g = Graph::new();
    let y = konst(&mut g, values(dtype, y_dims, seed, false));
    let x = konst(&mut g, values(dtype, x_dims, seed + 1, false));
    let mut t_dims = x_dims.to_vec();
    let r = t_dims.len();
    t_dims.swap(r - 1, r - 2);
    let t = add(&mut g, Op::Transpose { perm }, &[x], dtype, &t_dims);
    let operands = if x_left { [t, y] } else { [y, t] };
    let p = add(&mut g, Op::MatMul, &operands, dtype, out);
    let exe =
        compile(&g, &[p], Options::checked()).unwrap_or_else(|e| panic!("compile: {}", e.message));
    let jit = exe.run(&inputs).unwrap_or_else(|e| panic!("{}", e.message));
    let interp = interp::run_step(&g, &[p], &inputs).unwrap_or_else(|e| panic!("{}", e.message));
    assert!(
        bits(&jit.fetched[0]) == bits(&interp.fetched[0]),
        "{dtype} {y_dims:?} with transpose({x_dims:?}) (x left: {x_left}): not bitwise equal"
    );
}
