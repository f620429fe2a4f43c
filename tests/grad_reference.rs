//! Gradients of the models of `programs/` (`tests/fixtures/grad/*.td`: the same
//! models with every input fed) must equal JAX's for the same inputs within
//! 1e-4 relative in f32. `scripts/grad_reference.py` wrote the fixtures
//! `tests/fixtures/grad/CASE.FETCH.npy` from the exact integer formula below; a
//! gradient of more than 4096 elements is kept as every k-th element of its
//! flattening (`k = ceil(n / 4096)`). Every case runs on both backends
//! (`--backend jit` and `--backend interp`).

use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};
use std::process::Command;
use tdsl::ir::npy::{read_npy, write_npy_atomic};
use tdsl::ir::Tensor;

const KEEP: usize = 4096;

/// `((i * 7919 + seed * 104729) mod 2001 - 1000) / 1000 * scale`, exact in f64, then f32.
fn formula(shape: &[usize], seed: i64, scale: f64) -> Vec<f32> {
    let n: usize = shape.iter().product();
    (0..n as i64)
        .map(|i| {
            let k = (i * 7919 + seed * 104729).rem_euclid(2001) - 1000;
            (k as f64 / 1000.0 * scale) as f32
        })
        .collect()
}

fn f32_tensor(shape: &[usize], values: Vec<f32>) -> Tensor {
    Tensor::F32(ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape"))
}

/// One input: a formula tensor, or a ready tensor.
enum Feed {
    Formula(&'static str, &'static [usize], i64, f64),
    Value(&'static str, Tensor),
}

/// Runs `tests/fixtures/grad/PROGRAM.td` with `feeds`, fetching `fetches`, on
/// each backend and compares each with `tests/fixtures/grad/CASE.FETCH.npy`.
fn check(program: &str, case: &str, feeds: Vec<Feed>, fetches: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("tests/fixtures/grad");
    let dir: PathBuf =
        std::env::temp_dir().join(format!("tdsl-grad-{case}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut feed_args = Vec::new();
    for feed in feeds {
        let (name, tensor) = match feed {
            Feed::Formula(name, shape, seed, scale) => {
                (name, f32_tensor(shape, formula(shape, seed, scale)))
            }
            Feed::Value(name, tensor) => (name, tensor),
        };
        let path = dir.join(format!("{name}.npy"));
        write_npy_atomic(&path, &tensor).expect("write feed");
        feed_args.push(format!("{name}={}", path.display()));
    }
    for backend in ["jit", "interp"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tdsl"));
        cmd.current_dir(root)
            .arg("run")
            .arg(fixtures.join(format!("{program}.td")))
            .arg("--backend")
            .arg(backend);
        for feed in &feed_args {
            cmd.arg("--feed").arg(feed);
        }
        let out_dir = dir.join(format!("out-{backend}"));
        cmd.arg("--fetch")
            .arg(fetches.join(","))
            .arg("--out")
            .arg(&out_dir);
        let out = cmd.output().expect("tdsl runs");
        assert!(
            out.status.success(),
            "{case} ({backend}): tdsl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        compare_with_jax(
            &format!("{case} ({backend})"),
            &out_dir,
            &fixtures,
            case,
            fetches,
        );
    }
    // The two backends agree within 1e-5 of each gradient's scale.
    for fetch in fetches {
        let read = |backend: &str| {
            let path = dir.join(format!("out-{backend}/{fetch}.npy"));
            read_npy(&path).expect("our gradient").to_f64_vec()
        };
        let (jit, interp) = (read("jit"), read("interp"));
        let scale = interp.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (i, (a, b)) in jit.iter().zip(&interp).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * scale,
                "{case}.{fetch}[{i}]: jit {a} vs interp {b}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Compares the `.npy` files in `out_dir` with the fixtures `CASE.FETCH.npy`.
fn compare_with_jax(what: &str, out_dir: &Path, fixtures: &Path, case: &str, fetches: &[&str]) {
    for fetch in fetches {
        let ours = read_npy(&out_dir.join(format!("{fetch}.npy"))).expect("our gradient");
        let mut ours = ours.to_f64_vec();
        if ours.len() > KEEP {
            let step = ours.len().div_ceil(KEEP);
            ours = ours.into_iter().step_by(step).collect();
        }
        let jax = read_npy(&fixtures.join(format!("{case}.{fetch}.npy")))
            .expect("fixture")
            .to_f64_vec();
        assert_eq!(ours.len(), jax.len(), "{what}.{fetch}: sizes");
        let scale = jax.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (i, (a, b)) in ours.iter().zip(&jax).enumerate() {
            let tol = 1e-4 * b.abs().max(scale);
            assert!(
                (a - b).abs() <= tol,
                "{what}.{fetch}[{i}]: tdsl {a} vs JAX {b} (tolerance {tol})"
            );
        }
    }
}

#[test]
fn two_layer_fc_matches_jax() {
    let feeds = vec![
        Feed::Formula("x", &[64, 32, 32, 3], 1, 1.0),
        Feed::Formula("y", &[64, 10], 2, 1.0),
        Feed::Formula("w1", &[3072, 42], 3, 0.05),
        Feed::Formula("w2", &[42, 10], 4, 0.2),
    ];
    check("two_layer_fc", "two_layer_fc", feeds, &["d_w1", "d_w2"]);
}

#[test]
fn convnet_matches_jax() {
    // One-hot labels: the first maximum of each row of a formula tensor.
    let noise = formula(&[64, 10], 8, 1.0);
    let mut labels = vec![0f32; 640];
    for (row, chunk) in noise.chunks(10).enumerate() {
        let best = (0..10).fold(0, |b, k| if chunk[k] > chunk[b] { k } else { b });
        labels[row * 10 + best] = 1.0;
    }
    let feeds = vec![
        Feed::Formula("x", &[64, 32, 32, 3], 1, 1.0),
        Feed::Value("labels", f32_tensor(&[64, 10], labels)),
        Feed::Formula("conv_w1", &[5, 5, 3, 6], 2, 0.2),
        Feed::Formula("conv_b1", &[6], 3, 0.1),
        Feed::Formula("conv_w2", &[3, 3, 6, 9], 4, 0.2),
        Feed::Formula("conv_b2", &[9], 5, 0.1),
        Feed::Formula("fc_w", &[9216, 10], 6, 0.02),
        Feed::Formula("fc_b", &[10], 7, 0.1),
    ];
    let fetches = [
        "d_conv_w1",
        "d_conv_b1",
        "d_conv_w2",
        "d_conv_b2",
        "d_fc_w",
        "d_fc_b",
    ];
    check("convnet", "convnet", feeds, &fetches);
}

#[test]
fn cond_matches_jax_in_every_branch() {
    for scale in [1.0, 5.0] {
        for square in [true, false] {
            let pred = Tensor::scalar(tdsl::ir::DType::Bool, if square { 1.0 } else { 0.0 });
            let feeds = vec![
                Feed::Formula("x", &[4], 11, scale),
                Feed::Value("square", pred),
            ];
            let case = format!("cond_{}_{square}", scale as i64);
            check("cond", &case, feeds, &["d_x"]);
        }
    }
}

#[test]
fn rnn_matches_jax() {
    let feeds = vec![
        Feed::Formula("xs", &[16, 8, 4], 21, 1.0),
        Feed::Formula("h0", &[8, 32], 22, 0.5),
        Feed::Formula("target", &[8, 1], 23, 1.0),
        Feed::Formula("wx", &[4, 32], 24, 0.3),
        Feed::Formula("wh", &[32, 32], 25, 0.2),
        Feed::Formula("b", &[32], 26, 0.1),
        Feed::Formula("wo", &[32, 1], 27, 0.3),
    ];
    let fetches = ["d_wx", "d_wh", "d_b", "d_wo", "d_h0", "d_xs"];
    check("rnn", "rnn", feeds, &fetches);
}
