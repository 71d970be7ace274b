//! What a `source` argument of `fz install` names (plugins.md §2, fixed):
//! a local zip, a local directory, any `http(s)` URL serving a zip, or a
//! GitHub repository (`https://github.com/owner/repo[.git]`,
//! `owner/repo[@ref]`, a short name `moret` → `Funz/fz-moret`).
//!
//! Parsing only: nothing is read or downloaded here (see [`super::fetch`]).

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Environment variable replacing `https://github.com` in archive URLs
/// (tests point it at a local server).
pub const GITHUB_BASE_VAR: &str = "FZ_GITHUB_ARCHIVE_BASE";

/// The organisation short names belong to.
const DEFAULT_OWNER: &str = "Funz";

/// A parsed source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A zip archive on disk.
    LocalZip(PathBuf),
    /// A directory on disk (a checkout of a plugin repository).
    LocalDir(PathBuf),
    /// A URL serving a zip archive, used as given.
    Url(String),
    /// A GitHub repository, at `reference` or else its `main` then
    /// `master` branch.
    GitHub {
        /// Owner (user or organisation).
        owner: String,
        /// Repository name, without `.git`.
        repo: String,
        /// Branch, tag or commit, when given.
        reference: Option<String>,
    },
}

impl Source {
    /// Parses `text`; relative paths are taken from `cwd`. An existing
    /// path always wins over the other readings.
    pub fn parse(text: &str, cwd: &Path) -> Result<Source> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::Value("install: the source is empty".into()));
        }
        let path = cwd.join(text);
        if path.is_dir() {
            return Ok(Source::LocalDir(path));
        }
        if path.is_file() {
            return Ok(Source::LocalZip(path));
        }
        if let Some(rest) = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
        {
            return Ok(github_url(rest).unwrap_or_else(|| Source::Url(text.to_string())));
        }
        if text.contains("://") {
            return Err(Error::Value(format!(
                "install: unsupported source '{text}' (use a local .zip or directory, an http(s):// URL, owner/repo[@ref] or a plugin name)"
            )));
        }
        if text.ends_with(".zip") || text.starts_with('.') || text.starts_with('/') {
            return Err(Error::NotFound(format!(
                "install: no such file or directory: {}",
                path.display()
            )));
        }
        shorthand(text).ok_or_else(|| {
            Error::Value(format!(
                "install: invalid source '{text}' (use a local .zip or directory, an http(s):// URL, owner/repo[@ref] or a plugin name)"
            ))
        })
    }

    /// The URLs to try in turn for a remote source (`main` then `master`
    /// for a GitHub repository without a reference); empty for local ones.
    pub fn urls(&self) -> Vec<String> {
        match self {
            Source::LocalZip(_) | Source::LocalDir(_) => Vec::new(),
            Source::Url(url) => vec![url.clone()],
            Source::GitHub {
                owner,
                repo,
                reference,
            } => {
                let base = github_base();
                match reference {
                    // `archive/<ref>.zip` serves branches, tags and commits.
                    Some(r) => vec![format!("{base}/{owner}/{repo}/archive/{r}.zip")],
                    None => ["main", "master"]
                        .iter()
                        .map(|b| format!("{base}/{owner}/{repo}/archive/refs/heads/{b}.zip"))
                        .collect(),
                }
            }
        }
    }

    /// The reference a URL of [`Source::urls`] stands for (`main`, a tag…).
    pub fn reference_of(&self, url: &str) -> Option<String> {
        match self {
            Source::GitHub {
                reference: Some(r), ..
            } => Some(r.clone()),
            Source::GitHub { .. } => url
                .rsplit('/')
                .next()
                .and_then(|last| last.strip_suffix(".zip"))
                .map(str::to_string),
            _ => None,
        }
    }
}

/// `https://github.com` or the override of [`GITHUB_BASE_VAR`], without a
/// trailing slash.
fn github_base() -> String {
    crate::config::setting(GITHUB_BASE_VAR)
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "https://github.com".into())
        .trim_end_matches('/')
        .to_string()
}

/// `github.com/owner/repo[.git][/][/tree/<ref>]` (after the scheme) as a
/// repository; any other GitHub URL (an archive `.zip`) is used verbatim.
fn github_url(rest: &str) -> Option<Source> {
    let (host, path) = rest.split_once('/')?;
    if !matches!(host, "github.com" | "www.github.com") {
        return None;
    }
    let parts: Vec<&str> = path
        .split(['?', '#'])
        .next()?
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let (owner, repo, reference) = match parts.as_slice() {
        [owner, repo] => (*owner, *repo, None),
        [owner, repo, "tree", r @ ..] if !r.is_empty() => (*owner, *repo, Some(r.join("/"))),
        _ => return None,
    };
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    (valid_name(owner) && valid_name(repo)).then(|| Source::GitHub {
        owner: owner.into(),
        repo: repo.into(),
        reference,
    })
}

