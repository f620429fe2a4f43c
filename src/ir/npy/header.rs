//! The header of a `.npy` file (numpy.lib.format: magic, version, header length,
//! a Python dict literal padded to a multiple of 64), parsed and checked before
//! any data is read.

use super::dtype::FileDType;
use crate::ir::types::Shape;
use std::io::Read;

const MAGIC: &[u8] = b"\x93NUMPY";
/// Bytes before the dict in version 1 (magic, version, u16 length).
pub const PREFIX_V1: usize = 10;
/// NumPy itself refuses headers longer than this by default.
pub const MAX_HEADER_BYTES: u64 = 1 << 16;

/// What a `.npy` header declares.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub dtype: FileDType,
    pub shape: Vec<usize>,
    pub fortran_order: bool,
    /// The data's byte order: little-endian (or single bytes) when true.
    pub little_endian: bool,
    /// Where the data starts: prefix plus dict.
    pub data_offset: u64,
    /// The data's size in bytes.
    pub data_bytes: u64,
}

impl Header {
    /// The number of elements (fits in a `usize`: checked by `parse_dict`).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The stored type as text, like a tdsl type: `u8[60000, 28, 28]`.
    pub fn describe(&self) -> String {
        format!("{}{}", self.dtype, Shape(self.shape.clone()))
    }
}

/// Why a header is refused: it is malformed, or it is valid but stores a
/// type tdsl cannot read.
#[derive(Clone, Debug, PartialEq)]
pub enum HeaderError {
    Invalid(String),
    Unsupported(String),
}

impl From<String> for HeaderError {
    fn from(message: String) -> HeaderError {
        HeaderError::Invalid(message)
    }
}

impl From<&str> for HeaderError {
    fn from(message: &str) -> HeaderError {
        HeaderError::Invalid(message.to_string())
    }
}

/// Reads and checks the header at the start of `r`, a file or archive member
/// of `size` bytes: the dict is read only when its length fits, and the
/// header must account for exactly `size` bytes. Nothing else is read.
pub fn read_header(r: &mut impl Read, size: u64) -> Result<Header, ReadError> {
    let mut prefix = Vec::new();
    r.take(PREFIX_V1 as u64 + 2)
        .read_to_end(&mut prefix)
        .map_err(ReadError::Io)?;
    let (start, len) = dict_extent(&prefix).map_err(ReadError::invalid)?;
    if len > MAX_HEADER_BYTES || start + len > size {
        return Err(ReadError::invalid(format!(
            "its header length {len} does not fit the file ({size} bytes)"
        )));
    }
    let mut dict = prefix.get(start as usize..).unwrap_or_default().to_vec();
    r.take(len.saturating_sub(dict.len() as u64))
        .read_to_end(&mut dict)
        .map_err(ReadError::Io)?;
    if (dict.len() as u64) < len {
        return Err(ReadError::invalid("the header is truncated".to_string()));
    }
    // A header read with its prefix may hold the data's first bytes too.
    let extra = dict.split_off(len as usize);
    let header = parse_dict(&dict, start).map_err(|e| match e {
        HeaderError::Invalid(m) => ReadError::Invalid(m),
        HeaderError::Unsupported(m) => ReadError::Unsupported(m),
    })?;
    let expected = header.data_offset.checked_add(header.data_bytes);
    if expected != Some(size) {
        return Err(ReadError::invalid(format!(
            "its header declares {} ({} bytes of data) but the file has {} bytes after the header",
            header.describe(),
            header.data_bytes,
            size.saturating_sub(header.data_offset)
        )));
    }
    if !extra.is_empty() {
        return Err(ReadError::invalid("its header is too short".to_string()));
    }
    Ok(header)
}

/// Why reading a header failed.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    Invalid(String),
    Unsupported(String),
}

impl ReadError {
    fn invalid(message: String) -> ReadError {
        ReadError::Invalid(message)
    }

    /// The message after the file's name: "'f.npy' is not a valid .npy file: ...".
    pub fn message(&self, what: &str) -> String {
        match self {
            ReadError::Io(e) => format!("cannot read {what}: {e}"),
            ReadError::Invalid(m) => format!("{what} is not a valid .npy file: {m}"),
            ReadError::Unsupported(m) => format!("{what} cannot be read: {m}"),
        }
    }
}

