//! How many threads the JIT may use (`tdsl run --threads N`): no process-wide
//! setting, a JIT executable runs each step inside [`with_threads`] with
//! `jit::Options::threads`, and kernels read [`threads`]. Work is split by
//! ranges that depend only on the shapes and the count, so results are bitwise
//! the same from run to run.

use std::cell::Cell;

thread_local! {
    /// This thread's count while [`with_threads`] runs (0: none): a step's
    /// own count, or one of two kernels run at once (`jit/siblings.rs`).
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

/// The thread count in effect on this thread: the innermost [`with_threads`],
/// or the number of cores the process may use.
pub fn threads() -> usize {
    match LOCAL.with(Cell::get) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

#[cfg(test)]
mod tests {
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
