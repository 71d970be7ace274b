//! One batch of a run: a results directory's cases from compile to
//! summary.
//!
//! Phases: [`Batch::open`] (results directory, work area, journal, names),
//! then chunk by chunk (`FZ_COMPILE_AHEAD` cases), just ahead of the
//! engine (`feed.rs`): compile, [`Batch::keep_finished`] (`--resume`),
//! [`Batch::cache_lookup`]; the engine runs the chunk's remaining jobs and
//! calls back through [`Hooks`] as cases end ([`Batch::store`] writes a
//! case's bookkeeping files, moves it into place and records its row), and
//! [`Batch::finish`] adds rows for cases an interrupt kept from starting
//! and writes the final summaries. Only one chunk is ever compiled ahead,
//! so a large design never fills the disk with waiting cases. Calculators
//! and the cache index belong to the runner, not here.

use super::land::{land, CaseFiles, PendingHashes};
use super::reuse::{cache_hit, reusable, Hit};
use super::rows::Finished;
use super::runner::Context;
use super::{RunEvent, RunReport};
use crate::cache::hashfile::{parse as parse_hash, HASH_FILE};
use crate::cache::index::IndexWriter;
use crate::cache::lookup::{key_of, restore, CacheIndex, CacheTier};
use crate::calculators::{Attempt, AttemptStatus, Cancel};
use crate::engine::{CaseAttempts, Hooks, Job, SlotAttempt, Verdict};
use crate::error::{Error, Result};
use crate::log;
use crate::ops::case_writer::HashOut;
use crate::ops::compile::{compile_all, fresh_output_dir, name_cases, Diagnostics, Prepared};
use crate::outputs::Extracted;
use crate::progress::Reporter;
use crate::results::journal::Journal;
use crate::results::lock::DirLock;
use crate::results::{
    build_table, display_path, finish_table, history_text, info_text, table_row, write_summaries,
    CaseResult, CaseStatus,
};
use std::collections::HashMap;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The rows finished so far and when the summaries were last written.
#[derive(Default)]
struct Rows {
    results: Vec<Finished>,
    /// While set (the cache phase), rows are not written to the summaries.
    defer_summaries: bool,
    last_write: Option<Instant>,
    last_cost: Duration,
}

/// One results directory's cases.
pub(super) struct Batch<'r, 'a> {
    /// The results directory's lock, released when the batch ends.
    _lock: DirLock,
    ctx: &'r Context<'a>,
    p: Prepared,
    results_dir: PathBuf,
    moved_aside: Option<PathBuf>,
    resuming: bool,
    work_root: PathBuf,
    journal: Journal,
    /// The results directory's cache index; `None` where it cannot be
    /// written (it only saves later runs a scan).
    case_index: Option<IndexWriter>,
    names: Vec<String>,
    /// Formula messages of the compile, shown once for the whole batch.
    diagnostics: Diagnostics,
    /// Argument list of every case (`.fz_hash` order).
    args: Vec<String>,
    /// The `.fz_hash` texts of the cases compiled and not landed yet: the
    /// calculators never find them in their working directory.
    hashes: PendingHashes,
    /// The input-hash key of each case finished `done`, by case index,
    /// when later batches of the run look them up (`fzd`); `None` (`fzr`)
    /// keeps nothing.
    done_keys: Option<Mutex<HashMap<usize, String>>>,
    output_names: Vec<String>,
    rows: Mutex<Rows>,
    /// The outputs read to judge the last attempt of a running case (by
    /// index, with that attempt's start), read again by nothing when the
    /// case ends.
    judged: Mutex<HashMap<usize, (SystemTime, Extracted)>>,
    reporter: Reporter,
    started: Instant,
}

