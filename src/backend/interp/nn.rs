//! Network kernels: `max_pool2d`, `softmax`, `log_softmax`,
//! `softmax_cross_entropy` and `mean_squared_error`.
//!
//! Softmax-family ops and the losses compute in `f64` and round once to the
//! dtype (the JIT may compute `f32` in `f32`; the two agree to a few ulp). They
//! are numerically stable: the maximum of each row is subtracted before `exp`.
//! A row whose maximum is infinite (all `-inf`, say) gives NaN, as in NumPy.

use super::{dispatch, dispatch_float, expect_inputs, first_dtype, internal, numel, typed, Elem};
use crate::ir::kernels::conv::window_count;
use crate::ir::kernels::rows::{log_softmax_row, pairwise_sum, pairwise_sum_by, softmax_row};
use crate::ir::{BinaryOp, Node, Tensor};
use crate::syntax::Diag;
use ndarray::{ArrayD, ArrayView1, Axis, IxDyn, Zip};

/// `max_pool2d`: NHWC, VALID windows of `size` every `strides`; the maximum
/// propagates NaN like `maximum`.
pub(crate) fn max_pool2d(
    node: &Node,
    size: [usize; 2],
    strides: [usize; 2],
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    fn kernel<T: Elem>(
        node: &Node,
        size: [usize; 2],
        strides: [usize; 2],
        inputs: &[&Tensor],
    ) -> Result<Tensor, Diag> {
        let x = typed::<T>(node, inputs, 0)?;
        let &[n, h, w, c] = x.shape() else {
            return Err(internal(
                node,
                format!("expected NHWC, got {:?}", x.shape()),
            ));
        };
        if size.contains(&0) || strides.contains(&0) {
            return Err(internal(
                node,
                format!("window {size:?} and strides {strides:?} must be positive"),
            ));
        }
        let [kh, kw] = size;
        let [sh, sw] = strides;
        let (oh, ow) = (window_count(h, kh, sh), window_count(w, kw, sw));
        let total = numel(node, &[n, oh, ow, c])?;
        let xs = x
            .as_slice()
            .ok_or_else(|| internal(node, "input is not contiguous"))?;
        let mut out = Vec::with_capacity(total);
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
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    }
    dispatch!(first_dtype(node, inputs)?, T => kernel::<T>(node, size, strides, inputs))
}

fn lane_to_f64<T: Elem>(lane: ArrayView1<T>) -> Vec<f64> {
    lane.iter().map(|v| v.to_f64()).collect()
}

/// `softmax(x, axis)` or, with `log`, `log_softmax(x, axis)`.
pub(crate) fn softmax(
    node: &Node,
    axis: usize,
    log: bool,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    fn kernel<T: Elem>(
        node: &Node,
        axis: usize,
        log: bool,
        inputs: &[&Tensor],
    ) -> Result<Tensor, Diag> {
        let x = typed::<T>(node, inputs, 0)?;
        if axis >= x.ndim() {
            return Err(internal(
                node,
                format!("axis {axis} is out of range for rank {}", x.ndim()),
            ));
        }
        let mut out = x.clone();
        Zip::from(out.lanes_mut(Axis(axis))).for_each(|mut lane| {
            let mut row = lane_to_f64(lane.view());
            if log {
                log_softmax_row(&mut row);
            } else {
                softmax_row(&mut row);
            }
            for (dst, v) in lane.iter_mut().zip(row) {
                *dst = T::from_f64(v);
            }
        });
        Ok(T::wrap(out))
    }
    dispatch_float!(node, first_dtype(node, inputs)?, T => kernel::<T>(node, axis, log, inputs))
}

/// `mean_n(-sum_c labels[n, c] * log_softmax(logits)[n, c])`: inputs
/// `[logits [N, C], labels [N, C]]`; NaN for `N = 0`.
pub(crate) fn softmax_cross_entropy(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    fn kernel<T: Elem>(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
        let logits = typed::<T>(node, inputs, 0)?;
        let labels = typed::<T>(node, inputs, 1)?;
        if logits.ndim() != 2 || logits.shape() != labels.shape() {
            return Err(internal(
                node,
                format!(
                    "expected logits and labels of one shape [N, C], got {:?} and {:?}",
                    logits.shape(),
                    labels.shape()
                ),
            ));
        }
        let batch = logits.shape()[0];
        let per_row: Vec<f64> = logits
            .lanes(Axis(1))
            .into_iter()
            .zip(labels.lanes(Axis(1)))
            .map(|(logit_row, label_row)| {
                let mut row = lane_to_f64(logit_row);
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
        Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), T::from_f64(loss))))
    }
    dispatch_float!(node, first_dtype(node, inputs)?, T => kernel::<T>(node, inputs))
}

/// `mean((pred - target)^2)` over all elements: inputs `[pred, target]` of one
/// shape; NaN when there are no elements.
pub(crate) fn mean_squared_error(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    fn kernel<T: Elem>(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
        let pred = typed::<T>(node, inputs, 0)?;
        let target = typed::<T>(node, inputs, 1)?;
        if pred.shape() != target.shape() {
            return Err(internal(
                node,
                format!(
                    "prediction {:?} and target {:?} differ in shape",
                    pred.shape(),
                    target.shape()
                ),
            ));
        }
        let (pred, target) = (pred.as_standard_layout(), target.as_standard_layout());
        let (Some(p), Some(t)) = (pred.as_slice(), target.as_slice()) else {
            return Err(internal(node, "inputs are not contiguous"));
        };
        let sum = pairwise_sum_by(p.len(), &|i| {
            let d = p[i].to_f64() - t[i].to_f64();
            d * d
        });
        // 0 / 0 is NaN: the mean of nothing.
        let loss = sum / p.len() as f64;
        Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), T::from_f64(loss))))
    }
    dispatch_float!(node, first_dtype(node, inputs)?, T => kernel::<T>(node, inputs))
}
