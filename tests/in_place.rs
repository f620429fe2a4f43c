//! In-place variable updates of the JIT (`src/backend/jit/inplace.rs`): the
//! update kernel writes the new value into the variable's own buffer, while
//! every read in the step still sees the start-of-step value (snapshot
//! semantics) and a failed step leaves every variable unchanged. Each result is
//! compared with the interpreter's (within 1e-5 of the tensor's largest
//! magnitude: the GEMMs and inline `exp`/`tanh` round differently), values
//! that only involve exact ops bitwise.

mod support;

use std::path::Path;
use support::sessions::{assert_close, same_steps};
use tdsl::backend::Backend;
use tdsl::engines::engine;
use tdsl::ir::DType;
use tdsl::runtime::Session;
use tdsl::Tensor;

fn sessions(source: &str) -> (Session, Session) {
    let module = tdsl::compile(source, Path::new(".")).unwrap_or_else(|d| panic!("{d:?}"));
    let interp = Session::new(module.clone(), engine(Backend::Interp, Default::default()));
    let jit = Session::new(module, engine(Backend::Jit, Default::default()));
    (interp, jit)
}

fn ptr(session: &Session, name: &str) -> *const f32 {
    match session.variable(name) {
        Some(Tensor::F32(a)) => a.as_ptr(),
        other => panic!("{name}: {other:?}"),
    }
}

fn values(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().into_iter().map(f64::to_bits).collect()
}

const FC: &str = "
placeholder x: f32[8, 16] = randn(seed=1);
placeholder y: f32[8, 4] = randn(seed=2);
variable w1: f32[16, 32] = xavier(seed=3);
variable b1: f32[32] = 0.0;
variable w2: f32[32, 4] = xavier(seed=4);
let h = relu(x @ w1 + b1);
let loss = mean((h @ w2 - y) * (h @ w2 - y));
let train = minimize(loss, sgd(0.1));
";

#[test]
fn sgd_updates_keep_the_variables_buffers() {
    let (mut interp, mut jit) = sessions(FC);
    let init = values(jit.variable("w1").unwrap());
    let before: Vec<_> = ["w1", "b1", "w2"].iter().map(|n| ptr(&jit, n)).collect();
    same_steps(&mut interp, &mut jit, &["train", "loss"], 5, false);
    let after: Vec<_> = ["w1", "b1", "w2"].iter().map(|n| ptr(&jit, n)).collect();
    assert_eq!(before, after, "every update was written in place");
    assert_ne!(values(jit.variable("w1").unwrap()), init, "w1 changed");
}

#[test]
fn momentum_updates_both_variables_in_place() {
    let source = FC.replace("sgd(0.1)", "momentum(0.1, beta=0.9)");
    let (mut interp, mut jit) = sessions(&source);
    same_steps(&mut interp, &mut jit, &["train", "loss"], 1, false);
    let names = ["w1", "w1.momentum", "w2", "w2.momentum"];
    let before: Vec<_> = names.iter().map(|n| ptr(&jit, n)).collect();
    same_steps(&mut interp, &mut jit, &["train", "loss"], 4, false);
    let after: Vec<_> = names.iter().map(|n| ptr(&jit, n)).collect();
    assert_eq!(before, after);
}

#[test]
fn a_fetched_variable_shows_its_start_of_step_value() {
    let (mut interp, mut jit) = sessions(FC);
    for fetches in [["w1", "train"], ["train", "w1"]] {
        let old = jit.variable("w1").unwrap().clone();
        let got = jit.run(&fetches).unwrap();
        let at = fetches.iter().position(|f| *f == "w1").unwrap();
        assert_eq!(values(&got[at]), values(&old), "fetch order {fetches:?}");
        assert_ne!(values(jit.variable("w1").unwrap()), values(&old));
        interp.run(&fetches).unwrap();
        let (x, y) = (interp.variable("w1").unwrap(), jit.variable("w1").unwrap());
        assert_close("w1", x, y);
        // Continue from the same state.
        jit.feed("w1", x.clone()).unwrap();
    }
}

#[test]
fn reads_after_the_update_see_the_old_value() {
    // `y` reads `w` in a kernel of its own; the two assigns read each other's
    // variable; both group orders, and `y` fetched before and after `train`.
    for order in [
        "assign(a, a + b * w), assign(b, b * a)",
        "assign(b, b * a), assign(a, a + b * w)",
    ] {
        let source = format!(
            "variable w: f32[64] = randn(seed=1);
             variable a: f32[64] = randn(seed=2);
             variable b: f32[64] = randn(seed=3);
             let y = w * 2.0;
             let z = exp(a) + b;
             let train = group({order}, assign(w, w - 0.5));"
        );
        for fetches in [
            ["train", "y", "z"],
            ["y", "z", "train"],
            ["z", "train", "y"],
        ] {
            let (mut interp, mut jit) = sessions(&source);
            let w = values(jit.variable("w").unwrap());
            let got = jit.run(&fetches).unwrap();
            let y = &got[fetches.iter().position(|f| *f == "y").unwrap()];
            let doubled: Vec<u64> = w
                .iter()
                .map(|&v| (f64::from_bits(v) as f32 * 2.0) as f64)
                .map(f64::to_bits)
                .collect();
            assert_eq!(values(y), doubled, "{order} / {fetches:?}");
            let mut interp_values = interp.run(&fetches).unwrap();
            for (x, y) in interp_values.drain(..).zip(&got) {
                assert_close(&format!("{order} / {fetches:?}"), &x, y);
            }
            // `a`, `b` and `w` are updated with exact ops: bitwise.
            for name in ["w", "a", "b"] {
                let (x, y) = (interp.variable(name).unwrap(), jit.variable(name).unwrap());
                assert_eq!(values(x), values(y), "{order} / {fetches:?}: {name}");
            }
            same_steps(&mut interp, &mut jit, &fetches, 2, false);
        }
    }
}

