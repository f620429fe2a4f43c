//! Dropout's keep masks: for a run of consecutive stream elements, which are
//! kept. The interpreter's `dropout` (`kernels/eval/random.rs`) and the JIT's
//! fused dropout (called once per block of its loop, `jit/dropout.rs`) both
//! draw through [`masks`].
//!
//! Element `g` is kept when the top 24 bits of word `g % 4` of Philox block
//! `g / 4` reach the threshold ([`super::eval::random::keep_threshold`]),
//! computed with [`Stream::blocks`]. The work is integer only, so the AVX-512
//! kernel (`dropout_wide.rs`, hand-written) and the AVX2 and portable builds
//! of the loop give the same masks.

use crate::ir::philox::{Stream, LANES};
use crate::kernels::isa::{self, Isa};

#[cfg(target_arch = "x86_64")]
#[path = "dropout_wide.rs"]
mod wide;

/// Stream elements one call of [`Stream::blocks`] covers.
const CHUNK: u64 = 4 * LANES as u64;

/// `out[i] = -1` (all bits) when stream element `first + i` of the stream
/// (`seed`, `step`, `word`) is kept at `threshold` (`ceil(rate · 2^24)`),
/// else 0.
pub fn masks(seed: u64, (step, word): (u32, u32), threshold: u32, first: u64, out: &mut [i32]) {
    let stream = Stream::in_loop(seed, step, word);
    match isa::active() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `isa::active` only chooses a set the CPU has.
        Isa::Avx512 => unsafe { fill_avx512(seed, (step, word), threshold, first, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Isa::Avx2 => unsafe { fill_avx2(&stream, threshold, first, out) },
        _ => fill(&stream, threshold, first, out),
    }
}

/// [`fill`] by [`wide::chunk`]: each chunk's 64 masks computed in
/// registers, then the part inside the run copied out.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fill_avx512(
    seed: u64,
    (step, word): (u32, u32),
    threshold: u32,
    first: u64,
    out: &mut [i32],
) {
    let key = [seed as u32, (seed >> 32) as u32];
    let end = first + out.len() as u64;
    let mut start = first / 4 * 4;
    while start < end {
        // SAFETY: the CPU has AVX-512F (this function's contract).
        let masks = unsafe { wide::chunk(key, step, word, start / 4, threshold) };
        let (lo, hi) = (first.max(start), end.min(start + CHUNK));
        let dst = &mut out[(lo - first) as usize..(hi - first) as usize];
        dst.copy_from_slice(&masks[(lo - start) as usize..(hi - start) as usize]);
        start += CHUNK;
    }
}

/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_avx2(stream: &Stream, threshold: u32, first: u64, out: &mut [i32]) {
    fill(stream, threshold, first, out)
}

/// The masks of stream elements `first .. first + out.len()`, a chunk of
/// [`LANES`] Philox blocks at a time (from the block holding `first`).
#[inline(always)]
fn fill(stream: &Stream, threshold: u32, first: u64, out: &mut [i32]) {
    let end = first + out.len() as u64;
    let mut start = first / 4 * 4;
    while start < end {
        let w = stream.blocks(start / 4);
        if start >= first && start + CHUNK <= end {
            // A whole chunk inside the run: element `4j + k` is word `k` of
            // block `j`.
            let at = (start - first) as usize;
            let chunk = &mut out[at..at + CHUNK as usize];
            for (j, quad) in chunk.chunks_exact_mut(4).enumerate() {
                for (k, m) in quad.iter_mut().enumerate() {
                    *m = keep(w[k][j], threshold);
                }
            }
        } else {
            for g in first.max(start)..end.min(start + CHUNK) {
                let (j, k) = (((g - start) / 4) as usize, (g % 4) as usize);
                out[(g - first) as usize] = keep(w[k][j], threshold);
            }
        }
        start += CHUNK;
    }
}

/// All bits when the word's uniform `(w >> 8) · 2^-24` is at least the rate.
#[inline(always)]
fn keep(w: u32, threshold: u32) -> i32 {
    -i32::from(w >> 8 >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run (offsets on and off a block and a chunk, lengths across
    /// chunk boundaries) keeps exactly the elements whose word reaches the
    /// threshold, on every instruction set this CPU has.
    #[test]
    fn masks_follow_the_stream_words() {
        let stream = Stream::in_loop(0x0123_4567_89ab_cdef, 7, 3);
        let words: Vec<u32> = (0..200u64).flat_map(|b| stream.block(b)).collect();
        for threshold in [0u32, 1 << 23, 12_345_678, 1 << 24] {
            for first in [0u64, 1, 3, 4, 63, 64, 65, 130] {
                for n in [0usize, 1, 5, 64, 67, 256] {
                    let want: Vec<i32> = (0..n)
                        .map(|i| keep(words[first as usize + i], threshold))
                        .collect();
                    let mut got = vec![7i32; n];
                    masks(0x0123_4567_89ab_cdef, (7, 3), threshold, first, &mut got);
                    assert_eq!(got, want, "threshold {threshold}, first {first}, n {n}");
                    let mut portable = vec![7i32; n];
                    fill(&stream, threshold, first, &mut portable);
                    assert_eq!(portable, want);
                }
            }
        }
        // The AVX-512 kernel where the block counter's low word wraps.
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            for first in [
                4 * ((1u64 << 32) - 5) + 1,
                4 * ((1 << 33) - 16),
                u64::MAX / 8,
            ] {
                let mut wide = vec![7i32; 200];
                let mut portable = vec![7i32; 200];
                // SAFETY: the CPU has AVX-512F.
                unsafe { fill_avx512(0x0123_4567_89ab_cdef, (7, 3), 1 << 23, first, &mut wide) };
                fill(&stream, 1 << 23, first, &mut portable);
                assert_eq!(wide, portable, "first {first}");
            }
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut avx2 = vec![7i32; 300];
            let mut portable = vec![7i32; 300];
            // SAFETY: the CPU has AVX2.
            unsafe { fill_avx2(&stream, 12_345_678, 3, &mut avx2) };
            fill(&stream, 12_345_678, 3, &mut portable);
            assert_eq!(avx2, portable);
        }
        // Threshold 0 keeps everything, 2^24 nothing.
        assert_eq!(keep(0, 0), -1);
        assert_eq!(keep(u32::MAX, 1 << 24), 0);
    }
}
