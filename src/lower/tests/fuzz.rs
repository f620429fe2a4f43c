//! Robustness: randomly mutated example and error programs must build or fail
//! with user diagnostics, never panic (a panic in the builder thread becomes an
//! internal error), and every graph that builds must pass `verify`.

use super::verify;
use std::path::Path;

/// Raise locally for a longer search.
const ITERATIONS: usize = 5000;

#[test]
fn mutated_programs_never_panic() {
    let mut corpus = Vec::new();
    for d in ["programs", "tests/errors"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(d);
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "td") {
                // A corpus file may be deliberately not UTF-8 (the CLI's test).
                let Ok(s) = std::fs::read_to_string(&p) else {
                    continue;
                };
                if s.len() < 5000 {
                    corpus.push(s);
                }
            }
        }
    }
    let words = [
        "x",
        "w",
        "p",
        "xs",
        "acc",
        "cond(p, x, x)",
        "fold(|a, b| a, 0.0, xs)",
        "[1, 2]",
        "[[1.0], [2.0]]",
        "-1",
        "0",
        "3",
        "1e40",
        "true",
        "sum",
        "reshape",
        "f32[3]",
        "(",
        ")",
        "[",
        "]",
        ",",
        ";",
        "|a, b|",
        "{ let q = 1; q }",
        "assign(w, 1)",
        "group(x)",
        "x[0]",
        "x[i]",
        "@",
        "**",
        "2.5",
        "f(x)",
        "fn f(a) { a }",
        "let y = y;",
        "zeros([0])",
        "randn([2], seed=-1)",
        "one_hot([5], 3)",
        "concat([x], 9)",
        "pad(x, [[1, 1]])",
        "conv2d(x, x, padding=\"SAME\")",
        "max_pool2d(x, 0)",
        "transpose(x, [1])",
        "i32",
        "bool",
        "cast(x, bool)",
        "where(true, 1, 2.0)",
        "argmax(x, 7)",
        "99999999999",
        "f32[0, 99999999999, 99999999999]",
        "[-1, 99999999999]",
        "-9223372036854775807",
        "flatten(x)",
        "x[-1]",
        "[[]]",
        "[]",
    ];
    let mut state: u64 = 12345;
    let mut rnd = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n.max(1)
    };
    let mut internal = 0;
    let mut built = 0;
    for iter in 0..ITERATIONS {
        let base = &corpus[rnd(corpus.len())];
        let mut s = base.clone();
        for _ in 0..1 + rnd(4) {
            let chars: Vec<char> = s.chars().collect();
            let pos = rnd(chars.len() + 1);
            let len = if rnd(2) == 0 { 0 } else { rnd(6) };
            let end = (pos + len).min(chars.len());
            let mut out: String = chars[..pos].iter().collect();
            match rnd(3) {
                0 => {}
                1 => out.push_str(words[rnd(words.len())]),
                _ => {
                    out.push(' ');
                    out.push_str(words[rnd(words.len())]);
                    out.push(' ');
                }
            }
            out.extend(chars[end..].iter());
            s = out;
        }
        if let Ok(prog) = crate::syntax::parser::parse(&s) {
            match super::super::build(&prog, Path::new(env!("CARGO_MANIFEST_DIR"))) {
                Ok(m) => {
                    built += 1;
                    verify(&m);
                }
                Err(ds) => {
                    for d in &ds {
                        if d.kind == crate::diag::DiagKind::Internal {
                            internal += 1;
                            println!("iteration {iter}: {}\n{s}\n", d.message);
                        }
                    }
                }
            }
        }
    }
    assert!(built > 100, "only {built} mutants built");
    assert_eq!(internal, 0);
}
