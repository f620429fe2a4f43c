//! Adam's update of one variable in one pass, on the widest vectors the CPU
//! has (`kernels::isa`):
//!
//! ```text
//! m' = b1·m + c1·g        s' = b2·s + c2·(g·g)        w' = w − lr·(m' / (√s' + eps))
//! ```
//!
//! Every step is one correctly rounded IEEE operation (no fused multiply-add),
//! so every path, and the JIT's `f32x4` kernel of the same expression, gives
//! the same bits. The divide and the square root bound the loop: a 512-bit
//! register does four times the work of a 128-bit one at about the same
//! throughput (`docs/jit.md`, "Adam's update").

use super::isa::Isa;

/// The scalars of the update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub b1: f32,
    pub c1: f32,
    pub b2: f32,
    pub c2: f32,
    pub lr: f32,
    pub eps: f32,
}

/// The buffers of the update: inputs `g`, `m`, `s`, `w` and outputs `m'`,
/// `s'`, `w'`.
#[derive(Clone, Copy, Debug)]
pub struct Buffers {
    pub g: *const f32,
    pub m: *const f32,
    pub s: *const f32,
    pub w: *const f32,
    pub m_out: *mut f32,
    pub s_out: *mut f32,
    pub w_out: *mut f32,
}

/// One element.
#[inline(always)]
fn element(p: &Params, g: f32, m: f32, s: f32, w: f32) -> (f32, f32, f32) {
    let m2 = p.b1 * m + p.c1 * g;
    let s2 = p.b2 * s + p.c2 * (g * g);
    (m2, s2, w - p.lr * (m2 / (s2.sqrt() + p.eps)))
}

/// The update of `n` elements by the lanes of `isa`.
///
/// # Safety
/// `isa` runs on this CPU; every pointer of `b` is valid for `n` `f32`s; an
/// output either is one of the inputs (the same address: each element is read
/// before it is written) or overlaps none of them.
pub unsafe fn update(isa: Isa, p: &Params, b: Buffers, n: usize) {
    let done = match isa {
        // SAFETY: the caller's guarantees.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::avx512(p, b, n) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::avx2(p, b, n) },
        // SAFETY: as above.
        _ => unsafe { portable(p, b, n) },
    };
    // SAFETY: as above, for the elements from `done` on.
    unsafe { scalar(p, b, done, n) };
}

/// Elements `from..n`, one at a time.
///
/// # Safety
/// As for [`update`].
unsafe fn scalar(p: &Params, b: Buffers, from: usize, n: usize) {
    for i in from..n {
        // SAFETY: `i < n`; each element is read before it is written.
        unsafe {
            let (m2, s2, w2) = element(p, *b.g.add(i), *b.m.add(i), *b.s.add(i), *b.w.add(i));
            *b.m_out.add(i) = m2;
            *b.s_out.add(i) = s2;
            *b.w_out.add(i) = w2;
        }
    }
}

