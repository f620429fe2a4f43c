//! Reductions: `sum`, `mean`, `max`, `min` over sorted axes (with `keepdims`),
//! and `argmax`.
//!
//! Choices:
//! - Float sums (and means) accumulate in `f64` with pairwise summation, then
//!   round once to the dtype: a sum of millions of `f32` values stays accurate.
//! - `i32` sums wrap; an `i32` mean is the exact sum divided by the count,
//!   truncated toward zero (`0` for no elements).
//! - An empty reduction gives `sum = 0`, `mean = NaN` (floats), `max = -inf` and
//!   `min = +inf` for floats (`i32::MIN`/`i32::MAX` on `i32`, `false`/`true` on `bool`).
//! - `max`/`min` propagate NaN (as `np.max` does), through `scalar`'s `maximum`/`minimum`.
//! - `argmax` gives the first index of the maximum; a NaN counts as the maximum
//!   (first NaN wins, like `np.argmax`); an empty axis gives index 0.

use super::{dispatch, expect_inputs, first_dtype, internal, numel, typed, Elem};
use crate::ir::{BinaryOp, DType, Node, ReduceOp, Tensor};
use crate::syntax::Diag;
use ndarray::{ArrayD, Axis, IxDyn, Zip};

/// Pairwise sum in `f64` of `term(i)` for `i` in `0..len` (blocks of 64 summed
/// in order); no temporary buffer, so it scales to millions of terms.
pub(crate) fn pairwise_sum_by(len: usize, term: &impl Fn(usize) -> f64) -> f64 {
    fn go(lo: usize, hi: usize, term: &impl Fn(usize) -> f64) -> f64 {
        const BLOCK: usize = 64;
        if hi - lo <= BLOCK {
            (lo..hi).map(term).sum()
        } else {
            let mid = lo + (hi - lo) / 2;
            go(lo, mid, term) + go(mid, hi, term)
        }
    }
    go(0, len, term)
}

/// Pairwise sum of `values` in `f64`.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    pairwise_sum_by(values.len(), &|i| values[i])
}

/// How one contiguous group of elements reduces to one element.
trait Reducible: Elem {
    fn sum(values: &[Self]) -> Self;
    fn mean(values: &[Self]) -> Self;
}

fn float_sum<T: Elem>(values: &[T]) -> f64 {
    pairwise_sum_by(values.len(), &|i| values[i].to_f64())
}

macro_rules! float_reducible {
    ($t:ty) => {
        impl Reducible for $t {
            fn sum(values: &[$t]) -> $t {
                float_sum(values) as $t
            }

            fn mean(values: &[$t]) -> $t {
                // 0 / 0 is NaN: the mean of nothing.
                (float_sum(values) / values.len() as f64) as $t
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
    // Not part of the language: `sum`/`mean` on bool are `any`.
    fn sum(values: &[bool]) -> bool {
        values.iter().any(|&v| v)
    }

    fn mean(values: &[bool]) -> bool {
        Self::sum(values)
    }
}

pub(crate) fn reduce(
    node: &Node,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let dtype = first_dtype(node, inputs)?;
    if dtype == DType::Bool && matches!(op, ReduceOp::Sum | ReduceOp::Mean) {
        return Err(internal(node, "not defined on bool"));
    }
    dispatch!(dtype, T => reduce_typed::<T>(node, op, axes, keepdims, typed::<T>(node, inputs, 0)?))
}

fn reduce_typed<T: Reducible>(
    node: &Node,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    a: &ArrayD<T>,
) -> Result<Tensor, Diag> {
    let rank = a.ndim();
    let sorted = axes.windows(2).all(|w| w[0] < w[1]);
    if !sorted || axes.iter().any(|&ax| ax >= rank) {
        return Err(internal(
            node,
            format!("axes {axes:?} are not sorted, distinct axes of a rank-{rank} input"),
        ));
    }
    let kept: Vec<usize> = (0..rank).filter(|ax| !axes.contains(ax)).collect();
    // Move the reduced axes last: each output element is then one contiguous group.
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let moved = a.view().permuted_axes(IxDyn(&perm));
    let moved = moved.as_standard_layout();
    let values = moved
        .as_slice()
        .ok_or_else(|| internal(node, "input is not contiguous"))?;
    let group = numel(
        node,
        &axes.iter().map(|&ax| a.shape()[ax]).collect::<Vec<_>>(),
    )?;
    let out_count = numel(
        node,
        &kept.iter().map(|&ax| a.shape()[ax]).collect::<Vec<_>>(),
    )?;
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
    let out = ArrayD::from_shape_vec(IxDyn(&out_dims), out)
        .map_err(|e| internal(node, format!("result shape: {e}")))?;
    Ok(T::wrap(out))
}

pub(crate) fn argmax(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    fn kernel<T: Elem>(node: &Node, axis: usize, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
        let a = typed::<T>(node, inputs, 0)?;
        if axis >= a.ndim() {
            return Err(internal(
                node,
                format!("axis {axis} is out of range for rank {}", a.ndim()),
            ));
        }
        let out = Zip::from(a.lanes(Axis(axis))).map_collect(|lane| {
            let mut best: Option<(usize, T)> = None;
            for (i, &v) in lane.iter().enumerate() {
                if v.is_nan() {
                    return i as i32;
                }
                match best {
                    Some((_, b)) if v <= b => {}
                    _ => best = Some((i, v)),
                }
            }
            best.map_or(0, |(i, _)| i as i32)
        });
        Ok(Tensor::I32(out))
    }
    dispatch!(first_dtype(node, inputs)?, T => kernel::<T>(node, axis, inputs))
}
