//! Running one shell-command output extractor (compile-and-output.md §5.4).
//!
//! The command runs under `bash -c` (`/bin/sh -c` when bash cannot be
//! started) in its own process group, with the case directory as working
//! directory (the process's own directory never changes), stdin empty and
//! stdout/stderr captured. A deadline bounds the whole run: when it passes,
//! the process group is killed, background children included.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Environment variable holding the extractor timeout in seconds.
pub const TIMEOUT_ENV: &str = "FZ_OUTPUT_TIMEOUT";

/// Default extractor timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to wait for the pipes to close after killing a timed-out
/// command (a child that left the process group may keep them open).
const KILL_GRACE: Duration = Duration::from_secs(2);

/// The extractor timeout: `FZ_OUTPUT_TIMEOUT` seconds (decimals allowed;
/// `0` or a negative value disables it), [`DEFAULT_TIMEOUT`] when unset or
/// not a number.
pub fn timeout_from_env() -> Option<Duration> {
    match crate::config::setting(TIMEOUT_ENV) {
        Some(text) => match text.trim().parse::<f64>() {
            Ok(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
            Ok(s) if s <= 0.0 => None,
            _ => Some(DEFAULT_TIMEOUT),
        },
        None => Some(DEFAULT_TIMEOUT),
    }
}

/// What a finished (or killed) command left.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellOutcome {
    /// Exit code; `None` when killed by a signal or timed out.
    pub code: Option<i32>,
    /// Signal number, when killed by one.
    pub signal: Option<i32>,
    /// Captured stdout (lossy UTF-8, newlines normalized to `\n`).
    pub stdout: String,
    /// Captured stderr (same).
    pub stderr: String,
    /// Whether the deadline passed and the process group was killed.
    pub timed_out: bool,
}

/// Runs `command` in `dir` under bash (or sh), within `timeout`.
///
/// `Err` only when the shell cannot be started (e.g. `dir` is missing or
/// not a directory); the text is Python's `OSError` text for the same
/// failure (`[Errno 20] Not a directory: '<dir>'`).
pub fn run_shell(
    command: &str,
    dir: &Path,
    timeout: Option<Duration>,
) -> Result<ShellOutcome, String> {
    let start = Instant::now();
    let child = match spawn("bash", &["-c", command], dir) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir.is_dir() => {
            spawn("/bin/sh", &["-c", command], dir).map_err(|e| os_error_text(&e, dir))?
        }
        Err(e) => return Err(os_error_text(&e, dir)),
    };
    Ok(collect(child, start, timeout))
}

/// Runs `program` with `args` (no shell) in `dir`, within `timeout`, as
/// [`run_shell`] runs a command line. `Err` when it cannot be started
/// (not found: [`std::io::ErrorKind::NotFound`]).
pub fn run_program(
    program: &str,
    args: &[&str],
    dir: &Path,
    timeout: Option<Duration>,
) -> std::io::Result<ShellOutcome> {
    let start = Instant::now();
    let child = spawn(program, args, dir)?;
    Ok(collect(child, start, timeout))
}

/// Reads the output of `child` (started at `start`) until it exits, killing
/// its process group once `timeout` has passed.
fn collect(
    mut child: std::process::Child,
    start: Instant,
    timeout: Option<Duration>,
) -> ShellOutcome {
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<Event>();
    let mut pending = 0;
    if let Some(mut out) = child.stdout.take() {
        let tx = tx.clone();
        pending += 1;
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            let _ = tx.send(Event::Stdout(buf));
        });
    }
    if let Some(mut err) = child.stderr.take() {
        let tx = tx.clone();
        pending += 1;
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            let _ = tx.send(Event::Stderr(buf));
        });
    }
    {
        let tx = tx.clone();
        pending += 1;
        std::thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send(Event::Exit(status.ok()));
        });
    }
    drop(tx);

    let mut outcome = ShellOutcome {
        code: None,
        signal: None,
        stdout: String::new(),
        stderr: String::new(),
        timed_out: false,
    };
    let mut deadline = timeout.map(|t| start + t);
    while pending > 0 {
        let event = match deadline {
            None => rx.recv().ok(),
            Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(ev) => Some(ev),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if outcome.timed_out {
                        // Pipes still held open by an escaped child: give up.
                        break;
                    }
                    outcome.timed_out = true;
                    kill_group(pid);
                    deadline = Some(Instant::now() + KILL_GRACE);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            },
        };
        let Some(event) = event else { break };
        pending -= 1;
        match event {
            Event::Stdout(b) => outcome.stdout = text_of(&b),
            Event::Stderr(b) => outcome.stderr = text_of(&b),
            Event::Exit(status) => {
                if let Some(s) = status {
                    outcome.code = s.code();
                    outcome.signal = signal_of(&s);
                }
            }
        }
    }
    if outcome.timed_out {
        outcome.code = None;
    }
    outcome
}

enum Event {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(Option<std::process::ExitStatus>),
}

fn spawn(program: &str, args: &[&str], dir: &Path) -> std::io::Result<std::process::Child> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = crate::config::shell_search_path() {
        cmd.env("PATH", path);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.spawn()
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    // The child leads its own group (process_group(0) above).
    if let Ok(pgid) = libc::pid_t::try_from(pid) {
        crate::process::signal_group(pgid, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_status: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// Bytes as text the way Python's `text=True` reads a pipe: UTF-8 (invalid
/// sequences replaced), universal newlines (`\r\n` and `\r` → `\n`).
fn text_of(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.into_owned()
    }
}

/// Python's text for an `OSError` on `path`: `[Errno 2] No such file or
/// directory: '<path>'`.
pub(crate) fn os_error_text(e: &std::io::Error, path: &Path) -> String {
    let msg = e.to_string();
    match e.raw_os_error() {
        Some(code) => {
            let suffix = format!(" (os error {code})");
            let text = msg.strip_suffix(&suffix).unwrap_or(&msg);
            format!("[Errno {code}] {text}: '{}'", path.display())
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), "hello\r\nworld\n").unwrap();
        let out = run_shell("cat f.txt; echo oops >&2; exit 3", dir.path(), None).unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, "hello\nworld\n");
        assert_eq!(out.stderr, "oops\n");
        assert!(!out.timed_out);
        // bash, not sh: `[[ ]]` works.
        let out = run_shell("[[ 1 == 1 ]] && echo yes", dir.path(), None).unwrap();
        assert_eq!(out.stdout, "yes\n");
        // The working directory is the case directory.
        let out = run_shell("pwd", dir.path(), None).unwrap();
        assert_eq!(
            Path::new(out.stdout.trim()).canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
    }

    #[test]
    fn timeout_kills_the_group() {
        let dir = tempfile::tempdir().unwrap();
        let start = Instant::now();
        let out = run_shell(
            "sleep 30 & echo started; sleep 30",
            dir.path(),
            Some(Duration::from_millis(300)),
        )
        .unwrap();
        assert!(out.timed_out);
        assert_eq!(out.code, None);
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn missing_directory_is_an_os_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = run_shell("true", &missing, None).unwrap_err();
        assert_eq!(
            err,
            format!(
                "[Errno 2] No such file or directory: '{}'",
                missing.display()
            )
        );
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = run_shell("true", &file, None).unwrap_err();
        assert!(err.starts_with("[Errno 20] Not a directory"), "{err}");
    }
}
