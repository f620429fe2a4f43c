//! The JIT's diagnostic switches: the CLI reads `TDSL_GEMM_LOG`,
//! `TDSL_MEM_LOG` and `TDSL_ARENA` into the JIT's options; the logs go to
//! stderr and change no result.

use std::process::{Command, Output};

const SWITCHES: [&str; 4] = [
    "TDSL_GEMM_LOG",
    "TDSL_MEM_LOG",
    "TDSL_ARENA",
    "TDSL_JIT_DISASM",
];

fn tdsl(env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tdsl"));
    cmd.args(["run", "programs/two_layer_fc.td", "--threads", "1"]);
    for name in SWITCHES {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("tdsl runs");
    assert!(
        out.status.success(),
        "{env:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn logs_are_off_unless_asked_for() {
    let out = tdsl(&[]);
    let err = stderr(&out);
    assert!(!err.contains("gemm ") && !err.contains("[mem]"), "{err}");
}

#[test]
fn each_switch_reaches_the_jit_and_changes_no_result() {
    // One thread: every run gives the same bits.
    let plain = tdsl(&[]).stdout;
    let gemm = tdsl(&[("TDSL_GEMM_LOG", "1")]);
    assert!(stderr(&gemm).contains("GFLOP/s"), "{}", stderr(&gemm));
    assert_eq!(gemm.stdout, plain, "TDSL_GEMM_LOG");
    let mem = tdsl(&[("TDSL_MEM_LOG", "1")]);
    assert!(
        stderr(&mem).contains("[mem] live minimum"),
        "{}",
        stderr(&mem)
    );
    assert_eq!(mem.stdout, plain, "TDSL_MEM_LOG");
    // With the arena off the memory log counts no arena bytes.
    let pooled = tdsl(&[("TDSL_ARENA", "0"), ("TDSL_MEM_LOG", "1")]);
    assert!(
        stderr(&pooled).contains("(0 of 0 planned values)"),
        "{}",
        stderr(&pooled)
    );
    assert!(
        !stderr(&mem).contains("(0 of 0 planned values)"),
        "{}",
        stderr(&mem)
    );
    assert_eq!(pooled.stdout, plain, "TDSL_ARENA=0");
}
