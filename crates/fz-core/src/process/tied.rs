//! Helper processes tied to fz's life: on Linux they get SIGKILL when fz
//! dies, even by `kill -9` (`PR_SET_PDEATHSIG`), so a formula or output
//! worker never outlives the run.
//!
//! The kernel sends that signal when the *thread* that forked the child
//! ends, not the process; so every tied child is spawned by one spawner
//! thread that lives as long as fz. This module only spawns; talking to
//! the helper belongs to its owner (`crate::worker`, the formula
//! interpreter).

use std::process::{Child, Command};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};

type Request = (Command, Sender<std::io::Result<Child>>);

/// Spawns `command` so that it dies with fz (Linux; elsewhere a plain
/// spawn). Same errors as [`Command::spawn`].
pub fn spawn_tied(mut command: Command) -> std::io::Result<Child> {
    tie(&mut command);
    let Some(spawner) = spawner() else {
        return command.spawn();
    };
    let (tx, rx) = mpsc::channel();
    let sent = spawner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((command, tx));
    if let Err(mpsc::SendError((mut command, _))) = sent {
        return command.spawn();
    }
    rx.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the process spawner stopped")))
}

/// The channel to the spawner thread, started on first use; `None` when
/// the thread cannot be started.
fn spawner() -> Option<&'static Mutex<Sender<Request>>> {
    static SPAWNER: OnceLock<Option<Mutex<Sender<Request>>>> = OnceLock::new();
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Request>();
            std::thread::Builder::new()
                .name("fz-spawner".to_string())
                .spawn(move || {
                    for (mut command, reply) in rx {
                        let _ = reply.send(command.spawn());
                    }
                })
                .ok()
                .map(|_| Mutex::new(tx))
        })
        .as_ref()
}

/// Asks for SIGKILL at the parent's death, in the child before exec.
#[cfg(target_os = "linux")]
fn tie(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure only makes async-signal-safe system calls.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // fz may have died between fork and prctl.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("fz exited"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn tie(_command: &mut Command) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn tied_children_run_and_are_waited_for() {
        // Spawned from a short-lived thread: the child must outlive it.
        let child = std::thread::spawn(|| {
            let mut c = Command::new("sleep");
            c.arg("0.5");
            spawn_tied(c).unwrap()
        })
        .join()
        .unwrap();
        let mut child = child;
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "{status:?}: killed with its spawning thread?"
        );
        let mut c = Command::new("/nonexistent/fz-prog");
        c.arg("x");
        assert!(spawn_tied(c).is_err());
    }
}
