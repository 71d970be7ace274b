//! One multiplexed OpenSSH connection to one login target, and the remote
//! operations fz runs over it.
//!
//! This module owns the system `ssh` client processes: the master
//! connection (`ControlMaster`, its socket in a private 0700 directory,
//! closed with `ssh -O exit` when the [`Session`] is dropped), the client
//! invocations that ride on it, moving directory trees with `tar` through
//! them, running a command in its own remote session (`setsid`) so that
//! the whole remote process tree can be stopped, and removing remote
//! directories. It is scheme-agnostic (the `ssh://` calculator and remote
//! `slurm://` both use it) and knows nothing of cases, tables or retries.
//! The grouped variants (`*_batched`: many directories per ssh command)
//! queue their requests here and leave the archives and remote scripts
//! to the sibling `batch` module.
//!
//! Nothing reaches a remote shell unquoted: every remote command is a
//! fixed `sh -c` script whose variable parts are passed as positional
//! arguments quoted with [`shell_quote`]. A password is handed to ssh only
//! through the environment of the master process and read back by a tiny
//! `SSH_ASKPASS` script that prints that variable: it is never written to
//! disk nor put on a command line.
//!
//! Every ssh process is started in a process group of its own, so that a
//! Ctrl+C on the terminal reaches fz only: fz decides what to stop.

use super::batch::{self, Batcher, Counts, FetchJob, UploadJob};
use super::errors::{classify_connect, SshError};
use super::target::SshTarget;
use crate::calculators::sh::shell_quote;
use crate::calculators::Cancel;
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Longest pause between two checks of a running client (its end, the
/// clock, cancellation). Short commands are checked more often: see
/// [`pause`].
const POLL: Duration = Duration::from_millis(20);

/// The pause before the next check of a process running for `elapsed`:
/// a tenth of that (so a 10 ms ssh round trip is noticed within 1 ms),
/// between 0.2 ms and [`POLL`].
fn pause(elapsed: Duration) -> Duration {
    (elapsed / 10).clamp(Duration::from_micros(200), POLL)
}

/// Longest wait for short housekeeping commands (kill, remove).
const SHORT_LIMIT: Duration = Duration::from_secs(60);

/// Idle time after which a master left behind by a crashed fz exits by
/// itself (`ControlPersist`); a normal run closes it explicitly.
const MASTER_IDLE_SECS: u32 = 600;

/// Most short operations (command, upload, download) riding on one master
/// connection at once. OpenSSH servers refuse more than `MaxSessions`
/// (default 10) channels per connection; the long-running case commands of
/// `ssh://` calculators are not counted here, so a few stay free for them.
const MAX_SHORT_CHANNELS: usize = 6;

/// Upper bound of the TCP connect timeout (`ConnectTimeout`), in seconds.
const MAX_CONNECT_SECS: u64 = 30;

/// Settings read from the environment when a session is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSettings {
    /// `FZ_SSH_AUTO_ACCEPT_HOSTKEYS`: accept (and record, with a notice)
    /// the key of a host never seen before (`StrictHostKeyChecking=accept-new`);
    /// otherwise unknown keys are refused. A changed key is always refused.
    pub auto_accept_host_keys: bool,
    /// `FZ_SSH_KEEPALIVE`: seconds between keep-alive messages
    /// (`ServerAliveInterval`, default 300; 0 disables).
    pub keepalive_secs: u64,
    /// `FZ_SSH_OPTIONS`: extra options for every ssh command, as
    /// whitespace-separated words passed as separate arguments (no shell),
    /// e.g. `-o UserKnownHostsFile=/p/known_hosts -i /p/key`.
    pub extra_options: Vec<String>,
    /// The `ssh` program (`FZ_SSH_PROGRAM`, default `ssh` on `PATH`).
    pub program: String,
}

impl SshSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(crate::config::setting)
    }

    /// Reads the settings through `get` (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        SshSettings {
            auto_accept_host_keys: get("FZ_SSH_AUTO_ACCEPT_HOSTKEYS")
                .and_then(|v| crate::config::parse_bool(&v))
                .unwrap_or(false),
            keepalive_secs: get("FZ_SSH_KEEPALIVE")
                .and_then(|v| crate::config::parse_int(&v))
                .unwrap_or(300),
            extra_options: get("FZ_SSH_OPTIONS")
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            program: get("FZ_SSH_PROGRAM")
                .filter(|p| !p.trim().is_empty())
                .unwrap_or_else(|| "ssh".to_string()),
        }
    }
}

/// A directory on the remote host, relative to the remote home directory
/// (every remote command starts there). Written `"$HOME"/'<path>'` in
/// remote scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteDir(String);

impl RemoteDir {
    /// A fresh, unique directory under `~/.fz/tmp/`, its name starting with
    /// `label` reduced to safe characters.
    pub fn unique(label: &str) -> Self {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let safe = safe_name(label, 60);
        // RandomState is seeded from the OS: unique across fz processes
        // and hosts sharing a home directory.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        RemoteDir(format!(".fz/tmp/fz_{safe}_{:016x}", h.finish()))
    }

