//! The queue of a packed run on the shared filesystem: a directory both
//! fz (the engine side) and the `fz worker` loops of the pack tasks use.
//!
//! ```text
//! <spool>/q/<id>.case        a case waiting (JSON: directory, line, deadline)
//! <spool>/run/<id>@<task>    claimed by pack task <job>_<index>
//! <spool>/done/<id>          its outcome: "exit <code> <ms> <task>" or
//!                            "timeout <ms> <task>"
//! <spool>/tmp/               files being written (renamed into place)
//! <spool>/stop               present: take no new case
//! ```
//!
//! Every hand-over is one `rename`, atomic on a POSIX filesystem (NFS
//! included): a worker claims a case by renaming it from `q/` to `run/`,
//! fz withdraws one (Ctrl+C, timeout) by renaming it from `q/` to `tmp/`,
//! and whoever's rename fails lost the race. This module owns the layout
//! and those operations; it runs nothing and knows nothing of SLURM.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One case as queued: run `line` with bash in `dir`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFile {
    /// The case directory (absolute where the tasks run).
    pub dir: PathBuf,
    /// The command line, run with `bash -c`.
    pub line: String,
    /// When the case must be stopped, in milliseconds since the Unix
    /// epoch (`None`: no limit).
    pub deadline_ms: Option<u64>,
}

/// How a case ended, as the worker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The line exited with this code (97: the directory could not be
    /// entered), after `ms` milliseconds.
    Exit {
        /// Exit code (minus the signal number when killed by one).
        code: i32,
        /// Duration of the case.
        ms: u64,
    },
    /// Killed at its deadline after `ms` milliseconds.
    Timeout {
        /// Duration of the case.
        ms: u64,
    },
}

impl Outcome {
    fn to_text(self) -> String {
        match self {
            Outcome::Exit { code, ms } => format!("exit {code} {ms}\n"),
            Outcome::Timeout { ms } => format!("timeout {ms}\n"),
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        let mut words = text.split_whitespace();
        match words.next()? {
            "exit" => Some(Outcome::Exit {
                code: words.next()?.parse().ok()?,
                ms: words.next()?.parse().ok()?,
            }),
            "timeout" => Some(Outcome::Timeout {
                ms: words.next()?.parse().ok()?,
            }),
            _ => None,
        }
    }

    /// How long the case ran.
    pub fn duration(self) -> Duration {
        match self {
            Outcome::Exit { ms, .. } | Outcome::Timeout { ms } => Duration::from_millis(ms),
        }
    }
}

/// Milliseconds since the Unix epoch of `t`.
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A spool directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool at `dir` (not created).
    pub fn at(dir: &Path) -> Spool {
        Spool {
            dir: dir.to_path_buf(),
        }
    }

