//! The results-directory index, `<results_dir>/.fz/cache-index.tsv`: one
//! line per case directory, giving the digest of its input-hash key, so a
//! later run can use the directory as a `cache://` tier without reading
//! every case's `.fz_hash`.
//!
//! Line format (tab-separated, `#` lines are comments):
//! `<key digest>\t<size>\t<mtime ns>\t<ctime ns>\t<inode>\t<case name>`
//! where the four numbers are the stamp of the case's `.fz_hash` when the
//! line was written. Lines are appended as cases finish, each with a single
//! `write` on a file opened for appending (concurrent writers never
//! interleave, a crash tears at most the last line).
//!
//! The index is a hint, never trusted on its own:
//! * a line is used only if it parses strictly (a torn line does not);
//! * a line is used only if its case directory is in the directory listing
//!   and the stamp of its `.fz_hash` is unchanged (a deleted, replaced or
//!   rewritten case, or an index copied from another directory, fails this
//!   and the case's `.fz_hash` is read instead);
//! * listed case directories the index does not know (written by funz-fz,
//!   copied by hand, or finished after a crash) are read from their
//!   `.fz_hash`; a stale or missing index is then rewritten atomically
//!   (best effort: a read-only cache is simply scanned each time);
//! * the caller re-reads the chosen candidate's `.fz_hash` before using it.
//!
//! `.fz/` holds no `.fz_hash`, so funz-fz never takes it for a case. This
//! module owns the index file only; it does not decide what a hit is.

use super::hashfile::{parse, HASH_FILE};
use super::lookup::key_digest;
use crate::log;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The index's path relative to a results directory: a hidden file, so
/// the directory lists only cases (`os.listdir` + `isdir` counts them).
pub const INDEX_FILE: &str = ".fz_cache_index.tsv";

const HEADER: &str = "# fz cache index 1\tkey\tsize\tmtime_ns\tctime_ns\tinode\tcase\n";

/// What identifies one version of a `.fz_hash` file: rewriting, replacing
/// or copying it changes at least one of these (the inode change time
/// cannot be set back by `cp -a` or `touch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
}

impl Stamp {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        Some(Stamp {
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            inode: meta.ino(),
        })
    }

    /// Without inode numbers and change times no stamp is trustworthy: every
    /// case is read from its `.fz_hash`.
    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<Stamp> {
        None
    }

    /// The stamp of an open `.fz_hash` (after writing it: what a later
    /// run will find, as long as nobody rewrites it).
    pub fn of_file(file: &File) -> Option<Stamp> {
        file.metadata().ok().and_then(|m| Stamp::of(&m))
    }
}

/// Reads a `.fz_hash` and stamps the version read (from the same open
/// file, so text and stamp agree). `None` when absent, unreadable or
/// listing no file.
pub fn read_hash(path: &Path) -> Option<(String, Option<Stamp>)> {
    // Never a FIFO planted as `.fz_hash`: reading it would block.
    let mut file = crate::fsutil::open_regular(path).ok()?;
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    let stamp = Stamp::of_file(&file);
    let lines = parse(&text);
    (!lines.is_empty()).then(|| (key_digest(&lines), stamp))
}

/// One trusted-looking line of an index.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    key: String,
    stamp: Stamp,
}

fn line_text(key: &str, stamp: &Stamp, name: &str) -> String {
    format!(
        "{key}\t{}\t{}\t{}\t{}\t{name}\n",
        stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.inode
    )
}

/// Parses one complete line strictly: 32 lowercase hex digits, four
/// numbers, a non-empty name; anything else (a torn line glued to the next
/// one, an edited line) is ignored.
fn parse_line(line: &str) -> Option<(String, Line)> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() != 6 {
        return None;
    }
    let key = f[0];
    if key.len() != 32 || !key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let name = f[5];
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return None;
    }
    let stamp = Stamp {
        size: f[1].parse().ok()?,
        mtime_ns: f[2].parse().ok()?,
        ctime_ns: f[3].parse().ok()?,
        inode: f[4].parse().ok()?,
    };
    Some((
        name.to_string(),
        Line {
            key: key.to_string(),
            stamp,
        },
    ))
}

