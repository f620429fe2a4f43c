//! Collectives over the processes of one run (data-parallel training,
//! `docs/distributed.md`): the [`Collective`] trait, the single-process
//! implementation (the identity, always compiled) and the run's current
//! collective, installed once by the front end before anything runs.
//!
//! It lives with the kernels because `allreduce` is evaluated by
//! [`crate::kernels::eval::eval_pure`], which both backends (and the JIT's
//! fallback) call; constant folding never folds it.

use crate::ir::{AllreduceOp, Tensor};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[cfg(feature = "mpi")]
pub mod mpi;
mod nonblocking;
pub use nonblocking::{bucket_bytes, buckets, count_allreduces, record_bucket};
pub use nonblocking::{set_bucket_bytes, timed};
pub use nonblocking::{Floats, Pending, DEFAULT_BUCKET_BYTES};

/// Operations every process of the run calls together, in the same order.
/// Implementations serialise their own calls, so any thread may call them.
pub trait Collective: Send + Sync {
    /// This process's index, `0..size()`.
    fn rank(&self) -> usize;
    /// How many processes take part.
    fn size(&self) -> usize;
    /// Combines `data` over every process; each gets the result.
    fn allreduce_f32_in_place(&self, data: &mut [f32], op: AllreduceOp);
    /// [`Collective::allreduce_f32_in_place`] for `f64`.
    fn allreduce_f64_in_place(&self, data: &mut [f64], op: AllreduceOp);
    /// Replaces `data` on every process with rank 0's bytes (its length too).
    fn broadcast_bytes(&self, data: &mut Vec<u8>);
    /// Replaces `data` with rank 0's values; every process passes the same length.
    fn broadcast_f32(&self, data: &mut [f32]);
    /// [`Collective::broadcast_f32`] for `f64`.
    fn broadcast_f64(&self, data: &mut [f64]);
    /// Waits until every process gets here.
    fn barrier(&self);
    /// Ends the collective (MPI: `MPI_Finalize`); later calls are not allowed.
    fn finish(&self) {}
    /// Starts combining `data` (a sum for `Mean` too: the caller divides)
    /// over every process in place, without waiting; `None` when this
    /// collective cannot (the caller then uses the blocking calls).
    ///
    /// # Safety
    /// `data` must stay valid for reads and writes, and nothing else may read
    /// or write it, until [`Collective::wait`] on the result has returned.
    unsafe fn start_allreduce(&self, _data: Floats, _op: AllreduceOp) -> Option<Pending> {
        None
    }
    /// Lets a started allreduce progress (MPI has no progress thread by
    /// default); whether it is complete.
    fn test(&self, _pending: &Pending) -> bool {
        true
    }
    /// Waits until a started allreduce is complete.
    fn wait(&self, _pending: Pending) {}
}

/// One process: every collective is the identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct SingleProcess;

impl Collective for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn allreduce_f32_in_place(&self, _data: &mut [f32], _op: AllreduceOp) {}
    fn allreduce_f64_in_place(&self, _data: &mut [f64], _op: AllreduceOp) {}
    fn broadcast_bytes(&self, _data: &mut Vec<u8>) {}
    fn broadcast_f32(&self, _data: &mut [f32]) {}
    fn broadcast_f64(&self, _data: &mut [f64]) {}
    fn barrier(&self) {}
}

static CURRENT: OnceLock<Box<dyn Collective>> = OnceLock::new();

/// Makes `collective` the run's collective. Only the first call counts: a
/// second one gets its argument back.
pub fn install(collective: Box<dyn Collective>) -> Result<(), Box<dyn Collective>> {
    CURRENT.set(collective)
}

/// The run's collective: the installed one, or [`SingleProcess`].
pub fn current() -> &'static dyn Collective {
    match CURRENT.get() {
        Some(collective) => collective.as_ref(),
        None => &SingleProcess,
    }
}

/// The calls of [`allreduce_tensor`] on more than one process, and the
/// nanoseconds spent in them (waiting for the other processes included).
static CALLS: AtomicU64 = AtomicU64::new(0);
static NANOS: AtomicU64 = AtomicU64::new(0);

/// How many `allreduce`s of tensors ran on more than one process, and the
/// time spent in them (`tdsl run --timings`: communication against compute).
pub fn communication() -> (u64, Duration) {
    (
        CALLS.load(Ordering::Relaxed),
        Duration::from_nanos(NANOS.load(Ordering::Relaxed)),
    )
}

/// `allreduce` on a float tensor in standard layout, through [`current`].
pub fn allreduce_tensor(tensor: &mut Tensor, op: AllreduceOp) -> Result<(), String> {
    let collective = current();
    if collective.size() == 1 {
        return Ok(());
    }
    let start = Instant::now();
    let result = reduce_on(collective, tensor, op);
    let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    CALLS.fetch_add(1, Ordering::Relaxed);
    NANOS.fetch_add(nanos, Ordering::Relaxed);
    result
}

fn reduce_on(
    collective: &dyn Collective,
    tensor: &mut Tensor,
    op: AllreduceOp,
) -> Result<(), String> {
    match tensor {
        Tensor::F32(a) => match a.as_slice_mut() {
            Some(data) => collective.allreduce_f32_in_place(data, op),
            None => return Err("allreduce: the value is not contiguous".into()),
        },
        Tensor::F64(a) => match a.as_slice_mut() {
            Some(data) => collective.allreduce_f64_in_place(data, op),
            None => return Err("allreduce: the value is not contiguous".into()),
        },
        other => return Err(format!("allreduce: not defined on {}", other.dtype())),
    }
    Ok(())
}

/// The process count a launcher announced in the environment (Open MPI's
/// `OMPI_COMM_WORLD_SIZE`, MPICH/Hydra's `PMI_SIZE`, Slurm's `SLURM_NTASKS` when
/// under `srun`, ...), if any; `None` when started alone.
pub fn launcher_size() -> Option<(usize, &'static str)> {
    const VARS: [&str; 4] = [
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_SIZE",
        "MPI_LOCALNRANKS",
    ];
    VARS.iter().find_map(|name| {
        let value = std::env::var(name).ok()?;
        Some((value.trim().parse().ok()?, *name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ArrayD;

    #[test]
    fn single_process_is_the_identity() {
        let one = SingleProcess;
        assert_eq!((one.rank(), one.size()), (0, 1));
        let mut data = vec![1.5f32, -2.0];
        for op in [AllreduceOp::Sum, AllreduceOp::Mean, AllreduceOp::Max] {
            one.allreduce_f32_in_place(&mut data, op);
        }
        assert_eq!(data, vec![1.5, -2.0]);
        let mut bytes = b"abc".to_vec();
        one.broadcast_bytes(&mut bytes);
        assert_eq!(bytes, b"abc");
        let mut values = [3.0f64];
        one.allreduce_f64_in_place(&mut values, AllreduceOp::Sum);
        one.broadcast_f64(&mut values);
        assert_eq!(values, [3.0]);
        one.barrier();
    }

    #[test]
    fn a_tensor_on_one_process_keeps_its_values() {
        let mut t = Tensor::F32(ArrayD::from_shape_vec(vec![2], vec![1.0, 2.0]).unwrap());
        allreduce_tensor(&mut t, AllreduceOp::Sum).unwrap();
        assert_eq!(
            t,
            Tensor::F32(ArrayD::from_shape_vec(vec![2], vec![1.0, 2.0]).unwrap())
        );
    }
}
