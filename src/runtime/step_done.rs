//! What a front end learns after each step of a `run` (`run_schedule`,
//! `run_epochs`): the step's numbers, the dataset epoch and the fetched values,
//! so that it can draw a progress bar, append a log record or collect a plot.

use crate::ir::{DType, Tensor};

/// One finished step.
pub struct StepDone<'a> {
    /// The step's number in its run, from 1 (the `[step s]` prefix).
    pub step: u64,
    /// The steps this session has done, this one included: `step()` + 1. It
    /// goes on counting across `run` statements (and from a restored checkpoint).
    pub total: u64,
    /// Finished epochs of the dataset the fetches read (the `[epoch e]` of an
    /// `epochs` run), when they read one.
    pub epoch: Option<u64>,
    /// Whether the step's fetches were printed.
    pub printed: bool,
    /// The fetch names, their values and which are `group`s, in fetch order.
    pub names: &'a [String],
    pub values: &'a [Tensor],
    pub is_group: &'a [bool],
}

impl StepDone<'_> {
    /// The scalar (rank 0) fetches that are not `group`s, as f64 (a bool is 0
    /// or 1), with their dtypes.
    pub fn scalars(&self) -> impl Iterator<Item = (&str, f64, DType)> + '_ {
        self.names
            .iter()
            .zip(self.values)
            .zip(self.is_group)
            .filter(|((_, v), group)| !**group && v.shape().is_empty())
            .filter_map(|((n, v), _)| Some((n.as_str(), *v.to_f64_vec().first()?, v.dtype())))
    }
}
