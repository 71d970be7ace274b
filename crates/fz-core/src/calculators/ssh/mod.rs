//! `ssh://` – runs a case on a remote host through the system OpenSSH
//! client.
//!
//! This module owns one attempt of one case over SSH: building the remote
//! command line, sending the case directory (and the local scripts the
//! command names) to a fresh remote directory, running the command there,
//! fetching the directory back, removing it, classifying failures and
//! writing the case's `log.txt`. The connection itself (one multiplexed
//! master per login and run, transfers, remote process groups) belongs to
//! [`session`], the URI body to [`target`], error messages to [`errors`],
//! the grouped transfers of many case directories in one ssh command
//! (used by `slurm://` on a login node, not by `ssh://`) to `batch`.
//! Like `sh://`, it must not decide retries nor parse outputs.
//!
//! # What runs where
//!
//! * The case directory tree (subdirectories included) is sent to
//!   `~/.fz/tmp/fz_<case>_<random>` on the remote host, with tar through
//!   the SSH connection.
//! * Words of the command that name regular files relative to the launch
//!   directory (`bash calc.sh`, `python3 scripts/post.py`) are sent too,
//!   to the same relative path in the remote directory, so the command
//!   runs there unchanged. An input file of the same path wins. Absolute
//!   paths and words naming nothing local refer to the remote host.
//! * The command runs with bash (sh without bash) in that directory, in a
//!   new remote session, with the case's input files appended as
//!   arguments (`./<first input> <rest>` without a command, as `sh://`).
//!   Its stdout and stderr go to `out.txt` and `err.txt` in the remote
//!   directory (so a process it detached cannot keep the connection open:
//!   the attempt ends when the command exits) and come back with it; after
//!   Ctrl+C, where nothing is fetched, the local ones stay empty.
//! * Then the remote directory is fetched back (except `out.txt`,
//!   `err.txt`, `log.txt` and the sent scripts) and removed, unless the
//!   URI has `?keep=1` or `FZ_LOG_LEVEL=DEBUG` (then its place is logged).
//! * The command carries a fresh `FZ_CASE_TAG=<random>` in its
//!   environment. On timeout or Ctrl+C the remote process group and every
//!   remote process carrying the tag (found in `/proc/*/environ` on Linux
//!   hosts, so `setsid` and double forks are caught) get SIGTERM, then
//!   SIGKILL after the grace period; when the command exits, what it left
//!   running gets SIGTERM.

mod batch;
pub mod errors;
pub mod session;
pub mod target;

use super::exit_codes::{self, OkExit};
use super::sh::{format_seconds, shell_quote, stderr_tail, RunLog};
use super::uri::CalculatorUri;
use super::{Attempt, AttemptStatus, Calculator, RunRequest};
use crate::{Error, Result};
use errors::classify_remote;
use session::{RemoteDir, RunEnd, Session, SshSettings, Upload};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use target::SshTarget;

/// Default time between SIGTERM and SIGKILL when a remote run is stopped.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Files fz writes locally in every case directory: never fetched back
/// (`out.txt` and `err.txt` are written remotely and fetched).
const RESERVED: &[&str] = &["log.txt"];

/// The sessions of one run, one per login target: calculators naming the
/// same `user@host:port` share one master connection. Dropping the last
/// holder (the pool and the calculators built from it) closes them.
#[derive(Debug, Default)]
pub struct SessionPool {
    sessions: Mutex<HashMap<SshTarget, Arc<Session>>>,
}

impl SessionPool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session for `target`, created (not connected) on first request.
    pub fn get(&self, target: &SshTarget) -> Arc<Session> {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(target.clone())
            .or_insert_with(|| Arc::new(Session::new(target.clone(), SshSettings::from_env())))
            .clone()
    }
}

/// A remote calculator,
/// `ssh://[user[:password]@]host[:port]/command[?timeout=N&keep=1&ok_exit=0,1]`.
#[derive(Debug, Clone)]
pub struct SshCalculator {
    display: String,
    session: Arc<Session>,
    command: String,
    timeout: Option<Duration>,
    keep: bool,
    ok_exit: OkExit,
    /// Time between SIGTERM and SIGKILL when a run is stopped.
    pub grace: Duration,
}

