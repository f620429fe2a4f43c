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
    let mut session = Session::new(module, tdsl::engines::engine(backend, Default::default()));
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

/// The convnet's five convolutions (batch 64) on their own, f32: forward
/// layers 1 and 2, the input gradient of layer 2 and both filter gradients.
mod conv_kernels {
    use tdsl::kernels::conv::{self, Conv};

    const LAYERS: [([usize; 4], [usize; 4]); 2] = [
        ([64, 36, 36, 3], [5, 5, 3, 6]),
        ([64, 34, 34, 6], [3, 3, 6, 9]),
    ];

    fn data(layer: usize) -> (Conv, Vec<f32>, Vec<f32>, Vec<f32>) {
        let (x, w) = LAYERS[layer];
        let s = match Conv::new(x, w, [1, 1], [0; 4]) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let fill = |n: usize, k: f32| (0..n).map(|i| (i as f32 * k).sin()).collect::<Vec<_>>();
        let (nx, nw) = (x.iter().product(), w.iter().product());
        let ng = s.out().iter().product();
        (s, fill(nx, 0.37), fill(nw, 1.1), fill(ng, 0.71))
    }

    #[divan::bench(args = [0, 1], sample_count = 30)]
    fn forward(bencher: divan::Bencher, layer: usize) {
        let (s, x, w, g) = data(layer);
        let mut out = vec![0.0f32; g.len()];
        bencher.bench_local(|| conv::conv2d(&s, &x, &w, &mut out).is_ok());
    }

    #[divan::bench(args = [1], sample_count = 30)]
    fn input_gradient(bencher: divan::Bencher, layer: usize) {
        let (s, x, w, g) = data(layer);
        let mut dx = vec![0.0f32; x.len()];
        bencher.bench_local(|| conv::conv2d_backprop_input(&s, &g, &w, &mut dx).is_ok());
    }

    #[divan::bench(args = [0, 1], sample_count = 30)]
    fn filter_gradient(bencher: divan::Bencher, layer: usize) {
        let (s, x, w, g) = data(layer);
        let mut dw = vec![0.0f32; w.len()];
        bencher.bench_local(|| conv::conv2d_backprop_filter(&s, &x, &g, &mut dw).is_ok());
    }
}
