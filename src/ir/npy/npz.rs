//! `.npz` archives (NumPy's `savez`, `savez_compressed`): opening reads the zip
//! directory and each member's header; no data is read until
//! [`NpzFile::read_as`], which checks the memory limit first.

use super::convert;
use super::dtype::FileDType;
use super::header::{read_header, Header};
use crate::ir::limits;
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, Shape, TensorType};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use zip::ZipArchive;

/// One array of an archive, from its header.
#[derive(Clone, Debug, PartialEq)]
pub struct NpzMember {
    /// The array's name (the member's file name without `.npy`).
    pub name: String,
    pub dtype: FileDType,
    pub shape: Vec<usize>,
}

impl NpzMember {
    /// The stored type as text, like a tdsl type: `u8[60000, 28, 28]`.
    pub fn describe(&self) -> String {
        format!("{}{}", self.dtype, Shape(self.shape.clone()))
    }
}

/// An opened `.npz` archive whose members' headers are valid.
pub struct NpzFile {
    path: PathBuf,
    archive: ZipArchive<File>,
    /// (member, its index in the zip)
    members: Vec<(NpzMember, usize)>,
}

impl std::fmt::Debug for NpzFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpzFile")
            .field("path", &self.path)
            .field("members", &self.members)
            .finish()
    }
}

impl NpzFile {
    /// Opens `path` and checks every member's header. Only a regular file is
    /// accepted.
    pub fn open(path: &Path) -> Result<NpzFile, String> {
        let file_name = format!("'{}'", path.display());
        let cannot = |e: std::io::Error| format!("cannot read {file_name}: {e}");
        let meta = std::fs::metadata(path).map_err(cannot)?;
        if !meta.is_file() {
            return Err(format!("cannot read {file_name}: not a regular file"));
        }
        let file = File::open(path).map_err(cannot)?;
        let mut archive = ZipArchive::new(file)
            .map_err(|e| format!("{file_name} is not a valid .npz file: {e}"))?;
        let mut members: Vec<(NpzMember, usize)> = Vec::new();
        for index in 0..archive.len() {
            let (name, header) = {
                let mut entry = archive
                    .by_index(index)
                    .map_err(|e| format!("{file_name} is not a valid .npz file: {e}"))?;
                if entry.is_dir() {
                    continue;
                }
                let name = entry.name().to_string();
                let name = name.strip_suffix(".npy").unwrap_or(&name).to_string();
                let size = entry.size();
                let what = member_what(path, &name);
                let header = read_header(&mut entry, size).map_err(|e| e.message(&what))?;
                (name, header)
            };
            if members.iter().any(|(m, _)| m.name == name) {
                return Err(format!(
                    "{file_name} is not a valid .npz file: it has two arrays named '{name}'"
                ));
            }
            members.push((
                NpzMember {
                    name,
                    dtype: header.dtype,
                    shape: header.shape,
                },
                index,
            ));
        }
        Ok(NpzFile {
            path: path.to_path_buf(),
            archive,
            members,
        })
    }

    /// The archive's arrays, in the archive's order.
    pub fn members(&self) -> impl Iterator<Item = &NpzMember> {
        self.members.iter().map(|(m, _)| m)
    }

    /// The array `name`, or an error naming it and listing those the archive has.
    pub fn member(&self, name: &str) -> Result<&NpzMember, String> {
        self.members().find(|m| m.name == name).ok_or_else(|| {
            let names: Vec<String> = self.members().map(|m| format!("'{}'", m.name)).collect();
            let has = if names.is_empty() {
                "no arrays".to_string()
            } else {
                format!("the arrays {}", names.join(", "))
            };
            format!(
                "'{}' has no array named '{name}'; it has {has}",
                self.path.display()
            )
        })
    }

    /// Reads array `name` converted to `dtype`, after checking that it fits
    /// in `max_bytes` once converted.
    pub fn read_as(&mut self, name: &str, dtype: DType, max_bytes: u64) -> Result<Tensor, String> {
        let member = self.member(name)?;
        let what = member_what(&self.path, name);
        let ty = TensorType::new(dtype, member.shape.clone());
        limits::check(&what, &ty, max_bytes)?;
        let index = self
            .members
            .iter()
            .find(|(m, _)| m.name == name)
            .map_or(0, |(_, i)| *i);
        let invalid = |e: zip::result::ZipError| {
            format!("'{}' is not a valid .npz file: {e}", self.path.display())
        };
        let mut entry = self.archive.by_index(index).map_err(invalid)?;
        let size = entry.size();
        let header: Header = read_header(&mut entry, size).map_err(|e| e.message(&what))?;
        let tensor = convert::read_as(&mut entry, &header, dtype, &what)?;
        // Reading to the end makes the zip reader check the member's CRC.
        let mut rest = [0u8; 1];
        match entry.read(&mut rest) {
            Ok(0) => Ok(tensor),
            Ok(_) => Err(format!(
                "{what} is not a valid .npy file: it has bytes after its data"
            )),
            Err(e) => Err(format!("cannot read {what}: {e}")),
        }
    }
}

/// How messages name a member: `'d.npz', array 'x'`.
impl NpzFile {
    /// The type member `name` would be read as in `dtype`, with the memory
    /// limit checked like [`NpzFile::read_as`], from its header alone.
    pub fn type_as(&self, name: &str, dtype: DType, max_bytes: u64) -> Result<TensorType, String> {
        let member = self.member(name)?;
        let ty = TensorType::new(dtype, member.shape.clone());
        limits::check(&member_what(&self.path, name), &ty, max_bytes)?;
        Ok(ty)
    }
}

fn member_what(path: &Path, name: &str) -> String {
    format!("'{}', array '{name}'", path.display())
}

#[cfg(test)]
#[path = "npz_tests.rs"]
mod tests;
