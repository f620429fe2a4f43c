//! `checkpoint.txt`, the checkpoint's table of contents: the program's
//! fingerprint, the step counter, each dataset's position and each variable's
//! type and file, one record a line (`docs/cli.md`, "Checkpoints").

use crate::ir::data::DatasetDecl;
use crate::ir::{DType, Module, TensorType};
use crate::runtime::data::Position;
use std::collections::HashSet;

/// The manifest's file name inside a checkpoint folder.
pub const MANIFEST: &str = "checkpoint.txt";
const MAGIC: &str = "tdsl checkpoint 1";

/// A dataset's position and what gives the position its meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetEntry {
    pub name: String,
    pub rows: usize,
    pub batch: Option<usize>,
    pub shuffle: Option<u64>,
    pub position: Position,
}

impl DatasetEntry {
    pub fn of(decl: &DatasetDecl, position: Position) -> DatasetEntry {
        DatasetEntry {
            name: decl.name.clone(),
            rows: decl.rows,
            batch: decl.batch,
            shuffle: decl.shuffle,
            position,
        }
    }

    /// `24 rows, batch 8, shuffle 1`: what must match for the position to carry over.
    pub fn layout(&self) -> String {
        layout_text(self.rows, self.batch, self.shuffle)
    }
}

/// `24 rows, batch 8, shuffle 1` (`no batch`, `no shuffle` when absent).
pub fn layout_text(rows: usize, batch: Option<usize>, shuffle: Option<u64>) -> String {
    let batch = batch.map_or("no batch".to_string(), |b| format!("batch {b}"));
    let shuffle = shuffle.map_or("no shuffle".to_string(), |s| format!("shuffle {s}"));
    format!("{rows} rows, {batch}, {shuffle}")
}

/// A variable's type and the `.npy` file (inside the folder) holding its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariableEntry {
    pub name: String,
    pub ty: TensorType,
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub fingerprint: u64,
    pub step: i32,
    pub datasets: Vec<DatasetEntry>,
    pub variables: Vec<VariableEntry>,
}

/// What identifies a program for its checkpoints: every variable's name,
/// dtype and shape (optimiser slots included) and every dataset's name, rows,
/// `batch` and `shuffle`, in name order. Comments, expressions, learning
/// rates and the order of declarations do not count.
pub fn fingerprint(module: &Module) -> u64 {
    let mut lines: Vec<String> = module
        .variables
        .iter()
        .map(|v| format!("variable {} {}", v.name, v.ty))
        .chain(module.data.datasets.iter().map(|d| {
            format!(
                "dataset {} {}",
                d.name,
                layout_text(d.rows, d.batch, d.shuffle)
            )
        }))
        .collect();
    lines.sort();
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lines.join("\n").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A file name for each variable: `NAME.npy`, with characters that do not
/// belong in a file name replaced by `_`, made unique with `~N`.
pub fn file_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut used = HashSet::new();
    let mut out = Vec::new();
    for name in names {
        let safe: String = name
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '.' | '-' => c,
                _ => '_',
            })
            .collect();
        let safe = if safe.starts_with('.') || safe.is_empty() {
            format!("_{safe}")
        } else {
            safe
        };
        let mut file = format!("{safe}.npy");
        let mut n = 1;
        while !used.insert(file.clone()) {
            n += 1;
            file = format!("{safe}~{n}.npy");
        }
        out.push(file);
    }
    out
}

