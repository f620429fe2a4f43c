//! Slices the JIT reads in place as strided views (`backend/jit/views.rs`),
//! in whole programs: elementwise values over shifted, stepped, reversed and
//! subscripted slices, inside a `fold` (a slice of the carried value) and
//! under training updates, bitwise the interpreter's on 1 and 2 threads with
//! and without `check_bounds`, over three steps.

use std::path::Path;
use tdsl::backend::{jit, Backend};
use tdsl::runtime::Session;
use tdsl::Tensor;

fn session(source: &str, backend: Backend, options: jit::Options) -> Session {
    let module = tdsl::compile(source, Path::new(".")).unwrap_or_else(|d| panic!("{d:?}"));
    Session::new(module, tdsl::engines::engine(backend, options))
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

/// Three steps of `fetches` on the interpreter and on the JIT (1 and 2
/// threads, checks on and off): every value bitwise equal.
fn bitwise(source: &str, fetches: &[&str]) {
    let mut interp = session(source, Backend::Interp, jit::Options::default());
    let want: Vec<Vec<Tensor>> = (0..3)
        .map(|_| {
            interp
                .run(fetches)
                .unwrap_or_else(|d| panic!("{}", d.message))
        })
        .collect();
    for threads in [1, 2] {
        for check_bounds in [true, false] {
            let options = jit::Options {
                threads,
                check_bounds,
                ..jit::Options::default()
            };
            let mut jit = session(source, Backend::Jit, options);
            for (step, want) in want.iter().enumerate() {
                let got = jit.run(fetches).unwrap_or_else(|d| panic!("{}", d.message));
                for ((name, x), y) in fetches.iter().zip(want).zip(&got) {
                    assert_eq!(x.ty(), y.ty(), "{name}");
                    assert_eq!(bits(x), bits(y), "{name}, step {step}, {threads} threads");
                }
            }
        }
    }
}

#[test]
fn elementwise_values_over_slices_are_bitwise() {
    let source = "
placeholder x: f32[67, 301] = randn(seed=3);
placeholder v: f64[9, 10] = randn(seed=4);
let d = x[:, 1:] - x[:, :-1];
let r = relu(x[::-1, ::-3]) * 2.0 + x[:, ::3];
let row = x[5] * x[:, -1:];
let e = v[::-2, 1:] / (v[::2, ::-1][:, 1:] + 3.0);
";
    bitwise(source, &["d", "r", "row", "e"]);
}

#[test]
fn slices_of_a_fold_carry_and_of_variables_under_updates_are_bitwise() {
    let source = "
placeholder xs: f32[7, 12] = randn(seed=5);
variable w: f32[12] = randn(seed=6);
let acc = fold(|a, x| a[::-1] * 0.5 + x[2:8] - x[::-2], zeros([6]), xs);
let w_new = w[::-1] * 0.5 + w;
let shifted = w[1:] - w[:-1];
let train = assign(w, w_new);
";
    bitwise(source, &["acc", "shifted", "train"]);
}

#[test]
fn kernels_with_several_outputs_do_not_overwrite_a_variable_read_as_a_view() {
    // `v'` and `w'` share one kernel (same shape, same leaves); `w` is read
    // reversed, so `w'` may not be written over `w`'s buffer.
    let source = "
variable w: f32[4099] = randn(seed=7);
variable v: f32[4099] = randn(seed=8);
let v_new = v * 0.9 + w[::-1];
let w_new = w - (v * 0.9 + w[::-1]) * 0.1;
let train = group(assign(v, v_new), assign(w, w_new));
";
    let mut interp = session(source, Backend::Interp, jit::Options::default());
    let mut jit = session(source, Backend::Jit, jit::Options::default());
    for s in [&mut interp, &mut jit] {
        for _ in 0..3 {
            s.run(&["train"])
                .unwrap_or_else(|d| panic!("{}", d.message));
        }
    }
    let want = interp
        .run(&["w", "v"])
        .unwrap_or_else(|d| panic!("{}", d.message));
    let got = jit
        .run(&["w", "v"])
        .unwrap_or_else(|d| panic!("{}", d.message));
    for (name, (x, y)) in ["w", "v"].iter().zip(want.iter().zip(&got)) {
        assert_eq!(bits(x), bits(y), "{name}");
    }
}
