//! Gradient buckets on the JIT (`docs/distributed.md`, "Buckets and
//! overlap"): any bucket size gives one process's variables, and the
//! reductions of the last layers start before the backward pass ends.

use super::split_batch::{digits_program, largest_relative_difference, train_50};
use super::{mpirun, output, temp_dir, text, values, TDSL};
use std::collections::BTreeMap;
use std::path::Path;

/// Trains `program` 50 steps on `k` ranks with `TDSL_BUCKET_BYTES=bucket`:
/// the saved variables, and rank 0's `communication:` line.
fn train_bucketed(
    dir: &Path,
    program: &str,
    k: usize,
    bucket: &str,
) -> (BTreeMap<String, Vec<f64>>, String) {
    std::fs::write(dir.join("p.td"), program).unwrap();
    let args = [
        "-x",
        "TDSL_BUCKET_BYTES",
        TDSL,
        "run",
        "p.td",
        "--fetch",
        "train_step",
        "--steps",
        "50",
        "--save",
        "vars",
        "--timings",
    ];
    let mut command = mpirun(dir, k, &args);
    command.env("TDSL_BUCKET_BYTES", bucket);
    let out = output(command);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{k} ranks, bucket {bucket}: {stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("communication:"))
        .unwrap_or_else(|| panic!("no communication line: {stderr}"))
        .to_string();
    let mut vars = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("vars")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "npy") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            vars.insert(name, values(&tdsl::ir::npy::read_npy(&path).unwrap()));
        }
    }
    (vars, line)
}

/// `(allreduces, buckets, buckets started before the last gradient)` from a
/// `communication:` line.
fn bucket_counts(line: &str) -> (u64, u64, u64) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |word: &str| -> u64 {
        let at = words.iter().position(|w| *w == word).unwrap();
        words[at - 1].trim_start_matches('(').parse().unwrap()
    };
    (after("allreduces"), after("buckets"), after("started"))
}

/// One byte (every gradient its own bucket, reduced in its own buffer), the
/// default, and a gigabyte (every gradient copied into one packed bucket)
/// give one process's variables within 1e-5, with SGD and Adam, on 2 and 4
/// ranks.
#[test]
fn every_bucket_size_gives_the_variables_of_one_process() {
    for optimizer in ["sgd(0.1)", "adam(0.003)"] {
        let program = digits_program("digits_mlp.td", optimizer, None);
        let tag = &optimizer[..3];
        let alone = train_50(
            &temp_dir(&format!("bucket-{tag}-alone")),
            &program,
            None,
            "jit",
        );
        for k in [2usize, 4] {
            for bucket in ["1", "1048576", "1000000000"] {
                let dir = temp_dir(&format!("bucket-{tag}-{k}-{bucket}"));
                let (ranked, line) = train_bucketed(&dir, &program, k, bucket);
                let worst = largest_relative_difference(&alone, &ranked);
                eprintln!("{optimizer}, {k} ranks, bucket {bucket}: {worst:.3e} ({line})");
                assert!(
                    worst <= 1e-5,
                    "{optimizer}, {k} ranks, bucket {bucket}: {worst:e}"
                );
                let (allreduces, buckets, _) = bucket_counts(&line);
                // Four gradients a step, in four buckets or in one.
                assert_eq!(allreduces, 200, "{line}");
                let expected = if bucket == "1" { 200 } else { 50 };
                assert_eq!(buckets, expected, "{line}");
            }
        }
    }
}

/// With a bucket per gradient, the reductions of the last layer's gradients
/// start while the first layer's are still being computed: three of the
/// four buckets of each step start before its last gradient.
#[test]
fn buckets_start_before_the_backward_pass_ends() {
    let program = digits_program("digits_mlp.td", "sgd(0.1)", None);
    let dir = temp_dir("bucket-early");
    let (_, line) = train_bucketed(&dir, &program, 2, "1");
    let (allreduces, buckets, early) = bucket_counts(&line);
    assert_eq!((allreduces, buckets, early), (200, 200, 150), "{line}");
}

/// A bucket size that is not a positive number is an error on every rank
/// before anything runs.
#[test]
fn a_bad_bucket_size_is_an_error() {
    let dir = temp_dir("bucket-bad");
    let program = digits_program("digits_mlp.td", "sgd(0.1)", None);
    std::fs::write(dir.join("p.td"), program).unwrap();
    let mut command = mpirun(
        &dir,
        2,
        &[
            "-x",
            "TDSL_BUCKET_BYTES",
            TDSL,
            "run",
            "p.td",
            "--steps",
            "2",
        ],
    );
    command.env("TDSL_BUCKET_BYTES", "4MB");
    let out = output(command);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("TDSL_BUCKET_BYTES=4MB: the gradient bucket size must be a positive"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}
