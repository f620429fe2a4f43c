//! The geometry of a convolution (`Conv`: shapes checked once, so every index
//! the kernels compute is in bounds), its im2col runs and the batch chunks.

use super::ConvElem;

/// Rows of the column matrix per GEMM: enough for an efficient product, small
/// enough that the columns of a chunk stay in the L2 cache.
const CHUNK_ROWS: usize = 2048;

/// `dst.copy_from_slice(src)` for the short runs of im2col (a window row, 15
/// or 18 values here): fixed-size pieces the compiler inlines as vector moves,
/// where a `memcpy` call per run cost more than the copying.
fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d8, s8) in (&mut d).zip(&mut s) {
        d8.copy_from_slice(s8);
    }
    let (mut d, mut s) = (
        d.into_remainder().chunks_exact_mut(4),
        s.remainder().chunks_exact(4),
    );
    for (d4, s4) in (&mut d).zip(&mut s) {
        d4.copy_from_slice(s4);
    }
    for (d1, s1) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d1 = *s1;
    }
}

/// The output length of a VALID window sweep over a (padded) length.
pub fn window_count(padded: usize, window: usize, stride: usize) -> usize {
    if padded < window || stride == 0 {
        0
    } else {
        (padded - window) / stride + 1
    }
}

/// The geometry of one convolution: input `x` NHWC, filter `w` HWIO, zero
/// padding `[top, bottom, left, right]`; the output is `out()` (NHWO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    pub(super) x: [usize; 4],
    pub(super) w: [usize; 4],
    pub(super) strides: [usize; 2],
    pub(super) pads: [usize; 4],
    pub(super) out: [usize; 4],
}

impl Conv {
    /// Checks that the shapes fit (channels agree, strides positive, sizes do
    /// not overflow), so every index the kernels compute is in bounds.
    pub fn new(
        x: [usize; 4],
        w: [usize; 4],
        strides: [usize; 2],
        pads: [usize; 4],
    ) -> Result<Conv, String> {
        let [n, h, wd, c] = x;
        let [kh, kw, wc, o] = w;
        if wc != c || strides.contains(&0) {
            return Err(format!(
                "input {x:?} and filter {w:?} do not fit (strides {strides:?})"
            ));
        }
        let padded = |len: usize, a: usize, b: usize| len.checked_add(a)?.checked_add(b);
        let (Some(ph), Some(pw)) = (padded(h, pads[0], pads[1]), padded(wd, pads[2], pads[3]))
        else {
            return Err(format!("padding {pads:?} overflows"));
        };
        let out = [
            n,
            window_count(ph, kh, strides[0]),
            window_count(pw, kw, strides[1]),
            o,
        ];
        let sizes = [&x[..], &w[..], &out[..], &[out[1], out[2], kh, kw, c]];
        if sizes.iter().any(|dims| {
            dims.iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .is_none()
        }) {
            return Err(format!("input {x:?} and filter {w:?} are too large"));
        }
        Ok(Conv {
            x,
            w,
            strides,
            pads,
            out,
        })
    }

    /// The output shape `[N, OH, OW, O]`.
    pub fn out(&self) -> [usize; 4] {
        self.out
    }

    pub(super) fn rows_per_image(&self) -> usize {
        self.out[1] * self.out[2]
    }

    pub(super) fn patch(&self) -> usize {
        self.w[0] * self.w[1] * self.w[2]
    }

    /// Images per chunk (at least one).
    pub(super) fn chunk(&self) -> usize {
        (CHUNK_ROWS / self.rows_per_image().max(1)).clamp(1, self.x[0].max(1))
    }

    /// The window positions of output index `o` along one axis that read the
    /// unpadded input: `(k_lo, k_hi, first input index)`.
    fn span(o: usize, stride: usize, pad: usize, len: usize, k: usize) -> (usize, usize, usize) {
        let start = o * stride; // padded coordinate of k = 0
        let lo = pad.saturating_sub(start).min(k);
        let hi = (pad + len).saturating_sub(start).min(k).max(lo);
        (lo, hi, (start + lo).saturating_sub(pad))
    }

    /// Calls `f(col_offset, x_offset, len)` for every contiguous run of the
    /// column rows of images `first..first + images` that reads the input;
    /// `col_offset` is relative to the chunk's column matrix.
    pub(super) fn runs(&self, first: usize, images: usize, mut f: impl FnMut(usize, usize, usize)) {
        let [_, h, wd, c] = self.x;
        let [kh, kw, _, _] = self.w;
        let [_, oh, ow, _] = self.out;
        let (s, p, patch) = (self.strides, self.pads, self.patch());
        for image in 0..images {
            let x_image = (first + image) * h * wd * c;
            for oy in 0..oh {
                let (ky_lo, ky_hi, iy0) = Self::span(oy, s[0], p[0], h, kh);
                for ox in 0..ow {
                    let (kx_lo, kx_hi, ix0) = Self::span(ox, s[1], p[2], wd, kw);
                    if kx_lo == kx_hi {
                        continue;
                    }
                    let row = ((image * oh + oy) * ow + ox) * patch;
                    for (ky, iy) in (ky_lo..ky_hi).zip(iy0..) {
                        f(
                            row + (ky * kw + kx_lo) * c,
                            x_image + (iy * wd + ix0) * c,
                            (kx_hi - kx_lo) * c,
                        );
                    }
                }
            }
        }
    }

    /// True when no window reaches into the padding (every column entry is
    /// written by `runs`, so the columns need no zeroing).
    pub(super) fn dense(&self) -> bool {
        let [_, h, wd, _] = self.x;
        let [_, oh, ow, _] = self.out;
        let (s, p) = (self.strides, self.pads);
        let fits = |o: usize, s: usize, pad: usize, len: usize, k: usize| {
            o == 0 || (pad == 0 && (o - 1) * s + k <= len)
        };
        fits(oh, s[0], p[0], h, self.w[0]) && fits(ow, s[1], p[2], wd, self.w[1])
    }

    /// The columns of `images` images from `first` into `col` (resized).
    pub(super) fn im2col<T: ConvElem>(
        &self,
        x: &[T],
        first: usize,
        images: usize,
        col: &mut Vec<T>,
    ) {
        let len = images * self.rows_per_image() * self.patch();
        if !self.dense() {
            col.clear();
        }
        col.resize(len, T::default());
        self.runs(first, images, |at, from, len| {
            copy_short(&mut col[at..at + len], &x[from..from + len]);
        });
    }

    pub(super) fn check(&self, what: &str, got: usize, dims: [usize; 4]) -> Result<(), String> {
        let want: usize = dims.iter().product();
        if got == want {
            Ok(())
        } else {
            Err(format!("{what} has {got} values, not {want} ({dims:?})"))
        }
    }

    /// Processes the batch in chunks: `f(first image, images, chunk rows)`.
    pub(super) fn chunks(&self, mut f: impl FnMut(usize, usize, usize)) {
        let chunk = self.chunk();
        let mut first = 0;
        while first < self.x[0] {
            let images = chunk.min(self.x[0] - first);
            f(first, images, images * self.rows_per_image());
            first += images;
        }
    }
}
