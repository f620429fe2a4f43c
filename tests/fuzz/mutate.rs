//! Token mutation of the example programs and the error corpus: delete,
//! duplicate, swap or replace tokens and lines, insert odd literals, unicode
//! and NUL.

use crate::rng::Rng;

/// Literals and fragments that stress the lexer, the parser and the limits.
pub const ODD: &[&str] = &[
    "0",
    "-1",
    "1e39",
    "1e-45",
    "nan",
    "inf",
    "99999999999",
    "9223372036854775807",
    "9223372036854775808",
    "4294967296",
    "65536",
    "-0.0",
    "1e308",
    "\"\"",
    "\"/dev/zero\"",
    "\".\"",
    "?",
    "é",
    "λ",
    "\u{0}",
    "\u{202e}",
    "💥",
    "[]",
    "[[]]",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "::",
    "@",
    "**",
    "|a, b|",
    "fold",
    "cond",
    "grad",
    "load(\"/dev/zero\")",
    "i32",
    "f64",
    "bool",
    "step()",
    "dataset",
    "repeat 0",
    "every 0",
    "\"",
    "//",
    "\r",
    "\t",
    ",",
    ";",
    "=",
    "-",
    "!",
    "&&",
    "x[-9]",
    "zeros([0])",
    "ones([0, 3])",
    "reshape",
    "keepdims=true",
];

/// Splits `s` into tokens: identifier or number runs, strings, whitespace
/// runs, and single other characters. Concatenating them gives `s` back.
pub fn tokens(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_alphanumeric() || c == '_' || c == '.' {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
        } else if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
        } else {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

/// One to four random mutations of `source`.
pub fn mutate(rng: &mut Rng, source: &str) -> String {
    let mut toks = tokens(source);
    for _ in 0..1 + rng.below(4) {
        if toks.is_empty() {
            toks.push(rng.pick(ODD).to_string());
        }
        let n = toks.len();
        let (i, j) = (rng.below(n), rng.below(n));
        match rng.below(8) {
            0 => {
                toks.remove(i);
            }
            1 => {
                let t = toks[i].clone();
                toks.insert(i, t);
            }
            2 => toks.swap(i, j),
            3 => toks[i] = toks[j].clone(),
            4 => toks[i] = rng.pick(ODD).to_string(),
            5 => toks.insert(i, format!(" {} ", rng.pick(ODD))),
            6 => {
                // a whole line: delete or duplicate it
                let text: String = toks.concat();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let k = rng.below(lines.len());
                if rng.chance(1, 2) {
                    lines.remove(k);
                } else {
                    lines.insert(k, lines[k]);
                }
                toks = tokens(&lines.join("\n"));
            }
            _ => {
                // a run of tokens copied elsewhere (nesting, repetition)
                let end = (i + 1 + rng.below(8)).min(n);
                let run: Vec<String> = toks[i..end].to_vec();
                let at = rng.below(toks.len() + 1);
                toks.splice(at..at, run);
            }
        }
    }
    toks.concat()
}
