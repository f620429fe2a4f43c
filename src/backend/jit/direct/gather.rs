//! Slices, pads, `take` and their adjoints in the JIT: the shared maps
//! (`kernels::gather_maps`) and kernel (`kernels::gather`) on the node's
//! buffers. Gathers and scatter-adds split among threads by output rows (a
//! scatter's thread walks the whole gradient and keeps the rows it owns, so
//! repeated targets add up in the same order). The adjoint of a strided
//! slice is the gather along the slice's inverse maps.

use super::rows::for_rows;
use super::{Call, Elem};
use crate::diag::Diag;
use crate::ir::{GradOp, Op};
use crate::kernels::gather::Gather;
use crate::kernels::gather_maps::{
    inverse_maps, mirror_maps, pad_maps, slice_maps, strided_maps, take_maps,
};

/// Runs the gather or scatter node of `call` into `out`.
pub(super) fn run<T: Elem>(call: &Call, out: &mut [T]) -> Result<(), Diag> {
    let fail = |m: String| call.fail(m);
    let dims = call.node.ty.shape.dims();
    let (x, x_dims) = call.input::<T>(0)?;
    let indices = || call.input::<i32>(1);
    let fault = |f: crate::kernels::fault::Fault| f.at(call.node, "jit");
    let (maps, fill, plus_zero) = match &call.node.op {
        Op::StridedSlice {
            starts,
            sizes,
            steps,
        } => (strided_maps(starts, sizes, steps), T::default(), false),
        Op::Grad(GradOp::StridedScatter { starts, steps }) => {
            let maps = strided_maps(starts, x_dims, steps).and_then(|m| inverse_maps(dims, &m));
            (maps, T::default(), true)
        }
        Op::Grad(GradOp::Slice { starts }) => (slice_maps(starts, dims), T::default(), false),
        Op::Pad { pads, value } => (pad_maps(x_dims, pads), T::from_f64(*value), false),
        Op::MirrorPad { pads, symmetric } => {
            (mirror_maps(x_dims, pads, *symmetric), T::default(), false)
        }
        Op::Take { axis } => {
            let maps = take_maps(x_dims, *axis, indices()?).map_err(fault)?;
            (Ok(maps), T::default(), false)
        }
        Op::Grad(GradOp::MirrorPadGrad { pads, symmetric }) => {
            let maps = mirror_maps(dims, pads, *symmetric).map_err(fail)?;
            return scatter(call, x, maps, out);
        }
        Op::Grad(GradOp::TakeGrad { axis }) => {
            let maps = take_maps(dims, *axis, indices()?).map_err(fault)?;
            return scatter(call, x, maps, out);
        }
        _ => return Err(call.fail("is not a gather")),
    };
    let g = Gather::new(x_dims, maps.map_err(fail)?, true).map_err(fail)?;
    if g.len() != out.len() {
        return Err(call.fail(format!("cannot map {x_dims:?} to {}", call.node.ty)));
    }
    for_rows(out, g.row_len(), out.len(), |first, rows| {
        g.rows(x, fill, plus_zero, first, rows)
    })
    .map_err(fail)
}

/// Adds the gradient `g` along `maps` into zeros of the node's type.
fn scatter<T: Elem>(
    call: &Call,
    g: &[T],
    maps: Vec<Vec<usize>>,
    out: &mut [T],
) -> Result<(), Diag> {
    let dims = call.node.ty.shape.dims();
    let fail = |m: String| call.fail(m);
    let k = Gather::new(dims, maps, false).map_err(fail)?;
    let width = dims.last().copied().unwrap_or(1);
    for_rows(out, width, g.len(), |first, rows| {
        k.scatter_rows(g, first, rows)
    })
    .map_err(fail)
}
