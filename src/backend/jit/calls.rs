//! Kernel calls: operand checks, the split of a call among threads, and the
//! run of a fused reduction (kernel, then the fixed-order combine).

use super::arena::{put, Block, ALIGN};
use super::codegen::{Kernel, STATUS_OK};
use super::exec::{at, pooled, Executable};
use super::parallel::{call_all, parts, split};
use super::plan::Step;
use super::reduce::Layout;
use super::tensors::{data_ptr, out_ptr, Val};
use crate::diag::Diag;
use crate::ir::{Node, ReduceOp, Tensor, TensorType};
use crate::ir::{NodeId, Op};
use std::sync::Arc;

impl Executable {
    /// Per node, how many computations list it among their dependencies: a
    /// node's `deps` in a step are these or (for `cond`/`fold`, which skip
    /// unused captures) a subset, so a count that reaches 0 during a step
    /// means no later computation of the step reads the value.
    pub(super) fn count_uses(&self) -> Vec<u32> {
        let mut uses = vec![0u32; self.graph.len()];
        for i in 0..self.steps.len() {
            for d in self.step_deps(i) {
                if let Some(u) = uses.get_mut(d.index()) {
                    *u += 1;
                }
            }
        }
        uses
    }

    /// The inputs node `i`'s computation may read (all captures of a region).
    pub(super) fn step_deps(&self, i: usize) -> &[NodeId] {
        match &self.steps[i] {
            Step::Unused | Step::Inlined => &[],
            Step::Fused(g) => &self.groups[*g].leaves,
            Step::Reduce(r) => &self.reductions[*r].group.leaves,
            Step::Side(r) => std::slice::from_ref(&self.reductions[*r].node),
            Step::MatMul(m) => &self.matmul_plans[*m].operands,
            Step::Region(_) | Step::Fallback => &self.graph.nodes[i].inputs,
        }
    }

    /// After a computation that read `deps`: a kernel output no later
    /// computation of the step reads, and that is not fetched, goes back to
    /// the pool now (its buffer can serve a later node of the same type).
    pub(super) fn release(
        &self,
        deps: &[NodeId],
        memo: &mut [Option<Val>],
        remaining: &mut [u32],
        mut mem: Option<&mut super::memlog::Tracker>,
    ) {
        for &dep in deps {
            let i = dep.index();
            let Some(left) = remaining.get_mut(i) else {
                continue;
            };
            *left = left.saturating_sub(1);
            if let (0, Some(m)) = (*left, mem.as_deref_mut()) {
                m.died(self, dep, memo[i].as_ref());
            }
            if *left > 0 || self.fetched.get(i) != Some(&false) {
                continue;
            }
            if !pooled(self.steps.get(i)) {
                // An interpreter kernel's output (allocated each step) is
                // dropped now rather than at the end of the step; a variable
                // stays (an owned one goes back to the session).
                let fallback = matches!(self.steps.get(i), Some(Step::Fallback));
                if fallback && !matches!(self.graph.nodes[i].op, Op::Variable { .. }) {
                    if let (Some(Val::Shared(arc)), Some(m)) = (memo[i].take(), mem.as_deref_mut())
                    {
                        if Arc::strong_count(&arc) == 1 {
                            m.freed(&arc);
                        }
                    }
                }
                continue;
            }
            match memo[i].take() {
                // Dead: its slot may be another value's from now on.
                Some(Val::Arena { .. }) => {}
                Some(Val::Shared(arc)) => match Arc::try_unwrap(arc) {
                    Ok(tensor) => {
                        if let Some(m) = mem.as_deref_mut() {
                            m.freed(&tensor);
                        }
                        self.pool.give(tensor)
                    }
                    // Still shared (a fetched copy): keep it.
                    Err(arc) => memo[i] = Some(Val::Shared(arc)),
                },
                other => memo[i] = other,
            }
        }
    }

