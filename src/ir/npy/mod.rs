//! `.npy` and `.npz` reading and `.npy` writing, errors as plain messages.
//! Reading never trusts the file: the header is checked first (`header.rs`), then
//! the caller checks the type and the memory limit, and only then is exactly the
//! promised data read and converted (`convert.rs`).

mod convert;
mod dtype;
mod header;
mod npz;

pub use dtype::FileDType;
pub use npz::{NpzFile, NpzMember};

use super::tensor::Tensor;
use super::types::{DType, TensorType};
use ndarray_npy::WriteNpyExt;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// An opened `.npy` file whose header is valid and whose size matches it; no
/// data read yet.
#[derive(Debug)]
pub struct NpyFile {
    path: PathBuf,
    file: File,
    header: header::Header,
}

impl NpyFile {
    /// Opens `path` and checks its header against the file's size. Only a
    /// regular file is accepted (not `/dev/zero`, a pipe or a folder).
    pub fn open(path: &Path) -> Result<NpyFile, String> {
        let cannot = |e: std::io::Error| format!("cannot read '{}': {e}", path.display());
        // Look before opening: opening a pipe with no writer blocks.
        let meta = std::fs::metadata(path).map_err(cannot)?;
        if !meta.is_file() {
            return Err(format!(
                "cannot read '{}': not a regular file",
                path.display()
            ));
        }
        let mut file = File::open(path).map_err(cannot)?;
        let header = header::read_header(&mut file, meta.len())
            .map_err(|e| e.message(&format!("'{}'", path.display())))?;
        Ok(NpyFile {
            path: path.to_path_buf(),
            file,
            header,
        })
    }

    /// The stored element type.
    pub fn dtype(&self) -> FileDType {
        self.header.dtype
    }

    /// The stored shape.
    pub fn shape(&self) -> &[usize] {
        &self.header.shape
    }

    /// The stored type as text, like a tdsl type: `u8[60000, 28, 28]`.
    pub fn describe(&self) -> String {
        self.header.describe()
    }

    /// The type of the array once converted to `dtype`.
    pub fn ty_as(&self, dtype: DType) -> TensorType {
        TensorType::new(dtype, self.header.shape.clone())
    }

    /// The type the header declares when it is one of tdsl's.
    pub fn ty(&self) -> Option<TensorType> {
        self.header.dtype.as_tdsl().map(|d| self.ty_as(d))
    }

    /// Reads the data, exactly the bytes the header declares, converting each
    /// element to `dtype` (an element that does not convert is an error naming
    /// the file, its index and its value).
    pub fn read_as(mut self, dtype: DType) -> Result<Tensor, String> {
        let what = format!("'{}'", self.path.display());
        convert::read_as(&mut self.file, &self.header, dtype, &what)
    }

    /// Reads the data in the stored dtype, which must be one of tdsl's.
    pub fn read(self) -> Result<Tensor, String> {
        match self.header.dtype.as_tdsl() {
            Some(dtype) => self.read_as(dtype),
            None => Err(format!(
                "'{}' holds {}, which is not a tdsl dtype: declare the dtype to convert it to",
                self.path.display(),
                self.describe()
            )),
        }
    }
}

/// Reads a `.npy` file in its own dtype (f32, f64, i32 or bool; either byte
/// order, C or Fortran order) within the default memory limit.
pub fn read_npy(path: &Path) -> Result<Tensor, String> {
    read_npy_within(path, super::limits::default_max_bytes())
}

/// [`read_npy`] of at most `max_bytes`.
pub fn read_npy_within(path: &Path, max_bytes: u64) -> Result<Tensor, String> {
    let file = NpyFile::open(path)?;
    let ty = file.ty().ok_or_else(|| {
        format!(
            "'{}' holds {}, which is not a tdsl dtype",
            path.display(),
            file.describe()
        )
    })?;
    super::limits::check(&format!("'{}'", path.display()), &ty, max_bytes)?;
    file.read()
}

/// Writes `tensor` to `path` whole or not at all: a temporary file in the same
/// folder, then a rename.
pub fn write_npy_atomic(path: &Path, tensor: &Tensor) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| -> Result<(), String> {
        let file = File::create(&tmp).map_err(|e| e.to_string())?;
        let mut writer = BufWriter::new(file);
        let written = match tensor {
            Tensor::F32(a) => a.write_npy(&mut writer),
            Tensor::F64(a) => a.write_npy(&mut writer),
            Tensor::I32(a) => a.write_npy(&mut writer),
            Tensor::Bool(a) => a.write_npy(&mut writer),
        };
        written.map_err(|e| e.to_string())?;
        let file = writer.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write '{}': {e}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
