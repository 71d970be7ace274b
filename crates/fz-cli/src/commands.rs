//! The commands: each resolves its arguments, calls the library once and
//! prints the result on stdout.

use crate::args::{
    CacheCommand, CompileArgs, FunzServersArgs, InputArgs, ListArgs, OutputArgs, ReportArgs,
    RunArgs,
};
use crate::resolve;
use crate::Failure;
use fz_core::format::{render_map, render_table};
use fz_core::model::Lookup;
use fz_core::ops::compile::{fzc, CompileOptions};
use fz_core::ops::input::fzi;
use fz_core::ops::output::fzo;
use fz_core::ops::run::{fzr, RunOptions};
use std::path::{Path, PathBuf};

/// `fzi`: prints the variables, formulas and static objects of an input.
pub fn input(a: &InputArgs) -> Result<u8, Failure> {
    a.log.apply();
    let format = resolve::format(&a.format)?;
    let path = resolve::input_path(&a.input)?;
    let lookup = Lookup::from_env()?;
    let model = resolve::model(&a.model, &lookup)?;
    let statics = resolve::input_static(&a.input_static)?;
    let input = resolve::absolute(&path, &lookup.cwd);
    let map = fzi(&input, &model, &statics, &lookup.cwd)?;
    print_out(&render_map(&map, format))?;
    Ok(0)
}

/// `fzc`: compiles the input for every case into the output directory.
pub fn compile(a: &CompileArgs) -> Result<u8, Failure> {
    a.log.apply();
    let path = resolve::input_path(&a.input)?;
    let lookup = Lookup::from_env()?;
    let model = resolve::model(&a.model, &lookup)?;
    let statics = resolve::input_static(&a.cases.input_static)?;
    let design = resolve::design(a.cases.input_variables.as_deref(), &lookup.cwd)?;
    let options = CompileOptions {
        case_naming: resolve::case_naming(a.cases.case_naming.as_deref())?,
        input_static: statics,
    };
    let input = resolve::absolute(&path, &lookup.cwd);
    let output = resolve::absolute(&a.output_dir, &lookup.cwd);
    fzc(
        &input,
        design.as_ref(),
        &model,
        &output,
        &options,
        &lookup.cwd,
    )
    .map_err(resolve::library_failure)?;
    print_out(&format!("Compiled input saved to {}", a.output_dir))?;
    Ok(0)
}

/// `fzo`: prints the outputs of the directories the path names as a table.
pub fn output(a: &OutputArgs) -> Result<u8, Failure> {
    a.log.apply();
    let format = resolve::format(&a.format)?;
    let path = resolve::one_path("output_path", &a.output_path_pos, &a.output_path)?;
    let lookup = Lookup::from_env()?;
    let model = resolve::model(&a.model, &lookup)?;
    let table = fzo(&path, &model, &lookup.cwd)?;
    print_out(&render_table(&table, format))?;
    Ok(0)
}