impl Manifest {
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{MAGIC}\nfingerprint {:016x}\nstep {}\n",
            self.fingerprint, self.step
        );
        for d in &self.datasets {
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
            text.push_str(&format!(
                "dataset {} rows {} batch {} shuffle {} epoch {} step {}\n",
                d.name,
                d.rows,
                opt(d.batch.map(|b| b.to_string())),
                opt(d.shuffle.map(|s| s.to_string())),
                d.position.epoch,
                d.position.step
            ));
        }
        for v in &self.variables {
            let dims: Vec<String> = v.ty.shape.0.iter().map(|d| d.to_string()).collect();
            text.push_str(&format!(
                "variable {} {} [{}] {}\n",
                v.name,
                v.ty.dtype,
                dims.join(","),
                v.file
            ));
        }
        text
    }

    /// Parses a manifest; an error names the line and what is wrong with it.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, first)) if first.trim() == MAGIC => {}
            _ => return Err(format!("line 1: expected `{MAGIC}`")),
        }
        let mut manifest = Manifest {
            fingerprint: 0,
            step: 0,
            datasets: Vec::new(),
            variables: Vec::new(),
        };
        let (mut seen_fingerprint, mut seen_step) = (false, false);
        for (i, line) in lines {
            let at = |m: String| format!("line {}: {m}", i + 1);
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                ["fingerprint", hex] => {
                    manifest.fingerprint = u64::from_str_radix(hex, 16)
                        .map_err(|_| at(format!("bad fingerprint `{hex}`")))?;
                    seen_fingerprint = true;
                }
                ["step", n] => {
                    manifest.step = number(n, "step").map_err(at)?;
                    if manifest.step < 0 {
                        return Err(at(format!("the step counter {n} is negative")));
                    }
                    seen_step = true;
                }
                ["dataset", name, "rows", rows, "batch", batch, "shuffle", shuffle, "epoch", epoch, "step", step] =>
                {
                    manifest.datasets.push(DatasetEntry {
                        name: name.to_string(),
                        rows: number(rows, "rows").map_err(at)?,
                        batch: optional(batch, "batch").map_err(at)?,
                        shuffle: optional(shuffle, "shuffle").map_err(at)?,
                        position: Position {
                            epoch: number(epoch, "epoch").map_err(at)?,
                            step: number(step, "step").map_err(at)?,
                        },
                    });
                }
                ["variable", name, dtype, shape, file] => {
                    manifest.variables.push(VariableEntry {
                        name: name.to_string(),
                        ty: TensorType::new(
                            dtype_of(dtype).map_err(at)?,
                            dims_of(shape).map_err(at)?,
                        ),
                        file: plain_file_name(file).map_err(at)?,
                    });
                }
                _ => return Err(at(format!("cannot read `{}`", line.trim()))),
            }
        }
        if !seen_fingerprint || !seen_step {
            let what = if seen_step { "fingerprint" } else { "step" };
            return Err(format!("the `{what}` line is missing"));
        }
        Ok(manifest)
    }
}

fn number<T: std::str::FromStr>(word: &str, what: &str) -> Result<T, String> {
    word.parse()
        .map_err(|_| format!("`{what}` should be a number, got `{word}`"))
}

fn optional<T: std::str::FromStr>(word: &str, what: &str) -> Result<Option<T>, String> {
    match word {
        "-" => Ok(None),
        _ => number(word, what).map(Some),
    }
}

fn dtype_of(word: &str) -> Result<DType, String> {
    match word {
        "f32" => Ok(DType::F32),
        "f64" => Ok(DType::F64),
        "i32" => Ok(DType::I32),
        "bool" => Ok(DType::Bool),
        _ => Err(format!("unknown dtype `{word}`")),
    }
}

/// `[4,3]` (or `[]`) -> the dimensions.
fn dims_of(word: &str) -> Result<Vec<usize>, String> {
    let inner = word
        .strip_prefix('[')
        .and_then(|w| w.strip_suffix(']'))
        .ok_or_else(|| format!("expected a shape like [4,3], got `{word}`"))?;
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    inner.split(',').map(|d| number(d, "dimension")).collect()
}

/// A file inside the checkpoint folder: no path separator, not `..`.
fn plain_file_name(word: &str) -> Result<String, String> {
    if word.contains('/') || word.contains('\\') || word.starts_with('.') {
        return Err(format!(
            "`{word}` is not a file name inside the checkpoint folder"
        ));
    }
    Ok(word.to_string())
}
