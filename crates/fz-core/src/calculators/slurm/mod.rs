//! `slurm://` – runs cases through the SLURM workload manager.
//!
//! `slurm://[user[:password]@host[:port]]:partition/script[?query]`
//! (grammar in [`target`]). Three modes:
//!
//! * **srun mode** (default, as upstream): one blocking
//!   `srun --partition=P --job-name=<unique> [options] <script> <inputs…>`
//!   per case, run in the case directory like an `sh://` command ([`srun`]).
//!   With a host, the case goes through the `ssh://` machinery (upload,
//!   run in a remote directory, fetch back) with that srun line as the
//!   command.
//! * **array mode** (`?array=1`, beyond upstream): the cases handed to
//!   the calculator within a short window become one `sbatch --array` job
//!   ([`array`](mod@array)); the calculator's [`capacity`](Calculator::capacity) lets
//!   the engine hand it many cases at once, each `run()` blocking until
//!   its task ends. With a host, each case directory is first sent to
//!   `~/.fz/tmp/` on the login node (which the compute nodes must share,
//!   as they share a local launch directory), the array is submitted
//!   there, and the directory is fetched back when its task ends
//!   ([`place`]). These transfers are grouped: the case directories
//!   waiting to go up while another upload is in flight go together in
//!   the next one, in one ssh command, and likewise those coming back
//!   (see [`Session::upload_dir_batched`](super::ssh::session::Session::upload_dir_batched)).
//! * **packed mode** (`?pack=auto|N`, beyond upstream): a few array tasks
//!   each run the `fz worker` loop over a queue of cases ([`pack`]); with
//!   a host, the queue is on the login node and the case directories go
//!   there and back as in remote array mode.
//!
//! Every attempt has a unique job name `fz-<pid>-<kind><n>-<hex>`, so a
//! timeout or Ctrl+C `scancel`s exactly the jobs of this run. The SLURM
//! client commands run through a [`host::CommandHost`] (this machine or an
//! SSH login). This module owns the choice of mode, the job names, and
//! turning a task's end into an [`Attempt`] with its `log.txt`; it must not
//! decide retries nor parse outputs.

pub mod array;
pub mod classify;
pub mod host;
pub mod pack;
pub mod place;
pub mod scheduler;
pub mod srun;
pub mod target;

use super::exit_codes::OkExit;
use super::sh::{format_seconds, shell_quote, stderr_tail, RunLog};
use super::ssh::{SessionPool, SshCalculator};
use super::uri::CalculatorUri;
use super::{Attempt, AttemptStatus, Calculator, RunRequest};
use crate::{Error, Result};
use array::{ArrayQueue, TaskEnd};
use host::{CommandHost, LocalHost, RemoteHost};
use pack::PackQueue;
use place::Place;
use scheduler::Slurm;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use target::SlurmTarget;

/// Default time between SIGTERM and SIGKILL when srun is stopped.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The array queues of one run: `?array=1` entries with the same
/// partition and SLURM options share one queue (their cases go into the
/// same arrays, each task running its own entry's script), and each entry
/// adds one concurrent task to those arrays (`%K`).
#[derive(Debug, Default)]
pub struct ArrayQueues {
    queues: Mutex<HashMap<String, Arc<ArrayQueue>>>,
    packs: Mutex<HashMap<String, Arc<PackQueue>>>,
}

impl ArrayQueues {
    fn get(&self, key: &str, make: impl FnOnce() -> ArrayQueue) -> Arc<ArrayQueue> {
        let mut map = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let q = map
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(make()));
        q.add_entry();
        q.clone()
    }

    fn get_pack(&self, key: &str, make: impl FnOnce() -> PackQueue) -> Arc<PackQueue> {
        let mut map = self.packs.lock().unwrap_or_else(|p| p.into_inner());
        let q = map
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(make()));
        q.add_entry();
        q.clone()
    }
}

