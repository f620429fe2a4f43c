//! Tests of the JIT against the interpreter (the oracle): graphs built directly
//! with `Graph::add` (helpers in `backend::jit::tests`), every kernel compiled
//! with `check_bounds`.

mod arena;
mod blocks;
mod columns;
mod control;
mod control_bits;
mod direct;
mod direct_nn;
mod dropout;
mod elementwise;
mod matmul;
mod outputs;
mod products;
mod prop;
mod random;
mod reduce;
mod regions;
mod scan;
mod siblings;
mod sizes;
mod transpose;
mod view_readers;
mod views;

pub(crate) use crate::backend::jit::tests::{add, bits, konst, values};
use crate::backend::jit::{compile, Options};
use crate::backend::{interp, StepInputs, StepResult};
use crate::ir::{DType, Graph, NodeId, Op, Tensor};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A step's inputs with no feeds and no variables.
pub(crate) fn no_inputs() -> StepInputs<'static> {
    static EMPTY: OnceLock<HashMap<String, Tensor>> = OnceLock::new();
    let empty = EMPTY.get_or_init(HashMap::new);
    StepInputs {
        placeholders: empty,
        variables: empty,
    }
}

/// Runs both backends on `g` (no feeds) and asserts the fetched values agree:
/// exactly for integers and bools, within 1e-5 relative for floats (NaN equal
/// to NaN). Returns the JIT's (fused, matmul) kernel counts.
#[track_caller]
pub(crate) fn agree(g: &Graph, fetches: &[NodeId]) -> (usize, usize) {
    let inputs = no_inputs();
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
pub(crate) fn assert_results(expected: &StepResult, actual: &StepResult) {
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
pub(crate) fn assert_close(e: &Tensor, a: &Tensor) {
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
    let inputs = no_inputs();
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
