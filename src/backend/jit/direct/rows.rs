//! Splitting a direct kernel among threads: by output rows, or by the halves
//! of a pairwise sum. Boundaries depend only on the shapes and the thread
//! count, and each element (or partial sum) is computed by the same
//! operations whatever the split, so results are bitwise the same for every
//! thread count.

use crate::backend::jit::parallel::{parts, split};
use rayon::prelude::*;

/// Calls `f(first_row, rows)` on consecutive runs of the rows of `out`
/// (`row_len` elements each), in parallel when `work` (elements touched) is
/// large.
pub(crate) fn for_rows<T: Send>(
    out: &mut [T],
    row_len: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    if row_len == 0 || out.is_empty() {
        return;
    }
    let rows = out.len() / row_len;
    let ranges = split(rows, parts(work), 1);
    if ranges.len() <= 1 {
        f(0, out);
        return;
    }
    let mut chunks: Vec<(usize, &mut [T])> = Vec::with_capacity(ranges.len());
    let mut rest = out;
    for &(lo, hi) in &ranges {
        let (head, tail) = rest.split_at_mut((hi - lo) * row_len);
        chunks.push((lo, head));
        rest = tail;
    }
    chunks.into_par_iter().for_each(|(lo, chunk)| f(lo, chunk));
}

/// Terms below which a pairwise sum is not split among threads.
const MIN_SPLIT: usize = 1 << 14;

/// `kernels::rows::pairwise_sum_by(len, term)`, bit for bit (the same
/// tree: halves down to blocks of 64 summed in order), its large halves
/// computed on two threads.
pub(crate) fn pairwise(len: usize, term: &(impl Fn(usize) -> f64 + Sync)) -> f64 {
    fn go(lo: usize, hi: usize, term: &(impl Fn(usize) -> f64 + Sync), split: bool) -> f64 {
        const BLOCK: usize = 64;
        if hi - lo <= BLOCK {
            (lo..hi).map(term).sum()
        } else {
            let mid = lo + (hi - lo) / 2;
            if split && hi - lo >= MIN_SPLIT {
                let (a, b) = rayon::join(|| go(lo, mid, term, true), || go(mid, hi, term, true));
                a + b
            } else {
                go(lo, mid, term, false) + go(mid, hi, term, false)
            }
        }
    }
    go(0, len, term, parts(len) > 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::threads::with_threads;
    use crate::kernels::rows::pairwise_sum_by;

    #[test]
    fn the_parallel_pairwise_sum_is_the_serial_one_bit_for_bit() {
        let term = |i: usize| ((i as f64) * 0.37).sin() * 1e3 + 1e-7 * i as f64;
        for len in [0, 1, 63, 64, 65, 1000, 70_001, 200_000] {
            let serial = pairwise_sum_by(len, &term);
            for threads in [1, 2, 3] {
                let par = with_threads(threads, || pairwise(len, &term));
                assert_eq!(
                    par.to_bits(),
                    serial.to_bits(),
                    "len {len}, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn rows_are_split_into_disjoint_runs_covering_the_output() {
        for threads in [1, 2, 5] {
            let mut out = vec![0usize; 7 * 100_000];
            with_threads(threads, || {
                for_rows(&mut out, 7, 1 << 20, |first, rows| {
                    for (r, row) in rows.chunks_mut(7).enumerate() {
                        row.fill(first + r + 1);
                    }
                })
            });
            let ok = out
                .chunks(7)
                .enumerate()
                .all(|(r, row)| row.iter().all(|&v| v == r + 1));
            assert!(ok, "{threads} threads");
        }
    }
}
