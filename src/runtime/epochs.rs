//! `run NAME, ... epochs E [every K]`: E epochs of the batched dataset the
//! fetches read, printed as `[epoch e] NAME: ...` after every K-th epoch and
//! after the last one. `e` counts the dataset's finished epochs (so a run that
//! continues a dataset, or a restored one, goes on counting).

use super::session::Session;
use super::step_done::StepDone;
use crate::diag::{Diag, Span};
use crate::ir::Tensor;

/// The steps in one epoch of the dataset the fetches read: an error if they
/// read none, or several with different epoch lengths.
pub fn epoch_length(
    session: &mut Session,
    fetches: &[&str],
    span: Option<Span>,
) -> Result<u64, Diag> {
    let plan = session.plan(fetches)?;
    let read = session.data().read_by(&plan.placeholders);
    let at = |message: String| match span {
        Some(span) => Diag::error(message, span),
        None => Diag::plain(message),
    };
    let Some(first) = read.first() else {
        let names: Vec<String> = fetches.iter().map(|n| format!("`{n}`")).collect();
        return Err(at(format!(
            "`epochs` needs a dataset, but {} read{} none",
            names.join(", "),
            if fetches.len() == 1 { "s" } else { "" }
        ))
        .with_note("a placeholder reads a dataset when it is declared `= DATASET.ARRAY`"));
    };
    let steps = first.steps_per_epoch();
    if let Some(other) = read.iter().find(|d| d.steps_per_epoch() != steps) {
        return Err(
            at("the fetches read datasets with different epoch lengths".to_string()).with_note(
                format!(
                    "`{}` has {steps} steps an epoch, `{}` has {}",
                    first.name,
                    other.name,
                    other.steps_per_epoch()
                ),
            ),
        );
    }
    Ok(steps)
}

/// Runs `epochs` epochs of `steps_per_epoch` steps, printing every `every`
/// epochs and after the last; `on_step` gets each finished step (after its lines).
pub fn run_epochs(
    session: &mut Session,
    fetches: &[&str],
    (epochs, steps_per_epoch): (u64, u64),
    every: Option<u64>,
    print: &mut dyn FnMut(&str) -> Result<(), Diag>,
    on_step: &mut dyn FnMut(&StepDone<'_>) -> Result<(), Diag>,
) -> Result<Vec<Tensor>, Diag> {
    let per_epoch = steps_per_epoch.max(1);
    let total = epochs.max(1).saturating_mul(per_epoch);
    let label = |step: u64, epoch: Option<u64>| {
        let done = step / per_epoch;
        let printed = step.is_multiple_of(per_epoch)
            && (done == epochs || every.is_some_and(|k| k > 0 && done.is_multiple_of(k)));
        let epoch = epoch.unwrap_or(done);
        (Some(epoch), printed.then(|| format!("[epoch {epoch}] ")))
    };
    super::schedule::run_steps(session, fetches, total, label, print, on_step)
}
