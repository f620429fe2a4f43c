//! Data-parallel runs under `mpirun` over loopback (`--features mpi`; needs
//! Open MPI's `mpirun` on the PATH): `allreduce` values, training on 2 and 4
//! ranks against one process (shards fed per rank, and the digits programs'
//! global batch split by rank), the start check, and a killed rank.
#![cfg(feature = "mpi")]

// The digits programs on 1, 2 and 4 ranks, dropout, an indivisible batch
// (a crate root's `mod` would look in `tests/`, hence the path).
#[path = "mpi/split_batch.rs"]
mod split_batch;
// Gradient buckets: their size, and that they start before the backward
// pass ends.
#[path = "mpi/buckets.rs"]
mod buckets;

use ndarray::ArrayD;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tdsl::ir::npy::{read_npy, write_npy_atomic};
use tdsl::Tensor;

const TDSL: &str = env!("CARGO_BIN_EXE_tdsl");

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-mpi-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `mpirun -n K` of `program ARGS` in `dir`, on this host only.
fn mpirun(dir: &Path, k: usize, program: &[&str]) -> Command {
    let mut command = Command::new("mpirun");
    command
        .args([
            "--oversubscribe",
            "--allow-run-as-root",
            "-n",
            &k.to_string(),
        ])
        .args([
            "--mca",
            "btl",
            "self,tcp",
            "--mca",
            "btl_tcp_if_include",
            "lo",
        ])
        .args(program)
        .current_dir(dir)
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .env("RAYON_NUM_THREADS", "1");
    command
}

fn output(mut command: Command) -> Output {
    command.output().expect("mpirun runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn f32s(dims: &[usize], values: Vec<f32>) -> Tensor {
    Tensor::F32(ArrayD::from_shape_vec(dims.to_vec(), values).unwrap())
}

fn values(tensor: &Tensor) -> Vec<f64> {
    tensor.to_f64_vec()
}

#[test]
fn allreduce_combines_each_ranks_value() {
    for k in [2usize, 4] {
        let dir = temp_dir(&format!("values-{k}"));
        std::fs::write(
            dir.join("p.td"),
            "placeholder x: f32[2];\nlet s = allreduce(x, op=\"sum\");\n\
             let m = allreduce(x);\nlet h = allreduce(x, op=\"max\");\nrun s, m, h;\n",
        )
        .unwrap();
        // Rank r feeds [r + 1, -r].
        for r in 0..k {
            let x = f32s(&[2], vec![r as f32 + 1.0, 0.0 - r as f32]);
            write_npy_atomic(&dir.join(format!("x_{r}.npy")), &x).unwrap();
        }
        for backend in ["jit", "interp"] {
            let out = output(mpirun(
                &dir,
                k,
                &[
                    TDSL,
                    "run",
                    "p.td",
                    "--feed",
                    "x=x_{rank}.npy",
                    "--backend",
                    backend,
                ],
            ));
            let stdout = text(&out.stdout);
            assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
            let kf = k as f64;
            let sum0 = kf * (kf + 1.0) / 2.0;
            let sum1 = -(kf * (kf - 1.0) / 2.0);
            let expect = format!(
                "s: f32[2] = [{}, {}]\nm: f32[2] = [{}, {}]\nh: f32[2] = [{}, 0]\n",
                sum0,
                sum1,
                sum0 / kf,
                sum1 / kf,
                kf
            );
            // Only rank 0 prints.
            assert_eq!(stdout, expect, "{k} ranks, {backend}");
        }
    }
}

/// A linear model; `N` rows per process.
fn training_program(n: usize) -> String {
    format!(
        "placeholder x: f32[{n}, 3];\nplaceholder y: f32[{n}, 1];\n\
         variable w: f32[3, 1] = randn([3, 1], seed=5);\nvariable b: f32[1] = 0.0;\n\
         let loss = mean_squared_error(x @ w + b, y);\n\
         let train = minimize(loss, adam(0.05));\nrun train repeat 30;\n"
    )
}

/// 8 rows of data, the same every time.
fn data() -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0).collect();
    let y: Vec<f32> = (0..8)
        .map(|r| 2.0 * x[3 * r] - x[3 * r + 1] + 0.5 * x[3 * r + 2] + 0.25)
        .collect();
    (x, y)
}