/// How cases reach SLURM.
#[derive(Debug, Clone)]
enum Mode {
    /// One srun per case, on this machine.
    LocalSrun,
    /// One srun per case on a login node, through ssh.
    RemoteSrun(Arc<super::ssh::session::Session>),
    /// Cases grouped into job arrays; with a session, submitted on that
    /// login node, each case directory sent there and fetched back.
    Array {
        queue: Arc<ArrayQueue>,
        session: Option<Arc<super::ssh::session::Session>>,
    },
    /// Cases queued in a spool, run by pack tasks; with a session, the
    /// spool is on that login node, each case directory sent there and
    /// fetched back.
    Packed {
        queue: Arc<PackQueue>,
        session: Option<Arc<super::ssh::session::Session>>,
    },
}

/// The queue a batch-mode case goes through.
#[derive(Clone, Copy)]
enum Queue<'a> {
    Array(&'a Arc<ArrayQueue>),
    Pack(&'a Arc<PackQueue>),
}

impl Queue<'_> {
    /// Queues the case of `dir` (a path where the tasks run) and waits
    /// for its end; returns it and the task that ran it.
    fn run(
        self,
        dir: &std::path::Path,
        line: &str,
        timeout: Option<Duration>,
        cancel: &super::Cancel,
    ) -> (TaskEnd, String) {
        match self {
            Queue::Array(q) => q.run(dir, line, timeout, cancel),
            Queue::Pack(q) => q.run(dir, line, timeout, cancel),
        }
    }
}

/// A `slurm://` calculator.
#[derive(Debug, Clone)]
pub struct SlurmCalculator {
    display: String,
    target: SlurmTarget,
    timeout: Option<Duration>,
    /// `?ok_exit=`: the exit codes of the script that count as success.
    ok_exit: OkExit,
    mode: Mode,
    host: Arc<dyn CommandHost>,
    /// Time between SIGTERM and SIGKILL when srun is stopped.
    pub grace: Duration,
}

impl SlurmCalculator {
    /// Builds the calculator from a parsed `slurm://` URI, taking SSH
    /// sessions from `pool` and array queues from `queues` (both shared by
    /// the calculators of one run).
    ///
    /// Errors ([`Error::Value`], naming the redacted URI): another scheme,
    /// a malformed URI (see [`SlurmTarget::parse`]), a bad `ok_exit` list.
    pub fn from_uri(uri: &CalculatorUri, pool: &SessionPool, queues: &ArrayQueues) -> Result<Self> {
        if uri.scheme != "slurm" {
            return Err(Error::Value(format!(
                "Not a slurm:// calculator URI: '{}'",
                uri.display
            )));
        }
        let default_user = std::env::var("SSH_USER").ok();
        let target = SlurmTarget::parse(uri, default_user.as_deref())?;
        let ok_exit = OkExit::from_uri(uri)?;
        let (host, remote): (Arc<dyn CommandHost>, _) = match &target.login {
            None => (Arc::new(LocalHost), None),
            Some(login) => {
                if login.password.is_some() {
                    crate::log::warn(&format!(
                        "SSH password given in the calculator URI for {}: prefer keys or an agent",
                        login.display()
                    ));
                }
                let session = pool.get(login);
                (Arc::new(RemoteHost(session.clone())), Some(session))
            }
        };
        let mode = match (target.array, remote) {
            (true, session) if target.pack.is_some() => {
                let size = target.pack.unwrap_or(pack::PackSize::Auto);
                let key = format!(
                    "{}|{}|{}|{:?}|{}",
                    target
                        .login
                        .as_ref()
                        .map(|l| l.display())
                        .unwrap_or_default(),
                    target.partition,
                    target.options.join(" "),
                    size,
                    target.keep
                );
                let scheduler = Arc::new(Slurm::new(host.clone(), scheduler_user(&target)));
                let queue = queues.get_pack(&key, || {
                    PackQueue::new(
                        scheduler,
                        &target.partition,
                        &target.options,
                        size,
                        target.keep,
                        session.clone(),
                    )
                });
                Mode::Packed { queue, session }
            }
            (true, session) => {
                // The timeout is per case, not per queue: it is left out
                // of the key.
                let key = format!(
                    "{}|{}|{}|{}",
                    target
                        .login
                        .as_ref()
                        .map(|l| l.display())
                        .unwrap_or_default(),
                    target.partition,
                    target.options.join(" "),
                    target.keep
                );
                let place = match &session {
                    Some(s) => Place::Remote(s.clone()),
                    None => Place::Local,
                };
                let scheduler = Arc::new(Slurm::new(host.clone(), scheduler_user(&target)));
                let queue = queues.get(&key, || {
                    ArrayQueue::new(
                        scheduler,
                        place,
                        &target.partition,
                        &target.options,
                        target.keep,
                    )
                });
                Mode::Array { queue, session }
            }
            (false, Some(session)) => Mode::RemoteSrun(session),
            (false, None) => Mode::LocalSrun,
        };
        Ok(SlurmCalculator {
            display: uri.display.clone(),
            target,
            timeout: uri.timeout,
            ok_exit,
            mode,
            host,
            grace: DEFAULT_GRACE,
        })
    }