/// `owner/repo[@ref]` or `name[@ref]` (→ `Funz/fz-<name>`).
fn shorthand(text: &str) -> Option<Source> {
    let (name, reference) = match text.split_once('@') {
        Some((n, r)) if valid_ref(r) => (n, Some(r.to_string())),
        Some(_) => return None,
        None => (text, None),
    };
    let (owner, repo) = match name.split_once('/') {
        Some((o, r)) => (o.to_string(), r.to_string()),
        None if name.starts_with("fz-") => (DEFAULT_OWNER.into(), name.to_string()),
        None => (DEFAULT_OWNER.into(), format!("fz-{name}")),
    };
    let repo = repo.strip_suffix(".git").unwrap_or(&repo).to_string();
    (valid_name(&owner) && valid_name(&repo)).then_some(Source::GitHub {
        owner,
        repo,
        reference,
    })
}

/// A GitHub owner or repository name: letters, digits, `-`, `_`, `.`.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A branch, tag or commit: no spaces, no `..`, no URL syntax.
fn valid_ref(s: &str) -> bool {
    !s.is_empty()
        && !s.contains("..")
        && !s.starts_with('/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh(owner: &str, repo: &str, reference: Option<&str>) -> Source {
        Source::GitHub {
            owner: owner.into(),
            repo: repo.into(),
            reference: reference.map(str::to_string),
        }
    }

    #[test]
    fn every_source_form() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        std::fs::write(cwd.join("x.zip"), "PK").unwrap();
        std::fs::create_dir(cwd.join("checkout")).unwrap();
        let p = |s: &str| Source::parse(s, cwd).unwrap();
        assert_eq!(p("x.zip"), Source::LocalZip(cwd.join("x.zip")));
        assert_eq!(p("checkout"), Source::LocalDir(cwd.join("checkout")));
        assert_eq!(p("moret"), gh("Funz", "fz-moret", None));
        assert_eq!(p("fz-moret"), gh("Funz", "fz-moret", None));
        assert_eq!(p("moret@v1.2"), gh("Funz", "fz-moret", Some("v1.2")));
        assert_eq!(p("me/fz-x"), gh("me", "fz-x", None));
        assert_eq!(p("me/fz-x@dev"), gh("me", "fz-x", Some("dev")));
        assert_eq!(
            p("https://github.com/Funz/fz-moret"),
            gh("Funz", "fz-moret", None)
        );
        assert_eq!(p("https://github.com/u/r.git"), gh("u", "r", None));
        assert_eq!(p("https://github.com/u/r/"), gh("u", "r", None));
        assert_eq!(
            p("https://github.com/u/r/tree/v2"),
            gh("u", "r", Some("v2"))
        );
        let archive = "https://github.com/Funz/fz-moret/archive/refs/heads/main.zip";
        assert_eq!(p(archive), Source::Url(archive.into()));
        assert_eq!(
            p("https://example.com/x.zip"),
            Source::Url("https://example.com/x.zip".into())
        );
        assert_eq!(
            p("http://gitlab.com/a/b"),
            Source::Url("http://gitlab.com/a/b".into())
        );
    }

    #[test]
    fn bad_sources_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = Source::parse("nothere.zip", dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no such file or directory") && e.ends_with("nothere.zip"),
            "{e}"
        );
        let e = Source::parse("ftp://h/x.zip", dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported source 'ftp://h/x.zip'"), "{e}");
        let e = Source::parse("a b", dir.path()).unwrap_err().to_string();
        assert!(e.contains("invalid source 'a b'"), "{e}");
        assert!(Source::parse("x@../y", dir.path()).is_err());
        assert!(Source::parse("", dir.path()).is_err());
    }

    #[test]
    fn urls_try_main_then_master() {
        let s = gh("Funz", "fz-moret", None);
        let urls = s.urls();
        assert_eq!(urls.len(), 2);
        assert!(urls[0].ends_with("/Funz/fz-moret/archive/refs/heads/main.zip"));
        assert!(urls[1].ends_with("/Funz/fz-moret/archive/refs/heads/master.zip"));
        assert_eq!(s.reference_of(&urls[1]).as_deref(), Some("master"));
        let s = gh("u", "r", Some("v1"));
        assert!(s.urls()[0].ends_with("/u/r/archive/v1.zip"));
        assert_eq!(s.reference_of("whatever").as_deref(), Some("v1"));
    }
}
