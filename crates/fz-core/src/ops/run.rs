//! `fzr`: compile every case, run it on the calculators, collect its
//! outputs and return one table.
//!
//! Cases are compiled into `<results_dir>/.fz/work/<case>`, run there, and
//! renamed into `<results_dir>/<case>` only when finished (outputs parsed,
//! `info.txt` and `history.txt` written), so `ls results_dir` lists
//! finished cases only and a crash never leaves a half case where a cache
//! would trust it. `summary.csv`/`summary.json` are rewritten atomically as
//! cases finish.

use super::compile::{
    compile_all, fresh_output_dir, name_cases, prepare, Diagnostics, StaticEntry,
};
pub use super::events::RunEvent;
use crate::cache::hashfile::{parse as parse_hash, HASH_FILE};
use crate::cache::index::IndexWriter;
use crate::cache::lookup::{
    damaged_listed, key_digest, key_of, recorded_state, restore, CacheIndex, CacheTier,
};
use crate::calculators::{self, Calculator, Cancel};
use crate::config::{CaseNaming, Config};
use crate::design::Design;
use crate::engine::{run_jobs, CaseAttempts, EngineSettings, FnHooks, Job, SlotAttempt};
use crate::error::{Error, Result};
use crate::format::Table;
use crate::fsutil::rename_noreplace;
use crate::log;
use crate::model::{Lookup, Model, ModelTimeout};
use crate::results::journal::Journal;
use crate::results::{
    build_table, history_text, info_text, write_summaries, CaseResult, CaseStatus,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Argument list of a case: static entries first, then the input files,
/// as `.fz_hash` lists them.
fn input_files(rels: &[String], statics: &[StaticEntry]) -> Vec<String> {
    let mut files: Vec<String> = statics.iter().map(|s| s.name.clone()).collect();
    let mut rels = rels.to_vec();
    rels.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    files.extend(rels);
    files
}

/// Runs a parametric study.
pub fn fzr(
    input_path: &Path,
    design: Option<&Design>,
    model: &Model,
    options: &RunOptions,
    lookup: &Lookup,
) -> Result<RunReport> {
    let config = Config::from_env();
    let max_attempts = config.max_retries.clone().map_err(Error::Value)?;
    let cwd = &lookup.cwd;
    let uris = calculators::resolve::resolve(&options.calculators, model.id.as_deref(), lookup)?;
    // Cache tiers are consulted before any case is queued and never take a
    // calculator slot.
    let (cache_uris, run_uris): (Vec<&String>, Vec<&String>) = uris
        .iter()
        .partition(|u| u.to_ascii_lowercase().starts_with("cache://"));
    // One builder per run: calculators reaching the same SSH login share a
    // connection, closed when `calcs` is dropped at the end of the run.
    let builder = calculators::Builder::new();
    let mut calcs: Vec<Box<dyn Calculator>> = Vec::with_capacity(run_uris.len());
    for uri in run_uris {
        calcs.push(builder.build(uri)?);
    }
    let display: Vec<String> = calcs.iter().map(|c| c.display_uri().to_string()).collect();
    let p = prepare(
        input_path,
        design,
        model,
        &options.input_static,
        &config,
        cwd,
    )?;

    let results_dir = &options.results_dir;
    let resuming = options.resume && results_dir.is_dir();
    let moved_aside = if resuming {
        None
    } else {
        fresh_output_dir(results_dir)?
    };
    let work_root = work_root_for(results_dir);
    if work_root.exists() {
        // Left by a run that was killed: half cases, never results.
        log::info(&format!(
            "removing the work area of an earlier run that did not end: {}",
            work_root.display()
        ));
        let _ = fs::remove_dir_all(&work_root);
    }
    fs::create_dir_all(&work_root).map_err(|e| Error::io(&work_root, e))?;
    let journal = Journal::create(results_dir)?;
    // The index only saves later runs a scan: a results directory where it
    // cannot be written still works.
    let case_index = IndexWriter::open(results_dir)
        .map_err(|e| log::debug(&format!("no cache index in {}: {e}", results_dir.display())))
        .ok();
    let names = name_cases(
        results_dir,
        &p.cases,
        options.case_naming.unwrap_or(config.case_naming),
    )?;
    // The no-variable case lands in results_dir itself; it is prepared in
    // a named work directory like the others.
    let work_names: Vec<String> = names
        .iter()
        .map(|n| {
            if n.is_empty() {
                "_".to_string()
            } else {
                n.clone()
            }
        })
        .collect();
    let diagnostics = Diagnostics::default();
    let phase = Instant::now();
    let work_dirs = compile_all(
        &p.scan.input,
        model,
        &config,
        &p.statics,
        &p.cases,
        &work_names,
        &work_root,
        &diagnostics,
    )?;
    diagnostics.report();
    log::debug(&format!(
        "compiled {} cases in {:.3} s",
        work_dirs.len(),
        phase.elapsed().as_secs_f64()
    ));

    let rels: Vec<String> = p.scan.input.files.iter().map(|f| f.rel.clone()).collect();
    let args = input_files(&rels, &p.statics);
    let output_names: Vec<String> = model.output.keys().cloned().collect();
    let output_timeout = crate::outputs::shell::timeout_from_env();
    let finished: Mutex<Progress> = Mutex::new(Progress::default());
    let reporter = crate::progress::Reporter::new(p.cases.len(), !options.no_progress);
    let total = p.cases.len();
    let run_started = Instant::now();
    let send = |event: RunEvent| {
        if let Some(tx) = &options.events {
            let _ = tx.send(event);
        }
    };
    send(RunEvent::Started {
        total,
        calculators: uris.clone(),
    });
    let case_started = |index: usize| {
        send(RunEvent::CaseStarted {
            index,
            total,
            values: p.cases[index].clone(),
        })
    };
    let journal_name = |index: usize| {
        if names[index].is_empty() {
            "no_variables".to_string()
        } else {
            names[index].clone()
        }
    };
    let final_dir_of = |index: usize| {
        let name = &names[index];
        if name.is_empty() {
            results_dir.clone()
        } else {
            results_dir.join(name)
        }
    };
    // Rewrites summary.csv/json with the rows finished so far.
    let write_partial = |progress: &mut Progress| {
        let started = Instant::now();
        let mut sorted = progress.results.clone();
        sorted.sort_by_key(|r| r.index);
        let table = build_table(&p.variables, &output_names, &sorted, cwd);
        if let Err(e) = write_summaries(results_dir, &table) {
            log::warn(&format!("could not write the summary files: {e}"));
        }
        progress.last_cost = started.elapsed();
        progress.last_write = Some(Instant::now());
    };
    // Writes the bookkeeping files, moves the case into place and records
    // its row (the summaries are rewritten at most every 250 ms).
    let store = |work_dir: &Path, mut result: CaseResult, history: String| {
        let index = result.index;
        let final_dir = result.dir.clone();
        match finish_case(work_dir, &final_dir, &names[index], &mut result, &history) {
            Ok(()) => {
                if let Some(case_index) = &case_index {
                    case_index.record(results_dir, &names[index]);
                }
            }
            Err(e) => {
                result.status = CaseStatus::Error;
                result.error = Some(format!("Failed to store the case results: {e}"));
                log::error(&format!("case {index}: {e}"));
            }
        }
        log::info(&format!(
            "case {}: {} on {}{}",
            journal_name(index),
            result.status.as_str(),
            result.calculator,
            result
                .error
                .as_deref()
                .map_or(String::new(), |e| format!(" ({e})"))
        ));
        let (result_done, result_cached) = (
            result.status == CaseStatus::Done,
            result.calculator.starts_with("cache://"),
        );
        let ran_for = match (result_cached, result.started, result.ended) {
            (false, Some(start), Some(end)) => Some(end.duration_since(start).unwrap_or_default()),
            _ => None,
        };
        if options.events.is_some() {
            let one = build_table(
                &p.variables,
                &output_names,
                std::slice::from_ref(&result),
                cwd,
            );
            let row = one
                .columns
                .iter()
                .cloned()
                .zip(one.rows.into_iter().next().unwrap_or_default())
                .collect();
            send(RunEvent::CaseFinished {
                index,
                total,
                values: result.vars.clone(),
                status: result.status.as_str().to_string(),
                row,
            });
        }
        let mut progress = finished.lock().unwrap_or_else(|p| p.into_inner());
        progress.results.push(result);
        let completed = progress.results.len();
        reporter.case_finished(result_done, result_cached, ran_for);
        let eta_seconds = reporter.eta().map_or_else(
            || {
                let elapsed = run_started.elapsed().as_secs_f64();
                elapsed / completed.max(1) as f64 * total.saturating_sub(completed) as f64
            },
            |left| left.as_secs_f64(),
        );
        send(RunEvent::Progress {
            completed,
            total,
            eta_seconds,
        });
        // Rewriting the summaries costs O(rows): do it at most every 250 ms
        // and never more than a tenth of the time, so big runs stay linear.
        // Cache hits follow each other in a tight loop: they are written
        // once, when the calculators start (see below).
        let pause = Duration::from_millis(250).max(progress.last_cost * 10);
        if !progress.defer_summaries && progress.last_write.is_none_or(|t| t.elapsed() >= pause) {
            write_partial(&mut progress);
        }
    };

    // Resume: a case already finished in place is kept as it is; any other
    // earlier directory of a case is moved under .fz/replaced so the new
    // run can take its place (nothing is deleted).
    let mut kept: Vec<bool> = vec![false; work_dirs.len()];
    if resuming {
        for (i, dir) in work_dirs.iter().enumerate() {
            let old = final_dir_of(i);
            if names[i].is_empty() || !old.join(HASH_FILE).is_file() {
                continue;
            }
            let old_lines = fs::read_to_string(old.join(HASH_FILE))
                .map(|t| parse_hash(&t))
                .unwrap_or_default();
            let same_inputs = match fs::read_to_string(dir.join(HASH_FILE)) {
                Ok(a) => !old_lines.is_empty() && key_of(&parse_hash(&a)) == key_of(&old_lines),
                _ => false,
            };
            let outputs = if same_inputs {
                reusable(&old, &names[i], &old_lines, model, output_timeout)
            } else {
                None
            };
            if let Some(outputs) = outputs {
                let calculator = fs::read_to_string(old.join("info.txt"))
                    .ok()
                    .and_then(|t| {
                        t.lines()
                            .find_map(|l| l.strip_prefix("calc=").map(str::to_string))
                    })
                    .unwrap_or_else(|| "none".into());
                let _ = fs::remove_dir_all(dir);
                let mut progress = finished.lock().unwrap_or_else(|p| p.into_inner());
                progress.results.push(CaseResult {
                    index: i,
                    vars: p.cases[i].clone(),
                    outputs,
                    dir: old,
                    calculator,
                    status: CaseStatus::Done,
                    error: None,
                    command: Some("kept from the resumed run".into()),
                    exit_code: None,
                    attempts: 0,
                    started: None,
                    ended: None,
                });
                drop(progress);
                reporter.case_finished(true, true, None);
                kept[i] = true;
            } else {
                let replaced = results_dir.join(".fz_replaced");
                fs::create_dir_all(&replaced).map_err(|e| Error::io(&replaced, e))?;
                let aside = crate::fsutil::unique_child(&replaced, &names[i]);
                fs::rename(&old, &aside).map_err(|e| Error::io(&aside, e))?;
            }
        }
    }

    // Cache phase: one index of every tier, one lookup per case.
    let tiers: Vec<CacheTier> = cache_uris
        .iter()
        .map(|u| CacheTier::new(u, moved_aside.as_deref()))
        .collect();
    let phase = Instant::now();
    let index = if tiers.is_empty() {
        CacheIndex::default()
    } else {
        CacheIndex::build(&tiers, cwd)
    };
    log::debug(&format!(
        "cache index: {} input keys in {:.3} s",
        index.len(),
        phase.elapsed().as_secs_f64()
    ));
    let phase = Instant::now();
    let mut jobs: Vec<Job> = Vec::with_capacity(work_dirs.len());
    finished
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .defer_summaries = true;
    for (i, dir) in work_dirs.iter().enumerate() {
        if kept[i] {
            continue;
        }
        if let Some(Hit {
            dir: candidate,
            uri,
            outputs,
            lines,
        }) = cache_hit(&index, &tiers, dir, model, output_timeout, cwd)
        {
            case_started(i);
            match restore(&candidate, dir, &lines) {
                Ok(()) => {
                    let from = crate::results::display_path(&candidate, cwd);
                    // The cached case's log.txt (copied) says how it was
                    // computed; one line says where it came from.
                    let _ = fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join("log.txt"))
                        .and_then(|mut f| {
                            use std::io::Write;
                            f.write_all(
                                format!("Cache hit from {}\n", candidate.display()).as_bytes(),
                            )
                        });
                    let now = std::time::SystemTime::now();
                    let history = format!(
                        "# {}\nCache hit from {} ({uri})\nCase finished (status: done)\n",
                        journal_name(i),
                        candidate.display()
                    );
                    let result = CaseResult {
                        index: i,
                        vars: p.cases[i].clone(),
                        outputs,
                        dir: final_dir_of(i),
                        calculator: uri,
                        status: CaseStatus::Done,
                        error: None,
                        command: Some(format!("cache hit from {from}")),
                        exit_code: None,
                        attempts: 0,
                        started: Some(now),
                        ended: Some(now),
                    };
                    journal.record(
                        &journal_name(i),
                        0,
                        &result.calculator,
                        &crate::calculators::Attempt {
                            status: crate::calculators::AttemptStatus::Done,
                            exit_code: None,
                            command: String::new(),
                            command_line: String::new(),
                            started: now,
                            ended: now,
                            error: None,
                        },
                    );
                    store(dir, result, history);
                    continue;
                }
                Err(e) => log::warn(&format!("case {i}: could not copy the cache hit: {e}")),
            }
        }
        jobs.push(Job {
            index: i,
            work_dir: dir.clone(),
            input_files: args.clone(),
        });
    }
    log::debug(&format!(
        "cache phase: {} of {} cases from the cache in {:.3} s",
        work_dirs.len() - jobs.len(),
        work_dirs.len(),
        phase.elapsed().as_secs_f64()
    ));
    {
        // What the cache gave is in the summaries before the first
        // calculator starts (the final write covers a run without any).
        let mut progress = finished.lock().unwrap_or_else(|p| p.into_inner());
        progress.defer_summaries = false;
        if !jobs.is_empty() && !progress.results.is_empty() {
            write_partial(&mut progress);
        }
    }
    let settings = EngineSettings {
        max_workers: config.max_workers,
        max_attempts,
        timeout: attempt_timeout(model, options.timeout, &config),
    };
    log::info(&format!(
        "Running {} cases on {} calculator(s): {}",
        jobs.len(),
        calcs.len(),
        display.join(", ")
    ));
    let cancel = options.cancel.clone().unwrap_or_default();
    let validate = |job: &Job| -> Option<String> {
        if !config.missing_output_fails || model.output.is_empty() {
            return None;
        }
        let got = crate::outputs::extract(&job.work_dir, "", &model.output, output_timeout);
        got.error_text().map(|e| format!("Missing output: {e}"))
    };
    let hooks = FnHooks {
        case_started: |job: &Job| {
            reporter.case_running();
            case_started(job.index)
        },
        validate,
        attempt_ended: |job: &Job, a: &SlotAttempt, number: usize| {
            let calc = display.get(a.slot).map_or("?", String::as_str);
            journal.record(&journal_name(job.index), number, calc, &a.attempt);
        },
        case_ended: |job: &Job, attempts: &CaseAttempts| {
            let final_dir = final_dir_of(job.index);
            let mut result = CaseResult::from_attempts(
                job.index,
                p.cases[job.index].clone(),
                final_dir.clone(),
                attempts,
                &display,
                max_attempts,
            );
            // Outputs are read in the work directory (same files, before the
            // move); a missing output of a successful run is reported, not
            // retried (as upstream), unless FZ_MISSING_OUTPUT_FAILS.
            if !model.output.is_empty() {
                let shown = crate::results::display_path(&final_dir, cwd);
                let got =
                    crate::outputs::extract(&job.work_dir, &shown, &model.output, output_timeout);
                if result.status == CaseStatus::Done && result.error.is_none() {
                    result.error = got.error_text().map(|e| format!("Missing output: {e}"));
                }
                result.outputs = got.values;
            }
            let history = history_text(&names[job.index], &result, attempts, &display);
            store(&job.work_dir, result, history);
        },
    };
    run_jobs(&jobs, &calcs, &settings, cwd, &cancel, &hooks);
    let mut results = finished
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .results;
    // Cases an interrupt kept from starting: a row each, their compiled
    // inputs removed from the work area (nothing was computed for them).
    let interrupted = !cancel.may_start();
    let ran: std::collections::HashSet<usize> = results.iter().map(|r| r.index).collect();
    for job in jobs.iter().filter(|j| !ran.contains(&j.index)) {
        let _ = fs::remove_dir_all(&job.work_dir);
        results.push(CaseResult {
            index: job.index,
            vars: p.cases[job.index].clone(),
            outputs: indexmap::IndexMap::new(),
            dir: final_dir_of(job.index),
            calculator: "none".into(),
            status: CaseStatus::Interrupted,
            error: Some("Not started: the run was interrupted".into()),
            command: None,
            exit_code: None,
            attempts: 0,
            started: None,
            ended: None,
        });
    }
    results.sort_by_key(|r| r.index);
    let phase = Instant::now();
    let table = build_table(&p.variables, &output_names, &results, cwd);
    write_summaries(results_dir, &table)?;
    log::debug(&format!(
        "final table and summaries in {:.3} s",
        phase.elapsed().as_secs_f64()
    ));
    send(RunEvent::Finished {
        total,
        done: results
            .iter()
            .filter(|r| r.status == CaseStatus::Done)
            .count(),
        interrupted,
    });
    // The work area is empty once every case is in place.
    let _ = fs::remove_dir(&work_root);
    Ok(RunReport {
        table,
        moved_aside,
        interrupted,
    })
}

