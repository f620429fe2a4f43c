//! The MPI [`Collective`] (rsmpi over the system's MPI), compiled only with the
//! cargo feature `mpi`. Calls are serialised by one lock, so MPI is initialised
//! with `Threading::Serialized` and any thread may call in.
//!
//! rsmpi 0.8 has no `MPI_IN_PLACE` and no non-blocking allreduce, so those go
//! through its raw bindings (`ffi.rs`).

mod ffi;

use super::{Collective, Floats, Pending};
use crate::ir::AllreduceOp;
use ::mpi::collective::SystemOperation;
use ::mpi::topology::SimpleCommunicator;
use ::mpi::traits::{Communicator, CommunicatorCollectives, Root};
use ::mpi::Threading;
use std::sync::{Mutex, MutexGuard};

/// MPI's world communicator and the buffers its allreduces reuse.
struct World {
    // Dropped last (field order): finalises MPI after the communicator is gone.
    comm: SimpleCommunicator,
    f32_scratch: Vec<f32>,
    f64_scratch: Vec<f64>,
    /// The non-blocking allreduces: a request per slot, `None` when free.
    requests: Vec<Option<ffi::Request>>,
    _universe: ::mpi::environment::Universe,
}

/// The world of an MPI run; `finish` finalises MPI.
pub struct MpiWorld {
    rank: usize,
    size: usize,
    /// The library's `MPI_IN_PLACE`, when it is known (`ffi.rs`).
    in_place: Option<ffi::InPlace>,
    world: Mutex<Option<World>>,
}

// SAFETY: MPI handles are plain values owned by the MPI library; every call
// through them is made with the lock held and MPI was initialised with
// `Threading::Serialized`, which allows calls from any thread one at a time.
unsafe impl Send for MpiWorld {}
// SAFETY: as for `Send`: shared access only reaches MPI through the lock.
unsafe impl Sync for MpiWorld {}

impl MpiWorld {
    /// Initialises MPI; an error when it cannot, or when the library cannot
    /// serialise calls from several threads.
    pub fn init() -> Result<MpiWorld, String> {
        prefer_split_reductions();
        let (universe, threading) = ::mpi::initialize_with_threading(Threading::Serialized)
            .ok_or("MPI could not be initialised (was it initialised already?)")?;
        if threading == Threading::Single || threading == Threading::Funneled {
            return Err(format!(
                "the MPI library supports only {threading:?} threading; tdsl needs Serialized"
            ));
        }
        let comm = universe.world();
        let rank = usize::try_from(comm.rank()).map_err(|_| "MPI gave a negative rank")?;
        let size = usize::try_from(comm.size()).map_err(|_| "MPI gave a negative size")?;
        Ok(MpiWorld {
            rank,
            size,
            in_place: ffi::in_place(),
            world: Mutex::new(Some(World {
                comm,
                f32_scratch: Vec::new(),
                f64_scratch: Vec::new(),
                requests: Vec::new(),
                _universe: universe,
            })),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<World>> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the world; after `finish` it is a programming error, so the
    /// process aborts rather than waiting on peers that are gone.
    fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut guard = self.lock();
        match guard.as_mut() {
            Some(world) => f(world),
            None => {
                eprintln!("error: an MPI collective after MPI was finalised");
                std::process::abort()
            }
        }
    }
}

/// Open MPI's non-blocking allreduce reduces every in-place call to rank 0 and
/// broadcasts back unless told otherwise, so one rank does all the additions
/// and moves twice the data. Reduce-scatter + allgather (its algorithm 3,
/// Rabenseifner's, falling back to a ring) shares them out. Read by `MPI_Init`
/// from the environment; a user's own choice is kept; other libraries ignore it.
fn prefer_split_reductions() {
    const ALGORITHM: &str = "OMPI_MCA_coll_libnbc_iallreduce_algorithm";
    if std::env::var_os(ALGORITHM).is_none() {
        std::env::set_var(ALGORITHM, "3");
    }
}

fn operation(op: AllreduceOp) -> SystemOperation {
    match op {
        AllreduceOp::Sum | AllreduceOp::Mean => SystemOperation::sum(),
        AllreduceOp::Max => SystemOperation::max(),
    }
}

impl Collective for MpiWorld {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn allreduce_f32_in_place(&self, data: &mut [f32], op: AllreduceOp) {
        let size = self.size as f32;
        let floats = Floats::F32(data.as_mut_ptr(), data.len());
        if let Some(in_place) = self.in_place {
            // SAFETY: `data` is borrowed mutably for the whole blocking call.
            self.with(|w| unsafe { ffi::allreduce(in_place, floats, op, &w.comm) });
        } else {
            self.with(|w| {
                w.f32_scratch.clear();
                w.f32_scratch.extend_from_slice(data);
                w.comm
                    .all_reduce_into(&w.f32_scratch[..], data, operation(op));
            });
        }
        if op == AllreduceOp::Mean {
            data.iter_mut().for_each(|x| *x /= size);
        }
    }
    fn allreduce_f64_in_place(&self, data: &mut [f64], op: AllreduceOp) {
        let size = self.size as f64;
        let floats = Floats::F64(data.as_mut_ptr(), data.len());
        if let Some(in_place) = self.in_place {
            // SAFETY: `data` is borrowed mutably for the whole blocking call.
            self.with(|w| unsafe { ffi::allreduce(in_place, floats, op, &w.comm) });
        } else {
            self.with(|w| {
                w.f64_scratch.clear();
                w.f64_scratch.extend_from_slice(data);
                w.comm
                    .all_reduce_into(&w.f64_scratch[..], data, operation(op));
            });
        }
        if op == AllreduceOp::Mean {
            data.iter_mut().for_each(|x| *x /= size);
        }
    }
    fn broadcast_bytes(&self, data: &mut Vec<u8>) {
        self.with(|w| {
            let root = w.comm.process_at_rank(0);
            let mut len = data.len() as u64;
            root.broadcast_into(&mut len);
            data.resize(usize::try_from(len).unwrap_or(0), 0);
            root.broadcast_into(&mut data[..]);
        });
    }
    fn broadcast_f32(&self, data: &mut [f32]) {
        self.with(|w| w.comm.process_at_rank(0).broadcast_into(data));
    }
    fn broadcast_f64(&self, data: &mut [f64]) {
        self.with(|w| w.comm.process_at_rank(0).broadcast_into(data));
    }
    fn barrier(&self) {
        self.with(|w| w.comm.barrier());
    }
    unsafe fn start_allreduce(&self, data: Floats, op: AllreduceOp) -> Option<Pending> {
        let in_place = self.in_place?;
        self.with(|w| {
            // SAFETY: the caller keeps `data` alive and untouched until `wait`.
            let request = unsafe { ffi::start(in_place, data, op, &w.comm) }?;
            let slot = match w.requests.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    w.requests.push(None);
                    w.requests.len() - 1
                }
            };
            w.requests[slot] = Some(request);
            Some(Pending(slot))
        })
    }
    fn test(&self, pending: &Pending) -> bool {
        self.with(|w| match w.requests.get_mut(pending.0) {
            Some(Some(request)) => ffi::test(request),
            _ => true,
        })
    }
    fn wait(&self, pending: Pending) {
        self.with(|w| {
            if let Some(slot) = w.requests.get_mut(pending.0) {
                if let Some(mut request) = slot.take() {
                    ffi::wait(&mut request);
                }
            }
        });
    }
    fn finish(&self) {
        // Dropping the universe calls `MPI_Finalize`.
        drop(self.lock().take());
    }
}
