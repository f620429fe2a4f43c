//! The fuzzer (docs/fuzzing.md): drives the `tdsl` binary as a subprocess on
//! generated, mutated and hostile inputs and classifies every outcome.
//!
//! `cargo test --test fuzz` runs a short fixed-seed campaign that must find
//! nothing; `scripts/fuzz.sh MINUTES` runs the ignored `long_campaign` with a
//! duration and seed from the environment and saves minimised reproducers.

#[path = "../support/mod.rs"]
mod support;

mod arrays;
mod bombs;
mod case;
mod data;
mod data_inputs;
mod exec;
mod inputs;
mod model;
mod mutate;
mod npy;
mod npz;
mod programs;
mod rng;
mod shrink;

use case::{Case, Verdict};
use exec::Class;
use rng::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus the mutator starts from: `programs/*.td` and `tests/errors/*.td`.
fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["programs", "tests/errors"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("the corpus folders exist")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "td"))
            .collect();
        files.sort();
        for f in files {
            // A corpus file may be deliberately not UTF-8 (an error case).
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            out.push((
                format!(
                    "{dir}/{}",
                    f.file_name().unwrap_or_default().to_string_lossy()
                ),
                text,
            ));
        }
    }
    out
}

/// A scratch folder with what the inputs refer to: the error corpus's data
/// (as `data/` and `tests/errors/data/`) and the example programs' (in
/// `data/`), a folder, an empty file and a FIFO.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["data", "tests/errors/data", "adir"] {
        std::fs::create_dir_all(dir.join(sub)).expect("create the scratch folder");
    }
    for entry in
        std::fs::read_dir(root().join("tests/errors/data")).expect("tests/errors/data exists")
    {
        let path = entry.expect("list tests/errors/data").path();
        let name = path.file_name().unwrap_or_default();
        for sub in ["data", "tests/errors/data"] {
            std::fs::copy(&path, dir.join(sub).join(name)).expect("copy the corpus data");
        }
    }
    // The example programs' data, which their mutations load as `data/...`.
    for entry in std::fs::read_dir(root().join("programs/data")).expect("programs/data exists") {
        let path = entry.expect("list programs/data").path();
        let name = path.file_name().unwrap_or_default();
        std::fs::copy(&path, dir.join("data").join(name)).expect("copy the programs' data");
    }
    std::fs::write(dir.join("empty.npy"), b"").expect("write empty.npy");
    let fifo = std::ffi::CString::new(dir.join("fifo").to_string_lossy().as_bytes())
        .expect("no NUL in the path");
    // SAFETY: `fifo` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) };
    dir
}

/// One input of the campaign: the generator is chosen by weight from the index.
fn make(seed: u64, index: u64, corpus: &[(String, String)]) -> Case {
    let mut rng = Rng::new(seed.wrapping_mul(0x1000_0000_01B3) ^ index);
    match rng.below(28) {
        0..=6 => inputs::generated(&mut rng),
        7..=11 => inputs::mutated(&mut rng, corpus),
        12..=14 => inputs::npy_feed(&mut rng),
        15..=16 => inputs::repl(&mut rng),
        17..=19 => inputs::flags(&mut rng),
        20..=22 => data_inputs::generated(&mut rng),
        23 => data_inputs::mutated(&mut rng),
        24..=25 => data_inputs::hostile_npz(&mut rng),
        _ => data_inputs::conversion(&mut rng),
    }
}

#[derive(Default)]
struct Report {
    inputs: u64,
    counts: BTreeMap<Class, u64>,
    /// The first find of each signature: (signature, case, verdict, index).
    finds: Vec<(String, Case, Verdict, u64)>,
    seen: BTreeSet<String>,
}

impl Report {
    fn summary(&self) -> String {
        let n = |c| self.counts.get(&c).copied().unwrap_or(0);
        format!(
            "inputs {}, crashes {}, hangs {}, internal errors {}, disagreements {}, bad exits {}, out of memory {}, wrongly refused {} ({} distinct finds)",
            self.inputs,
            n(Class::Crash),
            n(Class::Hang),
            n(Class::Internal),
            n(Class::Disagreement),
            n(Class::BadExit),
            n(Class::OutOfMemory),
            n(Class::Refused),
            self.finds.len()
        )
    }
}

