//! The losses with integer or binary targets and the core of the sparse
//! loss's gradient, as `kernels::loss` computes them (in `f64`, pairwise sums
//! of `kernels::rows`, rounded once), without the per-row scratch: each
//! row's terms are recomputed where the interpreter stores them, which gives
//! the same bits. A label out of range is the user's run-time error naming
//! the row (`ir::infer::check_labels`, the interpreter's message).

use super::rows::{for_rows, pairwise};
use super::{Call, Elem};
use crate::diag::Diag;
use crate::ir::scalar::Scalar;
use crate::ir::BinaryOp;
use crate::kernels::loss::{check_labels, sigmoid_cross_entropy_term};
use crate::kernels::rows::{pairwise_sum, pairwise_sum_by};

/// The logits `[N, C]`, the labels (checked) and `C`.
fn logits_and_labels<'a, T: Elem>(call: &Call<'a>) -> Result<(&'a [T], &'a [i32], usize), Diag> {
    let (logits, dims) = call.input::<T>(0)?;
    let (labels, label_dims) = call.input::<i32>(1)?;
    let &[rows, classes] = dims else {
        return Err(call.fail(format!("logits {dims:?}")));
    };
    if label_dims != [rows] {
        return Err(call.fail(format!("labels {label_dims:?} for logits {dims:?}")));
    }
    if classes == 0 {
        return Err(call.fail("no classes"));
    }
    check_labels(labels, classes).map_err(|m| Diag::error(m, call.node.span))?;
    Ok((logits, labels, classes))
}

/// The maximum of a row in `f64` (NaN wins), as `kernels::rows::row_max`.
fn row_max<T: Elem>(row: &[T]) -> f64 {
    row.iter().fold(f64::NEG_INFINITY, |m, &v| {
        f64::binary(BinaryOp::Maximum, m, v.to_f64())
    })
}

/// `-log_softmax(row)[label]`, as `kernels::rows::log_softmax_row` computes it.
fn row_loss<T: Elem>(row: &[T], label: usize) -> f64 {
    let max = row_max(row);
    let log_sum = pairwise_sum_by(row.len(), &|c| (row[c].to_f64() - max).exp()).ln();
    -((row[label].to_f64() - max) - log_sum)
}

/// The mean over rows of `-log_softmax(logits[n])[labels[n]]`; NaN for no rows.
pub(super) fn sparse_softmax_cross_entropy<T: Elem>(
    call: &Call,
    out: &mut [T],
) -> Result<(), Diag> {
    let (logits, labels, classes) = logits_and_labels::<T>(call)?;
    let term = |n: usize| row_loss(&logits[n * classes..(n + 1) * classes], labels[n] as usize);
    let mean = pairwise(labels.len(), &term) / labels.len() as f64;
    out.fill(T::from_f64(mean));
    Ok(())
}

/// `softmax(logits[n]) - one_hot(labels[n])` per row.
pub(super) fn sparse_softmax_grad<T: Elem>(call: &Call, out: &mut [T]) -> Result<(), Diag> {
    let (logits, labels, classes) = logits_and_labels::<T>(call)?;
    if out.len() != logits.len() {
        return Err(call.fail("output of the wrong size"));
    }
    for_rows(out, classes, out.len(), |first, rows| {
        // One row's `exp(x - max)`, reused for every row of this part.
        let mut exps = vec![0.0f64; classes];
        for (r, dst) in rows.chunks_exact_mut(classes).enumerate() {
            let n = first + r;
            let row = &logits[n * classes..(n + 1) * classes];
            let max = row_max(row);
            for (e, &v) in exps.iter_mut().zip(row) {
                *e = (v.to_f64() - max).exp();
            }
            let sum = pairwise_sum(&exps);
            for (c, d) in dst.iter_mut().enumerate() {
                let mut v = exps[c] / sum;
                if c == labels[n] as usize {
                    v -= 1.0;
                }
                *d = T::from_f64(v);
            }
        }
    });
    Ok(())
}

/// The mean of `max(x, 0) - x z + log1p(exp(-|x|))` over the broadcast of
/// the logits and the targets (row-major); NaN for no elements.
pub(super) fn sigmoid_cross_entropy<T: Elem>(call: &Call, out: &mut [T]) -> Result<(), Diag> {
    let (x, x_dims) = call.input::<T>(0)?;
    let (z, z_dims) = call.input::<T>(1)?;
    let shape = crate::ir::infer::broadcast_shapes(
        &crate::ir::Shape(x_dims.to_vec()),
        &crate::ir::Shape(z_dims.to_vec()),
    )
    .ok_or_else(|| call.fail(format!("{x_dims:?} and {z_dims:?} do not broadcast")))?;
    let dims = shape.dims();
    let count: usize = dims.iter().product();
    let mean = if x_dims == z_dims {
        pairwise(count, &|i| {
            sigmoid_cross_entropy_term(x[i].to_f64(), z[i].to_f64())
        })
    } else {
        let operands: [&[usize]; 2] = [x_dims, z_dims];
        let strides = crate::backend::jit::nest::broadcast_strides(dims, &operands)?;
        let term = |i: usize| {
            let (mut rest, mut a, mut b) = (i, 0, 0);
            for k in (0..dims.len()).rev() {
                let c = rest % dims[k];
                rest /= dims[k];
                a += c * strides[0][k];
                b += c * strides[1][k];
            }
            sigmoid_cross_entropy_term(x[a].to_f64(), z[b].to_f64())
        };
        pairwise(count, &term)
    } / count as f64;
    out.fill(T::from_f64(mean));
    Ok(())
}
