//! `log.txt` of an attempt (`sh://`, `slurm://`, `funz://`, and `ssh://`
//! with its remote lines): what ran, how it ended, when, where and by whom.
//!
//! It only writes that one file in the case's work directory; what the
//! attempt did is decided elsewhere.

use crate::calculators::{Attempt, AttemptStatus, RunRequest};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What `log.txt` records about one local attempt (`sh://`, and
/// `slurm://` in local mode with its extra lines).
pub(crate) struct RunLog<'a> {
    pub(crate) command_line: &'a str,
    pub(crate) exit_code: Option<i32>,
    /// `key: value` lines written right after `Exit code` (none for
    /// `sh://`; `SLURM partition`, … for `slurm://`).
    pub(crate) extra: &'a [(&'a str, String)],
    pub(crate) started: SystemTime,
    pub(crate) ended: SystemTime,
    pub(crate) elapsed: Duration,
    pub(crate) work_dir: &'a Path,
    pub(crate) launch_dir: &'a Path,
    pub(crate) status: AttemptStatus,
    pub(crate) error: Option<&'a str>,
    /// For a remote attempt: the calculator and `user@host:directory`;
    /// the user, host and OS lines then say `Local`.
    pub(crate) remote: Option<(&'a str, &'a str)>,
}

impl<'a> RunLog<'a> {
    /// The record of `attempt`, made for `request` and lasting `elapsed`,
    /// with the `extra` lines.
    pub(crate) fn of(
        attempt: &'a Attempt,
        request: &'a RunRequest,
        elapsed: Duration,
        extra: &'a [(&'a str, String)],
    ) -> Self {
        RunLog {
            command_line: &attempt.command_line,
            exit_code: attempt.exit_code,
            extra,
            started: attempt.started,
            ended: attempt.ended,
            elapsed,
            work_dir: request.work_dir,
            launch_dir: request.launch_dir,
            status: attempt.status,
            error: attempt.error.as_deref(),
            remote: None,
        }
    }

    /// Writes `log.txt` in the case's work directory when it exists (a
    /// failure to write is a warning: the attempt's outcome stands).
    pub(crate) fn store(&self) {
        if !self.work_dir.is_dir() {
            return;
        }
        let path = self.work_dir.join("log.txt");
        if let Err(e) = self.write(&path) {
            crate::log::warn(&format!("Could not write {}: {e}", path.display()));
        }
    }

    /// Writes the `key: value` lines (continuation lines of a multi-line
    /// error indented by two spaces).
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        use chrono::{DateTime, Local};
        let iso = |t: SystemTime| {
            DateTime::<Local>::from(t)
                .format("%Y-%m-%dT%H:%M:%S%.6f")
                .to_string()
        };
        let host = host_info();
        let exit = self
            .exit_code
            .map_or_else(|| "None".to_string(), |c| c.to_string());
        let error = self
            .error
            .map_or_else(|| "None".to_string(), |e| e.replace('\n', "\n  "));
        let extra: String = self
            .extra
            .iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        let who = match self.remote {
            None => format!(
                "User: {}\nHostname: {}\nOperating system: {}\nPlatform: {}\n",
                host.user, host.hostname, host.os, host.platform
            ),
            Some((calculator, remote)) => format!(
                "Calculator: {calculator}\nRemote directory: {remote}\nLocal user: {}\n\
                 Local hostname: {}\nLocal operating system: {}\n",
                host.user, host.hostname, host.os
            ),
        };
        let text = format!(
            "Command: {}\nExit code: {exit}\n{extra}Time start: {}\nTime end: {}\n\
             Execution time: {:.3} seconds\n{who}Working directory: {}\n\
             Original directory: {}\nStatus: {}\nError: {error}\nTimestamp: {}\n",
            self.command_line,
            iso(self.started),
            iso(self.ended),
            self.elapsed.as_secs_f64(),
            self.work_dir.display(),
            self.launch_dir.display(),
            self.status.as_str(),
            DateTime::<Local>::from(self.ended).format("%a %b %e %H:%M:%S %Y"),
        );
        std::fs::write(path, text)
    }
}

/// Who and where, for `log.txt`.
pub(crate) struct HostInfo {
    pub(crate) user: String,
    pub(crate) hostname: String,
    pub(crate) os: String,
    pub(crate) platform: String,
}

/// The user (`LOGNAME`, `USER`, `LNAME`, `USERNAME`, then the password
/// database), host name, OS name and a `<os>-<release>-<machine>` string.
/// Looked up once per process: every case's `log.txt` needs them, and the
/// password database is a file read.
pub(crate) fn host_info() -> &'static HostInfo {
    static HOST: std::sync::OnceLock<HostInfo> = std::sync::OnceLock::new();
    HOST.get_or_init(look_up_host)
}

fn look_up_host() -> HostInfo {
    let user = ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(passwd_user)
        .unwrap_or_else(|| "unknown".to_string());
    let (os, release, machine) = uname_parts().unwrap_or_else(|| {
        (
            std::env::consts::OS.to_string(),
            String::new(),
            std::env::consts::ARCH.to_string(),
        )
    });
    let platform = [os.as_str(), release.as_str(), machine.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("-");
    HostInfo {
        user,
        hostname: hostname().unwrap_or_else(|| "unknown".to_string()),
        os,
        platform,
    }
}

/// The effective user's name from the password database.
#[cfg(unix)]
fn passwd_user() -> Option<String> {
    // SAFETY: getpwuid_r writes into `pwd` and `buf`, which outlive the
    // call; the name is copied out before they are dropped.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::geteuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[cfg(not(unix))]
fn passwd_user() -> Option<String> {
    None
}

/// The host name.
#[cfg(unix)]
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `len` bytes; one byte is kept for a
    // terminating NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(not(unix))]
fn hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

/// `(sysname, release, machine)` from `uname(2)`.
#[cfg(unix)]
fn uname_parts() -> Option<(String, String, String)> {
    // SAFETY: `uname` fills the zeroed struct; its fields are
    // NUL-terminated arrays read in place.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        let field = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        Some((field(&u.sysname), field(&u.release), field(&u.machine)))
    }
}

#[cfg(not(unix))]
fn uname_parts() -> Option<(String, String, String)> {
    None
}
