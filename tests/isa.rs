//! Every instruction set this CPU runs (`TDSL_ISA` and `--isa`), end to end:
//! the example programs print what the interpreter prints (within tolerance),
//! the JIT's inline transcendentals use no FMA (and no libm call in its place)
//! on the portable path, and a set the CPU lacks is a clear error.

mod support;

use std::process::{Command, Output};
use tdsl::kernels::isa::Isa;

fn runnable() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| isa.missing().is_empty())
        .collect()
}

fn tdsl(env_isa: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tdsl"));
    cmd.args(args).env_remove("TDSL_ISA");
    if let Some(isa) = env_isa {
        cmd.env("TDSL_ISA", isa);
    }
    cmd.output().expect("tdsl runs")
}

fn stdout_ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn example_programs_match_the_interpreter_under_every_runnable_isa() {
    for program in [
        "programs/three_layer_convnet.td",
        "programs/two_layer_fc.td",
        // Ten-class products (`kernels::narrow`) forward and backward.
        "programs/digits_mlp.td",
    ] {
        let want = stdout_ok(
            &tdsl(None, &["run", program, "--backend", "interp"]),
            program,
        );
        for isa in runnable() {
            let got = stdout_ok(&tdsl(Some(isa.name()), &["run", program]), isa.name());
            if let Err(e) = support::text_matches(&want, &got) {
                panic!("{program} under TDSL_ISA={}:\n{e}", isa.name());
            }
        }
    }
}

#[test]
fn the_flag_forces_a_set_like_the_environment() {
    let program = "programs/two_layer_fc.td";
    let by_env = stdout_ok(&tdsl(Some("portable"), &["run", program]), "env");
    // The flag wins over the environment.
    let by_flag = stdout_ok(
        &tdsl(Some("unknown"), &["run", program, "--isa", "portable"]),
        "flag",
    );
    assert_eq!(by_env, by_flag);
}

/// A program of every inline transcendental, with the JIT's code printed.
const TRANSCENDENTALS: &str = "\
placeholder x: f32[8, 33] = randn(seed=7);
let y = exp(x) + tanh(x) + sigmoid(x) + log(sigmoid(x) + 0.5);
run y;
";

#[test]
fn inline_transcendentals_fuse_only_where_the_isa_has_fma() {
    let dir = std::env::temp_dir().join(format!("tdsl-isa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("transcendentals.td");
    std::fs::write(&file, TRANSCENDENTALS).unwrap();
    let path = file.to_str().unwrap();
    let want = stdout_ok(&tdsl(None, &["run", path, "--backend", "interp"]), "interp");
    for isa in runnable() {
        let out = Command::new(env!("CARGO_BIN_EXE_tdsl"))
            .args(["run", path, "--isa", isa.name()])
            .env("TDSL_JIT_DISASM", "1")
            .output()
            .unwrap();
        let got = stdout_ok(&out, isa.name());
        if let Err(e) = support::text_matches(&want, &got) {
            panic!("--isa {}:\n{e}", isa.name());
        }
        let code = String::from_utf8_lossy(&out.stderr);
        let fused = code.contains("vfmadd");
        let libcall = code.contains("FmaF32") || code.contains("fmaf");
        assert!(
            !libcall,
            "--isa {}: a libm fma call in the JIT code",
            isa.name()
        );
        assert_eq!(
            fused,
            isa.has_fma(),
            "--isa {}: vfmadd present: {fused}",
            isa.name()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_set_this_cpu_lacks_is_a_clear_error() {
    let Some(missing) = Isa::ALL.into_iter().find(|isa| !isa.missing().is_empty()) else {
        eprintln!("skipped: this CPU runs every set (the message is unit-tested in isa.rs)");
        return;
    };
    for (env, flag) in [(Some(missing.name()), None), (None, Some(missing.name()))] {
        let mut args = vec!["run", "programs/two_layer_fc.td"];
        args.extend(flag.map(|f| ["--isa", f]).into_iter().flatten());
        let out = tdsl(env, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("lacks") && err.contains(missing.name()),
            "{err}"
        );
    }
}

#[test]
fn unknown_names_are_usage_errors() {
    let out = tdsl(Some("sse9"), &["run", "programs/two_layer_fc.td"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("TDSL_ISA") && err.contains("sse9"), "{err}");
    let out = tdsl(None, &["run", "programs/two_layer_fc.td", "--isa", "sse9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sse9"));
}
