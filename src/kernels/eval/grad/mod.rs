//! Interpreter kernels of the backward ops (`Op::Grad`, created by autodiff).
//!
//! Every kernel works in the values' own dtype. The convolutions are the shared
//! kernels (`kernels::conv`, through `super::conv`). Shapes come from the
//! node's type; inputs that do not fit it are an internal error, never a panic.

use super::conv::{self, Which};
use super::{loss, pool};
use crate::diag::Diag;
use crate::ir::tensor::each_dtype;
use crate::ir::{GradOp, Node, Op, Tensor};
use crate::kernels::movement::resolve_index;
use ndarray::{ArrayD, Axis, IxDyn};

/// Evaluates `op` if it is a backward op (`None` otherwise).
pub fn eval_grad_op(op: &Op, inputs: &[&Tensor], node: &Node) -> Option<Result<Tensor, Diag>> {
    let Op::Grad(grad_op) = op else {
        return None;
    };
    Some(match grad_op {
        GradOp::Slice { starts } => super::gather::slice(node, starts, inputs),
        GradOp::ScatterIndex => scatter_index(node, inputs),
        GradOp::Conv2dBackpropInput { strides, pads } => {
            conv::eval(node, Which::Input, *strides, *pads, inputs)
        }
        GradOp::Conv2dBackpropFilter { strides, pads } => {
            conv::eval(node, Which::Filter, *strides, *pads, inputs)
        }
        GradOp::MaxPool2dGrad {
            size,
            strides,
            pads,
        } => pool::eval(node, pool::Which::MaxGrad, (*size, *strides, *pads), inputs),
        GradOp::AvgPool2dGrad {
            size,
            strides,
            pads,
        } => pool::eval(node, pool::Which::AvgGrad, (*size, *strides, *pads), inputs),
        GradOp::SparseSoftmaxGrad => loss::sparse_softmax_grad(node, inputs),
        GradOp::StridedScatter { starts, steps } => {
            super::gather::strided_scatter(node, starts, steps, inputs)
        }
        GradOp::TakeGrad { axis } => super::gather::take_grad(node, *axis, inputs),
        GradOp::MirrorPadGrad { pads, symmetric } => {
            super::gather::mirror_pad_grad(node, pads, *symmetric, inputs)
        }
    })
}

/// The kernel of a backward op node (the interpreter's dispatch calls this for
/// every `Op::Grad`).
pub(crate) fn eval(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    eval_grad_op(&node.op, inputs, node).unwrap_or_else(|| Err(fail(node, "not a backward op")))
}

fn fail(node: &Node, message: impl std::fmt::Display) -> Diag {
    Diag::internal(
        "interpreter",
        format!("{}: {message}", node.op.name()),
        Some(node.span),
    )
}

/// Input `k` itself.
fn tensor<'t>(node: &Node, inputs: &[&'t Tensor], k: usize) -> Result<&'t Tensor, Diag> {
    inputs
        .get(k)
        .copied()
        .ok_or_else(|| fail(node, format!("missing input {k}")))
}

fn scatter_index(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    let g = tensor(node, inputs, 0)?;
    let index = match tensor(node, inputs, 1)? {
        Tensor::I32(i) if i.ndim() == 0 => i.iter().next().copied().unwrap_or(0),
        other => {
            return Err(fail(
                node,
                format!("the index is {}, not i32[]", other.ty()),
            ))
        }
    };
    let out_dims = node.ty.shape.dims();
    if out_dims.get(1..) != Some(g.shape()) || g.dtype() != node.ty.dtype {
        return Err(fail(
            node,
            format!("cannot scatter {} into {}", g.ty(), node.ty),
        ));
    }
    let row = resolve_index(index, out_dims[0]).map_err(|m| Diag::error(m, node.span))?;
    Ok(each_dtype!(g, a => {
        let mut out = ArrayD::from_elem(IxDyn(out_dims), Default::default());
        out.index_axis_mut(Axis(0), row).assign(a);
        out
    }))
}