    /// Runs fused reduction `r`: the kernel writes partials (split among
    /// threads by rows, or by blocks when there are few rows), then
    /// [`combine`] reduces them in a fixed order. Gives the result
    /// and the side output, if the kernel has one: each in its arena slot
    /// when `place` has one for it, else in a pooled tensor.
    pub(super) fn reduce<'s>(
        &self,
        r: usize,
        node: &Node,
        memo: &[Option<Val<'s>>],
        place: Place,
    ) -> Result<(Val<'s>, Option<Val<'s>>), Diag> {
        let red = &self.reductions[r];
        let l = &red.layout;
        let Place { mut buf, matched } = place;
        let base = base(buf.as_deref_mut());
        let args: Vec<Arg> = red
            .group
            .leaves
            .iter()
            .map(|&k| {
                memo[k.index()]
                    .as_ref()
                    .ok_or_else(|| at(node, format!("input {k} was not computed")))
                    .and_then(|v| Arg::of(v, base).ok_or_else(|| at(node, "slot out of range")))
            })
            .collect::<Result<_, _>>()?;
        let types: Vec<&TensorType> = red.group.leaves.iter().map(|&k| self.graph.ty(k)).collect();
        let slot = |id: crate::ir::NodeId| matched.then(|| self.arena_slot(id)).flatten();
        let mut partials = self.pool.take_partials(r, l.partials);
        let side_slot = red.side.and_then(slot);
        let mut side = match (red.side, side_slot) {
            (Some(s), None) => Some(self.pool.take(self.graph.ty(s))),
            _ => None,
        };
        let mut outs = vec![partials.as_mut_ptr() as *mut u8];
        if let Some(id) = red.side {
            let ty = self.graph.ty(id);
            let ptr = match (side.as_mut(), side_slot) {
                (Some(t), _) if t.dtype() != ty.dtype || t.shape() != ty.shape.dims() => {
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
            let ranges: Vec<Vec<usize>> = if l.rows >= n {
                split(l.rows, n, 1)
                    .into_iter()
                    .map(|(lo, hi)| vec![lo, hi, 0, l.blocks])
                    .collect()
            } else {
                split(l.blocks, n, 1)
                    .into_iter()
                    .map(|(lo, hi)| vec![0, l.rows, lo, hi])
                    .collect()
            };
            call(&self.reduce_kernels[r], node, &args, &types, &outs, &ranges)?;
        }
        let values = combine(red.op, l, &partials);
        self.pool.give_partials(r, partials);
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

fn bytes_of(ty: &TensorType) -> usize {
    ty.shape.numel() * ty.dtype.size_bytes()
}

/// The arena during a kernel call: its buffer (when the step holds one) and
/// whether the step still follows the plan (then outputs with a slot go there).
pub(super) struct Place<'b> {
    pub(super) buf: Option<&'b mut [Block]>,
    pub(super) matched: bool,
}

/// The arena's address and length in bytes.
pub(super) type Base = Option<(*mut u8, usize)>;

pub(super) fn base(buf: Option<&mut [Block]>) -> Base {
    buf.map(|b| (b.as_mut_ptr() as *mut u8, b.len() * ALIGN))
}

/// The address of the slot of `bytes` at `offset`, if it lies in the arena.
pub(super) fn slot_ptr(base: Base, offset: usize, bytes: usize) -> Option<*mut u8> {
    let (p, len) = base?;
    let inside = offset.is_multiple_of(ALIGN) && offset.checked_add(bytes)? <= len;
    inside.then(|| p.wrapping_add(offset))
}

/// An operand of a kernel call.
pub(super) enum Arg<'a> {
    Tensor(&'a Tensor),
    /// The output buffer itself (an in-place write: `inplace.rs`).
    Out,
    /// An arena slot: its address and bytes.
    Slot(*mut u8, usize),
}

impl<'a> Arg<'a> {
    /// The operand for memo value `v` (`None`: a slot outside the arena).
    pub(super) fn of(v: &'a Val, base: Base) -> Option<Arg<'a>> {
        match v {
            Val::Arena { offset, bytes } => {
                Some(Arg::Slot(slot_ptr(base, *offset, *bytes)?, *bytes))
            }
            other => Some(Arg::Tensor(other)),
        }
    }
}

/// Runs a kernel on `args` into the arena slot at `out` of `bytes` (the
/// node's size, every byte written), once per slot list of `ranges`.
pub(super) fn run_into(
    kernel: &Kernel,
    node: &Node,
    args: &[Arg],
    types: &[&TensorType],
    out: *mut u8,
    bytes: usize,
    ranges: &[Vec<usize>],
) -> Result<(), Diag> {
    if bytes != bytes_of(&node.ty) {
        return Err(at(node, "output slot of the wrong size"));
    }
    if bytes == 0 {
        return Ok(());
    }
    call(kernel, node, args, types, &[out], ranges)
}

/// Runs a kernel on `args` (checked against `types`) into `out` (of the
/// node's type, every element written), once per slot list of `ranges`. An
/// [`Arg::Out`] argument is `out` itself (an in-place write: `inplace.rs`).
pub(super) fn run_kernel(
    kernel: &Kernel,
    node: &Node,
    args: &[Arg],
    types: &[&TensorType],
    mut out: Tensor,
    ranges: &[Vec<usize>],
) -> Result<Tensor, Diag> {
    if out.is_empty() {
        return Ok(out);
    }
    if out.dtype() != node.ty.dtype || out.shape() != node.ty.shape.dims() {
        return Err(at(node, "output buffer of the wrong type"));
    }
    let ptr = out_ptr(&mut out).ok_or_else(|| at(node, "output is not contiguous"))?;
    call(kernel, node, args, types, &[ptr], ranges)?;
    Ok(out)
}

/// Checks `args` against `types` and calls `kernel` on them and `out` once
/// per slot list of `ranges` (in parallel when there are several). An
/// [`Arg::Out`] argument reads `outs[0]`, which must then have its type.
fn call(
    kernel: &Kernel,
    node: &Node,
    args: &[Arg],
    types: &[&TensorType],
    outs: &[*mut u8],
    ranges: &[Vec<usize>],
) -> Result<(), Diag> {
    let mut ptrs = Vec::with_capacity(args.len() + 1);
    for (k, (arg, ty)) in args.iter().zip(types).enumerate() {
        let arg = match arg {
            Arg::Tensor(t) => t,
            Arg::Out => {
                if **ty != node.ty || outs.len() != 1 {
                    return Err(at(node, format!("operand {k} cannot be the output")));
                }
                ptrs.push(outs[0]);
                continue;
            }
            // A slot is planned for its node's type: its size must match.
            Arg::Slot(ptr, bytes) => {
                if *bytes != bytes_of(ty) {
                    return Err(at(node, format!("operand {k}'s slot is not a {ty}")));
                }
                ptrs.push(*ptr);
                continue;
            }
        };
        // The kernel was compiled for exactly this dtype and shape.
        if arg.dtype() != ty.dtype || arg.shape() != ty.shape.dims() {
            return Err(at(
                node,
                format!("operand {k} is {} but the kernel takes {ty}", arg.ty()),
            ));
        }
        ptrs.push(data_ptr(arg).ok_or_else(|| at(node, format!("operand {k} is not contiguous")))?);
    }
    ptrs.extend_from_slice(outs);
    let calls: Vec<Vec<*mut u8>> = ranges
        .iter()
        .map(|slots| {
            let mut list = ptrs.clone();
            list.extend(slots.iter().map(|&s| s as *mut u8));
            list
        })
        .collect();
    let expected = ptrs.len() + ranges.first().map_or(0, Vec::len);
    let status = call_all(kernel, &calls, expected)?;
    if status != STATUS_OK {
        return Err(at(
            node,
            format!("kernel failed a bounds check (status {status})"),
        ));
    }
    Ok(())
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
