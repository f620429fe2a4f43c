//! Running a `run` statement: its steps, and after which of them its fetches are
//! printed (`docs/cli.md`, "When a run prints"); a `group` fetch is never printed.

use super::session::Session;
use super::step_done::StepDone;
use crate::diag::Diag;
use crate::ir::Tensor;

/// How many steps a `run` does and how often it prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Number of steps (at least 1).
    pub steps: u64,
    /// Print every `every` steps.
    pub every: Option<u64>,
}

impl Schedule {
    /// One step, printed without a prefix.
    pub fn once() -> Schedule {
        Schedule {
            steps: 1,
            every: None,
        }
    }

    /// Whether lines carry a `[step s] ` prefix (anything but a plain single step).
    pub fn prefixed(&self) -> bool {
        self.steps != 1 || self.every.is_some()
    }

    /// Whether the fetches are printed after step `step` (1-based).
    pub fn prints_after(&self, step: u64) -> bool {
        step == self.steps || self.every.is_some_and(|k| k > 0 && step.is_multiple_of(k))
    }
}

/// Runs `fetches` for `schedule.steps` steps on `session`, giving each printed
/// line to `print` and each finished step to `on_step` (after its lines).
/// Returns the values of the last step.
pub fn run_schedule(
    session: &mut Session,
    fetches: &[&str],
    schedule: Schedule,
    print: &mut dyn FnMut(&str) -> Result<(), Diag>,
    on_step: &mut dyn FnMut(&StepDone<'_>) -> Result<(), Diag>,
) -> Result<Vec<Tensor>, Diag> {
    let steps = schedule.steps.max(1);
    let label = |step: u64, epoch| {
        let prefix = match schedule.prefixed() {
            true => format!("[step {step}] "),
            false => String::new(),
        };
        (epoch, schedule.prints_after(step).then_some(prefix))
    };
    run_steps(session, fetches, steps, label, print, on_step)
}

/// Runs `fetches` for `steps` steps. `label(step, epoch)`, given the finished
/// epochs of the dataset the fetches read, gives the step's epoch and the
/// prefix of its printed lines (`None`: not printed).
pub(super) fn run_steps(
    session: &mut Session,
    fetches: &[&str],
    steps: u64,
    label: impl Fn(u64, Option<u64>) -> (Option<u64>, Option<String>),
    print: &mut dyn FnMut(&str) -> Result<(), Diag>,
    on_step: &mut dyn FnMut(&StepDone<'_>) -> Result<(), Diag>,
) -> Result<Vec<Tensor>, Diag> {
    let plan = session.plan(fetches)?;
    let read = session.data().read_by(&plan.placeholders);
    let dataset = read.first().map(|d| d.name.clone());
    let mut last = Vec::new();
    for step in 1..=steps {
        // The previous step's values are printed: their buffers serve this step.
        session.recycle(fetches, std::mem::take(&mut last));
        last = session.run(fetches)?;
        let position = dataset.as_deref().and_then(|d| session.data().position(d));
        let (epoch, prefix) = label(step, position.map(|p| p.epoch));
        if let Some(prefix) = &prefix {
            super::print::print_fetches(&plan, &last, prefix, print)?;
        }
        on_step(&StepDone {
            step,
            total: u64::try_from(session.step()).unwrap_or(0),
            epoch,
            printed: prefix.is_some(),
            names: &plan.fetch_names,
            values: &last,
            is_group: &plan.fetch_is_group,
        })?;
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed_steps(schedule: Schedule) -> Vec<u64> {
        (1..=schedule.steps)
            .filter(|&s| schedule.prints_after(s))
            .collect()
    }

    #[test]
    fn plain_run_prints_once_without_prefix() {
        assert_eq!(printed_steps(Schedule::once()), vec![1]);
        assert!(!Schedule::once().prefixed());
    }

    #[test]
    fn repeat_prints_after_the_last_step() {
        let s = Schedule {
            steps: 5,
            every: None,
        };
        assert_eq!(printed_steps(s), vec![5]);
        assert!(s.prefixed());
    }

    #[test]
    fn every_prints_multiples_and_the_last_step_once() {
        let s = Schedule {
            steps: 25,
            every: Some(10),
        };
        assert_eq!(printed_steps(s), vec![10, 20, 25]);
        let s = Schedule {
            steps: 20,
            every: Some(10),
        };
        assert_eq!(printed_steps(s), vec![10, 20]);
        let s = Schedule {
            steps: 1,
            every: Some(1),
        };
        assert_eq!(printed_steps(s), vec![1]);
        assert!(s.prefixed());
    }
}
