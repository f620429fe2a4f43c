//! The two `conv2d` backward kernels, as GEMMs over im2col columns (the same
//! layout as the forward kernel: row `(image, oy, ox)`, column `(ky, kx, c)`,
//! which is the row order of the HWIO filter seen as `[KH*KW*C, O]`):
//! - filter: `dW[patch, O] = sum over rows of col[row, patch] * g[row, O]`;
//! - input: `dcol = g @ W^T`, then each column entry is added back to the input
//!   position it was read from (col2im); padding positions are dropped.
//!
//! Images are processed in chunks to bound the memory of the columns.

use super::window_count;
use ndarray::{Array2, ArrayView2};

/// The geometry of one convolution: x NHWC, w HWIO, g NHWO.
pub(super) struct ConvShape {
    pub(super) x: [usize; 4],
    pub(super) w: [usize; 4],
    pub(super) g: [usize; 4],
    pub(super) strides: [usize; 2],
    pub(super) pads: [usize; 4],
}

impl ConvShape {
    /// The shapes fit together (so every index below is in bounds).
    pub(super) fn check(&self) -> Result<(), String> {
        let [n, h, wd, c] = self.x;
        let [kh, kw, wc, o] = self.w;
        let [gn, oh, ow, go] = self.g;
        let (s, p) = (self.strides, self.pads);
        let fits = gn == n
            && wc == c
            && go == o
            && !s.contains(&0)
            && oh == window_count(h + p[0] + p[1], kh, s[0])
            && ow == window_count(wd + p[2] + p[3], kw, s[1]);
        if fits {
            Ok(())
        } else {
            Err(format!(
                "input {:?}, filter {:?} and gradient {:?} do not fit",
                self.x, self.w, self.g
            ))
        }
    }

    fn rows_per_image(&self) -> usize {
        self.g[1] * self.g[2]
    }

    fn patch(&self) -> usize {
        self.w[0] * self.w[1] * self.w[2]
    }

    /// Images per chunk: enough rows for an efficient GEMM, bounded memory.
    fn chunk(&self) -> usize {
        (4096 / self.rows_per_image().max(1)).clamp(1, self.x[0].max(1))
    }

    /// Calls `f(row, column, x_offset)` for every column entry of images
    /// `first..first + images` that reads the (unpadded) input.
    fn windows(&self, first: usize, images: usize, mut f: impl FnMut(usize, usize, usize)) {
        let [_, h, wd, c] = self.x;
        let [kh, kw, _, _] = self.w;
        let [_, oh, ow, _] = self.g;
        let (s, p) = (self.strides, self.pads);
        for image in 0..images {
            for oy in 0..oh {
                for ox in 0..ow {
                    let row = (image * oh + oy) * ow + ox;
                    for ky in 0..kh {
                        let Some(iy) = (oy * s[0] + ky).checked_sub(p[0]).filter(|&v| v < h) else {
                            continue;
                        };
                        for kx in 0..kw {
                            let Some(ix) = (ox * s[1] + kx).checked_sub(p[2]).filter(|&v| v < wd)
                            else {
                                continue;
                            };
                            let x_base = (((first + image) * h + iy) * wd + ix) * c;
                            let column = (ky * kw + kx) * c;
                            for ci in 0..c {
                                f(row, column + ci, x_base + ci);
                            }
                        }
                    }
                }
            }
        }
    }

