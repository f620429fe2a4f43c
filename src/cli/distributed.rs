//! `tdsl run` under `mpirun` (`docs/distributed.md`): joining the run's
//! processes, checking that every rank runs the same program with the same
//! flags, broadcasting rank 0's variables, and keeping output to rank 0.

use super::Failure;
use crate::ir::Tensor;
use crate::kernels::collective::{self, Collective};
use crate::runtime::Session;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// This process's place in the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub rank: usize,
    pub size: usize,
}

impl Place {
    /// Whether this process prints and writes files.
    pub fn is_root(self) -> bool {
        self.rank == 0
    }
}

/// Joins the run's processes (a launcher's environment variables say whether
/// there are any) and checks that all of them run `text` with the same flags.
pub(crate) fn start(file: &Path, text: &str) -> Result<Place, Failure> {
    bucket_setting()?;
    if let Some((size, var)) = collective::launcher_size() {
        if size > 1 {
            join(size, var)?;
        }
    }
    let world = collective::current();
    let place = Place {
        rank: world.rank(),
        size: world.size(),
    };
    if place.size > 1 {
        check_same_start(world, place, file, text)?;
        if !place.is_root() {
            silence_stdout()?;
        }
    }
    Ok(place)
}

#[cfg(feature = "mpi")]
fn join(_size: usize, _var: &str) -> Result<(), Failure> {
    let world = collective::mpi::MpiWorld::init().map_err(Failure::plain)?;
    collective::install(Box::new(world))
        .map_err(|_| Failure::plain("internal: the collective was installed twice"))
}

#[cfg(not(feature = "mpi"))]
fn join(size: usize, var: &str) -> Result<(), Failure> {
    Err(Failure::plain(format!(
        "started as one of {size} processes ({var}={size}), but this tdsl was built \
         without MPI; build it with `cargo build --release --features mpi` \
         (each process would otherwise train alone)"
    )))
}

/// The environment variable that sets the gradient bucket size in bytes.
const BUCKET_VAR: &str = "TDSL_BUCKET_BYTES";

/// Reads `TDSL_BUCKET_BYTES` (a positive whole number of bytes) when set.
fn bucket_setting() -> Result<(), Failure> {
    let Ok(text) = std::env::var(BUCKET_VAR) else {
        return Ok(());
    };
    match text.trim().parse::<usize>() {
        Ok(bytes) if bytes > 0 => {
            collective::set_bucket_bytes(bytes);
            Ok(())
        }
        _ => Err(Failure::plain(format!(
            "{BUCKET_VAR}={text}: the gradient bucket size must be a positive number of bytes"
        ))),
    }
}

/// What must agree on every rank: a hash of the program text and the flags
/// (the bucket size too: every rank must reduce the same buckets).
fn start_record(text: &str) -> (u64, Vec<String>) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Ok(bytes) = std::env::var(BUCKET_VAR) {
        args.push(format!("{BUCKET_VAR}={bytes}"));
    }
    (hasher.finish(), args)
}

/// Compares this rank's program and flags with rank 0's; on a difference
/// every rank fails, and each rank that differs names how.
fn check_same_start(
    world: &dyn Collective,
    place: Place,
    file: &Path,
    text: &str,
) -> Result<(), Failure> {
    let (hash, args) = start_record(text);
    let mine = encode(hash, &args);
    let mut root = mine.clone();
    world.broadcast_bytes(&mut root);
    let problem = if root == mine {
        None
    } else {
        Some(difference(&root, hash, &args, file))
    };
    let mut any = [f64::from(u8::from(problem.is_some()))];
    world.allreduce_f64_in_place(&mut any, crate::ir::AllreduceOp::Max);
    match problem {
        Some(what) => Err(Failure::plain(format!(
            "rank {} of {}: {what}; every rank must run the same program with the same flags",
            place.rank, place.size
        ))),
        None if any[0] > 0.0 => Err(Failure::plain(format!(
            "rank {} of {}: another rank was started with a different program or flags \
             (its own error names the difference)",
            place.rank, place.size
        ))),
        None => Ok(()),
    }
}

