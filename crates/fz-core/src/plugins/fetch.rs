//! Getting a plugin's files onto disk: a local directory is used in
//! place; a local zip, or one downloaded from a URL (GitHub: `main`, then
//! `master`), is extracted safely into a temporary directory that lives
//! as long as the [`Fetched`] value.
//!
//! Nothing is written outside that temporary directory here.

use super::download::{self, Failure};
use super::extract::{self, Limits};
use super::source::Source;
use super::tree;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Where an install came from, as recorded in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The source as the user gave it.
    pub source: String,
    /// The URL downloaded, if any.
    pub url: Option<String>,
    /// Branch, tag or commit, when known.
    pub reference: Option<String>,
    /// SHA-256 (hex) of the archive; `None` for a directory.
    pub sha256: Option<String>,
}

/// A plugin's files, ready to be read.
#[derive(Debug)]
pub struct Fetched {
    /// The repository root (the directory holding `.fz/`).
    pub root: PathBuf,
    /// Where it came from.
    pub provenance: Provenance,
    /// The temporary directory holding the archive and its extraction.
    _tmp: Option<tempfile::TempDir>,
}

/// Fetches the plugin `source` (relative paths from `cwd`).
pub fn fetch(source: &str, cwd: &Path, limits: Limits) -> Result<Fetched> {
    let parsed = Source::parse(source, cwd)?;
    let mut provenance = Provenance {
        source: source.to_string(),
        ..Provenance::default()
    };
    if let Source::LocalDir(dir) = &parsed {
        return Ok(Fetched {
            root: dir.clone(),
            provenance,
            _tmp: None,
        });
    }
    let tmp = tempfile::Builder::new()
        .prefix("fz-install-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let archive = match &parsed {
        Source::LocalZip(path) => {
            provenance.sha256 = Some(download::sha256_file(path)?);
            path.clone()
        }
        _ => {
            let path = tmp.path().join("archive.zip");
            let (url, sha) = download_first(&parsed, &path)?;
            provenance.reference = parsed.reference_of(&url);
            provenance.url = Some(url);
            provenance.sha256 = Some(sha);
            path
        }
    };
    let out = tmp.path().join("extract");
    std::fs::create_dir(&out).map_err(|e| Error::io(&out, e))?;
    extract::extract(&archive, &out, limits)?;
    Ok(Fetched {
        root: tree::repository_root(&out)?,
        provenance,
        _tmp: Some(tmp),
    })
}

/// Downloads the first URL of `source` that exists; returns it and the
/// archive's SHA-256. A 404 moves on to the next URL (GitHub's `master`
/// after `main`); any other failure stops at once.
fn download_first(source: &Source, dest: &Path) -> Result<(String, String)> {
    let urls = source.urls();
    for url in &urls {
        crate::log::info(&format!("Downloading {url}"));
        match download::download(url, dest) {
            Ok(sha) => return Ok((url.clone(), sha)),
            Err(Failure::NotFound) => continue,
            Err(Failure::Other(reason)) => {
                return Err(Error::Value(format!("cannot download {url}: {reason}")))
            }
        }
    }
    let tried = urls.join(", ");
    Err(Error::NotFound(match source {
        Source::GitHub {
            reference: None, ..
        } => format!("cannot download {tried}: HTTP 404 Not Found (no branch 'main' nor 'master')"),
        _ => format!("cannot download {tried}: HTTP 404 Not Found"),
    }))
}
