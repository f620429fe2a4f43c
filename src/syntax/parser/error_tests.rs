//! Parser error tests: each malformed input gives exactly one diagnostic at
//! the right `line:col`, and huge inputs are rejected without recursion.

use super::parse;
use super::tests::{error, TWO_LAYER};
use crate::diag::render_all;

/// Each case: source, a `line:col` the rendering must contain, and a
/// fragment of the message.
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "let a = 1\nlet b = 2;",
        "2:1",
        "unexpected `let`, expected one of: `;`, an operator",
    ),
    ("let a = (1 + 2;", "1:15", "unexpected `;`, expected `)`"),
    ("let a = f(1, 2;", "1:15", "expected one of: `)`, `,`"),
    ("let a = 1);", "1:10", "unexpected `)`"),
    ("let = 3;", "1:5", "unexpected `=`, expected an identifier"),
    (
        "let a = 1 +",
        "1:12",
        "unexpected end of file, expected an expression",
    ),
    (
        "let a = 1 + ;",
        "1:13",
        "unexpected `;`, expected an expression",
    ),
    ("let a = $;", "1:9", "invalid character `$`"),
    (
        "let s = load(\"x.npy);\nrun s;",
        "1:14",
        "unterminated string literal",
    ),
    ("let s = \"a\\q\";", "1:9", "unknown escape `\\q`"),
    (
        "let n = 99999999999999999999;",
        "1:9",
        "integer literal too large",
    ),
    ("let c = a < b < c;", "1:15", "unexpected `<`"),
    (
        "let c = f(x, axis=1, y);",
        "1:22",
        "positional argument after named argument `axis`",
    ),
    (
        "let c = f(x, k=1, k=2);",
        "1:19",
        "argument `k` given twice",
    ),
    (
        "let c = cond(a, b);",
        "1:9",
        "`cond` takes exactly 3 arguments, 2 given",
    ),
    (
        "let c = fold(f, a, b, c);",
        "1:9",
        "`fold` takes exactly 3 arguments, 4 given",
    ),
    (
        "let c = cond(a, b, c, x=1);",
        "1:23",
        "`cond` takes no named arguments",
    ),
    ("let c = f(x)(y);", "1:13", "unexpected `(`"),
    (
        "placeholder x: f32[64, 1.5];",
        "1:24",
        "unexpected `1.5`, expected one of: an integer",
    ),
    (
        "run repeat 3;",
        "1:5",
        "unexpected `repeat`, expected an identifier",
    ),
    (
        "fn f(a) { let b = a; }",
        "1:22",
        "unexpected `}`, expected one of: an expression, `let`",
    ),
    ("let x = 1;\n  }", "2:3", "unexpected `}`"),
];

#[test]
fn malformed_inputs_give_one_located_diagnostic() {
    let mut failures = String::new();
    for (src, pos, message) in ERRORS {
        let rendered = error(src);
        if !(rendered.contains(&format!("t.td:{pos}")) && rendered.contains(message)) {
            failures += &format!("for {src:?} expected {pos} and {message:?}, got:\n{rendered}\n");
        }
    }
    assert!(failures.is_empty(), "{failures}");
    // The non-associative comparison gets a hint.
    assert!(error("let c = a < b < c;").contains("comparisons do not chain"));
}

/// Runs `f` on a thread with the default 2 MiB test stack, so a hidden
/// recursion proportional to the input would crash the test.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn test thread");
    assert!(handle.join().is_ok(), "the parser panicked or overflowed");
}

#[test]
fn huge_inputs_are_rejected_without_overflowing_the_stack() {
    on_small_stack(|| {
        // 10,000 open parentheses: the lexer stops at depth 128.
        let src = format!("let a = {}1{};", "(".repeat(10_000), ")".repeat(10_000));
        let rendered = error(&src);
        assert!(rendered.contains("nesting too deep"), "{rendered}");
        assert!(rendered.contains("t.td:1:137"), "{rendered}");

        // A 1 MB left-deep chain `x + x + ...` (more than 100k operators).
        let src = format!("let a = x{};", " + x".repeat(260_000));
        let Err(d) = parse(&src) else {
            panic!("a 260k-long chain was accepted")
        };
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("expression nested too deeply"));
        assert_eq!(d[0].span.map(|s| s.start), Some(8));

        // Right-deep chains and long unary chains are bounded the same way.
        for src in [
            format!("let a = x{};", " ** x".repeat(100_000)),
            format!("let a = {}x;", "-".repeat(100_000)),
            format!("let a = {}x;", "|a| ".repeat(100_000)),
            format!("let a = {}1{};", "f(".repeat(200), ")".repeat(200)),
        ] {
            let Err(d) = parse(&src) else {
                panic!("too deep input accepted")
            };
            assert!(d[0].message.contains("too deep"), "{}", &d[0].message);
        }

        // Wide but shallow input is fine: 100k array elements, 20k items.
        let src = format!("let a = [{}];", "1.0, ".repeat(100_000));
        assert!(parse(&src).is_ok());
        let src = "let a = b + c;\n".repeat(20_000);
        assert_eq!(parse(&src).map(|p| p.items.len()).ok(), Some(20_000));

        // Just under the limit parses, and drops, fine.
        let src = format!("let a = x{};", " + x".repeat(250));
        assert!(parse(&src).is_ok());
    });
}

#[test]
fn no_panics_on_truncated_programs() {
    // Every prefix of a real program either parses or gives a diagnostic.
    on_small_stack(|| {
        for (i, _) in TWO_LAYER.char_indices() {
            let src = &TWO_LAYER[..i];
            if let Err(d) = parse(src) {
                assert_eq!(d.len(), 1);
                let _ = render_all(&d, "t.td", src);
            }
        }
    });
}
