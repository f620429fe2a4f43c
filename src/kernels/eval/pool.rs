//! Pooling kernels on tensors: `max_pool2d`, `avg_pool2d` and their adjoints
//! (`max_pool2d_grad`, `avg_pool2d_grad`), through the shared `kernels::pool`.

use super::{dispatch, dispatch_float, internal, row_major, typed, Elem};
use crate::diag::Diag;
use crate::ir::{Node, Tensor};
use crate::kernels::pool::{self, Pool};
use ndarray::{ArrayD, IxDyn};
use std::borrow::Cow;

/// Which pooling kernel to run.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Which {
    Max,
    Avg,
    /// Inputs `[x, g]`; the node's type is `x`'s.
    MaxGrad,
    /// Inputs `[g]`; the node's type is the forward input's.
    AvgGrad,
}

/// Runs one pooling kernel with `window = (size, strides, pads)`.
pub(crate) fn eval(
    node: &Node,
    which: Which,
    window: ([usize; 2], [usize; 2], [usize; 4]),
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    let count = match which {
        Which::MaxGrad => 2,
        _ => 1,
    };
    super::expect_inputs(node, inputs, count)?;
    fn kernel<T: Elem>(
        node: &Node,
        which: Which,
        window: ([usize; 2], [usize; 2], [usize; 4]),
        inputs: &[&Tensor],
    ) -> Result<Tensor, Diag> {
        let (size, strides, pads) = window;
        // The forward input's dims: input 0 of a forward op, the node's type
        // for the adjoints.
        let input_dims = match which {
            Which::Max | Which::Avg => typed::<T>(node, inputs, 0)?.shape().to_vec(),
            Which::MaxGrad | Which::AvgGrad => node.ty.shape.dims().to_vec(),
        };
        let geometry =
            Pool::new(&input_dims, size, strides, pads).map_err(|m| internal(node, m))?;
        let contiguous = |k: usize| Ok::<_, Diag>(row_major::<T>(node, inputs, k)?.0);
        let fail = |m: String| internal(node, m);
        let gradient = |k: usize| -> Result<Cow<'_, [T]>, Diag> {
            let (g, dims) = row_major::<T>(node, inputs, k)?;
            if dims != geometry.output {
                return Err(fail(format!(
                    "the gradient {dims:?} does not fit {geometry:?}"
                )));
            }
            Ok(g)
        };
        let (len, dims) = match which {
            Which::Max | Which::Avg => (geometry.output_len(), geometry.output),
            Which::MaxGrad | Which::AvgGrad => (geometry.input_len(), geometry.input),
        };
        let mut out = vec![T::default(); len];
        match which {
            Which::Max => pool::max_pool2d(&geometry, &contiguous(0)?, 0, &mut out),
            Which::Avg => pool::avg_pool2d(&geometry, &contiguous(0)?, 0, &mut out),
            Which::MaxGrad => {
                pool::max_pool2d_grad(&geometry, &contiguous(0)?, &gradient(1)?, 0, &mut out)
            }
            Which::AvgGrad => pool::avg_pool2d_grad(&geometry, &gradient(0)?, 0, &mut out),
        }
        .map_err(fail)?;
        ArrayD::from_shape_vec(IxDyn(&dims), out)
            .map(T::wrap)
            .map_err(|e| internal(node, e))
    }
    let dtype = super::first_dtype(node, inputs)?;
    match which {
        Which::Max => dispatch!(dtype, T => kernel::<T>(node, which, window, inputs)),
        _ => dispatch_float!(node, dtype, T => kernel::<T>(node, which, window, inputs)),
    }
}
