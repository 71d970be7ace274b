//! Reading a fetched plugin repository: its root, and the files under a
//! directory (sorted, symbolic links resolved only when they stay inside
//! the repository). Reading only: nothing is written here.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The repository root of an extracted archive: its only top-level
/// directory (GitHub's `repo-main/` layout), else the extraction
/// directory itself.
pub fn repository_root(extracted: &Path) -> Result<PathBuf> {
    let entries: Vec<PathBuf> = std::fs::read_dir(extracted)
        .map_err(|e| Error::io(extracted, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    match entries.as_slice() {
        [only] if only.is_dir() && !is_link(only) => Ok(only.clone()),
        _ => Ok(extracted.to_path_buf()),
    }
}

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

/// The regular files directly in `dir` (links to files inside `root`
/// included), sorted by name; empty when `dir` does not exist.
pub fn files_in(dir: &Path, root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in sorted_entries(dir)? {
        if resolve(&path, root)?.is_some_and(|m| m.is_file()) {
            out.push(path);
        }
    }
    Ok(out)
}

/// Every regular file under `dir`, recursively, sorted; links to files
/// inside `root` are files, links to directories are skipped with a
/// warning (they could loop).
pub fn files_under(dir: &Path, root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in sorted_entries(dir)? {
        let Some(meta) = resolve(&path, root)? else {
            continue;
        };
        if meta.is_file() {
            out.push(path);
        } else if meta.is_dir() && is_link(&path) {
            crate::log::warn(&format!(
                "{}: link to a directory, not installed",
                path.display()
            ));
        } else if meta.is_dir() {
            out.extend(files_under(&path, root)?);
        }
    }
    Ok(out)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    entries.sort();
    Ok(entries)
}

/// The metadata `path` stands for, following a link only when its target
/// is inside `root`; an error names a link pointing out, `None` a broken
/// link.
fn resolve(path: &Path, root: &Path) -> Result<Option<std::fs::Metadata>> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.file_type().is_symlink() {
        return Ok(Some(meta));
    }
    let (Ok(target), Ok(root)) = (std::fs::canonicalize(path), std::fs::canonicalize(root)) else {
        crate::log::warn(&format!("{}: broken link, not installed", path.display()));
        return Ok(None);
    };
    if !target.starts_with(&root) {
        return Err(Error::Value(format!(
            "{}: symbolic link points outside the plugin ({}); refused",
            path.display(),
            target.display()
        )));
    }
    std::fs::metadata(&target)
        .map(Some)
        .map_err(|e| Error::io(path, e))
}

/// Whether a file should be executable once installed: a shell script
/// (`.sh`, `.bash`, `.zsh`) or a file that is executable in the plugin.
pub fn executable(path: &Path) -> bool {
    let script = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "sh" | "bash" | "zsh"));
    script
        || std::fs::metadata(path)
            .ok()
            .and_then(|m| crate::fsutil::mode_of(&m))
            .is_some_and(|m| m & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_files_and_links() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path().join("repo-main");
        std::fs::create_dir_all(r.join("a/b")).unwrap();
        std::fs::write(r.join("a/x.txt"), "x").unwrap();
        std::fs::write(r.join("a/b/y.txt"), "y").unwrap();
        std::fs::write(r.join("README"), "").unwrap();
        assert_eq!(repository_root(t.path()).unwrap(), r);
        assert_eq!(repository_root(&r).unwrap(), r, "a file beside a dir");
        assert_eq!(files_in(&r.join("a"), &r).unwrap(), [r.join("a/x.txt")]);
        assert_eq!(
            files_under(&r.join("a"), &r).unwrap(),
            [r.join("a/b/y.txt"), r.join("a/x.txt")]
        );
        assert!(files_under(&r.join("none"), &r).unwrap().is_empty());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("x.txt", r.join("a/l.txt")).unwrap();
            std::os::unix::fs::symlink("b", r.join("a/ldir")).unwrap();
            assert_eq!(files_under(&r.join("a"), &r).unwrap().len(), 3);
            std::os::unix::fs::symlink("/etc/passwd", r.join("a/out")).unwrap();
            let e = files_under(&r.join("a"), &r).unwrap_err().to_string();
            assert!(
                e.contains("a/out: symbolic link points outside the plugin"),
                "{e}"
            );
        }
        assert!(executable(Path::new("run.sh")));
        assert!(!executable(&r.join("a/x.txt")));
    }
}