    /// The same calculator with another SIGTERM→SIGKILL grace period.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// What the URI says (login, partition, script, options).
    pub fn target(&self) -> &SlurmTarget {
        &self.target
    }

    /// The script as run: in local mode, with its relative paths that
    /// name files of the launch directory made absolute (as `sh://` does,
    /// since the case runs in a directory of its own); in remote mode as
    /// written (the ssh machinery sends the local files it names).
    pub fn script_for(&self, launch_dir: &std::path::Path) -> String {
        if self.target.login.is_some() {
            self.target.script.clone()
        } else {
            super::sh::absolutize_paths(&self.target.script, launch_dir)
        }
    }

    /// `srun --partition=P [options] <script>`: the command of every
    /// attempt, without job name and input files.
    pub fn srun_command(&self, script: &str) -> String {
        let mut line = format!("srun --partition={}", self.target.partition);
        for o in &self.target.options {
            line.push(' ');
            line.push_str(&shell_quote(o));
        }
        line.push(' ');
        line.push_str(script);
        line
    }
}

impl Calculator for SlurmCalculator {
    fn display_uri(&self) -> &str {
        &self.display
    }

    fn uri_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    fn capacity(&self) -> usize {
        match self.mode {
            Mode::Array { .. } => array::MAX_TASKS,
            Mode::Packed { .. } => pack::CAPACITY,
            _ => 1,
        }
    }

    /// Runs one case through SLURM (see the module documentation).
    /// Outcomes: exit 0 (or a code listed by `?ok_exit=`) → `Done`; a non-zero exit, a job killed by SLURM
    /// (time limit, node failure, memory, cancellation) or refused (bad
    /// partition…) → `Failed` with a one-line reason; the case's time
    /// limit → `Timeout` (the job is cancelled); Ctrl+C → `Interrupted`
    /// (the job is cancelled).
    fn run(&self, request: &RunRequest) -> Attempt {
        match &self.mode {
            Mode::LocalSrun => srun::run_local(self, request),
            Mode::RemoteSrun(session) => self.run_remote(session, request),
            Mode::Array { queue, session } => {
                self.run_array(Queue::Array(queue), session.as_ref(), request)
            }
            Mode::Packed { queue, session } => {
                self.run_array(Queue::Pack(queue), session.as_ref(), request)
            }
        }
    }
}

