//! The MPI calls rsmpi 0.8 cannot express: allreduces with `MPI_IN_PLACE`,
//! blocking and non-blocking (`MPI_Iallreduce`, `MPI_Test`, `MPI_Wait`),
//! through its raw bindings (`mpi::ffi`).
//!
//! `MPI_IN_PLACE` is a C macro the bindings do not carry. Its value is fixed
//! by each implementation's ABI: `(void *) 1` in Open MPI, `(void *) -1` in
//! MPICH and the libraries built on it. It is taken from the library's version
//! string; for a library that is neither, `in_place` gives `None` and the
//! reductions copy their send side as before (and stay blocking).

use super::super::Floats;
use crate::ir::AllreduceOp;
use ::mpi::ffi;
use ::mpi::raw::AsRaw;
use ::mpi::topology::SimpleCommunicator;
use std::os::raw::{c_int, c_void};

/// The library's `MPI_IN_PLACE`.
#[derive(Clone, Copy, Debug)]
pub(super) struct InPlace(*const c_void);

/// A non-blocking allreduce's request.
pub(super) type Request = ffi::MPI_Request;

/// `MPI_IN_PLACE` of the library this process runs with, when it is known.
pub(super) fn in_place() -> Option<InPlace> {
    let version = ::mpi::environment::library_version().ok()?;
    let value: isize = if version.contains("Open MPI") {
        1
    } else if ["MPICH", "Intel(R) MPI", "MVAPICH"]
        .iter()
        .any(|name| version.contains(name))
    {
        -1
    } else {
        return None;
    };
    Some(InPlace(value as *const c_void))
}

/// The buffer, its length as MPI counts it and its datatype; `None` beyond
/// `c_int::MAX` elements.
fn parts(data: Floats) -> Option<(*mut c_void, c_int, ffi::MPI_Datatype)> {
    // SAFETY: reading the bindings' constant datatype handles, set by the
    // library's C shim before `main`.
    let (f32_type, f64_type) = unsafe { (ffi::RSMPI_FLOAT, ffi::RSMPI_DOUBLE) };
    let (ptr, len, datatype) = match data {
        Floats::F32(p, n) => (p.cast::<c_void>(), n, f32_type),
        Floats::F64(p, n) => (p.cast::<c_void>(), n, f64_type),
    };
    Some((ptr, c_int::try_from(len).ok()?, datatype))
}

fn operation(op: AllreduceOp) -> ffi::MPI_Op {
    // SAFETY: as in `parts`: constant handles of the bindings' C shim.
    unsafe {
        match op {
            AllreduceOp::Sum | AllreduceOp::Mean => ffi::RSMPI_SUM,
            AllreduceOp::Max => ffi::RSMPI_MAX,
        }
    }
}

/// A blocking `MPI_Allreduce` in place (`Mean` sums; the caller divides).
///
/// # Safety
/// `data` is valid for reads and writes for the length of the call.
pub(super) unsafe fn allreduce(
    in_place: InPlace,
    data: Floats,
    op: AllreduceOp,
    comm: &SimpleCommunicator,
) {
    let Some((ptr, count, datatype)) = parts(data) else {
        eprintln!("error: an allreduce of more than 2^31 values");
        std::process::abort()
    };
    // SAFETY: `ptr` holds `count` values of `datatype` (the caller's
    // promise); with `MPI_IN_PLACE` MPI reads and writes only that buffer.
    // MPI's default error handler aborts the job on failure.
    unsafe {
        ffi::MPI_Allreduce(
            in_place.0,
            ptr,
            count,
            datatype,
            operation(op),
            comm.as_raw(),
        );
    }
}

/// Starts an `MPI_Iallreduce` in place (`Mean` sums; the caller divides).
///
/// # Safety
/// `data` stays valid for reads and writes, and nothing else touches it,
/// until [`wait`] (or a [`test`] that says complete) on the request.
pub(super) unsafe fn start(
    in_place: InPlace,
    data: Floats,
    op: AllreduceOp,
    comm: &SimpleCommunicator,
) -> Option<Request> {
    let (ptr, count, datatype) = parts(data)?;
    // SAFETY: reading the constant null request of the bindings' C shim.
    let mut request = unsafe { ffi::RSMPI_REQUEST_NULL };
    // SAFETY: as in `allreduce`; the buffer outlives the request (the
    // caller's promise), and `request` is a valid place for the handle.
    let status = unsafe {
        ffi::MPI_Iallreduce(
            in_place.0,
            ptr,
            count,
            datatype,
            operation(op),
            comm.as_raw(),
            &mut request,
        )
    };
    (status == 0).then_some(request)
}

/// `MPI_Test`: progresses the request; whether it is complete (it is then
/// the null request, which later tests and waits find complete at once).
pub(super) fn test(request: &mut Request) -> bool {
    let mut flag: c_int = 0;
    // SAFETY: `request` is a request `start` made (or the null request once
    // complete); the status is ignored.
    unsafe {
        ffi::MPI_Test(request, &mut flag, ffi::RSMPI_STATUS_IGNORE);
    }
    flag != 0
}

/// `MPI_Wait` until the request is complete.
pub(super) fn wait(request: &mut Request) {
    // SAFETY: as in `test`.
    unsafe {
        ffi::MPI_Wait(request, ffi::RSMPI_STATUS_IGNORE);
    }
}