    /// A fresh, unique directory for the case directory `work_dir`, named
    /// after it.
    pub fn for_case(work_dir: &Path) -> Self {
        let label = work_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        RemoteDir::unique(&label)
    }

    /// The directory `name` inside this one (`name` reduced to safe
    /// characters, as in [`RemoteDir::unique`]).
    pub fn child(&self, name: &str) -> Self {
        RemoteDir(format!("{}/{}", self.0, safe_name(name, usize::MAX)))
    }

    /// The directory at `relative` (tests: any path, unchecked).
    #[cfg(test)]
    pub(crate) fn at(relative: &str) -> Self {
        RemoteDir(relative.to_string())
    }

    /// The path relative to the remote home directory.
    pub fn relative(&self) -> &str {
        &self.0
    }

    /// The path as shown to users: `~/<relative>`.
    pub fn display(&self) -> String {
        format!("~/{}", self.0)
    }
}

/// `name` with every character but ASCII letters, digits and `._-=,`
/// replaced by `_`, at most `max` characters: safe in a remote path.
fn safe_name(name: &str, max: usize) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-=,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

/// Files sent to the remote directory: a local directory tree, plus single
/// files taken from another base directory (e.g. scripts the command
/// names, relative to the launch directory).
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    /// Every entry of this directory is sent, subdirectories included.
    pub dir: &'a Path,
    /// The base of `extra_files`.
    pub extra_base: &'a Path,
    /// Relative paths under `extra_base`, sent to the same relative paths.
    pub extra_files: &'a [String],
}

/// How a command run by [`Session::run_in_dir`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// It exited with this code (255 may also be an ssh failure).
    Exited(i32),
    /// The time limit expired; the remote process group was stopped.
    TimedOut,
    /// Cancelled; the remote process group was stopped.
    Interrupted,
    /// It could not be started or followed (message).
    Failed(String),
}

/// What a short remote command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit code (255: ssh itself failed; -1: killed or no code).
    pub code: i32,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

/// One master connection to one target, opened on first use and shared by
/// every calculator of a run that names the same login.
#[derive(Debug)]
pub struct Session {
    target: SshTarget,
    settings: SshSettings,
    state: Mutex<State>,
    channels: Gate,
    home: OnceLock<String>,
    /// Case directories waiting to be sent together.
    uploads: Batcher<UploadJob, Result<(), SshError>>,
    /// Case directories waiting to be fetched back or removed together.
    fetches: Batcher<FetchJob, Result<(), SshError>>,
    /// What the grouped transfers carried.
    pub(super) counts: Counts,
}

/// A counting semaphore: at most `limit` holders at once.
#[derive(Debug)]
struct Gate {
    limit: usize,
    held: Mutex<usize>,
    freed: Condvar,
}

/// One place taken in a [`Gate`], given back on drop.
pub(super) struct Pass<'a>(&'a Gate);

