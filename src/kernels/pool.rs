//! 2-D pooling over NHWC tensors: `max_pool2d`, `avg_pool2d` and their
//! adjoints, with explicit pads; a window is clipped to the input, so padded
//! cells are never read (TF's SAME; `docs/kernels.md`).

use super::conv::window_count;
#[path = "pool_tiled.rs"]
mod tiled;
use crate::ir::scalar::Scalar;
use crate::ir::BinaryOp;

/// A pooling window: its size, strides and pads, with the input and output
/// extents it was checked against.
#[derive(Clone, Copy, Debug)]
pub struct Pool {
    pub size: [usize; 2],
    pub strides: [usize; 2],
    pub pads: [usize; 4],
    /// The input `[n, h, w, c]`.
    pub input: [usize; 4],
    /// The output `[n, oh, ow, c]`.
    pub output: [usize; 4],
}

impl Pool {
    /// The window over an NHWC input of `dims`, or a message when the window,
    /// strides or pads do not fit it.
    pub fn new(
        dims: &[usize],
        size: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    ) -> Result<Pool, String> {
        let &[n, h, w, c] = dims else {
            return Err(format!("expected NHWC, got {dims:?}"));
        };
        if size.contains(&0) || strides.contains(&0) {
            return Err(format!(
                "window {size:?} and strides {strides:?} must be positive"
            ));
        }
        let padded = |len: usize, a: usize, b: usize| len.checked_add(a)?.checked_add(b);
        let (Some(ph), Some(pw)) = (padded(h, pads[0], pads[1]), padded(w, pads[2], pads[3]))
        else {
            return Err("the padded input is too large".into());
        };
        // A window larger than the padded input makes no windows (inference
        // rejects it; the kernel does not need to).
        let (oh, ow) = (
            window_count(ph, size[0], strides[0]),
            window_count(pw, size[1], strides[1]),
        );
        [n, oh, ow, c]
            .iter()
            .try_fold(1usize, |t, &d| t.checked_mul(d))
            .ok_or("too many elements")?;
        Ok(Pool {
            size,
            strides,
            pads,
            input: [n, h, w, c],
            output: [n, oh, ow, c],
        })
    }

    /// The input rows (or columns, with `axis` 1) that output row `o` reads:
    /// the window clipped to the input.
    fn span(&self, axis: usize, o: usize) -> std::ops::Range<usize> {
        let len = self.input[1 + axis];
        let start = o * self.strides[axis];
        let before = self.pads[2 * axis];
        let lo = start.saturating_sub(before).min(len);
        let hi = (start + self.size[axis]).saturating_sub(before).min(len);
        lo..hi.max(lo)
    }

    /// Calls `f(out_offset, cells)` for every window of `image` (channel 0),
    /// with the input offsets (channel 0) of its cells inside the input in
    /// row-major window order.
    fn windows(&self, image: usize, cells: &mut Vec<usize>, mut f: impl FnMut(usize, &[usize])) {
        let [_, h, w, c] = self.input;
        let [_, oh, ow, _] = self.output;
        for oy in 0..oh {
            for ox in 0..ow {
                cells.clear();
                for iy in self.span(0, oy) {
                    for ix in self.span(1, ox) {
                        cells.push(((image * h + iy) * w + ix) * c);
                    }
                }
                f(((image * oh + oy) * ow + ox) * c, cells);
            }
        }
    }

    /// Elements of an output row `(image, oy)`, the unit of the forward ops.
    pub fn row_len(&self) -> usize {
        self.output[2] * self.output[3]
    }

    /// Elements of an input image, the unit of the adjoints.
    pub fn image_len(&self) -> usize {
        self.input[1..].iter().product()
    }

    pub fn output_len(&self) -> usize {
        self.output.iter().product()
    }

    pub fn input_len(&self) -> usize {
        self.input.iter().product()
    }

    /// Window cells read to compute `out` elements of output (or gradient).
    pub fn work(&self, out: usize) -> usize {
        out.saturating_mul(self.size[0] * self.size[1])
    }
}

