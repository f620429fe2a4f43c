//! The element types a `.npy` file may store (NumPy's bool, signed and
//! unsigned integers of 1 to 8 bytes, and floats of 2, 4 and 8 bytes), and
//! which tdsl dtypes each converts to.

use crate::ir::types::DType;
use std::fmt;

/// A stored element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileDType {
    Bool,
    /// `i1 i2 i4 i8` (signed) and `u1 u2 u4 u8`.
    Int {
        signed: bool,
        bytes: u8,
    },
    /// `f2 f4 f8`.
    Float {
        bytes: u8,
    },
}

impl FileDType {
    /// Parses the type code of a `descr` without its byte-order character:
    /// `f4`, `i8`, `u1`, `b1` or `?`. `None` when tdsl cannot read it.
    pub fn from_code(code: &str) -> Option<FileDType> {
        Some(match code {
            "b1" | "?" => FileDType::Bool,
            "i1" | "i2" | "i4" | "i8" | "u1" | "u2" | "u4" | "u8" => FileDType::Int {
                signed: code.starts_with('i'),
                bytes: code[1..].parse().ok()?,
            },
            "f2" | "f4" | "f8" => FileDType::Float {
                bytes: code[1..].parse().ok()?,
            },
            _ => return None,
        })
    }

    /// What a code tdsl cannot read holds, for the error message.
    pub fn describe_unsupported(code: &str) -> &'static str {
        match code.chars().next() {
            Some('c') => "complex numbers",
            Some('U' | 'S' | 'a') => "strings",
            Some('O') => "Python objects",
            Some('M' | 'm') => "dates or times",
            Some('V') => "raw or structured records",
            Some('f') => "floats of a width tdsl does not read",
            Some('i' | 'u') => "integers of a width tdsl does not read",
            _ => "values of an unknown type",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            FileDType::Bool => 1,
            FileDType::Int { bytes, .. } | FileDType::Float { bytes } => usize::from(bytes),
        }
    }

    /// The tdsl dtype with the same representation, if there is one.
    pub fn as_tdsl(self) -> Option<DType> {
        match self {
            FileDType::Bool => Some(DType::Bool),
            FileDType::Int {
                signed: true,
                bytes: 4,
            } => Some(DType::I32),
            FileDType::Float { bytes: 4 } => Some(DType::F32),
            FileDType::Float { bytes: 8 } => Some(DType::F64),
            _ => None,
        }
    }

    /// Whether values of this type may convert to `to` (each value is then
    /// checked as it is read): everything converts to `i32`, `f32` and `f64`;
    /// only bool and integers (0 or 1) convert to `bool`.
    pub fn converts_to(self, to: DType) -> bool {
        to != DType::Bool || !matches!(self, FileDType::Float { .. })
    }
}

impl fmt::Display for FileDType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FileDType::Bool => f.write_str("bool"),
            FileDType::Int { signed, bytes } => {
                write!(f, "{}{}", if signed { 'i' } else { 'u' }, 8 * bytes)
            }
            FileDType::Float { bytes } => write!(f, "f{}", 8 * bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_sizes() {
        let cases = [
            ("b1", "bool", 1),
            ("?", "bool", 1),
            ("i1", "i8", 1),
            ("u2", "u16", 2),
            ("i8", "i64", 8),
            ("u8", "u64", 8),
            ("f2", "f16", 2),
            ("f8", "f64", 8),
        ];
        for (code, name, size) in cases {
            let t = FileDType::from_code(code).unwrap();
            assert_eq!(
                (t.to_string(), t.size()),
                (name.to_string(), size),
                "{code}"
            );
        }
        for code in ["c8", "U5", "O", "f16", "i3", "M8[ns]", ""] {
            assert_eq!(FileDType::from_code(code), None, "{code}");
        }
        assert_eq!(FileDType::describe_unsupported("c16"), "complex numbers");
        assert_eq!(FileDType::describe_unsupported("U5"), "strings");
        assert_eq!(FileDType::describe_unsupported("O"), "Python objects");
    }

    #[test]
    fn which_types_convert() {
        let f64_ = FileDType::Float { bytes: 8 };
        let u8_ = FileDType::Int {
            signed: false,
            bytes: 1,
        };
        assert!(f64_.converts_to(DType::F32) && f64_.converts_to(DType::I32));
        assert!(!f64_.converts_to(DType::Bool));
        assert!(u8_.converts_to(DType::Bool) && FileDType::Bool.converts_to(DType::F32));
        assert_eq!(f64_.as_tdsl(), Some(DType::F64));
        assert_eq!(u8_.as_tdsl(), None);
    }
}
