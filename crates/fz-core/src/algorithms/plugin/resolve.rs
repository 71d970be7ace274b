//! What `-a <algorithm>` names (design-of-experiments §5.1): a plugin file
//! of `./.fz/algorithms/` or `~/.fz/algorithms/` (a name or a glob), else a
//! built-in, else a file path relative to the working directory.
//!
//! This module only looks at the file system; it starts nothing and reads
//! no file content (see [`super::header`] and [`super::host`]).

use crate::algorithms::builtin::{BuiltinInfo, BUILTINS};
use crate::calculators::alias::{self, is_glob, Scope};
use crate::error::{Error, Result};
use crate::model::Lookup;
use std::path::{Path, PathBuf};

/// The language of a plugin file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `.py`, hosted by Python.
    Python,
    /// `.R`, hosted by `Rscript`.
    R,
}

impl Language {
    /// The language of `path`: `.py` or `.R`, else `None`.
    pub fn of(path: &Path) -> Option<Language> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("py") => Some(Language::Python),
            Some("R") => Some(Language::R),
            _ => None,
        }
    }

    /// `python` or `R`, as listings show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::R => "R",
        }
    }

    /// The extensions tried for a plugin name, in order.
    const EXTENSIONS: [&'static str; 2] = ["py", "R"];
}

/// An algorithm file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFile {
    /// The file name without extension (the module name in Python).
    pub name: String,
    /// The file, absolute when the working directory is.
    pub path: PathBuf,
    /// Where it was found: project or home `.fz/algorithms/`; `None` for a
    /// file given by path.
    pub scope: Option<Scope>,
    /// Python or R.
    pub language: Language,
}

/// What an algorithm argument means.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// A plugin file (found by name in `.fz/algorithms/`, or by path).
    Plugin(PluginFile),
    /// A native built-in of [`BUILTINS`].
    Builtin(&'static BuiltinInfo),
}

impl PartialEq for Resolution {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Resolution::Plugin(a), Resolution::Plugin(b)) => a == b,
            (Resolution::Builtin(a), Resolution::Builtin(b)) => a.name == b.name,
            _ => false,
        }
    }
}

/// Whether `spec` is looked up as a plugin name (or glob) before being
/// taken as a path: no path separator and no `.py` / `.R` extension.
pub fn is_plugin_name(spec: &str) -> bool {
    !spec.contains(['/', '\\']) && !spec.ends_with(".py") && !spec.ends_with(".R")
}

/// What `spec` means, in order: a plugin file in the project's
/// `.fz/algorithms/`, then the home one (`<name>.py` before `<name>.R`; a
/// glob takes the first match by name), then a built-in, then a path
/// relative to `lookup.cwd`. The error is one line: a missing file (with
/// where a plugin of that name would be), a directory, or an extension
/// other than `.py` / `.R`.
pub fn resolve(spec: &str, lookup: &Lookup) -> Result<Resolution> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err(Error::Value(
            "algorithm: no name given (a plugin name, a built-in or a .py/.R file)".into(),
        ));
    }
    let by_name = is_plugin_name(spec);
    if by_name {
        if let Some(file) = find_plugin(spec, lookup) {
            return Ok(Resolution::Plugin(file));
        }
        if let Some(builtin) = BUILTINS.iter().find(|b| b.name == spec) {
            return Ok(Resolution::Builtin(builtin));
        }
    }
    let path = lookup.cwd.join(spec);
    if path.is_dir() {
        return Err(Error::Value(format!(
            "Algorithm path is a directory, not a file: {}",
            path.display()
        )));
    }
    if !path.exists() {
        return Err(not_found(spec, &path, by_name));
    }
    let Some(language) = Language::of(&path) else {
        return Err(Error::Value(format!(
            "Algorithm file must be a Python (.py) or R (.R) file: {}",
            path.display()
        )));
    };
    Ok(Resolution::Plugin(PluginFile {
        name: stem(&path),
        path,
        scope: None,
        language,
    }))
}

