//! Random ops inside a `fold` body: each iteration draws fresh values, keyed
//! by (seed, step, loop word, element) with the loop word `t + 1` for
//! iteration `t` (`ir::philox::loop_word`); the same bits on both backends and
//! at any thread count, and unchanged values outside every `fold`.

use std::path::Path;
use std::process::Command;
use tdsl::backend::Backend;
use tdsl::ir::philox::{loop_word, Stream};
use tdsl::runtime::Session;
use tdsl::Tensor;

fn session(source: &str, backend: Backend) -> Session {
    let module = match tdsl::compile_with(source, Path::new("."), &tdsl::Options::default()) {
        Ok(c) => c.module,
        Err(d) => panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()),
    };
    let options = match backend {
        Backend::Jit => tdsl::backend::jit::Options::checked(),
        Backend::Interp => Default::default(),
    };
    Session::new(module, tdsl::engines::engine(backend, options))
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

/// Each fold stacks one draw per iteration as a row (`acc` shifts up a row).
const LOOPS: &str = "
placeholder xs: f32[4, 6] = ones();
placeholder r: f32[] = fill(0.5);
let n = fold(|acc, x| concat([acc[1:4], reshape(random_normal([6], seed=5), [1, 6])], 0), zeros([4, 6]), xs);
let u = fold(|acc, x| concat([acc[1:4], reshape(random_uniform([6], seed=6), [1, 6])], 0), zeros([4, 6]), xs);
let d = fold(|acc, x| concat([acc[1:4], reshape(dropout(x, r, seed=7), [1, 6])], 0), zeros([4, 6]), xs);
let c = fold(|acc, x| concat([acc[1:4], reshape(cond(r > 0.0, random_normal([6], seed=5), x), [1, 6])], 0), zeros([4, 6]), xs);
let top = random_normal([6], seed=5);
let nested = fold(|acc, x| acc + fold(|a, y| a * 10.0 + random_uniform([6], seed=9), zeros([6]), xs[0:2]), zeros([6]), xs);
";

fn rows(t: &Tensor) -> Vec<Vec<u64>> {
    bits(t).chunks(6).map(<[u64]>::to_vec).collect()
}

#[test]
fn each_iteration_draws_the_documented_values_on_both_backends() {
    let fetches = ["n", "u", "d", "c", "top"];
    let mut interp = session(LOOPS, Backend::Interp);
    let mut jit = session(LOOPS, Backend::Jit);
    for step in 0..2u32 {
        let e = interp.run(&fetches).unwrap();
        let a = jit.run(&fetches).unwrap();
        for ((name, e), a) in fetches.iter().zip(&e).zip(&a) {
            assert_eq!(
                bits(e),
                bits(a),
                "step {step}: `{name}` differs between backends"
            );
        }
        // Iteration t reads loop word t + 1; outside a fold the word is 0.
        let want = |seed: u64, word: u32, normal: bool| -> Vec<u64> {
            let s = Stream::in_loop(seed, step, word);
            let v: Vec<f64> = if normal {
                s.normals(6).collect()
            } else {
                s.uniforms(6).collect()
            };
            v.iter().map(|&v| f64::from(v as f32).to_bits()).collect()
        };
        let (n, u, d, c) = (rows(&e[0]), rows(&e[1]), rows(&e[2]), rows(&e[3]));
        for t in 0..4 {
            assert_eq!(loop_word(0, 4, t), t as u32 + 1);
            assert_eq!(
                n[t],
                want(5, t as u32 + 1, true),
                "random_normal, iteration {t}"
            );
            assert_eq!(
                u[t],
                want(6, t as u32 + 1, false),
                "random_uniform, iteration {t}"
            );
            assert_eq!(c[t], n[t], "a cond branch keeps the iteration's word");
            let kept: Vec<u64> = want(7, t as u32 + 1, false)
                .iter()
                .map(|&w| {
                    if f64::from_bits(w) >= 0.5 {
                        2.0f64.to_bits()
                    } else {
                        0
                    }
                })
                .collect();
            assert_eq!(d[t], kept, "dropout, iteration {t}");
            for s in 0..t {
                assert_ne!(n[s], n[t], "iterations {s} and {t} drew the same normals");
                assert_ne!(d[s], d[t], "iterations {s} and {t} drew the same mask");
            }
        }
        assert_eq!(bits(&e[4]), want(5, 0, true), "outside a fold: unchanged");
    }
}

#[test]
fn nested_folds_draw_fresh_values_per_outer_iteration() {
    let mut interp = session(LOOPS, Backend::Interp);
    let mut jit = session(LOOPS, Backend::Jit);
    let e = interp.run(&["nested"]).unwrap();
    assert_eq!(bits(&e[0]), bits(&jit.run(&["nested"]).unwrap()[0]));
    // The sum over 4 outer iterations of 10 u1 + u2, with the inner words
    // w = (t + 1) * 3 + s + 1.
    let mut want = [0.0f32; 6];
    for t in 0..4 {
        let mut a = [0.0f32; 6];
        for s in 0..2 {
            let word = loop_word(loop_word(0, 4, t), 2, s);
            let u: Vec<f64> = Stream::in_loop(9, 0, word).uniforms(6).collect();
            for (a, u) in a.iter_mut().zip(u) {
                *a = *a * 10.0 + u as f32;
            }
        }
        for (w, a) in want.iter_mut().zip(a) {
            *w += a;
        }
    }
    let got = e[0].to_f64_vec();
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - f64::from(w)).abs() <= 1e-5 * f64::from(w).abs(),
            "{g} vs {w}"
        );
    }
}

/// The CLI on both backends and thread counts prints the same values.
#[test]
fn every_backend_and_thread_count_prints_the_same() {
    let dir = std::env::temp_dir().join(format!("tdsl-random-fold-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let program = format!("{LOOPS}\nlet big = fold(|acc, x| acc + dropout(ones([3000]), 0.5), zeros([3000]), xs);\nlet total = sum(big);\nrun total, n, d, nested repeat 2;\n");
    std::fs::write(dir.join("p.td"), program).unwrap();
    let mut outputs = Vec::new();
    for backend in ["interp", "jit"] {
        for threads in ["1", "2"] {
            let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
                .args(["run", "p.td", "--backend", backend, "--threads", threads])
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            outputs.push(String::from_utf8(out.stdout).unwrap());
        }
    }
    assert!(outputs[0].contains("total"), "{}", outputs[0]);
    for o in &outputs[1..] {
        assert_eq!(o, &outputs[0]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
