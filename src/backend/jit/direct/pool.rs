//! 2-D pooling over NHWC (`max_pool2d`, `avg_pool2d` and their adjoints)
//! with the geometry of `kernels::pool::Pool`: each window clipped to the
//! input (padded cells never read), cells in row-major window order, so
//! every value is the interpreter's bit for bit. The forward ops split
//! among threads by output rows `(image, oy)`, the adjoints by image (the
//! windows of one image add into it in order).

use super::rows::for_rows;
use super::{Call, Elem};
use crate::diag::Diag;
use crate::ir::BinaryOp;
use crate::kernels::pool::Pool;
use std::ops::Range;

/// Size, strides and pads `[top, bottom, left, right]`.
pub(super) type Window = ([usize; 2], [usize; 2], [usize; 4]);

/// The window's geometry over an NHWC input of `dims`.
fn geometry(call: &Call, dims: &[usize], window: Window) -> Result<Pool, Diag> {
    let (size, strides, pads) = window;
    Pool::new(dims, size, strides, pads).map_err(|m| call.fail(m))
}

/// The input rows (`axis` 0) or columns (1) that output row/column `o` reads.
fn span(p: &Pool, axis: usize, o: usize) -> Range<usize> {
    let len = p.input[1 + axis];
    let start = o * p.strides[axis];
    let before = p.pads[2 * axis];
    let lo = start.saturating_sub(before).min(len);
    let hi = (start + p.size[axis]).saturating_sub(before).min(len);
    lo..hi.max(lo)
}

fn expect_len(call: &Call, got: usize, want: usize, what: &str) -> Result<(), Diag> {
    if got == want {
        Ok(())
    } else {
        Err(call.fail(format!("the {what} has {got} elements, {want} expected")))
    }
}

/// `max_pool2d`: each window folds from `lowest` with `maximum` (NaN wins).
pub(super) fn max_pool<T: Elem>(call: &Call, window: Window, out: &mut [T]) -> Result<(), Diag> {
    let (x, dims) = call.input::<T>(0)?;
    let p = geometry(call, dims, window)?;
    let [_, h, w, c] = p.input;
    let [_, oh, ow, _] = p.output;
    expect_len(call, out.len(), p.output.iter().product(), "output")?;
    let work = out.len() * p.size[0] * p.size[1];
    for_rows(out, ow * c, work, |first, rows| {
        for (r, row) in rows.chunks_exact_mut(ow * c).enumerate() {
            let (image, oy) = ((first + r) / oh, (first + r) % oh);
            for (ox, acc) in row.chunks_exact_mut(c).enumerate() {
                acc.fill(T::lowest());
                for iy in span(&p, 0, oy) {
                    for ix in span(&p, 1, ox) {
                        let at = ((image * h + iy) * w + ix) * c;
                        for (m, &v) in acc.iter_mut().zip(&x[at..at + c]) {
                            *m = T::binary(BinaryOp::Maximum, *m, v);
                        }
                    }
                }
            }
        }
    });
    Ok(())
}

/// `avg_pool2d`: each window's sum in `f64` (window order) divided by its
/// count of cells inside the input, rounded once.
pub(super) fn avg_pool<T: Elem>(call: &Call, window: Window, out: &mut [T]) -> Result<(), Diag> {
    let (x, dims) = call.input::<T>(0)?;
    let p = geometry(call, dims, window)?;
    let [_, h, w, c] = p.input;
    let [_, oh, ow, _] = p.output;
    expect_len(call, out.len(), p.output.iter().product(), "output")?;
    let work = out.len() * p.size[0] * p.size[1];
    for_rows(out, ow * c, work, |first, rows| {
        let mut acc = vec![0.0f64; c];
        for (r, row) in rows.chunks_exact_mut(ow * c).enumerate() {
            let (image, oy) = ((first + r) / oh, (first + r) % oh);
            for (ox, dst) in row.chunks_exact_mut(c).enumerate() {
                acc.fill(0.0);
                let mut count = 0usize;
                for iy in span(&p, 0, oy) {
                    for ix in span(&p, 1, ox) {
                        let at = ((image * h + iy) * w + ix) * c;
                        for (s, v) in acc.iter_mut().zip(&x[at..at + c]) {
                            *s += v.to_f64();
                        }
                        count += 1;
                    }
                }
                for (d, s) in dst.iter_mut().zip(&acc) {
                    *d = T::from_f64(s / count as f64);
                }
            }
        }
    });
    Ok(())
}

