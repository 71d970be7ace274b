//! What went wrong over SSH, as one line saying what failed and how to
//! fix it.
//!
//! This module owns reading OpenSSH's stderr (connection, authentication
//! and host-key failures) and the hints for remote commands that failed
//! (spec §1.1, `ssh` rules, then the common ones). It never sees
//! passwords: ssh does not print them and targets are shown redacted.

use crate::calculators::sh::{classify_common, with_stderr};

/// A failure to reach or use a remote host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    /// The host could not be reached (refused, timed out, unknown name…).
    #[error("{0}")]
    Unreachable(String),
    /// The login was refused.
    #[error("{0}")]
    Auth(String),
    /// The host key is unknown or changed.
    #[error("{0}")]
    HostKey(String),
    /// Anything else (transfer, local tools).
    #[error("{0}")]
    Other(String),
}

impl SshError {
    /// Whether retrying within the same run cannot help (refused login,
    /// host key): later cases fail at once instead of asking again.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SshError::Auth(_) | SshError::HostKey(_))
    }
}

/// The error for a connection to `who` (`user@host:port`, redacted) that
/// ssh refused with `stderr`.
pub fn classify_connect(who: &str, stderr: &str) -> SshError {
    let lower = stderr.to_lowercase();
    let has = |ps: &[&str]| ps.iter().any(|p| lower.contains(p));
    let detail = last_line(stderr);
    if has(&["remote host identification has changed", "host key for"])
        && has(&["changed", "differs"])
    {
        return SshError::HostKey(format!(
            "SSH host key verification failed for {who}: the host key has CHANGED since it \
             was recorded in known_hosts (possible man-in-the-middle). If the change is \
             expected, remove the old key with 'ssh-keygen -R <host>' and connect again. \
             ssh: {detail}"
        ));
    }
    if has(&[
        "host key verification failed",
        "no matching host key",
        "host key is known",
        "known_hosts",
    ]) {
        return SshError::HostKey(format!(
            "SSH host key verification failed for {who}: the host key is not in \
             known_hosts. Set FZ_SSH_AUTO_ACCEPT_HOSTKEYS=1 to accept it, or add the key \
             to known_hosts (e.g. ssh-keyscan -p <port> <host> >> ~/.ssh/known_hosts, after \
             checking its fingerprint). ssh: {detail}"
        ));
    }
    if has(&[
        "permission denied",
        "authentication failed",
        "too many authentication failures",
        "no supported authentication methods",
    ]) {
        return SshError::Auth(format!(
            "SSH authentication failed for {who}: check the user name and the key \
             (ssh-agent, ~/.ssh/config) or the password in the URI. ssh: {detail}"
        ));
    }
    if has(&[
        "connection refused",
        "connection timed out",
        "operation timed out",
        "no route to host",
        "network is unreachable",
        "could not resolve hostname",
        "name or service not known",
        "temporary failure in name resolution",
        "connection reset",
        "connection closed",
        "broken pipe",
    ]) {
        return SshError::Unreachable(format!(
            "SSH connection error: cannot reach {who}. Check the host name, the port, the \
             network and that an SSH server runs there. ssh: {detail}"
        ));
    }
    SshError::Other(format!("SSH connection to {who} failed: {detail}"))
}

/// The hint for a remote command that exited with `code` and `stderr`
/// (tail), ending with the stderr text; ssh's own failures (code 255 with
/// an ssh message) are reported as connection errors.
pub fn classify_remote(who: &str, stderr: &str, code: i32, command: &str) -> String {
    let lower = stderr.to_lowercase();
    if code == 255 {
        let e = classify_connect(who, stderr);
        if !matches!(e, SshError::Other(_)) {
            return e.to_string();
        }
    }
    let cmd = command.split_whitespace().next().unwrap_or("unknown");
    let has = |ps: &[&str]| ps.iter().any(|p| lower.contains(p));
    let hint = if has(&["command not found"]) || code == 127 {
        format!(
            "Command not found on remote server: '{cmd}' (exit code {code}). Check that it \
             is installed there and on the PATH of a non-interactive login."
        )
    } else if has(&["permission denied", "operation not permitted"]) || code == 126 {
        format!(
            "Permission denied when executing '{cmd}' on remote server (exit code {code}). \
             Check file permissions (chmod +x)."
        )
    } else {
        classify_common(&lower, code, "on remote server")
    };
    with_stderr(hint, stderr)
}

/// The last non-empty line of ssh's stderr, trimmed.
fn last_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("(no message)")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_say_which_and_how_to_fix() {
        let e = classify_connect(
            "u@h:2222",
            "No ED25519 host key is known for [h]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n",
        );
        assert!(matches!(e, SshError::HostKey(_)));
        assert!(e.to_string().contains("FZ_SSH_AUTO_ACCEPT_HOSTKEYS=1"));
        assert!(e.to_string().contains("known_hosts"));
        assert!(e.is_permanent());
        let e = classify_connect("u@h", "u@h: Permission denied (publickey,password).");
        assert!(matches!(e, SshError::Auth(_)), "{e}");
        assert!(e.is_permanent());
        let e = classify_connect("h:1", "ssh: connect to host h port 1: Connection refused");
        assert!(matches!(e, SshError::Unreachable(_)));
        assert!(!e.is_permanent());
        assert!(e.to_string().contains("Connection refused"));
        let e = classify_connect(
            "nosuch",
            "ssh: Could not resolve hostname nosuch: Name or service not known",
        );
        assert!(matches!(e, SshError::Unreachable(_)));
        let e = classify_connect(
            "h",
            "@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key for h has changed and you have requested strict checking.\nHost key verification failed.",
        );
        assert!(e.to_string().contains("CHANGED"), "{e}");
        for e in [classify_connect("h", "weird"), classify_connect("h", "")] {
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn remote_command_hints() {
        let m = classify_remote(
            "h",
            "bash: line 1: nosuch: command not found",
            127,
            "nosuch x",
        );
        assert!(
            m.starts_with("Command not found on remote server: 'nosuch'"),
            "{m}"
        );
        assert!(m.ends_with("stderr: bash: line 1: nosuch: command not found"));
        let m = classify_remote("h", "boom", 3, "bash run.sh");
        assert_eq!(m, "Command failed with exit code 3. stderr: boom");
        let m = classify_remote(
            "h",
            "ssh: connect to host h port 22: Connection refused",
            255,
            "x",
        );
        assert!(m.starts_with("SSH connection error"), "{m}");
        let m = classify_remote("h", "", 255, "x");
        assert_eq!(m, "Command failed with exit code 255");
    }
}
