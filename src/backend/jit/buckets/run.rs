//! The buckets in a step. After each computation of the main line, the
//! buckets whose last gradient it made are started (`MPI_Iallreduce` in
//! place) and the oldest reduction still running is tested (`MPI_Test`:
//! Open MPI progresses non-blocking collectives only inside MPI calls). At
//! a bucketed `allreduce` its bucket is waited for and its value handed on.
//!
//! A bucket of one gradient that the step owns alone (read only by its
//! `allreduce`, not fetched) is reduced in that gradient's own buffer, which
//! becomes the `allreduce`'s value: no copy. Otherwise the gradients are
//! copied into the bucket's packed buffer, allocated at the first step and
//! kept, and copied out after the wait into the gradient's buffer when the
//! step owns it, or a pooled one. Either way nothing is allocated per step.

use super::{Bucket, Buckets};
use crate::backend::jit::exec::{at, check_type, pooled, Executable, Scratch};
use crate::backend::jit::tensors::{is_standard, Val};
use crate::diag::Diag;
use crate::ir::{AllreduceOp, NodeId, Op, Tensor};
use crate::kernels::collective::{self, timed, Floats, Pending};
use std::sync::{Arc, MutexGuard};

/// One bucket during a step.
#[derive(Default)]
pub(crate) struct State {
    /// The packed buffer (allocated once, kept from step to step).
    packed: Option<Tensor>,
    /// The gradient reduced in its own buffer, owned here while MPI works
    /// on it.
    held: Option<Tensor>,
    pending: Option<Pending>,
    /// The reduction in flight has completed (a test said so).
    complete: bool,
    started: bool,
    reduced: bool,
    /// Members handed on this step.
    taken: usize,
}

fn floats(tensor: &mut Tensor) -> Option<Floats> {
    match tensor {
        Tensor::F32(a) => a
            .as_slice_mut()
            .map(|s| Floats::F32(s.as_mut_ptr(), s.len())),
        Tensor::F64(a) => a
            .as_slice_mut()
            .map(|s| Floats::F64(s.as_mut_ptr(), s.len())),
        _ => None,
    }
}

/// The blocking call for a collective that cannot start one (`Mean` sums:
/// [`finish`] divides, as after a non-blocking one).
fn reduce_now(tensor: &mut Tensor, op: AllreduceOp) -> Result<(), String> {
    let op = if op == AllreduceOp::Mean {
        AllreduceOp::Sum
    } else {
        op
    };
    let world = collective::current();
    match tensor {
        Tensor::F32(a) => a
            .as_slice_mut()
            .map(|d| world.allreduce_f32_in_place(d, op)),
        Tensor::F64(a) => a
            .as_slice_mut()
            .map(|d| world.allreduce_f64_in_place(d, op)),
        _ => None,
    }
    .ok_or_else(|| "a bucket's buffer is not contiguous".to_string())
}

/// Divides a summed `Mean` by the number of processes.
fn finish(tensor: &mut Tensor, op: AllreduceOp) {
    if op != AllreduceOp::Mean {
        return;
    }
    let size = collective::current().size();
    match tensor {
        Tensor::F32(a) => a.mapv_inplace(|x| x / size as f32),
        Tensor::F64(a) => a.mapv_inplace(|x| x / size as f64),
        _ => {}
    }
}

impl Buckets {
    fn lock(&self) -> MutexGuard<'_, Vec<State>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Executable {
    /// Whether `id` is an `allreduce` a bucket reduces.
    pub(crate) fn bucketed(&self, id: NodeId) -> bool {
        matches!(self.buckets.of.get(id.index()), Some(Some(_)))
    }

    /// After the main line's item `id`: starts the buckets its gradients
    /// complete, then lets the reductions in flight progress.
    pub(crate) fn after_item(&self, id: NodeId, scratch: &mut Scratch) -> Result<(), Diag> {
        if self.buckets.is_empty() {
            return Ok(());
        }
        let mut state = self.buckets.lock();
        for &b in self
            .buckets
            .starts
            .get(id.index())
            .map_or(&[][..], Vec::as_slice)
        {
            if !state[b].started {
                self.start_bucket(b, &mut state[b], scratch)?;
            }
        }
        let world = collective::current();
        for s in state
            .iter_mut()
            .filter(|s| s.pending.is_some() && !s.complete)
        {
            let Some(pending) = &s.pending else { continue };
            s.complete = timed(|| world.test(pending));
            if !s.complete {
                break;
            }
        }
        Ok(())
    }