/// Where cases are compiled and run before they move into the results
/// directory: the hidden sibling `.<name>.fz-work` (same parent, hence
/// same file system, so the final rename is atomic), so the results
/// directory only ever lists finished cases, hidden entries included;
/// `<results>/.fz-work` when the results directory has no parent.
fn work_root_for(results_dir: &Path) -> PathBuf {
    match (results_dir.parent(), results_dir.file_name()) {
        (Some(parent), Some(name)) => parent.join(format!(".{}.fz-work", name.to_string_lossy())),
        _ => results_dir.join(".fz-work"),
    }
}

/// The outputs of an earlier case directory when it can stand for a new
/// case: recorded as `done`, its listed files intact (not truncated
/// mid-copy nor edited), and every model output readable in place (so a
/// rejected candidate leaves nothing behind). `None`, with the reason at
/// DEBUG level, otherwise.
fn reusable(
    dir: &Path,
    shown: &str,
    lines: &[crate::cache::hashfile::HashLine],
    model: &Model,
    output_timeout: Option<Duration>,
) -> Option<indexmap::IndexMap<String, crate::Value>> {
    if recorded_state(dir).as_deref() != Some("done") {
        log::debug(&format!(
            "cached case {shown} rejected: not recorded as done"
        ));
        return None;
    }
    let (missing, changed) = damaged_listed(dir, lines);
    if !missing.is_empty() || !changed.is_empty() {
        log::debug(&format!(
            "cached case {shown} rejected: files missing {missing:?} or changed {changed:?}"
        ));
        return None;
    }
    let got = crate::outputs::extract(dir, shown, &model.output, output_timeout);
    if got.values.values().any(|v| *v == crate::Value::Null) {
        log::debug(&format!("cached case {shown} rejected: missing outputs"));
        return None;
    }
    Some(got.values)
}

