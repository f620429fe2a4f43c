//! This machine's memory bandwidth, measured the way `bench/compare.sh` needs
//! it: STREAM's triad (`a = b + s*c`, 64 MiB arrays, best of 10, counted as
//! STREAM counts it: two reads and one write) and the elementwise chain's own
//! pattern (four 16 MiB inputs read, summed), on one thread and on two.
//!
//! `cargo bench --bench bandwidth` prints lines `bandwidth KIND THREADS GB/s`.
//! The loops are plain Rust compiled for AVX-512 when the CPU has it (checked
//! at run time), so they show what the memory system gives a tight loop,
//! not what any compiler of ours reaches.

use std::hint::black_box;
use std::time::Instant;

const TRIAD_LEN: usize = 16 << 20; // f32 elements: 64 MiB per array
const CHAIN_LEN: usize = 4 << 20; // f32 elements: 16 MiB per input
const REPS: usize = 10;

fn main() {
    let mut out = vec![0.0f32; TRIAD_LEN];
    for threads in [1, 2] {
        let triad = best(|| triad(threads, &mut out));
        println!(
            "bandwidth triad {threads} {:.1}",
            3.0 * 4.0 * TRIAD_LEN as f64 / triad / 1e9
        );
        let read = best(|| read4(threads));
        println!(
            "bandwidth read4 {threads} {:.1}",
            4.0 * 4.0 * CHAIN_LEN as f64 / read / 1e9
        );
    }
}

/// The fastest of `REPS` runs of `run` (each returns its own seconds).
fn best(mut run: impl FnMut() -> f64) -> f64 {
    (0..REPS).map(|_| run()).fold(f64::INFINITY, f64::min)
}

/// Splits `0..len` into `threads` ranges run at once; seconds for all.
fn split(threads: usize, len: usize, work: impl Fn(std::ops::Range<usize>) + Sync) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        let part = len.div_ceil(threads);
        for t in 0..threads {
            let range = (t * part).min(len)..((t + 1) * part).min(len);
            let work = &work;
            s.spawn(move || work(range));
        }
    });
    start.elapsed().as_secs_f64()
}

fn triad(threads: usize, out: &mut [f32]) -> f64 {
    static ARRAYS: std::sync::OnceLock<(Vec<f32>, Vec<f32>)> = std::sync::OnceLock::new();
    let (b, c) = ARRAYS.get_or_init(|| (vec![1.0; TRIAD_LEN], vec![2.0; TRIAD_LEN]));
    let part = out.len().div_ceil(threads);
    let start = Instant::now();
    std::thread::scope(|s| {
        for (t, a) in out.chunks_mut(part).enumerate() {
            let range = t * part..t * part + a.len();
            let (b, c) = (&b[range.clone()], &c[range]);
            s.spawn(move || triad_part(a, b, c));
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    black_box(out[out.len() / 2]);
    seconds
}

fn triad_part(a: &mut [f32], b: &[f32], c: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked above).
        return unsafe { triad_avx512(a, b, c) };
    }
    triad_plain(a, b, c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn triad_avx512(a: &mut [f32], b: &[f32], c: &[f32]) {
    triad_plain(a, b, c)
}

#[inline(always)]
fn triad_plain(a: &mut [f32], b: &[f32], c: &[f32]) {
    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
        *a = b + 3.0 * c;
    }
}

fn read4(threads: usize) -> f64 {
    static INPUTS: std::sync::OnceLock<[Vec<f32>; 4]> = std::sync::OnceLock::new();
    let inputs = INPUTS.get_or_init(|| std::array::from_fn(|i| vec![i as f32; CHAIN_LEN]));
    split(threads, CHAIN_LEN, |range| {
        let parts = inputs.each_ref().map(|v| &v[range.clone()]);
        black_box(read4_part(parts));
    })
}

fn read4_part(parts: [&[f32]; 4]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked above).
        return unsafe { read4_avx512(parts) };
    }
    read4_plain(parts)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn read4_avx512(parts: [&[f32]; 4]) -> f32 {
    read4_plain(parts)
}

/// `sum(a*b + c*d)` with 32 independent partial sums (so it vectorises).
#[inline(always)]
fn read4_plain([a, b, c, d]: [&[f32]; 4]) -> f32 {
    let mut acc = [0.0f32; 32];
    let chunks = a.len() / 32;
    for i in 0..chunks {
        let r = i * 32..i * 32 + 32;
        let (a, b, c, d) = (&a[r.clone()], &b[r.clone()], &c[r.clone()], &d[r]);
        for j in 0..32 {
            acc[j] += a[j] * b[j] + c[j] * d[j];
        }
    }
    acc.iter().sum()
}