/// Runs inputs `0..` of `seed` until `count` inputs or the deadline.
fn campaign(seed: u64, count: u64, deadline: Instant, timeout: Duration, dir: &Path) -> Report {
    let corpus = corpus();
    let mut report = Report::default();
    for index in 0..count {
        if Instant::now() >= deadline {
            break;
        }
        let case = make(seed, index, &corpus);
        let verdict = case::evaluate(&case, dir, timeout);
        report.inputs += 1;
        *report.counts.entry(verdict.class).or_default() += 1;
        if verdict.class != Class::Fine {
            let sig = case::signature(&case, &verdict);
            if report.seen.insert(sig.clone()) {
                eprintln!("find #{}: input {index}: {sig}", report.finds.len() + 1);
                report.finds.push((sig, case, verdict, index));
            }
        }
    }
    report
}

fn describe(case: &Case, verdict: &Verdict) -> String {
    let runs: Vec<String> = verdict
        .runs
        .iter()
        .map(|r| format!("tdsl {}", r.join(" ")))
        .collect();
    format!(
        "[{}] {}\n--- prog.td ---\n{}--- stdin ---\n{}\n--- detail ---\n{}\n",
        case.generator,
        runs.join("  |  "),
        case.source,
        case.stdin.as_deref().unwrap_or(""),
        verdict.detail
    )
}

/// Inputs of the short run: a few seconds with the debug binary.
const INPUTS: u64 = 300;

/// The bounded run of `cargo test`: a fixed seed and input count, so it is
/// deterministic; it must find nothing.
#[test]
fn short_campaign_finds_nothing() {
    let dir = scratch("short");
    let far = Instant::now() + Duration::from_secs(3600);
    let report = campaign(1, INPUTS, far, Duration::from_secs(5), &dir);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{}", report.summary());
    assert_eq!(report.inputs, INPUTS, "every input ran");
    let finds: Vec<String> = report
        .finds
        .iter()
        .map(|(_, c, v, _)| describe(c, v))
        .collect();
    assert!(
        finds.is_empty(),
        "{}\n\n{}",
        report.summary(),
        finds.join("\n")
    );
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The long run (`scripts/fuzz.sh MINUTES`): `TDSL_FUZZ_MINUTES`, `TDSL_FUZZ_SEED`,
/// `TDSL_FUZZ_OUT` (default `target/fuzz-finds`), `TDSL_FUZZ_TIMEOUT` (seconds per
/// command). Each distinct find is minimised and saved; counts are printed at the end.
#[test]
#[ignore = "minutes long: run by scripts/fuzz.sh"]
fn long_campaign() {
    let minutes = env_u64("TDSL_FUZZ_MINUTES", 5);
    let seed = env_u64("TDSL_FUZZ_SEED", 0);
    let timeout = Duration::from_secs(env_u64("TDSL_FUZZ_TIMEOUT", 10));
    let out = std::env::var_os("TDSL_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/fuzz-finds"));
    std::fs::create_dir_all(&out).expect("create the finds folder");
    let dir = scratch("long");
    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    eprintln!(
        "fuzzing {} for {minutes} min, seed {seed}",
        exec::binary().display()
    );
    let report = campaign(seed, u64::MAX, deadline, timeout, &dir);
    let shrinking = Instant::now();
    for (i, (sig, case, verdict, index)) in report.finds.iter().enumerate() {
        // Minimising gets 20 s per find and at most a third of the run's length in all.
        let left = (minutes * 20).saturating_sub(shrinking.elapsed().as_secs());
        let budget = Duration::from_secs(left.min(20));
        let small = shrink::shrink(case, verdict, &dir, timeout, budget);
        let name = format!("{seed}-{index}-{}", verdict.class.name());
        // The minimised case's own stderr, when it still shows the find.
        let fresh = case::evaluate(&small, &dir, timeout);
        let shown = if fresh.class == verdict.class {
            &fresh
        } else {
            verdict
        };
        let saved = shrink::save(&small, shown, &out, &name);
        eprintln!("find {}: {sig}\n    saved {}", i + 1, saved.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", report.summary());
    println!("reproducers: {}", out.display());
}
