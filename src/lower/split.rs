//! Which values hold this process's share of a batch in a data-parallel run
//! (`ir::data::Share`), so that `dropout` on them draws what one process would
//! for the same global rows.
//!
//! A value counts as split when its first dimension is the local row count of
//! a split dataset and it depends on a placeholder that dataset feeds: the
//! activations of a batch keep their rows first through elementwise ops,
//! matmuls, convolutions, pooling and reshapes that keep the leading size.

use super::Builder;
use crate::ir::graph::NodeId;
use crate::ir::op::Op;
use std::collections::HashSet;

impl Builder<'_> {
    /// The global index of row 0 of `x` when `x` holds this process's rows of
    /// a split batch; `None` otherwise (and always on one process).
    pub(crate) fn split_first_row(&self, x: NodeId) -> Option<usize> {
        if self.options.ranks <= 1 {
            return None;
        }
        let graph = self.graph();
        let lead = *graph.ty(x).shape.dims().first()?;
        let data = &self.module.data;
        let mut seen = HashSet::new();
        let mut stack = vec![x];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let node = graph.node(id);
            if let Op::Placeholder { name } = &node.op {
                let decl = data
                    .feed_of(name)
                    .and_then(|feed| data.dataset(&feed.dataset));
                if let Some(decl) = decl.filter(|d| d.is_split() && d.local_rows() == lead) {
                    return Some(decl.first_row());
                }
            }
            stack.extend(node.inputs.iter().copied());
        }
        None
    }
}
