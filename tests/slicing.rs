//! Slicing `x[i, a:b:s]`, `take` and the mirror pad modes on both backends: the
//! JIT (which runs them through the shared evaluator) agrees with the
//! interpreter on values, gradients (f32, through the JIT's own fused kernels
//! around them), regions and run-time errors; a failing `take` leaves every
//! variable unchanged on the JIT (its in-place updates wait for such steps).

use std::path::Path;
use tdsl::backend::Backend;
use tdsl::ir::DType;
use tdsl::runtime::Session;
use tdsl::Tensor;

fn sessions(source: &str) -> (Session, Session) {
    let module = tdsl::compile(source, Path::new(".")).unwrap_or_else(|d| panic!("{d:?}"));
    let interp = Session::new(
        module.clone(),
        tdsl::engines::engine(Backend::Interp, Default::default()),
    );
    let jit = Session::new(
        module,
        tdsl::engines::engine(Backend::Jit, Default::default()),
    );
    (interp, jit)
}

/// Runs `fetches` on both backends; the values agree (movement ops copy, so
/// exactly; float arithmetic around them within 1e-5 of the tensor's scale).
fn agree(source: &str, fetches: &[&str]) -> Vec<Tensor> {
    let (mut interp, mut jit) = sessions(source);
    let a = interp
        .run(fetches)
        .unwrap_or_else(|d| panic!("interp: {}", d.message));
    let b = jit
        .run(fetches)
        .unwrap_or_else(|d| panic!("jit: {}", d.message));
    for ((name, x), y) in fetches.iter().zip(&a).zip(&b) {
        assert_eq!(x.ty(), y.ty(), "{name}");
        let (x, y) = (x.to_f64_vec(), y.to_f64_vec());
        let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, (p, q)) in x.iter().zip(&y).enumerate() {
            assert!(
                p == q || (p - q).abs() <= 1e-5 * scale,
                "{name}[{i}]: interp {p} vs jit {q}"
            );
        }
    }
    a
}

