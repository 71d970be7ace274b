//! Safe extraction of the results archive a Funz daemon sends (a ZIP made
//! by Java's `ZipOutputStream`: stored or deflated entries, sizes in the
//! central directory, names like `/out.txt` or `sub/data.txt`).
//!
//! This module owns reading the ZIP and writing its files under one
//! directory: an entry whose name climbs out of it (`..`, a drive, a
//! backslash path) is refused, a leading `/` is taken as the archive's
//! root, existing symbolic links are never followed, sizes are checked
//! against the archive and every file's CRC-32 is verified. It does not
//! know the protocol that brought the bytes.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// One entry of the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its path relative to the archive root (`/` separated, no `..`).
    pub name: String,
    /// A directory entry.
    pub is_dir: bool,
    /// Its contents (empty for a directory).
    pub data: Vec<u8>,
}

/// Largest total size of the files an archive may inflate to.
const MAX_TOTAL: u64 = 4 << 30;

fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| "truncated archive".to_string())
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "truncated archive".to_string())
}

/// The entries of a ZIP archive held in memory, read through its central
/// directory. Errors: not a ZIP, truncated, ZIP64 or encrypted entries, a
/// compression other than stored/deflate, a size or CRC mismatch, an
/// unsafe name.
pub fn entries(zip: &[u8]) -> Result<Vec<Entry>, String> {
    // End of central directory: the last `PK\5\6` within 64 KiB + 22 bytes.
    let min = zip.len().saturating_sub(22 + 65_535);
    let eocd = (min..=zip.len().saturating_sub(22))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| "not a ZIP archive (no end of central directory)".to_string())?;
    let count = u16_at(zip, eocd + 10)? as usize;
    let mut at = u32_at(zip, eocd + 16)? as usize;
    let mut out = Vec::with_capacity(count);
    let mut total: u64 = 0;
    for _ in 0..count {
        if u32_at(zip, at)? != 0x0201_4b50 {
            return Err("bad central directory entry".to_string());
        }
        let flags = u16_at(zip, at + 8)?;
        let method = u16_at(zip, at + 10)?;
        let crc = u32_at(zip, at + 16)?;
        let packed = u32_at(zip, at + 20)?;
        let size = u32_at(zip, at + 24)?;
        let name_len = u16_at(zip, at + 28)? as usize;
        let extra_len = u16_at(zip, at + 30)? as usize;
        let comment_len = u16_at(zip, at + 32)? as usize;
        let local = u32_at(zip, at + 42)? as usize;
        let raw_name = zip
            .get(at + 46..at + 46 + name_len)
            .ok_or("truncated archive")?;
        at += 46 + name_len + extra_len + comment_len;
        let name = String::from_utf8_lossy(raw_name).into_owned();
        if flags & 1 != 0 {
            return Err(format!("entry '{name}' is encrypted"));
        }
        if packed == u32::MAX || size == u32::MAX {
            return Err(format!(
                "entry '{name}' needs ZIP64, which is not supported"
            ));
        }
        total += u64::from(size);
        if total > MAX_TOTAL {
            return Err("archive too large once inflated".to_string());
        }
        let is_dir = name.ends_with('/');
        let safe = safe_name(&name)?;
        if safe.is_empty() {
            continue;
        }
        // Local header: its own name and extra lengths precede the data.
        if u32_at(zip, local)? != 0x0403_4b50 {
            return Err(format!("entry '{name}': bad local header"));
        }
        let start =
            local + 30 + u16_at(zip, local + 26)? as usize + u16_at(zip, local + 28)? as usize;
        let raw = zip
            .get(start..start + packed as usize)
            .ok_or_else(|| format!("entry '{name}' is truncated"))?;
        let data = match method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, size as usize)
                .map_err(|e| format!("entry '{name}': bad deflate data ({:?})", e.status))?,
            m => {
                return Err(format!(
                    "entry '{name}': compression method {m} not supported"
                ))
            }
        };
        if data.len() != size as usize || crc32fast::hash(&data) != crc {
            return Err(format!("entry '{name}': size or CRC-32 mismatch"));
        }
        out.push(Entry {
            name: safe,
            is_dir,
            data,
        });
    }
    Ok(out)
}