/// The dict's length and where it starts, from the fixed-size prefix (the
/// first `PREFIX_V1 + 2` bytes, or fewer when the file is shorter).
pub fn dict_extent(prefix: &[u8]) -> Result<(u64, u64), String> {
    if prefix.len() < PREFIX_V1 || &prefix[..MAGIC.len()] != MAGIC {
        return Err("it does not start with the .npy magic string".into());
    }
    match prefix[6] {
        1 => Ok((
            PREFIX_V1 as u64,
            u64::from(u16::from_le_bytes([prefix[8], prefix[9]])),
        )),
        2 | 3 if prefix.len() >= PREFIX_V1 + 2 => Ok((
            PREFIX_V1 as u64 + 2,
            u64::from(u32::from_le_bytes([
                prefix[8], prefix[9], prefix[10], prefix[11],
            ])),
        )),
        2 | 3 => Err("the header is truncated".into()),
        v => Err(format!("unknown .npy format version {v}")),
    }
}

/// Parses the dict (`start` is its offset in the file) into a checked header:
/// a supported dtype and a shape whose byte size does not overflow.
pub fn parse_dict(dict: &[u8], start: u64) -> Result<Header, HeaderError> {
    let text = std::str::from_utf8(dict).map_err(|_| "the header is not text".to_string())?;
    let descr = string_value(text, "descr")?;
    let fortran_order = match raw_value(text, "fortran_order")? {
        v if v.starts_with("True") => true,
        v if v.starts_with("False") => false,
        _ => return Err("'fortran_order' is neither True nor False".into()),
    };
    let (dtype, little_endian) = parse_descr(&descr)?;
    let shape = parse_shape(raw_value(text, "shape")?)?;
    let data_bytes = data_bytes(dtype, &shape).ok_or_else(|| {
        format!(
            "its header declares the shape {dtype}{}, whose size in bytes overflows",
            Shape(shape.clone())
        )
    })?;
    Ok(Header {
        dtype,
        shape,
        fortran_order,
        little_endian,
        data_offset: start + dict.len() as u64,
        data_bytes,
    })
}

/// The data's byte size; `None` when it (or the product of the nonzero
/// dims, which ndarray also checks) does not fit in an `isize`.
fn data_bytes(dtype: FileDType, shape: &[usize]) -> Option<u64> {
    let mut nonzero: u64 = 1;
    let mut bytes = dtype.size() as u64;
    for &d in shape {
        nonzero = nonzero.checked_mul((d as u64).max(1))?;
        bytes = bytes.checked_mul(d as u64)?;
    }
    let max = isize::MAX as u64;
    (nonzero <= max && bytes <= max).then_some(bytes)
}

/// `'<f4'` -> (f32, little-endian). Every byte order NumPy writes is accepted:
/// `<` little, `>` big, `=` native, `|` not applicable (single bytes).
fn parse_descr(descr: &str) -> Result<(FileDType, bool), HeaderError> {
    let (order, code) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '=' | '|')) => (c, &descr[1..]),
        _ => ('=', descr),
    };
    let unsupported = || {
        HeaderError::Unsupported(format!(
            "it holds {} (dtype '{descr}'); tdsl reads bool, integers (i8 to i64, u8 to u64) \
             and floats (f16, f32, f64)",
            FileDType::describe_unsupported(code)
        ))
    };
    let dtype = FileDType::from_code(code).ok_or_else(unsupported)?;
    let little = match order {
        '<' => true,
        '>' => false,
        '|' if dtype.size() == 1 => true,
        '|' => return Err(format!("the dtype '{descr}' has no byte order").into()),
        _ => cfg!(target_endian = "little"),
    };
    Ok((dtype, little))
}

/// The text after `'key':` up to the end of the dict.
fn raw_value<'t>(text: &'t str, key: &str) -> Result<&'t str, String> {
    for quote in ['\'', '"'] {
        let pattern = format!("{quote}{key}{quote}");
        if let Some(at) = text.find(&pattern) {
            let rest = text[at + pattern.len()..].trim_start();
            if let Some(rest) = rest.strip_prefix(':') {
                return Ok(rest.trim_start());
            }
        }
    }
    Err(format!("the header has no '{key}'"))
}