/// Output rows `first..` (`(image, oy)` rows of [`Pool::row_len`], as many
/// as `out` holds) of `max_pool2d` of the row-major input `x`: each window
/// folds from `lowest` with `maximum` (rows, then columns), so NaN propagates.
pub fn max_pool2d<T: Scalar + Default>(
    pool: &Pool,
    x: &[T],
    first: usize,
    out: &mut [T],
) -> Result<(), String> {
    check_len(x.len(), pool.input_len(), "input")?;
    let len = check_part(out.len(), pool.row_len(), first, pool.output_len())?;
    let [_, h, w, c] = pool.input;
    let [_, oh, _, _] = pool.output;
    for (r, row) in out.chunks_exact_mut(len).enumerate() {
        let (image, oy) = ((first + r) / oh, (first + r) % oh);
        for (ox, acc) in row.chunks_exact_mut(c).enumerate() {
            acc.fill(T::lowest());
            for iy in pool.span(0, oy) {
                for ix in pool.span(1, ox) {
                    let at = ((image * h + iy) * w + ix) * c;
                    for (m, &v) in acc.iter_mut().zip(&x[at..at + c]) {
                        *m = T::binary(BinaryOp::Maximum, *m, v);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Output rows `first..` of `avg_pool2d`: each window's sum in `f64` (in
/// window order) divided by the number of its cells inside the input,
/// rounded once to `T`.
pub fn avg_pool2d<T: Scalar + Default>(
    pool: &Pool,
    x: &[T],
    first: usize,
    out: &mut [T],
) -> Result<(), String> {
    check_len(x.len(), pool.input_len(), "input")?;
    let len = check_part(out.len(), pool.row_len(), first, pool.output_len())?;
    let [_, h, w, c] = pool.input;
    let [_, oh, _, _] = pool.output;
    let mut acc = vec![0.0f64; c];
    for (r, row) in out.chunks_exact_mut(len).enumerate() {
        let (image, oy) = ((first + r) / oh, (first + r) % oh);
        for (ox, dst) in row.chunks_exact_mut(c).enumerate() {
            acc.fill(0.0);
            let mut count = 0usize;
            for iy in pool.span(0, oy) {
                for ix in pool.span(1, ox) {
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
    Ok(())
}

/// Images `first..` (of [`Pool::image_len`], as many as `out` holds) of the
/// adjoint of `max_pool2d`: each window's gradient goes to the first cell
/// (row-major in the window) holding its maximum; a NaN wins, as it does in
/// the forward maximum; overlapping windows add up.
pub fn max_pool2d_grad<T: Scalar + Default>(
    pool: &Pool,
    x: &[T],
    g: &[T],
    first: usize,
    out: &mut [T],
) -> Result<(), String> {
    check_len(x.len(), pool.input_len(), "input")?;
    check_len(g.len(), pool.output_len(), "gradient")?;
    check_part(out.len(), pool.image_len(), first, pool.input_len())?;
    if tiled::tiles(pool) {
        tiled::max_pool2d_grad(pool, x, g, first, out);
    } else {
        max_pool2d_grad_windows(pool, x, g, first, out);
    }
    Ok(())
}

/// [`max_pool2d_grad`] for any windows, on checked lengths.
fn max_pool2d_grad_windows<T: Scalar + Default>(
    pool: &Pool,
    x: &[T],
    g: &[T],
    first: usize,
    out: &mut [T],
) {
    let len = pool.image_len().max(1);
    let c = pool.input[3];
    let mut cells = Vec::with_capacity(pool.size[0] * pool.size[1]);
    // Per channel: the best value so far and its cell, cells outer and
    // channels inner (contiguous), in the same cell order per channel.
    let mut best = vec![T::default(); c];
    // The cell as its place in the window (u32: four lanes per compare).
    let mut best_at = vec![0u32; c];
    for (k, dx) in out.chunks_exact_mut(len).enumerate() {
        dx.fill(T::default());
        let image = first + k;
        let origin = image * len;
        pool.windows(image, &mut cells, |o, cells| {
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
}

/// Images `first..` of the adjoint of `avg_pool2d`: each window's gradient
/// divided by its count of cells inside the input is added to each of them
/// (in `T`, windows in row-major order).
pub fn avg_pool2d_grad<T: Scalar + Default>(
    pool: &Pool,
    g: &[T],
    first: usize,
    out: &mut [T],
) -> Result<(), String> {
    check_len(g.len(), pool.output_len(), "gradient")?;
    let len = check_part(out.len(), pool.image_len(), first, pool.input_len())?;
    let c = pool.input[3];
    let mut cells = Vec::with_capacity(pool.size[0] * pool.size[1]);
    for (k, dx) in out.chunks_exact_mut(len).enumerate() {
        dx.fill(T::default());
        let image = first + k;
        let origin = image * len;
        pool.windows(image, &mut cells, |o, cells| {
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
    Ok(())
}

fn check_len(got: usize, want: usize, what: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("the {what} has {got} elements, {want} expected"))
    }
}

/// Checks that `out` elements are whole units of `unit` elements starting at
/// unit `first` of `total` elements: the unit, or 1 when it is empty.
fn check_part(out: usize, unit: usize, first: usize, total: usize) -> Result<usize, String> {
    let unit = unit.max(1);
    if !out.is_multiple_of(unit) || (first + out / unit) * unit > total {
        return Err(format!(
            "{out} output elements from unit {first} of {total} elements"
        ));
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7 % 23) as f32 - 11.0) * 0.25)
            .collect()
    }

    #[test]
    fn any_run_of_rows_or_images_is_that_part_of_the_whole() {
        // SAME-style pads, overlapping windows, three images of 5 x 5 x 3.
        let p = Pool::new(&[3, 5, 5, 3], [3, 3], [2, 2], [1, 1, 1, 1]).expect("fits");
        let x = values(p.input_len());
        let g = values(p.output_len());
        let (row, image) = (p.row_len(), p.image_len());
        let mut whole = vec![0.0f32; p.output_len()];
        let mut part = vec![0.0f32; 4 * row];
        type Forward = fn(&Pool, &[f32], usize, &mut [f32]) -> Result<(), String>;
        for forward in [max_pool2d::<f32> as Forward, avg_pool2d::<f32>] {
            forward(&p, &x, 0, &mut whole).expect("fits");
            forward(&p, &x, 3, &mut part).expect("fits");
            assert_eq!(part, whole[3 * row..7 * row]);
            assert!(forward(&p, &x, 6, &mut part).is_err());
        }
        let mut whole = vec![0.0f32; p.input_len()];
        let mut part = vec![1.0f32; image];
        max_pool2d_grad(&p, &x, &g, 0, &mut whole).expect("fits");
        max_pool2d_grad(&p, &x, &g, 2, &mut part).expect("fits");
        assert_eq!(part, whole[2 * image..]);
        avg_pool2d_grad(&p, &g, 0, &mut whole).expect("fits");
        avg_pool2d_grad(&p, &g, 1, &mut part).expect("fits");
        assert_eq!(part, whole[image..2 * image]);
        assert!(avg_pool2d_grad(&p, &g, 3, &mut part).is_err());
    }

    #[test]
    fn the_max_gradient_goes_to_the_first_maximum_or_a_nan() {
        let p = Pool::new(&[1, 2, 2, 2], [2, 2], [1, 1], [0; 4]).expect("fits");
        // Channel 0: 1, 3, 3, 0 (the first 3 wins); channel 1: NaN at cell 2.
        let x = [1.0f64, 0.0, 3.0, 5.0, 3.0, f64::NAN, 0.0, 9.0];
        let mut dx = [7.0f64; 8];
        max_pool2d_grad(&p, &x, &[10.0, 20.0], 0, &mut dx).expect("fits");
        assert_eq!(dx, [0.0, 0.0, 10.0, 0.0, 0.0, 20.0, 0.0, 0.0]);
        let mut y = [0.0f64; 2];
        max_pool2d(&p, &x, 0, &mut y).expect("fits");
        assert_eq!(y[0], 3.0);
        assert!(y[1].is_nan());
    }
}
