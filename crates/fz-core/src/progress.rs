//! Progress of a run on stderr. On a terminal (and not under CI): a live
//! bar with a spinner, counts, percentage and ETA, with log lines printed
//! above it so they never tear it. Otherwise: a plain line per finished
//! case (every tenth of a big run, and the last five). `FZ_PROGRESS=0` or
//! the QUIET log level turns both off. This module only displays; it does
//! not count cases itself.

use crate::config::{parse_bool, LogLevel};
use crate::log;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Environment variables whose presence means "running under CI".
const CI_VARS: &[&str] = &[
    "CI",
    "CONTINUOUS_INTEGRATION",
    "TRAVIS",
    "CIRCLECI",
    "JENKINS",
    "GITHUB_ACTIONS",
];

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing.
    Off,
    /// One line per finished case.
    Lines,
    /// A live bar.
    Bar,
}

/// The mode for a run of `total` cases, from the environment now.
pub fn mode_for(total: usize) -> Mode {
    let disabled = std::env::var("FZ_PROGRESS").is_ok_and(|v| parse_bool(&v) == Some(false));
    if total < 2 || disabled || !log::enabled(LogLevel::Error) {
        Mode::Off
    } else if std::io::stderr().is_terminal()
        && !CI_VARS.iter().any(|v| std::env::var_os(v).is_some())
    {
        Mode::Bar
    } else {
        Mode::Lines
    }
}

/// Progress of one run.
pub struct Reporter {
    mode: Mode,
    total: usize,
    started: Instant,
    completed: AtomicUsize,
    failed: AtomicUsize,
    cached: AtomicUsize,
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// Starts showing the progress of `total` cases.
    pub fn new(total: usize) -> Reporter {
        let mode = mode_for(total);
        let bar = (mode == Mode::Bar).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} ({percent}%) - ETA: {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█>░")
            .tick_chars("◢◣◤◥ ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(150));
            log::set_bar(Some(bar.clone()));
            bar
        });
        Reporter {
            mode,
            total,
            started: Instant::now(),
            completed: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            cached: AtomicUsize::new(0),
            bar,
        }
    }

    /// The display mode chosen.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// A case ended (`done`, and whether it came from a cache).
    pub fn case_finished(&self, done: bool, cached: bool) {
        let completed = self.completed.fetch_add(1, Ordering::SeqCst) + 1;
        if !done {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        if cached {
            self.cached.fetch_add(1, Ordering::SeqCst);
        }
        match self.mode {
            Mode::Off => {}
            Mode::Bar => {
                if let Some(bar) = &self.bar {
                    bar.set_position(completed as u64);
                    bar.set_message(format!(
                        "done {} · failed {} · cached {}",
                        completed - self.failed.load(Ordering::SeqCst),
                        self.failed.load(Ordering::SeqCst),
                        self.cached.load(Ordering::SeqCst)
                    ));
                }
            }
            Mode::Lines => self.line(completed),
        }
    }

    fn line(&self, completed: usize) {
        let total = self.total;
        let step = (total / 10).max(1);
        if !completed.is_multiple_of(step) && total - completed > 5 {
            return;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let eta = elapsed / completed as f64 * (total - completed) as f64;
        let eta = if eta < 60.0 {
            format!("{eta:.1}s")
        } else if eta < 3600.0 {
            format!("{:.1}m", eta / 60.0)
        } else {
            format!("{:.1}h", eta / 3600.0)
        };
        eprintln!(
            "📊 Progress: {completed}/{total} cases completed ({:.1}%), ETA: {eta}",
            completed as f64 * 100.0 / total as f64
        );
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
            log::set_bar(None);
            // The final state stays on screen; what follows starts below it.
            eprintln!();
        }
    }
}
