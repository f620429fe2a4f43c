//! Network kernels shared by the interpreter and constant folding: the softmax
//! family, `softmax_cross_entropy` and `mean_squared_error`, each row in `f64`
//! with its maximum subtracted before `exp`, rounded once (`docs/kernels.md`).

use super::rows::{log_softmax_row, pairwise_sum, pairwise_sum_by, softmax_row};
use crate::ir::scalar::Scalar;
use ndarray::{ArrayD, ArrayViewD, Axis, Zip};

/// `softmax(x, axis)` or, with `log`, `log_softmax(x, axis)`: each lane in `f64`.
pub fn softmax<T: Scalar>(x: ArrayViewD<T>, axis: usize, log: bool) -> Result<ArrayD<T>, String> {
    if axis >= x.ndim() {
        return Err(format!("axis {axis} is out of range for rank {}", x.ndim()));
    }
    let mut out = x.to_owned();
    Zip::from(out.lanes_mut(Axis(axis))).for_each(|mut lane| {
        let mut row: Vec<f64> = lane.iter().map(|v| v.to_f64()).collect();
        if log {
            log_softmax_row(&mut row);
        } else {
            softmax_row(&mut row);
        }
        for (dst, v) in lane.iter_mut().zip(row) {
            *dst = T::from_f64(v);
        }
    });
    Ok(out)
}

/// `mean_n(-sum_c labels[n, c] * log_softmax(logits)[n, c])` over `[N, C]`;
/// NaN for `N = 0`.
pub fn softmax_cross_entropy<T: Scalar>(
    logits: ArrayViewD<T>,
    labels: ArrayViewD<T>,
) -> Result<T, String> {
    if logits.ndim() != 2 || logits.shape() != labels.shape() {
        return Err(format!(
            "expected logits and labels of one shape [N, C], got {:?} and {:?}",
            logits.shape(),
            labels.shape()
        ));
    }
    let batch = logits.shape()[0];
    let per_row: Vec<f64> = logits
        .lanes(Axis(1))
        .into_iter()
        .zip(labels.lanes(Axis(1)))
        .map(|(logit_row, label_row)| {
            let mut row: Vec<f64> = logit_row.iter().map(|v| v.to_f64()).collect();
            log_softmax_row(&mut row);
            let terms: Vec<f64> = row
                .iter()
                .zip(label_row)
                .map(|(&l, y)| -y.to_f64() * l)
                .collect();
            pairwise_sum(&terms)
        })
        .collect();
    Ok(T::from_f64(pairwise_sum(&per_row) / batch as f64))
}

/// `mean((pred - target)^2)` over all elements in `f64`; NaN for no elements.
pub fn mean_squared_error<T: Scalar>(
    pred: ArrayViewD<T>,
    target: ArrayViewD<T>,
) -> Result<T, String> {
    if pred.shape() != target.shape() {
        return Err(format!(
            "prediction {:?} and target {:?} differ in shape",
            pred.shape(),
            target.shape()
        ));
    }
    let (pred, target) = (pred.as_standard_layout(), target.as_standard_layout());
    let (Some(p), Some(t)) = (pred.as_slice(), target.as_slice()) else {
        return Err("inputs are not contiguous".into());
    };
    let sum = pairwise_sum_by(p.len(), &|i| {
        let d = p[i].to_f64() - t[i].to_f64();
        d * d
    });
    // 0 / 0 is NaN: the mean of nothing.
    Ok(T::from_f64(sum / p.len() as f64))
}
