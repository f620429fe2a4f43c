//! `step()` and the per-step random ops (`random_normal`, `random_uniform`,
//! `dropout`): the same bits on both backends and at any thread count, fresh
//! values every step, the same values in every run of a program, the right
//! distributions, and dropout's gradient.

use std::path::{Path, PathBuf};
use std::process::Command;
use tdsl::backend::Backend;
use tdsl::runtime::Session;
use tdsl::Tensor;

fn module(source: &str) -> tdsl::ir::Module {
    // Optimised, as the command line runs it.
    match tdsl::compile_with(source, Path::new("."), &tdsl::Options::default()) {
        Ok(c) => c.module,
        Err(d) => panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()),
    }
}

fn session(source: &str, backend: Backend) -> Session {
    let options = match backend {
        Backend::Jit => tdsl::backend::jit::Options::checked(),
        Backend::Interp => Default::default(),
    };
    Session::new(module(source), tdsl::engines::engine(backend, options))
}

/// Every element's bits (f32 values are exact in f64).
fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_f64_vec()
}

const DRAWS: &str = "
placeholder x: f32[3, 700] = ones();
placeholder r: f32[] = fill(0.3);
placeholder x64: f64[500] = randn(seed=9);
let n = random_normal([1001], seed=1, std=2);
let u = random_uniform([3, 333], -1, 3, seed=2);
let d = dropout(x, r, seed=3);
let n64 = random_normal([7, 9], seed=1, dtype=f64);
let d64 = dropout(x64, 0.5);
let s = step();
";
const FETCHES: [&str; 6] = ["n", "u", "d", "n64", "d64", "s"];

#[test]
fn both_backends_draw_the_same_bits_every_step() {
    let mut interp = session(DRAWS, Backend::Interp);
    let mut jit = session(DRAWS, Backend::Jit);
    for step in 0..3 {
        let e = interp.run(&FETCHES).unwrap();
        let a = jit.run(&FETCHES).unwrap();
        for ((name, e), a) in FETCHES.iter().zip(&e).zip(&a) {
            assert_eq!(e.ty(), a.ty(), "{name}");
            assert_eq!(bits(e), bits(a), "step {step}: `{name}` differs");
        }
        assert_eq!(values(&e[5]), vec![f64::from(step)]);
    }
}

#[test]
fn values_change_between_steps_but_not_between_runs() {
    let mut first = session(DRAWS, Backend::Jit);
    let mut second = session(DRAWS, Backend::Interp);
    let a0 = first.run(&FETCHES).unwrap();
    let a1 = first.run(&FETCHES).unwrap();
    let b0 = second.run(&FETCHES).unwrap();
    for k in 0..5 {
        assert_ne!(bits(&a0[k]), bits(&a1[k]), "`{}` repeats", FETCHES[k]);
        assert_eq!(bits(&a0[k]), bits(&b0[k]), "`{}` differs", FETCHES[k]);
    }
    // Resuming at step 1 reproduces step 1.
    let mut resumed = session(DRAWS, Backend::Jit);
    resumed.set_step(1).unwrap();
    let r1 = resumed.run(&FETCHES).unwrap();
    for k in 0..6 {
        assert_eq!(
            bits(&a1[k]),
            bits(&r1[k]),
            "`{}` after set_step",
            FETCHES[k]
        );
    }
}

#[test]
fn step_counts_every_step_of_the_session() {
    let mut s = session("let t = step(); let u = t * 2;", Backend::Jit);
    assert_eq!(s.step(), 0);
    for expected in 0..3 {
        let out = s.run(&["t", "u"]).unwrap();
        assert_eq!(values(&out[0]), vec![f64::from(expected)]);
        assert_eq!(values(&out[1]), vec![f64::from(2 * expected)]);
    }
    assert_eq!(s.step(), 3);
    s.set_step(40).unwrap();
    assert_eq!(values(&s.run(&["u"]).unwrap()[0]), vec![80.0]);
    assert!(s.set_step(-1).is_err());
}

#[test]
fn step_is_never_folded_into_a_constant() {
    let mut s = session(
        "let t = cast(step(), f32) * 0.5 + 1.0; run t;",
        Backend::Interp,
    );
    let v: Vec<f64> = (0..3)
        .map(|_| values(&s.run(&["t"]).unwrap()[0])[0])
        .collect();
    assert_eq!(v, vec![1.0, 1.5, 2.0]);
}

#[test]
fn a_large_draw_has_the_right_moments() {
    let source = "
let n = random_normal([200000], seed=11, std=2);
let u = random_uniform([200000], 2, 5, seed=12);
";
    let mut s = session(source, Backend::Jit);
    let out = s.run(&["n", "u"]).unwrap();
    let n = values(&out[0]);
    let mean = n.iter().sum::<f64>() / n.len() as f64;
    let std = (n.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n.len() as f64).sqrt();
    assert!(mean.abs() < 0.02, "normal mean {mean}");
    assert!((std - 2.0).abs() < 0.02, "normal std {std}");
    let u = values(&out[1]);
    let mean = u.iter().sum::<f64>() / u.len() as f64;
    assert!((mean - 3.5).abs() < 0.01, "uniform mean {mean}");
    assert!(
        u.iter().all(|&v| (2.0..5.0).contains(&v)),
        "uniform out of [2, 5)"
    );
    let below_3 = u.iter().filter(|&&v| v < 3.0).count() as f64 / u.len() as f64;
    assert!((below_3 - 1.0 / 3.0).abs() < 0.01, "P(u < 3) = {below_3}");
}

