//! JIT vs interpreter on the first workloads of issue 5 (not part of `cargo test`):
//!
//! - `sum(relu(a*b+c)*sigmoid(d))` on four 2048×2048 f32 inputs (one step);
//! - a 1024³ f32 matmul.
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
    let mut session = Session::with_backend(module, backend);
    // The first step compiles (for the JIT) and warms the caches.
    if let Err(d) = session.run(&["y"]) {
        panic!("bench step: {}", d.message);
    }
    session
}

fn step(bencher: divan::Bencher, source: &str, backend: Backend) {
    let mut session = session(source, backend);
    bencher.bench_local(|| session.run(&["y"]).map(|v| v.len()).unwrap_or(0));
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 10)]
fn chain_2048(bencher: divan::Bencher, backend: Backend) {
    step(bencher, CHAIN, backend);
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 5)]
fn matmul_1024(bencher: divan::Bencher, backend: Backend) {
    step(bencher, MATMUL, backend);
}