impl<'r, 'a> Batch<'r, 'a> {
    /// Prepares the results directory (moved aside, or kept when
    /// resuming), the work area, the journal and the case names, and
    /// announces the start. Nothing is compiled yet. `remember`: keep the
    /// key of each case finished `done` for [`Batch::finish`] to return.
    pub fn open(
        ctx: &'r Context<'a>,
        p: Prepared,
        results_dir: &Path,
        resume: bool,
        remember: bool,
    ) -> Result<Self> {
        // Held until the batch is dropped: a second run on this directory
        // is refused before it touches anything.
        let lock = DirLock::acquire(
            results_dir,
            &format!("results directory '{}'", display_path(results_dir, ctx.cwd)),
            "-r",
        )?;
        let resuming = resume && results_dir.is_dir();
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
        let case_index = IndexWriter::open(results_dir)
            .map_err(|e| log::debug(&format!("no cache index in {}: {e}", results_dir.display())))
            .ok();
        let naming = ctx.options.case_naming.unwrap_or(ctx.config.case_naming);
        let names = name_cases(results_dir, &p.cases, naming)?;
        let rels: Vec<String> = p.scan.input.files.iter().map(|f| f.rel.clone()).collect();
        let args = input_files(&rels, &p.statics);
        let total = p.cases.len();
        let batch = Batch {
            _lock: lock,
            ctx,
            results_dir: results_dir.to_path_buf(),
            moved_aside,
            resuming,
            work_root,
            journal,
            case_index,
            names,
            diagnostics: Diagnostics::default(),
            args,
            hashes: PendingHashes::default(),
            done_keys: remember.then(Mutex::default),
            output_names: ctx.model.output.keys().cloned().collect(),
            rows: Mutex::new(Rows::default()),
            judged: Mutex::new(HashMap::new()),
            reporter: Reporter::new(total, !ctx.options.no_progress),
            started: Instant::now(),
            p,
        };
        batch.send(RunEvent::Started {
            total,
            calculators: ctx.uris.clone(),
        });
        Ok(batch)
    }

    /// Where an existing results directory was moved, if it was.
    pub fn moved_aside(&self) -> Option<&Path> {
        self.moved_aside.as_deref()
    }

    fn send(&self, event: RunEvent) {
        if let Some(tx) = &self.ctx.options.events {
            let _ = tx.send(event);
        }
    }

    /// How many cases are compiled ahead of the calculators at a time.
    pub fn chunk(&self) -> usize {
        self.ctx.config.compile_ahead.max(1)
    }

    /// Number of cases of the batch.
    pub fn total(&self) -> usize {
        self.p.cases.len()
    }

    fn case_started(&self, index: usize) {
        self.send(RunEvent::CaseStarted {
            index,
            total: self.total(),
            values: self.p.cases[index].clone(),
        })
    }

    /// The case's name in the journal and history (`no_variables` for the
    /// single case of a design without variables).
    fn journal_name(&self, index: usize) -> String {
        if self.names[index].is_empty() {
            "no_variables".to_string()
        } else {
            self.names[index].clone()
        }
    }

    /// Where case `index` is compiled and run (`_` for the no-variable
    /// case, which lands in the results directory itself).
    fn work_dir_of(&self, index: usize) -> PathBuf {
        match self.names[index].as_str() {
            "" => self.work_root.join("_"),
            name => self.work_root.join(name),
        }
    }

    fn final_dir_of(&self, index: usize) -> PathBuf {
        let name = &self.names[index];
        if name.is_empty() {
            self.results_dir.clone()
        } else {
            self.results_dir.join(name)
        }
    }

    /// Records the row of a case that did not go through [`Batch::store`].
    fn push_row(&self, result: CaseResult) {
        let row = Finished::new(result, &self.output_names);
        self.rows().results.push(row);
    }

    /// The table of `rows` (in their order): variables from the design,
    /// directories from the names, one row at a time.
    fn table_of(&self, rows: &[Finished]) -> crate::format::Table {
        let (vars, outs, cwd) = (&self.p.variables, &self.output_names, self.ctx.cwd);
        let rows = rows
            .iter()
            .map(|f| {
                let dir = self.final_dir_of(f.index);
                let result = f.to_result(self.p.cases[f.index].clone(), dir, outs);
                table_row(vars, outs, &result, cwd)
            })
            .collect();
        finish_table(vars, outs, rows)
    }