/// Calls `f(o, cells)` for every window of `image`: `o` is the
/// output offset (channel 0), `cells` the input offsets (channel 0) of its
/// cells inside the input, row-major.
fn windows(p: &Pool, image: usize, cells: &mut Vec<usize>, mut f: impl FnMut(usize, &[usize])) {
    let [_, h, w, c] = p.input;
    let [_, oh, ow, _] = p.output;
    for oy in 0..oh {
        for ox in 0..ow {
            cells.clear();
            for iy in span(p, 0, oy) {
                for ix in span(p, 1, ox) {
                    cells.push(((image * h + iy) * w + ix) * c);
                }
            }
            f(((image * oh + oy) * ow + ox) * c, cells);
        }
    }
}

/// The adjoint of `avg_pool2d`: each window's gradient over its count added
/// to each of its cells (in `T`, windows in row-major order).
pub(super) fn avg_pool_grad<T: Elem>(
    call: &Call,
    window: Window,
    out: &mut [T],
) -> Result<(), Diag> {
    let (g, _) = call.input::<T>(0)?;
    let p = geometry(call, call.node.ty.shape.dims(), window)?;
    expect_len(call, g.len(), p.output.iter().product(), "gradient")?;
    let [_, h, w, c] = p.input;
    let image_len = h * w * c;
    let work = g.len() * p.size[0] * p.size[1];
    for_rows(out, image_len, work, |first, images| {
        images.fill(T::default());
        let mut cells = Vec::with_capacity(p.size[0] * p.size[1]);
        for (k, dx) in images.chunks_exact_mut(image_len).enumerate() {
            let image = first + k;
            let origin = image * image_len;
            windows(&p, image, &mut cells, |o, cells| {
                let count = cells.len() as f64;
                for ch in 0..c {
                    let share = T::from_f64(g[o + ch].to_f64() / count);
                    for &at in cells {
                        let d = &mut dx[at - origin + ch];
                        *d = T::binary(BinaryOp::Add, *d, share);
                    }
                }
            });
        }
    });
    Ok(())
}

/// The adjoint of `max_pool2d`: each window's gradient goes to the first
/// cell holding its maximum (a NaN wins); overlapping windows add up.
pub(super) fn max_pool_grad<T: Elem>(
    call: &Call,
    window: Window,
    out: &mut [T],
) -> Result<(), Diag> {
    let (x, dims) = call.input::<T>(0)?;
    let (g, _) = call.input::<T>(1)?;
    let p = geometry(call, dims, window)?;
    expect_len(call, g.len(), p.output.iter().product(), "gradient")?;
    expect_len(call, out.len(), x.len(), "output")?;
    let [_, h, w, c] = p.input;
    let image_len = h * w * c;
    let work = g.len() * p.size[0] * p.size[1];
    for_rows(out, image_len, work, |first, images| {
        images.fill(T::default());
        let mut cells = Vec::with_capacity(p.size[0] * p.size[1]);
        // Per channel: the best value so far and its cell, cells outer and
        // channels inner (contiguous), in the same cell order per channel.
        let mut best = vec![T::default(); c];
        // The cell as its place in the window (u32: four lanes per compare).
        let mut best_at = vec![0u32; c];
        for (k, dx) in images.chunks_exact_mut(image_len).enumerate() {
            let image = first + k;
            let origin = image * image_len;
            windows(&p, image, &mut cells, |o, cells| {
                let Some((&head, rest)) = cells.split_first() else {
                    return;
                };
                best.copy_from_slice(&x[head..head + c]);
                best_at.fill(0);
                for (k, &at) in (1u32..).zip(rest) {
                    for ((m, m_at), &v) in best.iter_mut().zip(&mut best_at).zip(&x[at..at + c]) {
                        // Without branches: random data mispredicts them.
                        let take = !m.is_nan() & (v.is_nan() | (v > *m));
                        *m = if take { v } else { *m };
                        *m_at = if take { k } else { *m_at };
                    }
                }
                for (ch, &k) in best_at.iter().enumerate() {
                    let d = &mut dx[cells[k as usize] + ch - origin];
                    *d = T::binary(BinaryOp::Add, *d, g[o + ch]);
                }
            });
        }
    });
    Ok(())
}
