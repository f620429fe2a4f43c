//! The Rust block kernel of fused `random_normal` and `random_uniform`: the
//! values of a run of consecutive stream elements, called from JIT code once
//! per block of at most `blocks::LEN` elements (see `jit/dropout.rs`), by
//! the interpreter's own `kernels::eval::random::fill`.

use crate::ir::philox::Stream;
use crate::kernels::eval::random::fill;

/// Bit 0 of the `code` argument: normals (else uniforms).
pub(crate) const NORMAL: u32 = 1;
/// Bit 1 of the `code` argument: `f64` values (else `f32`).
pub(crate) const F64: u32 = 2;

/// Writes the values of stream elements `first .. first + n` of the stream
/// (`seed`, `step`, `word`) to `dst`: normals or uniforms, `f32` or `f64`,
/// as `code` says ([`NORMAL`], [`F64`]).
///
/// # Safety
/// `dst` must be valid for `n` writes of the chosen dtype and aligned for
/// it; JIT code passes a scratch slot of its frame of `blocks::LEN` elements
/// and `n ≤ blocks::LEN`.
pub(crate) unsafe extern "C" fn tdsl_random_draw(
    seed: u64,
    step: u32,
    word: u32,
    code: u32,
    first: u64,
    n: usize,
    dst: *mut u8,
) {
    let stream = Stream::in_loop(seed, step, word);
    let normal = code & NORMAL != 0;
    if code & F64 != 0 {
        // SAFETY: `dst` is valid and aligned for `n` `f64` writes, and nothing
        // else refers to it during the call (this function's contract).
        let out = unsafe { std::slice::from_raw_parts_mut(dst.cast::<f64>(), n) };
        fill(&stream, normal, first, out);
    } else {
        // SAFETY: as above, for `f32`.
        let out = unsafe { std::slice::from_raw_parts_mut(dst.cast::<f32>(), n) };
        fill(&stream, normal, first, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run gives the stream's own normals and uniforms, in both dtypes.
    #[test]
    fn draws_are_the_streams_values() {
        let stream = Stream::in_loop(99, 4, 2);
        let normals: Vec<f64> = stream.normals(80).collect();
        let uniforms: Vec<f64> = stream.uniforms(80).collect();
        for first in [0usize, 1, 3, 6, 17] {
            for n in [0usize, 1, 5, 42] {
                for (code, want) in [(NORMAL, &normals), (0, &uniforms)] {
                    let mut wide = vec![f64::NAN; n];
                    // SAFETY: `wide` holds `n` aligned `f64`s.
                    unsafe {
                        tdsl_random_draw(
                            99,
                            4,
                            2,
                            code | F64,
                            first as u64,
                            n,
                            wide.as_mut_ptr().cast(),
                        )
                    };
                    assert_eq!(
                        wide[..],
                        want[first..first + n],
                        "code {code}, first {first}"
                    );
                    let mut narrow = vec![f32::NAN; n];
                    // SAFETY: `narrow` holds `n` aligned `f32`s.
                    unsafe {
                        tdsl_random_draw(
                            99,
                            4,
                            2,
                            code,
                            first as u64,
                            n,
                            narrow.as_mut_ptr().cast(),
                        )
                    };
                    let rounded: Vec<f32> =
                        want[first..first + n].iter().map(|&v| v as f32).collect();
                    assert_eq!(narrow, rounded);
                }
            }
        }
    }
}
