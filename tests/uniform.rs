//! Programs whose outputs are equal in every element by symmetry print equal
//! elements, bitwise, on both backends: every element of a reduction is
//! computed by the same operations, wherever it falls relative to the JIT's
//! vector width.

use std::path::Path;
use tdsl::backend::Backend;
use tdsl::runtime::Session;
use tdsl::Tensor;

fn session(source: &str, backend: Backend) -> Session {
    let module = match tdsl::compile(source, Path::new(".")) {
        Ok(m) => m,
        Err(d) => panic!("{:?}", d.first().map(|d| &d.message)),
    };
    let checked = tdsl::backend::jit::Options::checked();
    Session::new(module, tdsl::engines::engine(backend, checked))
}

fn run(s: &mut Session, fetches: &[&str]) -> Vec<Tensor> {
    s.run(fetches).unwrap_or_else(|e| panic!("{}", e.message))
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

#[track_caller]
fn assert_all_equal(what: &str, t: &Tensor) {
    let b = bits(t);
    assert!(
        b.iter().all(|&x| x == b[0]),
        "{what}: elements differ: {:?}",
        t.to_f64_vec()
    );
}

/// `op(w, axis=0)` of a constant `[10, 5]` minus its last element, scaled.
fn column_difference(op: &str) -> String {
    format!(
        "variable w: f32[10, 5] = 1.1;\n\
         let s = {op}(w, axis=0);\n\
         let d = (s - s[4]) * 1000000.0;\n"
    )
}

#[test]
fn a_column_sum_of_equal_columns_has_equal_elements() {
    for op in ["sum", "mean"] {
        for backend in [Backend::Jit, Backend::Interp] {
            let mut s = session(&column_difference(op), backend);
            let out = run(&mut s, &["s", "d"]);
            assert_all_equal(&format!("{op} {backend:?} s"), &out[0]);
            assert!(
                out[1].to_f64_vec().iter().all(|&x| x == 0.0),
                "{op} {backend:?}: d = {:?}",
                out[1].to_f64_vec()
            );
        }
    }
}

#[test]
fn adam_keeps_a_symmetric_softmax_symmetric() {
    // The exact gradient is zero: every element of `p` stays 0.2.
    let source = "variable w: f32[10, 5] = 1.0;\n\
                  let p = softmax(sum(w, axis=0));\n\
                  let loss = sum(tanh(p) * p);\n\
                  let train = minimize(loss, adam(0.1, beta1=0.5, beta2=0.9, eps=1e-6));\n";
    for backend in [Backend::Jit, Backend::Interp] {
        let mut s = session(source, backend);
        for _ in 0..3 {
            run(&mut s, &["train"]);
        }
        let p = run(&mut s, &["p"]);
        assert_all_equal(&format!("{backend:?} p"), &p[0]);
        let p0 = p[0].to_f64_vec()[0];
        assert!((p0 - 0.2).abs() < 1e-6, "{backend:?}: p = {p0}");
        let w = s.variable("w").expect("w is a variable");
        assert_all_equal(&format!("{backend:?} w"), w);
    }
}
