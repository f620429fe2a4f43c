//! End-to-end tests of built-in ops, initialisers, state and `run` statements.

use super::{module, node, ty};
use crate::ir::op::Op;

#[test]
fn builtins_normalise_attributes() {
    let m = module(
        "placeholder x: f32[2, 3, 4]; placeholder img: f32[1, 7, 7, 3]; placeholder k: f32[3, 3, 3, 8];
         let s = sum(x, axis=[-1, 0], keepdims=true); let m0 = max(x, 1);
         let t = transpose(x); let t2 = transpose(x, [0, -1, 1]);
         let r = reshape(x, [-1, 4]); let f = flatten(x);
         let c = conv2d(img, k, strides=2, padding=\"SAME\");
         let c2 = conv2d(img, k, strides=[1, 2, 2, 1]);
         let mp = max_pool2d(img, [3, 2]); let mp2 = max_pool2d(img, 2, 1);
         let sm = softmax(x, axis=1); let am = argmax(x, -1);
         let cat = concat([x, x], axis=-1); let pd = pad(x, [[1, 0], [0, 0], [2, 2]], value=-1);
         let oh = one_hot([1, 0, 3], 4); let ix = x[-1]; let w = where(x > 0.0, x, 0.0);
         let mx = maximum(x, 1); let cs = cast(x, i32); let sg = stop_gradient(x);
         let mm = matmul(x, transpose(x, [0, 2, 1])); let z = zeros(3); let rn = randn([2], seed=4, std=0.5);",
    );
    let want = [
        ("s", "f32[1, 3, 1]"),
        ("m0", "f32[2, 4]"),
        ("t", "f32[4, 3, 2]"),
        ("t2", "f32[2, 4, 3]"),
        ("r", "f32[6, 4]"),
        ("f", "f32[2, 12]"),
        ("c", "f32[1, 4, 4, 8]"),
        ("c2", "f32[1, 3, 3, 8]"),
        ("mp", "f32[1, 2, 3, 3]"),
        ("mp2", "f32[1, 6, 6, 3]"),
        ("sm", "f32[2, 3, 4]"),
        ("am", "i32[2, 3]"),
        ("cat", "f32[2, 3, 8]"),
        ("pd", "f32[3, 3, 8]"),
        ("oh", "f32[3, 4]"),
        ("ix", "f32[3, 4]"),
        ("w", "f32[2, 3, 4]"),
        ("mx", "f32[2, 3, 4]"),
        ("cs", "i32[2, 3, 4]"),
        ("sg", "f32[2, 3, 4]"),
        ("mm", "f32[2, 3, 3]"),
        ("z", "f32[3]"),
        ("rn", "f32[2]"),
    ];
    for (name, t) in want {
        assert_eq!(ty(&m, name), t, "{name}");
    }
    assert!(
        matches!(&node(&m, "s").op, Op::Reduce { axes, keepdims: true, .. } if axes == &[0, 2])
    );
    assert!(matches!(
        &node(&m, "c").op,
        Op::Conv2d {
            strides: [2, 2],
            pads: [1, 1, 1, 1]
        }
    ));
    assert!(matches!(&node(&m, "sm").op, Op::Softmax { axis: 1 }));
    assert!(matches!(&node(&m, "am").op, Op::ArgMax { axis: 2 }));
    assert!(matches!(&node(&m, "cat").op, Op::Concat { axis: 2 }));
    assert!(matches!(&node(&m, "t2").op, Op::Transpose { perm } if perm == &[0, 2, 1]));
    assert!(matches!(&node(&m, "pd").op, Op::Pad { value, .. } if *value == -1.0));
}

#[test]
fn initialisers_broadcast_and_convert() {
    let m = module(
        "variable a: f32[2, 2] = 3; variable b: f64[2] = [1, 2]; variable c: i32[] = -7;
         variable d: f32[3] = fill(2.5); variable e: f32[2, 2] = uniform(-1, 1, seed=3);
         placeholder r1: f32[4] = randn(seed=9); placeholder r2: f32[4] = randn([4], seed=9);
         variable k: f32[3, 3, 2, 4] = xavier(seed=1); variable o: bool[2] = true;
         variable n: f32[2] = -1.5e0;",
    );
    let init = |n: &str| m.variable(n).expect("variable").init.to_f64_vec();
    assert_eq!(init("a"), [3.0; 4]);
    assert_eq!(
        m.variable("b").map(|v| v.init.ty().to_string()),
        Some("f64[2]".into())
    );
    assert_eq!(init("c"), [-7.0]);
    assert_eq!(init("d"), [2.5; 3]);
    assert!(init("e").iter().all(|v| (-1.0..1.0).contains(v)));
    let r1 = m.placeholder("r1").and_then(|p| p.default.clone());
    let r2 = m.placeholder("r2").and_then(|p| p.default.clone());
    assert_eq!(r1, r2);
    let limit = (6.0f64 / (18.0 + 36.0)).sqrt();
    assert!(init("k").iter().all(|v| v.abs() <= limit));
    assert_eq!(init("o"), [1.0, 1.0]);
    assert_eq!(init("n"), [-1.5, -1.5]);
}

#[test]
fn state_and_runs() {
    let m = module(
        "variable w: f32[3] = 0.0; variable v: f32[3] = 0.0;
         fn upd(var, d) { assign(var, var - 0.1 * d) }
         let a = upd(w, v); let b = assign(v, 1.0); let g = group(a, b);
         let a2 = assign(w, w * 2.0);
         run g; run a, b repeat 10 every 5; run a2;",
    );
    assert_eq!(ty(&m, "a"), "f32[3]");
    assert!(matches!(&node(&m, "a").op, Op::Assign { var } if var == "w"));
    assert!(matches!(node(&m, "g").op, Op::Group));
    assert_eq!(m.runs.len(), 3);
    assert_eq!((m.runs[1].steps, m.runs[1].every), (10, Some(5)));
    let fetched: Vec<&str> = m.runs[1].fetches.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(fetched, ["a", "b"]);
}

#[test]
fn array_literals_of_tensors_stack() {
    let m = module("placeholder a: f32[2]; let s = [a, a * 2.0, [1, 2]];");
    assert_eq!(ty(&m, "s"), "f32[3, 2]");
}

#[test]
fn empty_folds_and_dynamic_index() {
    let m = module(
        "placeholder xs: f32[0, 4]; placeholder i: i32[] = 1; placeholder a: f32[3];
         let s = fold(|acc, x| acc + x, zeros([4]), xs); let r = a[i];",
    );
    assert_eq!(ty(&m, "s"), "f32[4]");
    assert_eq!(ty(&m, "r"), "f32[]");
    assert!(matches!(node(&m, "r").op, Op::Index));
}

#[test]
fn empty_dimensions_never_overflow() {
    let m = module(
        "placeholder e: f32[0, 100000000000, 100000000000];
         let s = sum(e); let r = reshape(e, [-1]);",
    );
    assert_eq!(ty(&m, "s"), "f32[]");
    assert_eq!(ty(&m, "r"), "f32[0]");
    let d = super::build_src(
        "placeholder e: f32[0, 100000000000, 100000000000]; let s = sum(e, axis=0);",
    );
    assert!(d.is_err());
    let d =
        super::build_src("placeholder e: f32[0, 100000000000, 100000000000]; let f = flatten(e);");
    assert!(d.is_err());
}
