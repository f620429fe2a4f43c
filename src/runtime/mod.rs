//! The runtime: sessions that run steps of a built module, feeds, step plans and
//! the printed form of fetched tensors; front ends use [`Session`] and the
//! printing functions, never a backend directly.

pub mod bind;
pub mod checkpoint;
pub mod data;
pub mod epochs;
pub mod feeds;
pub mod plan;
pub mod print;
pub mod schedule;
pub mod session;
pub mod signature;
pub mod step_done;
mod step_inputs;

#[cfg(test)]
mod session_tests;

pub use feeds::{check_feed, load_feed, FeedTarget};
pub use plan::Plan;
pub use print::{format_fetch, format_float, format_summary, format_values};
pub use schedule::{run_schedule, Schedule};
pub use session::Session;
pub use step_done::StepDone;
