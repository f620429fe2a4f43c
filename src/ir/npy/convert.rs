//! Reading a `.npy` array's data into a tdsl dtype, converting each element
//! like TF1's `feed_dict` when its value allows (see `docs/language-notes.md`):
//! - to `i32`: bool, integers in range, floats that are whole numbers in range;
//! - to `f32`/`f64`: bool, integers the float holds exactly (every integer up
//!   to 2^24 / 2^53), f16 and f32 exactly, f64 to f32 by rounding (a finite
//!   value beyond f32's range is an error; NaN and infinities stay);
//! - to `bool`: bool, and integers that are 0 or 1.
//!
//! The data is read in fixed-size chunks straight into the output, so the
//! memory used is the output tensor (whose size the caller checked) plus one
//! chunk. An element of the stored dtype is copied bit for bit.

use super::dtype::FileDType;
use super::header::Header;
use crate::ir::tensor::Tensor;
use crate::ir::types::DType;
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use std::io::Read;

/// Bytes read at a time (a multiple of every element size).
const CHUNK: usize = 1 << 16;

/// One stored element, decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Elem {
    Bool(bool),
    Int(i128),
    /// An f16 or f32 (f16 widens to f32 exactly).
    F32(f32),
    F64(f64),
}

/// Why an element does not convert.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Why {
    OutOfRange,
    NotWhole,
    NotANumber,
    NotExact,
    NotZeroOrOne,
    /// A stored bool byte other than 0 or 1: the file is malformed.
    BadBool,
}

type Failure = (Why, Elem);

/// Reads `h`'s data from `r` (positioned after the header) as `to`.
/// `what` names the array in messages: `'x.npy'` or `'d.npz', array 'x'`.
pub(super) fn read_as(
    r: &mut impl Read,
    h: &Header,
    to: DType,
    what: &str,
) -> Result<Tensor, String> {
    if !h.dtype.converts_to(to) {
        return Err(format!(
            "{what} holds {} values, which do not convert to {to}",
            h.dtype
        ));
    }
    let reader = Reader { r, h, to, what };
    let dtype = h.dtype;
    let same = dtype.as_tdsl() == Some(to);
    Ok(match to {
        DType::F32 if same => Tensor::F32(reader.read(|b| Ok(f32::from_bits(b as u32)))?),
        DType::F64 if same => Tensor::F64(reader.read(|b| Ok(f64::from_bits(b)))?),
        DType::I32 if same => Tensor::I32(reader.read(|b| Ok(b as u32 as i32))?),
        DType::F32 => Tensor::F32(reader.read(|b| to_f32(decode(dtype, b)?))?),
        DType::F64 => Tensor::F64(reader.read(|b| to_f64(decode(dtype, b)?))?),
        DType::I32 => Tensor::I32(reader.read(|b| to_i32(decode(dtype, b)?))?),
        DType::Bool => Tensor::Bool(reader.read(|b| to_bool(decode(dtype, b)?))?),
    })
}

struct Reader<'a, R> {
    r: &'a mut R,
    h: &'a Header,
    to: DType,
    what: &'a str,
}

