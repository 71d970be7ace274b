//! Where a run may put its results: the results (or analysis) directory
//! normalised, and refused when moving it aside would move the user's
//! working directory or input away.
//!
//! This module only checks paths; it creates and moves nothing.

use crate::error::{Error, Result};
use crate::results::display_path;
use std::path::{Component, Path, PathBuf};

/// `path` with `.` dropped and `..` applied to the part before it,
/// without touching the filesystem (`/w/nonexist/..` is `/w`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    out
}

/// Refuses `dir` (absolute, normalised) when it is the current directory
/// or one of its ancestors, or holds `input`: a run moves an existing
/// results directory aside, which would move those away. `flag` names the
/// option that chooses another (`-r`).
pub fn check_results_dir(dir: &Path, cwd: &Path, input: &Path, flag: &str) -> Result<()> {
    let shown = display_path(dir, cwd);
    let refuse = |why: String| {
        Err(Error::Value(format!(
            "results directory '{shown}' {why}; choose another {flag}"
        )))
    };
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| normalize(p));
    let (dir_real, cwd_real, input_real) = (real(dir), real(cwd), real(input));
    if dir_real == cwd_real {
        return refuse("is the current directory".into());
    }
    if cwd_real.starts_with(&dir_real) {
        return refuse("is an ancestor of the current directory".into());
    }
    if input_real.starts_with(&dir_real) {
        return refuse(format!("contains the input '{}'", display_path(input, cwd)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_applies_dots_lexically() {
        assert_eq!(normalize(Path::new("/w/nonexist/..")), Path::new("/w"));
        assert_eq!(normalize(Path::new("/w/./a/../b/")), Path::new("/w/b"));
        assert_eq!(normalize(Path::new("/..")), Path::new("/"));
    }

    #[test]
    fn current_dir_its_ancestors_and_the_inputs_holder_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path().join("work");
        std::fs::create_dir_all(cwd.join("in")).unwrap();
        let input = cwd.join("in/input.txt");
        std::fs::write(&input, "x").unwrap();
        let msg = |dir: &Path| {
            check_results_dir(dir, &cwd, &input, "-r")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            msg(&cwd),
            "results directory '.' is the current directory; choose another -r"
        );
        assert!(msg(d.path()).contains("is an ancestor of the current directory"));
        assert_eq!(
            msg(&cwd.join("in")),
            "results directory 'in' contains the input 'in/input.txt'; choose another -r"
        );
        assert!(check_results_dir(&cwd.join("results"), &cwd, &input, "-r").is_ok());
    }
}
