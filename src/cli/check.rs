//! `tdsl check FILE`: build the program (types, not values) and print its
//! signature; an unbound `?` size is built twice with stand-ins to find the sizes
//! that depend on it (`docs/cli.md`).

use super::args::CheckArgs;
use super::{print_stdout, Failure, SourceFile};
use crate::ir::data::open_type_text;
use crate::ir::Module;
use crate::runtime::signature::signature;

pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    let source = SourceFile::read(&args.file)?;
    let mut options = crate::Options {
        optimize: false,
        max_memory: args.max_memory,
        values: false,
        ranks: 1,
        ..Default::default()
    };
    let module = source.compile_with(&options)?.module;
    let mut text = signature(&module);
    if module.data.open.iter().any(|o| !o.bound) {
        options.data.stand_in = 2;
        if let Ok(other) = crate::compile_with(&source.text, &source.base_dir, &options) {
            text = merge_sizes(&text, &signature(&other.module));
        }
    }
    let text = format!("{}{}", datasets(&module), with_open_types(&module, &text));
    print_stdout(&text).map_err(|d| source.failure(vec![d]))
}

/// One line per dataset: its arrays, batch and shuffle.
fn datasets(module: &Module) -> String {
    let mut out = String::new();
    for d in &module.data.datasets {
        let arrays: Vec<String> = d
            .arrays
            .iter()
            .map(|a| format!("{}: {}", a.name, a.value.ty()))
            .collect();
        out.push_str(&format!("dataset {} ({})", d.name, arrays.join(", ")));
        if let Some(b) = d.batch {
            out.push_str(&format!(" batch {b}"));
        }
        if let Some(s) = d.shuffle {
            out.push_str(&format!(" shuffle {s}"));
        }
        let steps = d.steps_per_epoch();
        let plural = if steps == 1 { "" } else { "s" };
        out.push_str(&format!(", {steps} step{plural} an epoch\n"));
    }
    out
}

/// Placeholder lines with their declared `?` sizes and what feeds them.
fn with_open_types(module: &Module, text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let name = line
            .strip_prefix("placeholder ")
            .and_then(|rest| rest.split(':').next());
        let Some(p) = name.and_then(|n| module.placeholder(n)) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let open = module.data.open(&p.name);
        let declared = match open {
            Some(o) => open_type_text(p.ty.dtype, &o.dims),
            None => p.ty.to_string(),
        };
        let mut notes = Vec::new();
        if let Some(f) = module.data.feed_of(&p.name) {
            notes.push(format!("from {}.{}", f.dataset, f.array));
        } else if p.default.is_some() {
            notes.push("has default".to_string());
        }
        if open.is_some_and(|o| o.bound) {
            notes.push(format!("built as {}", p.ty));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        out.push_str(&format!("placeholder {}: {declared}{notes}\n", p.name));
    }
    out
}

/// `a` with every number that differs from the same place in `b` shown as
/// `?` (lines whose words differ otherwise are kept as in `a`).
fn merge_sizes(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    if la.len() != lb.len() {
        return a.to_string();
    }
    let mut out = String::new();
    for (x, y) in la.iter().zip(&lb) {
        let (tx, ty) = (tokens(x), tokens(y));
        let same_shape = tx.len() == ty.len()
            && tx
                .iter()
                .zip(&ty)
                .all(|(p, q)| p == q || (is_number(p) && is_number(q)));
        if same_shape {
            for (p, q) in tx.iter().zip(&ty) {
                out.push_str(if p == q { p } else { "?" });
            }
        } else {
            out.push_str(x);
        }
        out.push('\n');
    }
    out
}

/// Runs of digits and runs of everything else.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for i in 1..=bytes.len() {
        if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
            out.push(&line[start..i]);
            start = i;
        }
    }
    out
}

fn is_number(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_sizes_become_question_marks() {
        let a = "let h: f32[1, 10]\nlet s: f32[]\n";
        let b = "let h: f32[2, 10]\nlet s: f32[]\n";
        assert_eq!(merge_sizes(a, b), "let h: f32[?, 10]\nlet s: f32[]\n");
    }

    #[test]
    fn lines_that_differ_in_words_are_kept() {
        assert_eq!(
            merge_sizes("let a: f32[1]\n", "let b: f32[2]\n"),
            "let a: f32[1]\n"
        );
        assert_eq!(merge_sizes("x\n", "x\ny\n"), "x\n");
    }
}