    /// `g` of `images` images from `first`, as `[rows, O]`.
    fn g_rows<'a>(
        &self,
        g: &'a [f64],
        first: usize,
        images: usize,
    ) -> Result<ArrayView2<'a, f64>, String> {
        let (rows, o) = (self.rows_per_image(), self.g[3]);
        let part = g
            .get(first * rows * o..(first + images) * rows * o)
            .ok_or("the gradient is too short")?;
        ArrayView2::from_shape((images * rows, o), part).map_err(|e| e.to_string())
    }

    /// The adjoint of the input: `[N, H, W, C]` values.
    pub(super) fn backprop_input(&self, g: &[f64], w: &[f64]) -> Result<Vec<f64>, String> {
        let mut dx = vec![0.0; self.x.iter().product()];
        let filter =
            ArrayView2::from_shape((self.patch(), self.w[3]), w).map_err(|e| e.to_string())?;
        let chunk = self.chunk();
        let mut first = 0;
        while first < self.x[0] {
            let images = chunk.min(self.x[0] - first);
            let columns = self.g_rows(g, first, images)?.dot(&filter.t());
            self.windows(first, images, |row, column, at| {
                dx[at] += columns[[row, column]]
            });
            first += images;
        }
        Ok(dx)
    }

    /// The adjoint of the filter: `[KH, KW, C, O]` values.
    pub(super) fn backprop_filter(&self, x: &[f64], g: &[f64]) -> Result<Vec<f64>, String> {
        let mut dw = Array2::<f64>::zeros((self.patch(), self.w[3]));
        let chunk = self.chunk();
        let mut first = 0;
        while first < self.x[0] {
            let images = chunk.min(self.x[0] - first);
            let mut columns = Array2::<f64>::zeros((images * self.rows_per_image(), self.patch()));
            self.windows(first, images, |row, column, at| {
                columns[[row, column]] = x[at]
            });
            dw += &columns.t().dot(&self.g_rows(g, first, images)?);
            first += images;
        }
        Ok(dw.iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::ConvShape;

    /// The definition, one product at a time: (dx, dw).
    fn naive(s: &ConvShape, x: &[f64], w: &[f64], g: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let [n, h, wd, c] = s.x;
        let [kh, kw, _, o] = s.w;
        let [_, oh, ow, _] = s.g;
        let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        for image in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (oy * s.strides[0] + ky) as i64 - s.pads[0] as i64;
                            let ix = (ox * s.strides[1] + kx) as i64 - s.pads[2] as i64;
                            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                                continue;
                            }
                            let (iy, ix) = (iy as usize, ix as usize);
                            for ci in 0..c {
                                for oi in 0..o {
                                    let xi = ((image * h + iy) * wd + ix) * c + ci;
                                    let wi = ((ky * kw + kx) * c + ci) * o + oi;
                                    let gi = ((image * oh + oy) * ow + ox) * o + oi;
                                    dx[xi] += g[gi] * w[wi];
                                    dw[wi] += x[xi] * g[gi];
                                }
                            }
                        }
                    }
                }
            }
        }
        (dx, dw)
    }

    #[test]
    fn gemm_kernels_match_the_definition() {
        let cases = [
            ([3, 5, 6, 2], [3, 2, 2, 3], [1, 1], [0, 0, 0, 0]),
            ([2, 7, 5, 3], [3, 3, 3, 2], [2, 3], [1, 2, 0, 1]),
            ([1, 4, 4, 1], [5, 5, 1, 2], [1, 1], [2, 2, 2, 2]),
            // 300 images: several chunks.
            ([300, 3, 3, 1], [2, 2, 1, 1], [1, 1], [0, 0, 0, 0]),
        ];
        for (xd, wd, strides, pads) in cases {
            let out = |len: usize, pad: usize, k: usize, s: usize| (len + pad - k) / s + 1;
            let g_dims = [
                xd[0],
                out(xd[1], pads[0] + pads[1], wd[0], strides[0]),
                out(xd[2], pads[2] + pads[3], wd[1], strides[1]),
                wd[3],
            ];
            let s = ConvShape {
                x: xd,
                w: wd,
                g: g_dims,
                strides,
                pads,
            };
            s.check().unwrap();
            let values =
                |n: usize, k: f64| (0..n).map(|i| (i as f64 * k).sin()).collect::<Vec<_>>();
            let x = values(xd.iter().product(), 0.7);
            let w = values(wd.iter().product(), 1.3);
            let g = values(g_dims.iter().product(), 0.9);
            let (dx, dw) = naive(&s, &x, &w, &g);
            let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-12);
            assert!(close(&s.backprop_input(&g, &w).unwrap(), &dx));
            assert!(close(&s.backprop_filter(&x, &g).unwrap(), &dw));
        }
    }
}
