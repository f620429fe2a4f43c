//! Runs the `tdsl` binary on one input with a timeout and resource limits, and
//! classifies what happened.

use std::fs::File;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: `TDSL_BIN` (the long run points it at a release
/// build) or the one Cargo built for this test.
pub fn binary() -> PathBuf {
    std::env::var_os("TDSL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tdsl")))
}

/// Address space per child: enough for every generated program, small enough
/// that an unbounded read (say of `/dev/zero`) fails fast instead of taking
/// the shared machine's memory.
const MEMORY_LIMIT: u64 = 3 << 30;

/// What one `tdsl` invocation did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

/// The classes of the report. Everything but `Fine` is a find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Fine,
    /// Exit 101, a signal, or a panic message.
    Crash,
    /// Killed at the timeout.
    Hang,
    /// "internal compiler error" on stderr.
    Internal,
    /// An exit status other than 0, 1 and 2, or 1/2 without an `error` diagnostic.
    BadExit,
    /// The child ran out of its memory limit (an allocation failure abort).
    OutOfMemory,
    /// Backends or flags that must agree printed different numbers or exit codes.
    Disagreement,
    /// A run that the documented rules accept (a valid program with valid
    /// data, a feed that converts) exited with an error.
    Refused,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Fine => "fine",
            Class::Crash => "crash",
            Class::Hang => "hang",
            Class::Internal => "internal-error",
            Class::BadExit => "bad-exit",
            Class::OutOfMemory => "out-of-memory",
            Class::Disagreement => "disagreement",
            Class::Refused => "wrongly-refused",
        }
    }
}

impl Outcome {
    pub fn class(&self) -> Class {
        let err = &self.stderr;
        if self.timed_out {
            Class::Hang
        } else if self.signal.is_some() && err.contains("memory allocation of") {
            Class::OutOfMemory
        } else if self.signal.is_some()
            || self.code == Some(101)
            || err.contains("panicked")
            || err.contains("RUST_BACKTRACE")
        {
            Class::Crash
        } else if err.contains("internal compiler error") {
            Class::Internal
        } else {
            match self.code {
                Some(0) => Class::Fine,
                Some(1 | 2) if err.contains("error") => Class::Fine,
                _ => Class::BadExit,
            }
        }
    }

    /// One line for reports: the status and the first line of stderr that says why.
    pub fn summary(&self) -> String {
        let status = match (self.timed_out, self.signal, self.code) {
            (true, _, _) => "timeout".to_string(),
            (_, Some(s), _) => format!("signal {s}"),
            (_, _, Some(c)) => format!("exit {c}"),
            _ => "unknown".to_string(),
        };
        let why = self
            .stderr
            .lines()
            .find(|l| l.contains("panicked") || l.contains("error") || l.contains("memory"))
            .unwrap_or("");
        format!("{status}: {why}")
    }
}

/// Runs `tdsl ARGS` in `dir` with `stdin` (or no input) and kills it after `timeout`.
pub fn run(dir: &Path, args: &[String], stdin: Option<&str>, timeout: Duration) -> Outcome {
    let (out_path, err_path, in_path) =
        (dir.join(".stdout"), dir.join(".stderr"), dir.join(".stdin"));
    let outcome = |code, signal, timed_out| Outcome {
        code,
        signal,
        timed_out,
        stdout: read_lossy(&out_path),
        stderr: read_lossy(&err_path),
    };
    let (Ok(out), Ok(err)) = (File::create(&out_path), File::create(&err_path)) else {
        panic!("cannot create output files in {}", dir.display());
    };
    let input = match stdin {
        Some(text) => {
            let mut f = File::create(&in_path).expect("create the stdin file");
            f.write_all(text.as_bytes()).expect("write the stdin file");
            Stdio::from(File::open(&in_path).expect("reopen the stdin file"))
        }
        None => Stdio::null(),
    };
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .stdin(input)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // setrlimit, which is async-signal-safe; the structs live on its stack.
    unsafe {
        cmd.pre_exec(|| {
            let limit = |bytes: u64| libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit(MEMORY_LIMIT));
            libc::setrlimit(libc::RLIMIT_CORE, &limit(0));
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit(1 << 30));
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("the tdsl binary starts");
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return outcome(status.code(), status.signal(), false),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return outcome(None, None, true);
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => panic!("waiting for tdsl failed: {e}"),
        }
    }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
