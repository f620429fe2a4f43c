//! Network kernels: `softmax`, `log_softmax`, `softmax_cross_entropy` and
//! `mean_squared_error` (pooling is in `pool.rs`, the other losses in `loss.rs`).
//!
//! Softmax-family ops and the losses compute in `f64` and round once to the
//! dtype (the JIT may compute `f32` in `f32`; the two agree to a few ulp). They
//! are numerically stable: the maximum of each row is subtracted before `exp`.
//! A row whose maximum is infinite (all `-inf`, say) gives NaN, as in NumPy.

use super::{dispatch_float, expect_inputs, first_dtype, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::{Node, Tensor};
use crate::kernels::nn;
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// `softmax(x, axis)` or, with `log`, `log_softmax(x, axis)`.
pub(crate) fn softmax(
    node: &Node,
    axis: usize,
    log: bool,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 1)?;
    dispatch_float!(node, first_dtype(node, inputs)?, T => {
        let x = typed::<T>(node, inputs, 0)?;
        nn::softmax(x.view(), axis, log)
            .map(T::wrap)
            .map_err(|m| internal(node, m))
    })
}

/// A loss over two same-typed inputs, as a scalar tensor.
fn loss<T: Elem>(
    node: &Node,
    inputs: &[&Tensor],
    f: impl Fn(ArrayViewD<T>, ArrayViewD<T>) -> Result<T, String>,
) -> Result<Tensor, Diag> {
    let (a, b) = (typed::<T>(node, inputs, 0)?, typed::<T>(node, inputs, 1)?);
    let value = f(a.view(), b.view()).map_err(|m| internal(node, m))?;
    Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), value)))
}

/// `mean_n(-sum_c labels[n, c] * log_softmax(logits)[n, c])`: inputs
/// `[logits [N, C], labels [N, C]]`; NaN for `N = 0`.
pub(crate) fn softmax_cross_entropy(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    dispatch_float!(node, first_dtype(node, inputs)?, T => loss(node, inputs, nn::softmax_cross_entropy::<T>))
}

/// `mean((pred - target)^2)` over all elements: inputs `[pred, target]` of one
/// shape; NaN when there are no elements.
pub(crate) fn mean_squared_error(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    expect_inputs(node, inputs, 2)?;
    dispatch_float!(node, first_dtype(node, inputs)?, T => loss(node, inputs, nn::mean_squared_error::<T>))
}
