//! The per-step random generator: Philox-4x32-10 (Salmon, Moraes, Dror and
//! Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
//! counter-based generator TensorFlow and JAX use, written out here so values
//! never change with a crate update.
//!
//! A value depends only on (seed, step, element index), never on the order in
//! which elements are computed, so every backend and thread count gives the
//! same bits, and resuming at step `s` reproduces step `s`'s values.
//! - key = (seed bits 0..32, seed bits 32..64);
//! - element `i` reads word `i % 4` of the block with counter
//!   `(i / 4 bits 0..32, i / 4 bits 32..64, step, w)`, where `w` is 0 outside
//!   every loop and the loop word ([`loop_word`]) inside a `fold` body, so each
//!   iteration draws fresh values;
//! - a word `w` becomes a float in [0, 1) as `(w >> 8) * 2^-24` (exact in `f32`
//!   and `f64`, so both dtypes see the same values), and in (0, 1] as
//!   `((w >> 8) + 1) * 2^-24`;
//! - normals by Box–Muller in `f64` on each pair of words `(w0, w1)`, `(w2, w3)`
//!   of a block: `r = sqrt(-2 ln u1)` with `u1` in (0, 1] from the first word,
//!   `t = 2 pi u2` with `u2` in [0, 1) from the second; the pair's first
//!   element is `r cos t`, its second `r sin t`; then rounded to the dtype.

/// Blocks computed together by [`Stream::blocks`].
pub const LANES: usize = 16;

/// The Philox-4x32 multipliers and Weyl key increments (Random123).
pub(crate) const M0: u32 = 0xD251_1F53;
pub(crate) const M1: u32 = 0xCD9E_8D57;
pub(crate) const W0: u32 = 0x9E37_79B9;
pub(crate) const W1: u32 = 0xBB67_AE85;

/// One Philox-4x32 block of 10 rounds.
#[inline]
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = u64::from(M0) * u64::from(c[0]);
        let p1 = u64::from(M1) * u64::from(c[2]);
        c = [
            ((p1 >> 32) as u32) ^ c[1] ^ k[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// The word of iteration `t` of a loop of `steps` iterations run where the
/// word is `outer` (0 outside every loop): `outer * (steps + 1) + t + 1`
/// (mod 2^32), so one loop's iterations get 1, 2, .., T and nested loops a
/// mixed-radix number of their indices (distinct below 2^32 combinations).
pub fn loop_word(outer: u32, steps: usize, t: usize) -> u32 {
    outer
        .wrapping_mul((steps as u32).wrapping_add(1))
        .wrapping_add((t as u32).wrapping_add(1))
}

/// The random words of one (seed, step, loop word).
#[derive(Clone, Copy, Debug)]
pub struct Stream {
    key: [u32; 2],
    step: u32,
    word: u32,
}

impl Stream {
    pub fn new(seed: u64, step: u32) -> Stream {
        Stream::in_loop(seed, step, 0)
    }

    /// The stream of iteration word `word` (see [`loop_word`]); word 0 is
    /// [`Stream::new`]'s.
    pub fn in_loop(seed: u64, step: u32, word: u32) -> Stream {
        Stream {
            key: [seed as u32, (seed >> 32) as u32],
            step,
            word,
        }
    }

    /// The four words of block `b` (elements `4b .. 4b + 4`).
    #[inline]
    pub fn block(&self, b: u64) -> [u32; 4] {
        philox4x32_10([b as u32, (b >> 32) as u32, self.step, self.word], self.key)
    }

    /// The words of blocks `b0 .. b0 + LANES`, word-major (`w[k][j]` is word
    /// `k` of block `b0 + j`): [`Stream::block`]'s values, with the rounds run
    /// across the blocks so that the compiler vectorises them (inlined
    /// always, so a caller built for wider vectors runs them on those).
    #[inline(always)]
    pub fn blocks(&self, b0: u64) -> [[u32; LANES]; 4] {
        let (mut c0, mut c1) = ([0u32; LANES], [0u32; LANES]);
        let (mut c2, mut c3) = ([self.step; LANES], [self.word; LANES]);
        for (j, (lo, hi)) in c0.iter_mut().zip(&mut c1).enumerate() {
            let b = b0.wrapping_add(j as u64);
            (*lo, *hi) = (b as u32, (b >> 32) as u32);
        }
        let mut k = self.key;
        for round in 0..10 {
            if round > 0 {
                k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
            }
            let words = c0.iter_mut().zip(&mut c1).zip(&mut c2).zip(&mut c3);
            for (((a, b), c), d) in words {
                // `philox4x32_10`'s round on one block's words.
                let p0 = u64::from(M0) * u64::from(*a);
                let p1 = u64::from(M1) * u64::from(*c);
                *a = ((p1 >> 32) as u32) ^ *b ^ k[0];
                *b = p1 as u32;
                *c = ((p0 >> 32) as u32) ^ *d ^ k[1];
                *d = p0 as u32;
            }
        }
        [c0, c1, c2, c3]
    }

    /// Uniforms in [0, 1), one per element, for `n` elements.
    pub fn uniforms(&self, n: usize) -> impl Iterator<Item = f64> + '_ {
        self.words(n).map(unit)
    }

    /// Standard normals, one per element, for `n` elements.
    pub fn normals(&self, n: usize) -> impl Iterator<Item = f64> + '_ {
        (0..n.div_ceil(4))
            .flat_map(move |b| {
                let w = self.block(b as u64);
                let (a0, a1) = box_muller(w[0], w[1]);
                let (b0, b1) = box_muller(w[2], w[3]);
                [a0, a1, b0, b1]
            })
            .take(n)
    }

    /// The word of each of `n` elements.
    fn words(&self, n: usize) -> impl Iterator<Item = u32> + '_ {
        (0..n.div_ceil(4))
            .flat_map(move |b| self.block(b as u64))
            .take(n)
    }
}

