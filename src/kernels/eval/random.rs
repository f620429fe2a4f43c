//! The per-step random ops (`random_normal`, `random_uniform`, `dropout`):
//! values keyed by (seed, step, element) from [`crate::ir::philox`], so they
//! depend on nothing else: not on the backend, the thread count or the order
//! in which elements are computed. The JIT runs this same code.

use super::{dispatch_float, expect_inputs, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::philox::{unit, Stream};
use crate::ir::scalar::Scalar;
use crate::ir::{BinaryOp, Node, RandomKind, Tensor};
use ndarray::{ArrayD, IxDyn};

pub(crate) fn eval(
    node: &Node,
    kind: RandomKind,
    seed: u64,
    inputs: &[&Tensor],
) -> Result<Tensor, Diag> {
    let shape = node.ty.shape.dims().to_vec();
    match kind {
        RandomKind::Normal | RandomKind::Uniform => {
            expect_inputs(node, inputs, 1)?;
            let stream = Stream::new(seed, step_of(node, inputs, 0)?);
            let n = node.ty.shape.numel();
            dispatch_float!(node, node.ty.dtype, T => {
                let values: Vec<T> = match kind {
                    RandomKind::Normal => stream.normals(n).map(T::from_f64).collect(),
                    _ => stream.uniforms(n).map(T::from_f64).collect(),
                };
                wrap::<T>(node, shape, values)
            })
        }
        RandomKind::Dropout => {
            expect_inputs(node, inputs, 3)?;
            let stream = Stream::new(seed, step_of(node, inputs, 2)?);
            dispatch_float!(node, node.ty.dtype, T => {
                let x = typed::<T>(node, inputs, 0)?;
                let rate = scalar_of(node, typed::<T>(node, inputs, 1)?)?;
                let n = x.len();
                let values: Vec<T> = dropout(node, x.iter().copied(), rate, &stream, n)?;
                wrap::<T>(node, shape, values)
            })
        }
    }
}

/// Inverted dropout of `xs`: element `i` is kept when its uniform is at least
/// `rate` (so `rate = 0` keeps everything, and scales by 1: the identity).
fn dropout<T: Scalar>(
    node: &Node,
    xs: impl Iterator<Item = T>,
    rate: T,
    stream: &Stream,
    n: usize,
) -> Result<Vec<T>, Diag> {
    let r = rate.to_f64();
    if !(0.0..1.0).contains(&r) {
        return Err(Diag::error(
            format!("dropout: the rate must be in [0, 1), but it is {r}"),
            node.span,
        ));
    }
    let one = T::from_f64(1.0);
    let scale = T::binary(BinaryOp::Div, one, T::binary(BinaryOp::Sub, one, rate));
    let zero = T::from_f64(0.0);
    let mut words = (0..n.div_ceil(4)).flat_map(|b| stream.block(b as u64));
    let mut out = Vec::with_capacity(n);
    for x in xs {
        let w = words
            .next()
            .ok_or_else(|| internal(node, "ran out of random words"))?;
        out.push(if unit(w) >= r {
            T::binary(BinaryOp::Mul, x, scale)
        } else {
            zero
        });
    }
    Ok(out)
}

/// The step input `k` (`i32[]`) as the generator's step word.
fn step_of(node: &Node, inputs: &[&Tensor], k: usize) -> Result<u32, Diag> {
    let step = scalar_of(node, typed::<i32>(node, inputs, k)?)?;
    // Steps count from 0; a negative step cannot come from a session.
    u32::try_from(step).map_err(|_| internal(node, format!("negative step {step}")))
}

fn scalar_of<T: Copy>(node: &Node, a: &ArrayD<T>) -> Result<T, Diag> {
    match (a.ndim(), a.iter().next()) {
        (0, Some(v)) => Ok(*v),
        _ => Err(internal(
            node,
            format!("expected a scalar, got shape {:?}", a.shape()),
        )),
    }
}

fn wrap<T: Elem>(node: &Node, shape: Vec<usize>, values: Vec<T>) -> Result<Tensor, Diag> {
    ArrayD::from_shape_vec(IxDyn(&shape), values)
        .map(T::wrap)
        .map_err(|e| internal(node, e))
}