/// The first acceptable cached case for the case compiled in `work_dir`:
/// same input hashes, recorded as `done`, its listed files intact (not
/// truncated mid-copy nor edited), and every model output readable
/// (checked in the cached directory, so a rejected candidate leaves nothing
/// behind).
fn cache_hit(
    index: &CacheIndex,
    tiers: &[CacheTier],
    work_dir: &Path,
    model: &Model,
    output_timeout: Option<Duration>,
    cwd: &Path,
) -> Option<Hit> {
    if index.is_empty() {
        return None;
    }
    let text = fs::read_to_string(work_dir.join(HASH_FILE)).ok()?;
    let key = key_digest(&parse_hash(&text));
    for candidate in index.candidates(&key) {
        let shown = crate::results::display_path(&candidate.dir, cwd);
        // The map may come from a results-directory index: the candidate's
        // own .fz_hash, read now, has the last word.
        let lines = fs::read_to_string(candidate.dir.join(HASH_FILE))
            .map(|t| parse_hash(&t))
            .unwrap_or_default();
        if lines.is_empty() || key_digest(&lines) != key {
            log::debug(&format!(
                "cached case {shown} skipped: its .fz_hash changed since it was indexed"
            ));
            continue;
        }
        let Some(outputs) = reusable(&candidate.dir, &shown, &lines, model, output_timeout) else {
            continue;
        };
        return Some(Hit {
            dir: candidate.dir.clone(),
            uri: tiers[candidate.tier].uri.clone(),
            outputs,
            lines,
        });
    }
    None
}

