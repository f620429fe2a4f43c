//! Optimiser hyper-parameters as expressions: a placeholder, a `let` or a
//! variable learning rate trains like the literal, on both backends, and an
//! `assign` to a variable learning rate takes effect.

use std::path::{Path, PathBuf};
use std::process::Command;
use tdsl::ir::npy::read_npy;

const MODEL: &str = "\
placeholder x: f32[16, 3] = randn(seed=1);
placeholder y: f32[16, 1] = randn(seed=2);
variable w: f32[3, 1] = xavier(seed=3);
let loss = mean_squared_error(tanh(x @ w), y);
";

/// Writes `MODEL` plus `rest` to a fresh folder; returns the folder.
fn program(name: &str, rest: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-hyper-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("p.td"), format!("{MODEL}{rest}")).expect("write program");
    dir
}

/// Runs the program's `run` statements on `backend`, saves into `DIR/out`,
/// and returns the final `w`.
fn final_w(dir: &Path, backend: &str, args: &[&str]) -> Vec<f64> {
    let save = format!("out-{backend}");
    let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .args(["run", "p.td", "--backend", backend, "--save", &save])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tdsl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_npy(&dir.join(save).join("w.npy"))
        .expect("w was saved")
        .to_f64_vec()
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn expression_learning_rates_match_the_literal_bitwise() {
    let cases = [
        (
            "adam",
            "let train = minimize(loss, adam(0.05));\nrun train repeat 5;\n",
            "placeholder lr: f32[] = 0.05;\nlet rate = lr * 1.0;\n\
             let train = minimize(loss, adam(rate));\nrun train repeat 5;\n",
        ),
        (
            "sgd",
            "let train = minimize(loss, sgd(0.1));\nrun train repeat 5;\n",
            "variable lr: f32[] = 0.1;\nlet train = minimize(loss, sgd(lr));\nrun train repeat 5;\n",
        ),
        (
            "momentum",
            "let train = minimize(loss, momentum(0.1, beta=0.8));\nrun train repeat 5;\n",
            "placeholder lr: f32[] = 0.1;\nplaceholder b: f32[] = 0.8;\n\
             let train = minimize(loss, momentum(lr, beta=b));\nrun train repeat 5;\n",
        ),
    ];
    for (name, literal, expression) in cases {
        let lit_dir = program(&format!("{name}-lit"), literal);
        let expr_dir = program(&format!("{name}-expr"), expression);
        for backend in ["interp", "jit"] {
            let a = final_w(&lit_dir, backend, &[]);
            let b = final_w(&expr_dir, backend, &[]);
            assert_eq!(bits(&a), bits(&b), "{name} on {backend}: {a:?} vs {b:?}");
        }
        // And the training moved w.
        let start = final_w(&lit_dir, "interp", &["--steps", "1"]);
        assert_ne!(
            bits(&start),
            bits(&final_w(&lit_dir, "interp", &[])),
            "{name}"
        );
    }
}

#[test]
fn adam_betas_and_eps_as_expressions_agree_with_literals() {
    let literal = "let train = minimize(loss, adam(0.05, beta1=0.8, beta2=0.99, eps=1e-6));\n\
                   run train repeat 5;\n";
    let expression = "placeholder b1: f32[] = 0.8;\nvariable b2: f32[] = 0.99;\n\
                      let e = b1 * 0.0 + 1e-6;\n\
                      let train = minimize(loss, adam(0.05, beta1=b1, beta2=b2, eps=e));\n\
                      run train repeat 5;\n";
    let lit_dir = program("betas-lit", literal);
    let expr_dir = program("betas-expr", expression);
    let a = final_w(&lit_dir, "interp", &[]);
    for backend in ["interp", "jit"] {
        let b = final_w(&expr_dir, backend, &[]);
        for (x, y) in a.iter().zip(&b) {
            // `1 - beta` is folded in f64 for a literal and computed in f32 here.
            assert!(
                (x - y).abs() <= 1e-5 * x.abs().max(1.0),
                "{backend}: {a:?} vs {b:?}"
            );
        }
    }
}

#[test]
fn an_assigned_learning_rate_takes_effect_in_the_next_run() {
    let stopped = program(
        "assigned",
        "variable lr: f32[] = 0.1;\nlet stop = assign(lr, 0.0);\n\
         let train = minimize(loss, sgd(lr));\n\
         run train repeat 3;\nrun stop;\nrun train repeat 3;\n",
    );
    let three = program(
        "three",
        "variable lr: f32[] = 0.1;\nlet train = minimize(loss, sgd(lr));\nrun train repeat 3;\n",
    );
    let six = program(
        "six",
        "variable lr: f32[] = 0.1;\nlet train = minimize(loss, sgd(lr));\nrun train repeat 6;\n",
    );
    for backend in ["interp", "jit"] {
        let a = final_w(&stopped, backend, &[]);
        assert_eq!(bits(&a), bits(&final_w(&three, backend, &[])), "{backend}");
        assert_ne!(bits(&a), bits(&final_w(&six, backend, &[])), "{backend}");
    }
}