impl<R: Read> Reader<'_, R> {
    /// Reads every element through `f`, which sees its raw bits (in native
    /// order); returns the array in row-major order, or an error naming the
    /// first element in row-major order that `f` refuses.
    fn read<T: Clone + Default>(
        self,
        f: impl Fn(u64) -> Result<T, Failure>,
    ) -> Result<ArrayD<T>, String> {
        let h = self.h;
        let n = h.numel();
        let size = h.dtype.size();
        let mut values: Vec<T> = Vec::new();
        values
            .try_reserve_exact(n)
            .map_err(|_| format!("cannot read {}: out of memory ({n} elements)", self.what))?;
        let mut buf = vec![0u8; CHUNK.min(h.data_bytes as usize)];
        let mut remaining = h.data_bytes;
        // (row-major position, index, failure)
        let mut first_bad: Option<(usize, Vec<usize>, Failure)> = None;
        while remaining > 0 {
            let len = (remaining as usize).min(CHUNK);
            let chunk = &mut buf[..len];
            self.r.read_exact(chunk).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => format!(
                    "{} is not a valid .npy file: it ended before its data did",
                    self.what
                ),
                _ => format!("cannot read {}: {e}", self.what),
            })?;
            for bytes in chunk.chunks_exact(size) {
                match f(bits(bytes, h.little_endian)) {
                    Ok(v) => values.push(v),
                    Err(failure) => {
                        let index = unravel(values.len(), &h.shape, h.fortran_order);
                        let order = ravel_c(&index, &h.shape);
                        if first_bad.as_ref().is_none_or(|(o, _, _)| order < *o) {
                            first_bad = Some((order, index, failure));
                        }
                        // In C order the first failure is the first in row-major
                        // order; in Fortran order a later one may come before it.
                        if !h.fortran_order {
                            break;
                        }
                        values.push(T::default());
                    }
                }
            }
            if first_bad.is_some() && !h.fortran_order {
                break;
            }
            remaining -= len as u64;
        }
        if let Some((_, index, failure)) = first_bad {
            return Err(self.message(&index, failure));
        }
        let dims = IxDyn(&h.shape);
        let shape_error =
            |e: ndarray::ShapeError| format!("internal: cannot shape {}: {e}", h.describe());
        if h.fortran_order {
            let a = ArrayD::from_shape_vec(dims.f(), values).map_err(shape_error)?;
            Ok(a.as_standard_layout().into_owned())
        } else {
            ArrayD::from_shape_vec(dims, values).map_err(shape_error)
        }
    }

    fn message(&self, index: &[usize], (why, value): Failure) -> String {
        let (what, from, to) = (self.what, self.h.dtype, self.to);
        let index = index_tuple(index);
        let value = show(value);
        let why = match why {
            Why::BadBool => {
                return format!(
                    "{what} is not a valid .npy file: the bool at index {index} is the byte {value}"
                )
            }
            Why::OutOfRange => format!("which is out of range for {to}"),
            Why::NotWhole => "which is not a whole number".to_string(),
            Why::NotANumber => "which is not a number".to_string(),
            Why::NotExact => format!(
                "which {to} cannot hold exactly (it holds every integer up to 2^{})",
                if to == DType::F32 { 24 } else { 53 }
            ),
            Why::NotZeroOrOne => "which is neither 0 nor 1".to_string(),
        };
        format!("{what} cannot be converted from {from} to {to}: the value at index {index} is {value}, {why}")
    }
}

/// The element's bytes as a native `u64` (zero-extended).
fn bits(bytes: &[u8], little: bool) -> u64 {
    let mut v = 0u64;
    if little {
        for &b in bytes.iter().rev() {
            v = (v << 8) | u64::from(b);
        }
    } else {
        for &b in bytes {
            v = (v << 8) | u64::from(b);
        }
    }
    v
}

/// Decodes raw bits of `dtype`.
fn decode(dtype: FileDType, b: u64) -> Result<Elem, Failure> {
    Ok(match dtype {
        FileDType::Bool if b > 1 => return Err((Why::BadBool, Elem::Int(b.into()))),
        FileDType::Bool => Elem::Bool(b == 1),
        FileDType::Int {
            signed: false,
            bytes: _,
        } => Elem::Int(b.into()),
        FileDType::Int {
            signed: true,
            bytes,
        } => {
            // Sign-extend from the element's width.
            let shift = 64 - 8 * u32::from(bytes);
            Elem::Int((((b << shift) as i64) >> shift).into())
        }
        FileDType::Float { bytes: 2 } => Elem::F32(f16_to_f32(b as u16)),
        FileDType::Float { bytes: 4 } => Elem::F32(f32::from_bits(b as u32)),
        FileDType::Float { .. } => Elem::F64(f64::from_bits(b)),
    })
}

