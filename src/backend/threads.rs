//! How many threads the backends may use (`tdsl run --threads N`).
//!
//! One process-wide setting: the CLI sets it once before the first step; the
//! JIT reads it when it compiles and runs. Work is split by output ranges
//! whose boundaries depend only on the shapes and this count, never on timing,
//! so a given thread count gives bitwise-identical results from run to run.

use std::sync::atomic::{AtomicUsize, Ordering};

/// 0 means "not set": use every core.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the thread count (`0` restores the default: all cores).
pub fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// The thread count in effect: the last [`set_threads`], or the number of
/// cores the process may use.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

#[cfg(test)]
mod tests {
    // Only reads: other tests run in parallel and would see a changed count.
    #[test]
    fn default_is_at_least_one() {
        assert!(super::threads() >= 1);
    }
}