impl Gate {
    fn new(limit: usize) -> Self {
        Gate {
            limit,
            held: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    fn enter(&self) -> Pass<'_> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        while *held >= self.limit {
            held = self.freed.wait(held).unwrap_or_else(|p| p.into_inner());
        }
        *held += 1;
        Pass(self)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        let mut held = self.0.held.lock().unwrap_or_else(|p| p.into_inner());
        *held = held.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

#[derive(Debug)]
enum State {
    /// Not connected yet, or the master went away.
    Down,
    /// The master runs; its control socket is in this private directory.
    Up(PrivateDir),
    /// Connecting failed in a way retrying cannot fix (authentication,
    /// host key): later attempts fail at once with the same error.
    Broken(SshError),
}

impl Session {
    /// A session for `target` (no connection yet).
    pub fn new(target: SshTarget, settings: SshSettings) -> Self {
        Session {
            target,
            settings,
            state: Mutex::new(State::Down),
            channels: Gate::new(MAX_SHORT_CHANNELS),
            home: OnceLock::new(),
            uploads: Batcher::new(batch::MAX_CASES, batch::MAX_BYTES),
            fetches: Batcher::new(batch::MAX_CASES, u64::MAX),
            counts: Counts::default(),
        }
    }

    /// The absolute path of the remote home directory (asked once, then
    /// remembered), for programs that need absolute paths (SLURM).
    pub fn home(&self) -> Result<String, SshError> {
        if let Some(h) = self.home.get() {
            return Ok(h.clone());
        }
        let out = self.exec(r#"printf '%s' "$HOME""#, &[], Some(SHORT_LIMIT), None)?;
        let home = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.code != 0 || !home.starts_with('/') {
            return Err(SshError::Other(format!(
                "Could not find the home directory on {}: {}",
                self.target.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(self.home.get_or_init(|| home).clone())
    }

    /// The login target.
    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    /// Makes sure the master connection is up, opening it if needed
    /// (`connect_limit` bounds the TCP connect, at most 30 s). Parallel
    /// callers wait for one connection. Errors are one line, saying what
    /// failed (unreachable host, authentication, host key) and how to fix
    /// it, passwords redacted.
    pub fn connect(&self, connect_limit: Option<Duration>) -> Result<(), SshError> {
        self.control_path(connect_limit).map(|_| ())
    }

    /// The control socket of a live master, connecting first if needed.
    fn control_path(&self, connect_limit: Option<Duration>) -> Result<PathBuf, SshError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match &*state {
            State::Up(dir) if dir.control().exists() => return Ok(dir.control()),
            State::Broken(e) => return Err(e.clone()),
            _ => {}
        }
        // The master exited (idle, network loss): connect again.
        *state = State::Down;
        match self.open_master(connect_limit) {
            Ok(dir) => {
                let control = dir.control();
                *state = State::Up(dir);
                Ok(control)
            }
            Err(e) => {
                if e.is_permanent() {
                    *state = State::Broken(e.clone());
                }
                Err(e)
            }
        }
    }

    /// Starts `ssh -f -N` as control master and waits until it has
    /// authenticated (ssh then goes to the background and the foreground
    /// process exits 0) or failed.
    fn open_master(&self, connect_limit: Option<Duration>) -> Result<PrivateDir, SshError> {
        let who = self.target.display();
        let dir = PrivateDir::create().map_err(|e| {
            SshError::Other(format!(
                "SSH connection to {who} failed: could not create a private temporary directory: {e}"
            ))
        })?;
        let log_path = dir.path().join("master.log");
        let log = File::create(&log_path).map_err(|e| {
            SshError::Other(format!(
                "SSH connection to {who} failed: could not create {}: {e}",
                log_path.display()
            ))
        })?;
        let connect_secs = connect_limit
            .map(|d| d.as_secs().clamp(1, MAX_CONNECT_SECS))
            .unwrap_or(MAX_CONNECT_SECS);
        let mut cmd = Command::new(&self.settings.program);
        cmd.args(["-f", "-N", "-o", "ControlMaster=yes"])
            .arg("-o")
            .arg(format!("ControlPersist={MASTER_IDLE_SECS}"))
            .arg("-o")
            .arg(format!("ConnectTimeout={connect_secs}"))
            .args(self.common_args(&dir.control()));
        if let Some(password) = &self.target.password {
            let askpass = dir.path().join("askpass");
            write_askpass(&askpass).map_err(|e| {
                SshError::Other(format!(
                    "SSH connection to {who} failed: could not write {}: {e}",
                    askpass.display()
                ))
            })?;
            // Password login only, through SSH_ASKPASS even without a
            // terminal; the script prints the variable set here only.
            cmd.args([
                "-o",
                "BatchMode=no",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "PreferredAuthentications=password,keyboard-interactive",
                "-o",
                "NumberOfPasswordPrompts=1",
            ])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("FZ_SSH_ASKPASS_SECRET", password.reveal());
        } else {
            cmd.args(["-o", "BatchMode=yes"]);
        }
        cmd.arg(&self.target.host)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        own_group(&mut cmd);
        crate::log::debug(&format!("ssh: opening a master connection to {who}"));
        let mut child = cmd.spawn().map_err(|e| {
            SshError::Other(format!(
                "SSH connection to {who} failed: could not run '{}': {e}",
                self.settings.program
            ))
        })?;
        let limit = Duration::from_secs(connect_secs + 30);
        let status = wait_bounded(&mut child, limit, None);
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        match status {
            Some(s) if s.success() => {
                for line in text.lines().filter(|l| l.contains("Permanently added")) {
                    crate::log::notice(&format!(
                        "SSH: accepted the new host key of {who} (FZ_SSH_AUTO_ACCEPT_HOSTKEYS): {}",
                        line.trim()
                    ));
                }
                Ok(dir)
            }
            Some(_) => Err(classify_connect(&who, &text)),
            None => Err(SshError::Unreachable(format!(
                "SSH connection to {who} failed: no answer within {} s. Check the host \
                 name, the port and the network.",
                limit.as_secs()
            ))),
        }
    }

    /// Options shared by the master and its clients.
    fn common_args(&self, control: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut opt = |o: String| {
            args.push("-o".into());
            args.push(o.into());
        };
        let mut cp = OsString::from("ControlPath=");
        cp.push(control.as_os_str());
        let strict = if self.settings.auto_accept_host_keys {
            "accept-new"
        } else {
            "yes"
        };
        opt(format!("StrictHostKeyChecking={strict}"));
        opt(format!(
            "ServerAliveInterval={}",
            self.settings.keepalive_secs
        ));
        args.push("-o".into());
        args.push(cp);
        if let Some(port) = self.target.port {
            args.push("-p".into());
            args.push(port.to_string().into());
        }
        if let Some(user) = &self.target.user {
            args.push("-l".into());
            args.push(user.into());
        }
        args.extend(self.settings.extra_options.iter().map(OsString::from));
        args
    }

    /// A client command running `remote` (a command line for the remote
    /// login shell) over the master.
    fn client(&self, control: &Path, remote: &str) -> Command {
        let mut cmd = Command::new(&self.settings.program);
        // BatchMode: a client never prompts; LogLevel=ERROR keeps ssh's
        // own notices out of the command's stderr.
        cmd.args([
            "-T",
            "-o",
            "ControlMaster=no",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
        ])
        .args(self.common_args(control))
        .arg(&self.target.host)
        .arg(remote);
        own_group(&mut cmd);
        cmd
    }

    /// Runs a short remote command (`sh -c` `script` with `args`),
    /// capturing its output while it runs (no pipe ever fills up), under
    /// `limit` and `cancel` (the local client is killed then, code -1).
    pub fn exec(
        &self,
        script: &str,
        args: &[&str],
        limit: Option<Duration>,
        cancel: Option<&Cancel>,
    ) -> Result<ExecOutput, SshError> {
        self.short_command(script, args, None, limit, cancel)
    }

    /// Like [`Session::exec`], with `input` written to the command's
    /// standard input (then closed): for data too large or too varied
    /// for a command line.
    pub fn exec_input(
        &self,
        script: &str,
        args: &[&str],
        input: Vec<u8>,
        limit: Option<Duration>,
    ) -> Result<ExecOutput, SshError> {
        self.short_command(script, args, Some(input), limit, None)
    }

    /// [`Session::exec`] and [`Session::exec_input`]: stdin is `input`
    /// (written on a thread: the remote side may print before it has read
    /// everything, and no pipe must fill up), else `/dev/null`.
    fn short_command(
        &self,
        script: &str,
        args: &[&str],
        input: Option<Vec<u8>>,
        limit: Option<Duration>,
        cancel: Option<&Cancel>,
    ) -> Result<ExecOutput, SshError> {
        use std::io::Write;
        let control = self.control_path(limit)?;
        let _pass = self.channels.enter();
        let mut cmd = self.client(&control, &remote_sh(script, args));
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| self.spawn_error(e))?;
        let writer = match (child.stdin.take(), input) {
            (Some(mut pipe), Some(input)) => Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            })),
            _ => None,
        };
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        let status = wait_bounded(&mut child, limit.unwrap_or(Duration::MAX), cancel);
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(ExecOutput {
            code: status.map_or(-1, exit_code),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        })
    }

    /// Sends `upload` to `remote` (created if needed; subdirectories
    /// included).
    pub fn upload_dir(&self, upload: &Upload, remote: &RemoteDir) -> Result<(), SshError> {
        let control = self.control_path(None)?;
        let _pass = self.channels.enter();
        let remote_cmd = remote_sh(UNPACK_SCRIPT, &[remote.relative()]);
        let (mut tar, tar_err) = spawn_pack(upload).map_err(|e| self.transfer_error("pack", &e))?;
        let mut cmd = self.client(&control, &remote_cmd);
        let stdin = tar.stdout.take().map_or_else(Stdio::null, Stdio::from);
        cmd.stdin(stdin)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut ssh = cmd.spawn().map_err(|e| self.spawn_error(e))?;
        let ssh_err = drain(ssh.stderr.take());
        let ssh_status = ssh.wait().ok();
        let tar_status = tar.wait().ok();
        let tar_err = tar_err.join().unwrap_or_default();
        let ssh_err = ssh_err.join().unwrap_or_default();
        check_transfer(
            "upload to",
            &self.target,
            remote,
            tar_status,
            &tar_err,
            ssh_status,
            &ssh_err,
        )
    }

    /// Fetches the tree of `remote` into `local` (subdirectories included),
    /// leaving out the top-level entries named in `exclude`; then removes
    /// `remote` when `remove` is set (also when the transfer failed).
    pub fn download_dir(
        &self,
        remote: &RemoteDir,
        local: &Path,
        exclude: &[String],
        remove: bool,
    ) -> Result<(), SshError> {
        let control = self.control_path(None)?;
        let _pass = self.channels.enter();
        let mut args: Vec<String> = vec![
            remote.relative().to_string(),
            if remove { "1" } else { "0" }.to_string(),
        ];
        args.extend(exclude.iter().map(|e| format!("--exclude=./{e}")));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = self.client(&control, &remote_sh(PACK_SCRIPT, &argv));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut ssh = cmd.spawn().map_err(|e| self.spawn_error(e))?;
        let ssh_err = drain(ssh.stderr.take());
        let stdin = ssh.stdout.take().map_or_else(Stdio::null, Stdio::from);
        let mut tar = Command::new("tar");
        tar.arg("-xf")
            .arg("-")
            .arg("-C")
            .arg(local)
            .stdin(stdin)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        own_group(&mut tar);
        let tar_result = tar.spawn();
        let (tar_status, tar_err) = match tar_result {
            Ok(mut tar) => {
                let err = drain(tar.stderr.take());
                (tar.wait().ok(), err.join().unwrap_or_default())
            }
            Err(e) => {
                let _ = ssh.kill();
                (None, format!("could not run tar: {e}").into_bytes())
            }
        };
        let ssh_status = ssh.wait().ok();
        let ssh_err = ssh_err.join().unwrap_or_default();
        check_transfer(
            "download from",
            &self.target,
            remote,
            tar_status,
            &tar_err,
            ssh_status,
            &ssh_err,
        )
    }

    /// Removes `remote` and its bookkeeping files.
    pub fn remove_dir(&self, remote: &RemoteDir) -> Result<(), SshError> {
        let out = self.exec(REMOVE_SCRIPT, &[remote.relative()], Some(SHORT_LIMIT), None)?;
        if out.code == 0 {
            Ok(())
        } else {
            Err(SshError::Other(format!(
                "Could not remove {} on {}: {}",
                remote.display(),
                self.target.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    /// A client command running `script` with `args` over the master
    /// (connected first if needed), and its place among the short
    /// channels (held until the command is over).
    pub(super) fn channel(
        &self,
        script: &str,
        args: &[&str],
    ) -> Result<(Command, Pass<'_>), SshError> {
        let control = self.control_path(None)?;
        let pass = self.channels.enter();
        Ok((self.client(&control, &remote_sh(script, args)), pass))
    }

    /// Like [`Session::upload_dir`], grouped: when a grouped upload is in
    /// flight, this one waits and goes with the others that arrived
    /// meanwhile, in one ssh command (at most 64 directories, or 64 MiB
    /// unless alone); otherwise it goes at once. `remote` must be fresh
    /// or a directory (it is merged into then). A failure of this
    /// directory alone (unreadable local file, remote directory that
    /// cannot be created) fails this call only.
    pub fn upload_dir_batched(&self, upload: &Upload, remote: &RemoteDir) -> Result<(), SshError> {
        let job = UploadJob::new(upload, remote).map_err(|e| {
            SshError::Other(format!(
                "SSH file transfer error: upload to {}:{} failed: {e}",
                self.target.display(),
                remote.display()
            ))
        })?;
        let weight = job.bytes;
        self.uploads
            .submit(job, weight, |jobs| batch::send(self, jobs), lost_answer)
    }

    /// Like [`Session::download_dir`], grouped as
    /// [`Session::upload_dir_batched`]. Entries are checked before they
    /// are written: an absolute path, a `..` or a link pointing outside
    /// `local` fails this directory.
    pub fn download_dir_batched(
        &self,
        remote: &RemoteDir,
        local: &Path,
        exclude: &[String],
        remove: bool,
    ) -> Result<(), SshError> {
        self.finish_batched(FetchJob {
            remote: remote.clone(),
            local: Some(local.to_path_buf()),
            exclude: exclude.to_vec(),
            remove,
        })
    }

    /// Like [`Session::remove_dir`], grouped with the downloads.
    pub fn remove_dir_batched(&self, remote: &RemoteDir) -> Result<(), SshError> {
        self.finish_batched(FetchJob {
            remote: remote.clone(),
            local: None,
            exclude: Vec::new(),
            remove: true,
        })
    }

    fn finish_batched(&self, job: FetchJob) -> Result<(), SshError> {
        self.fetches
            .submit(job, 0, |jobs| batch::fetch(self, jobs), lost_answer)
    }

    /// Runs `command_line` with bash (sh when the host has no bash) in
    /// `remote`, after sending `upload` there in the same round trip. The
    /// command runs in a new remote session (`setsid`) with a fresh
    /// `FZ_CASE_TAG` in its environment; its stdin is `/dev/null`, its
    /// stdout and stderr go to `out.txt` and `err.txt` in `remote` (fetched
    /// back with the directory), so the attempt ends when the command
    /// exits even if it left a process holding them. `stdout` and `stderr`
    /// receive what the remote scripts themselves print (unpacking
    /// errors). On `limit` or cancellation the remote process group and
    /// every tagged process get SIGTERM, then SIGKILL after `grace`; what
    /// the command leaves in the background is stopped when it exits.
    #[allow(clippy::too_many_arguments)]
    pub fn run_in_dir(
        &self,
        remote: &RemoteDir,
        upload: Option<&Upload>,
        command_line: &str,
        stdout: File,
        stderr: File,
        limit: Option<Duration>,
        cancel: &Cancel,
        grace: Duration,
    ) -> Result<RunEnd, SshError> {
        let clock = Instant::now();
        let control = self.control_path(limit)?;
        let up = if upload.is_some() { "1" } else { "0" };
        let tag = crate::process::new_tag();
        let session = format!("{TAGGED_FN}{SESSION_SCRIPT}");
        let remote_cmd = remote_sh(
            RUN_SCRIPT,
            &[remote.relative(), command_line, up, &session, &tag],
        );
        let mut tar = None;
        let mut cmd = self.client(&control, &remote_cmd);
        match upload {
            Some(u) => {
                let (mut child, err) = match spawn_pack(u) {
                    Ok(t) => t,
                    Err(e) => {
                        return Ok(RunEnd::Failed(format!(
                            "Could not pack the case files: {e}"
                        )))
                    }
                };
                cmd.stdin(child.stdout.take().map_or_else(Stdio::null, Stdio::from));
                tar = Some((child, err));
            }
            None => {
                cmd.stdin(Stdio::null());
            }
        }
        cmd.stdout(Stdio::from(stdout)).stderr(Stdio::from(stderr));
        let mut ssh = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Ok(RunEnd::Failed(self.spawn_error(e).to_string())),
        };
        let deadline = limit.map(|l| clock + l);
        let stop = loop {
            match ssh.try_wait() {
                Ok(Some(status)) => {
                    reap_pack(tar);
                    return Ok(RunEnd::Exited(exit_code(status)));
                }
                Ok(None) => {}
                Err(e) => break RunEnd::Failed(format!("Could not wait for ssh: {e}")),
            }
            if cancel.must_kill() {
                break RunEnd::Interrupted;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break RunEnd::TimedOut;
            }
            std::thread::sleep(pause(clock.elapsed()));
        };
        self.stop_remote(remote, &tag, grace, &mut ssh);
        reap_pack(tar);
        if stop == RunEnd::Interrupted {
            crate::log::warn("Interrupt detected, the remote command was terminated");
        }
        Ok(stop)
    }

    /// Stops the command running in `remote`, its process group and every
    /// process carrying its `tag` (SIGTERM, `grace`, SIGKILL), then the
    /// local client.
    fn stop_remote(&self, remote: &RemoteDir, tag: &str, grace: Duration, ssh: &mut Child) {
        let tenths = (grace.as_millis() / 100).to_string();
        let pid_file = format!("{}.pid", remote.relative());
        let script = format!("{TAGGED_FN}{KILL_SCRIPT}");
        let kill = || {
            self.exec(
                &script,
                &[&pid_file, &tenths, tag],
                Some(grace + SHORT_LIMIT),
                None,
            )
            .map(|o| o.code)
        };
        let first = kill();
        // Not started yet (still receiving files) or already gone: closing
        // the client ends the unpacking, so nothing starts later; look
        // again in case it started meanwhile.
        let _ = ssh.kill();
        let _ = ssh.wait();
        if !matches!(first, Ok(0)) {
            let _ = kill();
        }
    }

    pub(super) fn spawn_error(&self, e: std::io::Error) -> SshError {
        SshError::Other(format!(
            "SSH command to {} failed: could not run '{}': {e}",
            self.target.display(),
            self.settings.program
        ))
    }

    fn transfer_error(&self, what: &str, e: &std::io::Error) -> SshError {
        SshError::Other(format!(
            "SSH file transfer with {} failed: could not {what} files with tar: {e}",
            self.target.display()
        ))
    }
}

/// The result of a grouped transfer that ended without a word for it.
fn lost_answer() -> Result<(), SshError> {
    Err(SshError::Other(
        "SSH file transfer error: the grouped transfer ended without an answer".to_string(),
    ))
}

impl Drop for Session {
    /// Closes the master connection (`ssh -O exit`) and removes the private
    /// directory; says (at INFO level) what the grouped transfers carried.
    fn drop(&mut self) {
        if let Some(line) = self.counts.summary(&self.target.display()) {
            crate::log::info(&line);
        }
        let state = std::mem::replace(
            self.state.get_mut().unwrap_or_else(|p| p.into_inner()),
            State::Down,
        );
        if let State::Up(dir) = state {
            let control = dir.control();
            if control.exists() {
                let mut cmd = Command::new(&self.settings.program);
                cmd.args(["-O", "exit"])
                    .args(self.common_args(&control))
                    .arg(&self.target.host)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                own_group(&mut cmd);
                if let Ok(mut child) = cmd.spawn() {
                    let _ = wait_bounded(&mut child, Duration::from_secs(10), None);
                }
                crate::log::debug(&format!(
                    "ssh: closed the master connection to {}",
                    self.target.display()
                ));
            }
            drop(dir);
        }
    }
}

// ---------------------------------------------------------------------------
// Remote scripts. Each runs as `sh -c '<script>' fz-ssh <args…>` from the
// remote home directory; paths are relative to it.

/// `$1` dir: create it and unpack a tar from stdin into it.
const UNPACK_SCRIPT: &str = r#"d="$HOME/$1"
mkdir -p "$d" && cd "$d" && tar -xf - || { echo "fz: could not unpack the files in $d" >&2; exit 125; }"#;

/// `$1` dir, `$2` 1 to remove it afterwards, `$3…` tar options
/// (`--exclude=./name`): write the tree as a tar on stdout; the pid file
/// of the run is removed in any case.
const PACK_SCRIPT: &str = r#"d="$HOME/$1"; rm_after=$2; shift 2
cd "$d" || exit 125
tar -cf - "$@" .; rc=$?
cd /
if [ "$rm_after" = 1 ]; then rm -rf -- "$d" "$d.pid"; else rm -f -- "$d.pid"; fi
exit $rc"#;

/// `$1` dir: remove it and its pid file.
const REMOVE_SCRIPT: &str = r#"rm -rf -- "$HOME/$1" "$HOME/$1.pid""#;

/// `$1` dir, `$2` command line, `$3` 1 to unpack a tar from stdin first,
/// `$4` the session script: run the command in a new session whose
/// leader writes its pid (the group id) next to the dir.
const RUN_SCRIPT: &str = r#"d="$HOME/$1"
mkdir -p "$d" && cd "$d" || { echo "fz: could not create $d" >&2; exit 125; }
if [ "$3" = 1 ]; then tar -xf - || { echo "fz: could not unpack the case files in $d" >&2; exit 125; }; fi
if command -v setsid >/dev/null 2>&1; then
  exec setsid -w sh -c "$4" fz-case "$d.pid" "$2" "$5" </dev/null
fi
exec sh -c "$4" fz-case "$d.pid" "$2" "$5" </dev/null"#;

/// The pids of the processes whose environment holds `FZ_CASE_TAG=$tag`
/// (Linux hosts; nothing elsewhere), as a shell function `tagged`.
const TAGGED_FN: &str = r#"tagged() { grep -ls "FZ_CASE_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | sed 's#^/proc/##; s#/environ$##'; }
"#;

/// Session leader: `$1` pid file, `$2` command line, `$3` tag. The
/// command's stdout and stderr go to `out.txt` and `err.txt` (fetched
/// back with the directory), so a process it detached cannot hold the ssh
/// channel open; what it left behind (its group and every process carrying
/// its tag) is stopped once it exits.
const SESSION_SCRIPT: &str = r#"echo $$ > "$1"; tag=$3
if command -v bash >/dev/null 2>&1; then FZ_CASE_TAG=$tag bash -c "$2" >out.txt 2>err.txt
else FZ_CASE_TAG=$tag sh -c "$2" >out.txt 2>err.txt; fi
rc=$?
trap '' TERM
kill -TERM 0 2>/dev/null
for p in $(tagged); do kill -TERM "$p" 2>/dev/null; done
exit $rc"#;

/// `$1` pid file, `$2` grace in tenths of a second, `$3` tag: SIGTERM to
/// the group and the tagged processes, wait, SIGKILL. Exit 3 when there is
/// no pid file.
const KILL_SCRIPT: &str = r#"f="$HOME/$1"; n=$2; tag=$3
[ -s "$f" ] || exit 3
pg=$(cat "$f")
kill -TERM -"$pg" 2>/dev/null || kill -TERM "$pg" 2>/dev/null
for p in $(tagged); do kill -TERM "$p" 2>/dev/null; done
i=0
while { kill -0 -"$pg" 2>/dev/null || [ -n "$(tagged)" ]; } && [ "$i" -lt "$n" ]; do sleep 0.1; i=$((i+1)); done
kill -KILL -"$pg" 2>/dev/null
for p in $(tagged); do kill -KILL "$p" 2>/dev/null; done
exit 0"#;

/// The command line for the remote login shell running `script` with
/// `args`, every part single-quoted as needed.
fn remote_sh(script: &str, args: &[&str]) -> String {
    let mut s = format!("sh -c {} fz-ssh", shell_quote(script));
    for a in args {
        s.push(' ');
        s.push_str(&shell_quote(a));
    }
    s
}

// ---------------------------------------------------------------------------
// Local helpers

/// A private temporary directory (mode 0700) holding the control socket,
/// the askpass script and the master's log; removed when dropped.
#[derive(Debug)]
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn create() -> std::io::Result<Self> {
        use std::hash::{BuildHasher, Hasher};
        // Unix socket paths are limited to ~100 bytes: use /tmp when the
        // temporary directory has a long path.
        let mut base = std::env::temp_dir();
        if base.as_os_str().len() > 60 {
            base = PathBuf::from("/tmp");
        }
        let mut last = None;
        for _ in 0..8 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            let path = base.join(format!("fz-ssh-{:012x}", h.finish() & 0xffff_ffff_ffff));
            match create_private_dir(&path) {
                Ok(()) => return Ok(PrivateDir(path)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no unique name")))
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn control(&self) -> PathBuf {
        self.0.join("ctl")
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir(path)
}

/// The askpass script: prints the password from the environment ssh gave
/// it (the password itself is never written).
fn write_askpass(path: &Path) -> std::io::Result<()> {
    std::fs::write(
        path,
        "#!/bin/sh\nprintf '%s\\n' \"$FZ_SSH_ASKPASS_SECRET\"\n",
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Starts `tar` writing `upload` as an archive on its stdout.
fn spawn_pack(upload: &Upload) -> std::io::Result<(Child, std::thread::JoinHandle<Vec<u8>>)> {
    let mut tar = Command::new("tar");
    tar.arg("-cf").arg("-").arg("-C").arg(upload.dir).arg(".");
    if !upload.extra_files.is_empty() {
        tar.arg("-C").arg(upload.extra_base);
        tar.args(upload.extra_files);
    }
    tar.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    own_group(&mut tar);
    let mut child = tar.spawn()?;
    let err = drain(child.stderr.take());
    Ok((child, err))
}

/// Waits for the packing tar of an upload.
fn reap_pack(tar: Option<(Child, std::thread::JoinHandle<Vec<u8>>)>) {
    if let Some((mut child, err)) = tar {
        let _ = child.kill();
        let _ = child.wait();
        let _ = err.join();
    }
}

/// The result of a tar-over-ssh transfer, as one line on failure.
pub(super) fn check_transfer(
    what: &str,
    target: &SshTarget,
    remote: &RemoteDir,
    tar: Option<ExitStatus>,
    tar_err: &[u8],
    ssh: Option<ExitStatus>,
    ssh_err: &[u8],
) -> Result<(), SshError> {
    let ok = |s: Option<ExitStatus>| s.is_some_and(|s| s.success());
    if ok(tar) && ok(ssh) {
        return Ok(());
    }
    let ssh_text = String::from_utf8_lossy(ssh_err);
    if ssh.map(exit_code) == Some(255) {
        return Err(classify_connect(&target.display(), &ssh_text));
    }
    let mut detail = String::from_utf8_lossy(tar_err).trim().to_string();
    if !ssh_text.trim().is_empty() {
        if !detail.is_empty() {
            detail.push_str("; ");
        }
        detail.push_str(ssh_text.trim());
    }
    Err(SshError::Other(format!(
        "SSH file transfer error: {what} {}:{} failed: {}",
        target.display(),
        remote.display(),
        detail.replace('\n', " ")
    )))
}

/// Reads a pipe to the end on a thread (so it never fills up).
pub(crate) fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Waits for `child` at most `limit`, killing it then or on cancellation;
/// `None` when it was killed.
pub(crate) fn wait_bounded(
    child: &mut Child,
    limit: Duration,
    cancel: Option<&Cancel>,
) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => break,
        }
        if start.elapsed() >= limit || cancel.is_some_and(Cancel::must_kill) {
            break;
        }
        std::thread::sleep(pause(start.elapsed()));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The exit code, or minus the signal number that killed the process.
pub(crate) fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .or_else(|| status.signal().map(|s| -s))
            .unwrap_or(-1)
    }
    #[cfg(not(unix))]
    {
        status.code().unwrap_or(-1)
    }
}

/// Puts the process in a group of its own: a Ctrl+C on the terminal must
/// reach fz only.
pub(crate) fn own_group(cmd: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    #[cfg(not(unix))]
    let _ = cmd;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_environment() {
        let s = SshSettings::from_lookup(|k| match k {
            "FZ_SSH_AUTO_ACCEPT_HOSTKEYS" => Some("yes".into()),
            "FZ_SSH_KEEPALIVE" => Some("15".into()),
            "FZ_SSH_OPTIONS" => Some(" -o  UserKnownHostsFile=/x  -i k ".into()),
            _ => None,
        });
        assert!(s.auto_accept_host_keys);
        assert_eq!(s.keepalive_secs, 15);
        assert_eq!(s.extra_options, ["-o", "UserKnownHostsFile=/x", "-i", "k"]);
        assert_eq!(s.program, "ssh");
        let d = SshSettings::from_lookup(|_| None);
        assert!(!d.auto_accept_host_keys);
        assert_eq!(d.keepalive_secs, 300);
    }

    #[test]
    fn the_channel_gate_lets_at_most_its_limit_through() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = Gate::new(3);
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..12 {
                s.spawn(|| {
                    let _pass = gate.enter();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    inside.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 3);
        assert_eq!(*gate.held.lock().unwrap(), 0);
    }

    #[test]
    fn remote_dirs_are_unique_and_safe() {
        let a = RemoteDir::unique("x=1,y='a b'/$(rm)");
        let b = RemoteDir::unique("x=1,y='a b'/$(rm)");
        assert_ne!(a, b);
        assert!(
            a.relative().starts_with(".fz/tmp/fz_x=1,y=_a_b____rm__"),
            "{a:?}"
        );
        assert!(a.display().starts_with("~/.fz/tmp/"));
    }

    #[test]
    fn remote_commands_quote_every_argument() {
        let s = remote_sh("echo \"$1\"", &["a b", "it's", "$(x)"]);
        assert_eq!(s, "sh -c 'echo \"$1\"' fz-ssh 'a b' 'it'\\''s' '$(x)'");
        // The quoted line really passes the words through a shell intact.
        let out = Command::new("sh")
            .arg("-c")
            .arg(remote_sh(
                "printf '%s|' \"$@\"",
                &["a b", "it's", "$(x)", ""],
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b|it's|$(x)||");
    }

    #[test]
    fn private_dir_is_0700_and_removed() {
        let d = PrivateDir::create().unwrap();
        let p = d.path().to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(d.control().as_os_str().len() < 100);
        drop(d);
        assert!(!p.exists());
    }
}