    /// The buffer of gradient `grad` when the step owns it alone: taken
    /// from the memo.
    fn take_own(&self, grad: NodeId, scratch: &mut Scratch) -> Option<Tensor> {
        let i = grad.index();
        let computed = pooled(self.steps.get(i))
            || !matches!(
                self.graph.node(grad).op,
                Op::Variable { .. } | Op::Placeholder { .. } | Op::Const(_) | Op::Param(_)
            );
        if !computed || scratch.remaining.get(i) != Some(&1) || self.fetched.get(i) != Some(&false)
        {
            return None;
        }
        match scratch.memo[i].take() {
            Some(Val::Shared(arc)) => match Arc::try_unwrap(arc) {
                Ok(t) if is_standard(&t) => Some(t),
                Ok(t) => {
                    scratch.memo[i] = Some(Val::Shared(Arc::new(t)));
                    None
                }
                Err(arc) => {
                    scratch.memo[i] = Some(Val::Shared(arc));
                    None
                }
            },
            other => {
                scratch.memo[i] = other;
                None
            }
        }
    }

    /// Starts bucket `b`: its gradient's own buffer, or the gradients copied
    /// into its packed buffer.
    fn start_bucket(&self, b: usize, s: &mut State, scratch: &mut Scratch) -> Result<(), Diag> {
        let bucket: &Bucket = &self.buckets.plan[b];
        let (first, _, _) = bucket.members[0];
        let node = self.graph.node(first);
        s.started = true;
        s.complete = false;
        let own = match bucket.members[..] {
            [(_, grad, _)] => self.take_own(grad, scratch),
            _ => None,
        };
        let buffer = match own {
            Some(t) => s.held.insert(t),
            None => {
                let packed = s.packed.get_or_insert_with(|| {
                    let ty = crate::ir::TensorType::new(bucket.dtype, vec![bucket.len()]);
                    Tensor::full(&ty, 0.0)
                });
                let mut offset = 0;
                for &(id, grad, len) in &bucket.members {
                    let value = scratch.memo[grad.index()]
                        .as_ref()
                        .ok_or_else(|| at(self.graph.node(id), "its gradient was not computed"))?;
                    copy_into(packed, offset, value).map_err(|m| at(node, m))?;
                    offset += len;
                }
                packed
            }
        };
        let data = floats(buffer).ok_or_else(|| at(node, "a bucket is not contiguous"))?;
        let world = collective::current();
        // SAFETY: `data` points into `s.held` or `s.packed`, which this
        // state owns (the heap data does not move with the tensor). Neither
        // is read, written, moved out or dropped until `reduce_bucket` or
        // `settle_buckets` has waited for the request.
        let pending = timed(|| unsafe { world.start_allreduce(data, bucket.op) });
        match pending {
            Some(p) => s.pending = Some(p),
            None => timed(|| reduce_now(buffer, bucket.op)).map_err(|m| at(node, m))?,
        }
        Ok(())
    }

