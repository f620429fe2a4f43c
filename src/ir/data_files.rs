//! Reading a dataset's arrays: the members of an `.npz` file (NumPy's
//! `savez`/`savez_compressed`) and single `.npy` files. Every array's header is
//! read and checked against the memory limit before its data is.
//!
//! The arrays are read in the dtype their file declares (f32, f64, i32, bool);
//! the caller checks it against the placeholders they feed.

use super::npy::{read_header_type, NpyFile};
use super::tensor::Tensor;
use super::types::{DType, TensorType};
use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use std::fs::File;
use std::path::Path;

/// The arrays of an `.npz` file, with their types, in the file's order (from
/// the headers; no data read).
pub fn npz_members(path: &Path) -> Result<Vec<(String, TensorType)>, String> {
    let mut zip = open_zip(path)?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(|e| not_npz(path, &e))?;
        let Some(name) = member.name().strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let ty = read_header_type(&mut member)
            .map_err(|m| format!("'{}', array `{name}`: {m}", path.display()))?;
        out.push((name, ty));
    }
    Ok(out)
}

/// Reads array `name` of an `.npz` file, after checking its header against
/// `max_bytes`. A missing name is an error listing the arrays the file has.
pub fn read_npz_member(path: &Path, name: &str, max_bytes: u64) -> Result<Tensor, String> {
    let members = npz_members(path)?;
    let Some((_, ty)) = members.iter().find(|(n, _)| n == name) else {
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        return Err(format!(
            "'{}' has no array `{name}`; it has: {}",
            path.display(),
            if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    let what = format!("array `{name}` of '{}'", path.display());
    super::limits::check(&what, ty, max_bytes)?;
    let mut zip = open_zip(path)?;
    let member = zip
        .by_name(&format!("{name}.npy"))
        .map_err(|e| not_npz(path, &e))?;
    let bad = |e: ndarray_npy::ReadNpyError| format!("cannot read {what}: {e}");
    let tensor = match ty.dtype {
        DType::F32 => Tensor::F32(ArrayD::<f32>::read_npy(member).map_err(bad)?),
        DType::F64 => Tensor::F64(ArrayD::<f64>::read_npy(member).map_err(bad)?),
        DType::I32 => Tensor::I32(ArrayD::<i32>::read_npy(member).map_err(bad)?),
        DType::Bool => Tensor::Bool(ArrayD::<bool>::read_npy(member).map_err(bad)?),
    };
    if tensor.ty() != *ty {
        return Err(format!(
            "cannot read {what}: its header says {ty}, its data {}",
            tensor.ty()
        ));
    }
    Ok(tensor.into_standard_layout())
}

/// Reads one `.npy` array of a dataset within `max_bytes`.
pub fn read_npy_array(path: &Path, max_bytes: u64) -> Result<Tensor, String> {
    let file = NpyFile::open(path)?;
    super::limits::check(&format!("'{}'", path.display()), file.ty(), max_bytes)?;
    file.read()
}

/// The type a `.npy` file declares (its header only).
pub fn npy_type(path: &Path) -> Result<TensorType, String> {
    Ok(NpyFile::open(path)?.ty().clone())
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<File>, String> {
    let cannot = |e: std::io::Error| {
        let text = e.to_string();
        let text = match text.find(" (os error ") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        format!("cannot read '{}': {text}", path.display())
    };
    // Look before opening: opening a pipe with no writer blocks.
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(format!(
            "cannot read '{}': not a regular file",
            path.display()
        ));
    }
    let file = File::open(path).map_err(cannot)?;
    zip::ZipArchive::new(file).map_err(|e| not_npz(path, &e))
}

fn not_npz(path: &Path, e: &zip::result::ZipError) -> String {
    format!("'{}' is not a valid .npz file: {e}", path.display())
}
