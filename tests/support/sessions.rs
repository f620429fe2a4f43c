//! Comparing two sessions of one program, the interpreter's and the JIT's.

use tdsl::runtime::Session;
use tdsl::Tensor;

/// `a` and `b` of one type, each value within 1e-5 of the largest magnitude.
#[track_caller]
pub fn assert_close(what: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(a.ty(), b.ty(), "{what}");
    let (a, b) = (a.to_f64_vec(), b.to_f64_vec());
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * scale.max(1e-30),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

/// Runs `fetches` on both sessions for `steps` steps: fetched values and
/// variables agree ([`assert_close`]) after every step. With `reset`, the
/// JIT's variables are set to the interpreter's after each step, so errors
/// do not compound.
pub fn same_steps(
    interp: &mut Session,
    jit: &mut Session,
    fetches: &[&str],
    steps: usize,
    reset: bool,
) {
    for step in 0..steps {
        let a = interp.run(fetches).unwrap_or_else(|d| panic!("{d:?}"));
        let b = jit.run(fetches).unwrap_or_else(|d| panic!("{d:?}"));
        for ((name, x), y) in fetches.iter().zip(&a).zip(&b) {
            assert_close(&format!("step {step}: fetch {name}"), x, y);
        }
        let vars: Vec<(String, Tensor)> = interp
            .variables()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect();
        for (name, t) in vars {
            let got = jit.variable(&name).expect("variable kept");
            assert_close(&format!("step {step}: variable {name}"), &t, got);
            if reset {
                jit.update_variables(|n, v| {
                    if n == name {
                        *v = t.clone();
                    }
                });
            }
        }
    }
}
