//! `tdsl run --timings`: one line on stderr with the time of each compiler phase
//! and the median, min and max step time (format in docs/cli.md).

use crate::timing::BuildTimes;
use std::time::Duration;

/// `timings: build 0.410 ms, values 5.200 ms, autodiff 0.120 ms, optimise
/// 0.300 ms, compile 3.100 ms; step median 0.520 ms min 0.490 ms max 0.800 ms
/// (100 steps)`
/// (one line).
pub fn timings_line(build: &BuildTimes, compile: Duration, steps: &[Duration]) -> String {
    let mut line = format!(
        "timings: build {} ms, values {} ms, autodiff {} ms, optimise {} ms, compile {} ms; ",
        ms(build.build),
        ms(build.values),
        ms(build.autodiff),
        ms(build.optimise),
        ms(compile)
    );
    match summary(steps) {
        Some((median, min, max)) => {
            let s = if steps.len() == 1 { "" } else { "s" };
            line.push_str(&format!(
                "step median {} ms min {} ms max {} ms ({} step{s})",
                ms(median),
                ms(min),
                ms(max),
                steps.len()
            ));
        }
        None => line.push_str("no steps"),
    }
    line
}

/// Milliseconds with three decimals (a step of a small model takes tens of
/// microseconds).
fn ms(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1e3)
}

/// Median (the mean of the two middle values for an even count), min and max.
fn summary(steps: &[Duration]) -> Option<(Duration, Duration, Duration)> {
    let mut sorted = steps.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let median = match n {
        0 => return None,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    };
    Some((median, sorted[0], sorted[n - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn line_has_every_phase_and_the_step_summary() {
        let build = BuildTimes {
            build: us(410),
            values: us(5200),
            autodiff: us(120),
            optimise: us(300),
        };
        let line = timings_line(&build, us(3100), &[us(800), us(490), us(520)]);
        assert_eq!(
            line,
            "timings: build 0.410 ms, values 5.200 ms, autodiff 0.120 ms, optimise 0.300 ms, \
             compile 3.100 ms; step median 0.520 ms min 0.490 ms max 0.800 ms (3 steps)"
        );
    }

    #[test]
    fn even_counts_average_the_middle_and_no_steps_is_said() {
        assert_eq!(
            summary(&[us(4), us(1), us(2), us(3)]),
            Some((Duration::from_nanos(2500), us(1), us(4)))
        );
        let line = timings_line(&BuildTimes::default(), Duration::ZERO, &[]);
        assert!(line.ends_with("compile 0.000 ms; no steps"), "{line}");
        let line = timings_line(&BuildTimes::default(), Duration::ZERO, &[us(1)]);
        assert!(line.ends_with("(1 step)"), "{line}");
    }
}