/// Chunks of 8 through arrays the compiler vectorises (SSE on the x86-64
/// baseline: `sqrtps`, `divps`); returns how many elements it did.
///
/// # Safety
/// As for [`update`].
unsafe fn portable(p: &Params, b: Buffers, n: usize) -> usize {
    const W: usize = 8;
    let chunks = n / W;
    for c in 0..chunks {
        let at = c * W;
        let load = |ptr: *const f32| {
            let mut x = [0f32; W];
            // SAFETY: `at + W <= n`; `x` is a separate local.
            unsafe { std::ptr::copy_nonoverlapping(ptr.add(at), x.as_mut_ptr(), W) };
            x
        };
        let (g, m, s, w) = (load(b.g), load(b.m), load(b.s), load(b.w));
        let (mut m2, mut s2, mut w2) = ([0f32; W], [0f32; W], [0f32; W]);
        for i in 0..W {
            (m2[i], s2[i], w2[i]) = element(p, g[i], m[i], s[i], w[i]);
        }
        // SAFETY: as for the loads; the inputs of this chunk are read.
        unsafe {
            std::ptr::copy_nonoverlapping(m2.as_ptr(), b.m_out.add(at), W);
            std::ptr::copy_nonoverlapping(s2.as_ptr(), b.s_out.add(at), W);
            std::ptr::copy_nonoverlapping(w2.as_ptr(), b.w_out.add(at), W);
        }
    }
    chunks * W
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Buffers, Params};
    use std::arch::x86_64::*;

    /// 16 lanes at a time; returns how many elements it did.
    ///
    /// # Safety
    /// As for [`super::update`], on a CPU with AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(p: &Params, b: Buffers, n: usize) -> usize {
        let (b1, c1) = (_mm512_set1_ps(p.b1), _mm512_set1_ps(p.c1));
        let (b2, c2) = (_mm512_set1_ps(p.b2), _mm512_set1_ps(p.c2));
        let (lr, eps) = (_mm512_set1_ps(p.lr), _mm512_set1_ps(p.eps));
        let chunks = n / 16;
        for c in 0..chunks {
            let at = c * 16;
            // SAFETY: `at + 16 <= n`; loads come before the stores.
            unsafe {
                let g = _mm512_loadu_ps(b.g.add(at));
                let m = _mm512_loadu_ps(b.m.add(at));
                let s = _mm512_loadu_ps(b.s.add(at));
                let w = _mm512_loadu_ps(b.w.add(at));
                let m2 = _mm512_add_ps(_mm512_mul_ps(b1, m), _mm512_mul_ps(c1, g));
                let s2 =
                    _mm512_add_ps(_mm512_mul_ps(b2, s), _mm512_mul_ps(c2, _mm512_mul_ps(g, g)));
                let den = _mm512_add_ps(_mm512_sqrt_ps(s2), eps);
                let w2 = _mm512_sub_ps(w, _mm512_mul_ps(lr, _mm512_div_ps(m2, den)));
                _mm512_storeu_ps(b.m_out.add(at), m2);
                _mm512_storeu_ps(b.s_out.add(at), s2);
                _mm512_storeu_ps(b.w_out.add(at), w2);
            }
        }
        chunks * 16
    }

    /// 8 lanes at a time; returns how many elements it did.
    ///
    /// # Safety
    /// As for [`super::update`], on a CPU with AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(p: &Params, b: Buffers, n: usize) -> usize {
        let (b1, c1) = (_mm256_set1_ps(p.b1), _mm256_set1_ps(p.c1));
        let (b2, c2) = (_mm256_set1_ps(p.b2), _mm256_set1_ps(p.c2));
        let (lr, eps) = (_mm256_set1_ps(p.lr), _mm256_set1_ps(p.eps));
        let chunks = n / 8;
        for c in 0..chunks {
            let at = c * 8;
            // SAFETY: `at + 8 <= n`; loads come before the stores.
            unsafe {
                let g = _mm256_loadu_ps(b.g.add(at));
                let m = _mm256_loadu_ps(b.m.add(at));
                let s = _mm256_loadu_ps(b.s.add(at));
                let w = _mm256_loadu_ps(b.w.add(at));
                let m2 = _mm256_add_ps(_mm256_mul_ps(b1, m), _mm256_mul_ps(c1, g));
                let s2 =
                    _mm256_add_ps(_mm256_mul_ps(b2, s), _mm256_mul_ps(c2, _mm256_mul_ps(g, g)));
                let den = _mm256_add_ps(_mm256_sqrt_ps(s2), eps);
                let w2 = _mm256_sub_ps(w, _mm256_mul_ps(lr, _mm256_div_ps(m2, den)));
                _mm256_storeu_ps(b.m_out.add(at), m2);
                _mm256_storeu_ps(b.s_out.add(at), s2);
                _mm256_storeu_ps(b.w_out.add(at), w2);
            }
        }
        chunks * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32, positive: bool) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let v = (x % 20_001) as f32 / 10_000.0 - 1.0;
                if positive {
                    v * v * 1e-3
                } else {
                    v * 1e-2
                }
            })
            .collect()
    }

    const P: Params = Params {
        b1: 0.9,
        c1: 0.1,
        b2: 0.999,
        c2: 0.001,
        lr: 0.003,
        eps: 1e-8,
    };

    /// The outputs of every runnable set, apart and in place.
    fn run(isa: Isa, n: usize, in_place: bool) -> [Vec<f32>; 3] {
        let (g, mut m, mut s, mut w) = (
            values(n, 1, false),
            values(n, 2, false),
            values(n, 3, true),
            values(n, 4, false),
        );
        let mut outs = [vec![f32::NAN; n], vec![f32::NAN; n], vec![f32::NAN; n]];
        let [om, os, ow] = &mut outs;
        let b = if in_place {
            let (pm, ps, pw) = (m.as_mut_ptr(), s.as_mut_ptr(), w.as_mut_ptr());
            Buffers {
                g: g.as_ptr(),
                m: pm,
                s: ps,
                w: pw,
                m_out: pm,
                s_out: ps,
                w_out: pw,
            }
        } else {
            Buffers {
                g: g.as_ptr(),
                m: m.as_ptr(),
                s: s.as_ptr(),
                w: w.as_ptr(),
                m_out: om.as_mut_ptr(),
                s_out: os.as_mut_ptr(),
                w_out: ow.as_mut_ptr(),
            }
        };
        // SAFETY: `isa` is runnable (filtered by the callers); every buffer
        // holds `n` values; in place, the outputs are the inputs.
        unsafe { update(isa, &P, b, n) };
        if in_place {
            [m, s, w]
        } else {
            outs
        }
    }

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn every_set_gives_the_bits_of_one_element_at_a_time_apart_and_in_place() {
        let runnable: Vec<Isa> = Isa::ALL
            .into_iter()
            .filter(|i| i.missing().is_empty())
            .collect();
        assert!(runnable.contains(&Isa::Portable));
        for n in [0, 1, 7, 8, 15, 16, 17, 100, 1000] {
            let (g, m, s, w) = (
                values(n, 1, false),
                values(n, 2, false),
                values(n, 3, true),
                values(n, 4, false),
            );
            let want: Vec<(f32, f32, f32)> = (0..n)
                .map(|i| element(&P, g[i], m[i], s[i], w[i]))
                .collect();
            for &isa in &runnable {
                for in_place in [false, true] {
                    let got = run(isa, n, in_place);
                    for (k, out) in got.iter().enumerate() {
                        let expected: Vec<f32> = want.iter().map(|t| [t.0, t.1, t.2][k]).collect();
                        assert_eq!(
                            bits(out),
                            bits(&expected),
                            "{isa:?}, n {n}, in place {in_place}, output {k}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_step_goes_against_the_new_first_moment() {
        let [m2, _, w2] = run(Isa::Portable, 64, false);
        let w = values(64, 4, false);
        for i in 0..64 {
            assert!((w2[i] - w[i]) * m2[i] <= 0.0, "{i}");
        }
        assert!(w2.iter().zip(&w).any(|(a, b)| a != b));
    }
}