impl SshCalculator {
    /// Builds the calculator from a parsed `ssh://` URI, taking its
    /// session from `pool`. Query keys accepted: `timeout`, `ok_exit`, `keep`
    /// (`1/true/yes/on` or `0/false/no/off`).
    ///
    /// Errors ([`Error::Value`], naming the redacted URI): another scheme,
    /// a malformed login part (see [`target::parse_body`]), another query
    /// key, a bad `keep` value.
    pub fn from_uri(uri: &CalculatorUri, pool: &SessionPool) -> Result<Self> {
        if uri.scheme != "ssh" {
            return Err(Error::Value(format!(
                "Not an ssh:// calculator URI: '{}'",
                uri.display
            )));
        }
        let mut keep = false;
        for (key, value) in &uri.params {
            match key.as_str() {
                "keep" => {
                    keep = crate::config::parse_bool(value).ok_or_else(|| {
                        Error::Value(format!(
                            "Invalid SSH calculator URI '{}': keep must be 1/true/yes/on \
                             or 0/false/no/off, got '{value}'",
                            uri.display
                        ))
                    })?;
                }
                exit_codes::KEY => {}
                other => {
                    return Err(Error::Value(format!(
                        "Query parameter '{other}' is not supported by ssh:// calculators \
                         (only 'timeout', 'keep' and 'ok_exit'): '{}'",
                        uri.display
                    )))
                }
            }
        }
        let default_user = std::env::var("SSH_USER").ok();
        let (target, command) =
            target::parse_body(&uri.body, default_user.as_deref(), &uri.display)?;
        if target.password.is_some() {
            crate::log::warn(&format!(
                "SSH password given in the calculator URI for {}: prefer keys or an agent",
                target.display()
            ));
        }
        Ok(SshCalculator {
            display: uri.display.clone(),
            session: pool.get(&target),
            command,
            timeout: uri.timeout,
            keep,
            ok_exit: OkExit::from_uri(uri)?,
            grace: DEFAULT_GRACE,
        })
    }

    /// A calculator running `command` through `session`, shown as
    /// `display`, `ok_exit` its accepted exit codes (used by `slurm://` in
    /// remote mode for its srun line).
    pub(crate) fn for_command(
        session: Arc<Session>,
        display: &str,
        command: &str,
        keep: bool,
        ok_exit: OkExit,
    ) -> Self {
        SshCalculator {
            display: display.to_string(),
            session,
            command: command.to_string(),
            timeout: None,
            keep,
            ok_exit,
            grace: DEFAULT_GRACE,
        }
    }

    /// The same calculator with another SIGTERM→SIGKILL grace period.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The remote command as written in the URI (may be empty).
    pub fn command(&self) -> &str {
        &self.command
    }
}

impl Calculator for SshCalculator {
    fn display_uri(&self) -> &str {
        &self.display
    }

