//! `fz cache list|verify`: what a cache directory holds and whether each
//! entry can still be a cache hit.
//!
//! An entry is a case directory with a `.fz_hash`. It is usable when every
//! file its `.fz_hash` lists is present with that MD5 (absolute
//! `input_static` paths included) and its `info.txt` records `done`. The
//! seed's advice to "keep only .fz_hash files" leaves entries that look
//! like a cache but can never be a hit: they are reported as unusable.
//! This module only reads.

use super::hashfile::{parse, HASH_FILE};
use super::lookup::{damaged_files, key_of, recorded_state};
use crate::error::Result;
use crate::format::Table;
use crate::outputs::paths::resolve_output_paths;
use crate::value::Value;
use std::path::{Path, PathBuf};

/// One cache entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The case directory.
    pub dir: PathBuf,
    /// How it is shown (relative to the working directory when inside).
    pub shown: String,
    /// 12 hex digits identifying its input hashes (same inputs, same id).
    pub key: String,
    /// `state=` of its `info.txt`, if recorded.
    pub status: Option<String>,
    /// Number of files its `.fz_hash` lists.
    pub files: usize,
}

/// The entries a path names: case directories (with `.fz_hash`) given
/// directly, by glob or regex, or found one level below a results
/// directory; sorted by path.
pub fn entries(pattern: &str, cwd: &Path) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for found in resolve_output_paths(pattern, cwd)? {
        let mut dirs = Vec::new();
        if found.dir.join(HASH_FILE).is_file() {
            dirs.push((found.dir.clone(), found.shown.clone()));
        } else if let Ok(read) = std::fs::read_dir(&found.dir) {
            let mut subs: Vec<(PathBuf, String)> = read
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.join(HASH_FILE).is_file())
                .map(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (p, format!("{}/{name}", found.shown))
                })
                .collect();
            subs.sort();
            dirs.extend(subs);
        }
        for (dir, shown) in dirs {
            let text = std::fs::read_to_string(dir.join(HASH_FILE)).unwrap_or_default();
            let lines = parse(&text);
            out.push(Entry {
                key: super::hashfile::md5_hex(key_of(&lines).as_bytes())[..12].to_string(),
                status: recorded_state(&dir),
                files: lines.len(),
                dir,
                shown,
            });
        }
    }
    Ok(out)
}

/// Why an entry cannot be a cache hit, if it cannot.
pub fn problem(entry: &Entry) -> Option<String> {
    let text = match std::fs::read_to_string(entry.dir.join(HASH_FILE)) {
        Ok(t) => t,
        Err(e) => return Some(format!("cannot read .fz_hash: {e}")),
    };
    if parse(&text).is_empty() {
        return Some(".fz_hash lists no file".into());
    }
    let (missing, changed) = damaged_files(&entry.dir);
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {}", missing.join(", ")));
    }
    if !changed.is_empty() {
        problems.push(format!("changed {}", changed.join(", ")));
    }
    match entry.status.as_deref() {
        Some("done") => {}
        Some(other) => problems.push(format!("recorded {other}, not done")),
        None => problems.push("no info.txt state (never run, or only .fz_hash kept)".into()),
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// `fz cache list`: path, key, status, files.
pub fn list_table(entries: &[Entry]) -> Table {
    Table {
        columns: ["path", "key", "status", "files"]
            .map(String::from)
            .to_vec(),
        rows: entries
            .iter()
            .map(|e| {
                vec![
                    Value::Str(e.shown.clone()),
                    Value::Str(e.key.clone()),
                    e.status.clone().map_or(Value::Null, Value::Str),
                    Value::Int(e.files as i128),
                ]
            })
            .collect(),
    }
}

/// `fz cache verify`: path, key, status, usable, problem.
pub fn verify_table(entries: &[Entry]) -> Table {
    Table {
        columns: ["path", "key", "status", "usable", "problem"]
            .map(String::from)
            .to_vec(),
        rows: entries
            .iter()
            .map(|e| {
                let p = problem(e);
                vec![
                    Value::Str(e.shown.clone()),
                    Value::Str(e.key.clone()),
                    e.status.clone().map_or(Value::Null, Value::Str),
                    Value::Bool(p.is_none()),
                    p.map_or(Value::Null, Value::Str),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::hashfile::md5_hex;

    #[test]
    fn verify_reports_every_way_an_entry_breaks() {
        let d = tempfile::tempdir().unwrap();
        let mk = |name: &str, content: &str, state: Option<&str>| {
            let dir = d.path().join("res").join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("input.txt"), content).unwrap();
            std::fs::write(
                dir.join(HASH_FILE),
                format!("{}  input.txt\n", md5_hex(content.as_bytes())),
            )
            .unwrap();
            if let Some(s) = state {
                std::fs::write(dir.join("info.txt"), format!("state={s}\n")).unwrap();
            }
            dir
        };
        mk("x=1", "x=1\n", Some("done"));
        let changed = mk("x=2", "x=2\n", Some("done"));
        std::fs::write(changed.join("input.txt"), "edited").unwrap();
        mk("x=3", "x=3\n", Some("failed"));
        let only_hash = mk("x=4", "x=4\n", None);
        std::fs::remove_file(only_hash.join("input.txt")).unwrap();
        let e = entries("res", d.path()).unwrap();
        assert_eq!(e.len(), 4);
        let t = verify_table(&e);
        let usable: Vec<&Value> = t.rows.iter().map(|r| &r[3]).collect();
        assert_eq!(
            usable,
            [
                &Value::Bool(true),
                &Value::Bool(false),
                &Value::Bool(false),
                &Value::Bool(false)
            ]
        );
        assert_eq!(t.rows[1][4], Value::Str("changed input.txt".into()));
        assert_eq!(t.rows[2][4], Value::Str("recorded failed, not done".into()));
        let p = match &t.rows[3][4] {
            Value::Str(s) => s.clone(),
            other => panic!("{other:?}"),
        };
        assert!(p.starts_with("missing input.txt; no info.txt state"), "{p}");
        assert_eq!(list_table(&e).rows[0][0], Value::Str("res/x=1".into()));
    }
}
