//! The spool of a packed run, wherever it lives: next to the case
//! directories on this machine's shared filesystem ([`Spool`]), or on a
//! login node ([`RemoteSpool`]). The engine side ([`super::PackQueue`])
//! goes through this one interface.
//!
//! This module only dispatches; the layout is [`super::spool`]'s, the
//! round trips are [`super::remote`]'s.

use super::remote::RemoteSpool;
use super::spool::{CaseFile, Outcome, Spool};
use std::path::{Path, PathBuf};

/// A spool here or on a login node (cheap to clone).
#[derive(Debug, Clone)]
pub enum Store {
    /// On this machine.
    Local(Spool),
    /// On a login node.
    Remote(RemoteSpool),
}

impl Store {
    /// The spool's path where the tasks run.
    pub fn path(&self) -> &Path {
        match self {
            Store::Local(s) => s.dir(),
            Store::Remote(r) => r.path(),
        }
    }

    /// Queues case `id`.
    pub fn put(&self, id: u64, case: &CaseFile) -> Result<(), String> {
        match self {
            Store::Local(s) => s.put(id, case),
            Store::Remote(r) => r.put(id, case),
        }
    }

    /// Brings the view up to date: a no-op locally (every look is a
    /// fresh one), a synchronisation on a login node when due or `now`.
    pub fn refresh(&self, now: bool) {
        if let Store::Remote(r) = self {
            if now {
                let _ = r.sync(&[]);
            } else {
                r.sync_if_due();
            }
        }
    }

    /// Takes these cases back from the queue; returns those taken.
    pub fn withdraw(&self, ids: &[u64]) -> Vec<u64> {
        match self {
            Store::Local(s) => ids.iter().copied().filter(|id| s.withdraw(*id)).collect(),
            Store::Remote(r) => r.withdraw(ids),
        }
    }

    /// The ids waiting in the queue, smallest first.
    pub fn queued(&self) -> Vec<u64> {
        match self {
            Store::Local(s) => s.queued(),
            Store::Remote(r) => r.queued(),
        }
    }

    /// The claimed cases and the task holding each.
    pub fn claimed(&self) -> Vec<(u64, String)> {
        match self {
            Store::Local(s) => s.claimed(),
            Store::Remote(r) => r.claimed(),
        }
    }

    /// The outcomes written since the last call, each with its task.
    pub fn take_outcomes(&self) -> Vec<(u64, Outcome, String)> {
        match self {
            Store::Local(s) => s.take_outcomes(),
            Store::Remote(r) => r.take_outcomes(),
        }
    }

    /// Drops the claim of case `id` by `task` (a task that died).
    pub fn drop_claim(&self, id: u64, task: &str) {
        match self {
            Store::Local(s) => s.drop_claim(id, task),
            Store::Remote(r) => r.drop_claim(id, task),
        }
    }

    /// Tells the workers to take no new case.
    pub fn stop(&self) {
        match self {
            Store::Local(s) => s.stop(),
            Store::Remote(r) => r.stop(),
        }
    }

    /// Writes the task script `pack.sh` into the new directory `name` of
    /// the spool; returns that directory (where the tasks run).
    pub fn write_task(&self, name: &str, script: &str) -> Result<PathBuf, String> {
        match self {
            Store::Local(s) => {
                let dir = s.dir().join(name);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("Could not create {}: {e}", dir.display()))?;
                let path = dir.join("pack.sh");
                std::fs::write(&path, script)
                    .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
                Ok(dir)
            }
            Store::Remote(r) => r.write_task(name, script),
        }
    }

    /// The last lines of the SLURM log of task `index` of the array in
    /// `dir`.
    pub fn log_tail(&self, dir: &Path, index: usize) -> String {
        match self {
            Store::Local(_) => {
                crate::calculators::sh::stderr_tail(&dir.join(format!("{index}.slurm.log")))
            }
            Store::Remote(r) => r.log_tail(dir, index),
        }
    }

    /// Removes the spool (a warning when it fails).
    pub fn remove(&self) {
        match self {
            Store::Local(s) => {
                if let Err(e) = std::fs::remove_dir_all(s.dir()) {
                    crate::log::warn(&format!("Could not remove {}: {e}", s.dir().display()));
                }
            }
            Store::Remote(r) => r.remove(),
        }
    }
}
