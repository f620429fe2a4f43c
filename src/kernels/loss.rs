//! The losses with integer or binary targets: `sparse_softmax_cross_entropy`
//! (and its gradient's core, `softmax - one_hot`) and `sigmoid_cross_entropy`,
//! each row in `f64` with the pairwise sum, rounded once (`docs/kernels.md`).

use super::rows::{log_softmax_row, pairwise_sum, softmax_row};
use crate::ir::infer::broadcast_shapes;
pub use crate::ir::infer::check_labels;
use crate::ir::scalar::Scalar;
use crate::ir::Shape;
use ndarray::{ArrayViewD, IxDyn, Zip};

/// The logits as rows of `classes` values and the labels, checked for length.
fn rows<'a, T>(
    logits: &'a [T],
    labels: &[i32],
    classes: usize,
) -> Result<std::slice::Chunks<'a, T>, String> {
    if classes == 0 || logits.len() != labels.len() * classes {
        return Err(format!(
            "{} logits do not make {} rows of {classes} classes",
            logits.len(),
            labels.len()
        ));
    }
    check_labels(labels, classes)?;
    Ok(logits.chunks(classes))
}

/// `mean_n(logsumexp(logits[n]) - logits[n, labels[n]])` over row-major
/// `[N, C]` logits; NaN for `N = 0`. Call [`check_labels`] first: a label out
/// of range is an `Err` here too.
pub fn sparse_softmax_cross_entropy<T: Scalar>(
    logits: &[T],
    labels: &[i32],
    classes: usize,
) -> Result<T, String> {
    let per_row: Vec<f64> = rows(logits, labels, classes)?
        .zip(labels)
        .map(|(row, &label)| {
            let mut row: Vec<f64> = row.iter().map(|v| v.to_f64()).collect();
            log_softmax_row(&mut row);
            // In range: checked by `rows`.
            -row[label as usize]
        })
        .collect();
    // 0 / 0 is NaN: the mean over no rows.
    Ok(T::from_f64(pairwise_sum(&per_row) / labels.len() as f64))
}

/// `softmax(logits[n]) - one_hot(labels[n])` for each row, row-major `[N, C]`.
pub fn sparse_softmax_grad<T: Scalar>(
    logits: &[T],
    labels: &[i32],
    classes: usize,
) -> Result<Vec<T>, String> {
    let mut out = Vec::with_capacity(logits.len());
    for (row, &label) in rows(logits, labels, classes)?.zip(labels) {
        let mut row: Vec<f64> = row.iter().map(|v| v.to_f64()).collect();
        softmax_row(&mut row);
        row[label as usize] -= 1.0;
        out.extend(row.into_iter().map(T::from_f64));
    }
    Ok(out)
}

/// One element of the sigmoid loss: `max(x, 0) - x z + log1p(exp(-|x|))`.
pub fn sigmoid_cross_entropy_term(x: f64, z: f64) -> f64 {
    x.max(0.0) - x * z + (-x.abs()).exp().ln_1p()
}

/// The mean of [`sigmoid_cross_entropy_term`] over the broadcast of `logits`
/// and `targets` (row-major); NaN when there are no elements.
pub fn sigmoid_cross_entropy<T: Scalar>(
    logits: ArrayViewD<T>,
    targets: ArrayViewD<T>,
) -> Result<T, String> {
    let (a, b) = (
        Shape(logits.shape().to_vec()),
        Shape(targets.shape().to_vec()),
    );
    let shape = broadcast_shapes(&a, &b)
        .ok_or_else(|| format!("logits {a} and targets {b} do not broadcast"))?;
    let dims = IxDyn(shape.dims());
    let (Some(x), Some(z)) = (logits.broadcast(dims.clone()), targets.broadcast(dims)) else {
        return Err(format!("logits {a} and targets {b} do not broadcast"));
    };
    let mut terms = Vec::with_capacity(shape.numel());
    Zip::from(&x).and(&z).for_each(|x, z| {
        terms.push(sigmoid_cross_entropy_term(x.to_f64(), z.to_f64()));
    });
    Ok(T::from_f64(pairwise_sum(&terms) / terms.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ArrayD;

    #[test]
    fn sparse_loss_is_stable_and_matches_the_dense_formula() {
        // Row 0: logits 1, 2, 3 and label 2; row 1: huge logits, label 0.
        let logits = [1.0f64, 2.0, 3.0, 1000.0, 0.0, -1000.0];
        let loss = sparse_softmax_cross_entropy(&logits, &[2, 0], 3).unwrap();
        let row0 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln() - 3.0;
        let row1 = 0.0; // log(1 + e^-1000 + e^-2000) - 0, to f64 precision
        assert!((loss - (row0 + row1) / 2.0).abs() < 1e-14, "{loss}");
        let grad = sparse_softmax_grad(&logits, &[2, 0], 3).unwrap();
        let s2 = 3f64.exp() / (1f64.exp() + 2f64.exp() + 3f64.exp());
        assert!((grad[2] - (s2 - 1.0)).abs() < 1e-15);
        assert!(grad[3].abs() < 1e-15 && grad[5] == 0.0);
        let row_sums: Vec<f64> = grad.chunks(3).map(|r| r.iter().sum()).collect();
        assert!(row_sums.iter().all(|s| s.abs() < 1e-15), "{row_sums:?}");
        assert!(sparse_softmax_cross_entropy::<f64>(&[], &[], 3)
            .unwrap()
            .is_nan());
    }

    #[test]
    fn labels_out_of_range_name_the_row() {
        let e = check_labels(&[0, 2, 3, -1], 3).unwrap_err();
        assert!(e.contains("label 3 of row 2"), "{e}");
        let e = check_labels(&[-1], 3).unwrap_err();
        assert!(e.contains("label -1 of row 0"), "{e}");
        assert!(sparse_softmax_cross_entropy(&[0.0f32; 3], &[3], 3).is_err());
        assert!(sparse_softmax_grad(&[0.0f32; 4], &[0], 3).is_err());
    }

    #[test]
    fn sigmoid_loss_is_stable_and_broadcasts() {
        // log(1 + e^-|x|) + max(x, 0) - x z equals -z log s - (1 - z) log(1 - s).
        for (x, z) in [(0.3f64, 1.0f64), (-2.0, 0.0), (1.5, 0.25)] {
            let s = 1.0 / (1.0 + (-x).exp());
            let naive = -z * s.ln() - (1.0 - z) * (1.0 - s).ln();
            assert!((sigmoid_cross_entropy_term(x, z) - naive).abs() < 1e-14);
        }
        // Large logits: the naive form overflows, this one is exact.
        assert_eq!(sigmoid_cross_entropy_term(1000.0, 1.0), 0.0);
        assert_eq!(sigmoid_cross_entropy_term(-1000.0, 1.0), 1000.0);
        let x = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0.5f64, -1.0, 2.0, 0.0]).unwrap();
        let z = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0f64, 0.0]).unwrap();
        let loss = sigmoid_cross_entropy(x.view(), z.view()).unwrap();
        let want = [(0.5, 1.0), (-1.0, 0.0), (2.0, 1.0), (0.0, 0.0)]
            .iter()
            .map(|&(x, z)| sigmoid_cross_entropy_term(x, z))
            .sum::<f64>()
            / 4.0;
        assert!((loss - want).abs() < 1e-15);
        let bad = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0.0f64; 3]).unwrap();
        assert!(sigmoid_cross_entropy(x.view(), bad.view()).is_err());
    }
}
