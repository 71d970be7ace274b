//! The time limit of a formula round trip (`FZ_FORMULA_TIMEOUT`, default
//! 60 s per case, `0` for none): a thread that kills the interpreter
//! process if its answer does not come in time, so a formula such as
//! `@{10**10**10}` cannot hang fz. It knows nothing of the protocol.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Seconds a case's formulas may take when `FZ_FORMULA_TIMEOUT` is unset.
const DEFAULT_SECONDS: u64 = 60;

/// The limit per case: `FZ_FORMULA_TIMEOUT` seconds (`0`: none); an
/// unreadable value falls back to the default with a notice.
pub fn limit_per_case() -> Option<Duration> {
    let seconds = match crate::config::setting("FZ_FORMULA_TIMEOUT") {
        None => DEFAULT_SECONDS,
        Some(text) => match text.trim().parse::<u64>() {
            Ok(s) => s,
            Err(_) => {
                crate::log::notice(&format!(
                    "FZ_FORMULA_TIMEOUT must be a non-negative integer, got '{text}'; using {DEFAULT_SECONDS} s"
                ));
                DEFAULT_SECONDS
            }
        },
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// Kills process `pid` (SIGKILL) unless disarmed within its limit.
pub struct Watchdog {
    disarm: Sender<()>,
    fired: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `pid`, a child of ours not yet reaped (so the pid
    /// cannot have been reused).
    pub fn arm(pid: u32, limit: Duration) -> Watchdog {
        let (tx, rx) = channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&fired);
        let thread = std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                flag.store(true, Ordering::SeqCst);
                // SAFETY: signalling our own unreaped child.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        });
        Watchdog {
            disarm: tx,
            fired,
            thread: Some(thread),
        }
    }

    /// Stops watching; whether the limit was reached (and the process
    /// killed).
    pub fn disarm(mut self) -> bool {
        let _ = self.disarm.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.fired.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn kills_a_process_past_its_limit_and_spares_one_in_time() {
        let mut slow = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let started = Instant::now();
        let dog = Watchdog::arm(slow.id(), Duration::from_millis(200));
        let status = slow.wait().unwrap();
        assert!(dog.disarm());
        assert!(!status.success());
        assert!(started.elapsed() < Duration::from_secs(10));

        let mut quick = std::process::Command::new("true").spawn().unwrap();
        let dog = Watchdog::arm(quick.id(), Duration::from_secs(30));
        assert!(quick.wait().unwrap().success());
        assert!(!dog.disarm());
    }
}
