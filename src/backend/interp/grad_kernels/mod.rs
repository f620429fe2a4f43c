//! Interpreter kernels of the backward ops (`Op::Grad`, created by autodiff).
//!
//! The movement ops (`slice`, `scatter_index`) work on the values' own dtype; the
//! network ops compute in `f64` and round once to the node's dtype. Shapes come
//! from the node's type; inputs that do not fit it are an internal error, never
//! a panic.

mod conv;

use crate::ir::{GradOp, Node, Op, Tensor};
use crate::syntax::Diag;
use conv::ConvShape;
use ndarray::{ArrayD, Axis, IxDyn, Slice};

/// Evaluates `op` if it is a backward op (`None` otherwise).
pub fn eval_grad_op(op: &Op, inputs: &[&Tensor], node: &Node) -> Option<Result<Tensor, Diag>> {
    let Op::Grad(grad_op) = op else {
        return None;
    };
    let values = match grad_op {
        GradOp::Slice { starts } => return Some(slice(node, starts, inputs)),
        GradOp::ScatterIndex => return Some(scatter_index(node, inputs)),
        GradOp::Conv2dBackpropInput { strides, pads } => {
            conv2d_backprop_input(node, *strides, *pads, inputs)
        }
        GradOp::Conv2dBackpropFilter { strides, pads } => {
            conv2d_backprop_filter(node, *strides, *pads, inputs)
        }
        GradOp::MaxPool2dGrad { size, strides } => max_pool2d_grad(node, *size, *strides, inputs),
    };
    Some(values.and_then(|v| {
        Tensor::from_f64_vec(&node.ty, v).ok_or_else(|| fail(node, "wrong number of values"))
    }))
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

/// Input `k` with its shape, as f64 values.
fn arg(node: &Node, inputs: &[&Tensor], k: usize) -> Result<(Vec<usize>, Vec<f64>), Diag> {
    let t = inputs
        .get(k)
        .ok_or_else(|| fail(node, format!("missing input {k}")))?;
    Ok((t.shape().to_vec(), t.to_f64_vec()))
}

/// Input `k` itself.
fn tensor<'t>(node: &Node, inputs: &[&'t Tensor], k: usize) -> Result<&'t Tensor, Diag> {
    inputs
        .get(k)
        .copied()
        .ok_or_else(|| fail(node, format!("missing input {k}")))
}

/// Applies `$body` to the array inside `$tensor`, whatever its dtype, giving a tensor.
macro_rules! each_dtype {
    ($tensor:expr, $a:ident => $body:expr) => {
        match $tensor {
            Tensor::F32($a) => Tensor::F32($body),
            Tensor::F64($a) => Tensor::F64($body),
            Tensor::I32($a) => Tensor::I32($body),
            Tensor::Bool($a) => Tensor::Bool($body),
        }
    };
}

fn slice(node: &Node, starts: &[usize], inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    let x = tensor(node, inputs, 0)?;
    let (x_dims, out_dims) = (x.shape(), node.ty.shape.dims());
    let rank = x_dims.len();
    if starts.len() != rank
        || out_dims.len() != rank
        || (0..rank).any(|k| starts[k] + out_dims[k] > x_dims[k])
    {
        return Err(fail(
            node,
            format!("cannot take {out_dims:?} at {starts:?} from {x_dims:?}"),
        ));
    }
    let range = |k: usize| Slice::from(starts[k]..starts[k] + out_dims[k]);
    Ok(
        each_dtype!(x, a => a.slice_each_axis(|axis| range(axis.axis.index())).as_standard_layout().into_owned()),
    )
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
    let rows = out_dims[0];
    let resolved = if index < 0 {
        rows as i64 + i64::from(index)
    } else {
        i64::from(index)
    };
    if resolved < 0 || resolved >= rows as i64 {
        return Err(Diag::error(
            format!("index {index} is out of range for axis 0 of size {rows}"),
            node.span,
        ));
    }
    let row = resolved as usize;
    Ok(each_dtype!(g, a => {
        let mut out = ArrayD::from_elem(IxDyn(out_dims), Default::default());
        out.index_axis_mut(Axis(0), row).assign(a);
        out
    }))
}

