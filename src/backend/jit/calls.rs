//! Kernel calls: operand checks, the split of a call among threads, and the
//! run of a fused reduction (kernel, then the fixed-order combine).

use super::codegen::{Kernel, STATUS_OK};
use super::exec::{at, pooled, Executable};
use super::parallel::{call_all, parts, split};
use super::plan::Step;
use super::reduce::Layout;
use super::tensors::{data_ptr, out_ptr, Val};
use crate::ir::{Node, ReduceOp, Tensor, TensorType};
use crate::ir::{NodeId, Op};
use crate::syntax::Diag;
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
    /// and the side output, if the kernel has one.
    pub(super) fn reduce(
        &self,
        r: usize,
        node: &Node,
        memo: &[Option<Val>],
    ) -> Result<(Tensor, Option<Tensor>), Diag> {
        let red = &self.reductions[r];
        let l = &red.layout;
        let args: Vec<Option<&Tensor>> = red
            .group
            .leaves
            .iter()
            .map(|&k| {
                memo[k.index()]
                    .as_deref()
                    .map(Some)
                    .ok_or_else(|| at(node, format!("input {k} was not computed")))
            })
            .collect::<Result<_, _>>()?;
        let types: Vec<&TensorType> = red.group.leaves.iter().map(|&k| self.graph.ty(k)).collect();
        let mut partials = self.pool.take_partials(r, l.partials);
        let mut side = red.side.map(|s| self.pool.take(self.graph.ty(s)));
        let mut outs = vec![partials.as_mut_ptr() as *mut u8];
        if let (Some(t), Some(id)) = (side.as_mut(), red.side) {
            let ty = self.graph.ty(id);
            if t.dtype() != ty.dtype || t.shape() != ty.shape.dims() {
                return Err(at(node, "side output buffer of the wrong type"));
            }
            outs.push(out_ptr(t).ok_or_else(|| at(node, "side output is not contiguous"))?);
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
        Ok((value, side))
    }
}

/// Runs a kernel on `args` (checked against `types`) into `out` (of the
/// node's type, every element written), once per slot list of `ranges`. A
/// `None` argument is `out` itself (an in-place write: `inplace.rs`).
pub(super) fn run_kernel(
    kernel: &Kernel,
    node: &Node,
    args: &[Option<&Tensor>],
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
/// per slot list of `ranges` (in parallel when there are several). A `None`
/// argument reads `outs[0]`, which must then have its type.
fn call(
    kernel: &Kernel,
    node: &Node,
    args: &[Option<&Tensor>],
    types: &[&TensorType],
    outs: &[*mut u8],
    ranges: &[Vec<usize>],
) -> Result<(), Diag> {
    let mut ptrs = Vec::with_capacity(args.len() + 1);
    for (k, (arg, ty)) in args.iter().zip(types).enumerate() {
        let Some(arg) = arg else {
            if **ty != node.ty || outs.len() != 1 {
                return Err(at(node, format!("operand {k} cannot be the output")));
            }
            ptrs.push(outs[0]);
            continue;
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
