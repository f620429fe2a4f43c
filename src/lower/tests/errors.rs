//! Build errors: each program gives the expected diagnostics, with the message
//! naming dtypes and shapes, and the caret on the right source text.

use super::build_src;
use crate::diag::{Diag, DiagKind};

fn diags(src: &str) -> Vec<Diag> {
    match build_src(src) {
        Ok(_) => panic!("expected an error for:\n{}", &src[..src.len().min(200)]),
        Err(d) => d,
    }
}

fn text(src: &str, d: &Diag) -> String {
    d.span
        .map(|s| src[s.range()].to_string())
        .unwrap_or_default()
}

/// The one diagnostic of `src`: its message and the text under its caret.
fn error(src: &str) -> (String, String) {
    let d = diags(src);
    assert_eq!(d.len(), 1, "expected one diagnostic, got {d:#?}");
    (d[0].message.clone(), text(src, &d[0]))
}

fn check(src: &str, message: &str, at: &str) {
    let (m, t) = error(src);
    assert_eq!(m, message, "message for:\n{src}");
    assert_eq!(t, at, "span for:\n{src}");
}

const AB: &str = "placeholder a: f32[64, 10]; placeholder b: f32[3, 10];";

#[test]
fn broadcast_and_matmul_name_both_shapes() {
    let src = format!("{AB} let c = a + b;");
    check(
        &src,
        "+: cannot broadcast f32[64, 10] and f32[3, 10]",
        "a + b",
    );
    let d = diags(&src);
    let labels: Vec<&str> = d[0].labels.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(labels, ["this is f32[64, 10]", "this is f32[3, 10]"]);
    check(
        "placeholder a: f32[64, 3072]; placeholder b: f32[3027, 42]; let c = a @ b;",
        "matmul: inner dimensions differ: f32[64, 3072] @ f32[3027, 42]",
        "a @ b",
    );
    check(
        "placeholder a: f32[3]; let c = a @ a;",
        "matmul: operands must have rank 2 or more (batched), got f32[3] @ f32[3]; use reshape for vectors",
        "a @ a",
    );
}

#[test]
fn dtype_errors() {
    let (m, t) = error("placeholder a: f32[3]; placeholder b: f64[3]; let c = a + b;");
    assert!(
        m.starts_with("+: dtypes differ: f32[3] and f64[3]") && m.contains("cast"),
        "{m}"
    );
    assert_eq!(t, "a + b");
    check(
        "placeholder n: i32[3]; let e = exp(n);",
        "exp: expects a float tensor (f32 or f64), got i32[3]; use cast(x, f32)",
        "exp(n)",
    );
    check(
        "placeholder a: f32[]; let b = a && true;",
        "&&: expects bool operands, got f32[] and a bool literal",
        "a && true",
    );
    let (m, t) = error("placeholder n: i32[3]; let e = n * 0.5;");
    assert!(m.contains("a float literal cannot be used as i32"), "{m}");
    assert_eq!(t, "0.5");
    check(
        "placeholder b: bool[2]; let c = !b + 1;",
        "+: expects numeric operands, got bool[2] and an integer literal",
        "!b + 1",
    );
    check(
        "placeholder n: i32[2]; let c = n + 3000000000;",
        "+: the integer literal 3000000000 does not fit in i32 (the other operand is i32[2])",
        "3000000000",
    );
}

#[test]
fn name_errors() {
    let src = "variable w1: f32[3, 3] = 0.0; let a = w2 * 2.0;";
    check(src, "unknown name `w2`", "w2");
    assert_eq!(diags(src)[0].notes, ["did you mean `w1`?"]);
    let src = "let a = 1.0; let a = 2.0;";
    check(src, "`a` is defined more than once", "a");
    let d = diags(src);
    assert_eq!(d[0].span.map(|s| s.start), Some(17));
    assert_eq!(d[0].labels[0].span.start, 4);
    check(
        "let a = b + 1.0; let b = a * 2.0;",
        "`a` depends on itself",
        "a",
    );
    check("let a = a;", "`a` depends on itself", "a");
    check(
        "fn f(a, b) { a + b } let c = f(1.0);",
        "`f` takes 2 arguments (a, b), got 1",
        "f(1.0)",
    );
    check(
        "fn f(x) { g(x) } fn g(x) { f(x) } let a = f(1.0);",
        "`f` calls itself: recursion is not supported (fns are inlined)",
        "f",
    );
    let src = "placeholder x: f32[3]; let y = rleu(x);";
    check(src, "unknown function `rleu`", "rleu");
    assert_eq!(diags(src)[0].notes, ["did you mean `relu`?"]);
    check(
        "fn f(x) { x } let y = f;",
        "`f` is a function; call it as `f(...)`",
        "f",
    );
    check("fn f(x) { x + y } let z = f(1.0);", "unknown name `y`", "y");
    // A fn body does not see its caller's locals.
    check(
        "fn f() { k } let z = { let k = 1.0; f() };",
        "unknown name `k`",
        "k",
    );
    check(
        "placeholder x: f16[2];",
        "unknown dtype `f16`; the dtypes are f32, f64, i32 and bool",
        "f16",
    );
}

