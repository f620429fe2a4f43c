//! The generators of training on data, as whole cases: generated programs
//! that train on a dataset (run differentially, sometimes with `--epochs`,
//! `--steps`, `--fetch` or `--feed train=...` replacing the data), their
//! token mutations, hostile `.npz` archives (lying zips, zip bombs, hostile
//! `.npy` members) and the feed conversions (every stored dtype, edge values,
//! into every declared dtype, by `--feed`, `load` and a dataset).

use crate::arrays;
use crate::case::{args, Case, PROGRAM};
use crate::data;
use crate::mutate;
use crate::npz::{self, End, Entry};
use crate::rng::Rng;

/// `run` on the interpreter, the JIT and one more variant, each with `extra`.
fn differential_runs(rng: &mut Rng, extra: &[String]) -> Vec<Vec<String>> {
    let variants: [&[&str]; 5] = [
        &["--no-opt"],
        &["--threads", "1"],
        &["--threads", "2"],
        &["--check-bounds"],
        &["--backend", "interp", "--no-opt"],
    ];
    let base = |more: &[&str]| {
        let mut run = args(&["run", PROGRAM]);
        run.extend(args(more));
        run.extend(extra.iter().cloned());
        run
    };
    vec![
        base(&["--backend", "interp"]),
        base(&[]),
        base(variants[rng.below(variants.len())]),
    ]
}

/// A program that trains on data, on both backends with the same flags.
pub fn generated(rng: &mut Rng) -> Case {
    let mut g = data::program(rng);
    let mut extra: Vec<String> = Vec::new();
    // Valid by construction, but for `--epochs` on a program without a
    // batched dataset and other data that may have fewer rows than a batch.
    let mut expect_ok = true;
    match rng.below(8) {
        0 => {
            extra = args(&["--epochs", *rng.pick(&["1", "2"])]);
            expect_ok = g.batch.is_some();
        }
        1 => extra = args(&["--steps", "3", "--every", "2"]),
        2 => extra = args(&["--fetch", "loss,t"]),
        3 => {
            // Other data of the same row shape: another row count (maybe fewer
            // rows than a batch, an error) in another layout.
            let other = data::program_like(rng, &g);
            g.files.extend(other);
            let feed = if g.npz {
                "train=other.npz"
            } else {
                "train.x=other_x.npy"
            };
            extra = args(&["--feed", feed]);
            expect_ok = false;
        }
        _ => {}
    }
    Case {
        generator: "data",
        expect_ok,
        source: g.source,
        files: g.files,
        runs: differential_runs(rng, &extra),
        stdin: None,
        differential: true,
    }
}

/// A generated data program with one to four token mutations.
pub fn mutated(rng: &mut Rng) -> Case {
    let g = data::program(rng);
    let mut runs = vec![args(&["check", PROGRAM])];
    runs.extend(differential_runs(rng, &args(&["--steps", "2"])));
    runs.truncate(3);
    Case {
        generator: "data-mutated",
        expect_ok: false,
        source: mutate::mutate(rng, &g.source),
        files: g.files,
        runs,
        stdin: None,
        differential: true,
    }
}

/// A data program whose archive lies: a corrupted zip, a bomb, or members
/// that are hostile `.npy` files; read as a dataset, by `--feed` of the
/// dataset or of a placeholder, or by `load` in a declaration.
pub fn hostile_npz(rng: &mut Rng) -> Case {
    let x = arrays::npy("f4", true, false, &[4, 2], &[arrays::V::F(0.5); 8]);
    let y = arrays::npy("i4", true, false, &[4], &[arrays::V::I(1); 4]);
    let mut entries = vec![
        Entry::new("x.npy", &x, rng.chance(1, 2)),
        Entry::new("y.npy", &y, rng.chance(1, 2)),
    ];
    let mut end = End::default();
    match rng.below(4) {
        0 => {
            let i = rng.below(2);
            let name = ["x.npy", "y.npy"][i];
            entries[i] = npz::any_bomb(rng, name);
        }
        1 => {
            let i = rng.below(2);
            let name = ["x.npy", "y.npy"][i];
            entries[i] = Entry::new(name, &crate::npy::file(rng), rng.chance(1, 2));
        }
        _ => {
            for _ in 0..1 + rng.below(3) {
                npz::corrupt(rng, &mut entries, &mut end);
            }
        }
    }
    let mut bytes = npz::write(&entries, &end);
    if rng.chance(1, 4) {
        bytes = npz::damage(rng, bytes);
    }
    let decl = *rng.pick(&[
        "f32[?, 2]",
        "f32[4, 2]",
        "f32[?, ?]",
        "i32[?, 2]",
        "f64[?, 2]",
    ]);
    let batch = *rng.pick(&["", ", batch=2", ", batch=2, shuffle=1"]);
    let program = |data: &str| {
        format!(
            "{data}placeholder x: {decl} = {{X}};\nplaceholder y: i32[?] = {{Y}};\n\
             let s = sum(cast(x, f32)) + cast(sum(y), f32);\nrun s;\n"
        )
    };
    let (source, extra) = match rng.below(5) {
        0 | 1 => (
            program(&format!("dataset d = load(\"d.npz\"{batch});\n"))
                .replace("{X}", "d.x")
                .replace("{Y}", "d.y"),
            vec![],
        ),
        2 => (
            program(&format!("dataset d = load(\"good.npz\"{batch});\n"))
                .replace("{X}", "d.x")
                .replace("{Y}", "d.y"),
            args(&["--feed", "d=d.npz"]),
        ),
        3 => (
            format!("placeholder x: {decl};\nplaceholder y: i32[?] = [1];\nlet s = sum(cast(x, f32));\nrun s;\n"),
            args(&["--feed", "x=d.npz"]),
        ),
        _ => (
            program("")
                .replace("{X}", "load(\"d.npz\")")
                .replace("{Y}", "[1]"),
            vec![],
        ),
    };
    let good = npz::write(
        &[
            Entry::new("x.npy", &x, false),
            Entry::new("y.npy", &y, true),
        ],
        &End::default(),
    );
    let mut runs = vec![args(&["check", PROGRAM])];
    for backend in ["interp", "jit"] {
        let mut run = args(&["run", PROGRAM, "--backend", backend]);
        run.extend(extra.iter().cloned());
        runs.push(run);
    }
    if rng.chance(1, 4) {
        for run in runs.iter_mut() {
            run.extend(args(&["--max-memory", "1M"]));
        }
    }
    Case {
        generator: "npz",
        expect_ok: false,
        source,
        files: vec![("d.npz".into(), bytes), ("good.npz".into(), good)],
        runs,
        stdin: None,
        differential: true,
    }
}

