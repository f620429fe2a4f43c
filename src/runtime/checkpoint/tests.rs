use super::manifest::{file_names, DatasetEntry, VariableEntry};
use super::*;
use crate::ir::{DType, TensorType};
use crate::runtime::data::Position;
use std::path::{Path, PathBuf};

const PROGRAM: &str = "\
dataset d = load(x=\"rows_x.npy\", batch=4, shuffle=3);
placeholder x: f32[?, 1] = d.x;
variable w: f32[1] = 0.5;
let loss = mean((x * w - 1.0) * (x * w - 1.0));
let train = minimize(loss, adam(0.1));
";

fn module(text: &str) -> crate::ir::Module {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data");
    crate::compile(text, &dir).expect("builds")
}

fn session(text: &str) -> Session {
    Session::new(module(text), Box::new(crate::backend::interp::Interpreter))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-ckpt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

#[test]
fn a_manifest_reads_back_as_written() {
    let manifest = Manifest {
        fingerprint: 0x0123_4567_89ab_cdef,
        step: 12,
        datasets: vec![DatasetEntry {
            name: "train".into(),
            rows: 24,
            batch: Some(8),
            shuffle: None,
            position: Position { epoch: 4, step: 2 },
        }],
        variables: vec![
            VariableEntry {
                name: "w".into(),
                ty: TensorType::new(DType::F32, vec![4, 3]),
                file: "w.npy".into(),
            },
            VariableEntry {
                name: "w.adam_t".into(),
                ty: TensorType::new(DType::F32, vec![]),
                file: "w.adam_t.npy".into(),
            },
        ],
    };
    let text = manifest.to_text();
    assert!(text.contains("dataset train rows 24 batch 8 shuffle - epoch 4 step 2\n"));
    assert!(text.contains("variable w f32 [4,3] w.npy\n"));
    assert_eq!(Manifest::parse(&text), Ok(manifest));
}

#[test]
fn a_damaged_manifest_is_an_error_naming_the_line() {
    let good = "tdsl checkpoint 1\nfingerprint 00ff\nstep 3\n";
    assert!(Manifest::parse(good).is_ok());
    let cases = [
        ("not a checkpoint\n", "line 1"),
        ("tdsl checkpoint 1\nfingerprint zz\nstep 3\n", "line 2"),
        ("tdsl checkpoint 1\nfingerprint 1\nstep -4\n", "negative"),
        (
            "tdsl checkpoint 1\nfingerprint 1\n",
            "`step` line is missing",
        ),
        (
            "tdsl checkpoint 1\nfingerprint 1\nstep 0\nvariable w f33 [1] w.npy\n",
            "line 4: unknown dtype",
        ),
        (
            "tdsl checkpoint 1\nfingerprint 1\nstep 0\nvariable w f32 [1] ../etc.npy\n",
            "not a file name",
        ),
        (
            "tdsl checkpoint 1\nfingerprint 1\nstep 0\nvariable w f32 [1,x] w.npy\n",
            "dimension",
        ),
    ];
    for (text, expected) in cases {
        let err = Manifest::parse(text).expect_err(text);
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn the_fingerprint_ignores_comments_and_expressions_but_not_types() {
    let base = fingerprint(&module(PROGRAM));
    let commented = format!("// a comment\n{}", PROGRAM.replace("0.1", "0.01"));
    assert_eq!(fingerprint(&module(&commented)), base);
    let reshaped = PROGRAM.replace("variable w: f32[1] = 0.5", "variable w: f32[] = 0.5");
    assert_ne!(fingerprint(&module(&reshaped)), base);
    let reshuffled = PROGRAM.replace("shuffle=3", "shuffle=4");
    assert_ne!(fingerprint(&module(&reshuffled)), base);
}

#[test]
fn file_names_are_plain_and_unique() {
    let names = ["w", "a/b", "a_b", ".x"];
    assert_eq!(
        file_names(names.into_iter()),
        vec!["w.npy", "a_b.npy", "a_b~2.npy", "_.x.npy"]
    );
}

#[test]
fn save_then_restore_continues_bitwise() {
    let dir = scratch("roundtrip");
    let ckpt = dir.join("ckpt");
    let mut straight = session(PROGRAM);
    for _ in 0..5 {
        straight.run(&["train"]).expect("runs");
    }
    let mut first = session(PROGRAM);
    for _ in 0..3 {
        first.run(&["train"]).expect("runs");
    }
    save(&first, &ckpt).expect("saves");
    let mut resumed = session(PROGRAM);
    let restored = read(&ckpt, resumed.module(), 1 << 30).expect("reads");
    assert!(restored.warnings.is_empty());
    restored.apply(&mut resumed).expect("applies");
    assert_eq!(resumed.step(), 3);
    assert_eq!(resumed.data().positions(), first.data().positions());
    for _ in 0..2 {
        resumed.run(&["train"]).expect("runs");
    }
    for (name, value) in straight.variables() {
        assert_eq!(resumed.variable(name), Some(value), "`{name}` differs");
    }
    assert_eq!(resumed.data().positions(), straight.data().positions());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn another_program_is_refused_naming_each_variable() {
    let dir = scratch("other");
    let ckpt = dir.join("ckpt");
    save(&session(PROGRAM), &ckpt).expect("saves");
    let other = PROGRAM
        .replace(
            "variable w: f32[1] = 0.5;",
            "variable w: f32[2] = 0.5;\nvariable b: f32[] = 0.0;",
        )
        .replace("batch=4", "batch=2");
    let err = read(&ckpt, &module(&other), 1 << 30).expect_err("refused");
    let text: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
    let has = |s: &str| text.iter().any(|m| m.contains(s));
    assert!(has("variable `w` is f32[1] in the checkpoint"), "{text:?}");
    assert!(
        has("variable `b: f32[]` is not in the checkpoint"),
        "{text:?}"
    );
    assert!(has("dataset `d`: the checkpoint"), "{text:?}");
    assert!(has("written by another program"), "{text:?}");
    // Fewer variables: the checkpoint's extra entries are warnings.
    let fewer = "variable w: f32[1] = 0.0;\nlet y = w * 2.0;\n";
    let restored = read(&ckpt, &module(fewer), 1 << 30).expect("extra entries are ignored");
    assert!(
        restored
            .warnings
            .iter()
            .any(|w| w.contains("`w.adam_m: f32[1]`")),
        "{:?}",
        restored.warnings
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_truncated_file_is_an_error_naming_it() {
    let dir = scratch("truncated");
    let ckpt = dir.join("ckpt");
    save(&session(PROGRAM), &ckpt).expect("saves");
    let file = ckpt.join("w.npy");
    let bytes = std::fs::read(&file).expect("saved");
    std::fs::write(&file, &bytes[..bytes.len() - 2]).expect("truncates");
    let err = read(&ckpt, &module(PROGRAM), 1 << 30).expect_err("damaged");
    assert!(
        err[0].message.contains("variable `w`") && err[0].message.contains("w.npy"),
        "{err:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_write_leaves_the_old_checkpoint_whole() {
    let dir = scratch("atomic");
    let ckpt = dir.join("ckpt");
    let mut s = session(PROGRAM);
    s.run(&["train"]).expect("runs");
    save(&s, &ckpt).expect("saves");
    let before = std::fs::read(ckpt.join(MANIFEST)).expect("manifest");
    let result = atomic::write_dir(&ckpt, |tmp| {
        std::fs::write(tmp.join(MANIFEST), "half").map_err(|e| e.to_string())?;
        Err("disk full".to_string())
    });
    assert_eq!(result, Err("disk full".to_string()));
    assert_eq!(
        std::fs::read(ckpt.join(MANIFEST)).expect("still there"),
        before
    );
    let left: Vec<_> = std::fs::read_dir(&dir).expect("lists").collect();
    assert_eq!(left.len(), 1, "no temporary folder is left behind");
    // A successful write replaces it whole.
    s.run(&["train"]).expect("runs");
    save(&s, &ckpt).expect("saves again");
    let manifest = std::fs::read_to_string(ckpt.join(MANIFEST)).expect("manifest");
    assert!(manifest.contains("step 2\n"), "{manifest}");
    assert_eq!(std::fs::read_dir(&dir).expect("lists").count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_empty_folders_and_checkpoints_are_replaced() {
    let dir = scratch("target");
    assert_eq!(check_target(&dir.join("new/deeper")), Ok(()));
    std::fs::write(dir.join("data.npy"), "x").expect("writes");
    let err = check_target(&dir).expect_err("a folder of data");
    assert!(err.contains("not a checkpoint"), "{err}");
    let err = check_target(&dir.join("data.npy/ckpt")).expect_err("under a file");
    assert!(err.contains("is not a folder"), "{err}");
    let err = check_target(&dir.join("data.npy")).expect_err("a file");
    assert!(err.contains("not a folder"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