#[test]
fn shape_errors() {
    let p = "placeholder a: f32[2, 3];";
    check(
        &format!("{p} let s = sum(a, axis=2);"),
        "sum: axis 2 is out of range for f32[2, 3] (rank 2)",
        "2",
    );
    check(
        &format!("{p} let b = reshape(a, [5, 5]);"),
        "reshape: element count differs: f32[2, 3] has 6 elements, [5, 5] has 25",
        "reshape(a, [5, 5])",
    );
    check(
        &format!("{p} let t = transpose(a, [0, 0]);"),
        "transpose: [0, 0] is not a permutation of the axes of f32[2, 3]",
        "transpose(a, [0, 0])",
    );
    check(
        &format!("{p} let r = a[5];"),
        "index 5 is out of range for axis 0 of f32[2, 3] (length 2)",
        "5",
    );
    check(
        &format!("{p} let r = a[-3];"),
        "index -3 is out of range for axis 0 of f32[2, 3] (length 2)",
        "-3",
    );
    check(
        &format!("{p} placeholder b: f32[2, 4]; let c = concat([a, b], 0);"),
        "concat: shapes differ outside axis 0: f32[2, 3] and f32[2, 4]",
        "concat([a, b], 0)",
    );
    check(
        "placeholder x: f32[1, 8, 8, 3]; variable w: f32[3, 3, 4, 8] = xavier(seed=1); let y = conv2d(x, w);",
        "conv2d: input channels differ: the input f32[1, 8, 8, 3] has 3 channels, the filter f32[3, 3, 4, 8] expects 4",
        "conv2d(x, w)",
    );
    check(
        "let a = [[1.0, 2.0], [3.0]];",
        "array literal is ragged: element 1 has shape [1] but element 0 has shape [2]",
        "[[1.0, 2.0], [3.0]]",
    );
    let (m, t) = error("placeholder x: f32[100000, 100000, 100000];");
    assert!(
        m.starts_with("tensor too large: f32[100000, 100000, 100000]"),
        "{m}"
    );
    assert_eq!(t, "f32[100000, 100000, 100000]");
    let (m, _) = error("let z = zeros([4000000000, 4000000000]);");
    assert!(m.contains("tensor too large"), "{m}");
}

#[test]
fn control_flow_errors() {
    let pre = "placeholder p: bool[]; placeholder x: f32[3]; placeholder f: f32[];";
    check(
        &format!("{pre} let b = cond(f, 1.0, 2.0);"),
        "cond: the predicate must be bool[], got f32[]",
        "f",
    );
    check(
        &format!("{pre} let b = cond(p, x, sum(x));"),
        "cond: the branches differ: f32[3] and f32[]",
        "cond(p, x, sum(x))",
    );
    check(
        "placeholder xs: f32[5, 3]; let s = fold(|acc, x| acc + x, 0.0, xs);",
        "fold: the body gives f32[3] but the accumulator is f32[]",
        "acc + x",
    );
    check(
        "placeholder xs: f32[5]; let s = fold(|acc| acc, 0.0, xs);",
        "fold: the lambda must take two parameters `|acc, x|`, it takes 1",
        "|acc| acc",
    );
    check(
        "placeholder x: f32[]; let s = fold(|a, b| a, 0.0, x);",
        "fold: xs must have rank 1 or more, got f32[]",
        "x",
    );
    check(
        "let f = |a, b| a;",
        "a lambda `|acc, x| ...` is only allowed as the first argument of `fold`",
        "|a, b| a",
    );
}

#[test]
fn state_errors() {
    let v = "variable w: f32[3] = 0.0; placeholder p: bool[] = true; placeholder x: f32[3];";
    check(
        &format!("{v} let t = cond(p, assign(w, x), w);"),
        "`assign` is not allowed inside a cond branch or a fold body; use it at the top level",
        "assign(w, x)",
    );
    check(
        &format!("{v} let t = assign(x, x * 2.0);"),
        "assign: the first argument must be a variable",
        "x",
    );
    check(
        &format!("{v} let t = assign(w, zeros([4]));"),
        "assign: `w` is f32[3] but the value is f32[4]",
        "zeros([4])",
    );
    check(
        &format!("{v} let t = group(assign(w, w + 1.0), assign(w, w * 2.0));"),
        "`w` is assigned twice in one step",
        "group(assign(w, w + 1.0), assign(w, w * 2.0))",
    );
    check(
        &format!("{v} let a = assign(w, 1.0); let b = assign(w, 2.0); run a; run b; run a, b;"),
        "`w` is assigned twice in one step",
        "run a, b;",
    );
    check(
        &format!("{v} let g = group(w); let h = g * g;"),
        "a `group` has no value; it can only be fetched or grouped",
        "g",
    );
    check(
        &format!("{v} let g = group(w); let h = g + 1.0;"),
        "+: expects numeric operands, got bool[] and a float literal",
        "g + 1.0",
    );
}

