//! Backward rules of network ops: matmul, conv2d, the softmax family and the
//! two dense losses (pooling and the other losses: `rules_pool.rs`). Conv2d
//! needs backward ops of its own (`GradOp`, kernels in
//! `src/kernels/eval/grad/`); the rest compose existing ops.

use super::emit::Emit;
use super::rules_elementwise::input;
use crate::diag::Diag;
use crate::ir::{GradOp, Node, NodeId, Op, UnaryOp};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// `y = a @ b` over the last two axes, leading axes broadcast:
/// da = g @ b^T, db = a^T @ g, each summed back over the broadcast batch axes.
pub(crate) fn matmul(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (a, b) = (input(e, node, 0)?, input(e, node, 1)?);
    if e.dims(a).len() < 2 || e.dims(b).len() < 2 {
        return Err(Diag::unsupported(
            "the gradient of a matmul with a 1-D operand",
            node.span,
        ));
    }
    let bt = e.transpose_last2(b)?;
    let da = e.matmul(g, bt)?;
    let da = e.sum_to(da, &e.dims(a))?;
    let at = e.transpose_last2(a)?;
    let db = e.matmul(at, g)?;
    let db = e.sum_to(db, &e.dims(b))?;
    Ok(vec![Some(da), Some(db)])
}

/// `y = conv2d(x, w)`: dx[n, i, j, c] = sum over the windows that read x[n, i, j, c]
/// of g * w (a transposed convolution); dw[ky, kx, c, o] = sum over n and output
/// positions of x[window + (ky, kx), c] * g[.., o].
pub(crate) fn conv2d(
    e: &mut Emit,
    strides: [usize; 2],
    pads: [usize; 4],
    node: &Node,
    g: NodeId,
) -> Contributions {
    let (x, w) = (input(e, node, 0)?, input(e, node, 1)?);
    let (x_ty, w_ty) = (e.ty(x), e.ty(w));
    let dx = e.add(
        Op::Grad(GradOp::Conv2dBackpropInput { strides, pads }),
        vec![g, w],
        x_ty,
    );
    let dw = e.add(
        Op::Grad(GradOp::Conv2dBackpropFilter { strides, pads }),
        vec![x, g],
        w_ty,
    );
    Ok(vec![Some(dx), Some(dw)])
}

/// `s = softmax(x, axis)`: dx = s * (g - sum(g * s, axis, keepdims))
pub(crate) fn softmax(e: &mut Emit, axis: usize, s: NodeId, g: NodeId) -> Contributions {
    let gs = e.mul(g, s)?;
    let total = e.sum_keep(gs, &[axis])?;
    let centred = e.sub(g, total)?;
    Ok(vec![Some(e.mul(s, centred)?)])
}

/// `y = log_softmax(x, axis)`: dx = g - exp(y) * sum(g, axis, keepdims)
pub(crate) fn log_softmax(e: &mut Emit, axis: usize, y: NodeId, g: NodeId) -> Contributions {
    let s = e.unary(UnaryOp::Exp, y);
    let total = e.sum_keep(g, &[axis])?;
    let spread = e.mul(s, total)?;
    Ok(vec![Some(e.sub(g, spread)?)])
}

/// `loss = -(1/N) sum_{n,c} l[n,c] * log_softmax(z)[n,c]` (mean over the batch):
/// dz = (g/N) * (softmax(z) * sum_c(l) - l), dl = -(g/N) * log_softmax(z).
/// (With one-hot or probability labels `sum_c(l) = 1`; the general form is exact.)
pub(crate) fn softmax_cross_entropy(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (z, l) = (input(e, node, 0)?, input(e, node, 1)?);
    let z_ty = e.ty(z);
    if z_ty.shape.rank() != 2 {
        return Err(e.bug(format!("softmax_cross_entropy of {z_ty}")));
    }
    let batch = z_ty.shape.0[0].max(1);
    let g_mean = e.scale(g, 1.0 / batch as f64)?;
    let s = e.add(Op::Softmax { axis: 1 }, vec![z], z_ty.clone());
    let log_s = e.add(Op::LogSoftmax { axis: 1 }, vec![z], z_ty);
    let l_total = e.sum_keep(l, &[1])?;
    let s_scaled = e.mul(s, l_total)?;
    let diff = e.sub(s_scaled, l)?;
    let dz = e.mul(g_mean, diff)?;
    let minus = e.neg(g_mean);
    let dl = e.mul(minus, log_s)?;
    Ok(vec![Some(dz), Some(dl)])
}

/// `loss = mean((p - t)^2)` over all n elements: dp = g * 2 (p - t) / n, dt = -dp
pub(crate) fn mean_squared_error(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (p, t) = (input(e, node, 0)?, input(e, node, 1)?);
    let count = e.ty(p).shape.numel().max(1);
    let diff = e.sub(p, t)?;
    let scaled = e.scale(g, 2.0 / count as f64)?;
    let dp = e.mul(scaled, diff)?;
    let dt = e.neg(dp);
    Ok(vec![Some(dp), Some(dt)])
}

/// `y = conv2d_backprop_input(g, w)` (linear in each input; the transpose of
/// `conv2d` in `x`): dg = conv2d(dy, w), dw = conv2d_backprop_filter(dy, g).
pub(crate) fn conv2d_backprop_input(
    e: &mut Emit,
    strides: [usize; 2],
    pads: [usize; 4],
    node: &Node,
    a: NodeId,
) -> Contributions {
    let (g, w) = (input(e, node, 0)?, input(e, node, 1)?);
    let (g_ty, w_ty) = (e.ty(g), e.ty(w));
    let dg = e.add(Op::Conv2d { strides, pads }, vec![a, w], g_ty);
    let filter = GradOp::Conv2dBackpropFilter { strides, pads };
    let dw = e.add(Op::Grad(filter), vec![a, g], w_ty);
    Ok(vec![Some(dg), Some(dw)])
}

/// `y = conv2d_backprop_filter(x, g)` (linear in each input):
/// dx = conv2d_backprop_input(g, dy), dg = conv2d(x, dy).
pub(crate) fn conv2d_backprop_filter(
    e: &mut Emit,
    strides: [usize; 2],
    pads: [usize; 4],
    node: &Node,
    b: NodeId,
) -> Contributions {
    let (x, g) = (input(e, node, 0)?, input(e, node, 1)?);
    let (x_ty, g_ty) = (e.ty(x), e.ty(g));
    let backprop = GradOp::Conv2dBackpropInput { strides, pads };
    let dx = e.add(Op::Grad(backprop), vec![g, b], x_ty);
    let dg = e.add(Op::Conv2d { strides, pads }, vec![x, b], g_ty);
    Ok(vec![Some(dx), Some(dg)])
}
