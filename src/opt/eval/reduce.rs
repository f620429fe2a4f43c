//! `sum`/`mean`/`max`/`min` as the interpreter reduces: reduced axes moved
//! last, each output element one contiguous group in row-major order; float sums
//! pairwise in `f64`, rounded once; `i32` sums wrap.

use super::nn::pairwise_sum_by;
use super::Elem;
use crate::ir::{BinaryOp, DType, ReduceOp, Tensor};
use ndarray::{ArrayD, IxDyn};

/// Sum and mean of one contiguous group.
trait Reducible: Elem {
    fn sum(values: &[Self]) -> Self;
    fn mean(values: &[Self]) -> Self;
}

macro_rules! float_reducible {
    ($t:ty) => {
        impl Reducible for $t {
            fn sum(values: &[$t]) -> $t {
                pairwise_sum_by(values.len(), &|i| values[i] as f64) as $t
            }
            fn mean(values: &[$t]) -> $t {
                (pairwise_sum_by(values.len(), &|i| values[i] as f64) / values.len() as f64) as $t
            }
        }
    };
}
float_reducible!(f32);
float_reducible!(f64);

impl Reducible for i32 {
    fn sum(values: &[i32]) -> i32 {
        values.iter().fold(0i32, |acc, &v| acc.wrapping_add(v))
    }
    fn mean(values: &[i32]) -> i32 {
        if values.is_empty() {
            return 0;
        }
        let total: i64 = values.iter().map(|&v| i64::from(v)).sum();
        (total / values.len() as i64) as i32
    }
}

impl Reducible for bool {
    // Never called: sum/mean on bool are not part of the language (see `reduce`).
    fn sum(values: &[bool]) -> bool {
        values.iter().any(|&v| v)
    }
    fn mean(values: &[bool]) -> bool {
        Self::sum(values)
    }
}

pub(super) fn reduce(op: ReduceOp, axes: &[usize], keepdims: bool, x: &Tensor) -> Option<Tensor> {
    if x.dtype() == DType::Bool && matches!(op, ReduceOp::Sum | ReduceOp::Mean) {
        return None;
    }
    dispatch!(x.dtype(), T => reduce_typed::<T>(op, axes, keepdims, x))
}

fn reduce_typed<T: Reducible>(
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    x: &Tensor,
) -> Option<Tensor> {
    let a = T::array(x)?;
    let rank = a.ndim();
    if !axes.windows(2).all(|w| w[0] < w[1]) || axes.iter().any(|&ax| ax >= rank) {
        return None;
    }
    let kept: Vec<usize> = (0..rank).filter(|ax| !axes.contains(ax)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let moved = a.view().permuted_axes(IxDyn(&perm));
    let moved = moved.as_standard_layout();
    let values = moved.as_slice()?;
    let group: usize = axes.iter().map(|&ax| a.shape()[ax]).product();
    let out_count: usize = kept.iter().map(|&ax| a.shape()[ax]).product();
    let reduce_group = |g: &[T]| -> T {
        match op {
            ReduceOp::Sum => T::sum(g),
            ReduceOp::Mean => T::mean(g),
            ReduceOp::Max => g
                .iter()
                .fold(T::lowest(), |m, &v| T::binary(BinaryOp::Maximum, m, v)),
            ReduceOp::Min => g
                .iter()
                .fold(T::highest(), |m, &v| T::binary(BinaryOp::Minimum, m, v)),
        }
    };
    let out: Vec<T> = if group == 0 {
        vec![reduce_group(&[]); out_count]
    } else {
        values.chunks_exact(group).map(reduce_group).collect()
    };
    let out_dims: Vec<usize> = if keepdims {
        (0..rank)
            .map(|ax| if axes.contains(&ax) { 1 } else { a.shape()[ax] })
            .collect()
    } else {
        kept.iter().map(|&ax| a.shape()[ax]).collect()
    };
    ArrayD::from_shape_vec(IxDyn(&out_dims), out)
        .ok()
        .map(T::wrap)
}
