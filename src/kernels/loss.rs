//! The losses with integer or binary targets: `sparse_softmax_cross_entropy`
//! (and its gradient's core, `softmax - one_hot`) and `sigmoid_cross_entropy`,
//! each row in `f64` with the pairwise sum, rounded once (`docs/kernels.md`).
//! The softmax rows' `exp` is `kernels::exp_rows` (vector lanes, within an
//! ulp of libm), not a libm call per element.
//! They read row-major slices and write into the caller's buffer; the
//! gradient writes any run of rows, so a caller may split rows among threads,
//! and the means may sum their halves on two threads (`split`): the same
//! pairwise tree, so the same bits.

use super::exp_rows::exp_in_place;
use super::fault::Fault;
use super::isa::active;
use super::rows::{pairwise_sum, pairwise_sum_split, row_max};
use crate::ir::infer::broadcast_dims;
pub use crate::ir::infer::check_labels;
use crate::ir::scalar::Scalar;
use ndarray::{ArrayViewD, IxDyn};

/// Checks that the logits are `labels.len()` rows of `classes` values and
/// that every label is a class (else the user's error naming the row).
fn check_rows<T>(logits: &[T], labels: &[i32], classes: usize) -> Result<(), Fault> {
    if classes == 0 || Some(logits.len()) != labels.len().checked_mul(classes) {
        return Err(Fault::Misfit(format!(
            "{} logits do not make {} rows of {classes} classes",
            logits.len(),
            labels.len()
        )));
    }
    check_labels(labels, classes).map_err(Fault::Data)
}

/// `exp`s computed at a time, on the stack: a block of rows in one call of
/// `exp_rows` over independent values (a call per row waits on the
/// polynomial's latency; a 10-class row fills two vectors).
const BLOCK: usize = 512;
/// Batches up to this many rows sum their losses from a stack buffer.
const STACK_ROWS: usize = 256;

/// Calls `f(n, max, exps)` for rows `rows` of the row-major `[_, classes]`
/// logits in order: row `n`'s maximum and its `exp(x - max)` (the
/// subtraction in `f64`).
fn each_row_exps<T: Scalar>(
    logits: &[T],
    classes: usize,
    rows: std::ops::Range<usize>,
    mut f: impl FnMut(usize, f64, &[f64]),
) {
    let per = (BLOCK / classes.max(1)).max(1);
    let (mut stack, mut maxes, mut heap) = ([0.0f64; BLOCK], [0.0f64; BLOCK], Vec::new());
    let buf: &mut [f64] = if classes <= BLOCK {
        &mut stack
    } else {
        heap.resize(classes, 0.0);
        &mut heap
    };
    let mut n = rows.start;
    while n < rows.end {
        let k = per.min(rows.end - n);
        for (j, shifted) in buf[..k * classes].chunks_exact_mut(classes).enumerate() {
            let row = &logits[(n + j) * classes..(n + j + 1) * classes];
            let max = row_max(row);
            maxes[j] = max;
            for (o, &v) in shifted.iter_mut().zip(row) {
                *o = v.to_f64() - max;
            }
        }
        exp_in_place(active(), &mut buf[..k * classes]);
        for (j, exps) in buf[..k * classes].chunks_exact(classes).enumerate() {
            f(n + j, maxes[j], exps);
        }
        n += k;
    }
}

/// `-log_softmax(row)[label]` from the row's maximum and `exp(x - max)`:
/// `logsumexp(row - max) - (row[label] - max)`.
fn row_loss(at_label: f64, max: f64, exps: &[f64]) -> f64 {
    -((at_label - max) - pairwise_sum(exps).ln())
}

/// `mean_n(logsumexp(logits[n]) - logits[n, labels[n]])` over row-major
/// `[N, C]` logits; NaN for `N = 0`.
pub fn sparse_softmax_cross_entropy<T: Scalar + Sync>(
    logits: &[T],
    labels: &[i32],
    classes: usize,
    split: bool,
) -> Result<f64, Fault> {
    check_rows(logits, labels, classes)?;
    // In range: checked above.
    let at_label = |n: usize| logits[n * classes + labels[n] as usize].to_f64();
    let rows = labels.len();
    // Every row's loss first (blocks of `exp`s; on the stack for a small
    // batch), then their pairwise sum.
    let (mut stack, mut heap) = ([0.0f64; STACK_ROWS], Vec::new());
    let terms: &mut [f64] = if rows <= STACK_ROWS {
        &mut stack[..rows]
    } else {
        heap.resize(rows, 0.0);
        &mut heap
    };
    each_row_exps(logits, classes, 0..rows, |n, max, exps| {
        terms[n] = row_loss(at_label(n), max, exps);
    });
    let terms: &[f64] = terms;
    // 0 / 0 is NaN: the mean over no rows.
    Ok(pairwise_sum_split(rows, &|n| terms[n], split) / rows as f64)
}