    /// Creates the spool directories at `dir`.
    pub fn create(dir: &Path) -> Result<Spool, String> {
        for sub in ["q", "run", "done", "tmp"] {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d)
                .map_err(|e| format!("Could not create {}: {e}", d.display()))?;
        }
        Ok(Spool::at(dir))
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sub(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Queues case `id`.
    pub fn put(&self, id: u64, case: &CaseFile) -> Result<(), String> {
        let text = serde_json::to_string(case).map_err(|e| e.to_string())?;
        let tmp = self.sub("tmp").join(format!("{id}.case"));
        std::fs::write(&tmp, text)
            .map_err(|e| format!("Could not write {}: {e}", tmp.display()))?;
        let dest = self.sub("q").join(format!("{id}.case"));
        std::fs::rename(&tmp, &dest).map_err(|e| format!("Could not queue {}: {e}", dest.display()))
    }

    /// Takes case `id` back from the queue; `false` when a worker
    /// claimed it first.
    pub fn withdraw(&self, id: u64) -> bool {
        let from = self.sub("q").join(format!("{id}.case"));
        let to = self.sub("tmp").join(format!("{id}.withdrawn"));
        let taken = std::fs::rename(&from, &to).is_ok();
        if taken {
            let _ = std::fs::remove_file(&to);
        }
        taken
    }

    /// The ids waiting in the queue, smallest first.
    pub fn queued(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = list(&self.sub("q"))
            .filter_map(|n| n.strip_suffix(".case")?.parse().ok())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Claims case `id` for `task` (`<job>_<index>`): its file, or `None`
    /// when another worker or fz took it first.
    pub fn claim(&self, id: u64, task: &str) -> Option<Result<CaseFile, String>> {
        let from = self.sub("q").join(format!("{id}.case"));
        let to = self.claim_path(id, task);
        std::fs::rename(&from, &to).ok()?;
        Some(
            std::fs::read_to_string(&to)
                .map_err(|e| format!("Could not read {}: {e}", to.display()))
                .and_then(|t| {
                    serde_json::from_str(&t).map_err(|e| format!("{}: {e}", to.display()))
                }),
        )
    }

    fn claim_path(&self, id: u64, task: &str) -> PathBuf {
        self.sub("run").join(format!("{id}@{task}"))
    }

    /// The claimed cases and the task holding each.
    pub fn claimed(&self) -> Vec<(u64, String)> {
        list(&self.sub("run"))
            .filter_map(|n| {
                let (id, task) = n.split_once('@')?;
                Some((id.parse().ok()?, task.to_string()))
            })
            .collect()
    }

    /// Records how claimed case `id` ended, then releases the claim.
    pub fn finish(&self, id: u64, task: &str, outcome: Outcome) -> Result<(), String> {
        let tmp = self.sub("tmp").join(format!("{id}@{task}.done"));
        std::fs::write(&tmp, format!("{} {task}\n", outcome.to_text().trim_end()))
            .map_err(|e| format!("Could not write {}: {e}", tmp.display()))?;
        let dest = self.sub("done").join(id.to_string());
        std::fs::rename(&tmp, &dest)
            .map_err(|e| format!("Could not write {}: {e}", dest.display()))?;
        // The outcome is in place first: a claim without an outcome is a
        // case whose task died.
        let _ = std::fs::remove_file(self.claim_path(id, task));
        Ok(())
    }

    /// Takes the outcomes written so far, with the task that ran each
    /// (each is returned once).
    pub fn take_outcomes(&self) -> Vec<(u64, Outcome, String)> {
        let done = self.sub("done");
        list(&done)
            .filter_map(|n| {
                let id: u64 = n.parse().ok()?;
                let path = done.join(&n);
                let text = std::fs::read_to_string(&path).ok()?;
                let (outcome, task) = parse_done(&text)?;
                let _ = std::fs::remove_file(&path);
                Some((id, outcome, task))
            })
            .collect()
    }

    /// Drops the claim of case `id` by `task` (a task that died).
    pub fn drop_claim(&self, id: u64, task: &str) {
        let _ = std::fs::remove_file(self.claim_path(id, task));
    }

    /// Tells the workers to take no new case.
    pub fn stop(&self) {
        let path = self.sub("stop");
        if let Err(e) = std::fs::write(&path, "") {
            crate::log::warn(&format!("Could not write {}: {e}", path.display()));
        }
    }

    /// Whether the workers must take no new case.
    pub fn stopped(&self) -> bool {
        self.sub("stop").exists()
    }
}

/// The outcome and the task of the text of a `done/<id>` file.
pub fn parse_done(text: &str) -> Option<(Outcome, String)> {
    let outcome = Outcome::parse(text)?;
    let task = text.split_whitespace().last().unwrap_or("").to_string();
    Some((outcome, task))
}

/// The file names in `dir` (none when it cannot be read).
fn list(dir: &Path) -> impl Iterator<Item = String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: u64) -> CaseFile {
        CaseFile {
            dir: PathBuf::from(format!("/r/x={n}")),
            line: "bash calc.sh 'a b'".into(),
            deadline_ms: Some(n),
        }
    }

    #[test]
    fn a_case_goes_to_one_claimant_only() {
        let d = tempfile::tempdir().unwrap();
        let s = Spool::create(d.path()).unwrap();
        s.put(2, &case(2)).unwrap();
        s.put(10, &case(10)).unwrap();
        s.put(1, &case(1)).unwrap();
        assert_eq!(s.queued(), vec![1, 2, 10]);
        assert_eq!(s.claim(1, "7_0").unwrap().unwrap(), case(1));
        assert!(s.claim(1, "7_1").is_none(), "already claimed");
        assert!(s.withdraw(2));
        assert!(s.claim(2, "7_1").is_none(), "withdrawn");
        assert!(!s.withdraw(1), "claimed: cannot be withdrawn");
        assert_eq!(s.queued(), vec![10]);
        assert_eq!(s.claimed(), vec![(1, "7_0".to_string())]);
        s.finish(1, "7_0", Outcome::Exit { code: 3, ms: 12 })
            .unwrap();
        assert!(s.claimed().is_empty());
        assert_eq!(
            s.take_outcomes(),
            vec![(1, Outcome::Exit { code: 3, ms: 12 }, "7_0".to_string())]
        );
        assert!(s.take_outcomes().is_empty(), "each outcome once");
        assert!(!s.stopped());
        s.stop();
        assert!(s.stopped());
    }

    #[test]
    fn outcomes_round_trip() {
        for o in [
            Outcome::Exit { code: -9, ms: 0 },
            Outcome::Timeout { ms: 1500 },
        ] {
            assert_eq!(Outcome::parse(&o.to_text()), Some(o));
        }
        assert_eq!(Outcome::parse("exit x 1"), None);
        assert_eq!(Outcome::Timeout { ms: 1500 }.duration().as_millis(), 1500);
    }
}
