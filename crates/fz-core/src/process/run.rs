//! Running one command tree to its end: spawn it in a group of its own with
//! a fresh tag, wait for it under a time limit and cancellation, stop the
//! whole tree then, and stop what it left behind when it exits by itself.
//!
//! The caller builds the command (program, arguments, directory, files),
//! with [`case_command`] for the usual case command; this module only adds
//! the group, the tag and the waiting.

use super::tree::{Tree, TAG_VAR};
use crate::calculators::Cancel;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How often cancellation is checked while a command runs.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// How a command tree ended.
#[derive(Debug)]
pub enum Ended {
    /// Cancellation was already requested: nothing was started.
    NotStarted,
    /// The command could not be started (message).
    SpawnFailed(String),
    /// The command exited by itself: its code (minus the signal number when
    /// killed by a signal), or why it could not be waited for.
    Exited(std::result::Result<i32, String>),
    /// The time limit expired; the tree was killed (raw code if known).
    TimedOut(Option<i32>),
    /// Cancelled while running; the tree was killed (raw code if known).
    Interrupted(Option<i32>),
}

/// What bounds a run: its time limit, the run's cancellation, and the time
/// between SIGTERM and SIGKILL when it is stopped.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// Time limit (`None`: none).
    pub timeout: Option<Duration>,
    /// Cancellation of the whole run.
    pub cancel: &'a Cancel,
    /// SIGTERM → SIGKILL delay.
    pub grace: Duration,
}

/// `bash -c <line>` in the case directory `dir`, stdin `/dev/null`, stdout
/// and stderr to `dir/out.txt` and `dir/err.txt` (created), with
/// `FZ_SHELL_PATH` before `PATH` when set: how every local case command
/// runs (`sh://`, `slurm://` srun mode, the packed-mode worker). The error
/// names the file that could not be created.
pub fn case_command(line: &str, dir: &std::path::Path) -> Result<Command, String> {
    use std::process::Stdio;
    let open = |name: &str| {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .map_err(|e| format!("Could not create {}: {e}", path.display()))
    };
    let (out, err) = (open("out.txt")?, open("err.txt")?);
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    if let Some(path) = crate::config::shell_search_path() {
        command.env("PATH", path);
    }
    Ok(command)
}

/// Spawns `command` in a process group of its own, tagged, and waits for
/// it under `limits`. On timeout or cancellation the whole tree is stopped;
/// after a normal exit, whatever it left running is stopped too, so that
/// nothing keeps writing into its directory. `what` names the program in
/// the spawn error (`bash`).
pub fn run_tree(mut command: Command, what: &str, limits: Limits) -> Ended {
    use std::os::unix::process::CommandExt;
    let tag = super::new_tag();
    command.env(TAG_VAR, &tag).process_group(0);
    let clock = Instant::now();
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Ended::SpawnFailed(format!("Could not start {what}: {e}")),
    };
    let Ok(pgid) = i32::try_from(child.id()) else {
        return Ended::SpawnFailed(format!("Could not start {what}: process id out of range"));
    };
    let tree = Tree::new(pgid, &tag);
    let rx = match waiter(child) {
        Ok(rx) => rx,
        Err(e) => {
            tree.stop(Duration::ZERO);
            return Ended::SpawnFailed(format!("Could not start a waiter thread: {e}"));
        }
    };
    let stop = match watch(&rx, clock, limits) {
        Watched::Exited(result) => return exited(&tree, result, limits.grace),
        Watched::Stop(stop) => stop,
    };
    tree.stop(limits.grace);
    let code = rx
        .recv_timeout(super::tree::KILL_WAIT)
        .ok()
        .and_then(|r| r.ok());
    let code = code.map(super::exit_code);
    match stop {
        Stop::Interrupted => Ended::Interrupted(code),
        Stop::TimedOut => Ended::TimedOut(code),
    }
}

type WaitResult = std::io::Result<ExitStatus>;

/// A thread that reaps `child` and sends its status.
fn waiter(mut child: Child) -> std::io::Result<Receiver<WaitResult>> {
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    let spawned = std::thread::Builder::new()
        .name("fz-wait".to_string())
        .spawn(move || {
            let _ = tx.send(child.wait());
        });
    match spawned {
        Ok(_) => Ok(rx),
        Err(e) => {
            // The child went with the closure: kill and reap it here.
            if let Ok(pid) = i32::try_from(pid) {
                super::signal_group(pid, libc::SIGKILL);
                let mut status = 0;
                // SAFETY: waiting for our own child by pid.
                unsafe { libc::waitpid(pid, &mut status, 0) };
            }
            Err(e)
        }
    }
}

/// Why a running tree must be stopped.
enum Stop {
    TimedOut,
    Interrupted,
}

enum Watched {
    Exited(Result<WaitResult, ()>),
    Stop(Stop),
}

/// Waits for the status from `rx`, watching the clock and cancellation.
fn watch(rx: &Receiver<WaitResult>, clock: Instant, limits: Limits) -> Watched {
    let deadline = limits.timeout.map(|t| clock + t);
    loop {
        let step = deadline.map_or(CANCEL_POLL, |d| {
            d.saturating_duration_since(Instant::now()).min(CANCEL_POLL)
        });
        match rx.recv_timeout(step) {
            Ok(result) => return Watched::Exited(Ok(result)),
            Err(RecvTimeoutError::Disconnected) => return Watched::Exited(Err(())),
            Err(RecvTimeoutError::Timeout) => {
                if limits.cancel.must_kill() {
                    return Watched::Stop(Stop::Interrupted);
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Watched::Stop(Stop::TimedOut);
                }
            }
        }
    }
}

/// The outcome of a command that exited by itself, after stopping what it
/// left running.
fn exited(tree: &Tree, result: Result<WaitResult, ()>, grace: Duration) -> Ended {
    if tree.left_after_exit() {
        tree.stop(grace);
    }
    match result {
        Ok(r) => Ended::Exited(
            r.map(super::exit_code)
                .map_err(|e| format!("Could not wait for the command: {e}")),
        ),
        Err(()) => Ended::Exited(Err("Lost track of the command".to_string())),
    }
}