/// Rows `first..` (as many as `out` holds) of `softmax(logits[n]) -
/// one_hot(labels[n])`, row-major `[N, C]`.
pub fn sparse_softmax_grad<T: Scalar>(
    logits: &[T],
    labels: &[i32],
    classes: usize,
    first: usize,
    out: &mut [T],
) -> Result<(), Fault> {
    check_rows(logits, labels, classes)?;
    if !out.len().is_multiple_of(classes) || first * classes + out.len() > logits.len() {
        return Err(Fault::Misfit(format!(
            "{} gradient elements from row {first} of {} rows",
            out.len(),
            labels.len()
        )));
    }
    let rows = first..first + out.len() / classes;
    each_row_exps(logits, classes, rows, |n, _, exps| {
        let dst = &mut out[(n - first) * classes..(n - first + 1) * classes];
        let sum = pairwise_sum(exps);
        for (c, d) in dst.iter_mut().enumerate() {
            let mut v = exps[c] / sum;
            if c == labels[n] as usize {
                v -= 1.0;
            }
            *d = T::from_f64(v);
        }
    });
    Ok(())
}

/// One element of the sigmoid loss: `max(x, 0) - x z + log1p(exp(-|x|))`.
pub fn sigmoid_cross_entropy_term(x: f64, z: f64) -> f64 {
    x.max(0.0) - x * z + (-x.abs()).exp().ln_1p()
}

