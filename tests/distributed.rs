//! `allreduce` and the launcher check on one process (plain `cargo test`); the
//! multi-process tests are `tests/mpi.rs` (`--features mpi`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-dist-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `tdsl run FILE ARGS` on `source` in a fresh folder, with `env` set.
fn run(test: &str, source: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = temp_dir(test);
    std::fs::write(dir.join("p.td"), source).unwrap();
    tdsl_in(&dir, args, env)
}

fn tdsl_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdsl"));
    command.arg("run").arg("p.td").args(args).current_dir(dir);
    for var in [
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_SIZE",
        "MPI_LOCALNRANKS",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the tdsl binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const ALLREDUCE: &str = "\
let x = [1.5, -2.0, 3.0];
let s = allreduce(x, op=\"sum\");
let m = allreduce(x * 2.0);
let h = allreduce(x, op=\"max\");
run s, m, h;
";

#[test]
fn allreduce_on_one_process_is_the_identity_on_both_backends() {
    let mut outputs = Vec::new();
    for backend in ["interp", "jit"] {
        let out = run(
            &format!("identity-{backend}"),
            ALLREDUCE,
            &["--backend", backend],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("s: f32[3] = [1.5, -2, 3]"), "{stdout}");
        assert!(stdout.contains("m: f32[3] = [3, -4, 6]"), "{stdout}");
        assert!(stdout.contains("h: f32[3] = [1.5, -2, 3]"), "{stdout}");
        outputs.push(stdout);
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn allreduce_gradient_passes_through_on_one_process() {
    let source = "\
variable w: f32[2] = [1.0, 2.0];
let loss = sum(allreduce(w * w, op=\"sum\"));
let g = grad(loss, w);
run g;
";
    for backend in ["interp", "jit"] {
        let out = run(
            &format!("grad-{backend}"),
            source,
            &["--backend", backend],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("g: f32[2] = [2, 4]"),
            "{}",
            text(&out.stdout)
        );
    }
}

#[test]
fn allreduce_max_has_no_gradient_yet() {
    let source = "\
variable w: f32[2] = [1.0, 2.0];
let loss = sum(allreduce(w, op=\"max\"));
let train = minimize(loss, sgd(0.1));
run train;
";
    let out = run("max-grad", source, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not supported yet"), "{stderr}");
    assert!(stderr.contains("allreduce"), "{stderr}");
}

#[test]
fn allreduce_bad_op_and_dtype_are_errors() {
    let out = run(
        "bad-op",
        "let y = allreduce([1.0], op=\"min\");\nrun y;\n",
        &[],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`op` must be \"sum\", \"mean\" or \"max\""),
        "{stderr}"
    );
    assert!(stderr.contains("p.td:1:"), "{stderr}");

    let out = run(
        "bad-dtype",
        "let y = allreduce([1, 2]);\nrun y;\n",
        &[],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("allreduce"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn allreduce_in_a_region_is_an_error() {
    let source =
        "placeholder p: bool[] = true;\nlet y = cond(p, allreduce([1.0]), [2.0]);\nrun y;\n";
    let out = run("region", source, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`allreduce` is not allowed inside a cond branch"),
        "{stderr}"
    );
}

#[test]
fn a_launcher_size_of_one_runs_alone() {
    let out = run("size-one", ALLREDUCE, &[], &[("OMPI_COMM_WORLD_SIZE", "1")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[cfg(not(feature = "mpi"))]
#[test]
fn several_processes_without_the_mpi_feature_is_an_error() {
    for var in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
        let out = run(&format!("no-mpi-{var}"), ALLREDUCE, &[], &[(var, "2")]);
        assert_eq!(out.status.code(), Some(1), "{var}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("built without MPI"), "{stderr}");
        assert!(stderr.contains("--features mpi"), "{stderr}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
}

/// Builds `source` (in the data fixtures' folder) as rank `rank` of `ranks`.
fn build_as(source: &str, rank: usize, ranks: usize) -> Result<tdsl::Module, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data");
    let mut options = tdsl::Options {
        ranks,
        ..Default::default()
    };
    options.data.rank = rank;
    tdsl::compile_with(source, &dir, &options)
        .map(|c| c.module)
        .map_err(|diags| {
            diags
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        })
}

fn session(module: tdsl::Module, backend: tdsl::backend::Backend) -> tdsl::Session {
    tdsl::Session::new(module, tdsl::engines::engine(backend, Default::default()))
}

// `rows_x.npy` holds rows 0, 1, ..., 9 (one column).
const SPLIT: &str = "\
dataset d = load(x=\"rows_x.npy\", batch=4);
placeholder x: f32[?, 1] = d.x;
let y = dropout(x + 1.0, 0.5, seed=7);
";

#[test]
fn each_rank_reads_its_share_of_the_global_batch() {
    for (rank, first) in [(0, 0.0), (1, 2.0)] {
        let module = build_as(SPLIT, rank, 2).expect("builds");
        let mut s = session(module, tdsl::backend::Backend::Jit);
        let step0 = s.run(&["x"]).expect("runs")[0].to_f64_vec();
        let step1 = s.run(&["x"]).expect("runs")[0].to_f64_vec();
        assert_eq!(step0, vec![first, first + 1.0], "rank {rank}");
        assert_eq!(step1, vec![first + 4.0, first + 5.0], "rank {rank}");
    }
}

#[test]
fn dropout_on_a_share_draws_what_one_process_draws_for_those_rows() {
    for backend in [tdsl::backend::Backend::Interp, tdsl::backend::Backend::Jit] {
        let mut one = session(build_as(SPLIT, 0, 1).expect("builds"), backend);
        let whole: Vec<Vec<f64>> = (0..2)
            .map(|_| one.run(&["y"]).expect("runs")[0].to_f64_vec())
            .collect();
        assert!(
            whole[0].contains(&0.0) || whole[1].contains(&0.0),
            "{whole:?}"
        );
        for ranks in [2, 4] {
            let rows = 4 / ranks;
            for rank in 0..ranks {
                let mut s = session(build_as(SPLIT, rank, ranks).expect("builds"), backend);
                for expect in &whole {
                    let got = s.run(&["y"]).expect("runs")[0].to_f64_vec();
                    assert_eq!(
                        got[..],
                        expect[rank * rows..(rank + 1) * rows],
                        "rank {rank} of {ranks}, {backend:?}"
                    );
                }
            }
        }
    }
}

// Dropout on a share inside a `cond` branch and a `fold` body (through a
// capture, the accumulator's init, and per iteration).
const SPLIT_REGIONS: &str = "\
dataset d = load(x=\"rows_x.npy\", batch=4);
placeholder x: f32[?, 1] = d.x;
let h = x * ones([1, 8]) + 1.0;
let yc = cond(sum(x) >= 0.0, dropout(h, 0.5, seed=7), h);
let yf = fold(|acc, t| acc + dropout(h * t, 0.5, seed=8), h * 0.0, ones([3]));
let ya = fold(|acc, t| dropout(acc, 0.5, seed=9) + t, h, ones([2]));
";

#[test]
fn dropout_on_a_share_inside_regions_draws_what_one_process_draws() {
    let fetches = ["yc", "yf", "ya"];
    for backend in [tdsl::backend::Backend::Interp, tdsl::backend::Backend::Jit] {
        let mut one = session(build_as(SPLIT_REGIONS, 0, 1).expect("builds"), backend);
        let whole: Vec<Vec<Vec<f64>>> = (0..2)
            .map(|_| {
                let out = one.run(&fetches).expect("runs");
                out.iter().map(|t| t.to_f64_vec()).collect()
            })
            .collect();
        assert!(whole[0][0].contains(&0.0), "{whole:?}");
        for ranks in [2, 4] {
            let n = 8 * 4 / ranks;
            for rank in 0..ranks {
                let mut s = session(
                    build_as(SPLIT_REGIONS, rank, ranks).expect("builds"),
                    backend,
                );
                for expect in &whole {
                    let got = s.run(&fetches).expect("runs");
                    for (k, name) in fetches.iter().enumerate() {
                        assert_eq!(
                            got[k].to_f64_vec()[..],
                            expect[k][rank * n..(rank + 1) * n],
                            "`{name}`, rank {rank} of {ranks}, {backend:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_global_batch_that_does_not_divide_among_the_ranks_is_an_error() {
    let err = build_as(SPLIT, 0, 3).expect_err("4 rows cannot split 3 ways");
    assert!(
        err.contains("`batch=4` cannot be split among 3 processes"),
        "{err}"
    );
    // A dataset without `batch` is read whole by every process.
    let whole = "dataset d = load(x=\"rows_x.npy\");\nplaceholder x: f32[?, 1] = d.x;\n";
    let mut s = session(
        build_as(whole, 2, 3).expect("builds"),
        tdsl::backend::Backend::Interp,
    );
    assert_eq!(s.run(&["x"]).expect("runs")[0].to_f64_vec().len(), 10);
}
