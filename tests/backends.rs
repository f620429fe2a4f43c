//! Every program in `programs/` runs on both backends, step by step, and the
//! fetched values and updated variables agree; plus one run of the CLI with
//! `--backend jit` and `--backend interp` comparing `--out` files.
//!
//! "Agree" is norm-wise: `|x - y| <= 1e-5 * max(|x|, |y|, max |tensor|)`, 1e-5
//! relative to the element or to the largest magnitude in its tensor. The two
//! backends use different blocked GEMMs (`gemm` vs `matrixmultiply`) which sum in
//! different orders, so an element that comes from cancellation (a small score
//! among large ones) can differ by more than 1e-5 of its own size. After each step the JIT session's variables are
//! reset to the interpreter's, so rounding differences do not compound over a
//! training run: every step is compared from the same state. The JIT compiles
//! with `check_bounds`.

mod support;

use std::path::Path;
use tdsl::backend::Backend;
use tdsl::engines::engine;
use tdsl::runtime::Session;
use tdsl::Tensor;

fn programs() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("programs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "td"))
        .collect();
    files.sort();
    files
}

#[track_caller]
fn assert_close(what: &str, e: &Tensor, a: &Tensor) {
    assert_eq!(e.ty(), a.ty(), "{what}: types differ");
    let float = e.dtype().is_float();
    let scale = e
        .to_f64_vec()
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in e.to_f64_vec().into_iter().zip(a.to_f64_vec()).enumerate() {
        let ok = if float {
            (x.is_nan() && y.is_nan())
                || x == y
                || (x - y).abs() <= 1e-5 * x.abs().max(y.abs()).max(scale)
        } else {
            x == y
        };
        assert!(ok, "{what}: element {i}: interp {x} vs jit {y}");
    }
}

#[test]
fn every_program_agrees_on_both_backends() {
    let files = programs();
    assert!(files.len() >= 5, "programs/ has the example programs");
    for path in files {
        let name = path.display().to_string();
        let source = std::fs::read_to_string(&path).expect("readable");
        let base = path.parent().expect("in a folder");
        let module = match tdsl::compile(&source, base) {
            Ok(m) => m,
            Err(d) => panic!("{name}: {:?}", d.first().map(|d| &d.message)),
        };
        let runs = module.runs.clone();
        let mut interp = Session::new(module.clone(), engine(Backend::Interp, Default::default()));
        let checked = tdsl::backend::jit::Options::checked();
        let mut jit = Session::new(module, engine(Backend::Jit, checked));
        for run in runs {
            let fetches: Vec<&str> = run.fetches.iter().map(|(n, _)| n.as_str()).collect();
            for step in 0..run.steps {
                let e = interp.run(&fetches);
                let a = jit.run(&fetches);
                match (e, a) {
                    (Ok(e), Ok(a)) => {
                        for ((f, e), a) in fetches.iter().zip(&e).zip(&a) {
                            assert_close(&format!("{name} step {step} `{f}`"), e, a);
                        }
                    }
                    (Err(e), Err(a)) => assert_eq!(e.message, a.message, "{name}"),
                    (e, a) => panic!("{name}: interp {:?} vs jit {:?}", e.err(), a.err()),
                }
                let state: Vec<(String, Tensor)> = interp
                    .variables()
                    .map(|(v, t)| (v.to_string(), t.clone()))
                    .collect();
                for (v, e) in state {
                    let a = jit.variable(&v).expect("same variables");
                    assert_close(&format!("{name} step {step} variable `{v}`"), &e, a);
                    jit.feed(&v, e).expect("a variable of the same type");
                }
            }
        }
    }
}

#[test]
fn the_cli_writes_the_same_outputs_on_both_backends() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("tdsl-backends-{}", std::process::id()));
    let program = root.join("programs/two_layer_fc.td");
    let mut outputs = Vec::new();
    for backend in ["interp", "jit"] {
        let dir = tmp.join(backend);
        let _ = std::fs::remove_dir_all(&dir);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tdsl"))
            .arg("run")
            .arg(&program)
            .args(["--backend", backend, "--out"])
            .arg(&dir)
            .output()
            .expect("the tdsl binary runs");
        assert!(
            out.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("--out folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        let tensors: Vec<(String, Tensor)> = files
            .iter()
            .map(|f| {
                let t = tdsl::ir::npy::read_npy(f).expect("a valid npy file");
                (
                    f.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                    t,
                )
            })
            .collect();
        outputs.push(tensors);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(!outputs[0].is_empty());
    assert_eq!(outputs[0].len(), outputs[1].len());
    for ((fe, e), (fa, a)) in outputs[0].iter().zip(&outputs[1]) {
        assert_eq!(fe, fa);
        assert_close(fe, e, a);
    }
}

/// A fuzzer find (`tests/fixtures/jit/deferred_reader.td`): the JIT runs every
/// training step, with and without `loss` fetched, and prints what the
/// interpreter prints (losses after each step, then the variables).
#[test]
fn a_deferred_reader_used_up_by_another_runs_on_the_jit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let program = root.join("tests/fixtures/jit/deferred_reader.td");
    let (want, got) = (run_cli(&program, "interp"), run_cli(&program, "jit"));
    assert_eq!(want.lines().count(), 10, "{want}");
    if let Err(why) = support::text_matches(&want, &got) {
        panic!("jit differs from interp:\n{why}");
    }
}

/// The long fuzz run's disagreements (`tests/fixtures/fuzz/training_drift_*.td`,
/// generated training programs): each backend's rounding is within tolerance
/// per op, and training steps compound it (with Adam's default `eps`, a
/// gradient that is zero but for rounding takes full-size steps, so the
/// programs use the fuzzer's `eps=0.01`). After the steps, the printed numbers
/// agree within the training tolerance.
#[test]
fn training_programs_agree_within_the_training_tolerance() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/fuzz")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "td"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the fuzzer's finds are there");
    for program in files {
        let (want, got) = (run_cli(&program, "interp"), run_cli(&program, "jit"));
        assert!(!want.trim().is_empty());
        if let Err(why) = support::text_matches_within(&want, &got, support::TRAINING) {
            panic!("{}: jit differs from interp:\n{why}", program.display());
        }
    }
}

/// `tdsl run PROGRAM --backend BACKEND`, which must succeed; its stdout.
fn run_cli(program: &Path, backend: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .arg("run")
        .arg(program)
        .args(["--backend", backend])
        .output()
        .expect("the tdsl binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{backend}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