/// A quoted string value.
fn string_value(text: &str, key: &str) -> Result<String, String> {
    let v = raw_value(text, key)?;
    let bad = || format!("the header's '{key}' is not a string");
    let quote = v
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')
        .ok_or_else(bad)?;
    let end = v[1..].find(quote).ok_or_else(bad)?;
    Ok(v[1..1 + end].to_string())
}

/// `(2, 3)`, `(5,)` or `()`.
fn parse_shape(v: &str) -> Result<Vec<usize>, String> {
    let bad = || "the header's 'shape' is not a tuple of sizes".to_string();
    let inner = v.strip_prefix('(').ok_or_else(bad)?;
    let inner = &inner[..inner.find(')').ok_or_else(bad)?];
    let mut dims = Vec::new();
    for part in inner.split(',') {
        let part = part.trim().trim_end_matches('L');
        if part.is_empty() {
            continue;
        }
        let d: u64 = part.parse().map_err(|_| bad())?;
        let d = usize::try_from(d).map_err(|_| format!("the dimension {d} is too large"))?;
        dims.push(d);
    }
    if dims.len() > 32 {
        return Err(format!("its rank {} is more than 32", dims.len()));
    }
    Ok(dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(dict: &str) -> Result<Header, String> {
        parse_dict(dict.as_bytes(), 10).map_err(|e| match e {
            HeaderError::Invalid(m) | HeaderError::Unsupported(m) => m,
        })
    }

    #[test]
    fn dicts_numpy_writes() {
        let h = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }  \n");
        let h = h.unwrap();
        assert_eq!(
            (h.dtype, h.shape.clone()),
            (FileDType::Float { bytes: 4 }, vec![2, 3])
        );
        assert!(h.little_endian && !h.fortran_order);
        assert_eq!(h.data_bytes, 24);
        let h = header("{'descr': '>f8', 'fortran_order': True, 'shape': (5,), }").unwrap();
        assert_eq!(h.describe(), "f64[5]");
        assert!(!h.little_endian && h.fortran_order);
        let h = header("{'descr': '|b1', 'fortran_order': False, 'shape': (), }").unwrap();
        assert_eq!((h.dtype, h.data_bytes), (FileDType::Bool, 1));
        assert!(header("{'descr': '=i4', 'fortran_order': False, 'shape': (1,), }").is_ok());
    }

    #[test]
    fn hostile_dicts_are_errors() {
        let with_shape = |s: &str| {
            header(&format!(
                "{{'descr': '<f4', 'fortran_order': False, 'shape': {s}, }}"
            ))
        };
        let e = with_shape("(100000000000000000000,)").unwrap_err();
        assert!(e.contains("not a tuple") || e.contains("too large"), "{e}");
        let e = with_shape("(0, 9223372036854775808)").unwrap_err();
        assert!(e.contains("overflows"), "{e}");
        assert!(with_shape("(2, 3000000000000)").is_ok());
        assert!(with_shape("(4611686018427387904, 4)").is_err());
        assert!(with_shape("(2, -3)").is_err());
        assert!(with_shape("2").is_err());
        let e = header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }").unwrap_err();
        assert!(e.contains("complex numbers (dtype '<c8')"), "{e}");
        let h = header("{'descr': '>u2', 'fortran_order': False, 'shape': (3,), }").unwrap();
        assert_eq!(
            (h.describe(), h.data_bytes, h.little_endian),
            ("u16[3]".into(), 6, false)
        );
        assert!(header("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }").is_err());
        assert!(header("{'fortran_order': False, 'shape': (1,), }").is_err());
        assert!(header("{'descr': '<f4', 'fortran_order': 3, 'shape': (1,), }").is_err());
    }

    #[test]
    fn prefixes() {
        let mut v1 = MAGIC.to_vec();
        v1.extend_from_slice(&[1, 0, 0x76, 0]);
        assert_eq!(dict_extent(&v1), Ok((10, 0x76)));
        let mut v2 = MAGIC.to_vec();
        v2.extend_from_slice(&[2, 0, 1, 0, 0, 0]);
        assert_eq!(dict_extent(&v2), Ok((12, 1)));
        assert!(dict_extent(b"\x93NUMPY\x01").is_err());
        assert!(dict_extent(b"PK\x03\x04 not npy").is_err());
        let mut v9 = MAGIC.to_vec();
        v9.extend_from_slice(&[9, 0, 0, 0]);
        assert!(dict_extent(&v9).is_err());
    }
}