#[test]
fn training_on_k_ranks_matches_one_process_on_the_whole_batch() {
    let (x, y) = data();
    // One process, all 8 rows.
    let one = temp_dir("train-1");
    std::fs::write(one.join("p.td"), training_program(8)).unwrap();
    write_npy_atomic(&one.join("x.npy"), &f32s(&[8, 3], x.clone())).unwrap();
    write_npy_atomic(&one.join("y.npy"), &f32s(&[8, 1], y.clone())).unwrap();
    let out = Command::new(TDSL)
        .args([
            "run", "p.td", "--feed", "x=x.npy", "--feed", "y=y.npy", "--save", "vars",
        ])
        .current_dir(&one)
        .env_remove("OMPI_COMM_WORLD_SIZE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let w1 = values(&read_npy(&one.join("vars/w.npy")).unwrap());

    for k in [2usize, 4] {
        let rows = 8 / k;
        let dir = temp_dir(&format!("train-{k}"));
        std::fs::write(dir.join("p.td"), training_program(rows)).unwrap();
        for r in 0..k {
            let xs = x[3 * rows * r..3 * rows * (r + 1)].to_vec();
            let ys = y[rows * r..rows * (r + 1)].to_vec();
            write_npy_atomic(&dir.join(format!("x_{r}.npy")), &f32s(&[rows, 3], xs)).unwrap();
            write_npy_atomic(&dir.join(format!("y_{r}.npy")), &f32s(&[rows, 1], ys)).unwrap();
        }
        let out = output(mpirun(
            &dir,
            k,
            &[
                TDSL,
                "run",
                "p.td",
                "--feed",
                "x=x_{rank}.npy",
                "--feed",
                "y=y_{rank}.npy",
                "--save",
                "vars",
            ],
        ));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let wk = values(&read_npy(&dir.join("vars/w.npy")).unwrap());
        assert_eq!(wk.len(), w1.len());
        for (a, b) in w1.iter().zip(&wk) {
            assert!(
                (a - b).abs() <= 1e-5 * a.abs().max(1.0),
                "{k} ranks: w {wk:?}, one process {w1:?}"
            );
        }
        assert!((w1[0] - 0.0).abs() > 1e-3, "the model trained: {w1:?}");
    }
}

#[test]
fn ranks_with_different_flags_or_programs_fail_and_say_how() {
    let dir = temp_dir("mismatch");
    std::fs::write(dir.join("p.td"), "let a = allreduce([1.0]);\nrun a;\n").unwrap();
    let script = format!("exec {TDSL} run p.td --steps $((OMPI_COMM_WORLD_RANK + 1))");
    let out = output(mpirun(&dir, 2, &["sh", "-c", &script]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("rank 1 of 2: the flags differ"), "{stderr}");
    assert!(stderr.contains("`2` here but `1` on rank 0"), "{stderr}");

    for r in 0..2 {
        let sub = dir.join(format!("d{r}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join("p.td"),
            format!("let a = allreduce([{r}.0]);\nrun a;\n"),
        )
        .unwrap();
    }
    let script = format!("cd d$OMPI_COMM_WORLD_RANK && exec {TDSL} run p.td");
    let out = output(mpirun(&dir, 2, &["sh", "-c", &script]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the program 'p.td' differs from rank 0's"),
        "{stderr}"
    );
}

#[test]
fn a_killed_rank_ends_the_job_within_30_seconds() {
    let dir = temp_dir("killed");
    std::fs::write(
        dir.join("p.td"),
        "variable w: f32[64] = 1.0;\nlet loss = sum(w * w);\n\
         let train = minimize(loss, sgd(0.0001));\nrun train repeat 100000000;\n",
    )
    .unwrap();
    // Rank 1 is killed with SIGKILL two seconds in; rank 0 waits in an allreduce.
    let script = format!(
        "{TDSL} run p.td --save vars & pid=$!; \
         if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then sleep 2; kill -9 $pid; fi; wait $pid"
    );
    let mut command = mpirun(&dir, 2, &["sh", "-c", &script]);
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mpirun runs");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(30) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the job still ran 30 s after a rank was killed");
    };
    assert!(!status.success(), "{status:?}");
    // Measured from the kill (2 s after the start).
    let after_kill = start.elapsed().saturating_sub(Duration::from_secs(2));
    eprintln!("a killed rank: the job ended {after_kill:.1?} after the kill");
    // Nothing half-written: `--save` writes only after the last step.
    let saved: Vec<_> = std::fs::read_dir(dir.join("vars"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(saved.is_empty(), "{saved:?}");
}

/// The folder's `checkpoint.txt` records `step N`.
fn saved_step(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(dir.join("checkpoint.txt")).unwrap();
    manifest
        .lines()
        .find(|l| l.starts_with("step "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_checkpoint_from_two_ranks_restores_on_one_process_and_on_four() {
    let (x, y) = data();
    let root = temp_dir("checkpoint");
    // K ranks of 8 / K rows each; every folder has its own program and shards.
    for k in [1usize, 2, 4] {
        let rows = 8 / k;
        let dir = root.join(format!("k{k}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("p.td"), training_program(rows)).unwrap();
        for r in 0..k {
            let xs = x[3 * rows * r..3 * rows * (r + 1)].to_vec();
            let ys = y[rows * r..rows * (r + 1)].to_vec();
            write_npy_atomic(&dir.join(format!("x_{r}.npy")), &f32s(&[rows, 3], xs)).unwrap();
            write_npy_atomic(&dir.join(format!("y_{r}.npy")), &f32s(&[rows, 1], ys)).unwrap();
        }
    }
    let feeds = ["--feed", "x=x_{rank}.npy", "--feed", "y=y_{rank}.npy"];
    let train = |k: usize, extra: &[&str]| {
        let mut args = vec![TDSL, "run", "p.td"];
        args.extend_from_slice(&feeds);
        args.extend_from_slice(extra);
        let dir = root.join(format!("k{k}"));
        let out = match k {
            1 => Command::new(TDSL)
                .args(&args[1..])
                .current_dir(&dir)
                .env_remove("OMPI_COMM_WORLD_SIZE")
                .output()
                .unwrap(),
            _ => output(mpirun(&dir, k, &args)),
        };
        assert!(out.status.success(), "{k} ranks: {}", text(&out.stderr));
    };
    // 30 steps on 2 ranks, a checkpoint every 10 (rank 0 writes it).
    train(2, &["--save-every", "10", "--save", "../c2"]);
    assert_eq!(saved_step(&root.join("c2")), "step 30");
    // 10 more steps from it on 1 process and on 4 ranks: the same global batch.
    let more = ["--restore", "../c2", "--fetch", "train", "--steps", "10"];
    train(1, &[&more[..], &["--save", "../c1"]].concat());
    train(4, &[&more[..], &["--save", "../c4"]].concat());
    let w1 = values(&read_npy(&root.join("c1/w.npy")).unwrap());
    let w4 = values(&read_npy(&root.join("c4/w.npy")).unwrap());
    for (a, b) in w1.iter().zip(&w4) {
        assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{w1:?} vs {w4:?}");
    }
    assert_eq!(saved_step(&root.join("c1")), "step 40");
    assert_eq!(saved_step(&root.join("c4")), "step 40");
    let w2 = values(&read_npy(&root.join("c2/w.npy")).unwrap());
    assert_ne!(w1, w2, "the restored runs trained on");
}
