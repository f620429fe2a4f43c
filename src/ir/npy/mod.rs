//! `.npy` reading and writing for every dtype, with errors as plain messages
//! (the caller attaches the span or file name).
//!
//! Reading never trusts the file: the header is parsed and checked first
//! (`header.rs`), the caller compares its type with a declaration and the
//! memory limit, and only then is the data read, exactly as many bytes as the
//! header promises.

mod header;

use super::tensor::Tensor;
use super::types::{DType, TensorType};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::WriteNpyExt;
use std::fs::File;
use std::io::{BufWriter, Read};
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
        let invalid = |m: String| format!("'{}' is not a valid .npy file: {m}", path.display());
        // Look before opening: opening a pipe with no writer blocks.
        let meta = std::fs::metadata(path).map_err(cannot)?;
        if !meta.is_file() {
            return Err(format!(
                "cannot read '{}': not a regular file",
                path.display()
            ));
        }
        let mut file = File::open(path).map_err(cannot)?;
        let size = meta.len();
        let mut prefix = Vec::new();
        (&mut file)
            .take(header::PREFIX_V1 as u64 + 2)
            .read_to_end(&mut prefix)
            .map_err(cannot)?;
        let (start, len) = header::dict_extent(&prefix).map_err(invalid)?;
        if len > header::MAX_HEADER_BYTES || start + len > size {
            return Err(invalid(format!(
                "its header length {len} does not fit the file ({size} bytes)"
            )));
        }
        let mut dict = prefix.get(start as usize..).unwrap_or_default().to_vec();
        (&mut file)
            .take(len - dict.len() as u64)
            .read_to_end(&mut dict)
            .map_err(cannot)?;
        dict.truncate(len as usize);
        let header = header::parse_dict(&dict, start).map_err(invalid)?;
        let expected = header.data_offset.checked_add(header.data_bytes);
        if expected != Some(size) {
            return Err(invalid(format!(
                "its header declares {} ({} bytes of data) but the file has {} bytes after the header",
                header.ty,
                header.data_bytes,
                size - header.data_offset
            )));
        }
        Ok(NpyFile {
            path: path.to_path_buf(),
            file,
            header,
        })
    }

    /// The type the header declares.
    pub fn ty(&self) -> &TensorType {
        &self.header.ty
    }

    /// Reads the data: exactly the bytes the header declares.
    pub fn read(self) -> Result<Tensor, String> {
        let h = &self.header;
        let n = h.data_bytes as usize;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(n).map_err(|_| {
            format!(
                "cannot read '{}': out of memory ({n} bytes)",
                self.path.display()
            )
        })?;
        self.file
            .take(h.data_bytes)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read '{}': {e}", self.path.display()))?;
        if bytes.len() != n {
            return Err(format!(
                "'{}' is not a valid .npy file: it ended before its data did",
                self.path.display()
            ));
        }
        let bad = |m: &str| format!("'{}' is not a valid .npy file: {m}", self.path.display());
        let le = h.little_endian;
        Ok(match h.ty.dtype {
            DType::F32 => Tensor::F32(shaped(
                h,
                words(&bytes, le, f32::from_le_bytes, f32::from_be_bytes),
            )?),
            DType::F64 => Tensor::F64(shaped(
                h,
                words(&bytes, le, f64::from_le_bytes, f64::from_be_bytes),
            )?),
            DType::I32 => Tensor::I32(shaped(
                h,
                words(&bytes, le, i32::from_le_bytes, i32::from_be_bytes),
            )?),
            DType::Bool => {
                if bytes.iter().any(|&b| b > 1) {
                    return Err(bad("a bool element is neither 0 nor 1"));
                }
                Tensor::Bool(shaped(h, bytes.iter().map(|&b| b == 1).collect())?)
            }
        })
    }
}

/// Decodes fixed-size elements in the file's byte order.
fn words<T, const N: usize>(
    bytes: &[u8],
    little: bool,
    le: fn([u8; N]) -> T,
    be: fn([u8; N]) -> T,
) -> Vec<T> {
    let decode = if little { le } else { be };
    bytes
        .chunks_exact(N)
        .map(|c| {
            let mut word = [0u8; N];
            word.copy_from_slice(c);
            decode(word)
        })
        .collect()
}

/// The values as an array in standard (row-major) layout.
fn shaped<T: Clone>(h: &header::Header, values: Vec<T>) -> Result<ArrayD<T>, String> {
    let dims = IxDyn(h.ty.shape.dims());
    let bad = |e: ndarray::ShapeError| format!("internal: cannot shape {}: {e}", h.ty);
    if h.fortran_order {
        let a = ArrayD::from_shape_vec(dims.f(), values).map_err(bad)?;
        Ok(a.as_standard_layout().into_owned())
    } else {
        ArrayD::from_shape_vec(dims, values).map_err(bad)
    }
}

/// The type the header at the start of a `.npy` stream declares (an `.npz`
/// member, say), read and checked without reading any data.
pub fn read_header_type(reader: &mut impl Read) -> Result<TensorType, String> {
    let mut prefix = Vec::new();
    reader
        .take(header::PREFIX_V1 as u64 + 2)
        .read_to_end(&mut prefix)
        .map_err(|e| e.to_string())?;
    let (start, len) = header::dict_extent(&prefix)?;
    if len > header::MAX_HEADER_BYTES {
        return Err(format!("its header length {len} is too large"));
    }
    let mut dict = prefix.get(start as usize..).unwrap_or_default().to_vec();
    reader
        .take(len.saturating_sub(dict.len() as u64))
        .read_to_end(&mut dict)
        .map_err(|e| e.to_string())?;
    dict.truncate(len as usize);
    Ok(header::parse_dict(&dict, start)?.ty)
}

/// Reads a `.npy` file of dtype f32, f64, i32 or bool (either byte order, C or
/// Fortran order) within the default memory limit.
pub fn read_npy(path: &Path) -> Result<Tensor, String> {
    read_npy_within(path, super::limits::default_max_bytes())
}

/// [`read_npy`] of at most `max_bytes`.
pub fn read_npy_within(path: &Path, max_bytes: u64) -> Result<Tensor, String> {
    let file = NpyFile::open(path)?;
    super::limits::check(&format!("'{}'", path.display()), file.ty(), max_bytes)?;
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