impl SlurmCalculator {
    /// Array and packed modes: queue the case (sent to the login node
    /// first in remote array mode), wait for its task, report.
    fn run_array(
        &self,
        queue: Queue<'_>,
        session: Option<&Arc<super::ssh::session::Session>>,
        request: &RunRequest,
    ) -> Attempt {
        let script = self.script_for(request.launch_dir);
        let mut line = script.clone();
        if request.input_files.is_empty() {
            line.push_str(" .");
        }
        for f in request.input_files {
            line.push(' ');
            line.push_str(&shell_quote(f));
        }
        let partition = &self.target.partition;
        let command = format!(
            "sbatch --array --partition={partition}{} {}",
            self.target
                .options
                .iter()
                .map(|o| format!(" {o}"))
                .collect::<String>(),
            script
        );
        let started = SystemTime::now();
        let clock = Instant::now();
        let mut fetch_error = None;
        let mut remote_dir = None;
        let (end, task_id) = if request.cancel.must_kill() {
            (TaskEnd::Interrupted, String::new())
        } else {
            match session {
                Some(session) => {
                    let task = self.run_array_remote(session, queue, request, &line);
                    fetch_error = task.fetched.err();
                    remote_dir = Some(task.remote);
                    (task.end, task.id)
                }
                None => queue.run(request.work_dir, &line, request.timeout, request.cancel),
            }
        };
        let ended = SystemTime::now();
        let (status, exit_code, error) = match &end {
            TaskEnd::Exited(97) if !request.work_dir.join("err.txt").exists() => (
                AttemptStatus::Failed,
                Some(97),
                Some(format!(
                    "SLURM array task {task_id} could not enter the case directory {} \
                     (is it on a filesystem shared with the compute node?)",
                    request.work_dir.display()
                )),
            ),
            TaskEnd::Exited(code) if self.ok_exit.accepts(*code) => {
                (AttemptStatus::Done, Some(*code), None)
            }
            TaskEnd::Exited(code) => {
                let stderr = stderr_tail(&request.work_dir.join("err.txt"));
                let msg = classify::failure(&stderr, *code, None, partition, &script);
                (AttemptStatus::Failed, Some(*code), Some(msg))
            }
            TaskEnd::Killed { state, log } => {
                let msg = classify::state_message(state, partition).unwrap_or_else(|| {
                    let state = if state.is_empty() {
                        "unknown"
                    } else {
                        state.as_str()
                    };
                    format!(
                        "SLURM array task {task_id} ended without an exit code (state {state}) \
                         on partition '{partition}'"
                    )
                });
                (
                    AttemptStatus::Failed,
                    None,
                    Some(super::sh::with_stderr(
                        format!("{msg}."),
                        &classify::without_notes(log),
                    )),
                )
            }
            TaskEnd::TimedOut => (
                AttemptStatus::Timeout,
                None,
                Some(format!(
                    "SLURM job timed out after {} seconds on partition '{partition}'",
                    format_seconds(request.timeout.unwrap_or_default())
                )),
            ),
            TaskEnd::Interrupted => (
                AttemptStatus::Interrupted,
                None,
                Some(if task_id.is_empty() {
                    "Execution interrupted by user".to_string()
                } else {
                    "Calculation interrupted by user".to_string()
                }),
            ),
            TaskEnd::NotSubmitted(msg) => (AttemptStatus::Failed, None, Some(msg.clone())),
            TaskEnd::Unreachable(msg) => (
                AttemptStatus::Failed,
                None,
                Some(format!(
                    "Lost contact with SLURM for {} s ({msg}); array task {task_id} may still \
                     be queued or running",
                    array::UNREACHABLE_AFTER.as_secs()
                )),
            ),
        };
        // A task that succeeded but whose results could not be fetched
        // back failed.
        let (status, error) = match fetch_error {
            Some(e) if status == AttemptStatus::Done => (AttemptStatus::Failed, Some(e)),
            _ => (status, error),
        };
        let mut extra = vec![
            ("SLURM partition", partition.clone()),
            (
                "SLURM array task",
                if task_id.is_empty() {
                    "None".to_string()
                } else {
                    task_id.clone()
                },
            ),
        ];
        if let Some(remote) = remote_dir {
            extra.push(("Remote directory", remote));
        }
        let attempt = Attempt {
            status,
            exit_code,
            command,
            command_line: line,
            started,
            ended,
            error,
            host: None,
        };
        RunLog::of(&attempt, request, clock.elapsed(), &extra).store();
        attempt
    }