    fn uri_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Runs the command once on the remote host (see the module
    /// documentation). Outcomes: exit 0 (or a code listed by `?ok_exit=`)
    /// → `Done`; another exit, a
    /// connection or transfer failure → `Failed` with a one-line message;
    /// time limit → `Timeout`; cancellation → `Interrupted`. `log.txt` is
    /// written whenever the work directory exists.
    fn run(&self, request: &RunRequest) -> Attempt {
        let line = command_line(&self.command, request.input_files);
        let shown = if self.command.is_empty() {
            line.clone()
        } else {
            self.command.clone()
        };
        let who = self.session.target().display();
        let started = SystemTime::now();
        let clock = Instant::now();
        let remote = RemoteDir::for_case(request.work_dir);
        let mut remote_used = false;
        let scripts = files_to_send(&self.command, request);

        let outcome: std::result::Result<RunEnd, String> = if request.cancel.must_kill() {
            Err(String::new())
        } else {
            crate::log::info(&format!("Running on {who}: {line}"));
            self.execute(request, &line, &scripts, &remote, &mut remote_used)
        };
        // Fetch what the command produced, its out.txt and err.txt
        // included (also after a failure or a timeout, to look into), then
        // clean up; not after Ctrl+C, where the user wants fz to stop.
        let mut fetch_error = None;
        if remote_used {
            let mut exclude: Vec<String> = RESERVED.iter().map(|s| s.to_string()).collect();
            exclude.extend(scripts);
            let fetched = bring_back(
                &self.session,
                &remote,
                request.work_dir,
                &exclude,
                matches!(outcome, Err(ref m) if m.is_empty())
                    || matches!(outcome, Ok(RunEnd::Interrupted)),
                self.keep,
                false,
            );
            fetch_error = fetched.err();
        }
        let (status, exit_code, mut error) = self.judge(&outcome, request, &who, &shown);

        if status == AttemptStatus::Done && fetch_error.is_some() {
            error = fetch_error;
        }
        // A successful run whose results could not be fetched failed.
        let status = if status == AttemptStatus::Done && error.is_some() {
            AttemptStatus::Failed
        } else {
            status
        };
        let ended = SystemTime::now();
        let remote = format!("{who}:{}", remote.display());
        RunLog {
            command_line: &line,
            exit_code,
            extra: &[],
            started,
            ended,
            elapsed: clock.elapsed(),
            work_dir: request.work_dir,
            launch_dir: request.launch_dir,
            status,
            error: error.as_deref(),
            remote: Some((&self.display, &remote)),
        }
        .store();
        Attempt {
            status,
            exit_code,
            command: self.command.clone(),
            command_line: line,
            started,
            ended,
            error,
            host: None,
        }
    }
}

impl SshCalculator {
    /// The status, exit code and message of an attempt that ended with
    /// `outcome` (`Err("")`: cancelled before anything started), its
    /// `err.txt` already fetched.
    fn judge(
        &self,
        outcome: &std::result::Result<RunEnd, String>,
        request: &RunRequest,
        who: &str,
        shown: &str,
    ) -> (AttemptStatus, Option<i32>, Option<String>) {
        match outcome {
            Err(msg) if msg.is_empty() => (
                AttemptStatus::Interrupted,
                None,
                Some("Execution interrupted by user".to_string()),
            ),
            Err(msg) => (AttemptStatus::Failed, None, Some(msg.clone())),
            Ok(RunEnd::Exited(code)) if self.ok_exit.accepts(*code) => {
                (AttemptStatus::Done, Some(*code), None)
            }
            Ok(RunEnd::Exited(code)) => {
                let stderr = stderr_tail(&request.work_dir.join("err.txt"));
                let msg = classify_remote(who, &stderr, *code, shown);
                (AttemptStatus::Failed, Some(*code), Some(msg))
            }
            Ok(RunEnd::TimedOut) => (
                AttemptStatus::Timeout,
                None,
                Some(format!(
                    "Command timed out after {} seconds: '{shown}'",
                    format_seconds(request.timeout.unwrap_or_default())
                )),
            ),
            Ok(RunEnd::Interrupted) => (
                AttemptStatus::Interrupted,
                None,
                Some("Calculation interrupted by user".to_string()),
            ),
            Ok(RunEnd::Failed(msg)) => (AttemptStatus::Failed, None, Some(msg.clone())),
        }
    }

