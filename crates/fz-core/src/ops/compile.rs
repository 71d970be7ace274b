//! `fzc`: compile an input into one directory per case.
//!
//! Each case is written into a hidden staging directory inside the output
//! directory and renamed into place only when complete, so a listing of
//! the output directory shows complete cases only, whatever happens to the
//! process. Formulas of a case cost one round trip to one interpreter
//! worker, started only if some template has formulas.

use super::case_writer::{CaseWriter, CompiledCase, HashOut};
use super::input::{interpreter_for, refuse_in_strict_mode, report_model_warnings, scan};
use crate::cache::hashfile;
use crate::config::{CaseNaming, Config};
use crate::design::{Case, Design};
use crate::error::{Error, Result};
use crate::fsutil::move_aside;
use crate::log;
use crate::model::Model;
use crate::naming::{case_names, write_manifest};
use crate::template::check::{undefined_variables, unused_variables};
use crate::template::compile::{input_defaults, render_with_defaults, InputDefaults};
use crate::template::input::{FileContent, InputSet};
use crate::template::interp::{CaseRequest, InterpreterKind, Worker};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Options of a compile beyond the input, design, model and output.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Case directory naming; `None` → `FZ_CASE_NAMING` (default path).
    pub case_naming: Option<CaseNaming>,
    /// Files identical in every case: hashed once, symlinked (relative
    /// entries) into each case, never templated.
    pub input_static: Vec<String>,
}

/// What a compile produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileReport {
    /// The output directory (absolute).
    pub output_dir: PathBuf,
    /// Where an existing output directory was moved, if it existed.
    pub moved_aside: Option<PathBuf>,
    /// Case directories, in case order (the output directory itself for a
    /// design without variables).
    pub case_dirs: Vec<PathBuf>,
}

/// A resolved `input_static` entry.
#[derive(Debug, Clone)]
pub struct StaticEntry {
    /// Name in the case directory (basename) or, for absolute entries, the
    /// absolute path (never placed in the case).
    pub name: String,
    /// Absolute source path.
    pub source: PathBuf,
    /// Whether the entry was given as an absolute path.
    pub is_absolute: bool,
    /// MD5 of its content.
    pub md5: String,
}

