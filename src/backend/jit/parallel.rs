//! Splitting kernel calls among threads ([`crate::backend::threads`]).
//!
//! Work is cut into ranges whose boundaries depend only on the shapes and the
//! thread count, never on timing; each range is one kernel call. Elementwise
//! ranges write disjoint outputs, and a reduction's ranges write disjoint
//! partials that are combined afterwards in a fixed order, so results are
//! bitwise reproducible from run to run (for reductions, even across thread
//! counts). Small work runs on the calling thread: a rayon task costs 1–6 µs.

use super::codegen::{Kernel, STATUS_OK};
use crate::diag::Diag;
use rayon::prelude::*;

/// Elements below which a kernel runs as one call.
pub(crate) const MIN_PARALLEL: usize = 1 << 16;

/// How many ranges to cut `work` elements into: 1 when small.
pub(crate) fn parts(work: usize) -> usize {
    if work < MIN_PARALLEL {
        1
    } else {
        crate::backend::threads::threads().max(1)
    }
}

/// `[0, n)` cut into at most `parts` non-empty ranges of nearly equal size,
/// with every inner boundary a multiple of `align` (≥ 1).
pub(crate) fn split(n: usize, parts: usize, align: usize) -> Vec<(usize, usize)> {
    let align = align.max(1);
    let parts = parts.clamp(1, n.max(1));
    let mut out = Vec::with_capacity(parts);
    let mut lo = 0;
    for p in 1..=parts {
        let hi = if p == parts {
            n
        } else {
            (n * p / parts) / align * align
        };
        if hi > lo {
            out.push((lo, hi));
            lo = hi;
        }
    }
    out
}

/// Calls `kernel` once per argument list (in parallel when more than one) and
/// returns the first non-OK status, or OK.
///
/// Each list must satisfy [`Kernel::call`]'s contract; lists may share input
/// buffers but must write disjoint parts of their outputs.
pub(crate) fn call_all(
    kernel: &Kernel,
    calls: &[Vec<*mut u8>],
    expected: usize,
) -> Result<i32, Diag> {
    if calls.len() <= 1 {
        return match calls.first() {
            Some(args) => kernel.call(args, expected),
            None => Ok(STATUS_OK),
        };
    }
    // Raw pointers are not `Send`: pass them as addresses.
    let lists: Vec<Vec<usize>> = calls
        .iter()
        .map(|args| args.iter().map(|&p| p as usize).collect())
        .collect();
    let statuses: Vec<Result<i32, Diag>> = lists
        .par_iter()
        .map(|list| {
            let args: Vec<*mut u8> = list.iter().map(|&a| a as *mut u8).collect();
            kernel.call(&args, expected)
        })
        .collect();
    let mut status = STATUS_OK;
    for s in statuses {
        let s = s?;
        if status == STATUS_OK {
            status = s;
        }
    }
    Ok(status)
}
