//! The native kernels of a step: a fused group or a matmul, into its arena
//! slot (`arena.rs`) when the step follows the plan and the node has one,
//! else into a pooled buffer (or, for a fused group, a dying input's).

use super::{at, Executable};
use crate::backend::jit::calls::{base, run_into, run_kernel, slot_ptr, Arg, Base, Place};
use crate::backend::jit::parallel::{parts, split};
use crate::backend::jit::tensors::Val;
use crate::ir::{Node, NodeId, Tensor, TensorType};
use crate::syntax::Diag;
use std::sync::Arc;

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
    ) -> Result<Vec<Arg<'m>>, Diag> {
        ids.iter()
            .enumerate()
            .map(|(k, &l)| {
                if out_leaf == Some(k) {
                    return Ok(Arg::Out);
                }
                let v = memo[l.index()]
                    .as_ref()
                    .ok_or_else(|| at(node, format!("input {l} was not computed")))?;
                Arg::of(v, base).ok_or_else(|| at(node, "an arena value outside the arena"))
            })
            .collect()
    }

    /// The node's arena slot in this step, if any: its offset and bytes.
    fn slot(&self, node: &Node, id: NodeId, place: &Place) -> Option<(usize, usize)> {
        let offset = place.matched.then(|| self.arena_slot(id)).flatten()?;
        Some((offset, node.ty.shape.numel() * node.ty.dtype.size_bytes()))
    }

    /// Runs fused group `g` (computing node `id`); `reuse`: a dying leaf's
    /// buffer to write the output into.
    pub(super) fn fused<'s>(
        &self,
        g: usize,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        reuse: Option<(usize, Tensor)>,
        place: Place,
    ) -> Result<Val<'s>, Diag> {
        let (group, node) = (&self.groups[g], self.graph.node(id));
        let slot = self.slot(node, id, &place);
        let base = base(place.buf);
        let alias = reuse.as_ref().map(|(k, _)| *k);
        let args = self.operands(node, &group.leaves, memo, alias, base)?;
        let types: Vec<&TensorType> = group.leaves.iter().map(|&l| self.graph.ty(l)).collect();
        let (outer, per) = self.fused_split[g];
        let align = if per == 1 { 8 } else { 1 };
        let mut ranges: Vec<Vec<usize>> = split(outer, parts(outer * per), align)
            .into_iter()
            .map(|(lo, hi)| vec![lo, hi])
            .collect();
        if ranges.is_empty() {
            // A scalar nest (no outer loop): one call; the range is unused.
            ranges.push(vec![0, 0]);
        }
        let kernel = &self.fused[g];
        let out = match (reuse, slot) {
            (_, Some((offset, bytes))) => {
                let ptr = slot_ptr(base, offset, bytes).ok_or_else(|| at(node, "slot"))?;
                run_into(kernel, node, &args, &types, ptr, bytes, &ranges)?;
                return Ok(Val::Arena { offset, bytes });
            }
            (Some((_, t)), None) => t,
            (None, None) => self.pool.take(&node.ty),
        };
        run_kernel(kernel, node, &args, &types, out, &ranges).map(|t| Val::Shared(Arc::new(t)))
    }

    /// Runs matmul kernel `m` (computing node `id`).
    pub(super) fn matmul<'s>(
        &self,
        m: usize,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        place: Place,
    ) -> Result<Val<'s>, Diag> {
        let (operands, node) = (&self.matmul_plans[m].operands, self.graph.node(id));
        let slot = self.slot(node, id, &place);
        let base = base(place.buf);
        let args = self.operands(node, operands, memo, None, base)?;
        let types: Vec<&TensorType> = operands.iter().map(|&l| self.graph.ty(l)).collect();
        let kernel = &self.matmuls[m];
        if let Some((offset, bytes)) = slot {
            let ptr = slot_ptr(base, offset, bytes).ok_or_else(|| at(node, "slot"))?;
            run_into(kernel, node, &args, &types, ptr, bytes, &[vec![]])?;
            return Ok(Val::Arena { offset, bytes });
        }
        let out = self.pool.take(&node.ty);
        run_kernel(kernel, node, &args, &types, out, &[vec![]]).map(|t| Val::Shared(Arc::new(t)))
    }
}
