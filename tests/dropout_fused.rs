//! `dropout` with a constant rate, `random_normal` and `random_uniform` run
//! inside the JIT's fused kernels (`docs/jit.md`, "Dropout in fused
//! kernels"): their values, in chains, inside `fold` bodies (nested too) and
//! in gradients, are the interpreter's bits on 1 and 2 threads, step after
//! step.

use std::path::Path;
use tdsl::backend::Backend;
use tdsl::runtime::Session;
use tdsl::Tensor;

fn session(source: &str, backend: Backend, threads: usize) -> Session {
    let module = match tdsl::compile_with(source, Path::new("."), &tdsl::Options::default()) {
        Ok(c) => c.module,
        Err(d) => panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()),
    };
    let options = match backend {
        Backend::Jit => tdsl::backend::jit::Options {
            threads,
            ..tdsl::backend::jit::Options::checked()
        },
        Backend::Interp => Default::default(),
    };
    Session::new(module, tdsl::engines::engine(backend, options))
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

/// Odd sizes (37 columns, 257 and 301 x 257 elements), a fold and a nested
/// fold (loop words), a chain on both sides of the dropout, and the gradient
/// (the same mask drawn again), trained for a few steps.
const PROGRAM: &str = "
placeholder xs: f32[5, 37] = randn(seed=1);
placeholder big: f32[301, 257] = randn(seed=2);
variable w: f32[37, 37] = xavier(seed=3);
let chain = dropout(relu(big) * 2.0, 0.25, seed=4) + 1.0;
let folded = fold(|acc, x| acc + dropout(relu(x) * 2.0, 0.3, seed=5), zeros([37]), xs);
let nested = fold(|acc, x| acc + fold(|a, y| a * 0.5 + dropout(y - x, 0.5, seed=6), zeros([37]), xs[0:2]), zeros([37]), xs);
let h = dropout(relu(xs @ w), 0.5, seed=7);
let g = grad(sum(h * h), w);
let train = assign(w, w - 0.01 * g);
let noisy = xs * random_normal([5, 37], seed=8) + random_uniform([5, 37], seed=9);
let walk = fold(|acc, x| acc + x * random_normal([37], dtype=f64, seed=10), zeros([37], dtype=f64), cast(xs, f64));
";

#[test]
fn fused_dropout_is_the_interpreters_bits_on_every_thread_count() {
    let fetches = [
        "chain", "folded", "nested", "h", "g", "train", "noisy", "walk",
    ];
    let mut interp = session(PROGRAM, Backend::Interp, 0);
    let mut jits = [
        session(PROGRAM, Backend::Jit, 1),
        session(PROGRAM, Backend::Jit, 2),
    ];
    for step in 0..3 {
        let want = interp.run(&fetches).unwrap();
        // `relu` zeroes about half of `h`'s 185 elements, the dropout half
        // of the rest.
        let zeros = want[3].to_f64_vec().iter().filter(|&&v| v == 0.0).count();
        assert!(
            (110..=170).contains(&zeros),
            "step {step}: {zeros} zeros in h"
        );
        for (k, jit) in jits.iter_mut().enumerate() {
            let got = jit.run(&fetches).unwrap();
            for ((name, e), a) in fetches.iter().zip(&want).zip(&got) {
                assert!(
                    bits(e) == bits(a),
                    "step {step}, {} threads: `{name}` differs from the interpreter",
                    k + 1
                );
            }
        }
    }
}
