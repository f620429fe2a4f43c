//! The call of a fused kernel with several outputs (`plan/multi.rs`): each
//! output into its arena slot, the buffer of the dying leaf it overwrites
//! (`outputs.rs`), or a pooled buffer; the other outputs come back beside
//! the kernel node's value.

use super::{at, Executable};
use crate::backend::jit::calls::{base, call, slot_ptr, Arg, Place};
use crate::backend::jit::inline::List;
use crate::backend::jit::kinds::FusedId;
use crate::backend::jit::parallel::{parts, split};
use crate::backend::jit::tensors::{out_ptr, Val};
use crate::diag::Diag;
use crate::ir::{NodeId, Tensor, TensorType};
use std::sync::Arc;

/// Lists up to this long stay on the stack.
const STACK: usize = 16;

/// Where one output goes.
enum Out {
    Slot { offset: usize, bytes: usize },
    Buffer(Tensor),
}

impl Executable {
    /// Runs kernel `g` (computing node `id`, its root) with `reuse`: leaf
    /// buffers (position, tensor) its outputs overwrite. The other outputs
    /// are pushed to `side`.
    pub(super) fn fused_outputs<'s>(
        &self,
        g: FusedId,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        reuse: Vec<(usize, Tensor)>,
        place: Place,
        side: &mut Vec<(NodeId, Val<'s>)>,
    ) -> Result<Val<'s>, Diag> {
        let (group, node) = (&self.fused[g].group, self.graph.node(id));
        let picks = self.in_place.outputs.get(g).map_or(&[][..], Vec::as_slice);
        let stored = group.each_stored();
        let base = base(place.buf);
        let bytes = node.ty.shape.numel() * node.ty.dtype.size_bytes();
        let mut reuse: Vec<Option<(usize, Tensor)>> = reuse.into_iter().map(Some).collect();
        // Each output's destination, in the kernel's order, and the leaf
        // whose buffer it took (lists on the stack: a call per step each).
        let mut outs: Vec<Out> = Vec::with_capacity(group.outputs.len() + 1);
        let mut aliased: List<Option<usize>, STACK> = List::from_iter(None, std::iter::empty());
        for (j, o) in stored.clone().enumerate() {
            let slot = place.matched.then(|| self.arena_slot(o)).flatten();
            let leaf = picks.get(j).copied().flatten();
            let taken = reuse
                .iter_mut()
                .find(|r| matches!(r, Some((k, _)) if Some(*k) == leaf))
                .and_then(Option::take);
            let (out, alias) = match (slot, taken) {
                (Some(offset), _) => (Out::Slot { offset, bytes }, None),
                (None, Some((k, t))) => (Out::Buffer(t), Some(k)),
                (None, None) => (Out::Buffer(self.pool.take(&node.ty)), None),
            };
            outs.push(out);
            aliased.push(alias);
        }
        let ptrs = outs.iter_mut().map(|out| {
            let ptr = match out {
                Out::Slot { offset, bytes } => slot_ptr(base, *offset, *bytes),
                Out::Buffer(t)
                    if t.dtype() == node.ty.dtype && t.shape() == node.ty.shape.dims() =>
                {
                    out_ptr(t)
                }
                Out::Buffer(_) => None,
            };
            ptr.ok_or_else(|| at(node, "an output buffer of the wrong type"))
        });
        let ptrs: List<_, STACK> = List::try_from_iter(std::ptr::null_mut(), ptrs)?;
        // The operands; an overwritten leaf is its output's buffer.
        let args = group.leaves.iter().enumerate().map(|(k, &l)| {
            if let Some(j) = aliased.iter().position(|&a| a == Some(k)) {
                return Ok(Arg::Slot(ptrs[j], bytes));
            }
            let v = memo[l.index()]
                .as_ref()
                .ok_or_else(|| at(node, format!("input {l} was not computed")))?;
            Arg::of(v, base).ok_or_else(|| at(node, "an arena value outside the arena"))
        });
        let args: List<Arg, STACK> = List::try_from_iter(Arg::Out, args)?;
        let types = group.leaves.iter().map(|&l| self.graph.ty(l));
        let types: List<&TensorType, STACK> = List::from_iter(&node.ty, types);
        if bytes > 0 {
            let (outer, per) = self.fused[g].split;
            let align = if per == 1 { 8 } else { 1 };
            let pieces = parts(outer * per);
            let ranges: Vec<[usize; 2]> = match pieces == 1 || outer == 0 {
                true => Vec::new(),
                false => split(outer, pieces, align)
                    .into_iter()
                    .map(|(lo, hi)| [lo, hi])
                    .collect(),
            };
            let one = [[0, outer]];
            let ranges: &[[usize; 2]] = if ranges.is_empty() { &one } else { &ranges };
            call(&self.fused[g].kernel, node, &args, &types, &ptrs, ranges)?;
        }
        drop(args);
        let mut values = stored.zip(outs).map(|(o, out)| {
            let v = match out {
                Out::Slot { offset, bytes } => Val::Arena { offset, bytes },
                Out::Buffer(t) => Val::Shared(Arc::new(t)),
            };
            (o, v)
        });
        let mut root = None;
        for (o, v) in values.by_ref() {
            match o == id {
                true => root = Some(v),
                false => side.push((o, v)),
            }
        }
        root.ok_or_else(|| at(node, "the kernel's root is not among its outputs"))
    }
}
