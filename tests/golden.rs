//! Golden-output tests: every `programs/*.td` is run with `tdsl run FILE` on the
//! interpreter (the oracle, which blesses the goldens) and with no flags (the
//! default backend, the JIT), and its standard output is compared with
//! `programs/NAME.out`: the text exactly, the numbers within a tolerance
//! (`support::text_matches`), because their last digits differ between CPUs.
//! What is bitwise is tested on its own: the same binary on the same CPU with
//! the same thread count prints the same bytes every time.
//!
//! Re-bless after an intended change with:
//!     UPDATE_GOLDEN=1 cargo test --test golden
//! and review the diff of `programs/*.out` before committing.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn programs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("programs/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "td"))
        .collect();
    files.sort();
    files
}

/// Runs `tdsl run programs/NAME.td` from the repository root.
fn run_program(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = path.strip_prefix(root).unwrap_or(path);
    let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .arg("run")
        .arg(rel)
        .args(extra)
        .current_dir(root)
        .output()
        .expect("the tdsl binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// On the interpreter, the oracle: `UPDATE_GOLDEN=1` blesses from this run.
const ORACLE: &[&str] = &["--backend", "interp"];

#[test]
fn every_program_matches_its_golden_output() {
    check_programs(ORACLE);
}

/// The JIT prints what the interpreter prints, within the golden tolerance.
#[test]
fn every_program_matches_its_golden_output_on_the_jit() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        return; // the goldens are blessed from the interpreter, the oracle
    }
    check_programs(&[]); // the default backend
    check_programs(&["--backend", "jit"]);
}

fn check_programs(extra: &[&str]) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some() && extra == ORACLE;
    let files = programs();
    assert!(
        files.len() >= 5,
        "expected the example programs in programs/"
    );
    let mut failures = Vec::new();
    for path in &files {
        let (code, stdout, stderr) = run_program(path, extra);
        let name = format!("{} {}", path.display(), extra.join(" "));
        if code != 0 {
            failures.push(format!("{name}: exit {code}\n{stderr}"));
            continue;
        }
        assert!(!stdout.trim().is_empty(), "{name} printed nothing");
        let golden = path.with_extension("out");
        if update {
            std::fs::write(&golden, &stdout).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) => {
                if let Err(why) = support::text_matches(&expected, &stdout) {
                    failures.push(format!("{name}: differs from {}\n{why}", golden.display()));
                }
            }
            Err(_) => failures.push(format!(
                "{name}: no golden file {} (run with UPDATE_GOLDEN=1)",
                golden.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The optimiser never changes a result beyond rounding: every program prints
/// its golden output with `--no-opt` too (the runs above are optimised).
#[test]
fn every_program_gives_the_same_output_without_the_optimiser() {
    let mut failures = Vec::new();
    for path in &programs() {
        let (code, stdout, stderr) = run_program(path, &["--no-opt"]);
        let name = path.display();
        if code != 0 {
            failures.push(format!("{name} --no-opt: exit {code}\n{stderr}"));
            continue;
        }
        match std::fs::read_to_string(path.with_extension("out")) {
            Ok(expected) => {
                if let Err(why) = support::text_matches(&expected, &stdout) {
                    failures.push(format!(
                        "{name} --no-opt: differs from the golden file\n{why}"
                    ));
                }
            }
            Err(_) => failures.push(format!("{name}: no golden file")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The bitwise property: the same binary on the same CPU with the same thread
/// count prints byte-identical output from run to run, on both backends.
#[test]
fn every_program_prints_the_same_bytes_every_run() {
    let mut failures = Vec::new();
    for path in &programs() {
        for extra in [
            &["--backend", "interp", "--threads", "1"][..],
            &["--backend", "jit", "--threads", "1"],
            &["--backend", "jit", "--threads", "2"],
        ] {
            let first = run_program(path, extra);
            let second = run_program(path, extra);
            if first.0 != 0 || first != second {
                failures.push(format!(
                    "{} {}: two runs differ (exit {} and {})\n--- first\n{}\n--- second\n{}",
                    path.display(),
                    extra.join(" "),
                    first.0,
                    second.0,
                    first.1,
                    second.1
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
