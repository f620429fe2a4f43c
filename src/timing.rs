//! Wall-clock time of the compiler's phases, for `tdsl run --timings`.
//!
//! Autodiff runs inside the builder (each `grad`/`minimize` differentiates when
//! it is built), on the builder's own thread, so its time is collected in one
//! process-wide total while [`crate::compile_with`] runs and subtracted from the
//! build time. Programs compiled at the same time on several threads share the
//! total; the command line compiles one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Autodiff nanoseconds since the last [`take_autodiff`].
static AUTODIFF_NANOS: AtomicU64 = AtomicU64::new(0);
/// Initial-value nanoseconds since the last [`take_values`].
static VALUES_NANOS: AtomicU64 = AtomicU64::new(0);

fn timed<T>(total: &AtomicU64, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    total.fetch_add(nanos, Ordering::Relaxed);
    value
}

/// Runs `f` (an autodiff pass) and adds its time to the total.
pub fn autodiff<T>(f: impl FnOnce() -> T) -> T {
    timed(&AUTODIFF_NANOS, f)
}

/// The autodiff time since the last call; resets the total.
pub fn take_autodiff() -> Duration {
    Duration::from_nanos(AUTODIFF_NANOS.swap(0, Ordering::Relaxed))
}

/// Runs `f` (drawing or loading an initial value: `randn`, `xavier`, `load`,
/// ...) and adds its time to the total. This is data, not compilation, so
/// `--timings` shows it apart from the build.
pub fn values<T>(f: impl FnOnce() -> T) -> T {
    timed(&VALUES_NANOS, f)
}

/// The initial-value time since the last call; resets the total.
pub fn take_values() -> Duration {
    Duration::from_nanos(VALUES_NANOS.swap(0, Ordering::Relaxed))
}

/// How long each phase of [`crate::compile_with`] took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildTimes {
    /// Parse, resolve, infer and build the IR (autodiff and initial values
    /// excluded).
    pub build: Duration,
    /// Drawing or loading the initial values of variables, placeholders and
    /// value constructors.
    pub values: Duration,
    /// The backward passes of every `grad` and `minimize`.
    pub autodiff: Duration,
    /// The optimiser (zero with `--no-opt`).
    pub optimise: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autodiff_time_is_counted() {
        // Other tests may add to the total at the same time: only a lower bound.
        let value = autodiff(|| {
            std::thread::sleep(Duration::from_millis(2));
            7
        });
        assert_eq!(value, 7);
        assert!(take_autodiff() >= Duration::from_millis(2));
    }
}
