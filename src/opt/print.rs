//! The optimiser's compact text form of a graph, for `print_after` dumps and the
//! passes' snapshot tests: `ir::printer`'s text in its compact style
//! ([`Style::Compact`] lists how it differs from `tdsl graph`).

use crate::ir::printer::{to_text_with, Style};
use crate::ir::{Graph, NodeId};

/// The graph as text; `names` label the nodes they name.
pub fn to_text(graph: &Graph, names: &[(String, NodeId)]) -> String {
    to_text_with(graph, names, Style::Compact)
}
