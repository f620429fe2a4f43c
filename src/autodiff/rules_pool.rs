//! Backward rules of pooling (`max_pool2d`, `avg_pool2d`, and `avg_pool2d_grad`
//! for second order) and of the losses with integer or binary targets
//! (`sparse_softmax_cross_entropy`, `sigmoid_cross_entropy`, and
//! `sparse_softmax_grad` for second order).

use super::emit::Emit;
use super::rules_elementwise::input;
use crate::diag::Diag;
use crate::ir::{GradOp, Node, NodeId, Op, UnaryOp};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// A window: size, strides and pads `[top, bottom, left, right]`.
pub(crate) type Window = ([usize; 2], [usize; 2], [usize; 4]);

/// `y = max_pool2d(x)`: each window's g goes to the (first) cell of its
/// maximum inside the input; overlapping windows add up.
pub(crate) fn max_pool2d(e: &mut Emit, window: Window, node: &Node, g: NodeId) -> Contributions {
    let (size, strides, pads) = window;
    let x = input(e, node, 0)?;
    let ty = e.ty(x);
    let op = GradOp::MaxPool2dGrad {
        size,
        strides,
        pads,
    };
    Ok(vec![Some(e.add(Op::Grad(op), vec![x, g], ty))])
}

/// `y = avg_pool2d(x)`: dx[cell] = sum over the windows w holding the cell of
/// g[w] / count(w), where count(w) is w's number of cells inside the input.
pub(crate) fn avg_pool2d(e: &mut Emit, window: Window, node: &Node, g: NodeId) -> Contributions {
    let (size, strides, pads) = window;
    let ty = e.ty(input(e, node, 0)?);
    let op = GradOp::AvgPool2dGrad {
        size,
        strides,
        pads,
    };
    Ok(vec![Some(e.add(Op::Grad(op), vec![g], ty))])
}

/// `y = avg_pool2d_grad(g)` is linear in g and the transpose of `avg_pool2d`:
/// dg = avg_pool2d(dy).
pub(crate) fn avg_pool2d_grad(
    e: &mut Emit,
    window: Window,
    node: &Node,
    dy: NodeId,
) -> Contributions {
    let (size, strides, pads) = window;
    let ty = e.ty(input(e, node, 0)?);
    let op = Op::AvgPool2d {
        size,
        strides,
        pads,
    };
    Ok(vec![Some(e.add(op, vec![dy], ty))])
}

/// `loss = (1/N) sum_n (logsumexp(z[n]) - z[n, l[n]])`:
/// dz = (g/N) (softmax(z) - one_hot(l)); the labels get none.
pub(crate) fn sparse_softmax_cross_entropy(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (z, l) = (input(e, node, 0)?, input(e, node, 1)?);
    let z_ty = e.ty(z);
    let &[batch, _] = z_ty.shape.dims() else {
        return Err(e.bug(format!("sparse_softmax_cross_entropy of {z_ty}")));
    };
    // The core op checks the labels again, so a step that runs only the
    // gradient still reports a label out of range.
    let core = e.add(Op::Grad(GradOp::SparseSoftmaxGrad), vec![z, l], z_ty);
    let g_mean = e.scale(g, 1.0 / batch.max(1) as f64)?;
    Ok(vec![Some(e.mul(g_mean, core)?), None])
}

/// `y = softmax(z) - one_hot(l)` (row-wise): dz = s (dy - sum(dy s, axis 1)),
/// the softmax rule with s = softmax(z); the labels get none.
pub(crate) fn sparse_softmax_grad(e: &mut Emit, node: &Node, dy: NodeId) -> Contributions {
    let z = input(e, node, 0)?;
    let z_ty = e.ty(z);
    let s = e.add(Op::Softmax { axis: 1 }, vec![z], z_ty);
    let dz = super::rules_nn::softmax(e, 1, s, dy)?;
    Ok(vec![dz.into_iter().next().flatten(), None])
}

/// `loss = mean(max(x, 0) - x z + log(1 + exp(-|x|)))` over the n elements of
/// the broadcast shape: dx = (g/n) (sigmoid(x) - z), dz = -(g/n) x, each
/// summed back to its input's shape.
pub(crate) fn sigmoid_cross_entropy(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (x, z) = (input(e, node, 0)?, input(e, node, 1)?);
    let (dims_x, dims_z) = (e.dims(x), e.dims(z));
    let full = crate::ir::infer::broadcast_dims(&dims_x, &dims_z)
        .ok_or_else(|| e.bug("sigmoid_cross_entropy: the inputs do not broadcast"))?;
    let count = full.iter().product::<usize>().max(1);
    let g_mean = e.scale(g, 1.0 / count as f64)?;
    let s = e.unary(UnaryOp::Sigmoid, x);
    let diff = e.sub(s, z)?;
    let dx = e.mul(g_mean, diff)?;
    let dx = e.sum_to(dx, &dims_x)?;
    let minus = e.neg(g_mean);
    let x_full = e.broadcast_to(x, &full)?;
    let dz = e.mul(minus, x_full)?;
    let dz = e.sum_to(dz, &dims_z)?;
    Ok(vec![Some(dx), Some(dz)])
}