    fn rows(&self) -> MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn judged(&self) -> MutexGuard<'_, HashMap<usize, (SystemTime, Extracted)>> {
        self.judged.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rewrites summary.csv/json with the rows finished so far.
    fn write_partial(&self, rows: &mut Rows) {
        let started = Instant::now();
        // Sorted in place: the rows are not copied for the summaries.
        rows.results.sort_by_key(|r| r.index);
        let table = self.table_of(&rows.results);
        if let Err(e) = write_summaries(&self.results_dir, &table) {
            log::warn(&format!("could not write the summary files: {e}"));
        }
        drop(table);
        release_freed_memory();
        rows.last_cost = started.elapsed();
        rows.last_write = Some(Instant::now());
    }

    /// Compiles the cases of `range` into the work area.
    fn compile(&self, range: Range<usize>) -> Result<()> {
        let ctx = self.ctx;
        let work_names: Vec<String> = self.names[range.clone()]
            .iter()
            .map(|n| if n.is_empty() { "_".into() } else { n.clone() })
            .collect();
        let phase = Instant::now();
        // The chunk's cases are numbered from its start, so formula
        // failures name the run's case.
        self.diagnostics.number_from(range.start);
        let compiled = compile_all(
            &self.p.scan.input,
            ctx.model,
            &ctx.config,
            &self.p.statics,
            &self.p.cases[range.clone()],
            &work_names,
            &self.work_root,
            HashOut::Memory,
            &self.diagnostics,
        )?;
        self.hashes.keep(range.start, compiled);
        if range.end == self.total() {
            self.diagnostics.report();
        }
        log::debug(&format!(
            "compiled cases {}..{} in {:.3} s",
            range.start,
            range.end,
            phase.elapsed().as_secs_f64()
        ));
        Ok(())
    }

    /// Compiles the cases of `range` and, when resuming, keeps those
    /// already finished in place; returns the others (to look up in the
    /// cache, then run).
    pub fn prepare_chunk(&self, range: Range<usize>) -> Result<Vec<usize>> {
        self.compile(range.clone())?;
        if !self.resuming {
            return Ok(range.collect());
        }
        let mut left = Vec::with_capacity(range.len());
        for i in range {
            if !self.keep_finished(i)? {
                left.push(i);
            }
        }
        Ok(left)
    }

    /// Resume: a case already finished in place is kept as it is (true);
    /// any other earlier directory of the case is moved under
    /// `.fz_replaced` so the new run can take its place (nothing is
    /// deleted).
    fn keep_finished(&self, i: usize) -> Result<bool> {
        let old = self.final_dir_of(i);
        if self.names[i].is_empty() || !old.join(HASH_FILE).is_file() {
            return Ok(false);
        }
        match self.reusable_in_place(i, &old) {
            Some(outputs) => {
                self.keep(i, old, outputs);
                Ok(true)
            }
            None => {
                let replaced = self.results_dir.join(".fz_replaced");
                fs::create_dir_all(&replaced).map_err(|e| Error::io(&replaced, e))?;
                let aside = crate::fsutil::unique_child(&replaced, &self.names[i]);
                fs::rename(&old, &aside).map_err(|e| Error::io(&aside, e))?;
                Ok(false)
            }
        }
    }

    /// The outputs of the earlier directory `old` of case `i` when it was
    /// computed from the same inputs and can be reused.
    fn reusable_in_place(
        &self,
        i: usize,
        old: &Path,
    ) -> Option<indexmap::IndexMap<String, crate::Value>> {
        let old_lines = fs::read_to_string(old.join(HASH_FILE))
            .map(|t| parse_hash(&t))
            .unwrap_or_default();
        let same_inputs = match self.hashes.lines(i) {
            Some(new) => !old_lines.is_empty() && key_of(&new) == key_of(&old_lines),
            None => false,
        };
        if !same_inputs {
            return None;
        }
        reusable(
            old,
            &self.names[i],
            &old_lines,
            self.ctx.model,
            self.ctx.output_timeout,
        )
    }

