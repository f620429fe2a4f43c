//! Per-thread switches that tests turn off to compare a feature's kernels
//! with the plain ones; always on outside tests.

/// A feature with a switch.
#[derive(Clone, Copy)]
pub(crate) enum Feature {
    /// Fused groups merged into kernels with several outputs (`plan/multi.rs`).
    Merging,
    /// Adam's update on the wide Rust kernel (`adam.rs`).
    Wide,
}

#[cfg(test)]
thread_local! {
    static OFF: std::cell::Cell<[bool; 2]> = const { std::cell::Cell::new([false; 2]) };
}

/// Whether `feature` is on on this thread.
pub(crate) fn on(feature: Feature) -> bool {
    #[cfg(test)]
    {
        !OFF.with(std::cell::Cell::get)[feature as usize]
    }
    #[cfg(not(test))]
    {
        let _ = feature;
        true
    }
}

/// Runs `f` with `feature` off on this thread.
#[cfg(test)]
pub(crate) fn without<T>(feature: Feature, f: impl FnOnce() -> T) -> T {
    let set = |off: bool| {
        OFF.with(|c| {
            let mut flags = c.get();
            flags[feature as usize] = off;
            c.set(flags);
        })
    };
    set(true);
    let out = f();
    set(false);
    out
}
