//! Fixed zip-bomb cases (`npz::bomb`), made at test time: an `.npz` member
//! that inflates far beyond what it declares is refused while inflating, and
//! one that declares more than the memory limit is refused before anything is
//! allocated, on both backends, as a dataset and as a `--feed`.

use crate::case::{args, PROGRAM};
use crate::exec::{self, Class};
use crate::npz::{self, End, Entry};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A folder holding `prog.td` with `source` and `d.npz` with member `x.npy`.
fn folder(test: &str, source: &str, x: Entry) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-bombs-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    std::fs::write(dir.join(PROGRAM), source).expect("write the program");
    std::fs::write(dir.join("d.npz"), npz::write(&[x], &End::default())).expect("write d.npz");
    dir
}

/// Runs `words` on both backends; each must exit 1 with `wanted` on stderr.
fn refused(dir: &Path, words: &[&str], wanted: &str) {
    for backend in ["interp", "jit"] {
        let mut run = args(words);
        run.extend(args(&["--backend", backend]));
        let out = exec::run(dir, &run, None, Duration::from_secs(60));
        assert_eq!(out.class(), Class::Fine, "{backend}: {}", out.stderr);
        assert_eq!(out.code, Some(1), "{backend}: {}", out.stderr);
        assert!(out.stderr.contains(wanted), "{backend}: {}", out.stderr);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_member_that_inflates_beyond_its_declared_size_is_refused() {
    // 4 values declared; the stream holds 256 MiB of zeros after them.
    let header = crate::arrays::npy("u1", true, false, &[4], &[]).len() as u32;
    let source = "placeholder x: f32[4];\nrun x;\n";
    let dir = folder(
        "inflate",
        source,
        npz::bomb("x.npy", 4, Some(header + 4), 1 << 28),
    );
    refused(
        &dir,
        &["run", PROGRAM, "--feed", "x=d.npz"],
        "it has bytes after its data",
    );
    let dataset = "dataset d = load(\"d.npz\");\nplaceholder x: f32[?] = d.x;\nrun x;\n";
    let dir = folder(
        "inflate-dataset",
        dataset,
        npz::bomb("x.npy", 4, Some(header + 4), 1 << 28),
    );
    refused(&dir, &["run", PROGRAM], "it has bytes after its data");
}

#[test]
fn a_member_declaring_more_than_the_memory_limit_is_refused_before_reading() {
    let source = "dataset d = load(\"d.npz\");\nplaceholder x: f32[?] = d.x;\nrun x;\n";
    let dir = folder(
        "declared",
        source,
        npz::bomb("x.npy", 3_000_000_000, None, 1 << 20),
    );
    refused(&dir, &["run", PROGRAM], "more than the memory limit");
    let dir = folder(
        "declared-limit",
        source,
        npz::bomb("x.npy", 1 << 20, None, 1 << 20),
    );
    refused(
        &dir,
        &["run", PROGRAM, "--max-memory", "1M"],
        "more than the memory limit",
    );
}

#[test]
fn a_member_whose_zip_sizes_lie_is_refused() {
    let x = crate::arrays::npy("f4", true, false, &[4], &[crate::arrays::V::F(1.0); 4]);
    let mut e = Entry::new("x.npy", &x, true);
    e.central_sizes.1 = 0xFFFF_FFFF;
    e.local_sizes.1 = 0xFFFF_FFFF;
    let dir = folder("sizes", "placeholder x: f32[4];\nrun x;\n", e);
    refused(&dir, &["run", PROGRAM, "--feed", "x=d.npz"], "error");
}