/// `fzr`: runs the study, prints the table on stdout and one summary line
/// on stderr; exit 0 when every case is done, 1 when one is not, 130 when
/// interrupted.
pub fn run(a: &RunArgs) -> Result<u8, Failure> {
    a.log.apply();
    let format = resolve::format(&a.format)?;
    let path = resolve::input_path(&a.input)?;
    let lookup = Lookup::from_env()?;
    let model = resolve::model(&a.model, &lookup)?;
    let design = resolve::design(a.cases.input_variables.as_deref(), &lookup.cwd)?;
    let cancel = fz_core::calculators::Cancel::new();
    let events = a
        .events
        .as_deref()
        .map(|file| EventsFile::open(&resolve::absolute(file, &lookup.cwd)))
        .transpose()?;
    let options = RunOptions {
        results_dir: resolve::absolute(&a.results_dir, &lookup.cwd),
        calculators: a.calculators.clone(),
        timeout: a.timeout,
        case_naming: resolve::case_naming(a.cases.case_naming.as_deref())?,
        input_static: resolve::input_static(&a.cases.input_static)?,
        cancel: Some(cancel.clone()),
        resume: a.resume,
        events: events.as_ref().map(EventsFile::sender),
        no_progress: a.no_progress,
        report: report_page(a.report.as_deref(), &a.results_dir, &lookup.cwd),
    };
    let input = resolve::absolute(&path, &lookup.cwd);
    let guard = crate::interrupt::install(cancel);
    let started = std::time::Instant::now();
    let report =
        fzr(&input, design.as_ref(), &model, &options, &lookup).map_err(resolve::library_failure);
    drop(guard);
    if let Ok(Some(page)) = report.as_ref().map(|r| r.report_page.as_ref()) {
        eprintln!("report: {}", page.display());
    }
    drop(options);
    if let Some(events) = events {
        events.finish();
    }
    let report = report?;
    print_out(&render_table(&report.table, format))?;
    let variables = design.as_ref().map(|d| d.names()).unwrap_or_default();
    if fz_core::log::enabled(fz_core::config::LogLevel::Error) {
        let line =
            crate::summary::line(&report.table, &variables, started.elapsed(), &a.results_dir);
        eprintln!("{line}");
    }
    if report.interrupted {
        let done = report.count_status("done");
        let total = report.table.rows.len();
        // Passwords of calculator URIs are never printed, here neither (the
        // user types them again).
        let argv: Vec<String> = crate::invocation()
            .iter()
            .map(|a| fz_core::calculators::uri::redact(a))
            .collect();
        eprintln!(
            "⚠️  Run interrupted: {done} of {total} cases done, the others were not run. Resume with: {} -c cache://_",
            crate::interrupt::shell_words(&argv)
        );
        return Ok(130);
    }
    // Upstream exits 0 whatever became of the cases.
    Ok(if crate::summary::count(&report.table).all_done() {
        0
    } else {
        1
    })
}

/// `fzr --events FILE`: run events appended to a file as JSON lines, by a
/// thread of their own so a slow disk or a full pipe never holds a case
/// back. Each line is flushed as written, so `tail -f` follows the run.
struct EventsFile {
    tx: std::sync::mpsc::Sender<fz_core::ops::run::RunEvent>,
    writer: std::thread::JoinHandle<()>,
}

impl EventsFile {
    fn open(path: &std::path::Path) -> Result<EventsFile, Failure> {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Failure::Error(format!("--events: cannot open '{}': {e}", path.display()))
            })?;
        let (tx, rx) = std::sync::mpsc::channel::<fz_core::ops::run::RunEvent>();
        let shown = path.display().to_string();
        let writer = std::thread::spawn(move || {
            let mut failed = false;
            for event in rx {
                if failed {
                    continue;
                }
                let line = event.json_line() + "\n";
                if let Err(e) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
                    fz_core::log::warn(&format!("--events: cannot write to '{shown}': {e}"));
                    failed = true;
                }
            }
        });
        Ok(EventsFile { tx, writer })
    }

    fn sender(&self) -> std::sync::mpsc::Sender<fz_core::ops::run::RunEvent> {
        self.tx.clone()
    }

    /// Waits until every event sent so far is written.
    fn finish(self) {
        drop(self.tx);
        let _ = self.writer.join();
    }
}

/// `fzl`: prints the models, calculators and algorithms found; with `--check`, one
/// line per problem on stderr (naming the file) and exit 1 if any.
pub fn list(a: &ListArgs) -> Result<u8, Failure> {
    if let Some(what) = &a.what {
        return crate::plugins::list(a, what);
    }
    if a.global {
        return Err(Failure::Usage(
            "--global lists one kind: fz list models|algorithms|calculators --global".into(),
        ));
    }
    a.log.apply();
    let format = resolve::format(&a.format)?;
    let lookup = Lookup::from_env()?;
    let listing =
        fz_core::ops::list::fzl(&a.models, &a.calculators, &a.algorithms, a.check, &lookup)?;
    print_out(&fz_core::ops::list::render::render(&listing, format)?)?;
    let problems = listing.problems();
    for p in &problems {
        eprintln!("fzl: check failed: {p}");
    }
    Ok(if problems.is_empty() { 0 } else { 1 })
}

