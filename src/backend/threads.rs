//! How many threads the backends may use (`tdsl run --threads N`).
//!
//! One process-wide setting: the CLI sets it once before the first step; the
//! JIT reads it when it compiles and runs. Work is split by output ranges
//! whose boundaries depend only on the shapes and this count, never on timing,
//! so a given thread count gives bitwise-identical results from run to run.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// 0 means "not set": use every core.
static THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's own count while [`with_threads`] runs (0: none): two
    /// kernels run at once on one thread each (`jit/siblings.rs`).
    static LOCAL: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` with [`threads`] answering `n` (≥ 1) on this thread only.
pub fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    // Restored on unwind too, so a panic cannot leave the override behind.
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            LOCAL.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(LOCAL.with(|c| c.replace(n.max(1))));
    f()
}

/// Sets the thread count (`0` restores the default: all cores).
pub fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// The thread count in effect: the last [`set_threads`], or the number of
/// cores the process may use.
pub fn threads() -> usize {
    let local = LOCAL.with(Cell::get);
    if local > 0 {
        return local;
    }
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

    #[test]
    fn a_local_count_holds_on_its_thread_only() {
        let inner = super::with_threads(1, || {
            let here = super::threads();
            let other = std::thread::spawn(super::threads).join().unwrap_or(0);
            (here, other)
        });
        assert_eq!(inner.0, 1);
        assert!(inner.1 >= 1);
        let before = super::threads();
        assert_eq!(super::with_threads(7, super::threads), 7);
        assert_eq!(super::threads(), before);
    }
}
