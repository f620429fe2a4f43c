//! Backward rules of reductions. The adjoint `g` has the reduced shape; it is
//! first reshaped to the `keepdims` shape (reduced axes of size 1) and then
//! broadcast back over the reduced axes.
//!
//! `max`/`min` send the gradient to the positions that hold the extreme value;
//! ties split it equally (as JAX does): `dx = g * [x == y] / count(x == y)`.

use super::emit::Emit;
use super::rules_elementwise::input;
use crate::diag::Diag;
use crate::ir::{BinaryOp, Node, NodeId, ReduceOp};

pub(crate) fn reduce(
    e: &mut Emit,
    op: ReduceOp,
    axes: &[usize],
    y: NodeId,
    node: &Node,
    g: NodeId,
) -> Result<Vec<Option<NodeId>>, Diag> {
    let x = input(e, node, 0)?;
    let x_dims = e.dims(x);
    let keep_dims: Vec<usize> = x_dims
        .iter()
        .enumerate()
        .map(|(k, &d)| if axes.contains(&k) { 1 } else { d })
        .collect();
    let g_keep = e.reshape(g, &keep_dims)?;
    let dx = match op {
        // y = sum(x, axes): dx = broadcast(g)
        ReduceOp::Sum => e.broadcast_to(g_keep, &x_dims)?,
        // y = mean(x, axes) = sum / n: dx = broadcast(g / n), n = the reduced count
        ReduceOp::Mean => {
            let count: usize = axes.iter().filter_map(|&a| x_dims.get(a)).product();
            let scaled = if count > 0 {
                e.scale(g_keep, 1.0 / count as f64)?
            } else {
                g_keep
            };
            e.broadcast_to(scaled, &x_dims)?
        }
        // y = max(x, axes) (or min): dx = g * [x == y] / count(x == y)
        ReduceOp::Max | ReduceOp::Min => {
            let dtype = e.dtype(x);
            let y_keep = e.reshape(y, &keep_dims)?;
            let hit = e.binary(BinaryOp::Eq, x, y_keep)?;
            let one = e.scalar(dtype, 1.0);
            let zero = e.scalar(dtype, 0.0);
            let mask = e.select(hit, one, zero)?;
            let count = e.sum_keep(mask, axes)?;
            let share = e.div(g_keep, count)?;
            e.mul(mask, share)?
        }
    };
    Ok(vec![Some(dx)])
}
