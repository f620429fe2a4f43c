//! The block kernel of fused dropout: JIT code calls it once per block of at
//! most `blocks::LEN` elements (see `jit/dropout.rs`) for the keep masks the
//! interpreter draws too (`kernels::dropout_mask`).

use crate::kernels::dropout_mask::masks;

/// `dst[i] = -1` (all bits) when stream element `first + i` of the stream
/// (`seed`, `step`, `word`) is kept at `threshold` (`ceil(rate · 2^24)`),
/// else 0, for `i < n`.
///
/// # Safety
/// `dst` must be valid for `n` `i32` writes; JIT code passes a scratch slot
/// of its frame of `blocks::LEN` elements and `n ≤ blocks::LEN`.
pub(crate) unsafe extern "C" fn tdsl_dropout_mask(
    seed: u64,
    step: u32,
    word: u32,
    threshold: u32,
    first: u64,
    n: usize,
    dst: *mut i32,
) {
    // SAFETY: `dst` is valid for `n` writes and nothing else refers to it
    // during the call (this function's contract).
    let out = unsafe { std::slice::from_raw_parts_mut(dst, n) };
    masks(seed, (step, word), threshold, first, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::philox::Stream;

    /// The kernel JIT code calls writes the stream's masks through its pointer.
    #[test]
    fn the_block_kernel_writes_the_streams_masks() {
        let stream = Stream::in_loop(5, 2, 1);
        let words: Vec<u32> = (0..40u64).flat_map(|b| stream.block(b)).collect();
        let threshold = 1 << 23;
        let want: Vec<i32> = words[3..103]
            .iter()
            .map(|&w| -i32::from(w >> 8 >= threshold))
            .collect();
        let mut got = vec![7i32; 100];
        // SAFETY: `got` holds 100 elements.
        unsafe { tdsl_dropout_mask(5, 2, 1, threshold, 3, 100, got.as_mut_ptr()) };
        assert_eq!(got, want);
    }
}