/// The 4-D shape of input `k`.
fn dims4(node: &Node, dims: &[usize], what: &str) -> Result<[usize; 4], Diag> {
    <[usize; 4]>::try_from(dims).map_err(|_| fail(node, format!("{what} {dims:?} is not 4-D")))
}

/// The output length of a VALID window sweep over a (padded) length.
pub(super) fn window_count(padded: usize, window: usize, stride: usize) -> usize {
    if padded < window || stride == 0 {
        0
    } else {
        (padded - window) / stride + 1
    }
}

fn conv2d_backprop_input(
    node: &Node,
    strides: [usize; 2],
    pads: [usize; 4],
    inputs: &[&Tensor],
) -> Result<Vec<f64>, Diag> {
    let (g_dims, g) = arg(node, inputs, 0)?;
    let (w_dims, w) = arg(node, inputs, 1)?;
    let shape = ConvShape {
        x: dims4(node, node.ty.shape.dims(), "input")?,
        w: dims4(node, &w_dims, "filter")?,
        g: dims4(node, &g_dims, "gradient")?,
        strides,
        pads,
    };
    shape.check().map_err(|m| fail(node, m))?;
    shape.backprop_input(&g, &w).map_err(|m| fail(node, m))
}

fn conv2d_backprop_filter(
    node: &Node,
    strides: [usize; 2],
    pads: [usize; 4],
    inputs: &[&Tensor],
) -> Result<Vec<f64>, Diag> {
    let (x_dims, x) = arg(node, inputs, 0)?;
    let (g_dims, g) = arg(node, inputs, 1)?;
    let shape = ConvShape {
        x: dims4(node, &x_dims, "input")?,
        w: dims4(node, node.ty.shape.dims(), "filter")?,
        g: dims4(node, &g_dims, "gradient")?,
        strides,
        pads,
    };
    shape.check().map_err(|m| fail(node, m))?;
    shape.backprop_filter(&x, &g).map_err(|m| fail(node, m))
}

fn max_pool2d_grad(
    node: &Node,
    size: [usize; 2],
    strides: [usize; 2],
    inputs: &[&Tensor],
) -> Result<Vec<f64>, Diag> {
    let (x_dims, x) = arg(node, inputs, 0)?;
    let (g_dims, g) = arg(node, inputs, 1)?;
    let [n, h, w, c] = dims4(node, &x_dims, "input")?;
    let [gn, oh, ow, gc] = dims4(node, &g_dims, "gradient")?;
    let fits = gn == n
        && gc == c
        && !size.contains(&0)
        && oh == window_count(h, size[0], strides[0])
        && ow == window_count(w, size[1], strides[1]);
    if !fits {
        return Err(fail(
            node,
            format!(
                "input {x_dims:?} and gradient {g_dims:?} do not fit window {size:?} / {strides:?}"
            ),
        ));
    }
    let mut dx = vec![0.0; x.len()];
    for image in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    // The first position holding the window's maximum (a NaN wins,
                    // as it does in the forward max).
                    let mut best: Option<(usize, f64)> = None;
                    for ky in 0..size[0] {
                        for kx in 0..size[1] {
                            let (iy, ix) = (oy * strides[0] + ky, ox * strides[1] + kx);
                            let at = ((image * h + iy) * w + ix) * c + ch;
                            let v = x[at];
                            let better = match best {
                                None => true,
                                Some((_, m)) => !m.is_nan() && (v.is_nan() || v > m),
                            };
                            if better {
                                best = Some((at, v));
                            }
                        }
                    }
                    if let Some((at, _)) = best {
                        dx[at] += g[((image * oh + oy) * ow + ox) * c + ch];
                    }
                }
            }
        }
    }
    Ok(dx)
}
