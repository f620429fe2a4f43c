//! Reading a dataset's arrays: the members of an `.npz` file (NumPy's
//! `savez`/`savez_compressed`) and single `.npy` files, through `ir::npy`, which
//! checks every header (and the memory limit) before reading data.
//!
//! An array is read in the nearest tdsl dtype ([`natural`]: integers of any
//! width as `i32`, `f16` as `f32`) and converted to the dtype of the placeholder
//! it feeds by [`convert`], with the feed conversions' rules. An array of
//! `u32`, `i64` or `u64` whose values do not all fit `i32` is held as `f64`
//! instead (exactly: a value beyond 2^53 is an error), marked *wide*, and
//! converts by the integer rules; arrays that fit keep `i32`'s memory.

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
/// The value is `(array, wide)`: `wide` when it holds integers beyond `i32`
/// as `f64`.
pub fn read_npz_member(path: &Path, name: &str, max_bytes: u64) -> Result<(Tensor, bool), String> {
    let mut file = NpzFile::open(path)?;
    let stored = file.member(name)?.dtype;
    let read = file.read_as(name, natural(stored), max_bytes);
    match read {
        Err(_) if is_wide(stored) => Ok((file.read_as(name, DType::F64, max_bytes)?, true)),
        other => other.map(|t| (t, false)),
    }
}

/// Reads one `.npy` array of a dataset within `max_bytes`: `(array, wide)` as
/// [`read_npz_member`] gives it.
pub fn read_npy_array(path: &Path, max_bytes: u64) -> Result<(Tensor, bool), String> {
    let read = |dtype: DType| {
        let file = NpyFile::open(path)?;
        let what = format!("'{}'", path.display());
        super::limits::check(&what, &file.ty_as(dtype), max_bytes)?;
        file.read_as(dtype)
    };
    let stored = NpyFile::open(path)?.dtype();
    match read(natural(stored)) {
        Err(_) if is_wide(stored) => Ok((read(DType::F64)?, true)),
        other => other.map(|t| (t, false)),
    }
}

/// Integers `i32` cannot hold every value of: `u32`, `i64`, `u64`.
fn is_wide(d: FileDType) -> bool {
    matches!(d, FileDType::Int { signed, bytes } if bytes > 4 || (bytes == 4 && !signed))
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
/// `f64`, whole floats in range to `i32`. A `wide` value (integers held as
/// `f64`) converts as integers: to `f32` exactly, to `bool` when 0 or 1. An
/// element that does not convert is an error naming `what`, its index and its
/// value.
pub fn convert(value: &Tensor, dtype: DType, what: &str, wide: bool) -> Result<Tensor, String> {
    let from = value.dtype();
    if from == dtype {
        return Ok(value.clone());
    }
    let integers = from == DType::I32 || wide;
    let floats = from.is_float() && !wide;
    let from = if wide {
        "integers".to_string()
    } else {
        from.to_string()
    };
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
                if integers && v.abs() > f64::from(1u32 << 24) && (v as f32) as f64 != v {
                    return Err(bad(i, v, "which f32 cannot hold exactly"));
                }
                if v.is_finite() && (v as f32).is_infinite() {
                    return Err(bad(i, v, "which is out of range for f32"));
                }
            }
            DType::Bool => {
                if floats || (v != 0.0 && v != 1.0) {
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