/// The lines of `dir`'s index by case name (a later line wins); only
/// `\n`-terminated lines count, so a line being written is never read.
fn load(dir: &Path) -> Option<HashMap<String, Line>> {
    let text = crate::fsutil::read_regular(&dir.join(INDEX_FILE)).ok()?;
    let complete = match text.iter().rposition(|&b| b == b'\n') {
        Some(end) => &text[..=end],
        None => &[][..],
    };
    let complete = String::from_utf8_lossy(complete);
    Some(
        complete
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(parse_line)
            .collect(),
    )
}

/// The case subdirectories of `dir` (immediate subdirectories with a
/// readable `.fz_hash`), sorted by path, with their key digests: from the
/// index where its line still holds, from their `.fz_hash` otherwise. A
/// missing or stale index is rewritten when `dir` holds cases.
pub fn case_keys(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = listing
        .filter_map(|e| e.ok())
        // d_type from the listing: no stat per entry.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    let indexed = load(dir);
    let known = indexed.as_ref().map_or(0, HashMap::len);
    let mut stale = indexed.is_none();
    let mut out = Vec::with_capacity(names.len());
    let mut fresh: Vec<(String, String, Stamp)> = Vec::with_capacity(names.len());
    let mut used = 0usize;
    for name in names {
        let case = dir.join(&name);
        let hash = case.join(HASH_FILE);
        let line = indexed.as_ref().and_then(|i| i.get(&name));
        if let Some(line) = line {
            let now = std::fs::metadata(&hash).ok().and_then(|m| Stamp::of(&m));
            if now == Some(line.stamp) {
                used += 1;
                fresh.push((line.key.clone(), name, line.stamp));
                out.push((case, line.key.clone()));
                continue;
            }
        }
        // Not indexed, or the index line no longer describes this file.
        if let Some((key, stamp)) = read_hash(&hash) {
            stale = true;
            if let Some(stamp) = stamp {
                fresh.push((key.clone(), name, stamp));
            }
            out.push((case, key));
        } else if line.is_some() {
            stale = true;
        }
    }
    if used != known {
        // Lines for cases gone from the listing.
        stale = true;
    }
    if stale && !out.is_empty() {
        rewrite(dir, &fresh);
    }
    out
}

/// Replaces `dir`'s index by `lines`, atomically (temporary file, then
/// rename). Best effort: a cache directory we may not write is left as is.
fn rewrite(dir: &Path, lines: &[(String, String, Stamp)]) {
    let target = dir.join(INDEX_FILE);
    let Some(parent) = target.parent() else {
        return;
    };
    let mut text = String::from(HEADER);
    for (key, name, stamp) in lines {
        if !name.contains(['\t', '\n', '\r']) {
            text.push_str(&line_text(key, stamp, name));
        }
    }
    let tmp = parent.join(format!("{INDEX_FILE}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, &text).and_then(|()| std::fs::rename(&tmp, &target));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        log::debug(&format!(
            "cache index {} not rewritten: {e}",
            target.display()
        ));
    }
}

/// The index of a results directory being written, open for appending.
#[derive(Debug)]
pub struct IndexWriter {
    file: Mutex<File>,
}

impl IndexWriter {
    /// Opens (creating) `results_dir/.fz/cache-index.tsv` for appending.
    pub fn open(results_dir: &Path) -> std::io::Result<IndexWriter> {
        let path = results_dir.join(INDEX_FILE);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        if file.metadata()?.len() == 0 {
            file.write_all(HEADER.as_bytes())?;
        }
        Ok(IndexWriter {
            file: Mutex::new(file),
        })
    }

    /// Appends the line of a finished case directory `name` (an immediate
    /// subdirectory of the results directory), with one `write`. A case
    /// that cannot be indexed is simply found by a scan later.
    pub fn record(&self, results_dir: &Path, name: &str) {
        if !indexable(name) {
            return;
        }
        if let Some((key, Some(stamp))) = read_hash(&results_dir.join(name).join(HASH_FILE)) {
            self.append(&key, &stamp, name);
        }
    }

