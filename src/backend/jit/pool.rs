//! Buffers reused from step to step: a kernel's output is taken from the pool
//! (allocated and page-faulted only on the first step) and given back at the
//! end of the step unless it was fetched (fetched values are handed out).
//!
//! Every buffer taken is fully overwritten by its kernel, so a reused buffer
//! is never read before it is written.

use crate::ir::{Tensor, TensorType};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct Pool {
    tensors: Mutex<HashMap<TensorType, Vec<Tensor>>>,
    /// Per reduction kernel: its partials buffer.
    partials: Mutex<HashMap<usize, Vec<f64>>>,
}

impl Pool {
    /// A buffer of type `ty`: a pooled one, or a new zeroed one.
    pub(crate) fn take(&self, ty: &TensorType) -> Tensor {
        let pooled = self
            .tensors
            .lock()
            .ok()
            .and_then(|mut map| map.get_mut(ty).and_then(Vec::pop));
        pooled.unwrap_or_else(|| Tensor::full(ty, 0.0))
    }

    /// Returns a buffer for later steps.
    pub(crate) fn give(&self, t: Tensor) {
        if let Ok(mut map) = self.tensors.lock() {
            map.entry(t.ty()).or_default().push(t);
        }
    }

    /// Returns a buffer for later steps if fewer than `cap` of its type are
    /// pooled (buffers handed in from outside are bounded this way; see
    /// `Executable::recycle`).
    pub(crate) fn give_bounded(&self, t: Tensor, cap: usize) {
        if let Ok(mut map) = self.tensors.lock() {
            let pooled = map.entry(t.ty()).or_default();
            if pooled.len() < cap {
                pooled.push(t);
            }
        }
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