/// The error for a file that does not exist, with the plugin locations
/// and the built-ins when `spec` could have been a plugin name.
fn not_found(spec: &str, path: &Path, by_name: bool) -> Error {
    let mut msg = format!("Algorithm file not found: {}", path.display());
    if by_name {
        let builtins: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        let builtins = if builtins.is_empty() {
            "there is no built-in of that name".to_string()
        } else {
            format!("it is not a built-in ({})", builtins.join(", "))
        };
        msg.push_str(&format!(
            ". Plugin '{spec}' not found: looked for .fz/algorithms/{spec}.py (or .R) in the \
             project and ~/.fz/algorithms/{spec}.py (or .R) globally, and {builtins}"
        ));
    }
    Error::Value(msg)
}

/// The first plugin file for `name` (a name or a glob over names):
/// project directory first, `.py` before `.R`.
fn find_plugin(name: &str, lookup: &Lookup) -> Option<PluginFile> {
    for (dir, scope) in alias::dirs(lookup, "algorithms") {
        for ext in Language::EXTENSIONS {
            let found = if is_glob(name) {
                files_in(&dir, scope)
                    .into_iter()
                    .find(|f| f.path.extension().is_some_and(|e| e == ext) && glob_match(name, f))
            } else {
                let path = dir.join(format!("{name}.{ext}"));
                path.is_file().then(|| PluginFile {
                    name: name.to_string(),
                    language: Language::of(&path).unwrap_or(Language::Python),
                    path,
                    scope: Some(scope),
                })
            };
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// Every plugin file whose name matches the glob `pattern`, as `-a <name>`
/// would find it: project files first, then home files of other names, by
/// name; of a `.py` and a `.R` of the same name only the `.py` (the one
/// resolution picks). Missing directories are empty.
pub fn discover(lookup: &Lookup, pattern: &str) -> Vec<PluginFile> {
    let mut out: Vec<PluginFile> = Vec::new();
    for (dir, scope) in alias::dirs(lookup, "algorithms") {
        for f in files_in(&dir, scope) {
            if glob_match(pattern, &f) && !out.iter().any(|o| o.name == f.name) {
                out.push(f);
            }
        }
    }
    out
}

/// Whether the name of `f` matches `pattern` (a plain name matches itself;
/// an invalid glob is taken literally).
fn glob_match(pattern: &str, f: &PluginFile) -> bool {
    match glob::Pattern::new(pattern) {
        Ok(p) => p.matches(&f.name),
        Err(_) => f.name == pattern,
    }
}

/// The `.py` and `.R` files of `dir`, by name, `.py` first for a name.
fn files_in(dir: &Path, scope: Scope) -> Vec<PluginFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PluginFile> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter_map(|path| {
            let language = Language::of(&path)?;
            Some(PluginFile {
                name: stem(&path),
                path,
                scope: Some(scope),
                language,
            })
        })
        .collect();
    files.sort_by(|a, b| {
        (a.name.as_str(), a.language != Language::Python)
            .cmp(&(b.name.as_str(), b.language != Language::Python))
    });
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dirs {
        _project: tempfile::TempDir,
        _home: tempfile::TempDir,
        lookup: Lookup,
    }

    impl Dirs {
        fn new() -> Dirs {
            let project = tempfile::tempdir().unwrap();
            let home = tempfile::tempdir().unwrap();
            let lookup = Lookup {
                cwd: project.path().to_path_buf(),
                home: Some(home.path().to_path_buf()),
            };
            Dirs {
                _project: project,
                _home: home,
                lookup,
            }
        }

        fn write(&self, home: bool, rel: &str) -> PathBuf {
            let root = if home {
                self.lookup.home.clone().unwrap()
            } else {
                self.lookup.cwd.clone()
            };
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "# algorithm\n").unwrap();
            p
        }

        fn plugin(&self, spec: &str) -> PluginFile {
            match resolve(spec, &self.lookup) {
                Ok(Resolution::Plugin(f)) => f,
                other => panic!("{spec}: {other:?}"),
            }
        }

        fn error(&self, spec: &str) -> String {
            match resolve(spec, &self.lookup) {
                Err(e) => e.to_string(),
                Ok(r) => panic!("{spec}: resolved to {r:?}"),
            }
        }
    }

    #[test]
    fn project_before_home_and_py_before_r() {
        let d = Dirs::new();
        let home_py = d.write(true, ".fz/algorithms/algo.py");
        assert_eq!(d.plugin("algo").path, home_py);
        assert_eq!(d.plugin("algo").scope, Some(Scope::Home));
        let project_r = d.write(false, ".fz/algorithms/algo.R");
        let f = d.plugin("algo");
        assert_eq!(
            (f.path, f.scope, f.language),
            (project_r, Some(Scope::Project), Language::R)
        );
        let project_py = d.write(false, ".fz/algorithms/algo.py");
        assert_eq!(d.plugin("algo").path, project_py);
        assert_eq!(d.plugin("algo").name, "algo");
    }

    #[test]
    fn globs_take_the_first_name_in_order() {
        let d = Dirs::new();
        d.write(false, ".fz/algorithms/zeta_opt.py");
        let alpha = d.write(false, ".fz/algorithms/alpha_opt.py");
        d.write(true, ".fz/algorithms/aaa_opt.py");
        let f = d.plugin("*_opt");
        assert_eq!((f.path, f.name.as_str()), (alpha, "alpha_opt"));
        assert!(d.error("xyz*").contains("not found"));
    }

    #[test]
    fn paths_relative_to_cwd_and_their_errors() {
        let d = Dirs::new();
        let p = d.write(false, "algos/mine.py");
        let f = d.plugin("algos/mine.py");
        assert_eq!(
            (f.path, f.scope, f.name.as_str()),
            (p.clone(), None, "mine")
        );
        assert_eq!(d.plugin(&p.display().to_string()).path, p);
        let txt = d.write(false, "algos/notes.txt");
        assert_eq!(
            d.error("algos/notes.txt"),
            format!(
                "Algorithm file must be a Python (.py) or R (.R) file: {}",
                txt.display()
            )
        );
        assert_eq!(
            d.error("algos"),
            format!(
                "Algorithm path is a directory, not a file: {}",
                d.lookup.cwd.join("algos").display()
            )
        );
        assert_eq!(
            d.error("nothere.R"),
            format!(
                "Algorithm file not found: {}",
                d.lookup.cwd.join("nothere.R").display()
            )
        );
    }

    #[test]
    fn a_missing_plugin_name_says_where_it_was_looked_for() {
        let d = Dirs::new();
        let e = d.error("nonexistent");
        assert!(!e.contains('\n'), "{e}");
        assert!(
            e.starts_with(&format!(
                "Algorithm file not found: {}. Plugin 'nonexistent' not found",
                d.lookup.cwd.join("nonexistent").display()
            )),
            "{e}"
        );
        assert!(e.contains(" .fz/algorithms/nonexistent.py"), "{e}");
        assert!(e.contains("~/.fz/algorithms/nonexistent.py"), "{e}");
    }

    #[test]
    fn a_plugin_file_shadows_a_builtin_name() {
        let d = Dirs::new();
        if let Some(b) = BUILTINS.first() {
            assert_eq!(
                resolve(b.name, &d.lookup).ok(),
                Some(Resolution::Builtin(b))
            );
        }
        let name = BUILTINS.first().map_or("randomsampling", |b| b.name);
        let p = d.write(false, &format!(".fz/algorithms/{name}.py"));
        assert_eq!(d.plugin(name).path, p);
    }

    #[test]
    fn discovery_lists_what_resolution_would_pick() {
        let d = Dirs::new();
        d.write(false, ".fz/algorithms/b.py");
        d.write(false, ".fz/algorithms/b.R");
        d.write(false, ".fz/algorithms/a.R");
        d.write(false, ".fz/algorithms/notes.txt");
        d.write(true, ".fz/algorithms/b.py");
        d.write(true, ".fz/algorithms/c.py");
        let found: Vec<(String, Option<Scope>, Language)> = discover(&d.lookup, "*")
            .into_iter()
            .map(|f| (f.name, f.scope, f.language))
            .collect();
        assert_eq!(
            found,
            [
                ("a".to_string(), Some(Scope::Project), Language::R),
                ("b".to_string(), Some(Scope::Project), Language::Python),
                ("c".to_string(), Some(Scope::Home), Language::Python),
            ]
        );
        assert_eq!(discover(&d.lookup, "c").len(), 1);
        assert!(discover(&d.lookup, "z*").is_empty());
    }
}
