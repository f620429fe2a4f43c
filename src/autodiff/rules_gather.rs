//! Backward rules of the gather-style movement ops (strided slices, `take`,
//! mirror pads) and of their adjoints. Each pair is linear and mutually
//! adjoint: a slice scatters back, a scatter slices; `take` adds back with
//! `take_grad`, which `take`s again; a mirror pad folds back, a fold pads.

use super::emit::Emit;
use super::rules_elementwise::input;
use crate::diag::Diag;
use crate::ir::{GradOp, Node, NodeId, Op, TensorType};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// `x[starts : .. : steps]`: dx = g written into zeros of x's shape.
pub(crate) fn strided_slice(
    e: &mut Emit,
    starts: &[usize],
    steps: &[i64],
    node: &Node,
    g: NodeId,
) -> Contributions {
    let x = input(e, node, 0)?;
    let ty = TensorType::new(e.dtype(g), e.dims(x));
    let op = Op::Grad(GradOp::StridedScatter {
        starts: starts.to_vec(),
        steps: steps.to_vec(),
    });
    Ok(vec![Some(e.add(op, vec![g], ty))])
}

/// `strided_scatter(v)`: dv = g[starts : .. : steps] (the slice of v's shape).
pub(crate) fn strided_scatter(
    e: &mut Emit,
    starts: &[usize],
    steps: &[i64],
    node: &Node,
    g: NodeId,
) -> Contributions {
    let v = input(e, node, 0)?;
    let ty = TensorType::new(e.dtype(g), e.dims(v));
    let op = Op::StridedSlice {
        starts: starts.to_vec(),
        sizes: e.dims(v),
        steps: steps.to_vec(),
    };
    Ok(vec![Some(e.add(op, vec![g], ty))])
}

/// `take(x, indices, axis)`: dx = g added back at each index; `indices` get none.
pub(crate) fn take(e: &mut Emit, axis: usize, node: &Node, g: NodeId) -> Contributions {
    let (x, indices) = (input(e, node, 0)?, input(e, node, 1)?);
    let ty = TensorType::new(e.dtype(g), e.dims(x));
    let dx = e.add(Op::Grad(GradOp::TakeGrad { axis }), vec![g, indices], ty);
    Ok(vec![Some(dx), None])
}

/// `take_grad(v, indices, axis)` (linear in v): dv = take(g, indices, axis).
pub(crate) fn take_grad(e: &mut Emit, axis: usize, node: &Node, g: NodeId) -> Contributions {
    let (v, indices) = (input(e, node, 0)?, input(e, node, 1)?);
    let ty = TensorType::new(e.dtype(g), e.dims(v));
    let dv = e.add(Op::Take { axis }, vec![g, indices], ty);
    Ok(vec![Some(dv), None])
}

/// `pad(x, pads, mode)` for REFLECT/SYMMETRIC: dx = g folded back onto x.
pub(crate) fn mirror_pad(
    e: &mut Emit,
    pads: &[[usize; 2]],
    symmetric: bool,
    node: &Node,
    g: NodeId,
) -> Contributions {
    let x = input(e, node, 0)?;
    let ty = TensorType::new(e.dtype(g), e.dims(x));
    let op = Op::Grad(GradOp::MirrorPadGrad {
        pads: pads.to_vec(),
        symmetric,
    });
    Ok(vec![Some(e.add(op, vec![g], ty))])
}

/// `mirror_pad_grad(v)` (linear): dv = the mirror pad of g.
pub(crate) fn mirror_pad_grad(
    e: &mut Emit,
    pads: &[[usize; 2]],
    symmetric: bool,
    node: &Node,
    g: NodeId,
) -> Contributions {
    let v = input(e, node, 0)?;
    let ty = TensorType::new(e.dtype(g), e.dims(v));
    let op = Op::MirrorPad {
        pads: pads.to_vec(),
        symmetric,
    };
    Ok(vec![Some(e.add(op, vec![g], ty))])
}
