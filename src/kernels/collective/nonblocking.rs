//! What non-blocking allreduces share between the collectives and the JIT's
//! gradient buckets: the buffer handed to MPI, the handle of a reduction in
//! flight, the bucket size setting and the bucket counters `--timings` shows.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// A float buffer a non-blocking allreduce reads and writes in place.
#[derive(Clone, Copy, Debug)]
pub enum Floats {
    F32(*mut f32, usize),
    F64(*mut f64, usize),
}

/// An allreduce in flight: the collective's index for it.
#[derive(Debug, PartialEq, Eq)]
pub struct Pending(pub usize);

/// Gradients of at least this many bytes are reduced alone in their own
/// buffer; smaller ones are packed together up to this size
/// (`docs/distributed.md`, "Buckets").
pub const DEFAULT_BUCKET_BYTES: usize = 1 << 20;

static BUCKET_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_BUCKET_BYTES);

/// Sets the bucket size (`TDSL_BUCKET_BYTES`); 0 is taken as 1.
pub fn set_bucket_bytes(bytes: usize) {
    BUCKET_BYTES.store(bytes.max(1), Ordering::Relaxed);
}

/// The bucket size in bytes.
pub fn bucket_bytes() -> usize {
    BUCKET_BYTES.load(Ordering::Relaxed)
}

static BUCKETS: AtomicU64 = AtomicU64::new(0);
static EARLY: AtomicU64 = AtomicU64::new(0);

/// Counts one bucket reduced; `early` when it was started before the step's
/// last gradient was computed (its reduction overlapped computation).
pub fn record_bucket(early: bool) {
    BUCKETS.fetch_add(1, Ordering::Relaxed);
    if early {
        EARLY.fetch_add(1, Ordering::Relaxed);
    }
}

/// Buckets reduced so far, and how many of them started early.
pub fn buckets() -> (u64, u64) {
    (
        BUCKETS.load(Ordering::Relaxed),
        EARLY.load(Ordering::Relaxed),
    )
}

/// Runs `f` (a call into the collective), adding its time to the
/// communication time of [`super::communication`].
pub fn timed<R>(f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let result = f();
    let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    super::NANOS.fetch_add(nanos, Ordering::Relaxed);
    result
}

/// Counts `n` allreduces of tensors (gradients reduced in a bucket).
pub fn count_allreduces(n: u64) {
    super::CALLS.fetch_add(n, Ordering::Relaxed);
}