    /// Records case `i` as kept from the resumed run.
    fn keep(&self, i: usize, old: PathBuf, outputs: indexmap::IndexMap<String, crate::Value>) {
        let calculator = fs::read_to_string(old.join("info.txt"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("calc=").map(str::to_string))
            })
            .unwrap_or_else(|| "none".into());
        let _ = fs::remove_dir_all(self.work_dir_of(i));
        if let Some(hash) = self.hashes.take(i) {
            self.remember_done(i, &hash);
        }
        self.push_row(CaseResult {
            index: i,
            vars: self.p.cases[i].clone(),
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
        self.reporter.case_finished(true, true, None);
    }

    /// Cache phase of compiled cases: one lookup per case in the run's
    /// index; a hit is copied in and stored at once. Returns the cases
    /// left to run.
    pub fn cache_lookup(
        &self,
        cases: &[usize],
        index: &CacheIndex,
        tiers: &[CacheTier],
    ) -> Vec<Job> {
        let phase = Instant::now();
        self.rows().defer_summaries = true;
        let mut jobs: Vec<Job> = Vec::with_capacity(cases.len());
        for &i in cases {
            let dir = self.work_dir_of(i);
            if let Some(error) = self.diagnostics.case_error(i) {
                self.store_formula_failure(i, &dir, &error);
                continue;
            }
            if let Some(hit) = self.cache_hit(i, index, tiers) {
                if self.store_hit(i, &dir, hit) {
                    continue;
                }
            }
            jobs.push(Job {
                index: i,
                work_dir: dir,
                input_files: self.args.clone(),
            });
        }
        log::debug(&format!(
            "cache phase: {} of {} cases from the cache in {:.3} s",
            cases.len() - jobs.len(),
            cases.len(),
            phase.elapsed().as_secs_f64()
        ));
        // What the cache gave is in the summaries before the first
        // calculator starts (the final write covers a run without any).
        let mut rows = self.rows();
        rows.defer_summaries = false;
        if !jobs.is_empty() && !rows.results.is_empty() {
            self.write_partial(&mut rows);
        }
        jobs
    }

    /// The cached case that can stand for case `i`, if any.
    fn cache_hit(&self, i: usize, index: &CacheIndex, tiers: &[CacheTier]) -> Option<Hit> {
        if index.is_empty() {
            return None;
        }
        let ctx = self.ctx;
        let lines = self.hashes.lines(i)?;
        cache_hit(index, tiers, &lines, ctx.model, ctx.output_timeout, ctx.cwd)
    }

    /// Stores case `i`, whose formulas failed, as `error` without running
    /// it: its compiled input would hold the formulas as written.
    fn store_formula_failure(&self, i: usize, dir: &Path, error: &str) {
        self.case_started(i);
        let now = SystemTime::now();
        let error = format!("Formula failed, case not run: {error}");
        let history = format!("# {}\n{error}\n", self.journal_name(i));
        let result = CaseResult {
            index: i,
            vars: self.p.cases[i].clone(),
            outputs: indexmap::IndexMap::new(),
            dir: self.final_dir_of(i),
            calculator: "none".into(),
            status: CaseStatus::Error,
            error: Some(error),
            command: None,
            exit_code: None,
            attempts: 0,
            started: Some(now),
            ended: Some(now),
        };
        self.store(dir, result, history);
    }

    /// Copies a cache hit into case `i`'s work directory and stores it;
    /// false (the case then runs) when the copy failed.
    fn store_hit(&self, i: usize, dir: &Path, hit: Hit) -> bool {
        self.case_started(i);
        if let Err(e) = restore(&hit.dir, dir, &hit.lines) {
            log::warn(&format!("case {i}: could not copy the cache hit: {e}"));
            return false;
        }
        let from = crate::results::display_path(&hit.dir, self.ctx.cwd);
        // The cached case's log.txt (copied) says how it was computed; one
        // line says where it came from.
        append_log_line(dir, &format!("Cache hit from {}", hit.dir.display()));
        let now = SystemTime::now();
        let history = format!(
            "# {}\nCache hit from {} ({})\nCase finished (status: done)\n",
            self.journal_name(i),
            hit.dir.display(),
            hit.uri
        );
        let result = CaseResult {
            index: i,
            vars: self.p.cases[i].clone(),
            outputs: hit.outputs,
            dir: self.final_dir_of(i),
            calculator: hit.uri,
            status: CaseStatus::Done,
            error: None,
            command: Some(format!("cache hit from {from}")),
            exit_code: None,
            attempts: 0,
            started: Some(now),
            ended: Some(now),
        };
        let attempt = Attempt {
            status: AttemptStatus::Done,
            exit_code: None,
            command: String::new(),
            command_line: String::new(),
            started: now,
            ended: now,
            error: None,
            host: None,
        };
        self.journal
            .record(&self.journal_name(i), 0, &result.calculator, &attempt);
        self.store(dir, result, history);
        true
    }

    /// Writes the bookkeeping files of a finished case, moves it into
    /// place and records its row (the summaries are rewritten at most
    /// every 250 ms).
    fn store(&self, work_dir: &Path, mut result: CaseResult, history: String) {
        let index = result.index;
        self.place(work_dir, &mut result, &history);
        log::info(&format!(
            "case {}: {} on {}{}",
            self.journal_name(index),
            result.status.as_str(),
            result.calculator,
            result
                .error
                .as_deref()
                .map_or(String::new(), |e| format!(" ({e})"))
        ));
        if self.ctx.options.events.is_some() {
            self.send_finished(&result);
        }
        let (done, cached, interrupted) = (
            result.status == CaseStatus::Done,
            result.calculator.starts_with("cache://"),
            result.status == CaseStatus::Interrupted,
        );
        let ran_for = match (cached, result.started, result.ended) {
            (false, Some(start), Some(end)) => Some(end.duration_since(start).unwrap_or_default()),
            _ => None,
        };
        let mut rows = self.rows();
        rows.results.push(Finished::new(result, &self.output_names));
        let completed = rows.results.len();
        if interrupted {
            self.reporter.case_interrupted(ran_for.is_some());
        } else {
            self.reporter.case_finished(done, cached, ran_for);
        }
        self.send_progress(completed);
        // Rewriting the summaries costs O(rows): do it at most every 250 ms
        // and never more than a tenth of the time, so big runs stay linear.
        // Cache hits follow each other in a tight loop: they are written
        // once, when the calculators start (see cache_lookup).
        let pause = Duration::from_millis(250).max(rows.last_cost * 10);
        if !rows.defer_summaries && rows.last_write.is_none_or(|t| t.elapsed() >= pause) {
            self.write_partial(&mut rows);
        }
    }

    /// Moves the case into place with its bookkeeping files and its
    /// `.fz_hash` (its status becomes `error` if that fails) and records
    /// it in the results directory's index.
    fn place(&self, work_dir: &Path, result: &mut CaseResult, history: &str) {
        if let Err(e) = self.land(work_dir, result, history) {
            result.status = CaseStatus::Error;
            result.error = Some(format!("Failed to store the case results: {e}"));
            log::error(&format!("case {}: {e}", result.index));
        }
    }

    /// Lands the case with its `.fz_hash` (the text kept since it was
    /// compiled) and indexes it without reading the hash back.
    fn land(&self, work_dir: &Path, result: &CaseResult, history: &str) -> Result<()> {
        let index = result.index;
        let hash = self
            .hashes
            .take(index)
            .ok_or_else(|| Error::Value(format!("internal: no .fz_hash kept for case {index}")))?;
        let info = info_text(result, &self.ctx.model.units);
        let files = CaseFiles {
            info: &info,
            history,
            hash: &hash,
        };
        let name = &self.names[index];
        let stamp = land(work_dir, &result.dir, name.is_empty(), &files)?;
        if let (Some(case_index), Some(stamp)) = (&self.case_index, stamp) {
            case_index.record_written(name, &hash, &stamp);
        }
        if result.status == CaseStatus::Done {
            self.remember_done(index, &hash);
        }
        Ok(())
    }

    /// Keeps the key of case `i`, finished `done` with this `.fz_hash`
    /// text, for later batches (when they will look).
    fn remember_done(&self, i: usize, hash: &str) {
        let lines = parse_hash(hash);
        if let (Some(keys), false) = (&self.done_keys, lines.is_empty()) {
            let mut keys = keys.lock().unwrap_or_else(|p| p.into_inner());
            keys.insert(i, crate::cache::lookup::key_digest(&lines));
        }
    }

    fn send_finished(&self, result: &CaseResult) {
        let ctx = self.ctx;
        let one = build_table(
            &self.p.variables,
            &self.output_names,
            std::slice::from_ref(result),
            ctx.cwd,
        );
        let row = one
            .columns
            .iter()
            .cloned()
            .zip(one.rows.into_iter().next().unwrap_or_default())
            .collect();
        self.send(RunEvent::CaseFinished {
            index: result.index,
            total: self.total(),
            values: result.vars.clone(),
            status: result.status.as_str().to_string(),
            row,
        });
    }

    fn send_progress(&self, completed: usize) {
        let total = self.total();
        let eta_seconds = self.reporter.eta().map_or_else(
            || {
                let elapsed = self.started.elapsed().as_secs_f64();
                elapsed / completed.max(1) as f64 * total.saturating_sub(completed) as f64
            },
            |left| left.as_secs_f64(),
        );
        self.send(RunEvent::Progress {
            completed,
            total,
            eta_seconds,
        });
    }

    /// Ends the batch: a row for each case an interrupt kept from starting
    /// (its compiled inputs, if any, removed: nothing was computed for it;
    /// the cases below `compiled` were compiled), the final table and
    /// summaries, the `Finished` event. Also returns the directory and
    /// input-hash key of each case finished `done`, when asked to remember
    /// them at [`Batch::open`].
    pub fn finish(
        self,
        compiled: usize,
        cancel: &Cancel,
    ) -> Result<(RunReport, Vec<(PathBuf, String)>)> {
        let mut results = std::mem::take(&mut self.rows().results);
        let interrupted = !cancel.may_start();
        let mut ended = vec![false; self.total()];
        for r in &results {
            ended[r.index] = true;
        }
        for (i, _) in ended.iter().enumerate().filter(|(_, e)| !**e) {
            if i < compiled {
                let _ = fs::remove_dir_all(self.work_dir_of(i));
            }
            self.reporter.case_interrupted(false);
            results.push(Finished::new(self.not_started(i), &self.output_names));
        }
        drop(ended);
        results.sort_by_key(|r| r.index);
        let phase = Instant::now();
        let table = self.table_of(&results);
        let done = results
            .iter()
            .filter(|r| r.status == CaseStatus::Done)
            .count();
        let finished = self.done_keys.as_ref().map_or_else(Vec::new, |keys| {
            let mut keys = keys.lock().unwrap_or_else(|p| p.into_inner());
            let mut done: Vec<(usize, String)> = keys.drain().collect();
            done.sort_unstable();
            done.into_iter()
                .map(|(i, key)| (self.final_dir_of(i), key))
                .collect()
        });
        // The table holds it all now: the rows go before the summaries
        // are rendered (the peak of a large run).
        drop(results);
        write_summaries(&self.results_dir, &table)?;
        release_freed_memory();
        log::debug(&format!(
            "final table and summaries in {:.3} s",
            phase.elapsed().as_secs_f64()
        ));
        self.send(RunEvent::Finished {
            total: self.total(),
            done,
            interrupted,
        });
        // The work area is empty once every case is in place.
        let _ = fs::remove_dir(&self.work_root);
        let report = RunReport {
            table,
            moved_aside: self.moved_aside,
            interrupted,
            report_page: None,
        };
        Ok((report, finished))
    }

    fn not_started(&self, index: usize) -> CaseResult {
        CaseResult {
            index,
            vars: self.p.cases[index].clone(),
            outputs: indexmap::IndexMap::new(),
            dir: self.final_dir_of(index),
            calculator: "none".into(),
            status: CaseStatus::Interrupted,
            error: Some("Not started: the run was interrupted".into()),
            command: None,
            exit_code: None,
            attempts: 0,
            started: None,
            ended: None,
        }
    }
}

/// What the engine calls as cases run.
impl Hooks for Batch<'_, '_> {
    fn case_started(&self, job: &Job) {
        self.reporter.case_running();
        Batch::case_started(self, job.index)
    }

