//! Uninstalling a model or an algorithm (plugins.md §5.1, fixed): the file
//! the name designates (`models/<name>.json`; `algorithms/<name>.py` and
//! `.R`) and, when the manifest says which install provided it and that
//! install has no other model or algorithm left, every other file it wrote
//! (calculator aliases and scripts included, which upstream leaves
//! behind). A file another install also lists is kept.

use super::base_dir;
use super::manifest::{self, Kind, Manifest};
use crate::model::Lookup;
use crate::{Error, Result};
use std::path::PathBuf;

/// The files removed by an uninstall.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uninstalled {
    /// Removed files, absolute.
    pub removed: Vec<PathBuf>,
    /// The directory the name was looked up in (`<base>/models` or
    /// `<base>/algorithms`).
    pub dir: PathBuf,
}

/// The directory a kind is installed in, below the base.
pub fn kind_dir(kind: Kind) -> &'static str {
    match kind {
        Kind::Model => "models",
        Kind::Algorithm => "algorithms",
    }
}

/// Uninstalls the model or algorithm `name` from `./.fz` (or `~/.fz`
/// when `global`); `Ok(None)` when it is not installed there.
pub fn uninstall(
    kind: Kind,
    name: &str,
    global: bool,
    lookup: &Lookup,
) -> Result<Option<Uninstalled>> {
    if !super::safe_name(name) {
        return Err(Error::Value(format!(
            "uninstall: invalid {} name '{name}'",
            kind.as_str()
        )));
    }
    let base = base_dir(lookup, global)?;
    let dir = base.join(kind_dir(kind));
    let own: Vec<String> = match kind {
        Kind::Model => vec![format!("models/{name}.json")],
        Kind::Algorithm => vec![
            format!("algorithms/{name}.py"),
            format!("algorithms/{name}.R"),
        ],
    };
    let mut manifest = Manifest::load(&base)?;
    let mut doomed = own.clone();
    let entry_index = manifest.find(kind, name);
    if let Some(i) = entry_index {
        let e = &mut manifest.installs[i];
        e.names.retain(|n| n != name);
        e.files.retain(|f| !own.contains(f));
        if e.names.is_empty() {
            let gone = manifest.installs.remove(i);
            doomed.extend(gone.files.into_iter().filter(|f| !manifest.owns(f)));
        }
    }
    let mut removed = Vec::new();
    for rel in &doomed {
        if manifest::remove_file(&base, rel)? {
            removed.push(manifest::path_of(&base, rel));
        }
    }
    if entry_index.is_some() {
        manifest.save(&base)?;
    }
    Ok((entry_index.is_some() || !removed.is_empty()).then_some(Uninstalled { removed, dir }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::write;
    use crate::plugins::{install_algorithm, install_model};

    /// A project, a home and a model repository checkout (`repo`).
    fn setup() -> (tempfile::TempDir, Lookup) {
        let t = tempfile::tempdir().unwrap();
        let r = t.path().join("repo");
        write(&r, ".fz/models/M.json", r#"{"id": "M"}"#);
        write(&r, ".fz/models/N.json", r#"{"id": "N"}"#);
        write(&r, ".fz/calculators/localhost_M.json", "{}");
        write(&r, ".fz/calculators/sub/M.sh", "echo");
        std::fs::create_dir_all(t.path().join("project")).unwrap();
        let lookup = Lookup {
            cwd: t.path().join("project"),
            home: Some(t.path().join("home")),
        };
        (t, lookup)
    }

    #[test]
    fn reinstall_then_uninstall_removes_exactly_the_recorded_files() {
        let (t, lookup) = setup();
        let repo = t.path().join("repo").display().to_string();
        let done = install_model(&repo, false, &lookup).unwrap();
        assert_eq!(done.models, ["M", "N"]);
        assert_eq!(
            done.installed_files,
            ["calculators/localhost_M.json", "calculators/sub/M.sh"]
        );
        let base = lookup.cwd.join(".fz");
        write(&base, "calculators/mine.json", "{}");
        // A new version without the script: the reinstall drops it.
        std::fs::remove_file(t.path().join("repo/.fz/calculators/sub/M.sh")).unwrap();
        write(
            &t.path().join("repo"),
            ".fz/calculators/localhost_M.json",
            r#"{"uri": "sh://"}"#,
        );
        install_model(&repo, false, &lookup).unwrap();
        assert!(!base.join("calculators/sub").exists());
        assert_eq!(Manifest::load(&base).unwrap().installs.len(), 1);

        let u = uninstall(Kind::Model, "M", false, &lookup)
            .unwrap()
            .unwrap();
        assert_eq!(
            u.removed,
            [base.join("models/M.json")],
            "N still needs the calculators"
        );
        let u = uninstall(Kind::Model, "N", false, &lookup)
            .unwrap()
            .unwrap();
        assert_eq!(
            u.removed,
            [
                base.join("models/N.json"),
                base.join("calculators/localhost_M.json")
            ]
        );
        assert!(
            base.join("calculators/mine.json").exists(),
            "not installed: kept"
        );
        assert!(Manifest::load(&base).unwrap().installs.is_empty());
        assert_eq!(uninstall(Kind::Model, "N", false, &lookup).unwrap(), None);
        assert!(uninstall(Kind::Model, "../x", false, &lookup).is_err());
    }

    #[test]
    fn no_silent_clobbering_and_global_installs() {
        let (t, lookup) = setup();
        let base = lookup.cwd.join(".fz");
        write(&base, "calculators/localhost_M.json", r#"{"mine": true}"#);
        let repo = t.path().join("repo").display().to_string();
        let e = install_model(&repo, false, &lookup)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "'.fz/calculators/localhost_M.json' of '{repo}' would replace {} (not installed by fz install); uninstall or remove it first",
                base.join("calculators/localhost_M.json").display()
            )
        );
        assert!(!base.join("models").exists(), "nothing written");

        let done = install_model(&repo, true, &lookup).unwrap();
        assert_eq!(done.base, t.path().join("home/.fz"));
        assert!(t.path().join("home/.fz/models/M.json").is_file());

        let algo = t.path().join("algo");
        write(&algo, "brent.py", "# brent");
        let a = install_algorithm(&algo.display().to_string(), false, &lookup).unwrap();
        assert_eq!(a.names, ["brent"]);
        write(&base, "algorithms/brent.R", "# by hand");
        let u = uninstall(Kind::Algorithm, "brent", false, &lookup)
            .unwrap()
            .unwrap();
        assert_eq!(
            u.removed.len(),
            2,
            "the .py installed and the .R of that name"
        );
        let other = t.path().join("other");
        write(&other, "brent.py", "# another brent");
        write(&base, "algorithms/brent.py", "# by hand");
        let e = install_algorithm(&other.display().to_string(), false, &lookup).unwrap_err();
        assert!(e.to_string().contains("'brent.py' of '"), "{e}");
    }
}
