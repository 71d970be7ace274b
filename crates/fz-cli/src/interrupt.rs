//! Ctrl+C (SIGINT) and SIGTERM during a run, with the seed's semantics: the
//! first signal lets running cases finish and starts no new one; the second
//! kills the running cases. The signal handler only counts signals (the
//! one thing it may safely do); a watcher thread turns the count into
//! cancellation and tells the user, at every log level.
//!
//! For the duration of a run fz is also a child subreaper (Linux), so that
//! processes a calculator detached from its tree are handed to fz rather
//! than to init; those still alive when the run ends are killed (see
//! `fz_core::process::orphans`).

use fz_core::calculators::Cancel;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// Handling installed for the duration of a run; dropping it restores the
/// handlers that were there before (Python's, when called from the Python
/// package) and stops the watcher.
pub struct Guard {
    stop: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

/// Installs the handlers for SIGINT and SIGTERM, feeding `cancel`.
pub fn install(cancel: Cancel) -> Guard {
    SIGNALS.store(0, Ordering::SeqCst);
    fz_core::process::orphans::become_subreaper();
    let mut previous = Vec::new();
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler is async-signal-safe (one atomic add) and
        // stays valid for the life of the process; `old` receives the
        // disposition to restore.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, &action, &mut old) == 0 {
                previous.push((sig, old));
            }
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stop_w = Arc::clone(&stop);
    let watcher = std::thread::spawn(move || {
        let mut seen = 0;
        while !stop_w.load(Ordering::SeqCst) {
            let n = SIGNALS.load(Ordering::SeqCst);
            if n > seen {
                if seen == 0 {
                    cancel.stop_new();
                    fz_core::log::emit(
                        "⚠️  Interrupt received: running cases finish, no new case starts. Press Ctrl+C again to kill them.",
                    );
                }
                if n >= 2 && seen < 2 {
                    cancel.kill_running();
                    fz_core::log::emit("⚠️  Second interrupt: killing the running cases.");
                }
                seen = n;
            }
            // Parked rather than asleep, so the end of a run (Guard::drop)
            // wakes it at once instead of waiting out the poll period.
            std::thread::park_timeout(Duration::from_millis(50));
        }
    });
    Guard {
        stop,
        watcher: Some(watcher),
        previous,
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        fz_core::process::orphans::sweep(true);
        self.stop.store(true, Ordering::SeqCst);
        if let Some(w) = self.watcher.take() {
            w.thread().unpark();
            let _ = w.join();
        }
        for (sig, old) in &self.previous {
            // SAFETY: restoring the disposition saved at install time.
            unsafe {
                libc::sigaction(*sig, old, std::ptr::null_mut());
            }
        }
    }
}

/// A command line as the user could type it again (arguments quoted when
/// needed).
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
