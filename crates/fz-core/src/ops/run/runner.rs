//! The [`Runner`]: what a run keeps across its batches.
//!
//! Built once per `fzr` or `fzd` call, it owns the calculators (so SSH
//! master connections and SLURM state outlive a batch), the interrupt
//! flag, and one cache index: the user's `cache://` tiers read once, plus
//! every case finished by an earlier batch of this run, recorded in
//! memory as it finishes — a later batch never rescans an earlier batch's
//! directory, and an input already evaluated is never run again. It does
//! not know what a batch does with its cases (see `batch.rs`).

use super::batch::Batch;
use super::feed::{first_chunk, Feed};
use super::success::SuccessRules;
use super::{attempt_timeout, RunOptions, RunReport};
use crate::cache::lookup::{CacheIndex, CacheTier};
use crate::calculators::uri::redact;
use crate::calculators::{self, Calculator, Cancel};
use crate::config::Config;
use crate::design::Design;
use crate::engine::{run_jobs, EngineSettings};
use crate::error::{Error, Result};
use crate::log;
use crate::model::{Lookup, Model};
use crate::ops::preflight::check_calculators;
use crate::results::check_output_names;
use crate::results::place::{check_results_dir, normalize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What every batch of a run reads; set once when the runner is built.
pub(super) struct Context<'a> {
    /// The model (syntax and outputs).
    pub model: &'a Model,
    /// The run's options (timeout, naming, events…).
    pub options: &'a RunOptions,
    /// Where relative paths are resolved.
    pub cwd: &'a Path,
    /// Settings read when the run started.
    pub config: Config,
    /// Attempts per case.
    pub max_attempts: usize,
    /// Every calculator URI, cache tiers included (the `Started` event).
    pub uris: Vec<String>,
    /// How each running calculator is shown (passwords hidden).
    pub display: Vec<String>,
    /// Time limit of an output extraction.
    pub output_timeout: Option<Duration>,
    /// What makes an attempt a success (model `success`,
    /// `FZ_MISSING_OUTPUT_FAILS`).
    pub success: SuccessRules,
}

/// The cache of a run: the tiers and the index of every candidate.
#[derive(Default)]
struct RunCache {
    tiers: Vec<CacheTier>,
    index: CacheIndex,
    /// Whether the user's tiers have been read (at the first batch, which
    /// gives `cache://_` its meaning).
    built: bool,
}

/// Runs batches of cases on one set of calculators.
pub struct Runner<'a> {
    ctx: Context<'a>,
    cache_uris: Vec<String>,
    calcs: Vec<Box<dyn Calculator>>,
    cancel: Cancel,
    cache: RunCache,
    /// The calculators that run cases (no `cache://`), as resolved.
    run_uris: Vec<String>,
    /// Whether the variable warnings were told: once per run, not once per
    /// `fzd` iteration.
    told: bool,
    /// Whether the calculators passed the pre-flight: checked again by
    /// each batch until they do, so that every `fzd` iteration meets the
    /// same error instead of running cases it would refuse.
    checked: bool,
    /// Whether later batches will run (then each batch's finished cases
    /// are indexed for them).
    more_batches: bool,
}

impl<'a> Runner<'a> {
    /// Resolves the calculators (aliases, auto-discovery) and builds them;
    /// reads the settings. Nothing is written.
    pub fn new(model: &'a Model, options: &'a RunOptions, lookup: &'a Lookup) -> Result<Self> {
        let outputs: Vec<String> = model.output.keys().cloned().collect();
        check_output_names(&[], &outputs)?;
        if let Some(problem) = model.success_problem() {
            return Err(Error::Model(problem));
        }
        let config = Config::from_env();
        // Once per runner, not once per batch (fzd runs one per iteration).
        crate::ops::input::report_model_warnings(model)?;
        let max_attempts = config.max_retries.clone().map_err(Error::Value)?;
        let uris =
            calculators::resolve::resolve(&options.calculators, model.id.as_deref(), lookup)?;
        // Cache tiers are consulted before any case is queued and never
        // take a calculator slot.
        let (cache_uris, run_uris): (Vec<String>, Vec<String>) = uris
            .iter()
            .cloned()
            .partition(|u| u.to_ascii_lowercase().starts_with("cache://"));
        // One builder per runner: calculators reaching the same SSH login
        // share a connection, closed when the runner is dropped.
        let builder = calculators::Builder::new();
        let mut calcs: Vec<Box<dyn Calculator>> = Vec::with_capacity(run_uris.len());
        for uri in &run_uris {
            calcs.push(builder.build(uri)?);
        }
        let display = calcs.iter().map(|c| c.display_uri().to_string()).collect();
        let success = SuccessRules {
            rule: model.success,
            missing_output_fails: config.missing_output_fails,
            has_outputs: !outputs.is_empty(),
        };
        Ok(Runner {
            ctx: Context {
                model,
                options,
                cwd: &lookup.cwd,
                config,
                max_attempts,
                // Events and callbacks carry URIs out of fz: no passwords.
                uris: uris.iter().map(|u| redact(u)).collect(),
                display,
                output_timeout: crate::outputs::shell::timeout_from_env(),
                success,
            },
            cache_uris,
            calcs,
            cancel: options.cancel.clone().unwrap_or_default(),
            cache: RunCache::default(),
            run_uris,
            told: false,
            checked: false,
            more_batches: true,
        })
    }

