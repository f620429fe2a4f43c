//! One fuzz input (a program, extra files, command lines, a REPL script) and
//! its verdict: each command line is run and classified; the `run` command
//! lines of a differential case must also agree with the first one.

use crate::exec::{self, Class, Outcome};
use crate::support::{text_matches_within, Tolerance, GOLDEN, TRAINING};
use std::path::Path;
use std::time::Duration;

/// The program's name in the case's folder; command lines refer to it.
pub const PROGRAM: &str = "prog.td";

#[derive(Clone, Debug)]
pub struct Case {
    /// Which generator made it.
    pub generator: &'static str,
    /// Written to `prog.td`.
    pub source: String,
    /// Extra files (name, bytes), written next to it.
    pub files: Vec<(String, Vec<u8>)>,
    /// The command lines, without the binary's name.
    pub runs: Vec<Vec<String>>,
    /// Standard input of every command (a REPL script).
    pub stdin: Option<String>,
    /// Whether `run` command lines that differ only in backend, threads,
    /// optimiser or bounds-check flags must print the same numbers.
    pub differential: bool,
    /// Whether every `run` must exit 0 (the input is valid by the contract).
    pub expect_ok: bool,
}

#[derive(Debug)]
pub struct Verdict {
    pub class: Class,
    /// The command line(s) that show it.
    pub runs: Vec<Vec<String>>,
    pub detail: String,
}

pub fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// Writes the case's files into `dir` (which already exists).
pub fn write(case: &Case, dir: &Path) {
    std::fs::write(dir.join(PROGRAM), &case.source).expect("write the program");
    for (name, bytes) in &case.files {
        std::fs::write(dir.join(name), bytes).expect("write a case file");
    }
}

/// A `run` command line without the flags that must not change its numbers
/// (backend, threads, optimiser, bounds checks): runs with equal keys are
/// compared, so a corpus case run once with its own `// args:` flags is not
/// compared with the plain runs of the same program.
fn comparable(run: &[String]) -> Vec<&str> {
    let mut key = Vec::new();
    let mut words = run.iter().map(String::as_str);
    while let Some(word) = words.next() {
        match word {
            "--backend" | "--threads" => {
                words.next();
            }
            "--no-opt" | "--check-bounds" => {}
            other => key.push(other),
        }
    }
    key
}

/// Runs the case in `dir` and gives its worst finding, or `Fine`.
pub fn evaluate(case: &Case, dir: &Path, timeout: Duration) -> Verdict {
    write(case, dir);
    // Per command line without its backend flags: the first run and its outcome.
    let mut references: Vec<(Vec<&str>, &Vec<String>, Outcome)> = Vec::new();
    for run in &case.runs {
        let mut out = exec::run(dir, run, case.stdin.as_deref(), timeout);
        if out.timed_out {
            // On a loaded machine a second-long command can pass the timeout:
            // a hang must hang again with three times as long.
            out = exec::run(dir, run, case.stdin.as_deref(), timeout * 3);
        }
        let class = out.class();
        if class != Class::Fine {
            let detail = format!("{}\n{}", out.summary(), tail(&out.stderr));
            return Verdict {
                class,
                runs: vec![run.clone()],
                detail,
            };
        }
        let is_run = run.first().map(String::as_str) == Some("run");
        if case.expect_ok && is_run && out.code != Some(0) {
            return Verdict {
                class: Class::Refused,
                runs: vec![run.clone()],
                detail: format!("{}\n{}", out.summary(), tail(&out.stderr)),
            };
        }
        if !case.differential || !is_run {
            continue;
        }
        let key = comparable(run);
        match references.iter().find(|(k, _, _)| *k == key) {
            None => references.push((key, run, out)),
            Some((_, first, want)) => {
                let why = if want.code != out.code {
                    Some(format!(
                        "exit {:?} vs {:?}\n{}\n{}",
                        want.code,
                        out.code,
                        tail(&want.stderr),
                        tail(&out.stderr)
                    ))
                } else if want.code == Some(0) {
                    text_matches_within(&want.stdout, &out.stdout, tolerance(case)).err()
                } else {
                    None
                };
                if let Some(detail) = why {
                    let runs = vec![(*first).clone(), run.clone()];
                    return Verdict {
                        class: Class::Disagreement,
                        runs,
                        detail,
                    };
                }
            }
        }
    }
    Verdict {
        class: Class::Fine,
        runs: Vec::new(),
        detail: String::new(),
    }
}

/// The tolerance for comparing runs of `case`: rounding differences compound
/// over training steps, so a program that trains gets the looser one.
fn tolerance(case: &Case) -> Tolerance {
    if case.source.contains("minimize(") {
        TRAINING
    } else {
        GOLDEN
    }
}

/// The last lines of a diagnostic, enough to recognise it.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// A short signature that groups finds of one bug: the class and the first
/// line that names the cause, with numbers dropped.
pub fn signature(case: &Case, verdict: &Verdict) -> String {
    let line = verdict
        .detail
        .lines()
        .find(|l| l.contains("panicked at") || l.contains("error"))
        .or_else(|| verdict.detail.lines().next())
        .unwrap_or("");
    // A hang's stderr holds whatever ran before it: only the generator tells it apart.
    let line = if verdict.class == Class::Hang {
        ""
    } else {
        line
    };
    let words: String = line
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .take(120)
        .collect();
    format!("{} {} {}", verdict.class.name(), case.generator, words)
}

#[test]
fn runs_differing_only_in_backend_flags_are_compared() {
    let plain = args(&["run", "prog.td", "--steps", "2"]);
    let interp = args(&["run", "prog.td", "--steps", "2", "--backend", "interp"]);
    let flags = args(&[
        "run",
        "prog.td",
        "--steps",
        "2",
        "--threads",
        "2",
        "--no-opt",
    ]);
    let fed = args(&["run", "prog.td", "--feed", "x=a.npy"]);
    assert_eq!(comparable(&plain), comparable(&interp));
    assert_eq!(comparable(&plain), comparable(&flags));
    assert_ne!(comparable(&plain), comparable(&fed));
}
