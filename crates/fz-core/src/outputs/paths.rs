//! Which directories an `fzo` path names (compile-and-output.md §5.2).
//!
//! The path is resolved against an explicit working directory, never the
//! process one: an existing directory, else a glob, else a regular
//! expression on the last component, else the literal path. Each match
//! carries the absolute path used for file-system work and the text shown
//! in the `path` column (relative to the working directory when inside it,
//! written as Python's `pathlib` writes paths).

use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// Characters that make a path a pattern (glob or regex) for upstream.
const PATTERN_CHARS: &[char] = &['*', '?', '[', ']', '{', '}', '^', '$', '.', '+', '(', ')'];

/// The file every compiled or run case directory holds.
const HASH_FILE: &str = ".fz_hash";

/// One directory to read outputs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDir {
    /// Absolute path, for reading and as the commands' working directory.
    pub dir: PathBuf,
    /// The `path` column text.
    pub shown: String,
}

/// Resolves `given` against `cwd` into the directories to read, in row
/// order. `NotFound` with upstream's message when nothing matches.
///
/// Port fix: when `given` names one directory without a `.fz_hash` of its
/// own whose (non-hidden) subdirectories have one – a `fzc` output or
/// `fzr` results directory – those case subdirectories are returned
/// (sorted), as `given/*` would, instead of the directory itself.
pub fn resolve_output_paths(given: &str, cwd: &Path) -> Result<Vec<OutputDir>> {
    let rel = Path::new(given);
    let abs = absolute(rel, cwd);
    if abs.is_dir() {
        let shown_base = shown_path(rel, cwd);
        if let Some(cases) = case_subdirs(&abs) {
            return Ok(cases
                .into_iter()
                .map(|name| OutputDir {
                    dir: abs.join(&name),
                    shown: join_shown(&shown_base, &name),
                })
                .collect());
        }
        return Ok(vec![OutputDir {
            dir: abs,
            shown: shown_base,
        }]);
    }
    if given.contains(PATTERN_CHARS) {
        let globbed = glob_dirs(given, cwd);
        if !globbed.is_empty() {
            return Ok(globbed);
        }
        let matched = regex_dirs(given, cwd);
        if !matched.is_empty() {
            return Ok(matched);
        }
    }
    if std::fs::metadata(&abs).is_ok() {
        let real = std::fs::canonicalize(&abs).unwrap_or(abs);
        let shown = shown_path(&real, cwd);
        return Ok(vec![OutputDir { dir: real, shown }]);
    }
    Err(Error::NotFound(format!("Output path '{given}' not found")))
}

/// The directories `given` names, resolved against `cwd` as
/// [`resolve_output_paths`] does (an existing directory, else a glob, else
/// a regex on the last component) but without looking inside them: a
/// results directory is returned as itself. Empty when nothing matches.
/// Used by `cache://` tiers, which read the case subdirectories through
/// the results directory's index.
pub fn resolve_dirs(given: &str, cwd: &Path) -> Vec<PathBuf> {
    let abs = absolute(Path::new(given), cwd);
    if abs.is_dir() {
        return vec![abs];
    }
    if !given.contains(PATTERN_CHARS) {
        return Vec::new();
    }
    let globbed = glob_dirs(given, cwd);
    let found = if globbed.is_empty() {
        regex_dirs(given, cwd)
    } else {
        globbed
    };
    found.into_iter().map(|d| d.dir).collect()
}

