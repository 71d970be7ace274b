//! Where the files of a job array live: on this machine (a filesystem the
//! compute nodes share), or on a login node reached through an `ssh://`
//! session (remote array mode).
//!
//! This module owns the submission directory of an array (creating it,
//! writing the wrapper script into it, reading the `.rc` files and SLURM
//! logs the tasks write there, removing it) and, for remote arrays, the
//! round trip of a case directory (upload before the task, fetch back
//! after). Paths handed to SLURM are absolute on the machine where the
//! jobs run. It knows nothing of SLURM commands nor of how a task ended.

use crate::calculators::ssh::session::{RemoteDir, Session, Upload};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The machine whose filesystem holds the array files.
#[derive(Debug, Clone)]
pub enum Place {
    /// This machine.
    Local,
    /// The login node of this session (paths under the remote home).
    Remote(Arc<Session>),
}

/// Prints `<dir number> <task index> <exit code>` for every `<i>.rc` file
/// in the directories given as arguments.
const READ_RCS_SCRIPT: &str = r#"n=0
for d in "$@"; do
  for f in "$d"/*.rc; do
    [ -f "$f" ] || continue
    i=${f##*/}; i=${i%.rc}
    printf '%s %s %s\n' "$n" "$i" "$(cat "$f")"
  done
  n=$((n+1))
done"#;

impl Place {
    /// Whether reading the task files is cheap (a local read, not a round
    /// trip): then they are looked at between two polls too.
    pub fn is_local(&self) -> bool {
        matches!(self, Place::Local)
    }

