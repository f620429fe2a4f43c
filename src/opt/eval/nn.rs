//! The network ops of constant folding: `matmul` and `conv2d` through the
//! interpreter's own kernels (`ir::kernels`), and `max_pool2d`, the softmaxes and
//! the losses computed as the interpreter computes them (per row in `f64`, the
//! same pairwise sums), so a folded constant is the run-time value bit for bit.

use super::Elem;
use crate::ir::kernels::conv::{self, Conv, ConvElem};
use crate::ir::kernels::rows::{log_softmax_row, pairwise_sum, pairwise_sum_by, softmax_row};
use crate::ir::kernels::{self, matmul::Product};
use crate::ir::{BinaryOp, DType, Tensor};
use ndarray::{ArrayD, Axis, IxDyn, Zip};

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

/// `max_pool2d`: NHWC, VALID windows; each window folds from `lowest` with
/// `maximum` in the interpreter's order (rows, then columns), so NaN propagates.
pub(super) fn max_pool2d<T: Elem>(
    x: &Tensor,
    size: [usize; 2],
    strides: [usize; 2],
) -> Option<Tensor> {
    let x = T::array(x)?.as_standard_layout().into_owned();
    let &[n, h, w, c] = x.shape() else {
        return None;
    };
    if size.contains(&0) || strides.contains(&0) {
        return None;
    }
    let [kh, kw] = size;
    let [sh, sw] = strides;
    let count = |len: usize, k: usize, s: usize| if len < k { 0 } else { (len - k) / s + 1 };
    let (oh, ow) = (count(h, kh, sh), count(w, kw, sw));
    let xs = x.as_slice()?;
    let mut out = Vec::with_capacity(n.checked_mul(oh)?.checked_mul(ow)?.checked_mul(c)?);
    let mut acc = vec![T::lowest(); c];
    for image in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                acc.fill(T::lowest());
                for ky in 0..kh {
                    for kx in 0..kw {
                        let (iy, ix) = (oy * sh + ky, ox * sw + kx);
                        let src = &xs[((image * h + iy) * w + ix) * c..][..c];
                        for (m, &v) in acc.iter_mut().zip(src) {
                            *m = T::binary(BinaryOp::Maximum, *m, v);
                        }
                    }
                }
                out.extend_from_slice(&acc);
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[n, oh, ow, c]), out)
        .ok()
        .map(T::wrap)
}

/// `softmax`/`log_softmax` along `axis`: each lane in `f64`, rounded once.
pub(super) fn softmax<T: Elem>(x: &Tensor, axis: usize, log: bool) -> Option<Tensor> {
    let x = T::array(x)?;
    if axis >= x.ndim() {
        return None;
    }
    let mut out = x.clone();
    Zip::from(out.lanes_mut(Axis(axis))).for_each(|mut lane| {
        let mut row: Vec<f64> = lane.iter().map(|v| v.to_f64()).collect();
        if log {
            log_softmax_row(&mut row);
        } else {
            softmax_row(&mut row);
        }
        for (dst, v) in lane.iter_mut().zip(row) {
            *dst = T::from_f64(v);
        }
    });
    Some(T::wrap(out))
}

/// `mean_n(-sum_c labels * log_softmax(logits))` over `[N, C]` rows.
pub(super) fn softmax_cross_entropy<T: Elem>(logits: &Tensor, labels: &Tensor) -> Option<Tensor> {
    let (logits, labels) = (T::array(logits)?, T::array(labels)?);
    if logits.ndim() != 2 || logits.shape() != labels.shape() {
        return None;
    }
    let batch = logits.shape()[0];
    let per_row: Vec<f64> = logits
        .lanes(Axis(1))
        .into_iter()
        .zip(labels.lanes(Axis(1)))
        .map(|(logit_row, label_row)| {
            let mut row: Vec<f64> = logit_row.iter().map(|v| v.to_f64()).collect();
            log_softmax_row(&mut row);
            let terms: Vec<f64> = row
                .iter()
                .zip(label_row)
                .map(|(&l, y)| -y.to_f64() * l)
                .collect();
            pairwise_sum(&terms)
        })
        .collect();
    let loss = pairwise_sum(&per_row) / batch as f64;
    Some(T::wrap(ArrayD::from_elem(IxDyn(&[]), T::from_f64(loss))))
}

/// `mean((pred - target)^2)` in `f64` (NaN for no elements).
pub(super) fn mean_squared_error<T: Elem>(pred: &Tensor, target: &Tensor) -> Option<Tensor> {
    let (pred, target) = (T::array(pred)?, T::array(target)?);
    if pred.shape() != target.shape() {
        return None;
    }
    let (pred, target) = (pred.as_standard_layout(), target.as_standard_layout());
    let (p, t) = (pred.as_slice()?, target.as_slice()?);
    let sum = pairwise_sum_by(p.len(), &|i| {
        let d = p[i].to_f64() - t[i].to_f64();
        d * d
    });
    let loss = sum / p.len() as f64;
    Some(T::wrap(ArrayD::from_elem(IxDyn(&[]), T::from_f64(loss))))
}