#[test]
fn argument_errors() {
    let p = "placeholder x: f32[2, 3];";
    check(
        &format!("{p} let s = sum(x, axis=n);"),
        "`sum`: `axis` must be an integer literal or a list of them",
        "n",
    );
    check(
        &format!("{p} let s = sum(x, axes=1);"),
        "`sum` has no argument `axes`; its arguments are: x, axis, keepdims",
        "axes",
    );
    check(
        &format!("{p} let s = argmax(x);"),
        "`argmax`: missing argument `axis`",
        "argmax(x)",
    );
    check(
        &format!("{p} let s = relu(x, x);"),
        "`relu` takes at most 1 argument (x), got 2",
        "x",
    );
    check(
        &format!("{p} let s = cast(x, f16);"),
        "unknown dtype `f16`; the dtypes are f32, f64, i32 and bool",
        "f16",
    );
    check(
        &format!("{p} let s = zeros();"),
        "zeros: the shape is missing",
        "zeros()",
    );
    check(
        "placeholder x: f32[1, 4, 4, 1]; placeholder w: f32[2, 2, 1, 1]; let c = conv2d(x, w, padding=\"FULL\");",
        "`conv2d`: padding must be \"VALID\" or \"SAME\", got \"FULL\"",
        "\"FULL\"",
    );
    check(
        "variable w: i32[2] = [1.5, 2.5];",
        "`w` is declared i32[2] but its initialiser is a float literal",
        "[1.5, 2.5]",
    );
    check(
        "variable w: f32[2, 2] = [1.0, 2.0, 3.0];",
        "`w` is declared f32[2, 2] but its initialiser is an array of shape [3]",
        "[1.0, 2.0, 3.0]",
    );
    check(
        "variable w: i32[2] = randn();",
        "randn: randn makes float values, but the type is i32[2]",
        "randn()",
    );
    check(
        "placeholder x: f32[2, 2] = load(\"tests/errors/data/f32_3x2.npy\");",
        "load: 'tests/errors/data/f32_3x2.npy' holds f32[3, 2] but the declaration is f32[2, 2]",
        "load(\"tests/errors/data/f32_3x2.npy\")",
    );
    check(
        "placeholder x: f32[2]; variable w: f32[2] = x;",
        "an initialiser must be a constant expression, but `x` is a graph node",
        "x",
    );
}

#[test]
fn run_errors_and_unsupported() {
    check("let a = 1.0; run a, b;", "unknown name `b` in `run`", "b");
    check(
        "let a = 1.0; run a repeat 0;",
        "`repeat 0` runs no step; repeat at least once",
        "0",
    );
    check(
        "let a = 1.0; run a repeat 3 every 0;",
        "`every 0` is not allowed; print every 1 or more steps",
        "0",
    );
    check(
        "fn f(x) { x } run f;",
        "`f` is a fn; only nodes can be fetched",
        "f",
    );
    // A gradient of a gradient through max_pool2d (its backward op has no rule).
    let src = "placeholder x: f32[1, 4, 4, 1]; let loss = sum(max_pool2d(x, [2, 2], [2, 2])); \
               let dx = grad(loss, x); let ddx = grad(sum(dx * x), x);";
    check(
        src,
        "a gradient of a gradient: `max_pool2d_grad` (created by an earlier `grad`) has no backward rule",
        "max_pool2d(x, [2, 2], [2, 2])",
    );
    assert_eq!(diags(src)[0].kind, DiagKind::Unsupported);
}

#[test]
fn independent_errors_are_all_reported_once() {
    // Three broken items, one diagnostic each; `c` depends on broken `a` silently.
    let src =
        "let a = exp(1) + true; let b = zz; placeholder x: f99[2]; let c = a * 2.0; run c, x;";
    let d = diags(src);
    let messages: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(d.len(), 3, "{messages:#?}");
    assert_eq!(messages[1], "unknown name `zz`");
}

#[test]
fn pathological_inputs_are_errors_not_hangs() {
    // Exponential inlining is cut off by the node budget.
    let mut src = String::from("fn f0(x) { x + x }\n");
    for i in 1..40 {
        src.push_str(&format!("fn f{i}(x) {{ f{}(x) + f{}(x) }}\n", i - 1, i - 1));
    }
    src.push_str("placeholder x: f32[]; let y = f39(x);");
    let (m, _) = error(&src);
    assert!(m.contains("too large"), "{m}");
    // A long chain of lets in reverse order is built on demand without overflow.
    let mut src = String::new();
    for i in 0..3000 {
        src.push_str(&format!("let a{i} = a{} + 1.0;\n", i + 1));
    }
    src.push_str("let a3000 = 0.0;");
    let d = diags(&src);
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.contains("nests too deeply"),
        "{}",
        d[0].message
    );
    // Broadcasting literals against each other is bounded.
    let row: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
    let src = format!("let big = [[{}]] + [[{}]];", row.join("],["), row.join(","));
    let (m, _) = error(&src);
    assert!(m.contains("literal too large"), "{m}");
}
