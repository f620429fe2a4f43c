//! The stage order of `src/`, enforced: a module may use only its own stage and
//! the stages before it, test modules included. The table is the one in
//! `docs/design.md`; stages of equal rank (the two backends, the two front ends)
//! are peers and never import each other.
//!
//! Imports are found by reading the source: every `crate::` path (also inside
//! `use crate::{..}` groups) and every `super::` path, resolved from the file's
//! place in `src/`. Known violations that are still to be removed are listed in
//! [`KNOWN`]; the test fails on any other, and on a listed one that is gone (so
//! the list only shrinks).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `(module path prefix, stage, rank)`: the longest matching prefix decides.
const STAGES: &[(&str, &str, u32)] = &[
    ("diag", "diag", 0),
    ("syntax", "syntax", 1),
    ("timing", "ir", 2),
    ("ir", "ir", 2),
    ("autodiff", "autodiff", 3),
    ("lower", "lower", 4),
    ("kernels", "kernels", 5),
    ("opt", "opt", 6),
    // The library facade (`lib.rs`: compile, compile_with, Options, ...).
    ("", "facade", 7),
    ("backend", "backend", 8),
    ("backend::interp", "interp", 9),
    ("backend::jit", "jit", 9),
    ("runtime", "runtime", 10),
    // Differential tests (`#[cfg(test)]`): stages compared with each other,
    // the backends with the interpreter.
    ("checks", "checks", 10),
    // What both front ends need (a source file, a failure to render).
    ("source", "source", 11),
    // The backends by name, with the JIT's options from the environment.
    ("engines", "engines", 11),
    ("cli", "cli", 12),
    ("repl", "repl", 12),
    // The binary: hands `repl` to the REPL and the rest to the CLI.
    ("main", "main", 13),
];

/// Violations not yet removed: `(file under src/, imported stage)`. A test
/// that compares a stage with a later one (the JIT or the optimiser with the
/// interpreter, gradients run on both backends) belongs in `src/checks/`.
const KNOWN: &[(&str, &str)] = &[];

/// The stage of a module path such as `kernels::lanes`.
fn stage_of(module: &str) -> (&'static str, u32) {
    let mut best: Option<(&str, &'static str, u32)> = None;
    for &(prefix, stage, rank) in STAGES {
        let matches =
            prefix.is_empty() || module == prefix || module.starts_with(&format!("{prefix}::"));
        if matches && best.is_none_or(|(p, _, _)| prefix.len() > p.len()) {
            best = Some((prefix, stage, rank));
        }
    }
    best.map(|(_, s, r)| (s, r)).unwrap_or(("facade", 7))
}

/// The module path of a file: `src/kernels/lanes.rs` is `kernels::lanes`,
/// `src/ir/mod.rs` is `ir`, `src/lib.rs` is the root (empty).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_string();
    }
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// Source text without comments, string and char literals (so paths in docs
/// and messages do not count).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let (mut out, mut i) = (String::with_capacity(text.len()), 0);
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3; // a char literal such as 'x' (lifetimes are left alone)
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers and `::` that follow position `i` (a path's rest), and for a
/// `{` group every path inside it, each with `prefix` in front.
fn paths_at(code: &str, mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let b = code.as_bytes();
    let mut path = prefix.to_vec();
    loop {
        while i < b.len() && (b[i] as char).is_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'{' {
            i += 1;
            loop {
                while i < b.len() && ((b[i] as char).is_whitespace() || b[i] == b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    return i + 1;
                }
                let before = i;
                i = paths_at(code, i, &path, out);
                if i == before {
                    i += 1; // `*` or `self`
                }
            }
        }
        let start = i;
        while i < b.len() && is_ident(b[i] as char) {
            i += 1;
        }
        if i == start {
            break;
        }
        path.push(code[start..i].to_string());
        if code[i..].starts_with("::") {
            i += 2;
        } else {
            break;
        }
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
    i
}

/// Every module path that `code` (the text of the module `module`) refers to.
fn references(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let boundary = at == 0 || !is_ident(code[..at].chars().last().unwrap_or(' '));
        if boundary {
            paths_at(code, at + "crate::".len(), &[], &mut out);
        }
    }
    let mut at = 0;
    while let Some(found) = code[at..].find("super::") {
        let start = at + found;
        at = start + 1;
        if start > 0 && is_ident(code[..start].chars().last().unwrap_or(' ')) {
            continue;
        }
        if start >= 2 && &code[start - 2..start] == "::" {
            continue; // the second `super` of a chain, counted with the first
        }
        let mut base = module.to_vec();
        let mut i = start;
        while code[i..].starts_with("super::") {
            base.pop();
            i += "super::".len();
        }
        paths_at(code, i, &base, &mut out);
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(file, its stage, imported stage)` that breaks the order.
fn violations() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 50,
        "expected the sources under {}",
        src.display()
    );
    let mut found = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let module = module_of(&src, &file);
        let (stage, rank) = stage_of(&module.join("::"));
        for path in references(&code_only(&text), &module) {
            let (target, target_rank) = stage_of(&path.join("::"));
            if target != stage && target_rank >= rank {
                let rel = file.strip_prefix(&src).unwrap_or(&file);
                found.insert((rel.display().to_string(), target.to_string()));
            }
        }
    }
    found
}

#[test]
fn every_import_follows_the_stage_order() {
    let found = violations();
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(f, s)| (f.to_string(), s.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "imports against the stage order (file under src/, the later or peer stage it uses):\n{}",
        new.iter()
            .map(|(f, s)| format!("  {f} -> {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        gone.is_empty(),
        "listed as known but no longer there; remove from KNOWN: {gone:?}"
    );
}

#[test]
fn the_checker_sees_a_backward_import() {
    let code = code_only(
        "use crate::backend::interp::run_step; // crate::cli in a comment\n\
         use crate::{ir::Graph, backend::{jit::Executable, threads}};\n\
         fn f() { super::super::interp::run(\"crate::repl\"); }",
    );
    let module: Vec<String> = ["backend", "jit", "exec"].map(String::from).to_vec();
    let stages: BTreeSet<&str> = references(&code, &module)
        .iter()
        .map(|p| stage_of(&p.join("::")).0)
        .collect();
    let want: BTreeSet<&str> = ["interp", "ir", "jit", "backend"].into_iter().collect();
    assert_eq!(stages, want);
    assert_eq!(stage_of("backend::jit::exec"), ("jit", 9));
    assert_eq!(stage_of("kernels::lanes"), ("kernels", 5));
    assert_eq!(stage_of("compile_with"), ("facade", 7));
}