    /// Creates the submission directory `name` of an array whose first
    /// case runs in `first_case` and writes `script` into it as
    /// `array.sh`; returns the directory (absolute there).
    pub fn create_submission(
        &self,
        first_case: &Path,
        name: &str,
        script: &str,
    ) -> Result<PathBuf, String> {
        match self {
            Place::Local => {
                let parent = first_case.parent().unwrap_or(first_case);
                let dir = parent.join(format!(".{name}"));
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("Could not create {}: {e}", dir.display()))?;
                let path = dir.join("array.sh");
                std::fs::write(&path, script)
                    .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
                Ok(dir)
            }
            Place::Remote(session) => {
                // The script goes up with the same tar transfer as the case
                // files: no size limit of a command line applies.
                let local = tempfile::tempdir()
                    .map_err(|e| format!("Could not create a temporary directory: {e}"))?;
                let path = local.path().join("array.sh");
                std::fs::write(&path, script)
                    .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
                let remote = RemoteDir::unique(name);
                let upload = Upload {
                    dir: local.path(),
                    extra_base: local.path(),
                    extra_files: &[],
                };
                session
                    .upload_dir(&upload, &remote)
                    .map_err(|e| e.to_string())?;
                remote_path(session, &remote)
            }
        }
    }

    /// The exit codes the tasks wrote so far, per directory of `dirs` (task
    /// index → code). A directory that cannot be read gives no code.
    pub fn read_rcs(&self, dirs: &[&Path]) -> Vec<HashMap<usize, i32>> {
        match self {
            Place::Local => dirs
                .iter()
                .map(|d| {
                    std::fs::read_dir(d)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .filter_map(|e| {
                            let name = e.file_name();
                            let i = name.to_str()?.strip_suffix(".rc")?.parse().ok()?;
                            let code = std::fs::read_to_string(e.path()).ok()?;
                            Some((i, code.trim().parse().ok()?))
                        })
                        .collect()
                })
                .collect(),
            Place::Remote(session) => {
                let mut found = vec![HashMap::new(); dirs.len()];
                let args: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = match session.exec(READ_RCS_SCRIPT, &argv, Some(LIMIT), None) {
                    Ok(out) if out.code == 0 => out,
                    Ok(out) => {
                        crate::log::warn(&format!(
                            "Could not read the SLURM task results on {}: {}",
                            session.target().display(),
                            String::from_utf8_lossy(&out.stderr).trim()
                        ));
                        return found;
                    }
                    Err(e) => {
                        crate::log::warn(&e.to_string());
                        return found;
                    }
                };
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    let mut words = line.split_whitespace();
                    let parsed = (|| {
                        let d: usize = words.next()?.parse().ok()?;
                        let i: usize = words.next()?.parse().ok()?;
                        let code: i32 = words.next()?.parse().ok()?;
                        Some((d, i, code))
                    })();
                    if let Some((d, i, code)) = parsed {
                        if let Some(map) = found.get_mut(d) {
                            map.insert(i, code);
                        }
                    }
                }
                found
            }
        }
    }

    /// The last lines of the SLURM log of task `i` in `dir` (empty when
    /// missing).
    pub fn log_tail(&self, dir: &Path, i: usize) -> String {
        let path = dir.join(format!("{i}.slurm.log"));
        match self {
            Place::Local => crate::calculators::sh::stderr_tail(&path),
            Place::Remote(session) => {
                let shown = path.display().to_string();
                match session.exec(r#"tail -n 20 -- "$1""#, &[&shown], Some(LIMIT), None) {
                    Ok(out) if out.code == 0 => {
                        crate::calculators::sh::last_lines(&String::from_utf8_lossy(&out.stdout))
                    }
                    _ => String::new(),
                }
            }
        }
    }

    /// Removes a submission directory (a warning when it fails).
    pub fn remove(&self, dir: &Path) {
        let result = match self {
            Place::Local => std::fs::remove_dir_all(dir).map_err(|e| e.to_string()),
            Place::Remote(session) => {
                let shown = dir.display().to_string();
                match session.exec(r#"rm -rf -- "$1""#, &[&shown], Some(LIMIT), None) {
                    Ok(out) if out.code == 0 => Ok(()),
                    Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        if let Err(e) = result {
            crate::log::warn(&format!("Could not remove {}: {e}", dir.display()));
        }
    }
}

/// The absolute path of `remote` on the login node of `session`.
pub fn remote_path(session: &Session, remote: &RemoteDir) -> Result<PathBuf, String> {
    let home = session.home().map_err(|e| e.to_string())?;
    Ok(Path::new(&home).join(remote.relative()))
}

/// Longest wait for one look at the remote files.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_rc_files_are_read_by_task_index() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0.rc"), "0\n").unwrap();
        std::fs::write(dir.path().join("12.rc"), "143\n").unwrap();
        // A file being written (renamed into place later) does not count.
        std::fs::write(dir.path().join("3.rc.tmp"), "1\n").unwrap();
        std::fs::write(dir.path().join("4.rc"), "").unwrap();
        let missing = dir.path().join("gone");
        let found = Place::Local.read_rcs(&[dir.path(), &missing]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0], HashMap::from([(0, 0), (12, 143)]));
        assert!(found[1].is_empty());
    }

    #[test]
    fn remote_rc_script_lists_dir_index_task_and_code() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("1.rc"), "7\n").unwrap();
        std::fs::write(b.path().join("0.rc"), "0\n").unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(READ_RCS_SCRIPT)
            .arg("fz")
            .arg(a.path())
            .arg(b.path())
            .arg("/nonexistent")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "0 1 7\n1 0 0\n");
    }

    #[test]
    fn local_submission_dir_sits_next_to_the_cases() {
        let dir = tempfile::tempdir().unwrap();
        let case = dir.path().join("x=1");
        let sub = Place::Local
            .create_submission(&case, "fz-a1", "#!/bin/bash\n")
            .unwrap();
        assert_eq!(sub, dir.path().join(".fz-a1"));
        assert_eq!(
            std::fs::read_to_string(sub.join("array.sh")).unwrap(),
            "#!/bin/bash\n"
        );
        Place::Local.remove(&sub);
        assert!(!sub.exists());
    }
}
