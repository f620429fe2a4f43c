//! Parser tests: ASTs are compared as S-expressions, spans by slicing the
//! source, and errors by their rendered `file:line:col` and message.

use super::{parse, parse_expr};
use crate::diag::render_all;
use crate::diag::Span;
use crate::syntax::ast::{Block, Expr, ExprKind, Item, Subscript, UnaryOp};

/// A compact, fully parenthesised rendering of an expression.
pub(super) fn sexp(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Float(v) => format!("{v:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Array(items) => format!("[{}]", list(items)),
        ExprKind::Unary(op, x) => {
            let op = if *op == UnaryOp::Neg { "neg" } else { "not" };
            format!("({op} {})", sexp(x))
        }
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sexp(a), sexp(b)),
        ExprKind::Call {
            callee,
            args,
            named,
        } => {
            let mut parts = vec![callee.name.clone()];
            parts.extend(args.iter().map(sexp));
            parts.extend(named.iter().map(|(n, v)| format!("{}={}", n.name, sexp(v))));
            format!("(call {})", parts.join(" "))
        }
        ExprKind::Index(a, i) => format!("(index {} {})", sexp(a), sexp(i)),
        ExprKind::Subscript(a, items) => {
            let part = |e: &Option<Expr>| e.as_ref().map_or("_".to_string(), sexp);
            let items: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Subscript::Index(e) => sexp(e),
                    Subscript::Slice {
                        start, stop, step, ..
                    } => format!("(: {} {} {})", part(start), part(stop), part(step)),
                })
                .collect();
            format!("(subscript {} {})", sexp(a), items.join(" "))
        }
        ExprKind::Field(a, f) => format!("(field {} {})", sexp(a), f.name),
        ExprKind::Block(b) => block_sexp(b),
        ExprKind::Lambda { params, body } => {
            let ps: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            format!("(lambda ({}) {})", ps.join(" "), sexp(body))
        }
        ExprKind::Cond(p, a, b) => format!("(cond {} {} {})", sexp(p), sexp(a), sexp(b)),
        ExprKind::Fold { f, init, xs } => {
            format!("(fold {} {} {})", sexp(f), sexp(init), sexp(xs))
        }
    }
}

fn list(items: &[Expr]) -> String {
    items.iter().map(sexp).collect::<Vec<_>>().join(" ")
}

fn block_sexp(b: &Block) -> String {
    let lets: String = b
        .lets
        .iter()
        .map(|(n, e)| format!("(let {} {}) ", n.name, sexp(e)))
        .collect();
    format!("{{{lets}{}}}", sexp(&b.result))
}

fn expr(src: &str) -> String {
    match parse_expr(src) {
        Ok(e) => sexp(&e),
        Err(d) => panic!("{}", render_all(&d, "t.td", src)),
    }
}

pub(super) fn program(src: &str) -> Vec<Item> {
    match parse(src) {
        Ok(p) => p.items,
        Err(d) => panic!("{}", render_all(&d, "t.td", src)),
    }
}

/// Parses `src`, expects an error, and returns the rendered diagnostic.
pub(super) fn error(src: &str) -> String {
    match parse(src) {
        Ok(p) => panic!("expected an error for {src:?}, got {p:?}"),
        Err(d) => {
            assert_eq!(d.len(), 1);
            render_all(&d, "t.td", src)
        }
    }
}

fn text(src: &str, span: Span) -> &str {
    &src[span.range()]
}

#[test]
fn precedence() {
    assert_eq!(expr("1 + 2 * 3 ** -x"), "(+ 1 (* 2 (** 3 (neg x))))");
    assert_eq!(expr("-x ** 2"), "(neg (** x 2))");
    assert_eq!(expr("a ** b ** c"), "(** a (** b c))");
    assert_eq!(expr("a - b - c"), "(- (- a b) c)");
    assert_eq!(expr("a / b @ c * d"), "(* (@ (/ a b) c) d)");
    assert_eq!(expr("a || b && c == d + e"), "(|| a (&& b (== c (+ d e))))");
    assert_eq!(expr("!a == b"), "(== (not a) b)");
    assert_eq!(expr("(a + b) * c"), "(* (+ a b) c)");
    assert_eq!(expr("-x[0] ** 2"), "(neg (** (index x 0) 2))");
    assert_eq!(expr("f(x)[1][2]"), "(index (index (call f x) 1) 2)");
    assert_eq!(expr("a <= b"), "(<= a b)");
    assert_eq!(expr("- - !x"), "(neg (neg (not x)))");
}

#[test]
fn subscripts_and_slices() {
    assert_eq!(expr("x[1,]"), "(index x 1)");
    assert_eq!(expr("x[i, -1]"), "(subscript x i (neg 1))");
    assert_eq!(expr("x[:]"), "(subscript x (: _ _ _))");
    assert_eq!(expr("x[::-1]"), "(subscript x (: _ _ (neg 1)))");
    assert_eq!(
        expr("x[1:n - 1, :, a:b:2]"),
        "(subscript x (: 1 (- n 1) _) (: _ _ _) (: a b 2))"
    );
    assert_eq!(expr("x[:3][0]"), "(index (subscript x (: _ 3 _)) 0)");
    assert_eq!(expr("x[2:]"), "(subscript x (: 2 _ _))");
    assert!(parse_expr("x[]").is_err());
}

