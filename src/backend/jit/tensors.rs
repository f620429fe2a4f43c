//! Raw views of tensors for kernel calls, and layout helpers.

use crate::ir::{Tensor, TensorType};
use ndarray::{ArrayD, Axis};
use std::sync::Arc;

/// The address of a contiguous tensor's first element (read only).
pub(crate) fn data_ptr(t: &Tensor) -> Option<*mut u8> {
    Some(match t {
        Tensor::F32(a) => a.as_slice()?.as_ptr() as *mut u8,
        Tensor::F64(a) => a.as_slice()?.as_ptr() as *mut u8,
        Tensor::I32(a) => a.as_slice()?.as_ptr() as *mut u8,
        Tensor::Bool(a) => a.as_slice()?.as_ptr() as *mut u8,
    })
}

/// The address of a contiguous tensor's first element (written by the kernel).
pub(crate) fn out_ptr(t: &mut Tensor) -> Option<*mut u8> {
    Some(match t {
        Tensor::F32(a) => a.as_slice_mut()?.as_mut_ptr() as *mut u8,
        Tensor::F64(a) => a.as_slice_mut()?.as_mut_ptr() as *mut u8,
        Tensor::I32(a) => a.as_slice_mut()?.as_mut_ptr() as *mut u8,
        Tensor::Bool(a) => a.as_slice_mut()?.as_mut_ptr() as *mut u8,
    })
}

/// Whether `t` has dtype `ty.dtype` and shape `ty.shape`: the check before
/// every kernel call, compared inline (a slice `!=` calls `memcmp`, which
/// costs more than the few dims it compares, hundreds of times a step).
pub(crate) fn has_type(t: &Tensor, ty: &TensorType) -> bool {
    t.dtype() == ty.dtype && same_dims(t.shape(), ty.shape.dims())
}

/// `a == b` for two types, compared inline like [`has_type`].
pub(crate) fn same_type(a: &TensorType, b: &TensorType) -> bool {
    a.dtype == b.dtype && same_dims(a.shape.dims(), b.shape.dims())
}

fn same_dims(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

pub(crate) fn is_standard(t: &Tensor) -> bool {
    match t {
        Tensor::F32(a) => a.is_standard_layout(),
        Tensor::F64(a) => a.is_standard_layout(),
        Tensor::I32(a) => a.is_standard_layout(),
        Tensor::Bool(a) => a.is_standard_layout(),
    }
}

/// Writes `xs[t]` (along the first axis) into `out`, whose shape is `xs`'s
/// without the first axis: one `memcpy` when both are contiguous. `None` on a
/// type or shape mismatch, or `t` out of range.
pub(crate) fn copy_row(xs: &Tensor, t: usize, out: &mut Tensor) -> Option<()> {
    fn copy<T: Copy>(xs: &ArrayD<T>, t: usize, out: &mut ArrayD<T>) -> Option<()> {
        let (&steps, row) = xs.shape().split_first()?;
        if t >= steps || row != out.shape() {
            return None;
        }
        let n = out.len();
        match (xs.as_slice(), out.as_slice_mut()) {
            (Some(src), Some(dst)) => dst.copy_from_slice(src.get(t * n..(t + 1) * n)?),
            _ => out.assign(&xs.index_axis(Axis(0), t)),
        }
        Some(())
    }
    match (xs, out) {
        (Tensor::F32(a), Tensor::F32(b)) => copy(a, t, b),
        (Tensor::F64(a), Tensor::F64(b)) => copy(a, t, b),
        (Tensor::I32(a), Tensor::I32(b)) => copy(a, t, b),
        (Tensor::Bool(a), Tensor::Bool(b)) => copy(a, t, b),
        _ => None,
    }
}

/// A value in a step's memo: a feed or variable borrowed from the step's inputs
/// (no copy per step), a computed or constant tensor, or a slot of the step's
/// arena (`arena.rs`: read only by native kernels, through a pointer).
#[derive(Clone, Debug)]
pub(crate) enum Val<'s> {
    Borrowed(&'s Tensor),
    Shared(Arc<Tensor>),
    /// `bytes` at byte `offset` of the arena. Not a tensor: seen as a tensor
    /// (`Deref`) it is empty, which every type check rejects; the plan lets
    /// only kernels read it and `Executable::eval` checks that.
    Arena {
        offset: usize,
        bytes: usize,
    },
}

/// What an arena value looks like as a tensor: `f32[0]`, of no node's type.
fn no_tensor() -> &'static Tensor {
    static EMPTY: std::sync::OnceLock<Tensor> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Tensor::F32(ArrayD::zeros(ndarray::IxDyn(&[0]))))
}

impl Val<'_> {
    /// Bytes of the value.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Val::Arena { bytes, .. } => *bytes,
            other => other.len() * other.dtype().size_bytes(),
        }
    }

    /// `t` itself when it is in standard layout, else a standard copy.
    pub(crate) fn of(t: &Tensor) -> Val<'_> {
        if is_standard(t) {
            Val::Borrowed(t)
        } else {
            Val::Shared(Arc::new(t.clone().into_standard_layout()))
        }
    }

    /// The value as a shared tensor (a copy only for a borrowed one).
    pub(crate) fn to_arc(&self) -> Arc<Tensor> {
        match self {
            Val::Borrowed(t) => Arc::new(Tensor::clone(t)),
            Val::Shared(a) => Arc::clone(a),
            Val::Arena { .. } => Arc::new(no_tensor().clone()),
        }
    }

    /// The tensor, moved out when nothing else shares it.
    pub(crate) fn into_owned(self) -> Tensor {
        match self {
            Val::Borrowed(t) => t.clone(),
            Val::Shared(a) => Arc::try_unwrap(a).unwrap_or_else(|shared| Tensor::clone(&shared)),
            Val::Arena { .. } => no_tensor().clone(),
        }
    }
}

impl std::ops::Deref for Val<'_> {
    type Target = Tensor;

    fn deref(&self) -> &Tensor {
        match self {
            Val::Borrowed(t) => t,
            Val::Shared(a) => a,
            Val::Arena { .. } => no_tensor(),
        }
    }
}
