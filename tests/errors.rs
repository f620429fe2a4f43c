//! The error corpus: every `tests/errors/*.td` must fail with exactly one clear
//! diagnostic, exit 1, and never panic. The rendered diagnostic is compared with
//! `tests/errors/NAME.stderr`.
//!
//! A file's first line may say how to run it: `// args: run --feed x=tests/errors/data/bad.npy`
//! (default: `check`). Re-bless with:
//!     UPDATE_GOLDEN=1 cargo test --test errors

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/errors exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "td"))
        .collect();
    files.sort();
    files
}

/// The command words from an `// args:` first line, with FILE appended after the subcommand.
fn command_for(path: &Path, source: &str, rel: &str) -> Vec<String> {
    let first = source.lines().next().unwrap_or("");
    let mut words: Vec<String> = match first.strip_prefix("// args:") {
        Some(rest) => rest.split_whitespace().map(String::from).collect(),
        None => vec!["check".into()],
    };
    if words.is_empty() {
        panic!("{}: empty args line", path.display());
    }
    words.insert(1, rel.to_string());
    words
}

#[test]
fn every_bad_program_gives_one_diagnostic_and_exit_1() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let files = corpus();
    assert!(
        files.len() >= 30,
        "expected dozens of error cases, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let source = std::fs::read_to_string(path).unwrap_or_default();
        let args = command_for(path, &source, &rel);
        let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
            .args(&args)
            .current_dir(root)
            .output()
            .expect("the tdsl binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code().unwrap_or(-1);
        if code != 1 {
            failures.push(format!("{rel}: exit {code}, expected 1\n{stderr}"));
            continue;
        }
        if stderr.contains("panicked") || stderr.contains("internal compiler error") {
            failures.push(format!("{rel}: not a user diagnostic\n{stderr}"));
            continue;
        }
        if !stderr.starts_with("error") {
            failures.push(format!("{rel}: no `error:` diagnostic\n{stderr}"));
            continue;
        }
        let diagnostics = stderr.lines().filter(|l| l.starts_with("error")).count();
        if diagnostics != 1 {
            failures.push(format!(
                "{rel}: {diagnostics} diagnostics, expected 1\n{stderr}"
            ));
            continue;
        }
        if !stderr.contains(&format!("{rel}:")) {
            failures.push(format!("{rel}: diagnostic has no file:line:col\n{stderr}"));
            continue;
        }
        let golden = path.with_extension("stderr");
        if update {
            std::fs::write(&golden, &stderr).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == stderr => {}
            Ok(expected) => failures.push(format!(
                "{rel}: diagnostic differs\n--- expected\n{expected}\n--- actual\n{stderr}"
            )),
            Err(_) => failures.push(format!("{rel}: no {} (UPDATE_GOLDEN=1)", golden.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
