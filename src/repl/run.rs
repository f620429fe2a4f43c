//! `run` statements typed at the prompt: their steps (stopped by Ctrl-C) and the
//! check of their fetch names.

use super::interrupt;
use super::state::{Repl, HIDDEN};
use super::{print_err, print_out};
use crate::diag::Diag;
use crate::ir::Module;
use crate::runtime::{format_fetch, Schedule};

impl Repl {
    /// Runs the steps of one `run` statement, printing like `tdsl run`. Ctrl-C
    /// (on a terminal) stops it after the current step.
    pub(super) fn run_steps(&mut self, names: &[&str], schedule: Schedule) -> Result<(), Diag> {
        let plan = self.session.check(names)?;
        interrupt::clear();
        for step in 1..=schedule.steps {
            let values = self.session.run(names)?;
            if schedule.prints_after(step) {
                let prefix = if schedule.prefixed() {
                    format!("[step {step}] ")
                } else {
                    String::new()
                };
                let mut text = String::new();
                for ((name, value), group) in plan
                    .fetch_names
                    .iter()
                    .zip(&values)
                    .zip(&plan.fetch_is_group)
                {
                    if !group {
                        text.push_str(&format!("{prefix}{}\n", format_fetch(name, value)));
                    }
                }
                print_out(&text);
            }
            if step < schedule.steps && interrupt::take() {
                print_err(&format!(
                    "interrupted after step {step} of {}\n",
                    schedule.steps
                ));
                break;
            }
        }
        Ok(())
    }
}

/// Every name a `run` statement fetches must exist.
pub(super) fn check_run_names(module: &Module) -> Result<(), Diag> {
    for run in &module.runs {
        for (name, span) in &run.fetches {
            if module.lookup(name).is_none() {
                let names: Vec<&str> = module
                    .names
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .filter(|n| !n.starts_with(HIDDEN))
                    .collect();
                let diag = Diag::error(format!("unknown fetch `{name}`"), *span);
                return Err(if names.is_empty() {
                    diag.with_note("nothing is defined yet")
                } else {
                    diag.with_note(format!("fetchable names: {}", names.join(", ")))
                });
            }
        }
    }
    Ok(())
}
