//! The three-layer convnet of `programs/three_layer_convnet.td`, fed through the
//! CLI with `--feed`, must give the scores that JAX computes for the same inputs
//! (`scripts/convnet_reference.py` wrote `tests/fixtures/convnet_scores.npy`).
//! The inputs come from an exact integer formula that the script repeats.

use ndarray::{ArrayD, IxDyn};
use std::path::Path;
use std::process::Command;
use tdsl::ir::npy::{read_npy, write_npy_atomic};
use tdsl::ir::Tensor;

/// `((i * 7919 + seed * 104729) mod 2001 - 1000) / 1000 * scale`, exact in f64, then f32.
fn formula(shape: &[usize], seed: i64, scale: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n as i64)
        .map(|i| {
            let k = (i * 7919 + seed * 104729).rem_euclid(2001) - 1000;
            (k as f64 / 1000.0 * scale) as f32
        })
        .collect();
    Tensor::F32(ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape"))
}

#[test]
fn convnet_scores_match_jax() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("tdsl-convnet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let inputs: [(&str, &[usize], i64, f64); 7] = [
        ("x", &[64, 32, 32, 3], 1, 1.0),
        ("conv_w1", &[5, 5, 3, 6], 2, 0.2),
        ("conv_b1", &[6], 3, 0.1),
        ("conv_w2", &[3, 3, 6, 9], 4, 0.2),
        ("conv_b2", &[9], 5, 0.1),
        ("fc_w", &[9216, 10], 6, 0.02),
        ("fc_b", &[10], 7, 0.1),
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tdsl"));
    cmd.current_dir(root)
        .args(["run", "programs/three_layer_convnet.td"]);
    for (name, shape, seed, scale) in inputs {
        let path = dir.join(format!("{name}.npy"));
        write_npy_atomic(&path, &formula(shape, seed, scale)).expect("write feed");
        cmd.arg("--feed").arg(format!("{name}={}", path.display()));
    }
    let out_dir = dir.join("out");
    cmd.args(["--fetch", "scores", "--out"]).arg(&out_dir);
    let out = cmd.output().expect("tdsl runs");
    assert!(
        out.status.success(),
        "tdsl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Tensor::F32(ours) = read_npy(&out_dir.join("scores.npy")).expect("scores.npy") else {
        panic!("scores.npy is not f32");
    };
    let Tensor::F32(jax) =
        read_npy(&root.join("tests/fixtures/convnet_scores.npy")).expect("fixture")
    else {
        panic!("fixture is not f32");
    };
    assert_eq!(ours.shape(), &[64, 10]);
    assert_eq!(ours.shape(), jax.shape());
    let scale = jax.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (a, b) in ours.iter().zip(jax.iter()) {
        let tol = 1e-5 * b.abs().max(scale);
        assert!(
            (a - b).abs() <= tol,
            "tdsl {a} vs JAX {b} (tolerance {tol})"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