/// One array of a random stored dtype with edge values, fed to a declared
/// `f32`, `f64`, `i32` or `bool` placeholder (or variable) in every way.
pub fn conversion(rng: &mut Rng) -> Case {
    let (code, little, fortran) = arrays::layout(rng);
    let shapes: [&[usize]; 4] = [&[4, 2], &[3], &[], &[2, 1, 2]];
    let shape: &[usize] = shapes[rng.below(shapes.len())];
    let values = arrays::edgy(rng, code, shape);
    let file = arrays::npy(code, little, fortran, shape, &values);
    let dtype = *rng.pick(&["f32", "f64", "i32", "bool"]);
    let dims: Vec<String> = shape
        .iter()
        .enumerate()
        .map(|(i, d)| {
            if i == 0 && rng.chance(1, 2) {
                "?".into()
            } else {
                d.to_string()
            }
        })
        .collect();
    let ty = format!("{dtype}[{}]", dims.join(", "));
    let fixed = format!(
        "{dtype}[{}]",
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut files = vec![("a.npy".to_string(), file.clone())];
    let y = arrays::npy(
        "i4",
        true,
        false,
        &[shape.first().copied().unwrap_or(1)],
        &[arrays::V::I(0); 4][..shape.first().copied().unwrap_or(1).min(4)],
    );
    let (source, extra) = match rng.below(5) {
        0 => (
            format!("placeholder x: {ty};\nrun x;\n"),
            args(&["--feed", "x=a.npy"]),
        ),
        1 => (
            format!("placeholder x: {ty} = load(\"a.npy\");\nrun x;\n"),
            vec![],
        ),
        2 => (
            format!("variable x: {fixed} = load(\"a.npy\");\nrun x;\n"),
            vec![],
        ),
        3 => {
            files.push((
                "a.npz".into(),
                npz::write(
                    &[Entry::new("x.npy", &file, rng.chance(1, 2))],
                    &End::default(),
                ),
            ));
            (
                format!("placeholder x: {ty};\nrun x;\n"),
                args(&["--feed", "x=a.npz"]),
            )
        }
        _ if !shape.is_empty() && shape[0] <= 4 => {
            let entries = [
                Entry::new("x.npy", &file, rng.chance(1, 2)),
                Entry::new("y.npy", &y, false),
            ];
            files.push(("a.npz".into(), npz::write(&entries, &End::default())));
            let mut rest = vec!["?".to_string()];
            rest.extend(shape[1..].iter().map(|d| d.to_string()));
            let batch = if rng.chance(1, 2) { ", batch=1" } else { "" };
            (
                format!(
                    "dataset d = load(\"a.npz\"{batch});\nplaceholder x: {dtype}[{}] = d.x;\nplaceholder y: i32[?] = d.y;\nrun x, y;\n",
                    rest.join(", ")
                ),
                vec![],
            )
        }
        _ => (
            format!("placeholder x: {ty};\nrun x;\n"),
            args(&["--feed", "x=a.npy"]),
        ),
    };
    let mut runs = vec![args(&["check", PROGRAM])];
    for backend in ["interp", "jit"] {
        let mut run = args(&["run", PROGRAM, "--backend", backend]);
        run.extend(extra.iter().cloned());
        runs.push(run);
    }
    // Every element converts: the feed must be accepted, whichever way it comes.
    let expect_ok = values.iter().all(|&v| arrays::converts(code, v, dtype));
    Case {
        generator: "conversion",
        expect_ok,
        source,
        files,
        runs,
        stdin: None,
        differential: true,
    }
}
