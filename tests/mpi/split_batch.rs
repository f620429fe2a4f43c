//! The global batch split by rank (`docs/distributed.md`): the digits
//! programs trained on 1, 2 and 4 ranks against one process, `dropout` keyed
//! by the global row, and a batch the ranks do not divide.

use super::{mpirun, output, temp_dir, text, values, TDSL};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tdsl::ir::npy::read_npy;

/// A digits program of `programs/` with its optimiser replaced by
/// `optimizer` and its data paths made absolute (it runs in a temporary
/// folder); `hidden` wraps the MLP's hidden layer (e.g. in a `dropout`).
pub(super) fn digits_program(name: &str, optimizer: &str, hidden: Option<&str>) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("programs").join(name)).unwrap();
    let data = format!("{}/", root.join("data").display());
    let mut text = text
        .replace("../data/", &data)
        .replace("adam(0.003)", optimizer);
    if let Some(wrap) = hidden {
        let relu = "relu((x / 16.0) @ w1 + b1)";
        assert!(text.contains(relu));
        text = text.replace(relu, &wrap.replace("{}", relu));
    }
    text
}

/// Runs `program` for 50 training steps on `backend`, alone (`ranks` =
/// `None`) or under `mpirun -n K`, and reads back every saved variable.
pub(super) fn train_50(
    dir: &Path,
    program: &str,
    ranks: Option<usize>,
    backend: &str,
) -> BTreeMap<String, Vec<f64>> {
    std::fs::write(dir.join("p.td"), program).unwrap();
    let args = [
        TDSL,
        "run",
        "p.td",
        "--fetch",
        "train_step",
        "--steps",
        "50",
        "--save",
        "vars",
        "--backend",
        backend,
    ];
    let out = match ranks {
        Some(k) => output(mpirun(dir, k, &args)),
        None => {
            let mut command = Command::new(TDSL);
            command
                .args(&args[1..])
                .current_dir(dir)
                .env_remove("OMPI_COMM_WORLD_SIZE")
                .env("RAYON_NUM_THREADS", "1");
            output(command)
        }
    };
    assert!(
        out.status.success(),
        "{ranks:?} ranks: {}",
        text(&out.stderr)
    );
    let mut vars = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("vars")).unwrap() {
        let path = entry.unwrap().path();
        // A checkpoint folder also holds its manifest (`checkpoint.txt`).
        if path.extension().is_none_or(|e| e != "npy") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        vars.insert(name, values(&read_npy(&path).unwrap()));
    }
    vars
}

/// The largest relative difference between two runs' variables: per
/// variable, the largest elementwise difference over the variable's largest
/// magnitude (elements near 0 differ by the order of float sums, so an
/// elementwise ratio there says nothing).
pub(super) fn largest_relative_difference(
    a: &BTreeMap<String, Vec<f64>>,
    b: &BTreeMap<String, Vec<f64>>,
) -> f64 {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let mut worst = 0.0f64;
    for (name, xs) in a {
        let ys = &b[name];
        assert_eq!(xs.len(), ys.len(), "{name}");
        let scale = xs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let diff = xs
            .iter()
            .zip(ys)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        if scale > 0.0 {
            worst = worst.max(diff / scale);
        } else {
            assert_eq!(diff, 0.0, "{name}");
        }
    }
    worst
}

/// The digits MLP and convnet, with SGD and with Adam: 50 steps of the
/// global batch of 32 split among 1, 2 and 4 ranks give the variables of one
/// process within 1e-5 relative.
#[test]
fn the_digits_programs_on_1_2_and_4_ranks_match_one_process() {
    let cases = [
        ("digits_mlp.td", "sgd(0.1)"),
        ("digits_mlp.td", "adam(0.003)"),
        ("digits_convnet.td", "sgd(0.05)"),
        ("digits_convnet.td", "adam(0.003)"),
    ];
    for (name, optimizer) in cases {
        let program = digits_program(name, optimizer, None);
        let tag = format!("{}-{}", &name[..name.len() - 3], &optimizer[..3]);
        let alone = train_50(&temp_dir(&format!("{tag}-alone")), &program, None, "jit");
        for k in [1usize, 2, 4] {
            let dir = temp_dir(&format!("{tag}-{k}"));
            let ranked = train_50(&dir, &program, Some(k), "jit");
            let worst = largest_relative_difference(&alone, &ranked);
            eprintln!("{name} {optimizer}, {k} ranks: largest relative difference {worst:.3e}");
            assert!(worst <= 1e-5, "{name} {optimizer}, {k} ranks: {worst:e}");
        }
    }
}

/// `dropout` on a rank's share of the batch draws what one process draws for
/// those rows: training with it on 2 ranks matches one process, on both
/// backends (each reduces the gradient in its own buffer).
#[test]
fn dropout_is_keyed_by_the_global_row_on_both_backends() {
    let program = digits_program("digits_mlp.td", "adam(0.003)", Some("dropout({}, 0.3)"));
    for backend in ["jit", "interp"] {
        let alone = train_50(
            &temp_dir(&format!("dropout-{backend}-alone")),
            &program,
            None,
            backend,
        );
        let ranked = train_50(
            &temp_dir(&format!("dropout-{backend}-2")),
            &program,
            Some(2),
            backend,
        );
        let worst = largest_relative_difference(&alone, &ranked);
        eprintln!("digits MLP with dropout and Adam, 2 ranks, {backend}: largest relative difference {worst:.3e}");
        assert!(worst <= 1e-5, "{backend}: {worst:e}");
    }
}

/// The same inside a `cond` branch and a `fold` body (the accumulator starts
/// at the hidden layer; each iteration draws its own mask): 2 ranks match
/// one process, on both backends.
#[test]
fn dropout_inside_regions_is_keyed_by_the_global_row() {
    let hidden =
        "fold(|acc, t| dropout(acc, 0.3) * t, cond(step() >= 0, dropout({}, 0.2), {}), ones([2]))";
    let program = digits_program("digits_mlp.td", "adam(0.003)", Some(hidden));
    for backend in ["jit", "interp"] {
        let alone = train_50(
            &temp_dir(&format!("regions-{backend}-alone")),
            &program,
            None,
            backend,
        );
        let ranked = train_50(
            &temp_dir(&format!("regions-{backend}-2")),
            &program,
            Some(2),
            backend,
        );
        let worst = largest_relative_difference(&alone, &ranked);
        eprintln!("digits MLP with dropout in regions, 2 ranks, {backend}: largest relative difference {worst:.3e}");
        // Three masks scale the hidden layer by up to 1 / (0.8 * 0.7^2), so
        // the ranks' other summation order grows to about 2e-5 in 50 Adam
        // steps; one wrong mask moves the weights by orders of magnitude more.
        assert!(worst <= 1e-4, "{backend}: {worst:e}");
    }
}

#[test]
fn a_global_batch_that_does_not_divide_is_an_error_on_every_rank() {
    let dir = temp_dir("indivisible");
    let program = digits_program("digits_mlp.td", "sgd(0.1)", None);
    std::fs::write(dir.join("p.td"), program).unwrap();
    let start = Instant::now();
    let out = output(mpirun(&dir, 3, &[TDSL, "run", "p.td", "--steps", "5"]));
    assert!(start.elapsed() < Duration::from_secs(60));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let message = "`batch=32` cannot be split among 3 processes";
    // Every rank fails at its build; the launcher may end some ranks before
    // they print, so at least one message is asserted.
    assert!(stderr.contains(message), "{stderr}");
    assert!(stderr.contains("p.td:3:"), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}
