//! Tests of the JIT on its own: graphs built directly with `Graph::add`. The
//! helpers here build graphs and test values; the tests against the
//! interpreter (the oracle) are in `crate::checks::jit`.

mod bounds;
mod math;
mod uniform;

use crate::diag::Span;
use crate::ir::{DType, Graph, NodeId, Op, Tensor, TensorType};
use std::sync::Arc;

pub(crate) fn span() -> Span {
    Span::new(3, 9)
}

pub(crate) fn add(
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

pub(crate) fn konst(g: &mut Graph, t: Tensor) -> NodeId {
    let out = t.ty();
    g.add(Op::Const(Arc::new(t)), Vec::new(), out, span())
}

/// Deterministic test values of `dtype` and `dims`: pseudo-random, with special
/// values (0, -0, ±inf, NaN, i32::MIN, ...) sprinkled in when `special`.
pub(crate) fn values(dtype: DType, dims: &[usize], seed: u64, special: bool) -> Tensor {
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

/// The bits of every element (as `f64`, which keeps every `f32`'s bits apart).
pub(crate) fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}
