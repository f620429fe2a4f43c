//! The digits programs train to the accuracy the README promises: at least 97%
//! on the held-out test set, with the loss falling, on both backends. (Their
//! printed numbers are also pinned by `tests/golden.rs` within its tolerance;
//! this test states the property that matters on any CPU.)

use std::path::Path;
use std::process::Command;

/// The numbers after `= ` on lines starting with `prefix`.
fn values(text: &str, prefix: &str) -> Vec<f64> {
    text.lines()
        .filter(|l| l.starts_with(prefix) || l.contains(&format!("] {prefix}")))
        .filter_map(|l| l.rsplit("= ").next()?.trim().parse().ok())
        .collect()
}

#[test]
fn the_digits_models_reach_97_percent_on_both_backends() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for model in ["digits_mlp", "digits_convnet"] {
        for backend in ["jit", "interp"] {
            let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
                .args(["run", &format!("programs/{model}.td"), "--backend", backend])
                .current_dir(root)
                .output()
                .expect("the tdsl binary runs");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{model} on {backend}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let losses = values(&text, "loss:");
            let accuracy = values(&text, "accuracy:");
            assert_eq!(losses.len(), 5, "{model} on {backend}:\n{text}");
            assert!(
                losses[4] < losses[0] / 2.0,
                "{model} on {backend}: the loss falls:\n{text}"
            );
            assert!(
                accuracy.len() == 1 && accuracy[0] >= 0.97,
                "{model} on {backend}:\n{text}"
            );
        }
    }
}
