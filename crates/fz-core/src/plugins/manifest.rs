//! The install manifest `<base>/installed.json` (`base` = `./.fz` or
//! `~/.fz`): one entry per install, with where it came from (source, URL,
//! ref, SHA-256 of the archive, date) and every file it wrote, relative to
//! `base`. `uninstall` removes exactly those files.
//!
//! This module reads and writes the manifest only; deciding what to
//! install or remove is [`super::stage`]'s and [`super::uninstall`](mod@super::uninstall)'s.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the manifest inside `.fz/`.
pub const FILE_NAME: &str = "installed.json";

/// What kind of plugin an entry installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A model repository (`fz install model`).
    Model,
    /// An algorithm repository (`fz install algorithm`).
    Algorithm,
}

impl Kind {
    /// `model` or `algorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Algorithm => "algorithm",
        }
    }
}

/// One install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Model or algorithm.
    pub kind: Kind,
    /// The model ids or algorithm names it provides (still installed).
    pub names: Vec<String>,
    /// The source as the user gave it.
    pub source: String,
    /// The URL downloaded, if any.
    #[serde(default)]
    pub url: Option<String>,
    /// Branch, tag or commit, when known.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// SHA-256 (hex) of the archive (`None` for a local directory).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Files written, relative to the base directory, `/`-separated.
    pub files: Vec<String>,
    /// When it was installed (UTC, RFC 3339).
    pub date: String,
}

/// The manifest of one base directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Installs, oldest first.
    pub installs: Vec<Entry>,
}

impl Manifest {
    /// The manifest of `base` (empty when there is none).
    pub fn load(base: &Path) -> Result<Manifest> {
        let path = base.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        serde_json::from_str(&text).map_err(|e| {
            Error::Value(format!(
                "{}: invalid install manifest ({e}); fix or remove it",
                path.display()
            ))
        })
    }

    /// Writes the manifest into `base` (atomically: a temporary file
    /// renamed over the old one).
    pub fn save(&self, base: &Path) -> Result<()> {
        let path = base.join(FILE_NAME);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Value(format!("{}: {e}", path.display())))?;
        let tmp = base.join(format!(".{FILE_NAME}.tmp"));
        std::fs::write(&tmp, text + "\n").map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }

    /// The index of the entry of `kind` providing `name`.
    pub fn find(&self, kind: Kind, name: &str) -> Option<usize> {
        self.installs
            .iter()
            .position(|e| e.kind == kind && e.names.iter().any(|n| n == name))
    }

    /// The entry that lists the file `rel`, other than `except`.
    pub fn owner(&self, rel: &str, except: &[usize]) -> Option<&Entry> {
        self.installs
            .iter()
            .enumerate()
            .find(|(i, e)| !except.contains(i) && e.files.iter().any(|f| f == rel))
            .map(|(_, e)| e)
    }

    /// Whether some entry lists the file `rel`.
    pub fn owns(&self, rel: &str) -> bool {
        self.owner(rel, &[]).is_some()
    }
}

/// `rel` (relative to `base`) as a path.
pub fn path_of(base: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(base.to_path_buf(), |p, c| p.join(c))
}

/// Removes the file `rel` of `base`, then its parent directories that are
/// left empty, up to (not including) the top directory under `base`
/// (`calculators/scripts/x.sh` may remove `scripts/`, never
/// `calculators/`). Returns whether the file existed.
pub fn remove_file(base: &Path, rel: &str) -> Result<bool> {
    let path = path_of(base, rel);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&path, e)),
    }
    let top = rel.split('/').next().map(|t| base.join(t));
    let mut dir = path.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        if Some(&d) == top.as_ref() || !d.starts_with(base) || d == base {
            break;
        }
        // Fails (and stops) when the directory is not empty.
        if std::fs::remove_dir(&d).is_err() {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(names: &[&str], files: &[&str]) -> Entry {
        Entry {
            kind: Kind::Model,
            names: names.iter().map(|s| s.to_string()).collect(),
            source: "moret".into(),
            url: Some("https://h/x.zip".into()),
            reference: Some("main".into()),
            sha256: Some("ab".into()),
            files: files.iter().map(|s| s.to_string()).collect(),
            date: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn round_trip_find_and_owner() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(t.path()).unwrap(), Manifest::default());
        let m = Manifest {
            installs: vec![entry(&["A"], &["models/A.json", "calculators/a.sh"])],
        };
        m.save(t.path()).unwrap();
        let text = std::fs::read_to_string(t.path().join(FILE_NAME)).unwrap();
        assert!(text.contains("\"ref\": \"main\"") && text.contains("\"kind\": \"model\""));
        let back = Manifest::load(t.path()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.find(Kind::Model, "A"), Some(0));
        assert_eq!(back.find(Kind::Algorithm, "A"), None);
        assert!(back.owns("calculators/a.sh"));
        assert!(back.owner("calculators/a.sh", &[0]).is_none());
        std::fs::write(t.path().join(FILE_NAME), "{").unwrap();
        let e = Manifest::load(t.path()).unwrap_err().to_string();
        assert!(
            e.contains("installed.json: invalid install manifest"),
            "{e}"
        );
    }

    #[test]
    fn removing_a_file_prunes_empty_directories_below_the_top() {
        let t = tempfile::tempdir().unwrap();
        let b = t.path();
        std::fs::create_dir_all(b.join("calculators/s/u")).unwrap();
        std::fs::write(b.join("calculators/s/u/x.sh"), "").unwrap();
        assert!(remove_file(b, "calculators/s/u/x.sh").unwrap());
        assert!(!b.join("calculators/s").exists());
        assert!(b.join("calculators").is_dir());
        assert!(!remove_file(b, "calculators/s/u/x.sh").unwrap());
    }
}