/// The entry name as a relative `/`-separated path inside the archive
/// root (a leading `/` is the root itself; empty: the root). Refused: `..`,
/// backslashes, drive letters, NUL.
pub fn safe_name(name: &str) -> Result<String, String> {
    let unsafe_entry = || format!("unsafe entry name '{name}' in the archive");
    if name.contains('\\') || name.contains('\0') {
        return Err(unsafe_entry());
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(unsafe_entry()),
            p if p.contains(':') && parts.is_empty() && p.len() == 2 => return Err(unsafe_entry()),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// Writes the entries under `dir` (created if needed), skipping the
/// top-level names in `skip`. A path whose parent is a symbolic link, or
/// which is itself one, is refused rather than followed.
pub fn extract(entries: &[Entry], dir: &Path, skip: &[&str]) -> Result<(), String> {
    for entry in entries {
        if skip.contains(&entry.name.as_str()) {
            continue;
        }
        let target = inside(dir, &entry.name)?;
        if entry.is_dir {
            std::fs::create_dir_all(&target)
                .map_err(|e| format!("Could not create {}: {e}", target.display()))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("Could not create {}: {e}", parent.display()))?;
        }
        if std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&target)
                .map_err(|e| format!("Could not replace {}: {e}", target.display()))?;
        }
        let mut file = std::fs::File::create(&target)
            .map_err(|e| format!("Could not create {}: {e}", target.display()))?;
        file.write_all(&entry.data)
            .map_err(|e| format!("Could not write {}: {e}", target.display()))?;
    }
    Ok(())
}

/// `dir/rel`, after checking that no existing directory on the way is a
/// symbolic link (which could lead outside `dir`).
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let mut path = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if !matches!(
            Path::new(part).components().next(),
            Some(Component::Normal(_))
        ) {
            return Err(format!("unsafe entry name '{rel}' in the archive"));
        }
        path.push(part);
        let last = i + 1 == parts.len();
        if !last && std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "archive entry '{rel}' would be written through the symbolic link {}",
                path.display()
            ));
        }
    }
    Ok(path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stored-entries ZIP, built by hand (Java writes the same layout).
    pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in files {
            let offset = out.len() as u32;
            let crc = crc32fast::hash(data);
            let header = |sig: u32, central: bool| {
                let mut h = Vec::new();
                h.extend(sig.to_le_bytes());
                if central {
                    h.extend(20u16.to_le_bytes());
                }
                h.extend(20u16.to_le_bytes()); // version needed
                h.extend(0u16.to_le_bytes()); // flags
                h.extend(0u16.to_le_bytes()); // stored
                h.extend(0u32.to_le_bytes()); // time, date
                h.extend(crc.to_le_bytes());
                h.extend((data.len() as u32).to_le_bytes());
                h.extend((data.len() as u32).to_le_bytes());
                h.extend((name.len() as u16).to_le_bytes());
                h.extend(0u16.to_le_bytes()); // extra
                if central {
                    h.extend([0u8; 6]); // comment length, disk, internal attrs
                    h.extend(0u32.to_le_bytes()); // external attrs
                    h.extend(offset.to_le_bytes());
                }
                h.extend(name.as_bytes());
                h
            };
            out.extend(header(0x0403_4b50, false));
            out.extend_from_slice(data);
            central.extend(header(0x0201_4b50, true));
        }
        let cd_at = out.len() as u32;
        out.extend(&central);
        out.extend(0x0605_4b50u32.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend((files.len() as u16).to_le_bytes());
        out.extend((files.len() as u16).to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(cd_at.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn names() {
        assert_eq!(safe_name("/out.txt").unwrap(), "out.txt");
        assert_eq!(safe_name("sub/").unwrap(), "sub");
        assert_eq!(safe_name("a/./b").unwrap(), "a/b");
        for bad in ["../x", "a/../../x", "a\\b", "C:/x", "/../etc/passwd"] {
            assert!(safe_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extracts_inside_and_refuses_escapes() {
        let d = tempfile::tempdir().unwrap();
        let zip = zip_of(&[
            ("/out.txt", b"hello\n"),
            ("sub/", b""),
            ("sub/data.txt", b"x"),
            ("/log.txt", b"daemon"),
        ]);
        let e = entries(&zip).unwrap();
        assert_eq!(e.len(), 4);
        extract(&e, d.path(), &["log.txt"]).unwrap();
        assert_eq!(std::fs::read(d.path().join("out.txt")).unwrap(), b"hello\n");
        assert_eq!(std::fs::read(d.path().join("sub/data.txt")).unwrap(), b"x");
        assert!(!d.path().join("log.txt").exists());

        let evil = zip_of(&[("../escape.txt", b"no")]);
        assert!(entries(&evil).unwrap_err().contains("unsafe entry name"));
        assert!(!d.path().parent().unwrap().join("escape.txt").exists());

        // A symbolic link in the case directory is never followed.
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("link")).unwrap();
        let via_link = entries(&zip_of(&[("link/x.txt", b"no")])).unwrap();
        assert!(extract(&via_link, d.path(), &[]).is_err());
        assert!(!outside.path().join("x.txt").exists());
    }

    #[test]
    fn corrupt_archives_are_errors() {
        let mut zip = zip_of(&[("a.txt", b"abc")]);
        assert!(entries(&zip[..zip.len() - 30]).is_err());
        assert!(entries(b"not a zip at all, really not").is_err());
        // Flip a data byte: the CRC check catches it.
        let at = 30 + "a.txt".len();
        zip[at] ^= 0xff;
        assert!(entries(&zip).unwrap_err().contains("CRC"));
    }
}
