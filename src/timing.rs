//! Wall-clock time of the compiler's phases (`tdsl run --timings`). Autodiff and
//! initial values run inside the builder, which returns their time ([`Inner`])
//! so that [`crate::compile_with`] takes it out of the build time.

use std::time::{Duration, Instant};

/// Runs `f` and adds its time to `total`.
pub fn timed<T>(total: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    *total += start.elapsed();
    value
}

/// The phases the builder runs inside itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inner {
    /// Drawing or loading initial values (`randn`, `xavier`, `load`, ...):
    /// data, not compilation, so `--timings` shows it apart from the build.
    pub values: Duration,
    /// The backward passes of every `grad` and `minimize`.
    pub autodiff: Duration,
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
    fn timed_adds_the_time_and_returns_the_value() {
        let mut total = Duration::from_millis(1);
        let value = timed(&mut total, || {
            std::thread::sleep(Duration::from_millis(2));
            7
        });
        assert_eq!(value, 7);
        assert!(total >= Duration::from_millis(3), "{total:?}");
    }
}
