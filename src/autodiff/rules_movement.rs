//! Backward rules of movement ops: each adjoint is the inverse movement of `g`
//! (reshape back, inverse permutation, slice out of a concat or a pad, scatter
//! an index into zeros).

use super::emit::Emit;
use super::rules_elementwise::input;
use crate::diag::Diag;
use crate::ir::{GradOp, Node, NodeId, Op, TensorType};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// `broadcast(x)` to the node's shape: dx = g summed back to x's shape.
pub(crate) fn broadcast(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let x = input(e, node, 0)?;
    Ok(vec![Some(e.sum_to(g, &e.dims(x))?)])
}

/// `reshape(x)`: dx = reshape(g, x.shape)
pub(crate) fn reshape(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let x = input(e, node, 0)?;
    Ok(vec![Some(e.reshape(g, &e.dims(x))?)])
}

/// `transpose(x, perm)`: dx = transpose(g, inverse(perm))
pub(crate) fn transpose(e: &mut Emit, perm: &[usize], g: NodeId) -> Contributions {
    let mut inverse = vec![0; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        match inverse.get_mut(p) {
            Some(slot) => *slot = k,
            None => return Err(e.bug(format!("transpose: bad permutation {perm:?}"))),
        }
    }
    Ok(vec![Some(e.transpose(g, &inverse)?)])
}

/// `concat([x0, x1, ...], axis)`: dx_i = g[.., offset_i .. offset_i + n_i, ..]
pub(crate) fn concat(e: &mut Emit, axis: usize, node: &Node, g: NodeId) -> Contributions {
    let rank = e.dims(g).len();
    let mut offset = 0;
    let mut out = Vec::with_capacity(node.inputs.len());
    for &x in &node.inputs {
        let dims = e.dims(x);
        let mut starts = vec![0; rank];
        match starts.get_mut(axis) {
            Some(slot) => *slot = offset,
            None => return Err(e.bug(format!("concat: axis {axis} of rank {rank}"))),
        }
        offset += dims.get(axis).copied().unwrap_or(0);
        out.push(Some(e.slice(g, &starts, &dims)?));
    }
    Ok(out)
}

/// `x[i]` (axis 0): dx = zeros of x's shape with row i = g; `i` gets none.
pub(crate) fn index(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (x, i) = (input(e, node, 0)?, input(e, node, 1)?);
    let ty = e.ty(x);
    let dx = e.add(Op::Grad(GradOp::ScatterIndex), vec![g, i], ty);
    Ok(vec![Some(dx), None])
}

/// `pad(x, pads, value)`: dx = g[before .. before + n] on every axis; the pad
/// value is a constant attribute and gets no gradient.
pub(crate) fn pad(e: &mut Emit, pads: &[[usize; 2]], node: &Node, g: NodeId) -> Contributions {
    let x = input(e, node, 0)?;
    let starts: Vec<usize> = pads.iter().map(|p| p[0]).collect();
    Ok(vec![Some(e.slice(g, &starts, &e.dims(x))?)])
}

/// `slice(x, starts)` (a backward op, linear): dx = g padded with zeros back
/// to x's shape.
pub(crate) fn slice(e: &mut Emit, starts: &[usize], node: &Node, g: NodeId) -> Contributions {
    let x = input(e, node, 0)?;
    let (x_dims, g_dims) = (e.dims(x), e.dims(g));
    if starts.len() != x_dims.len() || g_dims.len() != x_dims.len() {
        return Err(e.bug("slice: ranks differ"));
    }
    let pads: Vec<[usize; 2]> = (0..x_dims.len())
        .map(|k| [starts[k], x_dims[k].saturating_sub(starts[k] + g_dims[k])])
        .collect();
    let ty = TensorType::new(e.dtype(g), x_dims);
    let dx = e.add(Op::Pad { pads, value: 0.0 }, vec![g], ty);
    Ok(vec![Some(dx)])
}

/// `scatter_index(v, i)` (a backward op, linear in v): dv = g[i]
pub(crate) fn scatter_index(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (v, i) = (input(e, node, 0)?, input(e, node, 1)?);
    let ty = e.ty(v);
    let dv = e.add(Op::Index, vec![g, i], ty);
    Ok(vec![Some(dv), None])
}
