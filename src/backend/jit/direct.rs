//! Rust kernels of the JIT for ops that are not elementwise chains,
//! reductions or matmuls: slices and their scatters, pads (constant and
//! mirror), `take` and its scatter-add, pooling and the losses with integer
//! or binary targets (`Step::Direct`).
//!
//! The arithmetic is the interpreter's: the shared slice kernels of
//! `kernels::gather`, `kernels::pool` and `kernels::loss`, which write into a
//! caller's buffer. This module is their glue: it writes each node's value
//! straight into its output (the node's arena slot or a pooled buffer: no
//! allocation per step), reads its inputs where they are (tensors or arena
//! slots), and splits large work among threads by output rows whose
//! boundaries depend only on the shapes and the thread count, so the values
//! are bitwise the interpreter's for every thread count.

mod gather;
mod loss;
mod pool;
mod rows;

use super::calls::{base, slot_ptr, Base, Place};
use super::exec::{at, Executable};
use super::tensors::{has_type, out_ptr, Val};
use crate::diag::Diag;
use crate::ir::scalar::Scalar;
use crate::ir::{DType, GradOp, Graph, Node, NodeId, Op, Tensor, TensorType};
use std::sync::Arc;

/// Whether `node` runs one of these kernels.
pub(crate) fn handled(graph: &Graph, node: &Node) -> bool {
    let dtype = |k: usize| node.inputs.get(k).map(|&i| graph.ty(i).dtype);
    let float = node.ty.dtype.is_float();
    let same = dtype(0) == Some(node.ty.dtype);
    let ints = dtype(1) == Some(DType::I32);
    let arity = node.inputs.len();
    match &node.op {
        Op::StridedSlice { .. }
        | Op::Pad { .. }
        | Op::MirrorPad { .. }
        | Op::Grad(
            GradOp::Slice { .. } | GradOp::StridedScatter { .. } | GradOp::MirrorPadGrad { .. },
        ) => arity == 1 && same,
        Op::Take { .. } | Op::Grad(GradOp::TakeGrad { .. }) => arity == 2 && same && ints,
        Op::MaxPool2d { .. } => arity == 1 && same && node.ty.dtype != DType::Bool,
        Op::AvgPool2d { .. } | Op::Grad(GradOp::AvgPool2dGrad { .. }) => {
            arity == 1 && same && float
        }
        Op::Grad(GradOp::MaxPool2dGrad { .. }) => {
            arity == 2 && same && dtype(1) == Some(node.ty.dtype) && float
        }
        Op::SparseSoftmaxCrossEntropy | Op::Grad(GradOp::SparseSoftmaxGrad) => {
            arity == 2 && same && ints && float
        }
        Op::SigmoidCrossEntropy => arity == 2 && same && dtype(1) == dtype(0) && float,
        _ => false,
    }
}

/// Whether `node` (one of these kernels) makes its step one that may fail
/// (`inplace.rs`): `take` and its adjoint (an index out of range), as when
/// they ran the interpreter's kernels. The sparse loss's label check is
/// upstream of every gradient of the logits, as before.
pub(crate) fn may_fail(node: &Node) -> bool {
    matches!(node.op, Op::Take { .. } | Op::Grad(GradOp::TakeGrad { .. }))
}

/// An input's elements, read in place.
#[derive(Clone, Copy)]
pub(crate) enum Src<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    I32(&'a [i32]),
    Bool(&'a [bool]),
}

/// An element type of these kernels: picks its slice out of a [`Src`].
pub(crate) trait Elem: Scalar + Default + Send + Sync {
    fn pick<'a>(src: Src<'a>) -> Option<&'a [Self]>;
}

macro_rules! elem {
    ($t:ty, $v:ident) => {
        impl Elem for $t {
            fn pick<'a>(src: Src<'a>) -> Option<&'a [$t]> {
                match src {
                    Src::$v(s) => Some(s),
                    _ => None,
                }
            }
        }
    };
}
elem!(f32, F32);
elem!(f64, F64);
elem!(i32, I32);
elem!(bool, Bool);

/// A node being computed: the node and its inputs.
pub(crate) struct Call<'a> {
    pub(crate) node: &'a Node,
    pub(crate) inputs: Vec<(Src<'a>, &'a TensorType)>,
}

impl<'a> Call<'a> {
    /// Input `k` as `T` elements, with its dims.
    pub(crate) fn input<T: Elem>(&self, k: usize) -> Result<(&'a [T], &'a [usize]), Diag> {
        let (src, ty) = self
            .inputs
            .get(k)
            .ok_or_else(|| self.fail(format!("has no input {k}")))?;
        let values = T::pick(*src).ok_or_else(|| self.fail(format!("input {k} is not {ty}")))?;
        if values.len() != ty.shape.numel() {
            return Err(self.fail(format!("input {k} is not a {ty}")));
        }
        Ok((values, ty.shape.dims()))
    }

    /// An internal error at the node.
    pub(crate) fn fail(&self, message: impl std::fmt::Display) -> Diag {
        at(self.node, message)
    }
}

