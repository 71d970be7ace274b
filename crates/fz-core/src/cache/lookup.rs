//! Finding earlier results of a case: `cache://` tiers resolved once per
//! run into one map from input hash to candidate case directories, so each
//! case costs one map lookup (upstream rescans every candidate per case).
//! Results directories are read through their index
//! ([`super::index`]), so a tier costs one directory listing and one
//! `stat` per case directory rather than one `.fz_hash` read.
//!
//! The key of a case is the SET of its `.fz_hash` lines (path, md5), so
//! directory inputs match whatever order either tool wrote them in. This
//! module finds and validates candidates; it does not copy them or decide
//! the case's row.

use super::hashfile::{md5_hex, parse, HashLine, HASH_FILE};
use super::index::{case_keys, read_hash};
use crate::fsutil::read_regular_to_string;
use crate::log;
use crate::outputs::paths::resolve_dirs;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One `cache://` calculator.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheTier {
    /// The URI as the user wrote it (`cache://run1`).
    pub uri: String,
    /// The pattern after `cache://`.
    pub pattern: String,
}

impl CacheTier {
    /// A tier from a `cache://` URI; `cache://_` stands for `moved_aside`
    /// (where an existing results directory was moved), when there is one.
    pub fn new(uri: &str, moved_aside: Option<&Path>) -> CacheTier {
        let pattern = uri
            .split_once("://")
            .map_or(uri, |(_, rest)| rest)
            .to_string();
        let pattern = match (pattern.as_str(), moved_aside) {
            ("_", Some(dir)) => dir.display().to_string(),
            _ => pattern,
        };
        CacheTier {
            uri: uri.to_string(),
            pattern,
        }
    }
}

/// The canonical key of a set of hash lines.
pub fn key_of(lines: &[HashLine]) -> String {
    let mut sorted: Vec<String> = lines
        .iter()
        .map(|l| format!("{}  {}", l.md5, l.path))
        .collect();
    sorted.sort();
    sorted.join("\n")
}

/// The MD5 of [`key_of`]: what the lookup map and the results-directory
/// index store (32 hex digits whatever the number of input files).
pub fn key_digest(lines: &[HashLine]) -> String {
    md5_hex(key_of(lines).as_bytes())
}

/// A cached case directory and the tier it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index of the tier (list order).
    pub tier: usize,
    /// The cached case directory.
    pub dir: PathBuf,
}

/// Every candidate of every tier, by key.
#[derive(Debug, Default)]
pub struct CacheIndex {
    by_key: HashMap<String, Vec<Candidate>>,
}

impl CacheIndex {
    /// Resolves every tier against `cwd` into directories; each directory
    /// that is a case (has a `.fz_hash`) and each of its immediate case
    /// subdirectories is a candidate, its key read once (from the
    /// directory's index when that still holds). A pattern matching nothing
    /// is a miss (INFO line).
    pub fn build(tiers: &[CacheTier], cwd: &Path) -> CacheIndex {
        let mut index = CacheIndex::default();
        for (t, tier) in tiers.iter().enumerate() {
            let dirs = resolve_dirs(&tier.pattern, cwd);
            if dirs.is_empty() {
                log::info(&format!(
                    "Cache pattern '{}' did not match any directories",
                    tier.pattern
                ));
                continue;
            }
            for dir in dirs {
                if let Some((key, _)) = read_hash(&dir.join(HASH_FILE)) {
                    index.insert(key, t, dir.clone());
                }
                for (case, key) in case_keys(&dir) {
                    index.insert(key, t, case);
                }
            }
        }
        index
    }

    /// Adds a candidate for `key` from tier number `tier` (after the
    /// candidates already there).
    pub fn insert(&mut self, key: String, tier: usize, dir: PathBuf) {
        self.by_key
            .entry(key)
            .or_default()
            .push(Candidate { tier, dir });
    }

