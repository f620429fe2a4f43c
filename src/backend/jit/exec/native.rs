//! The native kernels of a step: a fused group or a matmul, into its arena
//! slot (`arena.rs`) when the step follows the plan and the node has one,
//! else into a pooled buffer (or, for a fused group, a dying input's).

use super::{at, Executable};
use crate::backend::jit::calls::{base, run_into, run_kernel, slot_ptr, Arg, Base, Place};
use crate::backend::jit::codegen::Kernel;
use crate::backend::jit::inline::List;
use crate::backend::jit::kinds::{FusedId, MatMulId};
use crate::backend::jit::parallel::{parts, split};
use crate::backend::jit::tensors::Val;
use crate::diag::Diag;
use crate::ir::{Node, NodeId, Tensor, TensorType};
use std::sync::Arc;

/// Leaf types up to this many are listed on the stack for a fused call.
const STACK_TYPES: usize = 16;

/// A kernel call's operands: on the stack up to [`STACK_TYPES`].
pub(in crate::backend::jit) type Args<'a> = List<Arg<'a>, STACK_TYPES>;

impl Executable {
    /// The kernel operands for `ids`, read from `memo`; `out_leaf`: the
    /// position of the leaf whose buffer is the output (an in-place write).
    fn operands<'m>(
        &self,
        node: &Node,
        ids: &[NodeId],
        memo: &'m [Option<Val>],
        out_leaf: Option<usize>,
        base: Base,
    ) -> Result<Args<'m>, Diag> {
        // On the stack (a call per kernel per step allocates nothing).
        let each = ids.iter().enumerate().map(|(k, &l)| {
            if out_leaf == Some(k) {
                return Ok(Arg::Out);
            }
            let v = memo[l.index()]
                .as_ref()
                .ok_or_else(|| at(node, format!("input {l} was not computed")))?;
            Arg::of(v, base).ok_or_else(|| at(node, "an arena value outside the arena"))
        });
        List::try_from_iter(Arg::Out, each)
    }

    /// The node's arena slot in this step, if any: its offset and bytes.
    fn slot(&self, node: &Node, id: NodeId, matched: bool) -> Option<(usize, usize)> {
        let offset = matched.then(|| self.arena_slot(id)).flatten()?;
        Some((offset, node.ty.shape.numel() * node.ty.dtype.size_bytes()))
    }

    /// Runs fused group `g` (computing node `id`); `reuse`: a dying leaf's
    /// buffer to write the output into.
    pub(super) fn fused<'s>(
        &self,
        g: FusedId,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        reuse: Option<(usize, Tensor)>,
        place: Place,
    ) -> Result<Val<'s>, Diag> {
        let (group, node) = (&self.fused[g].group, self.graph.node(id));
        let slot = self.slot(node, id, place.matched);
        let base = base(place.buf);
        let alias = reuse.as_ref().map(|(k, _)| *k);
        let args = self.operands(node, &group.leaves, memo, alias, base)?;
        // The leaves' types on the stack when they fit (a call per step each).
        let mut stack = [&node.ty; STACK_TYPES];
        let heap: Vec<&TensorType>;
        let types: &[&TensorType] = if group.leaves.len() <= STACK_TYPES {
            for (t, &l) in stack.iter_mut().zip(&group.leaves) {
                *t = self.graph.ty(l);
            }
            &stack[..group.leaves.len()]
        } else {
            heap = group.leaves.iter().map(|&l| self.graph.ty(l)).collect();
            &heap
        };
        let (outer, per) = self.fused[g].split;
        let align = if per == 1 { 8 } else { 1 };
        let pieces = parts(outer * per);
        // One range (the common case) without allocating; a scalar nest (no
        // outer loop) is one call whose range is unused.
        let ranges: Vec<[usize; 2]> = if pieces == 1 || outer == 0 {
            Vec::new()
        } else {
            split(outer, pieces, align)
                .into_iter()
                .map(|(lo, hi)| [lo, hi])
                .collect()
        };
        let one = [[0, outer]];
        let ranges: &[[usize; 2]] = if ranges.is_empty() { &one } else { &ranges };
        let kernel = &self.fused[g].kernel;
        let out = match (reuse, slot) {
            (_, Some((offset, bytes))) => {
                let ptr = slot_ptr(base, offset, bytes)
                    .ok_or_else(|| at(node, "arena slot outside the arena"))?;
                run_into(kernel, node, &args, types, ptr, bytes, ranges)?;
                return Ok(Val::Arena { offset, bytes });
            }
            (Some((_, t)), None) => t,
            (None, None) => self.pool.take(&node.ty),
        };
        run_kernel(kernel, node, &args, types, out, ranges).map(|t| Val::Shared(Arc::new(t)))
    }

    /// Runs matmul kernel `m` (computing node `id`).
    pub(super) fn matmul<'s>(
        &self,
        m: MatMulId,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        place: Place,
    ) -> Result<Val<'s>, Diag> {
        let base = base(place.buf);
        self.prepare_matmul(m, id, memo, base, place.matched)?.run()
    }

    /// Matmul kernel `m` (computing node `id`) ready to call: its operands
    /// read from `memo`, its output slot (when `matched` and it has one) or
    /// pooled buffer taken.
    pub(in crate::backend::jit) fn prepare_matmul<'a>(
        &'a self,
        m: MatMulId,
        id: NodeId,
        memo: &'a [Option<Val>],
        base: Base,
        matched: bool,
    ) -> Result<Prepared<'a>, Diag> {
        let (operands, node) = (&self.matmuls[m].plan.operands, self.graph.node(id));
        let args = self.operands(node, operands, memo, None, base)?;
        let types = List::from_iter(&node.ty, operands.iter().map(|&l| self.graph.ty(l)));
        let out = match self.slot(node, id, matched) {
            Some((offset, bytes)) => {
                let ptr = slot_ptr(base, offset, bytes)
                    .ok_or_else(|| at(node, "arena slot outside the arena"))?;
                Output::Slot { ptr, offset, bytes }
            }
            None => Output::Buffer(self.pool.take(&node.ty)),
        };
        let kernel = &self.matmuls[m].kernel;
        Ok(Prepared {
            kernel,
            node,
            args,
            types,
            out,
        })
    }
}