#[test]
fn literals_arrays_and_strings() {
    assert_eq!(expr("[[1, 2], [3, 4.5],]"), "[[1 2] [3 4.5]]");
    assert_eq!(expr("[]"), "[]");
    assert_eq!(expr("true && false"), "(&& true false)");
    assert_eq!(
        expr(r#"load("a \"q\"\\\n\t")"#),
        r#"(call load "a \"q\"\\\n\t")"#
    );
    assert_eq!(expr("1e-3 + 2.5E+2 + 1."), "(+ (+ 0.001 250.0) 1.0)");
}

#[test]
fn calls_lambdas_blocks_cond_fold() {
    assert_eq!(
        expr("sum(x, axis=1, keepdims=true,)"),
        "(call sum x axis=1 keepdims=true)"
    );
    assert_eq!(expr("zeros()"), "(call zeros)");
    assert_eq!(
        expr("|acc, x| acc + x * w"),
        "(lambda (acc x) (+ acc (* x w)))"
    );
    assert_eq!(expr("|| 1"), "(lambda () 1)");
    assert_eq!(
        expr("{ let a = 1; let b = a; a + b }"),
        "{(let a 1) (let b a) (+ a b)}"
    );
    assert_eq!(expr("{ x } * 2"), "(* {x} 2)");
    assert_eq!(expr("cond(p < 0, -p, p)"), "(cond (< p 0) (neg p) p)");
    assert_eq!(
        expr("fold(|acc, x| acc + x, 0.0, xs,)"),
        "(fold (lambda (acc x) (+ acc x)) 0.0 xs)"
    );
    assert_eq!(expr("fold(step, h0, xs)"), "(fold step h0 xs)");
    assert_eq!(
        expr("cond(a, |x| x, { let y = 2; y })"),
        "(cond a (lambda (x) x) {(let y 2) y})"
    );
}

pub(super) const TWO_LAYER: &str = r#"// programs/two_layer_fc.td — the classic affine -> ReLU -> affine network
placeholder x: f32[64, 32, 32, 3] = randn(seed=1);   // default feed; --feed overrides it
placeholder y: f32[64, 10] = randn(seed=2);
variable w1: f32[3072, 42] = xavier(seed=3);
variable w2: f32[42, 10] = xavier(seed=4);

fn two_layer_fc(x, w1, w2) {
    let h = relu(flatten(x) @ w1);   // hidden layer, f32[64, 42]
    h @ w2                           // scores, f32[64, 10]
}

let scores = two_layer_fc(x, w1, w2);
let loss = mean_squared_error(scores, y);
let dw1 = grad(loss, w1);
let dw2 = grad(loss, w2);            // one backward pass serves both grads
let train = group(assign(w1, w1 - 0.01 * dw1), assign(w2, w2 - 0.01 * dw2));
// the same update, as sugar:  let train = minimize(loss, sgd(0.01));

run scores, loss;                     // one step, print both
run train, loss repeat 100 every 10;  // 100 steps, print loss every 10 steps
"#;

#[test]
fn the_two_layer_program() {
    let src = TWO_LAYER;
    let items = program(src);
    assert_eq!(items.len(), 12);
    let summary: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::Placeholder {
                name, ty, default, ..
            } => {
                let dims: Vec<String> = ty
                    .dims
                    .iter()
                    .map(|d| d.0.map_or_else(|| "?".to_string(), |n| n.to_string()))
                    .collect();
                let d = default.as_ref().map(sexp).unwrap_or_default();
                format!("placeholder {} {}{:?} {d}", name.name, ty.dtype.name, dims)
            }
            Item::Variable { name, ty, init, .. } => {
                format!(
                    "variable {} {} {}",
                    name.name,
                    text(src, ty.span),
                    sexp(init)
                )
            }
            Item::Let { name, value, .. } => format!("let {} {}", name.name, sexp(value)),
            Item::Fn {
                name, params, body, ..
            } => {
                let ps: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                format!("fn {} {:?} {}", name.name, ps, block_sexp(body))
            }
            Item::Run {
                fetches,
                repeat,
                every,
                ..
            } => {
                let fs: Vec<&str> = fetches.iter().map(|p| p.name.as_str()).collect();
                format!(
                    "run {fs:?} {:?} {:?}",
                    repeat.map(|r| r.0),
                    every.map(|e| e.0)
                )
            }
            Item::Dataset { name, value, .. } => format!("dataset {} {}", name.name, sexp(value)),
        })
        .collect();
    let expected = [
        r#"placeholder x f32["64", "32", "32", "3"] (call randn seed=1)"#,
        r#"placeholder y f32["64", "10"] (call randn seed=2)"#,
        "variable w1 f32[3072, 42] (call xavier seed=3)",
        "variable w2 f32[42, 10] (call xavier seed=4)",
        r#"fn two_layer_fc ["x", "w1", "w2"] {(let h (call relu (@ (call flatten x) w1))) (@ h w2)}"#,
        "let scores (call two_layer_fc x w1 w2)",
        "let loss (call mean_squared_error scores y)",
        "let dw1 (call grad loss w1)",
        "let dw2 (call grad loss w2)",
        "let train (call group (call assign w1 (- w1 (* 0.01 dw1))) (call assign w2 (- w2 (* 0.01 dw2))))",
        r#"run ["scores", "loss"] None None"#,
        r#"run ["train", "loss"] Some(100) Some(10)"#,
    ];
    assert_eq!(summary, expected);
    // Item spans run from the keyword to the `;` or `}`.
    assert_eq!(
        text(src, items[1].span()),
        "placeholder y: f32[64, 10] = randn(seed=2);"
    );
    assert!(text(src, items[4].span()).starts_with("fn two_layer_fc(x"));
    assert!(text(src, items[4].span()).ends_with("// scores, f32[64, 10]\n}"));
    if let Item::Run { repeat, every, .. } = &items[11] {
        assert_eq!(repeat.map(|r| text(src, r.1)), Some("100"));
        assert_eq!(every.map(|r| text(src, r.1)), Some("10"));
    }
}