    /// Candidates for a key, tier order first.
    pub fn candidates(&self, key: &str) -> &[Candidate] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no candidate was found at all.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Files listed in `dir/.fz_hash` that are missing and that changed, so a
/// truncated or edited cached case is never a hit. Absolute entries
/// (`input_static` on shared storage) are checked where they are.
pub fn damaged_files(dir: &Path) -> (Vec<String>, Vec<String>) {
    let text = read_regular_to_string(&dir.join(HASH_FILE)).unwrap_or_default();
    damaged_listed(dir, &parse(&text))
}

/// [`damaged_files`] for hash lines already read from `dir/.fz_hash`.
pub fn damaged_listed(dir: &Path, lines: &[HashLine]) -> (Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut changed = Vec::new();
    for line in lines {
        let path = if Path::new(&line.path).is_absolute() {
            PathBuf::from(&line.path)
        } else {
            dir.join(&line.path)
        };
        match super::hashfile::md5_file(&path) {
            Ok(m) if m == line.md5 => {}
            Ok(_) => changed.push(line.path.clone()),
            Err(_) => missing.push(line.path.clone()),
        }
    }
    (missing, changed)
}

/// The recorded final state of a cached case (`state=` of its `info.txt`),
/// if any.
pub fn recorded_state(dir: &Path) -> Option<String> {
    let text = read_regular_to_string(&dir.join("info.txt")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("state="))
        .map(|s| s.trim().to_string())
}

/// Copies a cached case's files (subdirectories too, except `.fz_hash`,
/// `info.txt` and `history.txt`, which belong to the new case) into
/// `target`. Files the matched `.fz_hash` lists (`listed`, relative
/// `/`-separated paths) are not copied: the new case was compiled with the
/// very same bytes (same MD5), so they are already there.
pub fn restore(from: &Path, target: &Path, listed: &[HashLine]) -> std::io::Result<()> {
    let listed: HashSet<&str> = listed.iter().map(|l| l.path.as_str()).collect();
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == HASH_FILE || name == "info.txt" || name == "history.txt" {
            continue;
        }
        let rel = name.to_string_lossy();
        copy_tree(&entry, &target.join(&name), &rel, &listed)?;
    }
    Ok(())
}

fn copy_tree(
    from: &std::fs::DirEntry,
    to: &Path,
    rel: &str,
    listed: &HashSet<&str>,
) -> std::io::Result<()> {
    // The listing's file type: no stat per entry.
    let kind = from.file_type()?;
    if kind.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from.path())? {
            let entry = entry?;
            let name = entry.file_name();
            let sub = format!("{rel}/{}", name.to_string_lossy());
            copy_tree(&entry, &to.join(&name), &sub, listed)?;
        }
        Ok(())
    } else if listed.contains(rel) {
        Ok(())
    } else if kind.is_symlink() {
        let link = std::fs::read_link(from.path())?;
        let _ = std::fs::remove_file(to);
        #[cfg(unix)]
        std::os::unix::fs::symlink(link, to)?;
        Ok(())
    } else {
        std::fs::copy(from.path(), to).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(dir: &Path, hash: &str, state: Option<&str>) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(HASH_FILE), hash).unwrap();
        if let Some(s) = state {
            std::fs::write(dir.join("info.txt"), format!("state={s}\n")).unwrap();
        }
    }

    #[test]
    fn keys_ignore_line_order_and_tiers_keep_their_order() {
        let d = tempfile::tempdir().unwrap();
        let a = "d41d8cd98f00b204e9800998ecf8427e  a.txt\n0cc175b9c0f1b6a831c399e269772661  sub/b.txt\n";
        let b = "0cc175b9c0f1b6a831c399e269772661  sub/b.txt\nd41d8cd98f00b204e9800998ecf8427e  a.txt\n";
        case(&d.path().join("old/x=1"), a, Some("failed"));
        case(&d.path().join("archive/2024-01/x=1"), b, Some("done"));
        let tiers = vec![
            CacheTier::new("cache://old", None),
            CacheTier::new("cache://archive/2024-*", None),
            CacheTier::new("cache://nothing_here", None),
        ];
        let index = CacheIndex::build(&tiers, d.path());
        let key = key_digest(&parse(a));
        let found = index.candidates(&key);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].tier, 0);
        assert_eq!(found[1].tier, 1);
        assert_eq!(recorded_state(&found[0].dir).as_deref(), Some("failed"));
        assert_eq!(recorded_state(&found[1].dir).as_deref(), Some("done"));
    }

    #[test]
    fn underscore_means_the_moved_results() {
        let t = CacheTier::new("cache://_", Some(Path::new("/r/results_2026")));
        assert_eq!(t.pattern, "/r/results_2026");
        assert_eq!(t.uri, "cache://_");
        assert_eq!(CacheTier::new("cache://_", None).pattern, "_");
    }

    #[test]
    fn restore_copies_subdirectories_but_not_bookkeeping() {
        let d = tempfile::tempdir().unwrap();
        let from = d.path().join("from");
        case(&from, "x", Some("done"));
        std::fs::create_dir_all(from.join("sub/deep")).unwrap();
        std::fs::write(from.join("sub/deep/f.dat"), b"\x00\x01").unwrap();
        std::fs::write(from.join("output.txt"), "r = 1").unwrap();
        let to = d.path().join("to");
        std::fs::create_dir(&to).unwrap();
        let listed = [HashLine {
            md5: String::new(),
            path: "sub/deep/listed.txt".into(),
        }];
        std::fs::write(from.join("sub/deep/listed.txt"), "compiled").unwrap();
        restore(&from, &to, &listed).unwrap();
        assert!(
            !to.join("sub/deep/listed.txt").exists(),
            "listed inputs are already in the new case"
        );
        assert_eq!(
            std::fs::read(to.join("sub/deep/f.dat")).unwrap(),
            b"\x00\x01"
        );
        assert!(to.join("output.txt").exists());
        assert!(!to.join("info.txt").exists() && !to.join(HASH_FILE).exists());
    }
}
