//! How the store touches the disk: owner-only modes, and replacing a file so that a crash at
//! any moment leaves either the old or the new contents, never a torn file.
//!
//! The C service wrote `places/` files in place; a `kill -9` during that write left a short
//! file, which its loader then skipped. Here a file is written to `<name>.tmp`, synced,
//! renamed over `<name>`, and the directory is synced so the rename itself survives a power
//! loss. A leftover `.tmp` is removed by the next load.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::StoreError;
use super::layout::TEMP_SUFFIX;

/// Mode of every file the store creates: the owner's only (a host's `places/` file holds the
/// place's private key).
pub(super) const FILE_MODE: u32 = 0o600;
/// Mode of every directory the store creates.
pub(super) const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents, each with [`DIR_MODE`]; existing ones are left as
/// they are.
pub(super) fn create_dirs(dir: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(StoreError::io("create directory", dir))
}

/// The directory `path` is in.
fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// Replaces (or creates) `path` with `bytes`, atomically and durably.
pub(super) fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = parent(path);
    create_dirs(dir)?;
    let temp = temp_path(path);
    // A temp file left by a crash may have any contents and mode: start afresh.
    remove_if_present(&temp)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(&temp)
        .map_err(StoreError::io("create", &temp))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(StoreError::io("write", &temp));
    drop(file);
    if let Err(e) = written.and_then(|()| {
        std::fs::rename(&temp, path).map_err(StoreError::io("rename into place", path))
    }) {
        // Best effort: the next load removes it anyway.
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Creates the empty file `path` (an app marker) if it is missing, durably.
pub(super) fn create_empty(path: &Path) -> Result<(), StoreError> {
    let dir = parent(path);
    create_dirs(dir)?;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map_err(StoreError::io("create", path))?;
    sync_dir(dir)
}

/// Creates `path` only if it does not exist yet: `None` if it did.
pub(super) fn create_new(path: &Path) -> Result<Option<File>, StoreError> {
    create_dirs(parent(path))?;
    match OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(StoreError::io("create", path)(e)),
    }
}

/// Renames `from` to `to` and syncs their directory.
pub(super) fn rename(from: &Path, to: &Path) -> Result<(), StoreError> {
    std::fs::rename(from, to).map_err(StoreError::io("rename", from))?;
    sync_dir(parent(to))
}

/// Removes the file `path`; one that is already gone is fine. Whether it was there.
pub(super) fn remove_if_present(path: &Path) -> Result<bool, StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io("remove", path)(e)),
    }
}

/// Makes a rename or creation in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io("sync directory", dir))
}

/// Where `path`'s replacement is written first.
pub(super) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(TEMP_SUFFIX);
    path.with_file_name(name)
}

/// Narrows the mode of `path` to [`FILE_MODE`] if group or others may access it; whether it
/// had to.
pub(super) fn tighten(path: &Path, mode: u32) -> Result<bool, StoreError> {
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))
        .map_err(StoreError::io("restrict the mode of", path))?;
    Ok(true)
}
