//! Safe extraction of a plugin archive into a fresh directory: no entry
//! may land outside it (`../`, absolute paths, drive letters, symbolic
//! links pointing out), and the entry count and expanded size are capped
//! against zip bombs (the cap is enforced on the bytes actually written,
//! not on the sizes the archive declares). Nothing extracted is run; only
//! an executable bit recorded in the archive is kept.
//!
//! Any refusal fails the whole extraction: the caller extracts into a
//! temporary directory, so nothing reaches `.fz/`.

use crate::{Error, Result};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Caps against zip bombs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most entries (files, directories, links).
    pub max_entries: usize,
    /// Most bytes written in total.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_total_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Extracts `archive` into the existing directory `dest`.
pub fn extract(archive: &Path, dest: &Path, limits: Limits) -> Result<()> {
    let shown = archive.display().to_string();
    let file = std::fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::Value(format!("{shown}: not a valid zip archive ({e})")))?;
    if zip.len() > limits.max_entries {
        return Err(Error::Value(format!(
            "{shown}: {} entries, more than the {} allowed (zip bomb?); refused",
            zip.len(),
            limits.max_entries
        )));
    }
    let mut budget = limits.max_total_bytes;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| Error::Value(format!("{shown}: unreadable entry #{i} ({e})")))?;
        let name = entry
            .name()
            .map_err(|e| Error::Value(format!("{shown}: entry #{i} has an unreadable name ({e})")))?
            .to_string();
        let rel = safe_relative(&name).ok_or_else(|| outside(&shown, &name))?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(&rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        if entry.is_symlink() {
            let mut link = String::new();
            entry
                .by_ref()
                .take(4096)
                .read_to_string(&mut link)
                .map_err(|e| Error::Value(format!("{shown}: entry '{name}': {e}")))?;
            symlink(&rel, &link, &target).map_err(|()| outside(&shown, &name))?;
            continue;
        }
        let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
        write_capped(&mut entry, &target, &mut budget)
            .map_err(|e| bomb_or(e, &shown, &name, limits))?;
        set_mode(&target, if executable { 0o755 } else { 0o644 })?;
    }
    Ok(())
}

/// `name` as a relative path of normal components; `None` if it is
/// absolute, has a drive or root, or climbs with `..`.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let name = name.replace('\\', "/");
    if name.starts_with('/') || name.as_bytes().get(1) == Some(&b':') {
        return None;
    }
    let mut out = PathBuf::new();
    for c in Path::new(&name).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

fn outside(shown: &str, name: &str) -> Error {
    Error::Value(format!(
        "{shown}: entry '{name}' would be written outside the target directory; archive refused"
    ))
}

/// Marker error: the size budget ran out.
const BOMB: &str = "expanded size limit exceeded";

fn bomb_or(e: Error, shown: &str, name: &str, limits: Limits) -> Error {
    match &e {
        Error::Value(m) if m == BOMB => Error::Value(format!(
            "{shown}: expands to more than {} MiB at entry '{name}' (zip bomb?); archive refused",
            limits.max_total_bytes / (1024 * 1024)
        )),
        _ => e,
    }
}

/// Copies at most `budget` bytes of `reader` to `target`.
fn write_capped(reader: &mut impl Read, target: &Path, budget: &mut u64) -> Result<()> {
    let mut file = std::fs::File::create(target).map_err(|e| Error::io(target, e))?;
    let written = std::io::copy(&mut reader.take(*budget + 1), &mut file)
        .map_err(|e| Error::io(target, e))?;
    if written > *budget {
        return Err(Error::Value(BOMB.into()));
    }
    *budget -= written;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Creates the link `target` (at `rel` in the archive) to `link` when the
/// link stays inside the extraction directory.
fn symlink(rel: &Path, link: &str, target: &Path) -> std::result::Result<(), ()> {
    let parent = rel.parent().unwrap_or(Path::new(""));
    let joined = parent.join(link.replace('\\', "/"));
    if link.starts_with('/') || link.contains(':') || normalize(&joined).is_none() {
        return Err(());
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(link, target).map_err(|_| ())
    }
    #[cfg(not(unix))]
    {
        let _ = target;
        Ok(())
    }
}

/// `path` with `.` and `..` resolved lexically; `None` if it climbs above
/// its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            _ => return None,
        }
    }
    Some(out.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }

    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn extracts_files_and_keeps_the_executable_bit() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a.zip");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&a).unwrap());
        w.start_file(
            "r/x.sh",
            SimpleFileOptions::default().unix_permissions(0o755),
        )
        .unwrap();
        w.write_all(b"echo").unwrap();
        w.start_file("r/d/y.txt", SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"y").unwrap();
        w.add_symlink("r/link", "d/y.txt", SimpleFileOptions::default())
            .unwrap();
        w.finish().unwrap();
        let out = t.path().join("out");
        std::fs::create_dir(&out).unwrap();
        extract(&a, &out, Limits::default()).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("r/d/y.txt")).unwrap(), "y");
        assert_eq!(std::fs::read_to_string(out.join("r/link")).unwrap(), "y");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &str| std::fs::metadata(out.join(p)).unwrap().permissions().mode();
            assert_eq!(mode("r/x.sh") & 0o777, 0o755);
            assert_eq!(mode("r/d/y.txt") & 0o777, 0o644);
        }
    }

    #[test]
    fn zip_slip_entries_are_refused() {
        let t = tempfile::tempdir().unwrap();
        for bad in ["../evil.txt", "r/../../evil.txt", "/etc/evil", "C:/evil"] {
            let a = t.path().join("slip.zip");
            zip_of(&a, &[("r/ok.txt", b"ok"), (bad, b"evil")]);
            let out = t.path().join("out");
            std::fs::create_dir_all(&out).unwrap();
            let e = extract(&a, &out, Limits::default())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("entry '{bad}' would be written outside")),
                "{e}"
            );
            assert!(!t.path().join("evil.txt").exists());
            std::fs::remove_dir_all(&out).unwrap();
        }
        let a = t.path().join("link.zip");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&a).unwrap());
        w.add_symlink("r/up", "../../etc", SimpleFileOptions::default())
            .unwrap();
        w.finish().unwrap();
        let out = t.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let e = extract(&a, &out, Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("entry 'r/up' would be written outside"), "{e}");
        assert!(!out.join("r/up").exists());
    }

    #[test]
    fn bombs_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("bomb.zip");
        let zeros = vec![0u8; 3000];
        zip_of(&a, &[("a", &zeros), ("b", &zeros)]);
        let out = t.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let limits = Limits {
            max_entries: 10,
            max_total_bytes: 4000,
        };
        let e = extract(&a, &out, limits).unwrap_err().to_string();
        assert!(
            e.contains("at entry 'b' (zip bomb?); archive refused"),
            "{e}"
        );
        let limits = Limits {
            max_entries: 1,
            max_total_bytes: 1 << 20,
        };
        let out2 = t.path().join("out2");
        std::fs::create_dir(&out2).unwrap();
        let e = extract(&a, &out2, limits).unwrap_err().to_string();
        assert!(e.contains("2 entries, more than the 1 allowed"), "{e}");
        assert_eq!(files(&out2), 0, "refused before writing");
    }

    #[test]
    fn not_a_zip() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("x.zip");
        std::fs::write(&a, "just text").unwrap();
        let e = extract(&a, t.path(), Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.zip: not a valid zip archive ("), "{e}");
    }
}