    /// Declares that only one batch will run (`fzr`): its finished cases
    /// are not indexed for a later batch (that would keep every case's key
    /// in memory for nothing).
    pub fn single_batch(&mut self) {
        self.more_batches = false;
    }

    fn output_names(&self) -> Vec<String> {
        self.ctx.model.output.keys().cloned().collect()
    }

    /// The interrupt flag of the run (shared with whoever handles Ctrl+C).
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// Runs one batch: the design's cases over `input_path` into
    /// `results_dir` (moved aside if it exists, unless `resume`).
    pub fn run(
        &mut self,
        input_path: &Path,
        design: Option<&Design>,
        results_dir: &Path,
        resume: bool,
    ) -> Result<RunReport> {
        let ctx = &self.ctx;
        let results_dir = &normalize(results_dir);
        check_results_dir(results_dir, ctx.cwd, input_path, "-r")?;
        let prepared = super::super::compile::prepare(
            input_path,
            design,
            ctx.model,
            &ctx.options.input_static,
            &ctx.config,
            ctx.cwd,
        )?;
        check_output_names(&prepared.variables, &self.output_names())?;
        if !std::mem::replace(&mut self.told, true) {
            prepared.report_notices();
        }
        if !self.checked {
            let rels: Vec<String> = prepared
                .scan
                .input
                .files
                .iter()
                .map(|f| f.rel.clone())
                .collect();
            let case_files = super::batch::input_files(&rels, &prepared.statics);
            check_calculators(&self.run_uris, &prepared, &case_files, ctx.cwd)?;
            self.checked = true;
        }
        let batch = Batch::open(ctx, prepared, results_dir, resume, self.more_batches)?;
        let first = first_chunk(&batch)?;
        self.cache
            .read_tiers(&self.cache_uris, batch.moved_aside(), ctx.cwd);
        let feed = Feed::new(
            &batch,
            &self.cache.index,
            &self.cache.tiers,
            &self.cancel,
            first,
        );
        self.schedule(&batch, &feed);
        let compiled = feed.end()?;
        let (report, finished) = batch.finish(compiled, &self.cancel)?;
        if self.more_batches {
            self.cache.remember(results_dir, finished);
        }
        Ok(report)
    }

    /// Runs the jobs on the calculators, retries and time limits included.
    fn schedule(&self, batch: &Batch<'_, '_>, jobs: &Feed<'_, '_, '_>) {
        let ctx = &self.ctx;
        let settings = EngineSettings {
            max_workers: ctx.config.max_workers,
            max_attempts: ctx.max_attempts,
            timeout: attempt_timeout(ctx.model, ctx.options.timeout, &ctx.config),
        };
        let (queued, uncompiled) = jobs.left();
        // Cases compiled later may still come from the cache: "up to".
        let count = if uncompiled == 0 {
            format!("{queued} cases")
        } else {
            format!("up to {} cases", queued + uncompiled)
        };
        log::info(&format!(
            "Running {count} on {} calculator(s): {}",
            self.calcs.len(),
            ctx.display.join(", ")
        ));
        run_jobs(jobs, &self.calcs, &settings, ctx.cwd, &self.cancel, batch);
    }
}

impl RunCache {
    /// Reads the user's `cache://` tiers, once per run.
    fn read_tiers(&mut self, uris: &[String], moved_aside: Option<&Path>, cwd: &Path) {
        if self.built {
            return;
        }
        self.built = true;
        self.tiers = uris
            .iter()
            .map(|u| CacheTier::new(u, moved_aside))
            .collect();
        let phase = Instant::now();
        if !self.tiers.is_empty() {
            self.index = CacheIndex::build(&self.tiers, cwd);
        }
        log::debug(&format!(
            "cache index: {} input keys in {:.3} s",
            self.index.len(),
            phase.elapsed().as_secs_f64()
        ));
    }

    /// Records the cases a batch finished as `done` (directory and
    /// input-hash key, known since they were compiled), so later batches
    /// of the run find them without reading `results_dir` again.
    fn remember(&mut self, results_dir: &Path, done: Vec<(PathBuf, String)>) {
        let tier = self.tiers.len();
        self.tiers.push(CacheTier::new(
            &format!("cache://{}", results_dir.display()),
            None,
        ));
        for (dir, key) in done {
            self.index.insert(key, tier, dir);
        }
    }
}
