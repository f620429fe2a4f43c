//! `conv2d` and its two backward ops (`conv2d_backprop_input`,
//! `conv2d_backprop_filter`): the shared kernels of [`crate::kernels::conv`]
//! on the tensors' row-major slices, in the node's own dtype (f32 in f32, with
//! the shared GEMM). The output shape is checked against the node's type.

use super::{internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::{DType, Node, Tensor};
use crate::kernels::conv::{self, Conv, ConvElem};
use ndarray::{ArrayD, CowArray, IxDyn};
use std::borrow::Cow;

/// Which convolution a node computes.
#[derive(Clone, Copy)]
pub(crate) enum Which {
    /// `conv2d(x, w)`.
    Forward,
    /// `conv2d_backprop_input(g, w)`: the node's type is the input's.
    Input,
    /// `conv2d_backprop_filter(x, g)`: the node's type is the filter's.
    Filter,
}

/// Evaluates the convolution `which` of `node` on its two inputs.
pub(crate) fn eval(
    node: &Node,
    which: Which,
    strides: [usize; 2],
    pads: [usize; 4],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    if inputs.len() != 2 {
        return Err(internal(
            node,
            format!("expected 2 inputs, got {}", inputs.len()),
        ));
    }
    match node.ty.dtype {
        DType::F32 => kernel::<f32>(node, which, strides, pads, inputs),
        DType::F64 => kernel::<f64>(node, which, strides, pads, inputs),
        DType::I32 => kernel::<i32>(node, which, strides, pads, inputs),
        DType::Bool => Err(internal(node, "not defined on bool")),
    }
}

fn dims4(node: &Node, dims: &[usize], what: &str) -> Result<[usize; 4], Diag> {
    <[usize; 4]>::try_from(dims).map_err(|_| internal(node, format!("{what} {dims:?} is not 4-D")))
}

/// The values of a 4-D input in row-major order (borrowed when already so).
fn values<'t, T: Elem>(node: &Node, a: &'t ArrayD<T>) -> Result<Cow<'t, [T]>, Diag> {
    if let Some(s) = a.as_slice() {
        return Ok(Cow::Borrowed(s));
    }
    let owned: CowArray<T, IxDyn> = a.as_standard_layout();
    owned
        .as_slice()
        .map(|s| Cow::Owned(s.to_vec()))
        .ok_or_else(|| internal(node, "cannot lay out the input"))
}

fn kernel<T: Elem + ConvElem>(
    node: &Node,
    which: Which,
    strides: [usize; 2],
    pads: [usize; 4],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    let a = typed::<T>(node, inputs, 0)?;
    let b = typed::<T>(node, inputs, 1)?;
    let own = node.ty.shape.dims();
    let (x, w) = match which {
        Which::Forward => (a.shape(), b.shape()),
        Which::Input => (own, b.shape()),
        Which::Filter => (a.shape(), own),
    };
    let shape = Conv::new(
        dims4(node, x, "input")?,
        dims4(node, w, "filter")?,
        strides,
        pads,
    )
    .map_err(|m| internal(node, m))?;
    // The gradient input must have the forward output's shape.
    let g_dims = match which {
        Which::Forward => None,
        Which::Input => Some(a.shape()),
        Which::Filter => Some(b.shape()),
    };
    if g_dims.is_some_and(|g| g != shape.out()) {
        return Err(internal(
            node,
            format!(
                "gradient {:?} does not fit input {x:?} and filter {w:?} (output {:?})",
                g_dims.unwrap_or_default(),
                shape.out()
            ),
        ));
    }
    let out_dims: &[usize] = match which {
        Which::Forward => &shape.out(),
        Which::Input | Which::Filter => own,
    };
    let (av, bv) = (values(node, a)?, values(node, b)?);
    let mut out = vec![T::default(); out_dims.iter().product()];
    match which {
        Which::Forward => conv::conv2d(&shape, &av, &bv, &mut out),
        Which::Input => conv::conv2d_backprop_input(&shape, &av, &bv, &mut out),
        Which::Filter => conv::conv2d_backprop_filter(&shape, &av, &bv, &mut out),
    }
    .map_err(|m| internal(node, m))?;
    ArrayD::from_shape_vec(IxDyn(out_dims), out)
        .map(T::wrap)
        .map_err(|e| internal(node, e))
}