    /// The outputs decide under the model's `success: "outputs"` (and a
    /// missing one fails a success under `FZ_MISSING_OUTPUT_FAILS`); they
    /// are read only then, and kept for the case's row. A changed status
    /// is added to the attempt's `log.txt`.
    fn judge(&self, job: &Job, attempt: &Attempt) -> Verdict {
        let ctx = self.ctx;
        if !ctx.success.needs_outputs(attempt) {
            return Verdict::AsIs;
        }
        let shown = display_path(&self.final_dir_of(job.index), ctx.cwd);
        let got =
            crate::outputs::extract(&job.work_dir, &shown, &ctx.model.output, ctx.output_timeout);
        let verdict = ctx.success.judge(attempt, Some(&got));
        self.judged().insert(job.index, (attempt.started, got));
        // log.txt, written by the calculator, says what it saw; this line
        // says what the outputs made of it.
        match &verdict {
            Verdict::AsIs => {}
            Verdict::Failed(why) => append_log_line(
                &job.work_dir,
                &format!("Status after reading outputs: failed ({why})"),
            ),
            Verdict::Done(why) => append_log_line(
                &job.work_dir,
                &format!("Status after reading outputs: done ({why})"),
            ),
        }
        verdict
    }

    fn attempt_ended(&self, job: &Job, a: &SlotAttempt, number: usize) {
        let calc = self.ctx.display.get(a.slot).map_or("?", String::as_str);
        self.journal
            .record(&self.journal_name(job.index), number, calc, &a.attempt);
    }

