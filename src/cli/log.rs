//! `run --log FILE.jsonl`: one JSON object a line for every printed step,
//! appended to the file in one unbuffered write (the record, its numbers and what
//! a failed write leaves: `docs/cli.md`).

use crate::ir::DType;
use crate::runtime::StepDone;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The keys every record has (a fetch of one of these names is prefixed).
const KEYS: &[&str] = &["run", "step", "global_step", "epoch", "seconds"];

/// An open `--log` file.
pub struct JsonLog {
    file: File,
    path: PathBuf,
}

impl JsonLog {
    /// Opens `path` for appending, creating it if missing.
    pub fn open(path: &Path) -> Result<JsonLog, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                format!(
                    "--log: cannot open '{}': {}",
                    path.display(),
                    super::io_error_text(&e)
                )
            })?;
        Ok(JsonLog {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record (a line without its newline).
    pub fn append(&mut self, record: &str) -> Result<(), String> {
        let before = self.file.metadata().map(|m| m.len()).ok();
        let line = format!("{record}\n");
        if let Err(e) = self.file.write_all(line.as_bytes()) {
            if let Some(len) = before {
                let _ = self.file.set_len(len);
            }
            return Err(format!(
                "--log: cannot write to '{}': {}",
                self.path.display(),
                super::io_error_text(&e)
            ));
        }
        Ok(())
    }
}

/// The record of a printed step of run `run` (from 1), `seconds` after the first step.
pub fn record(run: usize, done: &StepDone<'_>, seconds: f64) -> String {
    let mut fields = vec![
        ("run".to_string(), run.to_string()),
        ("step".to_string(), done.step.to_string()),
        ("global_step".to_string(), done.total.to_string()),
    ];
    if let Some(epoch) = done.epoch {
        fields.push(("epoch".to_string(), epoch.to_string()));
    }
    fields.push(("seconds".to_string(), number(seconds, DType::F64)));
    for (name, value, dtype) in done.scalars() {
        let key = match KEYS.contains(&name) {
            true => format!("fetch:{name}"),
            false => name.to_string(),
        };
        fields.push((key, number(value, dtype)));
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {v}", string(k)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// A JSON number (or `true`/`false`, or `null` for NaN and infinities).
fn number(value: f64, dtype: DType) -> String {
    match dtype {
        DType::Bool => (value != 0.0).to_string(),
        _ if !value.is_finite() => "null".to_string(),
        DType::I32 => format!("{}", value as i64),
        // `{:?}` is the shortest form that reads back exactly, in JSON syntax
        // (`0.1`, `1.0`, `1e-7`, `1e20`).
        DType::F32 => format!("{:?}", value as f32),
        DType::F64 => format!("{value:?}"),
    }
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Tensor, TensorType};

    fn scalar(dtype: DType, v: f64) -> Tensor {
        Tensor::scalar(dtype, v)
    }

    #[test]
    fn a_record_has_the_step_fields_then_each_scalar_fetch() {
        let names = ["loss", "train", "w", "ok", "n", "epoch"].map(String::from);
        let w = Tensor::full(&TensorType::new(DType::F32, vec![2]), 1.0);
        let values = [
            scalar(DType::F32, 0.1f32 as f64),
            scalar(DType::Bool, 1.0),
            w,
            scalar(DType::Bool, 0.0),
            scalar(DType::I32, -3.0),
            scalar(DType::F64, f64::NAN),
        ];
        let done = StepDone {
            step: 10,
            total: 12,
            epoch: Some(2),
            printed: true,
            names: &names,
            values: &values,
            is_group: &[false, true, false, false, false, false],
        };
        assert_eq!(
            record(1, &done, 0.5),
            "{\"run\": 1, \"step\": 10, \"global_step\": 12, \"epoch\": 2, \"seconds\": 0.5, \
             \"loss\": 0.1, \"ok\": false, \"n\": -3, \"fetch:epoch\": null}"
        );
    }

    #[test]
    fn numbers_are_json() {
        assert_eq!(number(1.0, DType::F32), "1.0");
        assert_eq!(number(1e-7f32 as f64, DType::F32), "1e-7");
        assert_eq!(number(3e20f32 as f64, DType::F32), "3e20");
        assert_eq!(number(f64::INFINITY, DType::F32), "null");
        assert_eq!(number(f64::NEG_INFINITY, DType::F64), "null");
        assert_eq!(number(0.1, DType::F64), "0.1");
        assert_eq!(number(7.0, DType::I32), "7");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    #[test]
    fn lines_are_appended() {
        let dir = std::env::temp_dir().join(format!("tdsl-log-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.jsonl");
        let _ = std::fs::remove_file(&path);
        JsonLog::open(&path).unwrap().append("{\"a\": 1}").unwrap();
        JsonLog::open(&path).unwrap().append("{\"a\": 2}").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"a\": 1}\n{\"a\": 2}\n");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(JsonLog::open(&dir.join("missing/x.jsonl")).is_err());
    }
}
