//! Reading a dataset's arrays: the members of an `.npz` file (NumPy's
//! `savez`/`savez_compressed`) and single `.npy` files, through `ir::npy`, which
//! checks every header (and the memory limit) before reading data.
//!
//! An array is read in the nearest tdsl dtype ([`natural`]: integers of any
//! width as `i32`, `f16` as `f32`) and converted to the dtype of the placeholder
//! it feeds by [`convert`], with the feed conversions' rules.

use super::npy::{FileDType, NpyFile, NpzFile};
use super::tensor::Tensor;
use super::types::{DType, TensorType};
use std::path::Path;

/// The tdsl dtype an array of `d` is held in.
pub fn natural(d: FileDType) -> DType {
    match (d.as_tdsl(), d) {
        (Some(t), _) => t,
        (None, FileDType::Float { .. }) => DType::F32,
        (None, _) => DType::I32,
    }
}

/// The arrays of an `.npz` file, with the types they are held in, in the
/// file's order (from the headers; no data read).
pub fn npz_members(path: &Path) -> Result<Vec<(String, TensorType)>, String> {
    let file = NpzFile::open(path)?;
    Ok(file
        .members()
        .map(|m| {
            let ty = TensorType::new(natural(m.dtype), m.shape.clone());
            (m.name.clone(), ty)
        })
        .collect())
}

/// Reads array `name` of an `.npz` file within `max_bytes`. A missing name is
/// an error listing the arrays the file has.
pub fn read_npz_member(path: &Path, name: &str, max_bytes: u64) -> Result<Tensor, String> {
    let mut file = NpzFile::open(path)?;
    let dtype = natural(file.member(name)?.dtype);
    file.read_as(name, dtype, max_bytes)
}

/// Reads one `.npy` array of a dataset within `max_bytes`.
pub fn read_npy_array(path: &Path, max_bytes: u64) -> Result<Tensor, String> {
    let file = NpyFile::open(path)?;
    let dtype = natural(file.dtype());
    let what = format!("'{}'", path.display());
    super::limits::check(&what, &file.ty_as(dtype), max_bytes)?;
    file.read_as(dtype)
}

/// [`read_npz_member`] from the headers alone (`tdsl check`): the member's
/// type, with the same header, file-size and memory-limit checks; no data read.
pub fn npz_member_type(path: &Path, name: &str, max_bytes: u64) -> Result<TensorType, String> {
    let file = NpzFile::open(path)?;
    let dtype = natural(file.member(name)?.dtype);
    file.type_as(name, dtype, max_bytes)
}

/// [`read_npy_array`] from the header alone (`tdsl check`): the array's type,
/// with the same header, file-size and memory-limit checks; no data read.
pub fn npy_array_type(path: &Path, max_bytes: u64) -> Result<TensorType, String> {
    let file = NpyFile::open(path)?;
    let ty = file.ty_as(natural(file.dtype()));
    super::limits::check(&format!("'{}'", path.display()), &ty, max_bytes)?;
    Ok(ty)
}

/// The type a `.npy` file's array is held in (its header only).
pub fn npy_type(path: &Path) -> Result<TensorType, String> {
    let file = NpyFile::open(path)?;
    Ok(file.ty_as(natural(file.dtype())))
}

/// The type of what feeds `name` from `path`: the `.npy` file, or an `.npz`
/// archive's array `name` (as `--feed NAME=FILE.npz` reads it).
pub fn feed_type(path: &Path, name: &str) -> Result<TensorType, String> {
    if path.extension().is_some_and(|x| x == "npz") {
        let file = NpzFile::open(path)?;
        let member = file.member(name)?;
        return Ok(TensorType::new(natural(member.dtype), member.shape.clone()));
    }
    npy_type(path)
}

/// `value` converted to `dtype` when every element allows it: `i32` and `bool`
/// to floats (exactly: integers up to 2^24 for `f32`), `bool` to `i32`, `f64` to
/// `f32` by rounding (a finite value that overflows is an error), `f32` to
/// `f64`, whole floats in range to `i32`. An element that does not convert is
/// an error naming `what`, its index and its value.
pub fn convert(value: &Tensor, dtype: DType, what: &str) -> Result<Tensor, String> {
    let from = value.dtype();
    if from == dtype {
        return Ok(value.clone());
    }
    let shape = value.shape().to_vec();
    let values = value.to_f64_vec();
    let bad = |i: usize, v: f64, why: &str| {
        let index = unravel(i, &shape);
        format!("{what} cannot be converted from {from} to {dtype}: the value at index {index} is {v}, {why}")
    };
    for (i, &v) in values.iter().enumerate() {
        match dtype {
            DType::I32 => {
                if v.fract() != 0.0 || !v.is_finite() {
                    return Err(bad(i, v, "which is not a whole number"));
                }
                if v < f64::from(i32::MIN) || v > f64::from(i32::MAX) {
                    return Err(bad(i, v, "which is out of range for i32"));
                }
            }
            DType::F32 => {
                if from == DType::I32 && v.abs() > f64::from(1u32 << 24) && (v as f32) as f64 != v {
                    return Err(bad(i, v, "which f32 cannot hold exactly"));
                }
                if v.is_finite() && (v as f32).is_infinite() {
                    return Err(bad(i, v, "which is out of range for f32"));
                }
            }
            DType::Bool => {
                if from == DType::F32 || from == DType::F64 || (v != 0.0 && v != 1.0) {
                    return Err(bad(i, v, "which is not a bool"));
                }
            }
            DType::F64 => {}
        }
    }
    Tensor::from_f64_vec(&TensorType::new(dtype, shape), values)
        .ok_or_else(|| format!("internal: cannot convert {what} to {dtype}"))
}

/// Element `i` of a row-major array of `shape` as a NumPy index: `(3, 1)`.
fn unravel(mut i: usize, shape: &[usize]) -> String {
    let mut index = vec![0; shape.len()];
    for (k, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            index[k] = i % d;
            i /= d;
        }
    }
    let parts: Vec<String> = index.iter().map(|x| x.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}