/// The elements of memo value `v` of type `ty`: a tensor's, or an arena
/// slot's (`None` when neither fits `ty`).
fn src<'a>(v: &'a Val, ty: &TensorType, base: Base) -> Option<Src<'a>> {
    let len = ty.shape.numel();
    if let Val::Arena { offset, bytes } = v {
        if *bytes != len * ty.dtype.size_bytes() {
            return None;
        }
        let ptr = slot_ptr(base, *offset, *bytes)?;
        // SAFETY: the slot lies inside the arena (`slot_ptr` checks it), is
        // 64-byte aligned, holds `len` elements of `ty.dtype` written by the
        // kernel that computed this value, and the step holding the arena
        // writes no other slot overlapping it while this node runs (the
        // plan keeps the output's slot apart from every live input's).
        return Some(unsafe {
            match ty.dtype {
                DType::F32 => Src::F32(std::slice::from_raw_parts(ptr as *const f32, len)),
                DType::F64 => Src::F64(std::slice::from_raw_parts(ptr as *const f64, len)),
                DType::I32 => Src::I32(std::slice::from_raw_parts(ptr as *const i32, len)),
                DType::Bool => Src::Bool(std::slice::from_raw_parts(ptr as *const bool, len)),
            }
        });
    }
    if !has_type(v, ty) {
        return None;
    }
    Some(match &**v {
        Tensor::F32(a) => Src::F32(a.as_slice()?),
        Tensor::F64(a) => Src::F64(a.as_slice()?),
        Tensor::I32(a) => Src::I32(a.as_slice()?),
        Tensor::Bool(a) => Src::Bool(a.as_slice()?),
    })
}

/// Runs the node's kernel into `out` (every element written).
fn run<T: Elem>(call: &Call, out: &mut [T]) -> Result<(), Diag> {
    if out.len() != call.node.ty.shape.numel() {
        return Err(call.fail("output of the wrong size"));
    }
    match &call.node.op {
        Op::StridedSlice { .. }
        | Op::Pad { .. }
        | Op::MirrorPad { .. }
        | Op::Take { .. }
        | Op::Grad(
            GradOp::Slice { .. }
            | GradOp::StridedScatter { .. }
            | GradOp::MirrorPadGrad { .. }
            | GradOp::TakeGrad { .. },
        ) => gather::run(call, out),
        Op::MaxPool2d { .. }
        | Op::AvgPool2d { .. }
        | Op::Grad(GradOp::AvgPool2dGrad { .. } | GradOp::MaxPool2dGrad { .. }) => {
            pool::run(call, out)
        }
        Op::SparseSoftmaxCrossEntropy
        | Op::SigmoidCrossEntropy
        | Op::Grad(GradOp::SparseSoftmaxGrad) => loss::run(call, out),
        _ => Err(call.fail("has no direct kernel")),
    }
}

/// Runs the kernel into a tensor of the node's type.
fn run_tensor(call: &Call, out: &mut Tensor) -> Result<(), Diag> {
    if !has_type(out, &call.node.ty) {
        return Err(call.fail("output buffer of the wrong type"));
    }
    let missing = || call.fail("output is not contiguous");
    match out {
        Tensor::F32(a) => run(call, a.as_slice_mut().ok_or_else(missing)?),
        Tensor::F64(a) => run(call, a.as_slice_mut().ok_or_else(missing)?),
        Tensor::I32(a) => run(call, a.as_slice_mut().ok_or_else(missing)?),
        Tensor::Bool(a) => run(call, a.as_slice_mut().ok_or_else(missing)?),
    }
}

/// Runs the kernel into the arena slot at `ptr` of `len` elements of the
/// node's dtype.
fn run_slot(call: &Call, ptr: *mut u8, len: usize) -> Result<(), Diag> {
    // SAFETY: `ptr` is the node's slot inside the arena (`slot_ptr` checked
    // its bounds and alignment) sized for `len` elements of the node's dtype;
    // no input of this node shares it (the plan keeps an output's slot apart
    // from every value live at its step), and nothing else reads or writes it
    // while the kernel runs. Every bit pattern written is a valid element.
    unsafe {
        match call.node.ty.dtype {
            DType::F32 => run(call, std::slice::from_raw_parts_mut(ptr as *mut f32, len)),
            DType::F64 => run(call, std::slice::from_raw_parts_mut(ptr as *mut f64, len)),
            DType::I32 => run(call, std::slice::from_raw_parts_mut(ptr as *mut i32, len)),
            DType::Bool => {
                // Written as `bool`s by `run` before anything reads them.
                let out = std::slice::from_raw_parts_mut(ptr, len);
                out.fill(0);
                run(call, std::slice::from_raw_parts_mut(ptr as *mut bool, len))
            }
        }
    }
}

impl Executable {
    /// Computes node `id` (a `Step::Direct`) into its arena slot, when the
    /// step holds the arena and the node has one, else into a pooled buffer.
    pub(super) fn direct<'s>(
        &self,
        id: NodeId,
        memo: &[Option<Val<'s>>],
        place: Place,
    ) -> Result<Val<'s>, Diag> {
        let node = self.graph.node(id);
        let base = base(place.buf);
        let mut inputs = Vec::with_capacity(node.inputs.len());
        for &k in &node.inputs {
            let ty = self.graph.ty(k);
            let v = memo[k.index()]
                .as_ref()
                .ok_or_else(|| at(node, format!("input {k} was not computed")))?;
            let s = src(v, ty, base).ok_or_else(|| at(node, format!("input {k} is not a {ty}")))?;
            inputs.push((s, ty));
        }
        let call = Call { node, inputs };
        let slot = place.matched.then(|| self.arena_slot(id)).flatten();
        if let Some(offset) = slot {
            let len = node.ty.shape.numel();
            let bytes = len * node.ty.dtype.size_bytes();
            let ptr = slot_ptr(base, offset, bytes)
                .ok_or_else(|| at(node, "arena slot outside the arena"))?;
            if bytes > 0 {
                run_slot(&call, ptr, len)?;
            }
            return Ok(Val::Arena { offset, bytes });
        }
        let mut out = self.pool.take(&node.ty);
        if out_ptr(&mut out).is_none() && !out.is_empty() {
            return Err(at(node, "pooled buffer is not contiguous"));
        }
        match run_tensor(&call, &mut out) {
            Ok(()) => Ok(Val::Shared(Arc::new(out))),
            Err(e) => {
                self.pool.give(out);
                Err(e)
            }
        }
    }
}
