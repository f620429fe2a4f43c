//! Fused kernels with several outputs (`src/backend/jit/plan/multi.rs`) in
//! whole programs: Adam's `m'`, `s'`, `w'` and momentum's `v'`, `w'` are one
//! kernel each, written into the variables' own buffers, on 1 and 2
//! threads; a `fold` body whose two same-shape values merge. Each result is
//! compared with the interpreter's (within 1e-5 of the tensor's largest
//! magnitude: the GEMMs and inline `tanh` round differently).

mod support;

use std::path::Path;
use support::sessions::same_steps;
use tdsl::backend::jit::Options;
use tdsl::backend::Backend;
use tdsl::engines::engine;
use tdsl::runtime::Session;
use tdsl::Tensor;

fn sessions(source: &str, threads: usize) -> (Session, Session) {
    let module = tdsl::compile(source, Path::new(".")).unwrap_or_else(|d| panic!("{d:?}"));
    let interp = Session::new(module.clone(), engine(Backend::Interp, Default::default()));
    let options = Options {
        threads,
        ..Options::checked()
    };
    (interp, Session::new(module, engine(Backend::Jit, options)))
}

fn ptr(session: &Session, name: &str) -> *const f32 {
    match session.variable(name) {
        Some(Tensor::F32(a)) => a.as_ptr(),
        other => panic!("{name}: {other:?}"),
    }
}

/// A layer wide enough (96 × 700 = 67200 elements) that its update kernel
/// splits among two threads.
const FC: &str = "
placeholder x: f32[8, 96] = randn(seed=1);
placeholder y: f32[8, 4] = randn(seed=2);
variable w1: f32[96, 700] = xavier(seed=3);
variable b1: f32[700] = 0.0;
variable w2: f32[700, 4] = xavier(seed=4);
let h = relu(x @ w1 + b1);
let loss = mean((h @ w2 - y) * (h @ w2 - y));
let train = minimize(loss, OPT);
";

#[test]
fn adam_and_momentum_update_their_slots_in_place() {
    for (opt, slots) in [
        ("adam(0.01)", &["adam_m", "adam_v"][..]),
        ("momentum(0.1, beta=0.9)", &["momentum"]),
    ] {
        for threads in [1, 2] {
            let (mut interp, mut jit) = sessions(&FC.replace("OPT", opt), threads);
            same_steps(&mut interp, &mut jit, &["train", "loss"], 1, true);
            let mut names = vec!["w1".to_string(), "w2".to_string()];
            for var in ["w1", "w2"] {
                names.extend(slots.iter().map(|s| format!("{var}.{s}")));
            }
            let before: Vec<_> = names.iter().map(|n| ptr(&jit, n)).collect();
            // Without resetting the variables: their buffers must stay.
            for _ in 0..4 {
                jit.run(&["train", "loss"])
                    .unwrap_or_else(|d| panic!("{d:?}"));
                interp
                    .run(&["train", "loss"])
                    .unwrap_or_else(|d| panic!("{d:?}"));
            }
            let after: Vec<_> = names.iter().map(|n| ptr(&jit, n)).collect();
            assert_eq!(
                before, after,
                "{opt}, {threads} threads: {names:?} in place"
            );
            same_steps(&mut interp, &mut jit, &["train", "loss"], 2, true);
        }
    }
}

#[test]
fn a_fold_body_with_two_outputs_of_one_shape() {
    // `a` and `b` are both read by matmuls (stored), of one shape, and
    // independent: one kernel in the body; and in the gradient's bodies.
    let source = "
        placeholder xs: f32[5, 6, 6] = randn(seed=1);
        placeholder h0: f32[6, 6] = randn(seed=2);
        variable w: f32[6, 6] = xavier(seed=3);
        fn cell(h, x) {
            let a = tanh(h) * 0.5 + x;
            let b = h - x * 0.25;
            a @ w + b @ w
        }
        let out = fold(cell, h0, xs);
        let loss = mean(out * out);
        let dw = grad(loss, w);
        let train = minimize(loss, momentum(0.01, beta=0.9));
    ";
    for threads in [1, 2] {
        let (mut interp, mut jit) = sessions(source, threads);
        same_steps(
            &mut interp,
            &mut jit,
            &["out", "loss", "dw", "train"],
            3,
            true,
        );
    }
}
