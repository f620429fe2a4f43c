//! Elementwise kernels: unary, binary (NumPy broadcasting), `where`, `cast`,
//! `broadcast`. The meaning of each scalar op is [`crate::ir::scalar`]'s.

use super::{arg, dispatch, expect_inputs, first_dtype, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::scalar::{self, Scalar};
use crate::ir::{BinaryOp, DType, Node, Tensor, UnaryOp};
use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};

/// The NumPy broadcast of several shapes (aligned from the right; each axis is
/// equal or 1), or an internal error.
pub(crate) fn broadcast_shapes(node: &Node, shapes: &[&[usize]]) -> Result<Vec<usize>, Diag> {
    let both = |out: Vec<usize>, s: &&[usize]| crate::ir::infer::broadcast_dims(&out, s);
    shapes
        .iter()
        .try_fold(Vec::new(), both)
        .ok_or_else(|| internal(node, format!("shapes {shapes:?} do not broadcast together")))
}

/// A view of `a` broadcast to `shape`, or an internal error.
pub(crate) fn broadcast_view<'a, T>(
    node: &Node,
    a: &'a ArrayD<T>,
    shape: &[usize],
) -> Result<ArrayViewD<'a, T>, Diag> {
    a.broadcast(IxDyn(shape)).ok_or_else(|| {
        internal(
            node,
            format!("cannot broadcast {:?} to {:?}", a.shape(), shape),
        )
    })
}

pub(crate) fn unary(node: &Node, op: UnaryOp, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    let dtype = first_dtype(node, inputs)?;
    if !scalar::unary_supported(op, dtype) {
        return Err(internal(node, format!("not defined on {dtype}")));
    }
    dispatch!(dtype, T => {
        let a = typed::<T>(node, inputs, 0)?;
        Ok(T::wrap(a.mapv(|x| T::unary(op, x))))
    })
}

pub(crate) fn binary(node: &Node, op: BinaryOp, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    let dtype = first_dtype(node, inputs)?;
    if !scalar::binary_supported(op, dtype) {
        return Err(internal(node, format!("not defined on {dtype}")));
    }
    dispatch!(dtype, T => {
        let a = typed::<T>(node, inputs, 0)?;
        let b = typed::<T>(node, inputs, 1)?;
        let shape = broadcast_shapes(node, &[a.shape(), b.shape()])?;
        let a = broadcast_view(node, a, &shape)?;
        let b = broadcast_view(node, b, &shape)?;
        let zip = Zip::from(&a).and(&b);
        Ok(if op.is_comparison() || op.is_logical() {
            Tensor::Bool(zip.map_collect(|&x, &y| T::compare(op, x, y)))
        } else {
            T::wrap(zip.map_collect(|&x, &y| T::binary(op, x, y)))
        })
    })
}

/// `where(c, a, b)`: inputs `[c: bool, a, b]`, broadcast together.
pub(crate) fn select(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 3)?;
    let dtype = arg(node, inputs, 1)?.dtype();
    dispatch!(dtype, T => {
        let c = typed::<bool>(node, inputs, 0)?;
        let a = typed::<T>(node, inputs, 1)?;
        let b = typed::<T>(node, inputs, 2)?;
        let shape = broadcast_shapes(node, &[c.shape(), a.shape(), b.shape()])?;
        let c = broadcast_view(node, c, &shape)?;
        let a = broadcast_view(node, a, &shape)?;
        let b = broadcast_view(node, b, &shape)?;
        Ok(T::wrap(
            Zip::from(&c)
                .and(&a)
                .and(&b)
                .map_collect(|&c, &x, &y| if c { x } else { y }),
        ))
    })
}

/// `cast(x, dtype)`, with [`scalar::cast`]'s semantics.
pub(crate) fn cast(node: &Node, dtype: DType, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    fn to<T: Elem>(x: &Tensor) -> Tensor {
        T::wrap(match x {
            Tensor::F32(a) => a.mapv(scalar::cast::<f32, T>),
            Tensor::F64(a) => a.mapv(scalar::cast::<f64, T>),
            Tensor::I32(a) => a.mapv(scalar::cast::<i32, T>),
            Tensor::Bool(a) => a.mapv(scalar::cast::<bool, T>),
        })
    }
    let x = arg(node, inputs, 0)?;
    Ok(dispatch!(dtype, T => to::<T>(x)))
}

/// Broadcasts input 0 to the node's shape.
pub(crate) fn broadcast(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    dispatch!(first_dtype(node, inputs)?, T => {
        let a = typed::<T>(node, inputs, 0)?;
        Ok(T::wrap(
            broadcast_view(node, a, node.ty.shape.dims())?.to_owned(),
        ))
    })
}
