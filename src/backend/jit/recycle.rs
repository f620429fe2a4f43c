//! Buffers handed back by the caller: the fetched values of an earlier step
//! and the replaced values of updated variables. A later step's kernel takes
//! them from the pool instead of allocating (and page-faulting) a new buffer,
//! so a training loop's variables and fetches cycle through the same memory.

use super::exec::{pooled, Executable, Scratch};
use super::tensors::is_standard;
use super::tensors::Val;
use crate::ir::Tensor;
use std::sync::Arc;

impl Executable {
    /// Empties the memo: kernel outputs nothing else holds go back to the pool.
    pub(super) fn release_memo(&self, scratch: &mut Scratch) {
        for (id, slot) in scratch.memo.iter_mut().enumerate() {
            if let (true, Some(Val::Shared(arc))) = (pooled(self.steps.get(id)), slot.take()) {
                if let Ok(tensor) = Arc::try_unwrap(arc) {
                    self.pool.give(tensor);
                }
            }
        }
    }

    /// Takes back tensors the caller is done with. A tensor is kept only if
    /// it is in standard layout and the pool holds fewer buffers of its dtype
    /// and size than this executable has native outputs of that dtype and size (so the pool never
    /// grows from step to step); others are dropped.
    pub fn recycle(&self, tensors: impl IntoIterator<Item = Tensor>) {
        for tensor in tensors {
            if !is_standard(&tensor) {
                continue;
            }
            // The pool keys buffers by dtype and element count.
            let size = |n: &crate::ir::Node| {
                n.ty.dtype == tensor.dtype() && n.ty.shape.numel() == tensor.len()
            };
            let cap = self
                .steps
                .iter()
                .enumerate()
                .filter(|(id, step)| {
                    pooled(Some(step))
                        && !self.in_arena(*id)
                        && self.graph.nodes.get(*id).is_some_and(size)
                })
                .count();
            self.pool.give_bounded(tensor, cap);
        }
    }
}

impl Executable {
    /// Buffers pooled in this executable and its regions' (after a warm-up
    /// step this must not grow from step to step).
    pub(crate) fn pooled_buffers(&self) -> usize {
        self.pool.len()
            + self
                .regions
                .iter()
                .flat_map(super::control::Region::codes)
                .map(|c| c.exe.pooled_buffers())
                .sum::<usize>()
    }
}
