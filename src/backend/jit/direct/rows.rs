//! Splitting a direct kernel among threads by output rows. Boundaries depend
//! only on the shapes and the thread count, and each element is computed by
//! the same operations whatever the split, so results are bitwise the same
//! for every thread count.

use crate::backend::jit::parallel::{parts, split};
use rayon::prelude::*;

/// Calls `f(first_row, rows)` on consecutive runs of the rows of `out`
/// (`row_len` elements each), in parallel when `work` (elements touched) is
/// large; the first error in row order, if any. An empty output is one call.
pub(crate) fn for_rows<T: Send, E: Send>(
    out: &mut [T],
    row_len: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) -> Result<(), E> + Sync,
) -> Result<(), E> {
    if row_len == 0 || out.is_empty() {
        return f(0, out);
    }
    let rows = out.len() / row_len;
    let ranges = split(rows, parts(work), 1);
    if ranges.len() <= 1 {
        return f(0, out);
    }
    let mut chunks: Vec<(usize, &mut [T])> = Vec::with_capacity(ranges.len());
    let mut rest = out;
    for &(lo, hi) in &ranges {
        let (head, tail) = rest.split_at_mut((hi - lo) * row_len);
        chunks.push((lo, head));
        rest = tail;
    }
    let done: Vec<Result<(), E>> = chunks
        .into_par_iter()
        .map(|(lo, chunk)| f(lo, chunk))
        .collect();
    done.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::threads::with_threads;

    #[test]
    fn rows_are_split_into_disjoint_runs_covering_the_output() {
        for threads in [1, 2, 5] {
            let mut out = vec![0usize; 7 * 100_000];
            let done = with_threads(threads, || {
                for_rows(&mut out, 7, 1 << 20, |first, rows| {
                    for (r, row) in rows.chunks_mut(7).enumerate() {
                        row.fill(first + r + 1);
                    }
                    Ok::<(), ()>(())
                })
            });
            assert_eq!(done, Ok(()));
            let ok = out
                .chunks(7)
                .enumerate()
                .all(|(r, row)| row.iter().all(|&v| v == r + 1));
            assert!(ok, "{threads} threads");
        }
    }

    #[test]
    fn the_first_error_in_row_order_is_returned() {
        let mut out = vec![0u8; 4 * 100_000];
        let failed = with_threads(3, || {
            for_rows(&mut out, 4, 1 << 20, |first, _| match first {
                0 => Ok(()),
                _ => Err(first),
            })
        });
        // The second of three parts starts at row 100_000 / 3.
        assert_eq!(failed, Err(33_333));
    }
}
