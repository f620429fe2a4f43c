//! The optimiser's compact text form of a graph, for `print_after` dumps and the
//! passes' before/after snapshot tests: `ir::printer`'s text in its compact style
//! ([`Style::Compact`] lists how it differs from `tdsl graph`).
//! ```text
//! %0 = placeholder x : f32[4]  // x
//! %1 = const f32[] 2.0
//! %2 = mul %0, %1 : f32[4]  // y
//! %3 = cond %4, %0 : f32[4]
//!   then(f32[4]) {
//!     %0 = param 0 : f32[4]
//!     yield %0
//!   }
//! ```

use crate::ir::printer::{to_text_with, Style};
use crate::ir::{Graph, NodeId};

/// The graph as text; `names` label the nodes they name.
pub fn to_text(graph: &Graph, names: &[(String, NodeId)]) -> String {
    to_text_with(graph, names, Style::Compact)
}
