//! The per-step random ops (`random_normal`, `random_uniform`, `dropout`):
//! values keyed by (seed, step, loop word, element) from [`crate::ir::philox`]
//! (the loop word is 0 outside a `fold` body), so they depend on nothing else:
//! not on the backend, the thread count or the order in which elements are
//! computed. The JIT runs this same code.

use super::{dispatch_float, expect_inputs, internal, typed, Elem};
use crate::diag::Diag;
use crate::ir::philox::{box_muller, unit, Stream};
use crate::ir::scalar::Scalar;
use crate::ir::{BinaryOp, Node, RandomKind, Tensor};
use crate::kernels::dropout_mask;
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
            if inputs.len() != 2 {
                expect_inputs(node, inputs, 1)?;
            }
            let stream =
                Stream::in_loop(seed, step_of(node, inputs, 0)?, word_of(node, inputs, 1)?);
            let n = node.ty.shape.numel();
            dispatch_float!(node, node.ty.dtype, T => {
                let values: Vec<T> = draw(&stream, kind == RandomKind::Normal, n);
                wrap::<T>(node, shape, values)
            })
        }
        RandomKind::Dropout => {
            if !(4..=5).contains(&inputs.len()) {
                expect_inputs(node, inputs, 3)?;
            }
            let key = (seed, step_of(node, inputs, 2)?, word_of(node, inputs, 4)?);
            let first = first_element(node, inputs)?;
            dispatch_float!(node, node.ty.dtype, T => {
                let x = typed::<T>(node, inputs, 0)?;
                let rate = scalar_of(node, typed::<T>(node, inputs, 1)?)?;
                let values = match x.as_slice() {
                    Some(xs) => dropout(node, xs, rate, key, first)?,
                    None => {
                        let xs: Vec<T> = x.iter().copied().collect();
                        dropout(node, &xs, rate, key, first)?
                    }
                };
                wrap::<T>(node, shape, values)
            })
        }
    }
}

/// `n` standard normals or uniforms (the same values as [`Stream::normals`]
/// and [`Stream::uniforms`]).
fn draw<T: Scalar + Default>(stream: &Stream, normal: bool, n: usize) -> Vec<T> {
    let mut out = vec![T::default(); n];
    fill(stream, normal, 0, &mut out);
    out
}

/// The values of stream elements `first .. first + out.len()`, a Philox block
/// (4 elements) at a time; the JIT's fused draws call it per block of a loop.
pub(crate) fn fill<T: Scalar>(stream: &Stream, normal: bool, first: u64, out: &mut [T]) {
    let end = first + out.len() as u64;
    let mut b = first / 4;
    while 4 * b < end {
        let w = stream.block(b);
        let block = if normal {
            let (a0, a1) = box_muller(w[0], w[1]);
            let (b0, b1) = box_muller(w[2], w[3]);
            [a0, a1, b0, b1]
        } else {
            w.map(unit)
        };
        for g in first.max(4 * b)..end.min(4 * b + 4) {
            out[(g - first) as usize] = T::from_f64(block[(g % 4) as usize]);
        }
        b += 1;
    }
}

/// The stream index of dropout's element 0: 0, or with a fourth input
/// `first_row` (one process's share of a batch) `first_row` times the
/// elements of a row, so element `i` draws what element `first + i` of the
/// whole batch draws.
fn first_element(node: &Node, inputs: &[&Tensor]) -> Result<u64, Diag> {
    if inputs.len() < 4 {
        return Ok(0);
    }
    let row = scalar_of(node, typed::<i32>(node, inputs, 3)?)?;
    let row = u64::try_from(row).map_err(|_| internal(node, format!("first row {row}")))?;
    Ok(share_start(node.ty.shape.dims(), row))
}

/// The stream index of element 0 of an output of `dims` computed from batch
/// row `row` on: `row` times the elements of a row.
pub(crate) fn share_start(dims: &[usize], row: u64) -> u64 {
    let rows = dims.first().copied().unwrap_or(1).max(1);
    let per_row = (dims.iter().product::<usize>() / rows) as u64;
    row.saturating_mul(per_row)
}

/// Dropout's keep threshold: `unit(w) >= rate` with `unit(w) = (w >> 8) *
/// 2^-24` exactly, as an integer compare against `ceil(rate * 2^24)` (exact:
/// a power-of-two scaling).
pub(crate) fn keep_threshold(rate: f64) -> u32 {
    (rate * 16_777_216.0).ceil() as u32
}

/// The scale of kept elements, `1 / (1 - rate)` in `T`.
pub(crate) fn keep_scale<T: Scalar>(rate: T) -> T {
    let one = T::from_f64(1.0);
    T::binary(BinaryOp::Div, one, T::binary(BinaryOp::Sub, one, rate))
}

