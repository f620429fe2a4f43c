//! The run of a fused reduction: its kernel writes partials, split among
//! threads, then [`combine`] reduces them in a fixed order.

use super::arena::put;
use super::calls::{base, bytes_of, call, slot_ptr, Arg, Place};
use super::exec::{at, Executable};
use super::inline::List;
use super::kinds::{Id, ReduceId};
use super::parallel::{parts, split};
use super::reduce::Layout;
use super::tensors::{has_type, out_ptr, Val};
use crate::diag::Diag;
use crate::ir::{Node, ReduceOp, Tensor, TensorType};
use std::sync::Arc;

impl Executable {
    /// Runs fused reduction `r`: the kernel writes partials (split among
    /// threads by rows, or by blocks when there are few rows), then
    /// [`combine`] reduces them in a fixed order. Gives the result
    /// and the side output, if the kernel has one: each in its arena slot
    /// when `place` has one for it, else in a pooled tensor.
    pub(super) fn reduce<'s>(
        &self,
        r: ReduceId,
        node: &Node,
        memo: &[Option<Val<'s>>],
        place: Place,
    ) -> Result<(Val<'s>, Option<Val<'s>>), Diag> {
        let red = &self.reductions[r].reduction;
        let l = &red.layout;
        let Place { mut buf, matched } = place;
        let base = base(buf.as_deref_mut());
        // Operands, types and outputs on the stack: no allocation per call.
        let each = red.group.leaves.iter().map(|&k| {
            memo[k.index()]
                .as_ref()
                .ok_or_else(|| at(node, format!("input {k} was not computed")))
                .and_then(|v| Arg::of(v, base).ok_or_else(|| at(node, "slot out of range")))
        });
        let args: List<Arg, 16> = List::try_from_iter(Arg::Out, each)?;
        let leaves = red.group.leaves.iter().map(|&k| self.graph.ty(k));
        let types: List<&TensorType, 16> = List::from_iter(&node.ty, leaves);
        let slot = |id: crate::ir::NodeId| matched.then(|| self.arena_slot(id)).flatten();
        let mut partials = self.pool.take_partials(r.index(), l.partials);
        let side_slot = red.side.and_then(slot);
        let mut side = match (red.side, side_slot) {
            (Some(s), None) => Some(self.pool.take(self.graph.ty(s))),
            _ => None,
        };
        let mut outs: List<*mut u8, 2> = List::from_iter(
            std::ptr::null_mut(),
            std::iter::once(partials.as_mut_ptr() as *mut u8),
        );
        if let Some(id) = red.side {
            let ty = self.graph.ty(id);
            let ptr = match (side.as_mut(), side_slot) {
                (Some(t), _) if !has_type(t, ty) => {
                    return Err(at(node, "side output buffer of the wrong type"))
                }
                (Some(t), _) => out_ptr(t),
                (None, Some(off)) => slot_ptr(base, off, bytes_of(ty)),
                (None, None) => None,
            };
            outs.push(
                ptr.ok_or_else(|| at(node, "side output not contiguous or outside the arena"))?,
            );
        }
        if !l.empty() {
            let n = parts(l.work);
            // One range (a small reduction) without `split`'s list.
            let one = [[0, l.rows, 0, l.blocks]];
            let single = n == 1 && l.rows >= 1;
            let ranges: Vec<[usize; 4]> = if single {
                Vec::new()
            } else if l.rows >= n {
                split(l.rows, n, 1)
                    .into_iter()
                    .map(|(lo, hi)| [lo, hi, 0, l.blocks])
                    .collect()
            } else {
                split(l.blocks, n, 1)
                    .into_iter()
                    .map(|(lo, hi)| [0, l.rows, lo, hi])
                    .collect()
            };
            let ranges: &[[usize; 4]] = if single { &one } else { &ranges };
            call(
                &self.reductions[r].kernel,
                node,
                &args,
                &types,
                &outs,
                ranges,
            )?;
        }
        let values = combine(red.op, l, &partials);
        self.pool.give_partials(r.index(), partials);
        let side = match (side, side_slot, red.side) {
            (Some(t), _, _) => Some(Val::Shared(Arc::new(t))),
            (None, Some(off), Some(id)) => Some(Val::Arena {
                offset: off,
                bytes: bytes_of(self.graph.ty(id)),
            }),
            _ => None,
        };
        if let (Some(off), Some(buf)) = (slot(red.node), buf) {
            let size = node.ty.dtype.size_bytes();
            if values.len() * size != bytes_of(&node.ty) {
                return Err(at(node, "result shape"));
            }
            for (e, &v) in values.iter().enumerate() {
                let at_ = off + e * size;
                let ok = match node.ty.dtype {
                    crate::ir::DType::F32 => put(buf, at_, &(v as f32).to_ne_bytes()),
                    crate::ir::DType::F64 => put(buf, at_, &v.to_ne_bytes()),
                    other => return Err(at(node, format!("a reduction to {other}"))),
                };
                ok.ok_or_else(|| at(node, "result slot out of range"))?;
            }
            return Ok((
                Val::Arena {
                    offset: off,
                    bytes: bytes_of(&node.ty),
                },
                side,
            ));
        }
        // Into a pooled buffer: a reduction's output goes back to the pool
        // after its last use, so taking it from there keeps the pool from
        // growing by one buffer per reduction and step (or fold iteration).
        let mut value = self.pool.take(&node.ty);
        if value.len() != values.len() {
            return Err(at(node, "result shape"));
        }
        match &mut value {
            Tensor::F32(a) => a.iter_mut().zip(&values).for_each(|(d, &v)| *d = v as f32),
            Tensor::F64(a) => a.iter_mut().zip(&values).for_each(|(d, &v)| *d = v),
            other => return Err(at(node, format!("a reduction to {}", other.ty()))),
        }
        Ok((Val::Shared(Arc::new(value)), side))
    }
}

/// Reduces the partials (`rows × blocks`, row-major) into one value per
/// output, in a fixed order (pairwise for sums).
pub(crate) fn combine(op: ReduceOp, l: &Layout, partials: &[f64]) -> Vec<f64> {
    let per = l.per_output;
    (0..l.outputs)
        .map(|o| {
            let part = partials.get(o * per..(o + 1) * per).unwrap_or(&[]);
            match op {
                ReduceOp::Sum => pairwise(part),
                // 0 / 0 is NaN: the mean of nothing.
                ReduceOp::Mean => pairwise(part) / l.count as f64,
                ReduceOp::Max => part
                    .iter()
                    .fold(f64::NEG_INFINITY, |m, &v| nan_or(m, v, m.max(v))),
                ReduceOp::Min => part
                    .iter()
                    .fold(f64::INFINITY, |m, &v| nan_or(m, v, m.min(v))),
            }
        })
        .collect()
}

/// `r`, or NaN when `a` or `b` is NaN (`maximum`/`minimum` propagate NaN).
fn nan_or(a: f64, b: f64, r: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        r
    }
}

/// Pairwise sum (blocks of 8 summed in order).
fn pairwise(v: &[f64]) -> f64 {
    if v.len() <= 8 {
        v.iter().sum()
    } else {
        let (a, b) = v.split_at(v.len() / 2);
        pairwise(a) + pairwise(b)
    }
}
