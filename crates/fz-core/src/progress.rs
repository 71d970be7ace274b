//! Progress of a run on stderr. On a terminal (and not under CI): a live
//! bar with a spinner, counts, percentage and ETA, with log lines printed
//! above it so they never tear it. Otherwise: a plain line per finished
//! case (every tenth of a big run, and the last five). `FZ_PROGRESS=0` or
//! the QUIET log level turns both off.
//!
//! The ETA comes from the cases that actually ran (cache hits take no
//! time and would make it lie): their mean duration times the cases left,
//! divided by the number of cases that have been running at once. This
//! module only displays and estimates; the run tells it what happened.

use crate::config::{parse_bool, LogLevel};
use crate::log;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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

/// The mode for a run of `total` cases, from the environment now
/// (`wanted` false: off whatever the environment says).
pub fn mode_for(total: usize, wanted: bool) -> Mode {
    let disabled =
        crate::config::setting("FZ_PROGRESS").is_some_and(|v| parse_bool(&v) == Some(false));
    if total < 2 || !wanted || disabled || !log::enabled(LogLevel::Error) {
        Mode::Off
    } else if std::io::stderr().is_terminal()
        && !CI_VARS.iter().any(|v| std::env::var_os(v).is_some())
    {
        Mode::Bar
    } else {
        Mode::Lines
    }
}

/// What the ETA is computed from.
#[derive(Debug, Default)]
struct Eta {
    total: usize,
    completed: usize,
    /// Cases running now.
    busy: usize,
    /// Most cases seen running at once (the slots the run really uses).
    peak_busy: usize,
    /// Cases that ran on a calculator and ended, and their total time.
    ran: usize,
    ran_time: Duration,
    /// The last estimate and when it was made (it counts down between
    /// case ends).
    estimate: Option<(Duration, Instant)>,
}

impl Eta {
    fn update(&mut self) {
        let left = self.total.saturating_sub(self.completed);
        self.estimate = if left == 0 {
            Some((Duration::ZERO, Instant::now()))
        } else if self.ran == 0 {
            None
        } else {
            let mean = self.ran_time.as_secs_f64() / self.ran as f64;
            let slots = self.peak_busy.clamp(1, left) as f64;
            Some((
                Duration::from_secs_f64(mean * left as f64 / slots),
                Instant::now(),
            ))
        };
    }

    /// Time left now, if it can be estimated yet.
    fn left(&self) -> Option<Duration> {
        self.estimate
            .map(|(eta, at)| eta.saturating_sub(at.elapsed()))
    }
}

/// `45s`, `1m 45s`, `2h 5m` (upstream's bar format).
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {}s", s / 60, s % 60)
    } else {
        format!("{}h {}m", s / 3600, (s % 3600) / 60)
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
    /// Cases stopped by an interrupt: neither done nor failed, and not
    /// counted in the bar's position (so it never shows 100 % after Ctrl+C).
    interrupted: AtomicUsize,
    eta: Arc<Mutex<Eta>>,
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// Starts showing the progress of `total` cases (unless `wanted` is
    /// false or the environment turns it off).
    pub fn new(total: usize, wanted: bool) -> Reporter {
        let mode = mode_for(total, wanted);
        let eta = Arc::new(Mutex::new(Eta {
            total,
            ..Eta::default()
        }));
        let bar = (mode == Mode::Bar).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let shared = Arc::clone(&eta);
            let style = ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} ({fz_percent}) - {fz_eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "fz_percent",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.1}%", state.fraction() * 100.0);
                },
            )
            .with_key(
                "fz_eta",
                move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let eta = shared.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = match eta.left() {
                        Some(left) => write!(w, "ETA: {}", human_duration(left)),
                        None => write!(w, "ETA: ..."),
                    };
                },
            )
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
            interrupted: AtomicUsize::new(0),
            eta,
            bar,
        }
    }

    /// The display mode chosen.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// A case starts running on a calculator (cache hits never do).
    pub fn case_running(&self) {
        let mut eta = self.lock_eta();
        eta.busy += 1;
        eta.peak_busy = eta.peak_busy.max(eta.busy);
    }

    /// Estimated time left, once a case has run (cache hits excluded).
    pub fn eta(&self) -> Option<Duration> {
        self.lock_eta().left()
    }

    fn lock_eta(&self) -> std::sync::MutexGuard<'_, Eta> {
        self.eta.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A case was stopped by an interrupt (killed while running, or never
    /// started): counted apart, never as failed or completed.
    pub fn case_interrupted(&self, was_running: bool) {
        if was_running {
            let mut eta = self.lock_eta();
            eta.busy = eta.busy.saturating_sub(1);
        }
        self.interrupted.fetch_add(1, Ordering::SeqCst);
        if let Some(bar) = &self.bar {
            bar.set_message(self.counts_message(self.completed.load(Ordering::SeqCst)));
        }
    }

    /// `· done 3 · failed 1 · cached 0` (`· interrupted 2` once any is).
    fn counts_message(&self, completed: usize) -> String {
        let failed = self.failed.load(Ordering::SeqCst);
        counts_message(
            completed - failed,
            failed,
            self.cached.load(Ordering::SeqCst),
            self.interrupted.load(Ordering::SeqCst),
        )
    }

    /// A case ended (`done`, whether it came from a cache, and how long it
    /// ran when it ran on a calculator).
    pub fn case_finished(&self, done: bool, cached: bool, ran_for: Option<Duration>) {
        {
            let mut eta = self.lock_eta();
            eta.completed += 1;
            if let Some(time) = ran_for {
                eta.busy = eta.busy.saturating_sub(1);
                eta.ran += 1;
                eta.ran_time += time;
            }
            eta.update();
        }
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
                    bar.set_message(self.counts_message(completed));
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
        let eta = match self.eta() {
            Some(left) => left.as_secs_f64(),
            None => {
                let elapsed = self.started.elapsed().as_secs_f64();
                elapsed / completed as f64 * (total - completed) as f64
            }
        };
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
        let interrupted = self.interrupted.load(Ordering::SeqCst);
        if let Some(bar) = self.bar.take() {
            // `finish` would move the bar to its end (100 %): after an
            // interrupt the bar stays where the run stopped.
            if interrupted > 0 {
                bar.abandon();
            } else {
                bar.finish();
            }
            log::set_bar(None);
            // The final state stays on screen; what follows starts below it.
            eprintln!();
        } else if self.mode == Mode::Lines && interrupted > 0 {
            let completed = self.completed.load(Ordering::SeqCst);
            eprintln!("{}", interrupted_line(completed, self.total, interrupted));
        }
    }
}

