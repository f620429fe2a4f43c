//! What both front ends (the command line and the REPL) need: a `.td` file read
//! from disk, a failure with the diagnostics and the file they point into, and
//! I/O error text without Rust's suffix.

pub use crate::diag::io_error_text;
use crate::diag::Diag;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A `.td` file read from disk.
pub struct SourceFile {
    /// The path as given on the command line, for diagnostics.
    pub display_name: String,
    pub text: String,
    /// Where `load("...")` paths are relative to: the file's folder.
    pub base_dir: PathBuf,
}

impl SourceFile {
    /// Reads `path`; a missing, unreadable, non-UTF-8 or not regular file (a
    /// folder, `/dev/zero`, a pipe: they could be read forever) is an error.
    pub fn read(path: &Path) -> Result<SourceFile, Failure> {
        let display_name = path.display().to_string();
        let cannot = |why: String| Failure::plain(format!("cannot read '{display_name}': {why}"));
        // Look before opening: opening a pipe with no writer blocks.
        let meta = std::fs::metadata(path).map_err(|e| cannot(io_error_text(&e)))?;
        if !meta.is_file() {
            return Err(cannot("not a regular file".into()));
        }
        let mut file = std::fs::File::open(path).map_err(|e| cannot(io_error_text(&e)))?;
        // Spans are u32 offsets: a larger file cannot be parsed anyway.
        if meta.len() > u64::from(u32::MAX) {
            return Err(cannot("the file is too large (4 GiB or more)".into()));
        }
        let mut bytes = Vec::new();
        (&mut file)
            .take(meta.len())
            .read_to_end(&mut bytes)
            .map_err(|e| cannot(io_error_text(&e)))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let diag = Diag::error(
                format!("the file is not valid UTF-8 (invalid byte at offset {at})"),
                crate::diag::Span::new(at, at + char::REPLACEMENT_CHARACTER.len_utf8()),
            );
            Failure {
                diags: vec![diag],
                file: Some((display_name.clone(), text)),
            }
        })?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(SourceFile {
            display_name,
            text,
            base_dir,
        })
    }

    /// Compiles the file; errors are rendered against it.
    pub fn compile(&self) -> Result<crate::ir::Module, Failure> {
        crate::compile(&self.text, &self.base_dir).map_err(|diags| self.failure(diags))
    }

    /// Compiles the file with `options` (the optimiser on or off).
    pub fn compile_with(&self, options: &crate::Options) -> Result<crate::Compiled, Failure> {
        crate::compile_with(&self.text, &self.base_dir, options)
            .map_err(|diags| self.failure(diags))
    }

    /// A failure whose diagnostics point into this file.
    pub fn failure(&self, diags: Vec<Diag>) -> Failure {
        Failure {
            diags,
            file: Some((self.display_name.clone(), self.text.clone())),
        }
    }
}

/// Why a command failed: its diagnostics, and the file they point into.
pub struct Failure {
    pub diags: Vec<Diag>,
    pub file: Option<(String, String)>,
}

impl Failure {
    /// An error outside any source file.
    pub fn plain(message: impl Into<String>) -> Failure {
        Failure {
            diags: vec![Diag::plain(message)],
            file: None,
        }
    }

    /// Renders every diagnostic, one after another.
    pub fn render(&self) -> String {
        let (name, text) = match &self.file {
            Some((name, text)) => (name.as_str(), text.as_str()),
            None => ("", ""),
        };
        crate::diag::render_all(&self.diags, name, text)
    }
}