    /// Remote array or packed mode, one case: send the case directory
    /// (and the local files the script names) to a fresh directory on the
    /// login node, queue it there, then fetch the directory back (not
    /// after Ctrl+C) and remove it unless `keep` or DEBUG. Both transfers
    /// are grouped with those of the other cases waiting at the same time
    /// (one ssh command each way per group, not per case).
    fn run_array_remote(
        &self,
        session: &Arc<super::ssh::session::Session>,
        queue: Queue<'_>,
        request: &RunRequest,
        line: &str,
    ) -> RemoteTask {
        use super::ssh::session::{RemoteDir, Upload};
        let remote = RemoteDir::for_case(request.work_dir);
        let shown = format!("{}:{}", session.target().display(), remote.display());
        let not_sent = |msg: String| RemoteTask {
            end: TaskEnd::NotSubmitted(msg),
            id: String::new(),
            fetched: Ok(()),
            remote: shown.clone(),
        };
        if let Err(e) = session.connect(request.timeout) {
            return not_sent(e.to_string());
        }
        let scripts = super::ssh::files_to_send(&self.target.script, request);
        let upload = Upload {
            dir: request.work_dir,
            extra_base: request.launch_dir,
            extra_files: &scripts,
        };
        let sent = session
            .upload_dir_batched(&upload, &remote)
            .map_err(|e| e.to_string())
            .and_then(|()| place::remote_path(session, &remote));
        let path = match sent {
            Ok(path) => path,
            Err(msg) => {
                let _ = session.remove_dir_batched(&remote);
                return not_sent(msg);
            }
        };
        let (end, id) = queue.run(&path, line, request.timeout, request.cancel);
        // out.txt and err.txt were written there: fetched too.
        let mut exclude = vec!["log.txt".to_string()];
        exclude.extend(scripts);
        let fetched = super::ssh::bring_back(
            session,
            &remote,
            request.work_dir,
            &exclude,
            end == TaskEnd::Interrupted,
            self.target.keep,
            true,
        );
        RemoteTask {
            end,
            id,
            fetched,
            remote: shown,
        }
    }

    /// srun mode through ssh: the `ssh://` calculator runs the srun line
    /// in a fresh remote directory (upload, run, fetch back, clean up);
    /// then a stopped job is `scancel`led through the same session and a
    /// failure is worded with the SLURM rules (`sacct` asked over the same
    /// connection).
    fn run_remote(
        &self,
        session: &Arc<super::ssh::session::Session>,
        request: &RunRequest,
    ) -> Attempt {
        let job_name = job_name("s");
        let script = self.script_for(request.launch_dir);
        let command = srun::srun_line(self, &script, &job_name, &[]);
        // srun_line ends with " ." for no input: the ssh calculator appends
        // the inputs itself.
        let command = command.strip_suffix(" .").unwrap_or(&command).to_string();
        let ssh = SshCalculator::for_command(
            session.clone(),
            &self.display,
            &command,
            self.target.keep,
            self.ok_exit.clone(),
        )
        .with_grace(self.grace);
        let mut attempt = ssh.run(request);
        let partition = &self.target.partition;
        match attempt.status {
            AttemptStatus::Timeout => {
                srun::cancel_by_name(self.host.as_ref(), &job_name);
                attempt.error = Some(format!(
                    "SLURM job timed out after {} seconds on partition '{partition}'",
                    format_seconds(request.timeout.unwrap_or_default())
                ));
            }
            AttemptStatus::Interrupted => srun::cancel_by_name(self.host.as_ref(), &job_name),
            AttemptStatus::Failed => {
                if let Some(code) = attempt.exit_code {
                    let stderr = stderr_tail(&request.work_dir.join("err.txt"));
                    let state = srun::job_state(self.host.as_ref(), &job_name);
                    attempt.error = Some(classify::failure(
                        &stderr,
                        code,
                        state.as_deref(),
                        partition,
                        &self.target.script,
                    ));
                } else if let Some(e) = &attempt.error {
                    attempt.error = Some(format!("Remote SLURM calculation failed: {e}"));
                }
            }
            AttemptStatus::Done => {}
        }
        attempt.command = self.srun_command(&script);
        if request.work_dir.is_dir() {
            // The ssh log plus the SLURM facts.
            use std::io::Write;
            let path = request.work_dir.join("log.txt");
            let appended = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| {
                    writeln!(
                        f,
                        "SLURM partition: {partition}\nSLURM job name: {job_name}"
                    )
                });
            if let Err(e) = appended {
                crate::log::warn(&format!("Could not write {}: {e}", path.display()));
            }
        }
        attempt
    }
}

/// How the task of a case sent to a login node went.
struct RemoteTask {
    end: TaskEnd,
    /// The SLURM task id (empty when never submitted).
    id: String,
    /// Whether the case directory came back.
    fetched: std::result::Result<(), String>,
    /// `user@host:port:~/.fz/tmp/…`, for `log.txt`.
    remote: String,
}

/// The user whose SLURM association limits apply: the login's user in
/// remote mode, `USER` locally.
fn scheduler_user(target: &SlurmTarget) -> Option<String> {
    match &target.login {
        Some(login) => login.user.clone(),
        None => std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok(),
    }
}

