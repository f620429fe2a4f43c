//! Row helpers of the reductions, softmaxes and losses: pairwise `f64` sums and
//! the stable softmax of one row. The interpreter and constant folding both call
//! these, so a folded constant is the run-time value bit for bit.

use crate::ir::scalar::Scalar;
use crate::ir::BinaryOp;

/// Pairwise sum in `f64` of `term(i)` for `i` in `0..len` (blocks of 64 summed
/// in order); no temporary buffer, so it scales to millions of terms.
pub fn pairwise_sum_by(len: usize, term: &impl Fn(usize) -> f64) -> f64 {
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

/// Terms below which [`pairwise_sum_split`] does not split a range.
const MIN_SPLIT: usize = 1 << 14;

/// [`pairwise_sum_by`], with the halves of ranges of at least 16K terms
/// computed on two threads (`rayon::join`) when `split`: the same tree (a
/// range's halves do not depend on where it starts), so the same bits.
pub fn pairwise_sum_split(len: usize, term: &(impl Fn(usize) -> f64 + Sync), split: bool) -> f64 {
    fn go(lo: usize, hi: usize, term: &(impl Fn(usize) -> f64 + Sync)) -> f64 {
        if hi - lo < MIN_SPLIT {
            return pairwise_sum_by(hi - lo, &|i| term(lo + i));
        }
        let mid = lo + (hi - lo) / 2;
        let (a, b) = rayon::join(|| go(lo, mid, term), || go(mid, hi, term));
        a + b
    }
    match split {
        true => go(0, len, term),
        false => pairwise_sum_by(len, term),
    }
}

/// Pairwise sum of `values` in `f64`.
pub fn pairwise_sum(values: &[f64]) -> f64 {
    pairwise_sum_by(values.len(), &|i| values[i])
}

/// The maximum of a row in `f64` (NaN if any element is NaN; `-inf` if empty).
pub fn row_max<T: Scalar>(row: &[T]) -> f64 {
    row.iter().fold(f64::NEG_INFINITY, |m, &v| {
        f64::binary(BinaryOp::Maximum, m, v.to_f64())
    })
}

/// `log_softmax` of one row, in place: `x - max - log(sum(exp(x - max)))`.
pub fn log_softmax_row(row: &mut [f64]) {
    let max = row_max(row);
    let exps: Vec<f64> = row.iter().map(|&v| (v - max).exp()).collect();
    let log_sum = pairwise_sum(&exps).ln();
    for v in row.iter_mut() {
        *v = (*v - max) - log_sum;
    }
}

/// `softmax` of one row, in place: `exp(x - max) / sum(exp(x - max))`.
pub fn softmax_row(row: &mut [f64]) {
    let max = row_max(row);
    for v in row.iter_mut() {
        *v = (*v - max).exp();
    }
    let sum = pairwise_sum(row);
    for v in row.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_is_close_to_exact_and_softmax_rows_normalise() {
        // 1e6 terms of 0.1: a naive f32 sum drifts; this stays at f64 accuracy.
        let s = pairwise_sum_by(1_000_000, &|_| 0.1);
        assert!((s - 100_000.0).abs() < 1e-6, "{s}");
        let mut row = [1.0, 2.0, 3.0];
        softmax_row(&mut row);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        let mut logs = [1.0, 2.0, 3.0];
        log_softmax_row(&mut logs);
        for (p, l) in row.iter().zip(logs) {
            assert!((p.ln() - l).abs() < 1e-15);
        }
        assert!(row_max(&[1.0, f64::NAN, 3.0]).is_nan());
        assert_eq!(row_max::<f64>(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn the_split_pairwise_sum_is_the_serial_one_bit_for_bit() {
        let term = |i: usize| ((i as f64) * 0.37).sin() * 1e3 + 1e-7 * i as f64;
        for len in [0, 1, 63, 64, 65, 1000, 70_001, 200_000] {
            let serial = pairwise_sum_by(len, &term);
            let split = pairwise_sum_split(len, &term, true);
            assert_eq!(split.to_bits(), serial.to_bits(), "len {len}");
        }
    }
}
