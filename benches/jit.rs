//! JIT vs interpreter on the first workloads of issue 5 (not part of `cargo test`):
//!
//! - `sum(relu(a*b+c)*sigmoid(d))` on four 2048×2048 f32 inputs (one step),
//!   and its value and gradient with respect to `a`;
//! - a 1024³ f32 matmul;
//! - the JIT ones again on one and on two threads (`jit::Options::threads`).
//!
//! Run: `cargo bench --bench jit` (see bench/README.md). Each step goes through
//! `Session::run`, as `tdsl run` does; the JIT compiles once per session, before
//! the timed steps.

use tdsl::backend::Backend;
use tdsl::runtime::Session;

fn main() {
    divan::main();
}

const CHAIN: &str = "
placeholder a: f32[2048, 2048] = randn(seed=1);
placeholder b: f32[2048, 2048] = randn(seed=2);
placeholder c: f32[2048, 2048] = randn(seed=3);
placeholder d: f32[2048, 2048] = randn(seed=4);
let y = sum(relu(a * b + c) * sigmoid(d));
";

const CHAIN_GRAD: &str = "
placeholder a: f32[2048, 2048] = randn(seed=1);
placeholder b: f32[2048, 2048] = randn(seed=2);
placeholder c: f32[2048, 2048] = randn(seed=3);
placeholder d: f32[2048, 2048] = randn(seed=4);
let y = sum(relu(a * b + c) * sigmoid(d));
let da = grad(y, a);
";

const MATMUL: &str = "
placeholder x: f32[1024, 1024] = randn(seed=1);
placeholder w: f32[1024, 1024] = randn(seed=2);
let y = x @ w;
";

/// A session on `backend`; the JIT on `threads` (0: every core).
fn session(source: &str, backend: Backend, threads: usize) -> Session {
    let module = match tdsl::compile(source, std::path::Path::new(".")) {
        Ok(m) => m,
        Err(d) => panic!("bench program: {:?}", d.first().map(|d| &d.message)),
    };
    let options = tdsl::backend::jit::Options {
        threads,
        ..Default::default()
    };
    let mut session = Session::new(module, tdsl::engines::engine(backend, options));
    // The first step compiles (for the JIT) and warms the caches.
    let fetches: &[&str] = if source.contains("grad") {
        &["y", "da"]
    } else {
        &["y"]
    };
    if let Err(d) = session.run(fetches) {
        panic!("bench step: {}", d.message);
    }
    session
}

fn step(bencher: divan::Bencher, source: &str, backend: Backend, threads: usize) {
    steps(bencher, source, backend, &["y"], threads);
}

fn steps(
    bencher: divan::Bencher,
    source: &str,
    backend: Backend,
    fetches: &[&str],
    threads: usize,
) {
    let mut session = session(source, backend, threads);
    bencher.bench_local(|| session.run(fetches).map(|v| v.len()).unwrap_or(0));
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 10)]
fn chain_2048(bencher: divan::Bencher, backend: Backend) {
    step(bencher, CHAIN, backend, 0);
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 5)]
fn matmul_1024(bencher: divan::Bencher, backend: Backend) {
    step(bencher, MATMUL, backend, 0);
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 5)]
fn chain_grad_2048(bencher: divan::Bencher, backend: Backend) {
    steps(bencher, CHAIN_GRAD, backend, &["y", "da"], 0);
}

/// The JIT on 1 and 2 threads (`jit::Options::threads` of the session).
#[divan::bench(args = [1, 2], sample_count = 10)]
fn chain_2048_threads(bencher: divan::Bencher, threads: usize) {
    step(bencher, CHAIN, Backend::Jit, threads);
}

#[divan::bench(args = [1, 2], sample_count = 5)]
fn chain_grad_2048_threads(bencher: divan::Bencher, threads: usize) {
    steps(bencher, CHAIN_GRAD, Backend::Jit, &["y", "da"], threads);
}

#[divan::bench(args = [1, 2], sample_count = 5)]
fn matmul_1024_threads(bencher: divan::Bencher, threads: usize) {
    step(bencher, MATMUL, Backend::Jit, threads);
}
