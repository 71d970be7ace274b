//! Filesystem helpers shared by the layers: moving an existing output
//! directory aside, writing files with a given mode, and copying files
//! byte for byte with their permissions and times.
//!
//! Nothing here decides names of cases or what goes in them.

use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// If `dir` exists, renames it to `<name>_<YYYY-MM-DD_HH-MM-SS>` (local
/// time) in the same parent, adding `_1`, `_2`, … when that name is taken
/// (two renames in one second never collide, nothing is ever deleted).
/// Returns the new name, if a rename happened.
pub fn move_aside(dir: &Path) -> Result<Option<PathBuf>> {
    if fs::symlink_metadata(dir).is_err() {
        return Ok(None);
    }
    // A file (or a device such as /dev/null) where a directory is wanted
    // is a mistake in the name given, not a directory to move aside.
    if !fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
        return Err(Error::Value(format!(
            "output directory '{}' exists and is not a directory: give another name",
            dir.display()
        )));
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let stamp = chrono::Local::now().format("%Y-%m-%d_%H-%M-%S");
    let parent = dir.parent().unwrap_or(Path::new("."));
    for n in 0..10_000u32 {
        let candidate = if n == 0 {
            parent.join(format!("{name}_{stamp}"))
        } else {
            parent.join(format!("{name}_{stamp}_{n}"))
        };
        // Reserve the name atomically: creating it fails if it exists, so two
        // processes never pick the same one; rename then replaces the empty
        // placeholder.
        match fs::create_dir(&candidate) {
            Ok(()) => {
                return match fs::rename(dir, &candidate) {
                    Ok(()) => Ok(Some(candidate)),
                    Err(e) => {
                        let _ = fs::remove_dir(&candidate);
                        Err(Error::io(dir, e))
                    }
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&candidate, e)),
        }
    }
    Err(Error::Value(format!(
        "could not find a free name to move {} aside",
        dir.display()
    )))
}

/// A path `parent/name` that does not exist yet: `name`, else `name_1`,
/// `name_2`, …
pub fn unique_child(parent: &Path, name: &str) -> PathBuf {
    let first = parent.join(name);
    if fs::symlink_metadata(&first).is_err() {
        return first;
    }
    (1u64..)
        .map(|n| parent.join(format!("{name}_{n}")))
        .find(|p| fs::symlink_metadata(p).is_err())
        .unwrap_or(first)
}

/// Opens `path` for reading only if it is a regular file (after
/// symlinks). The open itself never blocks: a FIFO opened plainly would
/// wait for a writer forever, so it is opened non-blocking and refused.
pub fn open_regular(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::File::options();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, socket or device)",
        ));
    }
    Ok(file)
}

/// The bytes of `path`, a regular file (see [`open_regular`]).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of `path`, a regular file (see [`open_regular`]).
pub fn read_regular_to_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_regular(path)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Writes `bytes` to `path` and sets its Unix permission bits to `mode`.
pub fn write_with_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    use std::io::Write;
    let mut options = fs::File::options();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    // The umask may have removed bits at creation; restore them only then.
    // When the umask is known and spares every bit of `mode`, nothing to do.
    #[cfg(unix)]
    if let Some(mode) = mode.filter(|m| process_umask().is_none_or(|u| m & u != 0)) {
        use std::os::unix::fs::PermissionsExt;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if meta.permissions().mode() & 0o7777 != mode {
            file.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io(path, e))?;
        }
    }
    Ok(())
}

/// The process umask, read once from `/proc/self/status` (Linux); `None`
/// where unknown. Read without changing it: `umask(2)` can only be read by
/// setting it, which would race with other threads creating files.
pub fn process_umask() -> Option<u32> {
    static UMASK: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("Umask:"))?;
        u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
    })
}

/// Renames `from` to `to`, failing if `to` exists (never replacing a
/// directory, even an empty one).
pub fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
        };
        let (f, t) = (c(from)?, c(to)?);
        // SAFETY: both pointers are valid NUL-terminated strings that live
        // until the call returns; renameat2 does not keep them.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        // Filesystems without RENAME_NOREPLACE: fall back below.
        if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            return Err(err);
        }
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", to.display()),
        ));
    }
    fs::rename(from, to)
}

/// Copies a file byte for byte, keeping permissions and modification time.
pub fn copy_preserving(src: &Path, dst: &Path) -> Result<()> {
    fs::copy(src, dst).map_err(|e| Error::io(dst, e))?;
    if let Ok(meta) = fs::metadata(src) {
        if let Ok(mtime) = meta.modified() {
            if let Ok(f) = fs::File::options().write(true).open(dst) {
                let _ = f.set_modified(mtime);
            }
        }
    }
    Ok(())
}

/// Unix permission bits of a file, if available.
pub fn mode_of(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = read_regular(&fifo).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let file = d.path().join("f");
        fs::write(&file, "text").unwrap();
        assert_eq!(read_regular_to_string(&file).unwrap(), "text");
    }

    use super::*;

    #[test]
    fn rename_noreplace_refuses_existing_targets() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        let err = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(a.exists(), "nothing moved");
        fs::remove_dir(&b).unwrap();
        rename_noreplace(&a, &b).unwrap();
        assert!(b.exists() && !a.exists());
    }

    #[test]
    fn modes_survive_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        for mode in [0o755, 0o644, 0o777, 0o600] {
            let p = tmp.path().join(format!("f{mode:o}"));
            write_with_mode(&p, b"x", Some(mode)).unwrap();
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
                mode
            );
        }
        assert!(process_umask().is_some(), "Linux exposes the umask");
    }

    #[test]
    fn a_file_is_not_moved_aside_but_named() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("results");
        fs::write(&file, "data").unwrap();
        let err = move_aside(&file).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "output directory '{}' exists and is not a directory: give another name",
                file.display()
            )
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), "data");
        assert_eq!(
            fs::read_dir(d.path()).unwrap().count(),
            1,
            "nothing else made"
        );
    }

    #[test]
    fn move_aside_never_collides() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("output");
        let mut moved = Vec::new();
        for i in 0..3 {
            fs::create_dir(&out).unwrap();
            fs::write(out.join("f"), format!("{i}")).unwrap();
            moved.push(move_aside(&out).unwrap().unwrap());
        }
        assert!(!out.exists());
        moved.sort();
        moved.dedup();
        assert_eq!(moved.len(), 3, "three distinct names: {moved:?}");
        let mut contents: Vec<String> = moved
            .iter()
            .map(|d| fs::read_to_string(d.join("f")).unwrap())
            .collect();
        contents.sort();
        assert_eq!(contents, ["0", "1", "2"], "nothing lost");
        assert_eq!(move_aside(&out).unwrap(), None);
    }
}