    /// Computes the bucketed `allreduce` `id`: waits for its bucket (started
    /// now if its start was skipped) and stores its value.
    pub(crate) fn reduce_bucketed(&self, id: NodeId, scratch: &mut Scratch) -> Result<(), Diag> {
        let node = self.graph.node(id);
        let b = self.buckets.of[id.index()].ok_or_else(|| at(node, "has no bucket"))?;
        let bucket = &self.buckets.plan[b];
        let mut state = self.buckets.lock();
        let s = &mut state[b];
        if !s.started {
            self.start_bucket(b, s, scratch)?;
        }
        if !s.reduced {
            if let Some(pending) = s.pending.take() {
                timed(|| collective::current().wait(pending));
            }
            if let Some(t) = s.held.as_mut().or(s.packed.as_mut()) {
                finish(t, bucket.op);
            }
            collective::record_bucket(bucket.early);
            s.reduced = true;
        }
        let k = (bucket.members.iter().position(|m| m.0 == id))
            .ok_or_else(|| at(node, "is not in its bucket"))?;
        let (_, grad, len) = bucket.members[k];
        let offset: usize = bucket.members[..k].iter().map(|m| m.2).sum();
        let value = match s.held.take() {
            Some(t) => t,
            None => {
                let mut out = match self.take_own(grad, scratch) {
                    Some(t) => t,
                    None => self.pool.take(&node.ty),
                };
                let packed = s
                    .packed
                    .as_ref()
                    .ok_or_else(|| at(node, "no packed buffer"))?;
                copy_out(packed, offset, len, &mut out).map_err(|m| at(node, m))?;
                out
            }
        };
        collective::count_allreduces(1);
        s.taken += 1;
        if s.taken == bucket.members.len() {
            *s = State {
                packed: s.packed.take(),
                ..State::default()
            };
        }
        drop(state);
        let value = Val::Shared(Arc::new(value));
        check_type(node, &value)?;
        if let Some(m) = scratch.mem.as_mut() {
            m.computed(self, id, &value);
        }
        scratch.memo[id.index()] = Some(value);
        scratch.done[id.index()] = true;
        let Scratch {
            memo,
            remaining,
            mem,
            ..
        } = scratch;
        self.release(&[grad], memo, remaining, mem.as_mut());
        Ok(())
    }

    /// At the end of a step (after an error too): waits for reductions
    /// still in flight, so no buffer is freed under MPI, and resets the
    /// buckets for the next step.
    pub(crate) fn settle_buckets(&self) {
        if self.buckets.is_empty() {
            return;
        }
        let mut state = self.buckets.lock();
        for s in state.iter_mut() {
            if let Some(pending) = s.pending.take() {
                collective::current().wait(pending);
            }
            if let Some(t) = s.held.take() {
                self.pool.give(t);
            }
            *s = State {
                packed: s.packed.take(),
                ..State::default()
            };
        }
    }
}

/// Copies `value` (standard layout) into `packed` from element `offset`.
fn copy_into(packed: &mut Tensor, offset: usize, value: &Tensor) -> Result<(), String> {
    let gone = || "a gradient does not fit its bucket".to_string();
    match (packed, value) {
        (Tensor::F32(p), Tensor::F32(v)) => {
            let dst = p.as_slice_mut().ok_or_else(gone)?;
            let dst = dst.get_mut(offset..offset + v.len()).ok_or_else(gone)?;
            dst.iter_mut().zip(v.iter()).for_each(|(d, x)| *d = *x);
        }
        (Tensor::F64(p), Tensor::F64(v)) => {
            let dst = p.as_slice_mut().ok_or_else(gone)?;
            let dst = dst.get_mut(offset..offset + v.len()).ok_or_else(gone)?;
            dst.iter_mut().zip(v.iter()).for_each(|(d, x)| *d = *x);
        }
        _ => return Err(gone()),
    }
    Ok(())
}

/// Copies `len` elements of `packed` from `offset` into `out`.
fn copy_out(packed: &Tensor, offset: usize, len: usize, out: &mut Tensor) -> Result<(), String> {
    let done = match (packed, out) {
        (Tensor::F32(p), Tensor::F32(o)) => put(p.as_slice(), o.as_slice_mut(), offset, len),
        (Tensor::F64(p), Tensor::F64(o)) => put(p.as_slice(), o.as_slice_mut(), offset, len),
        _ => None,
    };
    done.ok_or_else(|| "a bucket's value does not fit its node".to_string())
}

fn put<T: Copy>(src: Option<&[T]>, dst: Option<&mut [T]>, offset: usize, len: usize) -> Option<()> {
    let src = src?.get(offset..offset + len)?;
    let dst = dst.filter(|d| d.len() == len)?;
    dst.copy_from_slice(src);
    Some(())
}
