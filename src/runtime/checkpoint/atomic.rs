//! Writing a folder whole or not at all: the files go into a temporary folder
//! next to it (`.NAME.tmp-PID`), which then takes the folder's place in one
//! rename. An old folder of that name stays whole until the swap, so a failure
//! at any point before it leaves the old checkpoint as it was.

use super::manifest::MANIFEST;
use std::path::{Path, PathBuf};

/// Checks, before anything is computed, that `dir` can become a checkpoint:
/// it does not exist (its nearest existing ancestor is a folder), or it is an
/// empty folder, or a checkpoint (a folder holding `checkpoint.txt`). Any other
/// folder is refused, so that a mistyped `--save` never replaces a folder of
/// data.
pub fn check_target(dir: &Path) -> Result<(), String> {
    split(dir)?;
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            let mut entries = std::fs::read_dir(dir).map_err(|e| cannot("read", dir, &e))?;
            if entries.next().is_none() || dir.join(MANIFEST).is_file() {
                Ok(())
            } else {
                Err(format!(
                    "'{}' is a folder that is not a checkpoint (it has no {MANIFEST}); \
                     refusing to replace it",
                    dir.display()
                ))
            }
        }
        Ok(_) => Err(format!("'{}' exists and is not a folder", dir.display())),
        Err(_) => {
            // The nearest existing ancestor must be a folder (it is created below it).
            let mut up = dir.parent();
            while let Some(p) = up.filter(|p| !p.as_os_str().is_empty()) {
                if let Ok(meta) = std::fs::metadata(p) {
                    if meta.is_dir() {
                        return Ok(());
                    }
                    return Err(format!(
                        "cannot create the folder '{}': '{}' is not a folder",
                        dir.display(),
                        p.display()
                    ));
                }
                up = p.parent();
            }
            Ok(())
        }
    }
}

/// Writes the folder `dir` with `fill` (which writes files into the folder
/// it is given), atomically as described above.
pub fn write_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), String> {
    check_target(dir)?;
    let (parent, name) = split(dir)?;
    std::fs::create_dir_all(&parent).map_err(|e| cannot("create the folder", &parent, &e))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| cannot("remove", &tmp, &e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| cannot("create the folder", &tmp, &e))?;
    let written = fill(&tmp)
        .and_then(|()| sync(&tmp))
        .and_then(|()| swap(&tmp, dir, &parent, &name));
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written?;
    // A failed sync of the parent leaves the new folder in place: not an error.
    let _ = sync(&parent);
    Ok(())
}

/// The parent folder (`.` for a bare name) and the last component.
fn split(dir: &Path) -> Result<(PathBuf, String), String> {
    let name = match dir.file_name() {
        Some(name) => name.to_string_lossy().into_owned(),
        None => return Err(format!("'{}' cannot be a checkpoint folder", dir.display())),
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Puts the finished `tmp` in the place of `dir`.
fn swap(tmp: &Path, dir: &Path, parent: &Path, name: &str) -> Result<(), String> {
    if std::fs::symlink_metadata(dir).is_err() {
        return std::fs::rename(tmp, dir).map_err(|e| cannot("create", dir, &e));
    }
    if exchange(tmp, dir) {
        // `tmp` now holds the old checkpoint.
        let _ = std::fs::remove_dir_all(tmp);
        return Ok(());
    }
    // No atomic exchange here: the old folder steps aside, then the new one
    // takes its name (the old one stays whole under `.NAME.old-PID` if that fails).
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(dir, &old).map_err(|e| cannot("replace", dir, &e))?;
    if let Err(e) = std::fs::rename(tmp, dir) {
        let _ = std::fs::rename(&old, dir);
        return Err(cannot("replace", dir, &e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Swaps two paths in one step (Linux's `renameat2` with `RENAME_EXCHANGE`);
/// false where that is not available.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(a), Ok(b)) = (
        CString::new(a.as_os_str().as_bytes()),
        CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both paths are NUL-terminated C strings that outlive the call;
    // `renameat2` reads them and touches no other memory.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    status == 0
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exchange(_a: &Path, _b: &Path) -> bool {
    false
}

/// Flushes a folder's entries to disk.
fn sync(dir: &Path) -> Result<(), String> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| cannot("sync", dir, &e))
}

fn cannot(what: &str, path: &Path, e: &std::io::Error) -> String {
    format!(
        "cannot {what} '{}': {}",
        path.display(),
        crate::diag::io_error_text(e)
    )
}