/// `fz cache list|verify`: prints the entries; `verify` exits 1 when one
/// cannot be a cache hit.
pub fn cache(c: &CacheCommand) -> Result<u8, Failure> {
    use fz_core::cache::maintenance::{entries, list_table, verify_table};
    let (a, verify) = match c {
        CacheCommand::List(a) => (a, false),
        CacheCommand::Verify(a) => (a, true),
    };
    let format = resolve::format(&a.format)?;
    let lookup = Lookup::from_env()?;
    let mut all = Vec::new();
    for p in &a.paths {
        all.extend(entries(p, &lookup.cwd)?);
    }
    let table = if verify {
        verify_table(&all)
    } else {
        list_table(&all)
    };
    print_out(&render_table(&table, format))?;
    let unusable = verify
        && table
            .rows
            .iter()
            .any(|r| r.get(3) == Some(&fz_core::Value::Bool(false)));
    Ok(if unusable { 1 } else { 0 })
}

/// `fz report`: counts, calculators, slowest attempts, busy vs wall time;
/// with `--html`, the HTML page (its path printed).
pub fn report(a: &ReportArgs) -> Result<u8, Failure> {
    use fz_core::results::journal::{read, report};
    let lookup = Lookup::from_env()?;
    let dir = resolve::absolute(&a.results_dir, &lookup.cwd);
    if a.html {
        let out = a.output.as_ref().map(|o| resolve::absolute(o, &lookup.cwd));
        let written = fz_core::report::write_html(&dir, out.as_deref())?;
        print_out(&format!("report: {}", written.display()))?;
        return Ok(0);
    }
    let lines = read(&dir)?;
    print_out(&report(&lines))?;
    Ok(0)
}

/// Prints `text` and a newline on stdout. A reader that stopped early
/// (`fzi … | head`) is not an error.
pub(crate) fn print_out(text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Error(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Where `--report [FILE]` writes its page: FILE, or `DIR/report.html`.
pub fn report_page(given: Option<&str>, dir: &str, cwd: &Path) -> Option<PathBuf> {
    given.map(|f| match f {
        "" => resolve::absolute(dir, cwd).join(fz_core::report::DEFAULT_NAME),
        f => resolve::absolute(f, cwd),
    })
}

/// `fz funz-servers`: listens on the UDP port and prints the daemons heard;
/// exit 1 when none was (or none could run `--code`).
pub fn funz_servers(a: &FunzServersArgs) -> Result<u8, Failure> {
    use fz_core::calculators::funz::survey::{survey, table};
    a.log.apply();
    let format = resolve::format(&a.format)?;
    if !(a.duration.is_finite() && a.duration >= 0.0) {
        return Err(Failure::Usage(format!(
            "--duration must be a number of seconds >= 0, got {}",
            a.duration
        )));
    }
    let duration = std::time::Duration::from_secs_f64(a.duration.min(86_400.0));
    let code = a.code.as_deref();
    let heard = survey(
        a.udp_port,
        duration,
        |h| code.is_some_and(|c| h.can_run(c)),
        || true,
    )
    .map_err(|e| Failure::Error(e.to_string()))?;
    print_out(&render_table(&table(&heard), format))?;
    let found = match code {
        Some(c) => heard.iter().any(|h| h.can_run(c)),
        None => !heard.is_empty(),
    };
    if !found {
        let what = code.map_or(String::new(), |c| format!(" idle and offering '{c}'"));
        eprintln!(
            "fz: no Funz daemon{what} heard on UDP port {} in {} s",
            a.udp_port, a.duration
        );
    }
    Ok(if found { 0 } else { 1 })
}