/// The mean of [`sigmoid_cross_entropy_term`] over the broadcast of the
/// row-major logits `x` (of `x_dims`) and targets `z` (of `z_dims`), in
/// row-major order; NaN when there are no elements.
pub fn sigmoid_cross_entropy<T: Scalar + Sync>(
    (x, x_dims): (&[T], &[usize]),
    (z, z_dims): (&[T], &[usize]),
    split: bool,
) -> Result<f64, String> {
    let misfit = || format!("logits {x_dims:?} and targets {z_dims:?} do not broadcast");
    let dims = broadcast_dims(x_dims, z_dims).ok_or_else(misfit)?;
    let numel = |d: &[usize]| d.iter().product::<usize>();
    if x.len() != numel(x_dims) || z.len() != numel(z_dims) {
        return Err(misfit());
    }
    let count = numel(&dims);
    let sum = if x_dims == z_dims {
        let term = |i: usize| sigmoid_cross_entropy_term(x[i].to_f64(), z[i].to_f64());
        pairwise_sum_split(count, &term, split)
    } else {
        // Offsets along the broadcast: ndarray's strides (0 on broadcast axes).
        let strides = |values: &[T], shape: &[usize]| {
            let view = ArrayViewD::from_shape(IxDyn(shape), values).ok()?;
            let view = view.broadcast(IxDyn(&dims))?;
            Some(
                view.strides()
                    .iter()
                    .map(|&s| s as usize)
                    .collect::<Vec<_>>(),
            )
        };
        let (Some(sx), Some(sz)) = (strides(x, x_dims), strides(z, z_dims)) else {
            return Err(misfit());
        };
        let term = |i: usize| {
            let (mut rest, mut p, mut q) = (i, 0, 0);
            for k in (0..dims.len()).rev() {
                let c = rest % dims[k];
                rest /= dims[k];
                p += c * sx[k];
                q += c * sz[k];
            }
            sigmoid_cross_entropy_term(x[p].to_f64(), z[q].to_f64())
        };
        pairwise_sum_split(count, &term, split)
    };
    Ok(sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grad(logits: &[f64], labels: &[i32], classes: usize) -> Result<Vec<f64>, Fault> {
        let mut out = vec![0.0; logits.len()];
        sparse_softmax_grad(logits, labels, classes, 0, &mut out)?;
        Ok(out)
    }

    #[test]
    fn sparse_loss_is_stable_and_matches_the_dense_formula() {
        // Row 0: logits 1, 2, 3 and label 2; row 1: huge logits, label 0.
        let logits = [1.0f64, 2.0, 3.0, 1000.0, 0.0, -1000.0];
        let loss = sparse_softmax_cross_entropy(&logits, &[2, 0], 3, false).unwrap();
        let row0 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln() - 3.0;
        let row1 = 0.0; // log(1 + e^-1000 + e^-2000) - 0, to f64 precision
        assert!((loss - (row0 + row1) / 2.0).abs() < 1e-14, "{loss}");
        let grad = grad(&logits, &[2, 0], 3).unwrap();
        let s2 = 3f64.exp() / (1f64.exp() + 2f64.exp() + 3f64.exp());
        assert!((grad[2] - (s2 - 1.0)).abs() < 1e-15);
        assert!(grad[3].abs() < 1e-15 && grad[5] == 0.0);
        let row_sums: Vec<f64> = grad.chunks(3).map(|r| r.iter().sum()).collect();
        assert!(row_sums.iter().all(|s| s.abs() < 1e-15), "{row_sums:?}");
        assert!(sparse_softmax_cross_entropy::<f64>(&[], &[], 3, false)
            .unwrap()
            .is_nan());
    }

    #[test]
    fn blocks_of_rows_give_each_rows_own_bits() {
        // Several blocks of rows, the heap paths (more than 256 rows; rows
        // longer than a block) and one row at a time must agree bitwise.
        for (rows, classes) in [(300, 7), (3, 600), (60, 10), (1, 1)] {
            let logits: Vec<f32> = (0..rows * classes)
                .map(|v| ((v * 37 % 101) as f32 * 0.37).sin() * 8.0)
                .collect();
            let labels: Vec<i32> = (0..rows).map(|n| (n * 5 % classes) as i32).collect();
            let (mut terms, mut want) = (Vec::new(), Vec::new());
            for (n, row) in logits.chunks(classes).enumerate() {
                let (max, label) = (row_max(row), labels[n] as usize);
                let mut exps: Vec<f64> = row.iter().map(|&v| f64::from(v) - max).collect();
                exp_in_place(active(), &mut exps);
                let sum = pairwise_sum(&exps);
                terms.push(-((f64::from(row[label]) - max) - sum.ln()));
                want.extend(
                    exps.iter()
                        .enumerate()
                        .map(|(c, e)| (e / sum - if c == label { 1.0 } else { 0.0 }) as f32),
                );
            }
            let loss = sparse_softmax_cross_entropy(&logits, &labels, classes, false).unwrap();
            let expected = pairwise_sum(&terms) / rows as f64;
            assert_eq!(loss.to_bits(), expected.to_bits(), "{rows}x{classes}");
            let mut got = vec![0.0f32; rows * classes];
            sparse_softmax_grad(&logits, &labels, classes, 0, &mut got).unwrap();
            assert_eq!(got, want, "{rows}x{classes}");
        }
    }

    #[test]
    fn gradient_rows_from_any_start_are_the_whole_gradient() {
        let logits: Vec<f32> = (0..12).map(|v| (v as f32 * 0.7).sin()).collect();
        let labels = [3, 0, 1];
        let mut whole = vec![0.0f32; 12];
        sparse_softmax_grad(&logits, &labels, 4, 0, &mut whole).unwrap();
        let mut last = vec![0.0f32; 4];
        sparse_softmax_grad(&logits, &labels, 4, 2, &mut last).unwrap();
        assert_eq!(last, whole[8..]);
        assert!(sparse_softmax_grad(&logits, &labels, 4, 3, &mut last).is_err());
    }

    #[test]
    fn labels_out_of_range_name_the_row() {
        let e = check_labels(&[0, 2, 3, -1], 3).unwrap_err();
        assert!(e.contains("label 3 of row 2"), "{e}");
        let e = check_labels(&[-1], 3).unwrap_err();
        assert!(e.contains("label -1 of row 0"), "{e}");
        let loss = sparse_softmax_cross_entropy(&[0.0f32; 3], &[3], 3, false);
        assert!(matches!(loss, Err(Fault::Data(m)) if m.contains("row 0")));
        assert!(matches!(
            sparse_softmax_grad(&[0.0f32; 4], &[0], 3, 0, &mut [0.0; 4]),
            Err(Fault::Misfit(_))
        ));
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
        let x = [0.5f64, -1.0, 2.0, 0.0];
        let loss = sigmoid_cross_entropy((&x, &[2, 2]), (&[1.0, 0.0], &[2]), false).unwrap();
        let want = [(0.5, 1.0), (-1.0, 0.0), (2.0, 1.0), (0.0, 0.0)]
            .iter()
            .map(|&(x, z)| sigmoid_cross_entropy_term(x, z))
            .sum::<f64>()
            / 4.0;
        assert!((loss - want).abs() < 1e-15);
        // Targets along the first axis: [[1], [0]] against [2, 2].
        let rows = sigmoid_cross_entropy((&x, &[2, 2]), (&[1.0, 0.0], &[2, 1]), true).unwrap();
        let want = [(0.5, 1.0), (-1.0, 1.0), (2.0, 0.0), (0.0, 0.0)]
            .iter()
            .map(|&(x, z)| sigmoid_cross_entropy_term(x, z))
            .sum::<f64>()
            / 4.0;
        assert!((rows - want).abs() < 1e-15);
        assert!(sigmoid_cross_entropy((&x, &[2, 2]), (&[0.0; 3], &[3]), false).is_err());
        assert!(sigmoid_cross_entropy((&x, &[2, 2]), (&[0.0; 3], &[2]), false).is_err());
    }
}