#[test]
fn every_dtype_and_empty_slices_agree() {
    let source = "
placeholder x: f32[4, 5, 3] = randn(seed=7);
placeholder n: i32[6] = [5, -2, 7, 0, 9, 1];
let a = x[1:, ::-2, 2];
let b = x[-1, 1:4:2];
let c = x[3:1];
let ints = n[::-1][1:5:3];
let flags = (n > 1)[::2];
let t = take(n, [[5, 0], [-1, 2]]);
let tb = take(x, [2, 2, 0], axis=-1);
let r = pad(n, [[5, 5]], mode=\"REFLECT\");
let s = pad(x > 0.0, [[4, 0], [0, 5], [3, 3]], mode=\"symmetric\");
let lit = [[1, 2, 3], [4, 5, 6]][:, 1:];
";
    let got = agree(
        source,
        &["a", "b", "c", "ints", "flags", "t", "tb", "r", "s", "lit"],
    );
    assert_eq!(got[0].ty().to_string(), "f32[3, 3]");
    assert_eq!(got[1].ty().to_string(), "f32[2, 3]");
    assert_eq!(got[2].ty().to_string(), "f32[0, 5, 3]");
    // n[::-1] = [1, 9, 0, 7, -2, 5]; [1:5:3] = [9, -2]
    assert_eq!(got[3].to_f64_vec(), vec![9.0, -2.0]);
    assert_eq!(got[4].ty().to_string(), "bool[3]");
    assert_eq!(got[5].to_f64_vec(), vec![1.0, 5.0, 1.0, 7.0]);
    assert_eq!(got[6].ty().to_string(), "f32[4, 5, 3]");
    // np.pad([5, -2, 7, 0, 9, 1], 5, mode="reflect")
    assert_eq!(
        got[7].to_f64_vec(),
        vec![1.0, 9.0, 0.0, 7.0, -2.0, 5.0, -2.0, 7.0, 0.0, 9.0, 1.0, 9.0, 0.0, 7.0, -2.0, 5.0]
    );
    assert_eq!(got[8].ty().to_string(), "bool[8, 10, 9]");
    assert_eq!(got[9].to_f64_vec(), vec![2.0, 3.0, 5.0, 6.0]);
}

#[test]
fn gradients_agree_in_f32() {
    let source = "
placeholder x: f32[6, 8] = randn(seed=3);
placeholder k: i32[] = 4;
variable w: f32[8, 4] = xavier(seed=4);
let h = tanh(pad(x, [[2, 1], [0, 3]], mode=\"SYMMETRIC\")[1:-1, ::-1] [:, 3:]) @ w;
let g = take(h, [[0, 5], [5, 1]]) * x[k, :4];
let m = pad(h, [[3, 1], [2, 3]], mode=\"REFLECT\")[::2, 1:];
let loss = sum(g * g) + sum(m * m) + sum(x[::2, -1]);
let dx = grad(loss, x);
let dw = grad(loss, w);
";
    let got = agree(source, &["loss", "dx", "dw"]);
    assert_eq!(got[1].ty().to_string(), "f32[6, 8]");
    assert!(got[1].to_f64_vec().iter().any(|v| *v != 0.0));
}

#[test]
fn slices_inside_fold_and_cond_agree() {
    let source = "
placeholder xs: f32[5, 6] = randn(seed=9);
placeholder p: bool[] = true;
let acc = fold(|a, x| a + take(x, [5, 0, 2]) * x[1:4] + x[::-2], zeros([3]), xs);
let c = cond(p, xs[1:3, ::3], pad(xs, [[1, 0], [0, 0]], mode=\"REFLECT\")[:2, 1:3]);
let d = grad(sum(acc * acc) + sum(c), xs);
";
    agree(source, &["acc", "c", "d"]);
}

#[test]
fn run_time_errors_agree_and_name_the_index() {
    let source = "
placeholder x: f32[3, 2] = [[1, 2], [3, 4], [5, 6]];
placeholder i: i32[2] = [0, 1];
placeholder k: i32[] = 0;
let y = take(x, i, axis=0);
let z = x[k, ::-1];
";
    let (mut interp, mut jit) = sessions(source);
    for s in [&mut interp, &mut jit] {
        let ty = tdsl::ir::TensorType::new(DType::I32, vec![2]);
        let bad = Tensor::from_f64_vec(&ty, vec![1.0, -4.0]).unwrap();
        s.feed("i", bad).unwrap();
        let e = s.run(&["y"]).unwrap_err();
        assert!(
            e.message.contains("index -4 at position [1]"),
            "{}",
            e.message
        );
        s.feed("k", Tensor::scalar(DType::I32, 3.0)).unwrap();
        let e = s.run(&["z"]).unwrap_err();
        assert!(e.message.contains("index 3"), "{}", e.message);
    }
}

#[test]
fn a_failing_take_leaves_every_variable_unchanged() {
    let source = "
placeholder i: i32[2] = [0, 1];
placeholder xs: f32[3, 16] = randn(seed=1);
variable w: f32[16] = randn(seed=2);
let rows = take(xs, i) * 2.0;
let train = group(assign(w, w * 0.5 + 1.0));
";
    for fetches in [["train", "rows"], ["rows", "train"]] {
        let (_, mut jit) = sessions(source);
        jit.run(&fetches).unwrap();
        let before = jit.variable("w").unwrap().to_f64_vec();
        let ty = tdsl::ir::TensorType::new(DType::I32, vec![2]);
        jit.feed("i", Tensor::from_f64_vec(&ty, vec![0.0, 3.0]).unwrap())
            .unwrap();
        let e = jit.run(&fetches).unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);
        assert_eq!(
            jit.variable("w").unwrap().to_f64_vec(),
            before,
            "{fetches:?}"
        );
    }
}