    fn case_ended(&self, job: &Job, attempts: &CaseAttempts) {
        let ctx = self.ctx;
        let final_dir = self.final_dir_of(job.index);
        let mut result = CaseResult::from_attempts(
            job.index,
            self.p.cases[job.index].clone(),
            final_dir.clone(),
            attempts,
            &ctx.display,
            ctx.max_attempts,
        );
        if let (Some(error), Some(first)) = (result.error.as_mut(), self.args.first()) {
            crate::ops::preflight::note_input_ran_itself(error, &result.calculator, first);
        }
        // Outputs are read in the work directory (same files, before the
        // move); a missing output of a successful run is reported, not
        // retried (as upstream), unless FZ_MISSING_OUTPUT_FAILS.
        let judged = self.judged().remove(&job.index);
        if !ctx.model.output.is_empty() {
            // Read once: those read to judge the last attempt are these.
            let last_started = attempts.last().map(|a| a.attempt.started);
            let got = match judged {
                Some((started, got)) if Some(started) == last_started => got,
                _ => crate::outputs::extract(
                    &job.work_dir,
                    &crate::results::display_path(&final_dir, ctx.cwd),
                    &ctx.model.output,
                    ctx.output_timeout,
                ),
            };
            if result.status == CaseStatus::Done && result.error.is_none() {
                result.error = got.error_text().map(|e| format!("Missing output: {e}"));
            }
            result.outputs = got.values;
        }
        let history = history_text(&self.names[job.index], &result, attempts, &ctx.display);
        self.store(&job.work_dir, result, history);
    }
}

/// Appends `line` to the `log.txt` of a case (a failure is logged: the
/// same fact is in its history).
fn append_log_line(work_dir: &Path, line: &str) {
    use std::io::Write;
    let path = work_dir.join("log.txt");
    let written = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        log::warn(&format!("Could not write {}: {e}", path.display()));
    }
}

/// Gives the memory freed after a summary write back to the system. The
/// summaries are rewritten from whichever worker thread finished a case,
/// and glibc keeps what each thread's arena once held: without this, a
/// large run's memory would keep a table's worth per arena.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it
    // touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Argument list of a case: static entries first, then the input files,
/// as `.fz_hash` lists them.
pub(super) fn input_files(
    rels: &[String],
    statics: &[crate::ops::compile::StaticEntry],
) -> Vec<String> {
    let mut files: Vec<String> = statics.iter().map(|s| s.name.clone()).collect();
    let mut rels = rels.to_vec();
    rels.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    files.extend(rels);
    files
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
