//! Calculators: where a case runs. One module per URI scheme, all behind
//! the [`Calculator`] trait, so the engine schedules cases without knowing
//! how or where they run.
//!
//! A calculator runs one attempt of one case in a work directory prepared
//! by the engine and reports what happened; it must not decide retries,
//! parse outputs or touch other cases.

pub mod alias;
pub mod check;
pub mod exit_codes;
pub mod funz;
pub mod resolve;
pub mod sh;
pub mod slurm;
pub mod ssh;
pub mod uri;

use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    /// The command exited with status 0.
    Done,
    /// The command exited with a non-zero status or could not start.
    Failed,
    /// The time limit expired; the whole process tree was killed.
    Timeout,
    /// The run was cancelled (Ctrl+C); the process tree was killed.
    Interrupted,
}

impl AttemptStatus {
    /// The status word used in tables (`done`, `failed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Done => "done",
            AttemptStatus::Failed => "failed",
            AttemptStatus::Timeout => "timeout",
            AttemptStatus::Interrupted => "interrupted",
        }
    }
}

/// What one attempt did.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// How it ended.
    pub status: AttemptStatus,
    /// Exit code of the command, when it exited.
    pub exit_code: Option<i32>,
    /// The command as run (without input arguments), passwords redacted.
    pub command: String,
    /// The full command line as run (with input arguments).
    pub command_line: String,
    /// When the command started.
    pub started: SystemTime,
    /// When it ended.
    pub ended: SystemTime,
    /// Why it did not succeed (`None` when done).
    pub error: Option<String>,
    /// Where it ran, when a calculator knows better than this machine's
    /// name (the Funz daemon that took the case); the journal's `host`.
    pub host: Option<String>,
}

/// Cancellation shared by the engine and running attempts: 0 = run,
/// 1 = finish running cases but start no new one, 2 = kill running cases.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicU8>);

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// No new case may start.
    pub fn stop_new(&self) {
        let _ = self
            .0
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst);
    }
    /// Running cases must be killed now.
    pub fn kill_running(&self) {
        self.0.store(2, Ordering::SeqCst);
    }
    /// Whether new cases may still start.
    pub fn may_start(&self) -> bool {
        self.0.load(Ordering::SeqCst) == 0
    }
    /// Whether running cases must be killed.
    pub fn must_kill(&self) -> bool {
        self.0.load(Ordering::SeqCst) >= 2
    }
}

/// What an attempt needs to run one case.
#[derive(Debug)]
pub struct RunRequest<'a> {
    /// The case's work directory (holds the compiled input files).
    pub work_dir: &'a Path,
    /// The input files, relative to `work_dir`, as listed in `.fz_hash`.
    pub input_files: &'a [String],
    /// Directory the user ran fz from (relative paths in commands refer to
    /// it).
    pub launch_dir: &'a Path,
    /// Time limit of this attempt (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Cancellation of the whole run.
    pub cancel: &'a Cancel,
}

/// Something that can run one attempt of one case.
pub trait Calculator: Send + Sync {
    /// The URI as the user wrote it, passwords redacted (for tables/logs).
    fn display_uri(&self) -> &str;
    /// A per-URI time limit (`?timeout=N`), which wins over every other.
    fn uri_timeout(&self) -> Option<Duration> {
        None
    }
    /// How many cases this calculator entry may run at the same time: 1
    /// for most, more for a calculator that hands cases to a batch system
    /// in groups (`slurm://…?array=1`), whose `run()` calls block
    /// concurrently, one per case, while it submits them together. The
    /// engine gives the entry that many slots.
    fn capacity(&self) -> usize {
        1
    }
    /// Runs one attempt; never panics, reports every failure in the result.
    fn run(&self, request: &RunRequest) -> Attempt;
}

/// The calculator a URI names, on its own (an `ssh://` calculator built
/// here gets a connection of its own; use a [`Builder`] to share them).
pub fn build(uri: &str) -> crate::Result<Box<dyn Calculator>> {
    Builder::new().build(uri)
}

/// Builds the calculators of one run, so that those reaching the same
/// remote login share one connection, and `slurm://…?array=1` entries
/// submitting to the same partition share one job-array queue, and
/// `funz://` entries on the same UDP port share one discovery listener.
/// The connections close when the builder and every calculator it built
/// are dropped, i.e. at the end of the run.
#[derive(Debug, Default)]
pub struct Builder {
    ssh: ssh::SessionPool,
    slurm_arrays: slurm::ArrayQueues,
    funz: funz::discovery::Registries,
}

impl Builder {
    /// A builder with no connection yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The calculator a URI names. Schemes fz knows but cannot run yet are
    /// a clear error, never a silent fallback.
    pub fn build(&self, uri: &str) -> crate::Result<Box<dyn Calculator>> {
        let parsed = uri::parse(uri)?;
        match parsed.scheme.as_str() {
            "sh" => Ok(Box::new(sh::ShCalculator::from_uri(&parsed)?)),
            "ssh" => Ok(Box::new(ssh::SshCalculator::from_uri(&parsed, &self.ssh)?)),
            "slurm" => Ok(Box::new(slurm::SlurmCalculator::from_uri(
                &parsed,
                &self.ssh,
                &self.slurm_arrays,
            )?)),
            "funz" => Ok(Box::new(funz::FunzCalculator::from_uri(
                &parsed, &self.funz,
            )?)),
            other => Err(crate::Error::Value(format!(
                "calculator '{}': the '{other}://' scheme is not supported yet",
                uri::redact(uri)
            ))),
        }
    }
}
