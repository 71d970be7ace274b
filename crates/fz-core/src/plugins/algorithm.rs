//! Installing an algorithm repository (plugins.md §4, fixed): the
//! `.fz/algorithms/*.py|*.R` files when the repository has them, else its
//! top-level `.py`/`.R` files only (never `setup.py`, tests, `conftest.py`,
//! `__init__.py`, nor anything in sub-directories: helpers, docs,
//! examples). Nothing is run or imported here.
//!
//! Choosing the files only; writing them is [`super::stage`]'s.

use super::fetch::{self, Provenance};
use super::manifest::Kind;
use super::stage::{self, Plan, Planned};
use super::{base_dir, extract::Limits, rel_string, tree};
use crate::model::Lookup;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// What an algorithm install did.
#[derive(Debug, Clone)]
pub struct AlgorithmInstall {
    /// Algorithm names (file stems); the first is upstream's
    /// `algorithm_name`.
    pub names: Vec<String>,
    /// The installed files (`<base>/algorithms/<file>`).
    pub files: Vec<PathBuf>,
    /// `./.fz` or `~/.fz`.
    pub base: PathBuf,
    /// Where it came from (SHA-256 of the archive included).
    pub provenance: Provenance,
}

/// Installs the algorithm repository `source` into `./.fz/algorithms`
/// (or `~/.fz/algorithms` when `global`).
pub fn install_algorithm(source: &str, global: bool, lookup: &Lookup) -> Result<AlgorithmInstall> {
    let base = base_dir(lookup, global)?;
    let fetched = fetch::fetch(source, &lookup.cwd, Limits::default())?;
    let plan = plan(&fetched.root, source)?;
    stage::apply(&plan, &base, &fetched.provenance)?;
    Ok(AlgorithmInstall {
        names: plan.names.clone(),
        files: plan
            .files
            .iter()
            .map(|f| super::manifest::path_of(&base, &f.rel))
            .collect(),
        base,
        provenance: fetched.provenance,
    })
}

/// The files an algorithm install of the repository at `root` writes.
pub fn plan(root: &Path, source: &str) -> Result<Plan> {
    let mut found = language_files(&root.join(".fz").join("algorithms"), root)?;
    if found.is_empty() {
        found = language_files(root, root)?
            .into_iter()
            .filter(|p| !helper_file(p))
            .collect();
    }
    if found.is_empty() {
        return Err(Error::Value(format!(
            "No algorithm files (.py or .R) found in '{source}' (expected .fz/algorithms/*.py|*.R, or .py/.R files at the top of the repository)"
        )));
    }
    // Python first, as upstream lists them.
    found.sort_by_key(|p| (p.extension().is_some_and(|e| e == "R"), p.clone()));
    let mut names: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for path in found {
        let (Some(stem), Some(file)) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.file_name().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        if !names.iter().any(|n| n == stem) {
            names.push(stem.to_string());
        }
        files.push(Planned {
            rel: format!("algorithms/{file}"),
            origin: rel_string(&path, root),
            executable: false,
            src: path,
        });
    }
    Ok(Plan {
        kind: Kind::Algorithm,
        names,
        files,
    })
}

/// The `.py` and `.R` files directly in `dir`.
fn language_files(dir: &Path, root: &Path) -> Result<Vec<PathBuf>> {
    Ok(tree::files_in(dir, root)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "py" || e == "R"))
        .collect())
}

/// Packaging and test files that are not algorithms.
fn helper_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_lowercase();
    matches!(name.as_str(), "setup.py" | "conftest.py" | "__init__.py")
        || name.starts_with("test_")
        || name.contains("_test.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str) {
        crate::plugins::testutil::write(root, rel, "# code");
    }

    fn rels(p: &Plan) -> Vec<&str> {
        p.files.iter().map(|f| f.rel.as_str()).collect()
    }

    #[test]
    fn top_level_files_only_without_helpers() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        for f in [
            "mc.R",
            "sobol.py",
            "setup.py",
            "test_sobol.py",
            "sobol_test.py",
            "conftest.py",
            "__init__.py",
            "docs/conf.py",
            "examples/run.py",
            "helpers/util.py",
            "README.md",
        ] {
            write(r, f);
        }
        let p = plan(r, "src").unwrap();
        assert_eq!(rels(&p), ["algorithms/sobol.py", "algorithms/mc.R"]);
        assert_eq!(p.names, ["sobol", "mc"]);
        assert_eq!(p.kind, Kind::Algorithm);
    }

    #[test]
    fn fz_algorithms_directory_wins() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "helper.py");
        write(r, ".fz/algorithms/brent.py");
        write(r, ".fz/algorithms/brent.R");
        write(r, ".fz/algorithms/data/x.py");
        let p = plan(r, "src").unwrap();
        assert_eq!(rels(&p), ["algorithms/brent.py", "algorithms/brent.R"]);
        assert_eq!(p.names, ["brent"]);
        assert_eq!(p.files[1].origin, ".fz/algorithms/brent.R");
    }

    #[test]
    fn nothing_to_install() {
        let t = tempfile::tempdir().unwrap();
        write(t.path(), "docs/x.py");
        let e = plan(t.path(), "my.zip").unwrap_err().to_string();
        assert!(
            e.starts_with("No algorithm files (.py or .R) found in 'my.zip'"),
            "{e}"
        );
    }
}