/// A job name no other attempt uses: `fz-<pid>-<kind><n>-<4 hex>` (the
/// process id lets a test or an admin find the jobs of one fz run; the
/// hex part tells apart runs on different machines with the same pid).
pub fn job_name(kind: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("fz-{}-{kind}{n}-{:04x}", std::process::id(), nanos & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calc(uri: &str) -> Result<SlurmCalculator> {
        SlurmCalculator::from_uri(
            &CalculatorUri::parse(uri)?,
            &SessionPool::new(),
            &ArrayQueues::default(),
        )
    }

    #[test]
    fn modes_and_lines() {
        let c = calc("slurm://:debug/bash calc.sh?mem=1G&timeout=3").unwrap();
        assert!(matches!(c.mode, Mode::LocalSrun));
        assert_eq!(c.capacity(), 1);
        assert_eq!(c.uri_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(
            c.srun_command("bash calc.sh"),
            "srun --partition=debug --mem=1G bash calc.sh"
        );
        let line = srun::srun_line(
            &c,
            "bash calc.sh",
            "fz-1-s0-abcd",
            &["input.txt".into(), "a b".into()],
        );
        assert_eq!(
            line,
            "srun --job-name=fz-1-s0-abcd --partition=debug --mem=1G bash calc.sh input.txt 'a b'"
        );
        assert!(srun::srun_line(&c, "bash calc.sh", "n", &[]).ends_with("calc.sh ."));
        let c = calc("slurm://:debug/x?array=1").unwrap();
        assert_eq!(c.capacity(), array::MAX_TASKS);
        let c = calc("slurm://u:s3cret@h:2222:debug/x").unwrap();
        assert!(matches!(c.mode, Mode::RemoteSrun(_)));
        assert_eq!(c.display_uri(), "slurm://u:***@h:2222:debug/x");
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = calc("slurm://u@h:debug/x?array=1").unwrap();
        assert!(matches!(
            c.mode,
            Mode::Array {
                session: Some(_),
                ..
            }
        ));
        assert_eq!(c.capacity(), array::MAX_TASKS);
    }

    #[test]
    fn ok_exit_is_read_in_every_mode() {
        for uri in [
            "slurm://:debug/x?ok_exit=0,1",
            "slurm://:debug/x?array=1&ok_exit=0,1",
            "slurm://:debug/x?pack=2&ok_exit=0,1",
            "slurm://u@h:debug/x?ok_exit=0,1",
        ] {
            let c = calc(uri).unwrap();
            assert!(c.ok_exit.accepts(1) && !c.ok_exit.accepts(2), "{uri}");
        }
        assert!(!calc("slurm://:debug/x").unwrap().ok_exit.accepts(1));
        let err = calc("slurm://:debug/x?array=1&ok_exit=one")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ok_exit must be a comma-separated list of exit codes, got 'one'"),
            "{err}"
        );
    }

    #[test]
    fn entries_of_one_uri_share_a_queue() {
        let pool = SessionPool::new();
        let queues = ArrayQueues::default();
        let mk = |u: &str| {
            SlurmCalculator::from_uri(&CalculatorUri::parse(u).unwrap(), &pool, &queues).unwrap()
        };
        let (a, b, c) = (
            mk("slurm://:debug/x?array=1"),
            mk("slurm://:debug/y?array=1"),
            mk("slurm://:compute/x?array=1"),
        );
        let q = |c: &SlurmCalculator| match &c.mode {
            Mode::Array { queue, .. } => queue.clone(),
            _ => panic!("not array"),
        };
        assert!(Arc::ptr_eq(&q(&a), &q(&b)));
        assert!(!Arc::ptr_eq(&q(&a), &q(&c)));
        // The same partition on a login node is another queue.
        let d = mk("slurm://u@h:debug/x?array=1");
        assert!(!Arc::ptr_eq(&q(&a), &q(&d)));
    }

    #[test]
    fn job_names_are_unique() {
        let a = job_name("s");
        let b = job_name("s");
        assert_ne!(a, b);
        assert!(
            a.starts_with(&format!("fz-{}-s", std::process::id())),
            "{a}"
        );
    }
}