/// The hash, then each flag followed by a NUL byte.
fn encode(hash: u64, args: &[String]) -> Vec<u8> {
    let mut bytes = hash.to_le_bytes().to_vec();
    for arg in args {
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    bytes
}

/// How rank 0's record `root` differs from this rank's.
fn difference(root: &[u8], hash: u64, args: &[String], file: &Path) -> String {
    let (root_hash, root_args) = root.split_at(root.len().min(8));
    if root_hash != hash.to_le_bytes() {
        return format!(
            "the program '{}' differs from rank 0's (hash {hash:016x}, rank 0 has {:016x})",
            file.display(),
            u64::from_le_bytes(root_hash.try_into().unwrap_or([0; 8]))
        );
    }
    let root_args: Vec<String> = root_args
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    let root_args = &root_args[..root_args.len().saturating_sub(1)];
    let at = args
        .iter()
        .zip(root_args)
        .position(|(a, b)| a != b)
        .unwrap_or(args.len().min(root_args.len()));
    let show = |list: &[String]| match list.get(at) {
        Some(arg) => format!("`{arg}`"),
        None => "nothing".to_string(),
    };
    format!(
        "the flags differ from rank 0's: argument {} is {} here but {} on rank 0",
        at + 1,
        show(args),
        show(root_args)
    )
}

/// Ranks other than 0 print nothing: their stdout goes to the null device.
fn silence_stdout() -> Result<(), Failure> {
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .map_err(|e| Failure::plain(format!("cannot open /dev/null: {e}")))?;
    use std::os::fd::AsRawFd;
    // SAFETY: `dup2` on two open descriptors; stdout is replaced atomically and
    // Rust's stdout handle keeps writing to descriptor 1.
    let status = unsafe { libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO) };
    if status < 0 {
        return Err(Failure::plain(
            "cannot silence stdout on a rank other than 0",
        ));
    }
    Ok(())
}

/// Rank 0's variables on every rank, before the first step.
pub(crate) fn broadcast_variables(session: &mut Session) {
    let world = collective::current();
    if world.size() == 1 {
        return;
    }
    session.update_variables(|_, tensor| {
        let contiguous = match tensor {
            Tensor::F32(a) => a.is_standard_layout(),
            Tensor::F64(a) => a.is_standard_layout(),
            Tensor::I32(_) | Tensor::Bool(_) => true,
        };
        if !contiguous {
            *tensor = tensor.clone().into_standard_layout();
        }
        match tensor {
            Tensor::F32(a) => a.as_slice_mut().map(|d| world.broadcast_f32(d)),
            Tensor::F64(a) => a.as_slice_mut().map(|d| world.broadcast_f64(d)),
            // Integer and boolean variables are not trained; their initial
            // values are the same on every rank (seeded constructors).
            Tensor::I32(_) | Tensor::Bool(_) => None,
        };
    });
}

/// `--feed NAME=FILE`: `{rank}` in the file name is this process's rank, so
/// each rank can read its own part of the data.
pub(crate) fn feed_path(path: &Path, place: Place) -> PathBuf {
    match path.to_str() {
        Some(text) if text.contains("{rank}") => {
            PathBuf::from(text.replace("{rank}", &place.rank.to_string()))
        }
        _ => path.to_path_buf(),
    }
}

/// Ends the run's collective after a successful run (MPI: `MPI_Finalize`).
/// After an error it is not called: the launcher ends the other ranks.
pub(crate) fn finish() {
    collective::current().finish();
}

/// `--timings` in a run of several processes (or any run of a build with
/// MPI, so that one process can be compared): the time rank 0 spent in
/// gradient and program `allreduce`s (waiting for slower ranks included),
/// against the rest of its steps, as means over the steps.
pub(crate) fn communication_line(
    place: Place,
    step_times: &[std::time::Duration],
) -> Option<String> {
    if place.size < 2 && !cfg!(feature = "mpi") {
        return None;
    }
    let (calls, spent) = collective::communication();
    let (buckets, early) = collective::buckets();
    let steps = step_times.len().max(1) as f64;
    let total: f64 = step_times.iter().map(|t| t.as_secs_f64()).sum();
    let comm = spent.as_secs_f64();
    Some(format!(
        "communication: {} ranks, {calls} allreduces in {buckets} buckets ({early} started \
         before the last gradient), {:.3} ms a step in allreduce, {:.3} ms a step computing",
        place.size,
        comm * 1e3 / steps,
        (total - comm).max(0.0) * 1e3 / steps
    ))
}