/// The counts shown after the bar.
fn counts_message(done: usize, failed: usize, cached: usize, interrupted: usize) -> String {
    let mut text = format!("· done {done} · failed {failed} · cached {cached}");
    if interrupted > 0 {
        text.push_str(&format!(" · interrupted {interrupted}"));
    }
    text
}

/// The last progress line of an interrupted run (line mode).
fn interrupted_line(completed: usize, total: usize, interrupted: usize) -> String {
    format!(
        "📊 Progress: {completed}/{total} cases completed ({:.1}%), interrupted {interrupted}",
        completed as f64 * 100.0 / total.max(1) as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eta(total: usize) -> Eta {
        Eta {
            total,
            ..Eta::default()
        }
    }

    #[test]
    fn eta_is_mean_duration_times_cases_left_over_busy_slots() {
        let mut e = eta(10);
        e.busy = 2;
        e.peak_busy = 2;
        // Two cases of 4 s each ended: 8 left, 2 at a time → 16 s.
        e.completed = 2;
        e.ran = 2;
        e.ran_time = Duration::from_secs(8);
        e.update();
        let left = e.left().unwrap().as_secs_f64();
        assert!((15.9..=16.0).contains(&left), "{left}");
    }

    #[test]
    fn cache_hits_do_not_shrink_the_estimate_and_nothing_is_guessed_before_a_run() {
        let mut e = eta(10);
        e.completed = 5; // all from the cache
        e.update();
        assert_eq!(e.left(), None);
        e.peak_busy = 1;
        e.completed = 6;
        e.ran = 1;
        e.ran_time = Duration::from_secs(3);
        e.update();
        let left = e.left().unwrap().as_secs_f64();
        assert!((11.9..=12.0).contains(&left), "{left}");
    }

    #[test]
    fn fewer_cases_left_than_slots_take_one_case_duration() {
        let mut e = eta(10);
        e.peak_busy = 8;
        e.completed = 9;
        e.ran = 9;
        e.ran_time = Duration::from_secs(18);
        e.update();
        let left = e.left().unwrap().as_secs_f64();
        assert!((1.9..=2.0).contains(&left), "{left}");
        e.completed = 10;
        e.update();
        assert_eq!(e.left(), Some(Duration::ZERO));
    }

    #[test]
    fn interrupted_cases_are_counted_apart_and_never_complete_the_bar() {
        assert_eq!(counts_message(2, 1, 0, 0), "· done 2 · failed 1 · cached 0");
        assert_eq!(
            counts_message(2, 0, 0, 3),
            "· done 2 · failed 0 · cached 0 · interrupted 3"
        );
        assert_eq!(
            interrupted_line(2, 5, 3),
            "📊 Progress: 2/5 cases completed (40.0%), interrupted 3"
        );
        let r = Reporter::new(4, false);
        r.case_running();
        r.case_finished(true, false, Some(Duration::from_secs(1)));
        r.case_running();
        r.case_interrupted(true);
        r.case_interrupted(false);
        assert_eq!(r.completed.load(Ordering::SeqCst), 1);
        assert_eq!(r.failed.load(Ordering::SeqCst), 0);
        assert_eq!(r.interrupted.load(Ordering::SeqCst), 2);
        assert_eq!(r.lock_eta().busy, 0);
    }

    #[test]
    fn durations_read_like_upstreams_bar() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(105)), "1m 45s");
        assert_eq!(human_duration(Duration::from_secs(7500)), "2h 5m");
    }
}