/// Where a prepared matmul writes.
enum Output {
    Slot {
        ptr: *mut u8,
        offset: usize,
        bytes: usize,
    },
    Buffer(Tensor),
}

/// A matmul call with its operands and output (see `prepare_matmul`).
pub(in crate::backend::jit) struct Prepared<'a> {
    kernel: &'a Kernel,
    node: &'a Node,
    args: Args<'a>,
    types: List<&'a TensorType, STACK_TYPES>,
    out: Output,
}

// SAFETY: the raw pointers (operand and output slots) address the arena,
// which the step holds until `siblings.rs`'s join has returned; the other
// fields are shared read-only data (`Kernel` is `Sync`). Two prepared calls
// sent to two threads write disjoint outputs (two slots the plan keeps
// apart from each other and from every operand, or two pooled buffers)
// and only read their operands.
unsafe impl Send for Prepared<'_> {}

impl Prepared<'_> {
    /// Calls the kernel: the node's value.
    pub(in crate::backend::jit) fn run<'s>(self) -> Result<Val<'s>, Diag> {
        let Prepared {
            kernel,
            node,
            args,
            types,
            out,
        } = self;
        match out {
            Output::Slot { ptr, offset, bytes } => {
                run_into(kernel, node, &args, &types, ptr, bytes, &[vec![]])?;
                Ok(Val::Arena { offset, bytes })
            }
            Output::Buffer(t) => run_kernel(kernel, node, &args, &types, t, &[vec![]])
                .map(|t| Val::Shared(Arc::new(t))),
        }
    }
}