#[test]
fn dropout_keeps_one_minus_rate_and_scales_the_kept_values() {
    let source = "
placeholder x: f32[100000] = ones();
placeholder r: f32[] = fill(0.25);
let d = dropout(x, r, seed=5);
let same = dropout(x, 0.0);
";
    let mut s = session(source, Backend::Jit);
    let out = s.run(&["d", "same"]).unwrap();
    let d = values(&out[0]);
    let kept = d.iter().filter(|&&v| v != 0.0).count() as f64 / d.len() as f64;
    assert!((kept - 0.75).abs() < 0.01, "kept fraction {kept}");
    let scale = f64::from(1.0f32 / 0.75f32);
    assert!(
        d.iter().all(|&v| v == 0.0 || v == scale),
        "kept values are x / (1 - rate)"
    );
    assert_eq!(values(&out[1]), vec![1.0; 100000], "rate 0 is the identity");
}

#[test]
fn unseeded_calls_differ_and_equal_seeds_agree() {
    let source = "
fn noise() { random_normal([8]) }
let a = random_normal([8]);
let b = random_normal([8]);
let c = noise();
let e = noise();
let s1 = random_uniform([8], seed=4);
let s2 = random_uniform([8], seed=4);
";
    let mut s = session(source, Backend::Interp);
    let out = s.run(&["a", "b", "c", "e", "s1", "s2"]).unwrap();
    for i in 0..4 {
        for j in i + 1..4 {
            assert_ne!(
                bits(&out[i]),
                bits(&out[j]),
                "unseeded calls {i} and {j} agree"
            );
        }
    }
    assert_eq!(bits(&out[4]), bits(&out[5]));
}

#[test]
fn a_rate_outside_0_1_is_a_run_error_on_both_backends() {
    let source = "
placeholder x: f32[4] = ones();
placeholder r: f32[] = fill(1.0);
let d = dropout(x, r);
";
    for backend in [Backend::Interp, Backend::Jit] {
        let mut s = session(source, backend);
        let err = s.run(&["d"]).unwrap_err();
        assert!(
            err.message
                .contains("the rate must be in [0, 1), but it is 1"),
            "{backend:?}: {}",
            err.message
        );
        assert!(err.span.is_some(), "the error points at the call");
        assert_eq!(s.step(), 0, "a failed step is not counted");
    }
}

/// d loss / d x through dropout, against central differences in f64, every
/// evaluation at step 7 (the mask is fixed by the step).
#[test]
fn dropout_gradient_matches_finite_differences() {
    let source = "
variable x: f64[24] = randn(seed=3);
placeholder w: f64[24] = randn(seed=4);
let loss = sum(sin(dropout(x * x, 0.4, seed=8)) * w);
let g = grad(loss, x);
";
    let mut s = session(source, Backend::Interp);
    s.set_step(7).unwrap();
    let out = s.run(&["g", "loss"]).unwrap();
    let g = values(&out[0]);
    assert!(g.contains(&0.0), "some elements are dropped");
    assert!(g.iter().any(|&v| v != 0.0), "some elements are kept");
    let x0 = values(s.variable("x").unwrap());
    let h = 1e-6;
    for i in 0..x0.len() {
        let mut at = |delta: f64| {
            let mut x = x0.clone();
            x[i] += delta;
            let t = Tensor::F64(ndarray::ArrayD::from_shape_vec(vec![24], x).unwrap());
            s.feed("x", t).unwrap();
            s.set_step(7).unwrap();
            values(&s.run(&["loss"]).unwrap()[0])[0]
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!(
            (fd - g[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
            "x[{i}]: fd {fd} vs grad {}",
            g[i]
        );
    }
    // The JIT computes the same gradient.
    let mut jit = session(source, Backend::Jit);
    jit.set_step(7).unwrap();
    assert_eq!(bits(&jit.run(&["g"]).unwrap()[0]), bits(&out[0]));
}

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-random-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `tdsl run` with `--out` on each backend and thread count: the files agree
/// byte for byte.
#[test]
fn the_cli_writes_the_same_bytes_on_every_backend_and_thread_count() {
    let dir = temp_dir("cli");
    let program = format!("{DRAWS}\nlet t = step();\nrun n, u, d, n64, d64, t repeat 3;\n");
    std::fs::write(dir.join("p.td"), program).unwrap();
    let mut outputs: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for backend in ["interp", "jit"] {
        for threads in ["1", "2"] {
            let out = format!("out-{backend}-{threads}");
            let status = Command::new(env!("CARGO_BIN_EXE_tdsl"))
                .args([
                    "run",
                    "p.td",
                    "--backend",
                    backend,
                    "--threads",
                    threads,
                    "--out",
                    &out,
                ])
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(
                status.status.success(),
                "{}",
                String::from_utf8_lossy(&status.stderr)
            );
            let files: Vec<Vec<u8>> = ["n", "u", "d", "n64", "d64", "t"]
                .iter()
                .map(|f| std::fs::read(dir.join(&out).join(format!("{f}.npy"))).unwrap())
                .collect();
            outputs.push((format!("{backend} --threads {threads}"), files));
        }
    }
    let (first, reference) = &outputs[0];
    for (name, files) in &outputs[1..] {
        assert_eq!(files, reference, "{name} differs from {first}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
