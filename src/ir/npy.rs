//! `.npy` reading and writing for every dtype, with errors as plain messages
//! (the caller attaches the span or file name).

use super::tensor::Tensor;
use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, ReadNpyExt, WriteNpyExt};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Reads a `.npy` file of dtype f32, f64, i32 or bool (little-endian, C or
/// Fortran order).
pub fn read_npy(path: &Path) -> Result<Tensor, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    // Try each dtype in turn: ndarray-npy reports a type mismatch separately
    // from a malformed file.
    macro_rules! attempt {
        ($t:ty, $variant:ident) => {
            match ArrayD::<$t>::read_npy(&bytes[..]) {
                Ok(a) => return Ok(Tensor::$variant(a)),
                Err(ReadNpyError::WrongDescriptor(_)) => {}
                Err(e) => {
                    return Err(format!(
                        "'{}' is not a valid .npy file: {e}",
                        path.display()
                    ))
                }
            }
        };
    }
    attempt!(f32, F32);
    attempt!(f64, F64);
    attempt!(i32, I32);
    attempt!(bool, Bool);
    Err(format!(
        "'{}' has an unsupported dtype; tdsl reads f32, f64, i32 and bool (little-endian)",
        path.display()
    ))
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