/// Inverted dropout of `xs`: element `i` is kept when the uniform of stream
/// element `first + i` is at least `rate` (so `rate = 0` keeps everything,
/// and scales by 1: the identity).
fn dropout<T: Scalar + std::ops::Mul<Output = T>>(
    node: &Node,
    xs: &[T],
    rate: T,
    (seed, step, word): (u64, u32, u32),
    first: u64,
) -> Result<Vec<T>, Diag> {
    let r = rate.to_f64();
    if !(0.0..1.0).contains(&r) {
        return Err(Diag::error(
            format!("dropout: the rate must be in [0, 1), but it is {r}"),
            node.span,
        ));
    }
    let scale = keep_scale(rate);
    let zero = T::from_f64(0.0);
    let threshold = keep_threshold(r);
    let mut out = vec![zero; xs.len()];
    // The masks a block at a time (the JIT's fused loops draw the same).
    let mut keep = [0i32; 256];
    for (k, (xs, out)) in xs.chunks(256).zip(out.chunks_mut(256)).enumerate() {
        let keep = &mut keep[..xs.len()];
        let at = first + (256 * k) as u64;
        dropout_mask::masks(seed, (step, word), threshold, at, keep);
        for ((o, &x), &m) in out.iter_mut().zip(xs).zip(keep.iter()) {
            // Both sides computed: a select, not a branch the random mask
            // would mispredict half of the time.
            let kept = x * scale;
            *o = if m != 0 { kept } else { zero };
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

/// The loop word, input `k` when present (its `i32` bits), else 0.
fn word_of(node: &Node, inputs: &[&Tensor], k: usize) -> Result<u32, Diag> {
    if inputs.len() <= k {
        return Ok(0);
    }
    Ok(scalar_of(node, typed::<i32>(node, inputs, k)?)? as u32)
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

    fn dropout_node(rows: usize, cols: usize) -> Node {
        let ty = crate::ir::TensorType::new(crate::ir::DType::F64, vec![rows, cols]);
        Node {
            op: crate::ir::Op::Random {
                kind: RandomKind::Dropout,
                seed: 11,
            },
            inputs: Vec::new(),
            ty,
            span: crate::diag::Span::new(0, 0),
        }
    }

    /// The block-wise loop with its integer threshold keeps exactly the
    /// elements whose uniform is at least the rate (the documented rule).
    #[test]
    fn dropout_keeps_the_elements_whose_uniform_reaches_the_rate() {
        let stream = Stream::in_loop(5, 3, 2);
        let u: Vec<f64> = stream.uniforms(640).collect();
        // Longer than a block of masks (256), so runs cross blocks.
        let xs: Vec<f32> = (0..600).map(|i| i as f32 + 0.5).collect();
        // Rates on and next to the uniforms' grid, and offsets off a block.
        for rate in [0.0, 0.25, 0.5, 0.5 + 1e-9, u[7], u[9] - 1e-12, 0.999] {
            for first in [0u64, 1, 2, 3, 6, 21] {
                let got =
                    dropout(&dropout_node(600, 1), &xs, rate as f32, (5, 3, 2), first).unwrap();
                let scale = 1.0 / (1.0 - rate as f32);
                for (i, &x) in xs.iter().enumerate() {
                    let keep = u[first as usize + i] >= f64::from(rate as f32);
                    let want = if keep { x * scale } else { 0.0 };
                    assert_eq!(
                        got[i].to_bits(),
                        want.to_bits(),
                        "rate {rate}, first {first}, {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_share_of_the_rows_draws_what_the_whole_batch_draws() {
        let key = (11, 4, 0);
        // 8 rows of 3: rows do not start on a block of 4.
        let xs: Vec<f64> = (0..24).map(|i| f64::from(i) + 1.0).collect();
        let whole = dropout(&dropout_node(8, 3), &xs, 0.5, key, 0).unwrap();
        assert!(whole.contains(&0.0) && whole.iter().any(|&v| v != 0.0));
        for (rows, ranks) in [(8, 2), (8, 4), (8, 8)] {
            let local = rows / ranks;
            for rank in 0..ranks {
                let node = dropout_node(local, 3);
                let part = &xs[rank * local * 3..(rank + 1) * local * 3];
                let row = Tensor::scalar(crate::ir::DType::I32, (rank * local) as f64);
                let x = Tensor::F64(ArrayD::from_shape_vec(vec![local, 3], part.to_vec()).unwrap());
                let first = first_element(&node, &[&x, &x, &x, &row]).unwrap();
                let got = dropout(&node, part, 0.5, key, first).unwrap();
                assert_eq!(got[..], whole[rank * local * 3..(rank + 1) * local * 3]);
            }
        }
    }
}
