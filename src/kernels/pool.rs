//! 2-D pooling over NHWC tensors: `max_pool2d`, `avg_pool2d` and their
//! adjoints, with explicit pads; a window is clipped to the input, so padded
//! cells are never read (TF's SAME; `docs/kernels.md`).

use super::conv::window_count;
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

    /// Calls `f(out_offset, cells)` for every output position (channel 0), with
    /// the input offsets (channel 0) of the window's cells inside the input in
    /// row-major window order.
    fn each_window(&self, mut f: impl FnMut(usize, &[usize])) {
        let [n, h, w, c] = self.input;
        let [_, oh, ow, _] = self.output;
        let mut cells = Vec::with_capacity(self.size[0] * self.size[1]);
        for image in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    cells.clear();
                    for iy in self.span(0, oy) {
                        for ix in self.span(1, ox) {
                            cells.push(((image * h + iy) * w + ix) * c);
                        }
                    }
                    f(((image * oh + oy) * ow + ox) * c, &cells);
                }
            }
        }
    }

    fn output_len(&self) -> usize {
        self.output.iter().product()
    }

    fn input_len(&self) -> usize {
        self.input.iter().product()
    }
}

/// `max_pool2d` of the row-major input `x`: each window folds from `lowest`
/// with `maximum` (rows, then columns), so NaN propagates.
pub fn max_pool2d<T: Scalar + Default>(pool: &Pool, x: &[T]) -> Result<Vec<T>, String> {
    check_len(x.len(), pool.input_len(), "input")?;
    let c = pool.input[3];
    let mut out = vec![T::lowest(); pool.output_len()];
    pool.each_window(|o, cells| {
        let acc = &mut out[o..o + c];
        for &at in cells {
            for (m, &v) in acc.iter_mut().zip(&x[at..at + c]) {
                *m = T::binary(BinaryOp::Maximum, *m, v);
            }
        }
    });
    Ok(out)
}

/// `avg_pool2d`: each window's sum in `f64` (in window order) divided by the
/// number of its cells inside the input, rounded once to `T`.
pub fn avg_pool2d<T: Scalar + Default>(pool: &Pool, x: &[T]) -> Result<Vec<T>, String> {
    check_len(x.len(), pool.input_len(), "input")?;
    let c = pool.input[3];
    let mut out = vec![T::default(); pool.output_len()];
    let mut acc = vec![0.0f64; c];
    pool.each_window(|o, cells| {
        acc.fill(0.0);
        for &at in cells {
            for (s, v) in acc.iter_mut().zip(&x[at..at + c]) {
                *s += v.to_f64();
            }
        }
        let count = cells.len() as f64;
        for (dst, s) in out[o..o + c].iter_mut().zip(&acc) {
            *dst = T::from_f64(s / count);
        }
    });
    Ok(out)
}

/// The adjoint of `max_pool2d`: each window's gradient goes to the first cell
/// (row-major in the window) holding its maximum; a NaN wins, as it does in
/// the forward maximum; overlapping windows add up.
pub fn max_pool2d_grad<T: Scalar + Default>(
    pool: &Pool,
    x: &[T],
    g: &[T],
) -> Result<Vec<T>, String> {
    check_len(x.len(), pool.input_len(), "input")?;
    check_len(g.len(), pool.output_len(), "gradient")?;
    let c = pool.input[3];
    let mut dx = vec![T::default(); x.len()];
    pool.each_window(|o, cells| {
        for ch in 0..c {
            let mut best: Option<(usize, T)> = None;
            for &at in cells {
                let v = x[at + ch];
                let better = match best {
                    None => true,
                    Some((_, m)) => !m.is_nan() && (v.is_nan() || v > m),
                };
                if better {
                    best = Some((at + ch, v));
                }
            }
            if let Some((at, _)) = best {
                dx[at] = T::binary(BinaryOp::Add, dx[at], g[o + ch]);
            }
        }
    });
    Ok(dx)
}

/// The adjoint of `avg_pool2d`: each window's gradient divided by its count of
/// cells inside the input is added to each of them (in `T`, windows in
/// row-major order).
pub fn avg_pool2d_grad<T: Scalar + Default>(pool: &Pool, g: &[T]) -> Result<Vec<T>, String> {
    check_len(g.len(), pool.output_len(), "gradient")?;
    let c = pool.input[3];
    let mut dx = vec![T::default(); pool.input_len()];
    pool.each_window(|o, cells| {
        let count = cells.len() as f64;
        for ch in 0..c {
            let share = T::from_f64(g[o + ch].to_f64() / count);
            for &at in cells {
                dx[at + ch] = T::binary(BinaryOp::Add, dx[at + ch], share);
            }
        }
    });
    Ok(dx)
}

fn check_len(got: usize, want: usize, what: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("the {what} has {got} elements, {want} expected"))
    }
}
