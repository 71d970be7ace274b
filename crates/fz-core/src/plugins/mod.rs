//! Plugins: `fz install` / `fz uninstall` of model and algorithm
//! repositories, and what is installed (plugins.md §1–5, upstream's bugs
//! fixed, see docs/compatibility.md).
//!
//! Flow: [`source`] (what the argument names) → [`fetch`] (download with
//! [`download`], extract safely with [`extract`]) → [`model`] or
//! [`algorithm`] (which files to install) → [`stage`] (check, write,
//! record in the [`manifest`] `.fz/installed.json`); [`uninstall`](mod@uninstall) removes
//! what the manifest recorded; [`list`] reads `.fz/models` and
//! `.fz/algorithms`. Installed files go to `./.fz` (the current
//! directory) or, with `global`, `~/.fz`.
//!
//! This module never runs what it installs, and does not parse algorithm
//! headers (`crate::algorithms` does) nor list calculators (`ops::list`).

pub mod algorithm;
pub mod download;
pub mod extract;
pub mod fetch;
pub mod list;
pub mod manifest;
pub mod model;
pub mod source;
pub mod stage;
pub mod tree;
pub mod uninstall;

pub use algorithm::{install_algorithm, AlgorithmInstall};
pub use manifest::Kind;
pub use model::{install_model, ModelInstall};
pub use uninstall::{uninstall, Uninstalled};

use crate::model::Lookup;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// `./.fz` (from `lookup.cwd`) or, when `global`, `~/.fz`.
pub fn base_dir(lookup: &Lookup, global: bool) -> Result<PathBuf> {
    if !global {
        return Ok(lookup.cwd.join(".fz"));
    }
    lookup.home.as_ref().map(|h| h.join(".fz")).ok_or_else(|| {
        Error::Value("--global: the home directory is unknown (HOME is not set)".into())
    })
}

/// `path` relative to `root`, `/`-separated (the path itself when it is
/// not below `root`).
pub(crate) fn rel_string(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `name` can be used as a file name in `.fz/<kind>/`: not empty,
/// no separator, not `.`-leading (no `..`, no hidden file).
pub(crate) fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !name.contains(':')
}

/// Test helper shared by the plugin modules' tests.
#[cfg(test)]
pub(crate) mod testutil {
    /// Writes `text` to `root/rel`, creating the directories.
    pub fn write(root: &std::path::Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}
