//! What `tdsl run` does after each step besides printing: `--log` records
//! (one per printed step), `--plot` points (every step) and the progress
//! bar's message (epoch, steps per second, the latest scalar fetches).

use super::log::{record, JsonLog};
use super::plot::PlotData;
use crate::diag::Diag;
use crate::runtime::{format_float, StepDone};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The `--log` and `--plot` of a `tdsl run`, across its `run` statements.
#[derive(Default)]
pub struct Watch {
    log: Option<JsonLog>,
    plot: Option<(PathBuf, PlotData)>,
    /// When the first step started.
    start: Option<Instant>,
    /// The current `run` statement, from 1.
    run: usize,
}

impl Watch {
    /// Opens the `--log` file and checks the `--plot` path, before any step.
    pub fn new(log: Option<&Path>, plot: Option<&Path>) -> Result<Watch, Diag> {
        let log = log.map(JsonLog::open).transpose().map_err(Diag::plain)?;
        if let Some(path) = plot {
            super::plot::check_path(path).map_err(Diag::plain)?;
        }
        Ok(Watch {
            log,
            plot: plot.map(|p| (p.to_path_buf(), PlotData::default())),
            start: None,
            run: 0,
        })
    }

    /// Starts the next `run` statement.
    pub fn begin_run(&mut self) {
        self.run += 1;
        self.start.get_or_insert_with(Instant::now);
    }

    /// After each step: a log record if it was printed, the plot's points.
    pub fn step(&mut self, done: &StepDone<'_>) -> Result<(), Diag> {
        if let Some((_, plot)) = &mut self.plot {
            plot.add(done);
        }
        if let (Some(log), true) = (&mut self.log, done.printed) {
            let seconds = self.start.map_or(0.0, |s| s.elapsed().as_secs_f64());
            log.append(&record(self.run, done, seconds))
                .map_err(Diag::plain)?;
        }
        Ok(())
    }

    /// Writes the `--plot` file (after the last run, or after a failed one).
    pub fn finish(&self) -> Result<(), Diag> {
        match &self.plot {
            Some((path, plot)) => plot.write(path).map_err(Diag::plain),
            None => Ok(()),
        }
    }
}

/// The progress bar's message, renewed at most every [`Ticker::EVERY`].
pub struct Ticker {
    /// `(E, steps an epoch)` of an `epochs` run.
    epochs: Option<(u64, u64)>,
    /// When the message was last renewed, and the step then.
    last: (Instant, u64),
}

impl Ticker {
    const EVERY: Duration = Duration::from_millis(200);
    /// The most scalar fetches the message shows.
    const SHOWN: usize = 4;

    pub fn new(epochs: Option<(u64, u64)>) -> Ticker {
        Ticker {
            epochs,
            last: (Instant::now(), 0),
        }
    }

    /// A new message after `done`, when the last one is old enough.
    pub fn message(&mut self, done: &StepDone<'_>) -> Option<String> {
        let (at, step) = self.last;
        let elapsed = at.elapsed();
        if elapsed < Self::EVERY {
            return None;
        }
        self.last = (Instant::now(), done.step);
        let rate = done.step.saturating_sub(step) as f64 / elapsed.as_secs_f64();
        Some(message(done, self.epochs, rate))
    }
}

/// `epoch 3/10  1234 steps/s  loss=0.693147 acc=0.91`.
pub fn message(done: &StepDone<'_>, epochs: Option<(u64, u64)>, rate: f64) -> String {
    let mut parts = Vec::new();
    if let Some((total, per)) = epochs {
        let epoch = done.step.div_ceil(per.max(1));
        parts.push(format!("epoch {epoch}/{total}"));
    }
    parts.push(match rate {
        r if r >= 100.0 => format!("{r:.0} steps/s"),
        r => format!("{r:.1} steps/s"),
    });
    let values: Vec<String> = done
        .scalars()
        .take(Ticker::SHOWN)
        .map(|(name, v, dtype)| match dtype {
            crate::ir::DType::Bool => format!("{name}={}", v != 0.0),
            _ => format!("{name}={}", format_float(v)),
        })
        .collect();
    if !values.is_empty() {
        parts.push(values.join(" "));
    }
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DType, Tensor};

    #[test]
    fn the_message_shows_epoch_rate_and_scalars() {
        let names = ["loss", "train", "ok"].map(String::from);
        let values = [
            Tensor::scalar(DType::F32, 0.5),
            Tensor::scalar(DType::Bool, 1.0),
            Tensor::scalar(DType::Bool, 1.0),
        ];
        let done = StepDone {
            step: 7,
            total: 7,
            epoch: Some(2),
            printed: false,
            names: &names,
            values: &values,
            is_group: &[false, true, false],
        };
        assert_eq!(
            message(&done, Some((10, 3)), 1234.4),
            "epoch 3/10  1234 steps/s  loss=0.5 ok=true"
        );
        assert_eq!(
            message(&done, None, 12.34),
            "12.3 steps/s  loss=0.5 ok=true"
        );
    }
}
