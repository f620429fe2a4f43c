//! `allreduce` in a step: a value that dies at its `allreduce` (a gradient in
//! `minimize`) is combined over the processes in its own buffer, and that
//! buffer goes back to the pool when the result dies, so the step neither
//! copies nor allocates it (`docs/distributed.md`).

use super::exec::{at, pooled, Executable};
use super::plan::Step;
use super::tensors::{is_standard, Val};
use crate::diag::Diag;
use crate::ir::{NodeId, Op};
use std::sync::Arc;

impl Executable {
    /// Computes `id` when it is an `allreduce` whose input no later
    /// computation reads and that is not fetched: the input's buffer is taken
    /// from the memo and reduced in place. `None` when `id` is not such a
    /// node (it is then computed as usual, on a copy).
    pub(super) fn allreduce_in_place<'s>(
        &self,
        id: NodeId,
        memo: &mut [Option<Val<'s>>],
        remaining: &[u32],
    ) -> Result<Option<Val<'s>>, Diag> {
        let node = self.graph.node(id);
        let (Op::Allreduce { op }, Some(Step::Fallback), [input]) =
            (&node.op, self.steps.get(id.index()), &node.inputs[..])
        else {
            return Ok(None);
        };
        let i = input.index();
        // A kernel's output, or an interpreter kernel's (not a variable,
        // whose buffer goes back to the session, nor a feed or constant).
        let producer = self.steps.get(i);
        let computed = pooled(producer)
            || (matches!(producer, Some(Step::Fallback))
                && !matches!(
                    self.graph.node(*input).op,
                    Op::Variable { .. } | Op::Placeholder { .. } | Op::Const(_)
                ));
        if !computed || remaining.get(i) != Some(&1) || self.fetched.get(i) != Some(&false) {
            return Ok(None);
        }
        match memo[i].take() {
            Some(Val::Shared(arc)) => match Arc::try_unwrap(arc) {
                Ok(mut t) if is_standard(&t) => {
                    crate::kernels::collective::allreduce_tensor(&mut t, *op)
                        .map_err(|m| at(node, m))?;
                    Ok(Some(Val::Shared(Arc::new(t))))
                }
                Ok(t) => {
                    memo[i] = Some(Val::Shared(Arc::new(t)));
                    Ok(None)
                }
                Err(arc) => {
                    memo[i] = Some(Val::Shared(arc));
                    Ok(None)
                }
            },
            other => {
                memo[i] = other;
                Ok(None)
            }
        }
    }

    /// A dead `allreduce` output: usually its input's kernel buffer, reduced
    /// in place, so it goes back to the pool for the next step's kernel
    /// (bounded as [`Executable::recycle`] bounds buffers, so a reduced copy
    /// cannot grow the pool from step to step).
    pub(super) fn release_reduced(
        &self,
        slot: &mut Option<Val>,
        mem: Option<&mut super::memlog::Tracker>,
    ) {
        match slot.take() {
            Some(Val::Shared(arc)) => match Arc::try_unwrap(arc) {
                Ok(tensor) => {
                    if let Some(m) = mem {
                        m.freed(&tensor);
                    }
                    self.recycle(std::iter::once(tensor));
                }
                Err(arc) => *slot = Some(Val::Shared(arc)),
            },
            other => *slot = other,
        }
    }
}