/// Resolves and hashes `input_static` entries once (relative to `cwd`).
/// Missing or duplicate entries are skipped with a warning.
pub fn resolve_static(entries: &[String], cwd: &Path) -> Result<Vec<StaticEntry>> {
    let mut out: Vec<StaticEntry> = Vec::new();
    for entry in entries {
        let given = Path::new(entry);
        let is_absolute = given.is_absolute();
        let source = if is_absolute {
            given.to_path_buf()
        } else {
            cwd.join(given)
        };
        let source = fs::canonicalize(&source).unwrap_or(source);
        let name = if is_absolute {
            source.display().to_string()
        } else {
            source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        if !source.is_file() {
            log::warn(&format!(
                "input_static entry '{entry}' not found (resolved to {}), skipping",
                source.display()
            ));
            continue;
        }
        if out.iter().any(|e| e.name == name) {
            log::warn(&format!(
                "input_static entry '{entry}' has the same name '{name}' as another entry, skipping"
            ));
            continue;
        }
        let md5 = hashfile::md5_file(&source)?;
        out.push(StaticEntry {
            name,
            source,
            is_absolute,
            md5,
        });
    }
    Ok(out)
}

/// An input checked against its design, ready to compile: shared by
/// `fzc` and `fzr`.
pub struct Prepared {
    /// What the input declares.
    pub scan: super::input::Scan,
    /// The design's variable names, in order.
    pub variables: Vec<String>,
    /// The cases, in order.
    pub cases: Vec<Case>,
    /// Resolved `input_static` entries.
    pub statics: Vec<StaticEntry>,
    /// Warnings about the variables (undefined, unused), not yet shown.
    pub notices: Vec<String>,
}

impl Prepared {
    /// Shows the warnings about the variables (visible by default).
    pub fn report_notices(&self) {
        for n in &self.notices {
            log::notice(n);
        }
    }
}

/// Scans the input, checks the design against it (values required when
/// variables are declared; undefined and unused variables noted, refused
/// in strict mode), generates the
/// cases and resolves `input_static`. Creates nothing.
pub fn prepare(
    input_path: &Path,
    design: Option<&Design>,
    model: &Model,
    input_static: &[String],
    config: &Config,
    cwd: &Path,
) -> Result<Prepared> {
    let scan = scan(input_path, model, input_static, cwd)?;
    let keys = scan.keys();
    let empty = Design::Grid(Default::default());
    let design = match design {
        Some(d) => d,
        // Only variables make values necessary (upstream also counted
        // formulas and static objects, so a template with just `@{1+1}`
        // could not be compiled without an empty input_variables).
        None if !scan.variables.is_empty() => {
            return Err(Error::Value(format!(
                "input_variables is required: input files declare variable(s) {}",
                scan.variables
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
        None => &empty,
    };
    let variables = design.names();
    let mut notices = variable_notices(&scan, &model.syntax, &keys, &variables)?;
    if let Some(why) = design.why_no_case() {
        refuse_in_strict_mode(std::slice::from_ref(&why), Error::Value)?;
        notices.push(why);
    }
    design.check_size(config.max_cases)?;
    let cases = design.cases()?;
    let statics = resolve_static(input_static, cwd)?;
    refuse_input_as_static(input_path, &statics)?;
    warn_static_candidates(&scan.input, config.static_candidate_min_size);
    Ok(Prepared {
        scan,
        variables,
        cases,
        statics,
        notices,
    })
}

/// What is wrong with the input's variables under this design (see
/// [`crate::template::check`]); in strict mode the first is an error.
fn variable_notices(
    scan: &super::input::Scan,
    syntax: &crate::model::Syntax,
    keys: &std::collections::BTreeSet<String>,
    variables: &[String],
) -> Result<Vec<String>> {
    let defaulted: HashSet<&str> = scan.defaults.keys().map(String::as_str).collect();
    let statics: HashSet<&str> = scan.static_objects.keys().map(String::as_str).collect();
    let mut notices = undefined_variables(&scan.input, syntax, variables, &defaulted, &statics);
    notices.extend(unused_variables(variables, keys));
    refuse_in_strict_mode(&notices, Error::Value)?;
    Ok(notices)
}

/// An `input_static` entry naming the input file itself would be both
/// compiled and copied to the same case file (upstream: "File exists").
fn refuse_input_as_static(input_path: &Path, statics: &[StaticEntry]) -> Result<()> {
    let input = fs::canonicalize(input_path).unwrap_or_else(|_| input_path.to_path_buf());
    match statics.iter().find(|e| e.source == input) {
        Some(e) => Err(Error::Value(format!(
            "input_static entry '{}' is the input file itself: the input is compiled for each \
             case, input_static lists the other files copied unchanged",
            e.name
        ))),
        None => Ok(()),
    }
}

/// Moves an existing `dir` aside (saying where, at the default level: a
/// side effect the user must know of) and creates it afresh.
pub fn fresh_output_dir(dir: &Path) -> Result<Option<PathBuf>> {
    let moved_aside = move_aside(dir)?;
    if let Some(to) = &moved_aside {
        log::note(&moved_aside_line(dir, to));
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    Ok(moved_aside)
}

/// `results/ exists: moved to results_2026-12-01_23-23-54/` (names only
/// when `to` is a sibling of `dir`, as [`move_aside`] makes it).
fn moved_aside_line(dir: &Path, to: &Path) -> String {
    let name = |p: &Path| match (p.file_name(), p.parent() == dir.parent()) {
        (Some(n), true) => n.to_string_lossy().into_owned(),
        _ => p.display().to_string(),
    };
    format!("{}/ exists: moved to {}/", name(dir), name(to))
}

/// The directory names of `cases` under `naming`; writes the `cases.csv`
/// manifest into `dir` when the names alone do not show the values.
pub fn name_cases(dir: &Path, cases: &[Case], naming: CaseNaming) -> Result<Vec<String>> {
    let (names, manifest) = case_names(cases, naming);
    if manifest {
        write_manifest(dir, &names, cases)?;
    }
    Ok(names)
}

/// Compiles `input_path` for every case of `design` into `output_dir`
/// (both absolute). An existing output directory is moved aside first.
pub fn fzc(
    input_path: &Path,
    design: Option<&Design>,
    model: &Model,
    output_dir: &Path,
    options: &CompileOptions,
    cwd: &Path,
) -> Result<CompileReport> {
    let config = Config::from_env();
    report_model_warnings(model)?;
    let p = prepare(
        input_path,
        design,
        model,
        &options.input_static,
        &config,
        cwd,
    )?;
    p.report_notices();
    let moved_aside = fresh_output_dir(output_dir)?;
    let names = name_cases(
        output_dir,
        &p.cases,
        options.case_naming.unwrap_or(config.case_naming),
    )?;
    let diagnostics = Diagnostics::default();
    // No calculator runs in these directories: each is a finished case,
    // with its .fz_hash.
    let case_dirs = compile_all(
        &p.scan.input,
        model,
        &config,
        &p.statics,
        &p.cases,
        &names,
        output_dir,
        HashOut::File,
        &diagnostics,
    )?
    .into_iter()
    .map(|case| case.dir)
    .collect();
    diagnostics.report();
    let failed = diagnostics.failed_cases();
    if !failed.is_empty() {
        return Err(formula_failures(&failed, &names, p.cases.len()));
    }
    Ok(CompileReport {
        output_dir: output_dir.to_path_buf(),
        moved_aside,
        case_dirs,
    })
}

/// The error of a compile where the formulas of some cases failed: how
/// many, and the first few cases by name.
pub fn formula_failures(failed: &BTreeMap<usize, String>, names: &[String], total: usize) -> Error {
    const SHOWN: usize = 5;
    let mut shown: Vec<&str> = failed
        .keys()
        .take(SHOWN)
        .map(|&i| names.get(i).map_or("?", String::as_str))
        .map(|n| if n.is_empty() { "the only case" } else { n })
        .collect();
    if failed.len() > SHOWN {
        shown.push("…");
    }
    Error::Value(format!(
        "formulas failed in {} of {total} case(s): {} (their inputs keep the formulas as written; \
         the messages above say why)",
        failed.len(),
        shown.join(", ")
    ))
}

/// Compiles every case; returns them in case order, each with its
/// `.fz_hash` text when `hash_out` keeps it in memory. When formulas need
/// an interpreter, evaluation (one worker round trip per batch of cases)
/// runs on other threads, one interpreter process each, while this one
/// writes finished cases: creating files is latency-bound and the two
/// overlap. Stops at the first error; cases already written stay complete.
#[allow(clippy::too_many_arguments)]
pub fn compile_all(
    input: &InputSet,
    model: &Model,
    config: &Config,
    statics: &[StaticEntry],
    cases: &[Case],
    names: &[String],
    output_dir: &Path,
    hash_out: HashOut,
    diagnostics: &Diagnostics,
) -> Result<Vec<CompiledCase>> {
    let mut evaluator = Evaluator::new(input, model, config, diagnostics);
    let mut writer = CaseWriter::new(input, statics, hash_out);
    let mut dirs = Vec::with_capacity(cases.len());
    let batch = evaluator.batch_size();
    if !evaluator.uses_interpreter() || cases.len() <= batch {
        for (k, chunk) in cases.chunks(batch).enumerate() {
            for (j, files) in evaluator
                .evaluate_batch(k * batch, chunk)?
                .into_iter()
                .enumerate()
            {
                let i = k * batch + j;
                dirs.push(writer.write(files, &names[i], i, output_dir)?);
            }
        }
        return Ok(dirs);
    }
    // Several interpreter workers evaluate batches in parallel (each thread
    // has its own process); this thread writes whatever batch is ready.
    let chunks: Vec<&[Case]> = cases.chunks(batch).collect();
    let producers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(chunks.len());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut slots: Vec<Option<CompiledCase>> = vec![None; cases.len()];
    std::thread::scope(|scope| {
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<(usize, Result<Vec<Vec<CompiledFile>>>)>(2 * producers);
        let mut handles = Vec::with_capacity(producers);
        for _ in 0..producers {
            let tx = tx.clone();
            let (next, stop, chunks) = (&next, &stop, &chunks);
            handles.push(scope.spawn(move || {
                let mut evaluator = Evaluator::new(input, model, config, diagnostics);
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= chunks.len() || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let compiled = evaluator.evaluate_batch(k * batch, chunks[k]);
                    let failed = compiled.is_err();
                    if tx.send((k, compiled)).is_err() || failed {
                        return;
                    }
                }
            }));
        }
        drop(tx);
        let mut outcome = Ok(());
        'receive: for (k, compiled) in rx.iter() {
            let compiled = match compiled {
                Ok(c) => c,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            for (j, files) in compiled.into_iter().enumerate() {
                let i = k * batch + j;
                match writer.write(files, &names[i], i, output_dir) {
                    Ok(case) => slots[i] = Some(case),
                    Err(e) => {
                        outcome = Err(e);
                        break 'receive;
                    }
                }
            }
        }
        // Producers stop at their next batch; dropping the receiver ends a
        // blocked send.
        stop.store(true, Ordering::Relaxed);
        drop(rx);
        for h in handles {
            if h.join().is_err() && outcome.is_ok() {
                outcome = Err(Error::Value("internal: a formula thread panicked".into()));
            }
        }
        outcome
    })?;
    dirs.extend(slots.into_iter().flatten());
    Ok(dirs)
}

/// Messages shared by the compile threads, so each is shown once.
#[derive(Default)]
pub struct Diagnostics {
    inner: Mutex<DiagnosticsState>,
}

#[derive(Default)]
struct DiagnosticsState {
    defaults_warned: HashSet<String>,
    /// The cases in which the formulas of each (file, line) failed.
    formula_errors: BTreeMap<(String, usize), BTreeSet<usize>>,
    /// The first formula error of each case that has one.
    failed_cases: BTreeMap<usize, String>,
    /// Added to the case numbers given (a chunk of a larger run).
    base: usize,
}

impl Diagnostics {
    fn state(&self) -> std::sync::MutexGuard<'_, DiagnosticsState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that `var` was replaced by its default (once, at info level:
    /// that is what the default is for).
    pub fn default_used(&self, var: &str, default: &str) {
        if self.state().defaults_warned.insert(var.to_string()) {
            log::info(&format!(
                "Variable '{var}' not found in input_variables, using default value: '{default}'"
            ));
        }
    }

    /// Notes a formula or context failure of case `case`; shown once per
    /// (file, line).
    pub fn formula_error(&self, case: usize, file: &str, warning: &str) {
        let line = warning
            .strip_prefix(file)
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut state = self.state();
        let case = state.base + case;
        let cases = state
            .formula_errors
            .entry((file.to_string(), line))
            .or_default();
        if cases.is_empty() {
            log::notice(warning);
        }
        cases.insert(case);
    }

    /// Notes that a formula of case `case` failed (`error`: the first).
    pub fn case_failed(&self, case: usize, error: &str) {
        let mut state = self.state();
        let case = state.base + case;
        state
            .failed_cases
            .entry(case)
            .or_insert_with(|| error.to_string());
    }

    /// Logs in how many cases each failing formula line failed, beyond
    /// the first (cases, not failures: two formulas of a line count once).
    pub fn report(&self) {
        for ((file, line), cases) in &self.state().formula_errors {
            if cases.len() > 1 {
                log::notice(&format!(
                    "{file}:{line}: the formula failed in {} cases",
                    cases.len()
                ));
            }
        }
    }

    /// The cases whose formulas failed, with the first error of each, in
    /// case order.
    pub fn failed_cases(&self) -> BTreeMap<usize, String> {
        self.state().failed_cases.clone()
    }

    /// The first formula error of case `i`, if its formulas failed.
    pub fn case_error(&self, i: usize) -> Option<String> {
        self.state().failed_cases.get(&i).cloned()
    }

    /// Case numbers given from now on are relative to `base`: a run that
    /// compiles its cases by chunks sets it to each chunk's first case.
    pub fn number_from(&self, base: usize) {
        self.state().base = base;
    }
}

/// Warns once per file about big files without variables, which
/// `input_static` would hash and link once instead of copying per case.
fn warn_static_candidates(input: &InputSet, min_size: u64) {
    if min_size == 0 {
        return;
    }
    for f in &input.files {
        let plain = match &f.content {
            FileContent::Template(t) => t.is_plain(),
            FileContent::Binary => true,
        };
        let size = fs::metadata(&f.abs).map(|m| m.len()).unwrap_or(0);
        if plain && size >= min_size {
            log::warn(&format!(
                "'{}' ({:.1} MB) has no variables and is copied and hashed for every case. Consider passing it via input_static instead, so it is linked and hashed once.",
                f.rel,
                size as f64 / 1_048_576.0
            ));
        }
    }
}

/// A compiled input file of one case.
#[derive(Debug)]
pub enum CompiledFile {
    /// Text to write (a template after substitution).
    Text {
        /// Index of the file in the input set.
        index: usize,
        /// The compiled text.
        text: String,
    },
    /// A binary file, copied from its source.
    Binary {
        /// Index of the file in the input set.
        index: usize,
    },
}

/// Renders cases and evaluates their formulas with one interpreter worker,
/// started on first need.
pub struct Evaluator<'a> {
    input: &'a InputSet,
    interpreter: Option<InterpreterKind>,
    needs_worker: bool,
    worker: Option<Worker>,
    diagnostics: &'a Diagnostics,
    defaults: InputDefaults,
}

impl<'a> Evaluator<'a> {
    /// An evaluator for `input` with `model`'s interpreter.
    pub fn new(
        input: &'a InputSet,
        model: &Model,
        config: &Config,
        diagnostics: &'a Diagnostics,
    ) -> Self {
        let needs_worker = input
            .templates()
            .any(|(_, t)| t.formulas().next().is_some());
        let interpreter = if needs_worker {
            interpreter_for(model, config)
        } else {
            None
        };
        Evaluator {
            input,
            interpreter,
            needs_worker,
            worker: None,
            diagnostics,
            defaults: input_defaults(input.templates().map(|(_, t)| t)),
        }
    }

    /// Whether this compile needs (and can use) a formula interpreter.
    pub fn uses_interpreter(&self) -> bool {
        self.needs_worker && self.interpreter.is_some()
    }

    /// Cases sent to the interpreter in one round trip.
    pub fn batch_size(&self) -> usize {
        match self.interpreter {
            Some(InterpreterKind::R) => 64,
            _ => 128,
        }
    }

    /// The compiled files of each case (in input order), evaluating the
    /// formulas of all `cases` (the first is case number `first`) in one
    /// interpreter round trip.
    pub fn evaluate_batch(
        &mut self,
        first: usize,
        cases: &[Case],
    ) -> Result<Vec<Vec<CompiledFile>>> {
        let templates: Vec<(usize, &str, &crate::template::parse::Template)> = self
            .input
            .files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match &f.content {
                FileContent::Template(t) => Some((i, f.rel.as_str(), t)),
                FileContent::Binary => None,
            })
            .collect();
        let rendered: Vec<Vec<_>> = cases
            .iter()
            .map(|case| {
                templates
                    .iter()
                    .map(|(_, _, t)| render_with_defaults(t, case, &self.defaults))
                    .collect()
            })
            .collect();
        for r in rendered.iter().flatten() {
            for (var, default) in &r.defaulted {
                self.diagnostics.default_used(var, default);
            }
        }
        let has_formulas = rendered.iter().flatten().any(|r| r.needs_interpreter());
        let mut outcomes = match (has_formulas, self.interpreter) {
            (true, Some(kind)) => {
                let requests: Vec<Vec<_>> = rendered
                    .iter()
                    .map(|files| {
                        files
                            .iter()
                            .zip(&templates)
                            .map(|(r, (_, rel, _))| r.request(rel))
                            .collect()
                    })
                    .collect();
                let batch: Vec<CaseRequest> = cases
                    .iter()
                    .zip(&requests)
                    .map(|(case, files)| CaseRequest { vars: case, files })
                    .collect();
                let worker = match &mut self.worker {
                    Some(w) => w,
                    None => self.worker.insert(Worker::start(kind)?),
                };
                worker
                    .evaluate_many(&batch)
                    .map_err(|e| while_evaluating(e, self.input))?
                    .into_iter()
                    .map(Some)
                    .collect()
            }
            _ => vec![None; cases.len()],
        };
        let mut out = Vec::with_capacity(cases.len());
        for (j, (files, outcome)) in rendered.into_iter().zip(outcomes.iter_mut()).enumerate() {
            let mut compiled = Vec::with_capacity(self.input.files.len());
            let mut texts = files.into_iter().enumerate();
            for (index, file) in self.input.files.iter().enumerate() {
                match &file.content {
                    FileContent::Template(_) => {
                        let Some((k, r)) = texts.next() else {
                            return Err(Error::Value("internal: template count mismatch".into()));
                        };
                        let file_outcome = outcome.as_ref().and_then(|o| o.get(k));
                        // The context's warnings come first, then one per
                        // failed formula: only the latter fail the case.
                        let context_warnings = file_outcome.map_or(0, |o| o.warnings.len());
                        let (text, warnings) = r.finish(&file.rel, file_outcome);
                        if let Some(w) = warnings.get(context_warnings) {
                            self.diagnostics.case_failed(first + j, w);
                        }
                        for w in warnings {
                            self.diagnostics.formula_error(first + j, &file.rel, &w);
                        }
                        compiled.push(CompiledFile::Text { index, text });
                    }
                    FileContent::Binary => compiled.push(CompiledFile::Binary { index }),
                }
            }
            out.push(compiled);
        }
        Ok(out)
    }
}

/// An interpreter failure (a worker that died, hung or answered nonsense)
/// with the formulas it was evaluating: `in.txt:2 @{…}` (the first few).
fn while_evaluating(e: Error, input: &InputSet) -> Error {
    const SHOWN: usize = 3;
    let Error::Interpreter(msg) = e else {
        return e;
    };
    let formulas: Vec<String> = input
        .templates()
        .flat_map(|(file, t)| {
            t.formulas()
                .map(move |f| format!("{}:{} {}", file.rel, f.line, t.text(&f.raw).trim()))
        })
        .collect();
    let mut named = formulas
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if formulas.len() > SHOWN {
        named.push_str(&format!(" and {} more", formulas.len() - SHOWN));
    }
    Error::Interpreter(format!("{msg} [while evaluating the formulas {named}]"))
}
