//! Ctrl-C while a `run ... repeat N` computes: on a terminal, SIGINT sets a flag
//! that the REPL checks between steps, so a long training run stops after the
//! current step instead of ending the REPL. (rustyline installs its own handler
//! while it reads a line and restores this one afterwards.)

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT handler (terminal mode only).
pub fn install() {
    #[cfg(unix)]
    {
        let handler = on_sigint as extern "C" fn(libc::c_int);
        // SAFETY: the handler only stores to an atomic, which is signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        }
    }
}

/// Forgets an earlier Ctrl-C.
pub fn clear() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// Whether Ctrl-C was pressed since the last `clear` or `take`.
pub fn take() -> bool {
    INTERRUPTED.swap(false, Ordering::SeqCst)
}
