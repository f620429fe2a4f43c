//! The backends a front end can choose: a [`Backend`] name becomes a
//! [`Engine`] for a [`crate::runtime::Session`], and the JIT's diagnostic
//! switches are read from the environment here, once, by the front ends (the
//! backends and the runtime read no environment variables).

use crate::backend::{interp, jit, Backend, Engine};

/// The engine of `backend`; the JIT compiles with `options`.
pub fn engine(backend: Backend, options: jit::Options) -> Box<dyn Engine> {
    match backend {
        Backend::Interp => Box::new(interp::Interpreter),
        Backend::Jit => Box::new(jit::Compiler::new(options)),
    }
}

/// The JIT's options with its diagnostic switches read from the environment:
/// `TDSL_GEMM_LOG` and `TDSL_MEM_LOG` (set: on), `TDSL_JIT_DISASM` (set to
/// anything but `0`: on), `TDSL_ARENA` (`0`: off).
pub fn jit_options_from_env() -> jit::Options {
    let var = std::env::var_os;
    jit::Options {
        gemm_log: var("TDSL_GEMM_LOG").is_some(),
        mem_log: var("TDSL_MEM_LOG").is_some(),
        disasm: var("TDSL_JIT_DISASM").is_some_and(|v| v != "0"),
        arena: var("TDSL_ARENA").is_none_or(|v| v != "0"),
        ..jit::Options::default()
    }
}