/// IEEE half precision to f32, exactly.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    match exp {
        0 => {
            // Zero or subnormal: mant * 2^-24, exact in f32.
            let v = mant as f32 * (1.0 / 16_777_216.0);
            if sign != 0 {
                -v
            } else {
                v
            }
        }
        31 => f32::from_bits(sign | 0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (mant << 13)),
    }
}

fn to_i32(e: Elem) -> Result<i32, Failure> {
    let fail = |why| Err((why, e));
    let x = match e {
        Elem::Bool(b) => return Ok(i32::from(b)),
        Elem::Int(v) => return i32::try_from(v).or_else(|_| fail(Why::OutOfRange)),
        Elem::F32(x) => f64::from(x),
        Elem::F64(x) => x,
    };
    if x.is_nan() {
        fail(Why::NotANumber)
    } else if x.is_infinite() {
        fail(Why::OutOfRange)
    } else if x.fract() != 0.0 {
        fail(Why::NotWhole)
    } else if !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&x) {
        fail(Why::OutOfRange)
    } else {
        Ok(x as i32)
    }
}

fn to_f32(e: Elem) -> Result<f32, Failure> {
    match e {
        Elem::Bool(b) => Ok(f32::from(u8::from(b))),
        Elem::Int(v) => {
            let x = v as f32;
            if x as i128 == v {
                Ok(x)
            } else {
                Err((Why::NotExact, e))
            }
        }
        Elem::F32(x) => Ok(x),
        Elem::F64(x) => {
            let y = x as f32;
            if x.is_finite() && y.is_infinite() {
                Err((Why::OutOfRange, e))
            } else {
                Ok(y)
            }
        }
    }
}

fn to_f64(e: Elem) -> Result<f64, Failure> {
    match e {
        Elem::Bool(b) => Ok(f64::from(u8::from(b))),
        Elem::Int(v) => {
            let x = v as f64;
            if x as i128 == v {
                Ok(x)
            } else {
                Err((Why::NotExact, e))
            }
        }
        Elem::F32(x) => Ok(f64::from(x)),
        Elem::F64(x) => Ok(x),
    }
}

fn to_bool(e: Elem) -> Result<bool, Failure> {
    match e {
        Elem::Bool(b) => Ok(b),
        Elem::Int(0) => Ok(false),
        Elem::Int(1) => Ok(true),
        _ => Err((Why::NotZeroOrOne, e)),
    }
}

/// A value as NumPy prints it: `3`, `2.5`, `nan`, `-inf`, `True`.
fn show(e: Elem) -> String {
    let float = |x: f64, text: String| {
        if x.is_nan() {
            "nan".to_string()
        } else if x.is_infinite() {
            if x > 0.0 { "inf" } else { "-inf" }.to_string()
        } else {
            text
        }
    };
    match e {
        Elem::Bool(b) => if b { "True" } else { "False" }.to_string(),
        Elem::Int(v) => v.to_string(),
        Elem::F32(x) => float(f64::from(x), format!("{x:?}")),
        Elem::F64(x) => float(x, format!("{x:?}")),
    }
}

/// The index of the element at file position `pos`.
fn unravel(mut pos: usize, shape: &[usize], fortran: bool) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    let axes: Vec<usize> = if fortran {
        (0..shape.len()).collect()
    } else {
        (0..shape.len()).rev().collect()
    };
    for axis in axes {
        let d = shape[axis].max(1);
        index[axis] = pos % d;
        pos /= d;
    }
    index
}

/// The row-major position of `index`.
fn ravel_c(index: &[usize], shape: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i)
}

/// `(1, 2)`, `(3,)` or `()`, as NumPy writes an index.
fn index_tuple(index: &[usize]) -> String {
    match index {
        [i] => format!("({i},)"),
        _ => {
            let parts: Vec<String> = index.iter().map(|i| i.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
