//! Where the SLURM client commands (`sbatch`, `squeue`, `sacct`,
//! `scancel`, `sinfo`) run: on this machine, or on a login node through
//! an `ssh://` session.
//!
//! This module owns running one short command to completion with its
//! output captured, under a time limit, without a shell in between
//! locally (arguments are passed as they are) and with every argument
//! quoted remotely. It knows nothing of SLURM's output formats (the
//! callers parse them) nor of cases.

use crate::calculators::ssh::session::{drain, exit_code, own_group, wait_bounded, Session};
use std::fmt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// What a short command printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Exit code (-1: killed at the time limit, or no code).
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded and trimmed.
    pub stderr: String,
}

impl Output {
    /// Whether the command exited with 0.
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

/// A place where SLURM client commands run.
pub trait CommandHost: Send + Sync + fmt::Debug {
    /// Runs `program args…` there and waits for it at most `limit`; `Err`
    /// is a one-line message when it could not be run at all (not found,
    /// connection failure).
    fn exec(&self, program: &str, args: &[String], limit: Duration) -> Result<Output, String>;
    /// `locally` or `on <user@host:port>`, for messages.
    fn location(&self) -> String;
}

/// This machine: commands are started directly (no shell), in a process
/// group of their own so that a Ctrl+C on the terminal reaches fz only.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalHost;

impl CommandHost for LocalHost {
    fn exec(&self, program: &str, args: &[String], limit: Duration) -> Result<Output, String> {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        own_group(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "'{program}' not found: the SLURM client commands are not installed \
                     or not in PATH"
                )
            } else {
                format!("Could not run '{program}': {e}")
            }
        })?;
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        let status = wait_bounded(&mut child, limit, None);
        Ok(Output {
            code: status.map_or(-1, exit_code),
            stdout: String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned(),
            stderr: String::from_utf8_lossy(&err.join().unwrap_or_default())
                .trim()
                .to_string(),
        })
    }

    fn location(&self) -> String {
        "locally".to_string()
    }
}

/// A login node reached through an `ssh://` session (shared with the
/// other calculators of the run naming the same login).
#[derive(Debug, Clone)]
pub struct RemoteHost(pub Arc<Session>);

impl CommandHost for RemoteHost {
    fn exec(&self, program: &str, args: &[String], limit: Duration) -> Result<Output, String> {
        self.0.connect(Some(limit)).map_err(|e| e.to_string())?;
        let mut argv: Vec<&str> = vec![program];
        argv.extend(args.iter().map(String::as_str));
        // `exec "$@"`: the remote shell runs the words as they are, each
        // one passed quoted by the session.
        let out = self
            .0
            .exec("exec \"$@\"", &argv, Some(limit), None)
            .map_err(|e| e.to_string())?;
        if out.code == 127 {
            return Err(format!(
                "'{program}' not found on {}: the SLURM client commands are not installed \
                 there or not in the login PATH",
                self.0.target().display()
            ));
        }
        Ok(Output {
            code: out.code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }

    fn location(&self) -> String {
        format!("on {}", self.0.target().display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_commands_run_without_a_shell() {
        let out = LocalHost
            .exec(
                "printf",
                &["%s|".into(), "a b".into(), "$HOME;x".into()],
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!((out.code, out.stdout.as_str()), (0, "a b|$HOME;x|"));
        let out = LocalHost
            .exec(
                "sh",
                &["-c".into(), "echo oops >&2; exit 3".into()],
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!((out.code, out.stderr.as_str()), (3, "oops"));
        let e = LocalHost
            .exec("no-such-squeue-xyz", &[], Duration::from_secs(5))
            .unwrap_err();
        assert!(e.contains("not found"), "{e}");
        let out = LocalHost
            .exec("sleep", &["5".into()], Duration::from_millis(100))
            .unwrap();
        assert_eq!(out.code, -1, "killed at the limit");
    }
}