    /// Appends the line of case directory `name` whose `.fz_hash` this
    /// process wrote with `text`, stamped `stamp` then (nothing is read
    /// back).
    pub fn record_written(&self, name: &str, text: &str, stamp: &Stamp) {
        let lines = parse(text);
        if indexable(name) && !lines.is_empty() {
            self.append(&key_digest(&lines), stamp, name);
        }
    }

    fn append(&self, key: &str, stamp: &Stamp, name: &str) {
        let line = line_text(key, stamp, name);
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            log::debug(&format!("cache index line for {name} not written: {e}"));
        }
    }
}

/// Whether a case name can have an index line: an immediate
/// subdirectory, on one line.
fn indexable(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\t', '\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::hashfile::md5_hex;

    fn case(root: &Path, name: &str, content: &str) -> String {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let hash = format!("{}  input.txt\n", md5_hex(content.as_bytes()));
        std::fs::write(dir.join(HASH_FILE), &hash).unwrap();
        key_digest(&parse(&hash))
    }

    fn keys(dir: &Path) -> Vec<(String, String)> {
        case_keys(dir)
            .into_iter()
            .map(|(p, k)| (p.file_name().unwrap().to_string_lossy().into_owned(), k))
            .collect()
    }

    #[test]
    fn written_lines_are_used_and_a_scan_rebuilds_a_missing_index() {
        let d = tempfile::tempdir().unwrap();
        let k1 = case(d.path(), "x=1", "x=1");
        let k2 = case(d.path(), "x=2", "x=2");
        let w = IndexWriter::open(d.path()).unwrap();
        w.record(d.path(), "x=1");
        w.record(d.path(), "x=2");
        let text = std::fs::read_to_string(d.path().join(INDEX_FILE)).unwrap();
        assert!(text.starts_with("# fz cache index 1\t"), "{text}");
        assert_eq!(text.lines().count(), 3);
        let want = vec![
            ("x=1".to_string(), k1.clone()),
            ("x=2".to_string(), k2.clone()),
        ];
        assert_eq!(keys(d.path()), want);
        // The index is what is read: a line with a made-up key but the
        // right stamp is believed (the caller's re-read is what catches
        // such a line; see run.rs).
        let path = d.path().join(INDEX_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(&k1, &"a".repeat(32))).unwrap();
        assert_eq!(keys(d.path())[0].1, "a".repeat(32));
        std::fs::write(&path, text).unwrap();
        std::fs::remove_file(d.path().join(INDEX_FILE)).unwrap();
        assert_eq!(keys(d.path()), want, "scan without index");
        assert!(
            d.path().join(INDEX_FILE).is_file(),
            "the scan wrote the index back"
        );
        assert_eq!(keys(d.path()), want);
    }

    #[test]
    fn a_line_from_the_written_text_equals_the_read_back_one_after_the_move() {
        let d = tempfile::tempdir().unwrap();
        let (work, results) = (d.path().join("work/x=1"), d.path().join("results"));
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&results).unwrap();
        let text = format!("{}  input.txt\n", md5_hex(b"x=1"));
        let mut file = File::create(work.join(HASH_FILE)).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let stamp = Stamp::of_file(&file).unwrap();
        drop(file);
        // The case directory lands after its hash is stamped.
        std::fs::rename(&work, results.join("x=1")).unwrap();
        let w = IndexWriter::open(&results).unwrap();
        w.record_written("x=1", &text, &stamp);
        w.record(&results, "x=1");
        w.record_written("", &text, &stamp);
        w.record_written("x=2", "\n", &stamp);
        let index = std::fs::read_to_string(results.join(INDEX_FILE)).unwrap();
        let lines: Vec<&str> = index.lines().skip(1).collect();
        assert_eq!(lines.len(), 2, "{index}");
        assert_eq!(lines[0], lines[1]);
        assert!(lines[0].starts_with(&key_digest(&parse(&text))));
        let want = vec![("x=1".to_string(), key_digest(&parse(&text)))];
        assert_eq!(keys(&results), want);
    }

    #[test]
    fn stale_lines_are_never_believed() {
        let d = tempfile::tempdir().unwrap();
        case(d.path(), "x=1", "x=1");
        case(d.path(), "x=2", "x=2");
        case(d.path(), "x=3", "x=3");
        let w = IndexWriter::open(d.path()).unwrap();
        for n in ["x=1", "x=2", "x=3"] {
            w.record(d.path(), n);
        }
        // x=1 deleted, x=2 replaced by another case's directory, x=3's
        // .fz_hash rewritten in place with another case's inputs (after a
        // pause: file times are kernel-tick grained, and a rewrite within
        // the same tick keeping size and inode is caught on use instead, by
        // the caller re-reading the candidate's .fz_hash).
        std::fs::remove_dir_all(d.path().join("x=1")).unwrap();
        std::fs::remove_dir_all(d.path().join("x=2")).unwrap();
        let other = case(d.path(), "elsewhere", "x=9");
        std::fs::rename(d.path().join("elsewhere"), d.path().join("x=2")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let k8 = key_digest(&parse(&format!("{}  input.txt\n", md5_hex(b"x=8"))));
        std::fs::write(
            d.path().join("x=3").join(HASH_FILE),
            format!("{}  input.txt\n", md5_hex(b"x=8")),
        )
        .unwrap();
        assert_eq!(
            keys(d.path()),
            vec![("x=2".to_string(), other), ("x=3".to_string(), k8)]
        );
    }

    #[test]
    fn torn_and_foreign_lines_are_ignored() {
        let d = tempfile::tempdir().unwrap();
        let k1 = case(d.path(), "x=1", "x=1");
        let k2 = case(d.path(), "x=2", "x=2");
        let w = IndexWriter::open(d.path()).unwrap();
        w.record(d.path(), "x=1");
        w.record(d.path(), "x=2");
        let path = d.path().join(INDEX_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        let line1 = text.lines().nth(1).unwrap();
        let line2 = text.lines().nth(2).unwrap();
        // x=2's line with a wrong key, cut before its newline: were it
        // believed, x=2 would get that key (its stamp is right).
        let wrong = format!("{}{}", "0".repeat(32), &line2[32..]);
        std::fs::write(&path, format!("{HEADER}{line1}\n{wrong}")).unwrap();
        assert!(!load(d.path()).unwrap().contains_key("x=2"));
        std::fs::write(&path, format!("{HEADER}{line1}\n{wrong}\n")).unwrap();
        assert_eq!(
            load(d.path()).unwrap()["x=2"].key,
            "0".repeat(32),
            "complete: parsed"
        );
        std::fs::write(&path, format!("{HEADER}{line1}\n{wrong}")).unwrap();
        assert_eq!(
            keys(d.path()),
            vec![
                ("x=1".to_string(), k1.clone()),
                ("x=2".to_string(), k2.clone())
            ]
        );
        // A torn line glued to a complete one does not parse either.
        std::fs::write(&path, format!("{HEADER}{}{line1}\n", &wrong[..20])).unwrap();
        assert!(load(d.path()).unwrap().is_empty());
        // An index copied from another results directory with the same case
        // names: the stamps do not match, the cases are read.
        let other = tempfile::tempdir().unwrap();
        case(other.path(), "x=1", "x=2");
        case(other.path(), "x=2", "x=1");
        let w = IndexWriter::open(other.path()).unwrap();
        w.record(other.path(), "x=1");
        w.record(other.path(), "x=2");
        std::fs::copy(other.path().join(INDEX_FILE), &path).unwrap();
        assert_eq!(
            keys(d.path()),
            vec![("x=1".to_string(), k1), ("x=2".to_string(), k2)]
        );
    }

    #[test]
    fn a_read_only_cache_is_scanned_without_error() {
        let d = tempfile::tempdir().unwrap();
        let k = case(d.path(), "x=1", "x=1");
        // The index path is a directory: the index cannot be written.
        std::fs::create_dir(d.path().join(INDEX_FILE)).unwrap();
        assert_eq!(keys(d.path()), vec![("x=1".to_string(), k)]);
    }
}
