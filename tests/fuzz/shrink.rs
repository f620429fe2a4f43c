//! Minimising a find (delete lines, then tokens, then bytes of its files,
//! keeping each deletion while the failure class stays the same) and saving
//! it as a reproducer folder.

use crate::case::{self, Case, Verdict};
use crate::exec::{self, Class};
use crate::mutate::tokens;
use std::path::Path;
use std::time::{Duration, Instant};

/// A smaller case of the same class (the original if nothing could go),
/// trying for at most `budget` so that slow failures (hangs) cannot eat the run.
pub fn shrink(
    case: &Case,
    verdict: &Verdict,
    dir: &Path,
    timeout: Duration,
    budget: Duration,
) -> Case {
    let start = Instant::now();
    let class = verdict.class;
    let mut best = Case {
        runs: verdict.runs.clone(),
        ..case.clone()
    };
    // A refusal must stay the same refusal: any broken program is refused.
    let want = case::signature(case, verdict);
    let keeps = |c: &Case| {
        start.elapsed() < budget && {
            let v = case::evaluate(c, dir, timeout);
            v.class == class && (class != Class::Refused || case::signature(c, &v) == want)
        }
    };
    if !keeps(&best) {
        best = case.clone();
    }
    // The source: lines, then tokens, each in chunks that halve.
    for by_tokens in [false, true] {
        let parts = |s: &str| -> Vec<String> {
            if by_tokens {
                tokens(s)
            } else {
                s.split_inclusive('\n').map(String::from).collect()
            }
        };
        let mut items = parts(&best.source);
        let mut chunk = items.len().div_ceil(2).max(1);
        while chunk >= 1 && start.elapsed() < budget {
            let mut i = 0;
            while i < items.len() && start.elapsed() < budget {
                let end = (i + chunk).min(items.len());
                let trial: Vec<String> = items[..i].iter().chain(&items[end..]).cloned().collect();
                let candidate = Case {
                    source: trial.concat(),
                    ..best.clone()
                };
                if keeps(&candidate) {
                    items = trial;
                    best = candidate;
                } else {
                    i += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    // The files: drop trailing bytes while the class stays.
    for f in 0..best.files.len() {
        let mut cut = best.files[f].1.len() / 2;
        while cut > 0 && start.elapsed() < budget {
            let mut candidate = best.clone();
            let len = candidate.files[f].1.len();
            candidate.files[f].1.truncate(len - cut.min(len));
            if keeps(&candidate) {
                best = candidate;
            } else {
                cut /= 2;
            }
        }
    }
    best
}

/// Writes `case` to `dir/NAME/` with a `repro.txt` naming the class and the
/// command lines that reproduce it from inside that folder.
pub fn save(case: &Case, verdict: &Verdict, root: &Path, name: &str) -> std::path::PathBuf {
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the find's folder");
    case::write(case, &dir);
    let mut text = format!(
        "class: {}\ngenerator: {}\n\nreproduce (from this folder):\n",
        verdict.class.name(),
        case.generator
    );
    let stdin = case.stdin.as_ref().map(|s| {
        std::fs::write(dir.join("stdin.txt"), s).expect("write the REPL script");
        " < stdin.txt"
    });
    for run in &case.runs {
        let words: Vec<String> = run.iter().map(|w| shell_quote(w)).collect();
        text.push_str(&format!(
            "    tdsl {}{}\n",
            words.join(" "),
            stdin.unwrap_or("")
        ));
    }
    if verdict.class == Class::Disagreement {
        text.push_str(
            "(the outputs of the two commands differ beyond the fuzzer's tolerance: docs/fuzzing.md)\n",
        );
    }
    text.push_str(&format!(
        "\nbinary: {}\n\n{}\n",
        exec::binary().display(),
        verdict.detail
    ));
    std::fs::write(dir.join("repro.txt"), text).expect("write repro.txt");
    let _ = std::fs::remove_file(dir.join(".stdout"));
    let _ = std::fs::remove_file(dir.join(".stderr"));
    dir
}

fn shell_quote(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./,:".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}
