//! This process's share of each batched dataset in a data-parallel run
//! (`ir::data::Share`), and which values hold its rows, so that `dropout` on
//! them draws what one process would for the same global rows.
//!
//! A value counts as split when its first dimension is the local row count of
//! a split dataset and it depends on a placeholder that dataset feeds: the
//! activations of a batch keep their rows first through elementwise ops,
//! matmuls, convolutions, pooling and reshapes that keep the leading size,
//! also from inside a `cond` branch or a `fold` body (through the captures,
//! a fold's init and its xs).

use super::{BResult, Builder};
use crate::diag::{Diag, Span};
use crate::ir::data::Share;
use crate::ir::graph::NodeId;
use crate::ir::op::Op;
use crate::syntax::ast::{Expr, Ident};
use std::collections::HashSet;

/// The span of `batch=`'s value among `load(...)`'s named arguments.
pub(crate) fn batch_span(named: &[(Ident, Expr)]) -> Option<Span> {
    named
        .iter()
        .find(|(k, _)| k.name == "batch")
        .map(|(_, e)| e.span)
}

impl Builder<'_> {
    /// This process's share of a dataset's batches: `batch=B` is the global
    /// batch, so B must divide evenly among the processes.
    pub(crate) fn share(&mut self, batch: Option<usize>, bspan: Option<Span>) -> BResult<Share> {
        let ranks = self.options.ranks.max(1);
        let share = Share {
            rank: self.options.data.rank,
            ranks,
        };
        match (batch, bspan) {
            (Some(b), Some(span)) if b % ranks != 0 => Err(self.report(
                Diag::error(
                    format!("`batch={b}` cannot be split among {ranks} processes"),
                    span,
                )
                .with_note(format!(
                    "`batch` is the global batch: each process reads batch / {ranks} rows a step, \
                     so it must be a multiple of {ranks}"
                )),
            )),
            _ => Ok(share),
        }
    }

    /// The global index of row 0 of `x` when `x` holds this process's rows of
    /// a split batch; `None` otherwise (and always on one process). Inside a
    /// `cond` branch or a `fold` body the walk goes on through the region's
    /// parameters to the outer values they stand for.
    pub(crate) fn split_first_row(&self, x: NodeId) -> Option<usize> {
        if self.options.ranks <= 1 {
            return None;
        }
        let lead = *self.graph().ty(x).shape.dims().first()?;
        let data = &self.module.data;
        let mut seen = HashSet::new();
        let mut stack = vec![(self.level(), x)];
        while let Some((level, id)) = stack.pop() {
            if !seen.insert((level, id)) {
                continue;
            }
            let node = self.ctxs[level].graph.node(id);
            match &node.op {
                Op::Placeholder { name } => {
                    let decl = data
                        .feed_of(name)
                        .and_then(|feed| data.dataset(&feed.dataset));
                    if let Some(decl) = decl.filter(|d| d.is_split() && d.local_rows() == lead) {
                        return Some(decl.first_row());
                    }
                }
                Op::Param(i) if level > 0 => {
                    stack.extend(self.ctxs[level].outer_of(*i).map(|o| (level - 1, o)));
                }
                _ => {}
            }
            stack.extend(node.inputs.iter().map(|&i| (level, i)));
        }
        None
    }
}
