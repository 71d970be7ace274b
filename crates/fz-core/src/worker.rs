//! A helper process spoken to in JSON lines: one request line on its
//! stdin, one reply line on its stdout, found by a random marker so that
//! whatever the user's code prints is never taken for a reply.
//!
//! This module owns starting such a process (`<exe> -c <script> <marker>`,
//! in its own process group so Ctrl+C on the terminal reaches fz only),
//! the exchange with a time limit, and the message when the process dies
//! (with the last lines of its stderr). The process dies with fz, even
//! when fz is killed by `kill -9` (see [`crate::process::tied`]). The
//! scripts and what requests mean belong to the callers (`python://`
//! outputs, `fzd` objectives).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bytes of a worker's stderr kept for the message when it dies.
const STDERR_TAIL: usize = 2000;

/// Why an exchange failed; either way the worker must not be reused.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerError {
    /// No reply within the time limit (the limit, in seconds).
    Timeout(f64),
    /// The worker could not be reached or went away (the message names
    /// the worker and its last stderr line).
    Dead(String),
}

/// One running helper process.
pub struct JsonWorker {
    /// The interpreter it runs.
    pub exe: String,
    label: &'static str,
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl JsonWorker {
    /// Starts `exe -c script marker` with `env` set. `label` names the
    /// worker in messages (`python:// worker`).
    pub fn start(
        exe: &str,
        script: &str,
        label: &'static str,
        env: &[(&str, &str)],
    ) -> Result<JsonWorker, String> {
        let marker = crate::template::interp::new_marker();
        let mut cmd = Command::new(exe);
        cmd.arg("-c")
            .arg(script)
            .arg(&marker)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Ctrl+C on the terminal reaches fz only; fz decides what stops.
        crate::calculators::ssh::session::own_group(&mut cmd);
        // Dies with fz, even on `kill -9`.
        let mut child = crate::process::spawn_tied(cmd)
            .map_err(|e| format!("{label}: could not run '{exe}': {e}"))?;
        let (stdin, stdout, stderr) =
            match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                (Some(i), Some(o), Some(e)) => (i, o, e),
                _ => return Err(format!("{label}: no pipes")),
            };
        Ok(JsonWorker {
            exe: exe.to_string(),
            label,
            child,
            stdin,
            replies: read_replies(stdout, marker),
            stderr: keep_tail(stderr),
        })
    }

    /// Sends one request line and waits for the reply (at most `limit`).
    pub fn ask(
        &mut self,
        request: &str,
        limit: Option<Duration>,
    ) -> Result<serde_json::Value, WorkerError> {
        let sent = writeln!(self.stdin, "{request}").and_then(|()| self.stdin.flush());
        if sent.is_err() {
            return Err(WorkerError::Dead(self.death("could not send the request")));
        }
        let reply = match limit {
            Some(l) => self.replies.recv_timeout(l),
            None => self
                .replies
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        let reply = match reply {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => {
                return Err(WorkerError::Timeout(
                    limit.map(|l| l.as_secs_f64()).unwrap_or_default(),
                ))
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(WorkerError::Dead(self.death("it stopped")))
            }
        };
        serde_json::from_str(&reply)
            .map_err(|e| WorkerError::Dead(format!("{}: unreadable reply ({e})", self.label)))
    }

    /// The message for a worker that went away, with its last stderr.
    fn death(&mut self, what: &str) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(20));
        let tail = self
            .stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let text = String::from_utf8_lossy(&tail);
        let last = text.trim().lines().last().unwrap_or("").to_string();
        if last.is_empty() {
            format!("{}: {what}", self.label)
        } else {
            format!("{}: {what}: {last}", self.label)
        }
    }
}

impl Drop for JsonWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reply lines (what follows the marker), read on their own thread.
fn read_replies(stdout: std::process::ChildStdout, marker: String) -> Receiver<String> {
    let (tx, replies) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(reply) = line.split_once(marker.as_str()).map(|(_, r)| r) {
                if tx.send(reply.to_string()).is_err() {
                    break;
                }
            }
        }
    });
    replies
}

/// The last [`STDERR_TAIL`] bytes of the worker's stderr, kept up to date
/// on their own thread.
fn keep_tail(mut stderr: std::process::ChildStderr) -> Arc<Mutex<Vec<u8>>> {
    let tail = Arc::new(Mutex::new(Vec::new()));
    let keep = tail.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut t = keep.lock().unwrap_or_else(|p| p.into_inner());
            t.extend_from_slice(&buf[..n]);
            let excess = t.len().saturating_sub(STDERR_TAIL);
            t.drain(..excess);
        }
    });
    tail
}
