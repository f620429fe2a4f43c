//! REPL tests.
//!
//! Golden sessions: every `tests/repl/NAME.in` is piped into `tdsl repl` (run from
//! the repository root, so `:load programs/...` works), and its standard output
//! and standard error, merged in the order they were written, plus a final
//! `[exit N]` line, are compared exactly with `tests/repl/NAME.out`.
//! A first line `// args: ...` in the `.in` file gives extra arguments
//! (e.g. `// args: programs/two_layer_fc.td`).
//!
//! Re-bless after an intended change with:
//!     UPDATE_GOLDEN=1 cargo test --test repl
//! and review the diff of `tests/repl/*.out` before committing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sessions() -> Vec<PathBuf> {
    let dir = root().join("tests/repl");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/repl/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "in"))
        .collect();
    files.sort();
    files
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-repl-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    dir
}

/// Runs `tdsl repl ARGS` with `input` on stdin; stdout and stderr go to one file,
/// so the transcript keeps their order. Returns the transcript and the exit status.
fn run_session(input: &Path, args: &[String], scratch: &Path) -> (String, i32) {
    let transcript = scratch.join("transcript.txt");
    let out = File::create(&transcript).expect("create the transcript");
    let err = out.try_clone().expect("clone the transcript handle");
    let status = Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .arg("repl")
        .args(args)
        .current_dir(root())
        .stdin(File::open(input).expect("open the session input"))
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .status()
        .expect("the tdsl binary runs");
    let text = std::fs::read_to_string(&transcript).expect("read the transcript");
    (text, status.code().unwrap_or(-1))
}

#[test]
fn every_session_matches_its_golden_transcript() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let files = sessions();
    assert!(files.len() >= 5, "expected the sessions in tests/repl/");
    let mut failures = Vec::new();
    for path in &files {
        let input = std::fs::read_to_string(path).expect("read the session");
        let args: Vec<String> = input
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// args:"))
            .map(|a| a.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("session");
        let scratch = temp_dir(stem);
        let (text, code) = run_session(path, &args, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        let actual = format!("{text}[exit {code}]\n");
        let golden = path.with_extension("out");
        if update {
            std::fs::write(&golden, &actual).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}: transcript differs from {}\n--- expected\n{expected}\n--- actual\n{actual}",
                path.display(),
                golden.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no golden file {} (run with UPDATE_GOLDEN=1)",
                path.display(),
                golden.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
