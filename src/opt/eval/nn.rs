//! The network ops of constant folding: `matmul`, `conv2d`, `max_pool2d`, the
//! softmaxes and the losses, each through the interpreter's own kernel in
//! `ir::kernels`, so a folded constant is the run-time value bit for bit.

use crate::kernels::conv::{self, Conv, ConvElem};
use crate::kernels::elem::Elem;
use crate::kernels::{self, matmul::Product, nn};
use crate::ir::{DType, Tensor};
use ndarray::{ArrayD, IxDyn};

/// `a @ b` with the interpreter's driver (same GEMM, same summation order).
pub(super) fn matmul(a: &Tensor, b: &Tensor) -> Option<Tensor> {
    fn go<T: Elem + Product>(a: &Tensor, b: &Tensor) -> Option<Tensor> {
        let out = kernels::matmul::matmul(T::array(a)?.view(), T::array(b)?.view()).ok()?;
        Some(T::wrap(out))
    }
    match a.dtype() {
        DType::F32 => go::<f32>(a, b),
        DType::F64 => go::<f64>(a, b),
        DType::I32 => go::<i32>(a, b),
        DType::Bool => None,
    }
}

/// `conv2d` with the interpreter's kernel (`ir::kernels::conv`: same im2col,
/// same GEMM, same summation order).
pub(super) fn conv2d(
    x: &Tensor,
    w: &Tensor,
    strides: [usize; 2],
    pads: [usize; 4],
) -> Option<Tensor> {
    fn go<T: Elem + ConvElem>(
        x: &Tensor,
        w: &Tensor,
        strides: [usize; 2],
        pads: [usize; 4],
    ) -> Option<Tensor> {
        let (x, w) = (T::array(x)?, T::array(w)?);
        let xd = <[usize; 4]>::try_from(x.shape()).ok()?;
        let wd = <[usize; 4]>::try_from(w.shape()).ok()?;
        let shape = Conv::new(xd, wd, strides, pads).ok()?;
        let xs = x.as_standard_layout();
        let ws = w.as_standard_layout();
        let out_dims = shape.out();
        let mut out = vec![T::default(); out_dims.iter().product()];
        conv::conv2d(&shape, xs.as_slice()?, ws.as_slice()?, &mut out).ok()?;
        ArrayD::from_shape_vec(IxDyn(&out_dims), out)
            .ok()
            .map(T::wrap)
    }
    match x.dtype() {
        DType::F32 => go::<f32>(x, w, strides, pads),
        DType::F64 => go::<f64>(x, w, strides, pads),
        DType::I32 => go::<i32>(x, w, strides, pads),
        DType::Bool => None,
    }
}

/// `max_pool2d`, `softmax`/`log_softmax` and the losses: the interpreter's
/// own kernels (`ir::kernels::nn`).
pub(super) fn max_pool2d<T: Elem>(
    x: &Tensor,
    size: [usize; 2],
    strides: [usize; 2],
) -> Option<Tensor> {
    nn::max_pool2d(T::array(x)?.view(), size, strides)
        .ok()
        .map(T::wrap)
}

pub(super) fn softmax<T: Elem>(x: &Tensor, axis: usize, log: bool) -> Option<Tensor> {
    nn::softmax(T::array(x)?.view(), axis, log)
        .ok()
        .map(T::wrap)
}

pub(super) fn softmax_cross_entropy<T: Elem>(logits: &Tensor, labels: &Tensor) -> Option<Tensor> {
    let value =
        nn::softmax_cross_entropy(T::array(logits)?.view(), T::array(labels)?.view()).ok()?;
    Some(T::wrap(ArrayD::from_elem(IxDyn(&[]), value)))
}

pub(super) fn mean_squared_error<T: Elem>(pred: &Tensor, target: &Tensor) -> Option<Tensor> {
    let value = nn::mean_squared_error(T::array(pred)?.view(), T::array(target)?.view()).ok()?;
    Some(T::wrap(ArrayD::from_elem(IxDyn(&[]), value)))
}