/// `path` made absolute against `cwd` (lexically; nothing resolved).
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// A path as `str(pathlib.Path(p))` writes it: `.` components and
/// repeated or trailing separators dropped, `..` kept, `.` when empty.
pub fn py_path_str(path: &Path) -> String {
    let mut out = String::new();
    for c in path.components() {
        match c {
            Component::CurDir => continue,
            Component::RootDir => {
                out.push('/');
                continue;
            }
            Component::Prefix(p) => {
                out.push_str(&p.as_os_str().to_string_lossy());
                continue;
            }
            Component::ParentDir => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str("..");
            }
            Component::Normal(n) => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(&n.to_string_lossy());
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The `path` column for `path`: relative paths as written (normalized),
/// absolute ones relative to `cwd` when inside it, else absolute.
fn shown_path(path: &Path, cwd: &Path) -> String {
    if path.is_absolute() {
        if let Ok(inside) = path.strip_prefix(cwd) {
            return py_path_str(inside);
        }
    }
    py_path_str(path)
}

/// `base / name` as pathlib joins them (`.` / `x` is `x`).
fn join_shown(base: &str, name: &str) -> String {
    if base == "." {
        name.to_string()
    } else if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

/// The sorted names of the case subdirectories of `dir` when `dir` is a
/// results or compile output directory (no `.fz_hash` itself, some
/// subdirectories with one); `None` otherwise.
fn case_subdirs(dir: &Path) -> Option<Vec<String>> {
    if dir.join(HASH_FILE).exists() {
        return None;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let path = e.path();
            (!name.starts_with('.') && path.is_dir() && path.join(HASH_FILE).is_file())
                .then_some(name)
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    names.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    Some(names)
}

/// Python `glob.glob(pattern)` (non-recursive: `**` is `*`), keeping
/// directories, sorted component-wise as pathlib sorts paths.
fn glob_dirs(pattern: &str, cwd: &Path) -> Vec<OutputDir> {
    let relative = !Path::new(pattern).is_absolute();
    let mut collapsed = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '*' && collapsed.ends_with('*')) {
            collapsed.push(c);
        }
    }
    let full = if relative {
        let base = glob::Pattern::escape(&cwd.to_string_lossy());
        if base.ends_with('/') {
            format!("{base}{collapsed}")
        } else {
            format!("{base}/{collapsed}")
        }
    } else {
        collapsed
    };
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let Ok(paths) = glob::glob_with(&full, options) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, PathBuf)> = paths
        .filter_map(|p| p.ok())
        .filter(|p| p.is_dir())
        .map(|p| {
            let key = if relative {
                p.strip_prefix(cwd)
                    .map(Path::to_path_buf)
                    .unwrap_or(p.clone())
            } else {
                p.clone()
            };
            (key, p)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
        .into_iter()
        .map(|(key, dir)| OutputDir {
            shown: shown_path(&key, cwd),
            dir,
        })
        .collect()
}

/// The last component of `pattern` as a regular expression anchored at the
/// start, matched against the directory names in its parent.
fn regex_dirs(pattern: &str, cwd: &Path) -> Vec<OutputDir> {
    let p = Path::new(pattern);
    let (parent, name) = if pattern.contains('/') {
        (
            p.parent().unwrap_or(Path::new(".")).to_path_buf(),
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    } else {
        (PathBuf::from("."), pattern.to_string())
    };
    let Ok(re) = regex::Regex::new(&format!("^(?:{name})")) else {
        return Vec::new();
    };
    let parent_abs = absolute(&parent, cwd);
    let Ok(entries) = std::fs::read_dir(&parent_abs) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| re.is_match(n) && parent_abs.join(n).is_dir())
        .collect();
    names.sort();
    let parent_shown = py_path_str(&parent);
    names
        .into_iter()
        .map(|n| {
            let joined = parent.join(&n);
            let shown = if parent.is_absolute() {
                shown_path(&joined, cwd)
            } else {
                join_shown(&parent_shown, &n)
            };
            OutputDir {
                dir: parent_abs.join(&n),
                shown,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dirs: &[&str], files: &[&str]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for d in dirs {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
        }
        for f in files {
            std::fs::write(t.path().join(f), "x").unwrap();
        }
        t
    }

    fn shown(given: &str, cwd: &Path) -> Vec<String> {
        resolve_output_paths(given, cwd)
            .unwrap()
            .into_iter()
            .map(|d| d.shown)
            .collect()
    }

    #[test]
    fn python_path_text() {
        for (p, want) in [
            ("res/", "res"),
            ("./res", "res"),
            ("res/./x", "res/x"),
            ("a//b", "a/b"),
            (".", "."),
            ("", "."),
            ("../x", "../x"),
            ("/a/b/", "/a/b"),
            ("/", "/"),
        ] {
            assert_eq!(py_path_str(Path::new(p)), want, "{p:?}");
        }
    }

    #[test]
    fn existing_directory_glob_regex_literal() {
        let t = tree(
            &[
                "res/x=1,y=a",
                "res/x=10,y=c",
                "res/x=2.5,y=b",
                "res/.hidden",
                "a-b/c",
                "a/c",
            ],
            &["res/x=1,y=a/out.txt", "file.txt"],
        );
        let cwd = t.path();
        assert_eq!(shown("res", cwd), ["res"]);
        assert_eq!(shown("./res/", cwd), ["res"]);
        assert_eq!(
            shown("res/*", cwd),
            ["res/x=1,y=a", "res/x=10,y=c", "res/x=2.5,y=b"]
        );
        assert_eq!(shown("./res/**", cwd), shown("res/*", cwd));
        // Only directories: the file inside is not a match.
        assert!(resolve_output_paths("res/x=1,y=a/*", cwd).is_err());
        // Component-wise order, as pathlib sorts: `a` before `a-b`.
        assert_eq!(shown("*/c", cwd), ["a/c", "a-b/c"]);
        // Regex fallback on the last component, anchored at the start.
        assert_eq!(shown("res/x=1.*", cwd), ["res/x=1,y=a", "res/x=10,y=c"]);
        assert_eq!(shown("res/x=(1|2)", cwd).len(), 3);
        // Absolute inside cwd → relative.
        let abs = format!("{}/res/*", cwd.display());
        assert_eq!(shown(&abs, cwd)[0], "res/x=1,y=a");
        // Literal existing path (a file).
        assert_eq!(shown("file.txt", cwd), ["file.txt"]);
        let err = resolve_output_paths("nope", cwd).unwrap_err();
        assert_eq!(err.to_string(), "Output path 'nope' not found");
        let err = resolve_output_paths("res/zz*", cwd).unwrap_err();
        assert_eq!(err.to_string(), "Output path 'res/zz*' not found");
        assert!(matches!(
            resolve_output_paths("res/[", cwd),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn outside_cwd_is_absolute() {
        let t = tree(&["out/case"], &[]);
        let other = tempfile::tempdir().unwrap();
        let given = format!("{}/out/case", t.path().display());
        assert_eq!(shown(&given, other.path()), [given]);
    }

    #[test]
    fn results_directory_gives_its_cases() {
        let t = tree(
            &[
                "results/x=1",
                "results/x=2",
                "results/.fz-staging-0",
                "results/notes",
                "plain/a",
            ],
            &[
                "results/x=1/.fz_hash",
                "results/x=2/.fz_hash",
                "results/.fz-staging-0/.fz_hash",
            ],
        );
        let cwd = t.path();
        assert_eq!(shown("results", cwd), ["results/x=1", "results/x=2"]);
        assert_eq!(shown("results/", cwd), ["results/x=1", "results/x=2"]);
        let dirs = resolve_output_paths("results", cwd).unwrap();
        assert_eq!(dirs[0].dir, cwd.join("results").join("x=1"));
        // A case directory itself, or a directory without cases: one row.
        assert_eq!(shown("results/x=1", cwd), ["results/x=1"]);
        assert_eq!(shown("plain", cwd), ["plain"]);
        // `.` inside a results directory: bare case names.
        assert_eq!(shown(".", &cwd.join("results")), ["x=1", "x=2"]);
    }
}
