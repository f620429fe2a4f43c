//! The losses with integer or binary targets in the JIT: the shared kernels
//! of `kernels::loss` on the node's buffers, the means' pairwise sums split
//! in halves among threads (from 16K terms), the sparse gradient by rows. A
//! label out of range is the user's run-time error naming the row.

use super::rows::for_rows;
use super::{Call, Elem};
use crate::backend::jit::parallel::parts;
use crate::diag::Diag;
use crate::ir::{GradOp, Op};
use crate::kernels::loss;

/// Runs the loss node of `call` into `out`.
pub(super) fn run<T: Elem>(call: &Call, out: &mut [T]) -> Result<(), Diag> {
    let fault = |f: crate::kernels::fault::Fault| f.at(call.node, "jit");
    let (x, x_dims) = call.input::<T>(0)?;
    if let Op::SigmoidCrossEntropy = call.node.op {
        let (z, z_dims) = call.input::<T>(1)?;
        let split = parts(x.len().max(z.len())) > 1;
        let mean = loss::sigmoid_cross_entropy((x, x_dims), (z, z_dims), split)
            .map_err(|m| call.fail(m))?;
        out.fill(T::from_f64(mean));
        return Ok(());
    }
    let (labels, label_dims) = call.input::<i32>(1)?;
    let classes = match *x_dims {
        [rows, classes] if label_dims == [rows] => classes,
        _ => return Err(call.fail(format!("labels {label_dims:?} for logits {x_dims:?}"))),
    };
    match call.node.op {
        Op::SparseSoftmaxCrossEntropy => {
            let split = parts(labels.len()) > 1;
            let mean = loss::sparse_softmax_cross_entropy(x, labels, classes, split);
            out.fill(T::from_f64(mean.map_err(fault)?));
            Ok(())
        }
        Op::Grad(GradOp::SparseSoftmaxGrad) if out.len() == x.len() => {
            for_rows(out, classes, out.len(), |first, rows| {
                loss::sparse_softmax_grad(x, labels, classes, first, rows)
            })
            .map_err(fault)
        }
        _ => Err(call.fail("is not a loss of this kind")),
    }
}
