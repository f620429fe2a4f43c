//! End-to-end tests of the `tdsl` binary on small programs written to temp folders.
//!
//! `usage` needs only the command line; `pipeline` needs the parser, the builder
//! and the interpreter.

mod support;
use support::{tdsl, temp_dir};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

mod usage {
    use super::*;

    #[test]
    fn usage_errors_exit_2() {
        let dir = temp_dir("usage");
        for args in [
            &[][..],
            &["run"][..],
            &["run", "p.td", "--feed", "x"][..],
            &["run", "p.td", "--steps", "0"][..],
            &["run", "p.td", "--backend", "gpu"][..],
            &["run", "p.td", "--threads", "0"][..],
            &["nonsense"][..],
        ] {
            let out = tdsl(&dir, args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(!stderr(&out).is_empty());
        }
    }

    #[test]
    fn help_exits_0() {
        let dir = temp_dir("help");
        let out = tdsl(&dir, &["run", "--help"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout(&out).contains("--feed"));
    }

    #[test]
    fn missing_file_exits_1_with_message() {
        let dir = temp_dir("missing");
        for command in ["run", "check", "graph"] {
            let out = tdsl(&dir, &[command, "x.td"]);
            assert_eq!(out.status.code(), Some(1), "{command}");
            assert!(
                stderr(&out).contains("error: cannot read 'x.td': No such file or directory"),
                "{}",
                stderr(&out)
            );
            assert!(stdout(&out).is_empty());
        }
    }

    #[test]
    fn non_utf8_file_exits_1() {
        let dir = temp_dir("utf8");
        std::fs::write(dir.join("bad.td"), b"let x = \xff\xfe;").unwrap();
        let out = tdsl(&dir, &["check", "bad.td"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("not valid UTF-8"), "{}", stderr(&out));
        // The position of the first bad byte, like any other diagnostic.
        assert!(stderr(&out).contains("bad.td:1:9"), "{}", stderr(&out));
    }

    #[test]
    fn check_types_large_initialisers_without_computing_them() {
        // 8 GB of normals under `run`; `check` needs only the types.
        let dir = temp_dir("check-values");
        let source = "placeholder x: f32[1000000000, 2] = randn(seed=1);\n\
                      let r = randn([2147483647, 1], seed=2);\nrun x, r;\n";
        std::fs::write(dir.join("big.td"), source).unwrap();
        let out = tdsl(&dir, &["check", "big.td", "--max-memory", "16G"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("let r: f32[2147483647, 1]"),
            "{}",
            stdout(&out)
        );
        let out = tdsl(&dir, &["graph", "big.td", "--max-memory", "16G"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).contains("const f32[2147483647, 1] <...>"));
        // The limit holds for `check` as for `run`, naming the value.
        let out = tdsl(&dir, &["check", "big.td", "--max-memory", "2G"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("big.td:1:13"), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("needs 8000000000 bytes"),
            "{}",
            stderr(&out)
        );
    }

    #[test]
    fn jit_backend_runs_like_the_interpreter() {
        let dir = temp_dir("jit");
        std::fs::write(dir.join("p.td"), "let a = 1.0;\nlet b = a * 2.0;\nrun b;\n").unwrap();
        let jit = tdsl(&dir, &["run", "p.td", "--backend", "jit"]);
        let interp = tdsl(&dir, &["run", "p.td", "--backend", "interp"]);
        assert_eq!(jit.status.code(), Some(0), "{}", stderr(&jit));
        assert_eq!(stdout(&jit), stdout(&interp));
    }

    #[test]
    fn repl_with_empty_input_exits_cleanly() {
        // Scripted sessions are in tests/repl.rs; here only the dispatch.
        let dir = temp_dir("repl");
        let out = tdsl(&dir, &["repl"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

/// These need the parser, the builder and the interpreter.
#[path = "cli/pipeline.rs"]
mod pipeline;

/// `--timings`, `--threads` and `--check-bounds`: timing values are never
/// asserted, only the line's form; the flags must not change what is printed.
mod perf_flags {
    use super::*;

    fn fc_program() -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        root.join("programs/two_layer_fc.td").display().to_string()
    }

    /// The number after `NAME ` in `line`, which must be followed by ` ms`.
    fn field(line: &str, name: &str) -> f64 {
        let at = line
            .find(&format!("{name} "))
            .unwrap_or_else(|| panic!("{name}: {line}"));
        let rest = &line[at + name.len() + 1..];
        let number = rest.split(' ').next().unwrap();
        assert!(rest[number.len()..].starts_with(" ms"), "{name}: {line}");
        number.parse().unwrap_or_else(|_| panic!("{name}: {line}"))
    }

    #[test]
    fn timings_prints_every_phase_and_the_step_summary() {
        let dir = temp_dir("timings");
        let fc = fc_program();
        let args = ["run", fc.as_str(), "--fetch", "train,loss", "--steps", "3"];
        let plain = tdsl(&dir, &args);
        for backend in ["jit", "interp"] {
            let out = tdsl(
                &dir,
                &[&args[..], &["--timings", "--backend", backend]].concat(),
            );
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert_eq!(stdout(&out), stdout(&plain), "stdout is unchanged");
            let err = stderr(&out);
            let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("timings: ")).collect();
            assert_eq!(lines.len(), 1, "{err}");
            let line = lines[0];
            for name in [
                "build", "values", "autodiff", "optimise", "compile", "median", "min", "max",
            ] {
                assert!(field(line, name) >= 0.0);
            }
            assert!(field(line, "min") <= field(line, "median"), "{line}");
            assert!(field(line, "median") <= field(line, "max"), "{line}");
            assert!(line.ends_with(" (3 steps)"), "{line}");
            // The JIT generates code; the interpreter only builds its
            // schedule (a few microseconds, which may round to 0.00).
            if backend == "jit" {
                assert!(field(line, "compile") > 0.0, "{line}");
            }
        }
        let out = tdsl(&dir, &args);
        assert!(!stderr(&out).contains("timings"), "only with --timings");
    }

    #[test]
    fn threads_and_check_bounds_give_the_same_output() {
        let dir = temp_dir("threads");
        let fc = fc_program();
        let args = ["run", fc.as_str(), "--fetch", "loss,train", "--steps", "3"];
        let reference = tdsl(&dir, &[&args[..], &["--backend", "interp"]].concat());
        assert_eq!(reference.status.code(), Some(0), "{}", stderr(&reference));
        assert!(stdout(&reference).starts_with("[step 3] loss: f32[] = "));
        for threads in ["1", "2"] {
            let plain = tdsl(&dir, &[&args[..], &["--threads", threads]].concat());
            assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
            // The JIT agrees with the interpreter within the golden tolerance
            // (their rounding differs by a few ulp) ...
            if let Err(why) = crate::support::text_matches(&stdout(&reference), &stdout(&plain)) {
                panic!("--threads {threads} against the interpreter:\n{why}");
            }
            // ... and bounds checks change no bit at a given thread count.
            let checked = [&args[..], &["--threads", threads, "--check-bounds"]].concat();
            let out = tdsl(&dir, &checked);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert_eq!(
                stdout(&out),
                stdout(&plain),
                "--threads {threads} --check-bounds"
            );
        }
    }
}
