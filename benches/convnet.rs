//! Training steps of the issue-5 workloads whose speed the interpreter's kernels
//! decide (both backends run conv2d, its gradients, pad and the losses through
//! them): the three-layer convnet and the two-layer FC net, one `train` step per
//! iteration (loss + gradients + update, feeds and variable updates included).
//!
//! Run: `cargo bench --bench convnet` (the process's default thread count; the
//! interpreter's kernels use one thread). Numbers: docs/kernels.md.

use tdsl::backend::Backend;
use tdsl::runtime::Session;

fn main() {
    divan::main();
}

fn session(path: &str, backend: Backend) -> Session {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = match std::fs::read_to_string(root.join(path)) {
        Ok(s) => s,
        Err(e) => panic!("{path}: {e}"),
    };
    // The optimised graph, as `tdsl run` executes it.
    let options = tdsl::Options::default();
    let module = match tdsl::compile_with(&source, root, &options) {
        Ok(c) => c.module,
        Err(d) => panic!("{path}: {:?}", d.first().map(|d| &d.message)),
    };
    let mut session = Session::with_backend(module, backend);
    // The first step compiles (for the JIT) and warms the caches.
    if let Err(d) = session.run(&["train"]) {
        panic!("{path}: {}", d.message);
    }
    session
}

fn train(bencher: divan::Bencher, path: &str, backend: Backend) {
    let mut session = session(path, backend);
    bencher.bench_local(|| session.run(&["train"]).map(|v| v.len()).unwrap_or(0));
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 20)]
fn convnet_step(bencher: divan::Bencher, backend: Backend) {
    train(bencher, "programs/three_layer_convnet.td", backend);
}

#[divan::bench(args = [Backend::Jit, Backend::Interp], sample_count = 100)]
fn fc_step(bencher: divan::Bencher, backend: Backend) {
    train(bencher, "programs/two_layer_fc.td", backend);
}
