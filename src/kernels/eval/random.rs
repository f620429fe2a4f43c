//! The per-step random ops (`random_normal`, `random_uniform`, `dropout`):
//! values keyed by (seed, step, element) from [`crate::ir::philox`], so they
//! depend on nothing else: not on the backend, the thread count or the order
//! in which elements are computed. The JIT runs this same code.

use super::{dispatch_float, expect_inputs, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::philox::{box_muller, unit, Stream};
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
                let values: Vec<T> = draw(&stream, kind == RandomKind::Normal, n);
                wrap::<T>(node, shape, values)
            })
        }
        RandomKind::Dropout => {
            expect_inputs(node, inputs, 3)?;
            let stream = Stream::new(seed, step_of(node, inputs, 2)?);
            dispatch_float!(node, node.ty.dtype, T => {
                let x = typed::<T>(node, inputs, 0)?;
                let rate = scalar_of(node, typed::<T>(node, inputs, 1)?)?;
                let values = match x.as_slice() {
                    Some(xs) => dropout(node, xs, rate, &stream)?,
                    None => {
                        let xs: Vec<T> = x.iter().copied().collect();
                        dropout(node, &xs, rate, &stream)?
                    }
                };
                wrap::<T>(node, shape, values)
            })
        }
    }
}

/// `n` standard normals or uniforms, a block of four elements at a time (the
/// same values as [`Stream::normals`] and [`Stream::uniforms`]).
fn draw<T: Scalar>(stream: &Stream, normal: bool, n: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    for b in 0..n.div_ceil(4) {
        let w = stream.block(b as u64);
        let block = if normal {
            let (a0, a1) = box_muller(w[0], w[1]);
            let (b0, b1) = box_muller(w[2], w[3]);
            [a0, a1, b0, b1]
        } else {
            w.map(unit)
        };
        let take = (n - 4 * b).min(4);
        out.extend(block[..take].iter().map(|&v| T::from_f64(v)));
    }
    out
}

/// Inverted dropout of `xs`: element `i` is kept when its uniform is at least
/// `rate` (so `rate = 0` keeps everything, and scales by 1: the identity).
fn dropout<T: Scalar + std::ops::Mul<Output = T>>(
    node: &Node,
    xs: &[T],
    rate: T,
    stream: &Stream,
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
    let mut out = Vec::with_capacity(xs.len());
    for (b, chunk) in xs.chunks(4).enumerate() {
        let w = stream.block(b as u64);
        for (&x, &w) in chunk.iter().zip(&w) {
            // Both sides computed: a select, not a branch the random mask
            // would mispredict half of the time.
            let kept = x * scale;
            out.push(if unit(w) >= r { kept } else { zero });
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_give_the_streams_values() {
        let stream = Stream::new(3, 9);
        let normals: Vec<f64> = stream.normals(7).collect();
        assert_eq!(draw::<f64>(&stream, true, 7), normals);
        let uniforms: Vec<f64> = stream.uniforms(7).collect();
        assert_eq!(draw::<f64>(&stream, false, 7), uniforms);
        let as_f32: Vec<f32> = normals.iter().map(|&v| v as f32).collect();
        assert_eq!(draw::<f32>(&stream, true, 7), as_f32);
    }
}
