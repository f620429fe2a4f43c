//! 2-D pooling (`max_pool2d`, `avg_pool2d` and their adjoints) in the JIT:
//! the shared kernels of `kernels::pool` on the node's buffers, the forward
//! ops split among threads by output rows `(image, oy)`, the adjoints by
//! image (the windows of one image add into it in order).

use super::rows::for_rows;
use super::{Call, Elem};
use crate::diag::Diag;
use crate::ir::{GradOp, Op};
use crate::kernels::pool::{self, Pool};

/// Runs the pooling node of `call` into `out`.
pub(super) fn run<T: Elem>(call: &Call, out: &mut [T]) -> Result<(), Diag> {
    let (window, grad) = match &call.node.op {
        Op::MaxPool2d {
            size,
            strides,
            pads,
        }
        | Op::AvgPool2d {
            size,
            strides,
            pads,
        } => ((*size, *strides, *pads), false),
        Op::Grad(
            GradOp::MaxPool2dGrad {
                size,
                strides,
                pads,
            }
            | GradOp::AvgPool2dGrad {
                size,
                strides,
                pads,
            },
        ) => ((*size, *strides, *pads), true),
        _ => return Err(call.fail("is not a pooling op")),
    };
    // The forward input's dims: input 0 of a forward op, the node's type for
    // the adjoints.
    let dims = match grad {
        false => call.input::<T>(0)?.1,
        true => call.node.ty.shape.dims(),
    };
    let (size, strides, pads) = window;
    let p = Pool::new(dims, size, strides, pads).map_err(|m| call.fail(m))?;
    let total = if grad { p.input_len() } else { p.output_len() };
    if out.len() != total {
        return Err(call.fail(format!("{} output elements for {p:?}", out.len())));
    }
    let max = matches!(
        call.node.op,
        Op::MaxPool2d { .. } | Op::Grad(GradOp::MaxPool2dGrad { .. })
    );
    let done = match (grad, max) {
        (false, max) => {
            let (x, _) = call.input::<T>(0)?;
            for_rows(
                out,
                p.row_len(),
                p.work(out.len()),
                |first, rows| match max {
                    true => pool::max_pool2d(&p, x, first, rows),
                    false => pool::avg_pool2d(&p, x, first, rows),
                },
            )
        }
        (true, true) => {
            let ((x, _), (g, _)) = (call.input::<T>(0)?, call.input::<T>(1)?);
            for_rows(out, p.image_len(), p.work(g.len()), |first, images| {
                pool::max_pool2d_grad(&p, x, g, first, images)
            })
        }
        (true, false) => {
            let (g, _) = call.input::<T>(0)?;
            for_rows(out, p.image_len(), p.work(g.len()), |first, images| {
                pool::avg_pool2d_grad(&p, g, first, images)
            })
        }
    };
    done.map_err(|m| call.fail(m))
}