/// An accepted cached case.
struct Hit {
    /// The cached case directory.
    dir: PathBuf,
    /// The URI of the tier it was found through.
    uri: String,
    /// Its outputs, read in place.
    outputs: indexmap::IndexMap<String, crate::Value>,
    /// Its `.fz_hash` lines (the new case's compiled inputs).
    lines: Vec<crate::cache::hashfile::HashLine>,
}

#[derive(Default)]
struct Progress {
    results: Vec<CaseResult>,
    /// While set (the cache phase), rows are not written to the summaries.
    defer_summaries: bool,
    last_write: Option<Instant>,
    last_cost: Duration,
}

/// Writes the bookkeeping files of a finished case and moves its work
/// directory into place.
fn finish_case(
    work_dir: &Path,
    final_dir: &Path,
    name: &str,
    result: &mut CaseResult,
    history: &str,
) -> Result<()> {
    let info = work_dir.join("info.txt");
    fs::write(&info, info_text(result)).map_err(|e| Error::io(&info, e))?;
    let history_path = work_dir.join("history.txt");
    fs::write(&history_path, history).map_err(|e| Error::io(&history_path, e))?;
    if name.is_empty() {
        // The single case of a design without variables: its files go into
        // the results directory itself.
        let entries = fs::read_dir(work_dir).map_err(|e| Error::io(work_dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(work_dir, e))?;
            let target = final_dir.join(entry.file_name());
            fs::rename(entry.path(), &target).map_err(|e| Error::io(&target, e))?;
        }
        fs::remove_dir(work_dir).map_err(|e| Error::io(work_dir, e))?;
    } else {
        rename_noreplace(work_dir, final_dir).map_err(|e| Error::io(final_dir, e))?;
    }
    Ok(())
}