/// Every node's span is trimmed source text inside its parent's span.
fn check_spans(src: &str, e: &Expr, parent: Span) {
    let t = text(src, e.span);
    assert_eq!(t, t.trim(), "span of {} has padding", sexp(e));
    assert!(!t.is_empty());
    assert!(parent.start <= e.span.start && e.span.end <= parent.end);
    let mut kids: Vec<&Expr> = Vec::new();
    match &e.kind {
        ExprKind::Array(items) => kids.extend(items),
        ExprKind::Unary(_, x) | ExprKind::Field(x, _) => kids.push(x),
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => kids.extend([&**a, &**b]),
        ExprKind::Call { args, named, .. } => {
            kids.extend(args);
            kids.extend(named.iter().map(|(_, v)| v));
        }
        ExprKind::Block(b) => {
            kids.extend(b.lets.iter().map(|(_, v)| v));
            kids.push(&b.result);
        }
        ExprKind::Lambda { body, .. } => kids.push(body),
        ExprKind::Cond(a, b, c) => kids.extend([&**a, &**b, &**c]),
        ExprKind::Fold { f, init, xs } => kids.extend([&**f, &**init, &**xs]),
        _ => {}
    }
    for k in kids {
        check_spans(src, k, e.span);
    }
}

#[test]
fn spans_are_exact() {
    let src = "let y = f(a + b, k = -2) * (c ** 2)[0]  ;";
    let items = program(src);
    let Item::Let { name, value, span } = &items[0] else {
        panic!("not a let")
    };
    assert_eq!(text(src, *span), src);
    assert_eq!(text(src, name.span), "y");
    assert_eq!(text(src, value.span), "f(a + b, k = -2) * (c ** 2)[0]");
    check_spans(src, value, value.span);
    let ExprKind::Binary(_, call, index) = &value.kind else {
        panic!("not a binary")
    };
    assert_eq!(text(src, call.span), "f(a + b, k = -2)");
    assert_eq!(text(src, index.span), "(c ** 2)[0]");
    let ExprKind::Call {
        callee,
        args,
        named,
    } = &call.kind
    else {
        panic!("not a call")
    };
    assert_eq!(text(src, callee.span), "f");
    assert_eq!(text(src, args[0].span), "a + b");
    assert_eq!(text(src, named[0].0.span), "k");
    assert_eq!(text(src, named[0].1.span), "-2");
    let ExprKind::Index(base, _) = &index.kind else {
        panic!("not an index")
    };
    // Parentheses make no node: the inner expression keeps its own span.
    assert_eq!(text(src, base.span), "c ** 2");

    for src in [
        "{ let a = [1, [2, 3]]; cond(a, |x, y| x @ y, fold(g, 0, a)) }",
        "relu(flatten(x) @ w1) - !b",
    ] {
        let e = match parse_expr(src) {
            Ok(e) => e,
            Err(d) => panic!("{}", render_all(&d, "t.td", src)),
        };
        assert_eq!(text(src, e.span), src);
        check_spans(src, &e, e.span);
    }
    let src = TWO_LAYER;
    for item in program(src) {
        let t = text(src, item.span());
        assert!(t.ends_with(';') || t.ends_with('}'), "{t}");
    }
}

#[test]
fn empty_and_comment_only_files() {
    assert!(program("").is_empty());
    assert!(program("   \n\t ").is_empty());
    assert!(program("// just a comment").is_empty());
    assert!(program("// one\n// two\n").is_empty());
    let items = program("placeholder p: f32[]; run p,;");
    assert_eq!(items.len(), 2);
    if let Item::Placeholder { ty, default, .. } = &items[0] {
        assert!(ty.dims.is_empty() && default.is_none());
    }
}