/// A word as a float in [0, 1): its top 24 bits times 2^-24.
pub fn unit(w: u32) -> f64 {
    f64::from(w >> 8) * (1.0 / 16_777_216.0)
}

/// A word as a float in (0, 1]: never 0, so its logarithm is finite.
pub fn unit_open(w: u32) -> f64 {
    f64::from((w >> 8) + 1) * (1.0 / 16_777_216.0)
}

/// Two standard normals from two words (see the module header).
pub fn box_muller(w1: u32, w2: u32) -> (f64, f64) {
    let r = (-2.0 * unit_open(w1).ln()).sqrt();
    let t = 2.0 * std::f64::consts::PI * unit(w2);
    (r * t.cos(), r * t.sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_at_once_are_the_blocks_one_at_a_time() {
        let stream = Stream::in_loop(0x1234_5678_9abc_def0, 7, 3);
        for b0 in [0u64, 5, (1 << 32) - 3] {
            let w = stream.blocks(b0);
            let got: Vec<[u32; 4]> = (0..LANES)
                .map(|j| [w[0][j], w[1][j], w[2][j], w[3][j]])
                .collect();
            let want: Vec<[u32; 4]> = (0..LANES).map(|j| stream.block(b0 + j as u64)).collect();
            assert_eq!(got, want, "blocks from {b0}");
        }
    }

    /// The three `philox4x32 10` lines of Random123's `tests/kat_vectors`.
    #[test]
    fn philox_matches_the_random123_known_answers() {
        let cases: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
            (
                [0, 0, 0, 0],
                [0, 0],
                [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8],
            ),
            (
                [u32::MAX; 4],
                [u32::MAX; 2],
                [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd],
            ),
            (
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0],
                [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
            ),
        ];
        for (counter, key, expected) in cases {
            assert_eq!(philox4x32_10(counter, key), expected);
        }
    }

    #[test]
    fn the_key_and_counter_layout_is_the_documented_one() {
        let s = Stream::new(0x299f_31d0_a409_3822, 0x1319_8a2e);
        // Block b = 0x85a3_08d3_243f_6a88 with c3 = 0.
        let w = s.block(0x85a3_08d3_243f_6a88);
        let expected = philox4x32_10(
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0],
            [0xa409_3822, 0x299f_31d0],
        );
        assert_eq!(w, expected);
    }

    #[test]
    fn units_stay_in_their_intervals() {
        assert_eq!(unit(0), 0.0);
        assert_eq!(unit(u32::MAX), 1.0 - 1.0 / 16_777_216.0);
        assert_eq!(unit_open(0), 1.0 / 16_777_216.0);
        assert_eq!(unit_open(u32::MAX), 1.0);
        // Exact in f32: the f32 and f64 values agree.
        assert_eq!(f64::from(unit(0xdead_beef) as f32), unit(0xdead_beef));
    }

    #[test]
    fn elements_do_not_depend_on_how_many_are_drawn() {
        let s = Stream::new(7, 3);
        let short: Vec<f64> = s.normals(6).collect();
        let long: Vec<f64> = s.normals(11).collect();
        assert_eq!(short[..], long[..6]);
        assert_eq!(long.len(), 11);
        let u: Vec<f64> = s.uniforms(9).collect();
        assert_eq!(u[5], unit(s.block(1)[1]));
    }

    #[test]
    fn steps_and_seeds_give_other_values() {
        let a: Vec<f64> = Stream::new(1, 0).uniforms(8).collect();
        let b: Vec<f64> = Stream::new(1, 1).uniforms(8).collect();
        let c: Vec<f64> = Stream::new(2, 0).uniforms(8).collect();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_large_draw_has_the_right_moments() {
        let n = 200_000;
        let s = Stream::new(42, 5);
        let (mut sum, mut sq) = (0.0, 0.0);
        for z in s.normals(n) {
            sum += z;
            sq += z * z;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        let mean_u = s.uniforms(n).sum::<f64>() / n as f64;
        assert!((mean_u - 0.5).abs() < 0.005, "uniform mean {mean_u}");
    }
}
