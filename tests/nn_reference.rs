//! Pooling with SAME and VALID windows, `avg_pool2d`, the sparse and sigmoid
//! cross-entropies and their gradients must equal TensorFlow's for the same
//! inputs, in f64, on both backends. `scripts/nn_reference.py` wrote the inputs
//! `tests/fixtures/nn/input.NAME.npy` and the references
//! `tests/fixtures/nn/FETCH.npy` for the program `tests/fixtures/nn/nn.td`.

use std::path::Path;
use std::process::Command;
use tdsl::ir::npy::read_npy;

const INPUTS: &[&str] = &["x", "logits", "labels", "slogits", "targets"];

/// Every `let` of `nn.td`.
fn fetches() -> Vec<String> {
    let mut names = Vec::new();
    for case in [
        "k3_s2_same",
        "k3_s2_valid",
        "k2_s2_same",
        "k32_s13_same",
        "k4_s3_same",
    ] {
        for kind in ["max", "avg"] {
            names.push(format!("{kind}_{case}"));
            names.push(format!("g_{kind}_{case}"));
        }
    }
    for name in [
        "sparse",
        "g_sparse",
        "sigmoid",
        "g_sigmoid_logits",
        "g_sigmoid_targets",
    ] {
        names.push(name.to_string());
    }
    names
}

#[test]
fn pooling_and_losses_match_tensorflow_on_both_backends() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("tests/fixtures/nn");
    let names = fetches();
    for backend in ["jit", "interp"] {
        let out_dir = std::env::temp_dir().join(format!(
            "tdsl-nn-reference-{backend}-{}",
            std::process::id()
        ));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tdsl"));
        cmd.current_dir(root)
            .arg("run")
            .arg(fixtures.join("nn.td"))
            .args(["--backend", backend]);
        for input in INPUTS {
            let path = fixtures.join(format!("input.{input}.npy"));
            cmd.arg("--feed").arg(format!("{input}={}", path.display()));
        }
        cmd.arg("--fetch")
            .arg(names.join(","))
            .arg("--out")
            .arg(&out_dir);
        let out = cmd.output().expect("tdsl runs");
        assert!(
            out.status.success(),
            "{backend}: tdsl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for name in &names {
            let got = read_npy(&out_dir.join(format!("{name}.npy"))).expect("our output");
            let want = read_npy(&fixtures.join(format!("{name}.npy"))).expect("the reference");
            assert_eq!(got.shape(), want.shape(), "{name} ({backend}): shapes");
            let (got, want) = (got.to_f64_vec(), want.to_f64_vec());
            let scale = want.iter().fold(0f64, |m, v| m.max(v.abs()));
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12 * scale.max(1.0),
                    "{name} ({backend}) element {i}: tdsl {g} vs TensorFlow {w}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&out_dir);
    }
}
