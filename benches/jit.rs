//! JIT vs interpreter on the first workloads of issue 5 (not part of `cargo test`):
//!
//! - `sum(relu(a*b+c)*sigmoid(d))` on four 2048×2048 f32 inputs (one step),
//!   and its value and gradient with respect to `a`;
//! - a 1024³ f32 matmul;
//! - the JIT ones again on one and on two threads (`threads::set_threads`).
//!
//! Run: `cargo bench --bench jit` (see bench/README.md). Each step goes through
//! `Session::run`, as `tdsl run` does; the JIT compiles once per session, before
//! the timed steps.

use tdsl::backend::threads::set_threads;
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

fn session(source: &str, backend: Backend) -> Session {
    let module = match tdsl::compile(source, std::path::Path::new(".")) {
        Ok(m) => m,
        Err(d) => panic!("bench program: {:?}", d.first().map(|d| &d.message)),
    };
    let mut session = Session::new(module, tdsl::engines::engine(backend, Default::default()));
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

fn step(bencher: divan::Bencher, source: &str, backend: Backend) {
    steps(bencher, source, backend, &["y"]);
}

fn steps(bencher: divan::Bencher, source: &str, backend: Backend, fetches: &[&str]) {
    let mut session = session(source, backend);
    bencher.bench_local(|| session.run(fetches).map(|v| v.len()).unwrap_or(0));
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 10)]
fn chain_2048(bencher: divan::Bencher, backend: Backend) {
    step(bencher, CHAIN, backend);
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 5)]
fn matmul_1024(bencher: divan::Bencher, backend: Backend) {
    step(bencher, MATMUL, backend);
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 5)]
fn chain_grad_2048(bencher: divan::Bencher, backend: Backend) {
    steps(bencher, CHAIN_GRAD, backend, &["y", "da"]);
}

/// The JIT on 1 and 2 threads (the thread count is process-wide; each bench
/// sets it for its own samples and restores the default).
#[divan::bench(args = [1, 2], sample_count = 10)]
fn chain_2048_threads(bencher: divan::Bencher, threads: usize) {
    set_threads(threads);
    step(bencher, CHAIN, Backend::Jit);
    set_threads(0);
}

#[divan::bench(args = [1, 2], sample_count = 5)]
fn chain_grad_2048_threads(bencher: divan::Bencher, threads: usize) {
    set_threads(threads);
    steps(bencher, CHAIN_GRAD, Backend::Jit, &["y", "da"]);
    set_threads(0);
}

#[divan::bench(args = [1, 2], sample_count = 5)]
fn matmul_1024_threads(bencher: divan::Bencher, threads: usize) {
    set_threads(threads);
    step(bencher, MATMUL, Backend::Jit);
    set_threads(0);
}
