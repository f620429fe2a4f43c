//! Buffers reused from step to step: a kernel's output is taken from the pool
//! (allocated and page-faulted only on the first step) and given back at the
//! end of the step unless it was fetched (fetched values are handed out).
//!
//! Every buffer taken is fully overwritten by its kernel, so a reused buffer
//! is never read before it is written.

use crate::ir::{DType, Tensor, TensorType};
use ndarray::IxDyn;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// A buffer's dtype and element count.
type Size = (DType, usize);

#[derive(Default)]
pub(crate) struct Pool {
    /// Per dtype and element count: the free buffers (a buffer serves every
    /// shape of its size; it is reshaped when taken). A short list searched
    /// linearly (an executable has few distinct sizes; hashing cost more on
    /// the small kernels of a fold body).
    tensors: Mutex<Vec<(Size, Vec<Tensor>)>>,
    /// Per reduction kernel: its partials buffer.
    partials: Mutex<HashMap<usize, Vec<f64>>>,
    /// Bytes of the free buffers, and of every buffer `take` allocated (for
    /// `TDSL_MEM_LOG`; partials are not counted).
    spare: AtomicUsize,
    allocated: AtomicUsize,
    /// The arena of values with a static slot (`arena.rs`), kept across steps.
    pub(crate) arena: super::arena::Store,
}

fn bytes(t: &Tensor) -> usize {
    t.len() * t.dtype().size_bytes()
}

impl Pool {
    /// A buffer of type `ty`: a pooled one, or a new zeroed one.
    pub(crate) fn take(&self, ty: &TensorType) -> Tensor {
        let key = (ty.dtype, ty.shape.numel());
        let pooled = self.tensors.lock().ok().and_then(|mut list| {
            list.iter_mut()
                .find(|(k, _)| *k == key)
                .and_then(|(_, free)| free.pop())
        });
        match pooled.and_then(|t| {
            self.spare.fetch_sub(bytes(&t), Relaxed);
            reshape(t, ty.shape.dims())
        }) {
            Some(t) => t,
            None => {
                let t = Tensor::full(ty, 0.0);
                self.allocated.fetch_add(bytes(&t), Relaxed);
                t
            }
        }
    }

    /// Bytes of the free buffers.
    pub(crate) fn spare(&self) -> usize {
        self.spare.load(Relaxed)
    }

    /// Bytes allocated by [`Pool::take`] so far.
    pub(crate) fn allocated(&self) -> usize {
        self.allocated.load(Relaxed)
    }

    /// Returns a buffer for later steps (kept only when contiguous: kernels
    /// write it as one slice).
    pub(crate) fn give(&self, t: Tensor) {
        if !super::tensors::is_standard(&t) {
            return;
        }
        if let Ok(mut list) = self.tensors.lock() {
            self.spare.fetch_add(bytes(&t), Relaxed);
            let key = (t.dtype(), t.len());
            match list.iter_mut().find(|(k, _)| *k == key) {
                Some((_, free)) => free.push(t),
                None => list.push((key, vec![t])),
            }
        }
    }

    /// Returns a buffer for later steps if fewer than `cap` of its type are
    /// pooled (buffers handed in from outside are bounded this way; see
    /// `Executable::recycle`).
    pub(crate) fn give_bounded(&self, t: Tensor, cap: usize) {
        if !super::tensors::is_standard(&t) {
            return;
        }
        if let Ok(mut list) = self.tensors.lock() {
            let key = (t.dtype(), t.len());
            let size = bytes(&t);
            let kept = match list.iter_mut().find(|(k, _)| *k == key) {
                Some((_, free)) if free.len() < cap => {
                    free.push(t);
                    true
                }
                Some(_) => false,
                None if cap > 0 => {
                    list.push((key, vec![t]));
                    true
                }
                None => false,
            };
            if kept {
                self.spare.fetch_add(size, Relaxed);
            }
        }
    }

    /// How many buffers are pooled (tests: the pool must not grow).
    pub(crate) fn len(&self) -> usize {
        self.tensors
            .lock()
            .map(|list| list.iter().map(|(_, free)| free.len()).sum())
            .unwrap_or(0)
    }

    /// The partials buffer of reduction `r`, of `len` elements.
    pub(crate) fn take_partials(&self, r: usize, len: usize) -> Vec<f64> {
        let mut v = self
            .partials
            .lock()
            .ok()
            .and_then(|mut map| map.remove(&r))
            .unwrap_or_default();
        v.resize(len, 0.0);
        v
    }

    pub(crate) fn give_partials(&self, r: usize, v: Vec<f64>) {
        if let Ok(mut map) = self.partials.lock() {
            map.insert(r, v);
        }
    }
}

/// `t` (standard layout) with shape `dims` of the same element count.
fn reshape(t: Tensor, dims: &[usize]) -> Option<Tensor> {
    let d = IxDyn(dims);
    Some(match t {
        Tensor::F32(a) => Tensor::F32(a.into_shape_with_order(d).ok()?),
        Tensor::F64(a) => Tensor::F64(a.into_shape_with_order(d).ok()?),
        Tensor::I32(a) => Tensor::I32(a.into_shape_with_order(d).ok()?),
        Tensor::Bool(a) => Tensor::Bool(a.into_shape_with_order(d).ok()?),
    })
}
