//! The adjoint of `max_pool2d` when its windows tile the input: strides equal
//! to the size, no pads, every window inside (the usual `max_pool2d(x, 2, 2)`).
//! Then each cell is in at most one window and receives `0 + g` or stays 0,
//! so the gradient is written a window's channels at a time, without the
//! general kernel's scatter; compiled for the widest vectors the CPU has.
//! The same bits as the general kernel (`pool.rs`), which the tests check.

use crate::ir::scalar::Scalar;
use crate::ir::BinaryOp;
use crate::kernels::isa::{self, Isa};
use crate::kernels::pool::Pool;

/// Whether the windows of `pool` tile its input, never overlapping or
/// reaching past it.
pub(super) fn tiles(pool: &Pool) -> bool {
    let [_, h, w, _] = pool.input;
    let [_, oh, ow, _] = pool.output;
    pool.strides == pool.size
        && pool.pads == [0; 4]
        && oh * pool.size[0] <= h
        && ow * pool.size[1] <= w
}

/// Images `first..` (`len` elements each) of the gradient, for a `pool`
/// that [`tiles`].
pub(super) fn max_pool2d_grad<T: Scalar + Default>(
    pool: &Pool,
    x: &[T],
    g: &[T],
    first: usize,
    out: &mut [T],
) {
    by(isa::active(), pool, x, g, first, out)
}

/// As [`max_pool2d_grad`], compiled for `isa` (which must run here).
pub(super) fn by<T: Scalar + Default>(
    isa: Isa,
    pool: &Pool,
    x: &[T],
    g: &[T],
    first: usize,
    out: &mut [T],
) {
    debug_assert!(isa.missing().is_empty());
    match isa {
        // SAFETY: `isa` runs here: the CPU has AVX-512F.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { grad_avx512(pool, x, g, first, out) },
        // SAFETY: `isa` runs here: the CPU has AVX2.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { grad_avx2(pool, x, g, first, out) },
        _ => grad(pool, x, g, first, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn grad_avx512<T: Scalar + Default>(pool: &Pool, x: &[T], g: &[T], first: usize, out: &mut [T]) {
    grad(pool, x, g, first, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn grad_avx2<T: Scalar + Default>(pool: &Pool, x: &[T], g: &[T], first: usize, out: &mut [T]) {
    grad(pool, x, g, first, out)
}

#[inline(always)]
fn grad<T: Scalar + Default>(pool: &Pool, x: &[T], g: &[T], first: usize, out: &mut [T]) {
    let [_, h, w, c] = pool.input;
    let [_, oh, ow, _] = pool.output;
    let [sh, sw] = pool.size;
    let len = (h * w * c).max(1);
    let mut best = vec![T::default(); c];
    let mut best_at = vec![0u32; c];
    let mut share = vec![T::default(); c];
    for (k, dx) in out.chunks_exact_mut(len).enumerate() {
        // Every covered cell is written below; only cells no window covers
        // (a last row or column VALID leaves out) need their 0 first.
        if oh * sh < h || ow * sw < w {
            dx.fill(T::default());
        }
        let image = first + k;
        let x = &x[image * len..(image + 1) * len];
        for oy in 0..oh {
            for ox in 0..ow {
                let o = ((image * oh + oy) * ow + ox) * c;
                // The window's cells, row-major, as in the general kernel.
                let cell = |j: usize| ((oy * sh + j / sw) * w + ox * sw + j % sw) * c;
                best.copy_from_slice(&x[cell(0)..cell(0) + c]);
                best_at.fill(0);
                for j in 1..sh * sw {
                    let at = cell(j);
                    let cells = best.iter_mut().zip(&mut best_at).zip(&x[at..at + c]);
                    for ((m, m_at), &v) in cells {
                        let take = !m.is_nan() & (v.is_nan() | (v > *m));
                        *m = if take { v } else { *m };
                        *m_at = if take { j as u32 } else { *m_at };
                    }
                }
                for (s, &gv) in share.iter_mut().zip(&g[o..o + c]) {
                    *s = T::binary(BinaryOp::Add, T::default(), gv);
                }
                // Every cell of the window written once (a select, not a
                // conditional store, so it vectorises).
                for j in 0..sh * sw {
                    let at = cell(j);
                    let cells = dx[at..at + c].iter_mut().zip(&best_at).zip(&share);
                    for ((d, &b), &s) in cells {
                        *d = if b == j as u32 { s } else { T::default() };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::isa::Isa;

    /// Values with ties, NaNs and signed zeros, from a small generator.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                match s % 11 {
                    0 => f32::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    3 => 1.0,
                    _ => (s % 1000) as f32 / 37.0 - 13.0,
                }
            })
            .collect()
    }

    #[test]
    fn tiled_windows_match_the_general_kernel_bitwise_on_every_isa() {
        // [n, h, w, c] with the window size: odd sizes, VALID leaving cells
        // out, channel counts off the vector width, 1x1 and 3x2 windows.
        let cases = [
            ([3, 8, 8, 16], [2, 2]),
            ([2, 9, 7, 5], [2, 2]),
            ([1, 6, 6, 33], [3, 2]),
            ([2, 4, 5, 3], [1, 1]),
        ];
        for (dims, size) in cases {
            let pool = Pool::new(&dims, size, size, [0; 4]).unwrap();
            assert!(tiles(&pool));
            let x = values(pool.input_len(), 1);
            let g = values(pool.output_len(), 2);
            let mut want = vec![7.0f32; x.len()];
            crate::kernels::pool::max_pool2d_grad_windows(&pool, &x, &g, 0, &mut want);
            for isa in Isa::ALL.into_iter().filter(|i| i.missing().is_empty()) {
                let mut got = vec![7.0f32; x.len()];
                by(isa, &pool, &x, &g, 0, &mut got);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{dims:?} {size:?} {isa:?}");
                // From a later image on: that part of the whole.
                let image = pool.image_len();
                let mut part = vec![7.0f32; x.len() - image];
                by(isa, &pool, &x, &g, 1, &mut part);
                assert_eq!(bits(&part), bits(&want[image..]), "{dims:?} from image 1");
            }
        }
    }

    #[test]
    fn overlapping_or_padded_windows_do_not_tile() {
        let dims = [1, 8, 8, 4];
        assert!(!tiles(&Pool::new(&dims, [3, 3], [2, 2], [0; 4]).unwrap()));
        assert!(!tiles(
            &Pool::new(&dims, [2, 2], [2, 2], [0, 1, 0, 1]).unwrap()
        ));
        assert!(tiles(&Pool::new(&dims, [2, 2], [2, 2], [0; 4]).unwrap()));
    }
}