#[test]
fn a_failing_step_leaves_every_variable_unchanged() {
    // `xs[i]` fails at run time for i out of range; it does not depend on
    // the update, so with `train` fetched first the update kernel runs
    // before it.
    let source = "
        placeholder i: i32[] = 0;
        placeholder xs: f32[3, 16] = randn(seed=1);
        variable w: f32[16] = randn(seed=2);
        let row = xs[i] * 2.0;
        let train = group(assign(w, w * 0.5 + 1.0));
    ";
    for fetches in [["train", "row"], ["row", "train"]] {
        let (mut interp, mut jit) = sessions(source);
        same_steps(&mut interp, &mut jit, &fetches, 2, false);
        let before = values(jit.variable("w").unwrap());
        jit.feed("i", Tensor::scalar(DType::I32, 7.0)).unwrap();
        let err = jit.run(&fetches).unwrap_err();
        assert!(err.message.contains("out of range"), "{}", err.message);
        assert_eq!(values(jit.variable("w").unwrap()), before, "{fetches:?}");
        // The session goes on from the unchanged state.
        jit.feed("i", Tensor::scalar(DType::I32, 1.0)).unwrap();
        interp.feed("i", Tensor::scalar(DType::I32, 1.0)).unwrap();
        same_steps(&mut interp, &mut jit, &fetches, 2, false);
    }
}

/// Three layers and a softmax: the gradients and activations that only
/// kernels read live in the executable's arena (`arena.rs`), slots reused
/// within the step; every fetch order (its own executable and plan) agrees
/// with the interpreter step after step, and the variables keep their buffers.
#[test]
fn arena_values_agree_with_the_interpreter_in_every_fetch_order() {
    let source = "
placeholder x: f32[16, 24] = randn(seed=1);
variable w1: f32[24, 40] = xavier(seed=3);
variable b1: f32[40] = 0.0;
variable w2: f32[40, 40] = xavier(seed=4);
variable w3: f32[40, 10] = xavier(seed=5);
let h1 = tanh(x @ w1 + b1);
let h2 = relu(h1 @ w2);
let scores = h2 @ w3;
let y = one_hot(argmax(randn([16, 10], seed=2), 1), 10);
let loss = softmax_cross_entropy(scores, y);
let train = minimize(loss, sgd(0.05));
";
    let (mut interp, mut jit) = sessions(source);
    let names = ["w1", "b1", "w2", "w3"];
    same_steps(&mut interp, &mut jit, &["train", "loss"], 1, false);
    let before: Vec<_> = names.iter().map(|n| ptr(&jit, n)).collect();
    for fetches in [&["train", "loss"][..], &["loss", "train"], &["train"]] {
        same_steps(&mut interp, &mut jit, fetches, 3, false);
    }
    let after: Vec<_> = names.iter().map(|n| ptr(&jit, n)).collect();
    assert_eq!(before, after, "every update was written in place");
}

/// A fuzzer find (`log_softmax`, two `maximum`s, three updated variables):
/// `v6`'s update defers its other readers, and the reduction of `v4`'s
/// gradient among them is used up by another deferred reader, `v4`'s update.
/// The walk must not compute that reduction again: `v4`'s buffer is by then
/// the update's ("no value for variable 'v4'"), and with `loss` fetched a side
/// output would be asked for on its own ("was not stored by its reduction").
#[test]
fn a_deferred_reader_used_up_by_another_is_not_computed_again() {
    let source = "
variable v4: f32[7] = randn(std=0.5);
variable v6: f32[] = 0.39;
variable v8: f32[] = randn(seed=8, std=0.5);
let t9 = maximum(maximum(log_softmax(v4), v6), v8);
let loss = mean(t9 * t9);
let train = minimize(loss, sgd(0.01));
";
    for optimizer in ["sgd(0.01)", "adam(0.01)"] {
        let source = source.replace("sgd(0.01)", optimizer);
        for fetches in [&["train"][..], &["train", "loss"], &["loss", "train"]] {
            let (mut interp, mut jit) = sessions(&source);
            same_steps(&mut interp, &mut jit, fetches, 1, false);
            let before: Vec<_> = ["v4", "v6", "v8"].iter().map(|n| ptr(&jit, n)).collect();
            same_steps(&mut interp, &mut jit, fetches, 4, false);
            let after: Vec<_> = ["v4", "v6", "v8"].iter().map(|n| ptr(&jit, n)).collect();
            assert_eq!(before, after, "{optimizer} / {fetches:?}: updated in place");
        }
    }
}