    /// Connects, sends the files and runs the command; `Err` is a failure
    /// message (empty: cancelled before anything started).
    fn execute(
        &self,
        request: &RunRequest,
        line: &str,
        scripts: &[String],
        remote: &RemoteDir,
        remote_used: &mut bool,
    ) -> std::result::Result<RunEnd, String> {
        let clock = Instant::now();
        self.session
            .connect(request.timeout)
            .map_err(|e| e.to_string())?;
        if request.cancel.must_kill() {
            return Err(String::new());
        }
        if !scripts.is_empty() {
            crate::log::info(&format!(
                "Sending with the case files: {}",
                scripts.join(", ")
            ));
        }
        let open = |name: &str| {
            let path = request.work_dir.join(name);
            std::fs::File::create(&path)
                .map_err(|e| format!("Could not create {}: {e}", path.display()))
        };
        let (out, err) = (open("out.txt")?, open("err.txt")?);
        let upload = Upload {
            dir: request.work_dir,
            extra_base: request.launch_dir,
            extra_files: scripts,
        };
        let limit = request.timeout.map(|t| t.saturating_sub(clock.elapsed()));
        *remote_used = true;
        self.session
            .run_in_dir(
                remote,
                Some(&upload),
                line,
                out,
                err,
                limit,
                request.cancel,
                self.grace,
            )
            .map_err(|e| e.to_string())
    }
}

/// The local files `command` names (relative to the launch directory),
/// minus those the case directory already has (the input wins): what is
/// sent with the case to the remote directory, and not fetched back.
pub(crate) fn files_to_send(command: &str, request: &RunRequest) -> Vec<String> {
    super::sh::local_files(command, request.launch_dir)
        .into_iter()
        .filter(|f| std::fs::symlink_metadata(request.work_dir.join(f)).is_err())
        .collect()
}

/// Ends the use of the remote directory of a case. After Ctrl+C
/// (`interrupted`) it is removed without fetching: the user wants fz to
/// stop. Otherwise its tree (minus the top-level names in `exclude`) is
/// fetched into `local`, also after a failure or a timeout, to look into,
/// then removed. With `keep` or at DEBUG level it stays, and a notice says
/// where. With `grouped`, the transfer goes with those of other cases
/// waiting at the same time (see [`Session::download_dir_batched`]). A
/// failure is logged and returned.
pub(crate) fn bring_back(
    session: &Session,
    remote: &RemoteDir,
    local: &Path,
    exclude: &[String],
    interrupted: bool,
    keep: bool,
    grouped: bool,
) -> std::result::Result<(), String> {
    let keep = keep || crate::log::enabled(crate::config::LogLevel::Debug);
    let done = match (interrupted, keep, grouped) {
        (true, true, _) => Ok(()),
        (true, false, false) => session.remove_dir(remote),
        (true, false, true) => session.remove_dir_batched(remote),
        (false, _, false) => session.download_dir(remote, local, exclude, !keep),
        (false, _, true) => session.download_dir_batched(remote, local, exclude, !keep),
    };
    if keep {
        crate::log::notice(&format!(
            "Remote directory kept: {}:{}",
            session.target().display(),
            remote.display()
        ));
    }
    done.map_err(|e| {
        crate::log::warn(&e.to_string());
        e.to_string()
    })
}

/// The remote command line: the command with the input files appended
/// (shell-quoted), ` .` without input files; without a command the first
/// input file is run: `./<first> <rest…>`.
pub fn command_line(command: &str, input_files: &[String]) -> String {
    let args: Vec<String> = input_files
        .iter()
        .map(|f| shell_quote(f).into_owned())
        .collect();
    let command = command.trim();
    if command.is_empty() {
        return match input_files.split_first() {
            Some((first, _)) => {
                let mut parts = vec![shell_quote(&format!("./{first}")).into_owned()];
                parts.extend(args.into_iter().skip(1));
                parts.join(" ")
            }
            None => "./.".to_string(),
        };
    }
    if args.is_empty() {
        format!("{command} .")
    } else {
        format!("{command} {}", args.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calc(uri: &str) -> Result<SshCalculator> {
        SshCalculator::from_uri(&CalculatorUri::parse(uri)?, &SessionPool::new())
    }

    #[test]
    fn command_lines() {
        let files = ["input.txt".to_string(), "a b.txt".to_string()];
        assert_eq!(
            command_line("bash calc.sh", &files),
            "bash calc.sh input.txt 'a b.txt'"
        );
        assert_eq!(command_line("", &files), "./input.txt 'a b.txt'");
        assert_eq!(command_line("run", &[]), "run .");
        assert_eq!(command_line(" ", &[]), "./.");
    }

    #[test]
    fn uri_keys_and_errors() {
        let c = calc("ssh://u@h:2222/bash calc.sh?timeout=5&keep=1").unwrap();
        assert!(c.keep);
        assert_eq!(c.command(), "bash calc.sh");
        assert_eq!(c.uri_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(
            c.display_uri(),
            "ssh://u@h:2222/bash calc.sh?timeout=5&keep=1"
        );
        let c = calc("ssh://u:s3cret@h/x").unwrap();
        assert_eq!(c.display_uri(), "ssh://u:***@h/x");
        assert!(!format!("{c:?}").contains("s3cret"));
        for (uri, needle) in [
            ("ssh://h/x?keep=maybe", "keep"),
            ("ssh://h/x?mem=4G", "'mem'"),
            ("ssh:///x", "No host"),
            ("ssh://u:s3cret@h:99999/x", "99999"),
        ] {
            let e = calc(uri).unwrap_err().to_string();
            assert!(e.contains(needle), "{uri}: {e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn one_session_per_login() {
        let pool = SessionPool::new();
        let a = SshCalculator::from_uri(&CalculatorUri::parse("ssh://u@h:1/a").unwrap(), &pool)
            .unwrap();
        let b = SshCalculator::from_uri(&CalculatorUri::parse("ssh://u@h:1/b").unwrap(), &pool)
            .unwrap();
        let c = SshCalculator::from_uri(&CalculatorUri::parse("ssh://v@h:1/a").unwrap(), &pool)
            .unwrap();
        assert!(Arc::ptr_eq(&a.session, &b.session));
        assert!(!Arc::ptr_eq(&a.session, &c.session));
    }
}
