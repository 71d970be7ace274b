//! `fzr`: compile every case, run it on the calculators, collect its
//! outputs and return one table.
//!
//! Cases are compiled into a hidden work area beside the results directory,
//! run there, and renamed into `<results_dir>/<case>` only when finished
//! (outputs parsed, `info.txt` and `history.txt` written), so `ls
//! results_dir` lists finished cases only and a crash never leaves a half
//! case where a cache would trust it. `summary.csv`/`summary.json` are
//! rewritten atomically as cases finish.
//!
//! The work is split in four: a [`Runner`] holds what lives across
//! batches (calculators and their connections, the cache index, the
//! interrupt), a batch (`batch.rs`) is one results directory's cases from
//! compile to summary, the feed (`feed.rs`) compiles them a chunk at a
//! time just ahead of the engine, and `reuse.rs` decides whether an
//! earlier case can stand for a new one. `fzr` is one batch; `fzd` runs one batch per
//! iteration through the same runner.

mod batch;
mod feed;
mod land;
mod reuse;
mod rows;
mod runner;
mod success;

pub use super::events::RunEvent;
pub use runner::Runner;

use crate::calculators::Cancel;
use crate::config::{CaseNaming, Config};
use crate::design::Design;
use crate::error::Result;
use crate::format::Table;
use crate::model::{Lookup, Model, ModelTimeout};
use crate::report::live::LiveReport;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options of a run beyond the input, design and model.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where results go (absolute); an existing one is moved aside.
    pub results_dir: PathBuf,
    /// Calculators as the user wrote them (empty: auto-discovery).
    pub calculators: Vec<String>,
    /// `fzr(timeout=…)` / `--timeout`, seconds.
    pub timeout: Option<u64>,
    /// Case directory naming; `None` → `FZ_CASE_NAMING`.
    pub case_naming: Option<CaseNaming>,
    /// Files identical in every case.
    pub input_static: Vec<String>,
    /// Cancellation shared with whoever handles Ctrl+C (a fresh one when
    /// `None`).
    pub cancel: Option<Cancel>,
    /// Reuse an existing results directory in place: its finished cases
    /// are kept, the others run again (instead of moving it aside).
    pub resume: bool,
    /// Where to send [`RunEvent`]s as the run goes (Python callbacks, the
    /// CLI's `--events` file).
    pub events: Option<std::sync::mpsc::Sender<RunEvent>>,
    /// Show no progress bar or lines (`--no-progress`), whatever
    /// `FZ_PROGRESS` says.
    pub no_progress: bool,
    /// Keep an HTML report at this path (`--report`, `fzr(report=…)`):
    /// rewritten while cases finish, final when the run ends.
    pub report: Option<PathBuf>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// One row per finished case, in case order.
    pub table: Table,
    /// Where an existing results directory was moved, if any.
    pub moved_aside: Option<PathBuf>,
    /// Whether the run was interrupted (some cases were not run).
    pub interrupted: bool,
    /// The HTML report written at the end, when one was asked for and
    /// could be written (a failure is a warning: the run's results stand).
    pub report_page: Option<PathBuf>,
}

impl RunReport {
    /// Whether at least one case is `done` (the CLI exits 1 otherwise).
    pub fn any_done(&self) -> bool {
        self.count_status("done") > 0
    }

    /// Number of rows with this status.
    pub fn count_status(&self, status: &str) -> usize {
        let Some(col) = self.table.columns.iter().position(|c| c == "status") else {
            return 0;
        };
        self.table
            .rows
            .iter()
            .filter(|r| matches!(r.get(col), Some(crate::Value::Str(s)) if s == status))
            .count()
    }
}

/// The attempt time limit when the calculator URI sets none: model
/// `timeout` > `fzr(timeout=…)` > `FZ_RUN_TIMEOUT` > 3600 s.
pub fn attempt_timeout(model: &Model, explicit: Option<u64>, config: &Config) -> Option<Duration> {
    match model.timeout {
        Some(ModelTimeout::Unlimited) => None,
        Some(ModelTimeout::Seconds(s)) => Some(Duration::from_secs(s)),
        None => Some(Duration::from_secs(explicit.unwrap_or(config.run_timeout))),
    }
}

/// Runs a parametric study: one batch through a fresh [`Runner`].
pub fn fzr(
    input_path: &Path,
    design: Option<&Design>,
    model: &Model,
    options: &RunOptions,
    lookup: &Lookup,
) -> Result<RunReport> {
    let live = options
        .report
        .as_ref()
        .map(|out| LiveReport::start(&options.results_dir, out));
    let mut report = Runner::new(model, options, lookup).and_then(|mut runner| {
        runner.single_batch();
        runner.run(input_path, design, &options.results_dir, options.resume)
    });
    if let Some(live) = live {
        let page = final_report(&options.results_dir, &live.finish());
        if let Ok(report) = &mut report {
            report.report_page = page;
        }
    }
    report
}

/// Writes the final (not reloading) report page; a failure is a notice.
pub(crate) fn final_report(results_dir: &Path, out: &Path) -> Option<PathBuf> {
    match crate::report::write_html(results_dir, Some(out)) {
        Ok(page) => Some(page),
        Err(e) => {
            crate::log::notice(&format!("no report {}: {e}", out.display()));
            None
        }
    }
}
