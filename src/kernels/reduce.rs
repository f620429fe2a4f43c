//! `sum`, `mean`, `max`, `min` over sorted axes (with `keepdims`): the one
//! implementation the interpreter and constant folding share (its choices:
//! `docs/kernels.md`, "Reductions").

use super::rows::pairwise_sum_by;
use crate::ir::scalar::Scalar;
use crate::ir::{BinaryOp, ReduceOp};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};

/// How one contiguous group of elements sums to one element.
pub trait Reducible: Scalar + Default {
    fn sum(values: &[Self]) -> Self;
    fn mean(values: &[Self]) -> Self;
}

fn float_sum<T: Scalar>(values: &[T]) -> f64 {
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
    // Not part of the language (callers refuse `sum`/`mean` on bool): `any`.
    fn sum(values: &[bool]) -> bool {
        values.iter().any(|&v| v)
    }

    fn mean(values: &[bool]) -> bool {
        Self::sum(values)
    }
}

/// `op` of `a` over `axes` (sorted, distinct, in range; otherwise an error).
pub fn reduce<T: Reducible>(
    a: ArrayViewD<T>,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
) -> Result<ArrayD<T>, String> {
    let rank = a.ndim();
    let sorted = axes.windows(2).all(|w| w[0] < w[1]);
    if !sorted || axes.iter().any(|&ax| ax >= rank) {
        return Err(format!(
            "axes {axes:?} are not sorted, distinct axes of a rank-{rank} input"
        ));
    }
    let shape = a.shape().to_vec();
    let kept: Vec<usize> = (0..rank).filter(|ax| !axes.contains(ax)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let moved = a.permuted_axes(IxDyn(&perm));
    let moved = moved.as_standard_layout();
    let values = moved.as_slice().ok_or("input is not contiguous")?;
    let product = |dims: &[usize]| {
        dims.iter()
            .try_fold(1usize, |n, &ax| n.checked_mul(shape[ax]))
            .ok_or("too many elements")
    };
    let group = product(axes)?;
    let out_count = product(&kept)?;
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
            .map(|ax| if axes.contains(&ax) { 1 } else { shape[ax] })
            .collect()
    } else {
        kept.iter().map(|&ax| shape[ax]).collect()
    };
    ArrayD::from_shape_vec(IxDyn(&out_dims), out).map_err(|e| format!("result shape: {e}"))
}

/// `argmax` along `axis`: the first index of the maximum; a NaN counts as the
/// maximum (the first NaN wins, like `np.argmax`); an empty axis gives 0.
pub fn argmax<T: Scalar + PartialOrd>(
    a: ArrayViewD<T>,
    axis: usize,
) -> Result<ArrayD<i32>, String> {
    if axis >= a.ndim() {
        return Err(format!("axis {axis} is out of range for rank {}", a.ndim()));
    }
    Ok(Zip::from(a.lanes(Axis(axis))).map_collect(|lane| {
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
    }))
}
