//! Evidence files on disk: durable writes and removal of a session's directory.

use std::fs;
use std::path::Path;

use crate::error::{Result, StoreError};

/// Removes a directory tree, returning how many files were in it; 0 if it does not
/// exist.
pub(super) fn remove_dir_counting(dir: &Path) -> Result<u64> {
    fn count(dir: &Path) -> std::io::Result<u64> {
        let mut n = 0;
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                n += count(&entry.path())?;
            } else {
                n += 1;
            }
        }
        Ok(n)
    }
    let n = match count(dir) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StoreError::Backend(format!("{}: {e}", dir.display()))),
    };
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(n),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(n),
        Err(e) => Err(StoreError::Backend(format!(
            "cannot remove {}: {e}",
            dir.display()
        ))),
    }
}

/// Writes `bytes` to `path` durably: a temporary file, fsync, rename.
pub(super) fn write_file_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().expect("evidence path has a parent");
    fs::create_dir_all(dir)?;
    let name = path.file_name().expect("evidence path has a name");
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
