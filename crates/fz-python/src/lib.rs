//! The native module `fz._fz`: the fz library and command line, exposed to
//! the Python package in `python/fz/`. Values cross the boundary as JSON
//! text (the Python side turns pandas and numpy values into plain ones), so
//! this layer only converts and releases the GIL while fz works; it holds
//! no logic of its own.

mod design;
mod funz;
mod plugins;

use fz_core::design::Design;
use fz_core::model::{model_from_json, resolve_model_str, Lookup, Model};
use fz_core::Error;
use pyo3::exceptions::{PyFileNotFoundError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::path::{Path, PathBuf};

/// The Python exception for a library error (type, value, missing path).
fn py_err(e: Error) -> PyErr {
    match e {
        Error::Type(m) => PyTypeError::new_err(m),
        Error::NotFound(m) => PyFileNotFoundError::new_err(m),
        Error::Value(m) | Error::Model(m) | Error::TooManyCases(m) => PyValueError::new_err(m),
        Error::Io { path, source } => os_error(&path, &source),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

/// An I/O error as the `OSError` subclass Python raises for it, with
/// `errno`, `strerror` and `filename` set (`[Errno 2] No such file or
/// directory: '/p'`).
fn os_error(path: &Path, source: &std::io::Error) -> PyErr {
    use pyo3::exceptions::{
        PyFileExistsError, PyIsADirectoryError, PyNotADirectoryError, PyOSError, PyPermissionError,
        PyTimeoutError,
    };
    use std::io::ErrorKind as K;
    let text = source.to_string();
    // Rust appends " (os error N)"; Python shows the errno itself.
    let strerror = text
        .rsplit_once(" (os error ")
        .map_or(text.as_str(), |(head, _)| head)
        .to_string();
    let args = (
        source.raw_os_error().unwrap_or(0),
        strerror,
        path.display().to_string(),
    );
    match source.kind() {
        K::NotFound => PyFileNotFoundError::new_err(args),
        K::PermissionDenied => PyPermissionError::new_err(args),
        K::IsADirectory => PyIsADirectoryError::new_err(args),
        K::NotADirectory => PyNotADirectoryError::new_err(args),
        K::AlreadyExists => PyFileExistsError::new_err(args),
        K::TimedOut => PyTimeoutError::new_err(args),
        _ => PyOSError::new_err(args),
    }
}

fn lookup() -> PyResult<Lookup> {
    Lookup::from_env().map_err(py_err)
}

/// A model given as JSON text of a dict, or as an alias/file/inline string.
fn model(spec: &str, is_json: bool, lookup: &Lookup) -> PyResult<Model> {
    if is_json {
        let json: serde_json::Value =
            serde_json::from_str(spec).map_err(|e| PyValueError::new_err(format!("model: {e}")))?;
        model_from_json(json, "model").map_err(py_err)
    } else {
        resolve_model_str(spec, lookup).map_err(py_err)
    }
}

fn design(json: Option<&str>) -> PyResult<Option<Design>> {
    match json {
        None => Ok(None),
        Some(text) => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| PyValueError::new_err(format!("input_variables: {e}")))?;
            fz_core::design::from_json(&value, "input_variables")
                .map(Some)
                .map_err(py_err)
        }
    }
}

fn absolute(path: &str, cwd: &Path) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// The command line: `argv` with the program name first; returns the exit
/// status.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(move || fz_cli::main_with(argv))
}

/// `fzi`: JSON text of the map of variables, formulas and static objects.
#[pyfunction]
#[pyo3(signature = (input_path, model_spec, model_is_json, input_static))]
fn fzi(
    py: Python<'_>,
    input_path: String,
    model_spec: String,
    model_is_json: bool,
    input_static: Vec<String>,
) -> PyResult<String> {
    let lookup = lookup()?;
    let model = model(&model_spec, model_is_json, &lookup)?;
    let map = py
        .detach(|| {
            fz_core::ops::input::fzi(
                &absolute(&input_path, &lookup.cwd),
                &model,
                &input_static,
                &lookup.cwd,
            )
        })
        .map_err(py_err)?;
    Ok(fz_core::Value::Map(map).to_json().to_string())
}

/// `fzc`: compiles into `output_dir`.
#[pyfunction]
#[pyo3(signature = (input_path, variables_json, model_spec, model_is_json, output_dir, input_static, case_naming))]
#[allow(clippy::too_many_arguments)]
fn fzc(
    py: Python<'_>,
    input_path: String,
    variables_json: Option<String>,
    model_spec: String,
    model_is_json: bool,
    output_dir: String,
    input_static: Vec<String>,
    case_naming: Option<String>,
) -> PyResult<()> {
    let lookup = lookup()?;
    let model = model(&model_spec, model_is_json, &lookup)?;
    let design = design(variables_json.as_deref())?;
    let options = fz_core::ops::compile::CompileOptions {
        case_naming: case_naming
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(PyValueError::new_err)?,
        input_static,
    };
    py.detach(|| {
        fz_core::ops::compile::fzc(
            &absolute(&input_path, &lookup.cwd),
            design.as_ref(),
            &model,
            &absolute(&output_dir, &lookup.cwd),
            &options,
            &lookup.cwd,
        )
    })
    .map_err(py_err)?;
    Ok(())
}

/// `fzo`: JSON text `{"columns": [...], "rows": [[...]]}`.
#[pyfunction]
fn fzo(
    py: Python<'_>,
    output_path: String,
    model_spec: String,
    model_is_json: bool,
) -> PyResult<String> {
    let lookup = lookup()?;
    let model = model(&model_spec, model_is_json, &lookup)?;
    let table = py
        .detach(|| fz_core::ops::output::fzo(&output_path, &model, &lookup.cwd))
        .map_err(py_err)?;
    Ok(table_json(&table))
}

/// `fzr`: JSON text `{"columns": [...], "rows": [[...]], "interrupted": bool}`.
#[pyfunction]
#[pyo3(signature = (input_path, variables_json, model_spec, model_is_json, results_dir, calculators, timeout, case_naming, input_static, resume, on_event=None, report=None))]
#[allow(clippy::too_many_arguments)]
fn fzr(
    py: Python<'_>,
    input_path: String,
    variables_json: Option<String>,
    model_spec: String,
    model_is_json: bool,
    results_dir: String,
    calculators: Vec<String>,
    timeout: Option<u64>,
    case_naming: Option<String>,
    input_static: Vec<String>,
    resume: bool,
    on_event: Option<Py<PyAny>>,
    report: Option<String>,
) -> PyResult<String> {
    let lookup = lookup()?;
    let model = model(&model_spec, model_is_json, &lookup)?;
    let design = design(variables_json.as_deref())?;
    let mut options = fz_core::ops::run::RunOptions {
        results_dir: absolute(&results_dir, &lookup.cwd),
        calculators,
        timeout,
        case_naming: case_naming
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(PyValueError::new_err)?,
        input_static,
        cancel: None,
        resume,
        report: report.map(|page| absolute(&page, &lookup.cwd)),
        ..Default::default()
    };
    let input = absolute(&input_path, &lookup.cwd);
    let cancel = fz_core::calculators::Cancel::new();
    options.cancel = Some(cancel.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    if on_event.is_some() {
        options.events = Some(tx);
    } else {
        drop(tx);
    }
    let shown_results = options.results_dir.clone();
    // The run goes on another thread with the GIL released; this thread
    // dispatches events (so Python callbacks always run on the thread that
    // called fzr) and checks for Ctrl+C every 100 ms.
    let worker = std::thread::spawn(move || {
        fz_core::ops::run::fzr(&input, design.as_ref(), &model, &options, &lookup)
    });
    let (report, raise) = supervise(py, worker, rx, on_event.as_ref(), &cancel)?;
    if let Some(error) = raise {
        if let Ok(report) = &report {
            eprintln!(
                "⚠️  Run killed: {} of {} cases done; results in {}. Resume with fzr(..., resume=True).",
                report.count_status("done"),
                report.table.rows.len(),
                shown_results.display()
            );
        }
        return Err(error);
    }
    let report = report.map_err(py_err)?;
    if report.interrupted {
        eprintln!(
            "⚠️  Run interrupted: {} of {} cases done, the others were not run. Resume with fzr(..., resume=True) or calculators=['cache://{}', ...].",
            report.count_status("done"),
            report.table.rows.len(),
            shown_results.display()
        );
    }
    let mut json: serde_json::Value = serde_json::from_str(&table_json(&report.table))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    json["interrupted"] = serde_json::Value::Bool(report.interrupted);
    Ok(json.to_string())
}

/// Waits for `worker` on the calling thread, with the GIL released in
/// slices of 100 ms: dispatches the run's events to `on_event` (so Python
/// callbacks run on the thread that called fz) and checks for Ctrl+C.
/// The first Ctrl+C stops new cases; the second kills the running ones and
/// is returned, to be raised once the worker has ended.
/// How long the calling thread waits, GIL released, between two checks
/// for Ctrl+C.
const SLICE: std::time::Duration = std::time::Duration::from_millis(100);

fn supervise<T: Send + 'static>(
    py: Python<'_>,
    worker: std::thread::JoinHandle<T>,
    rx: std::sync::mpsc::Receiver<fz_core::ops::run::RunEvent>,
    on_event: Option<&Py<PyAny>>,
    cancel: &fz_core::calculators::Cancel,
) -> PyResult<(T, Option<PyErr>)> {
    let mut rx = rx;
    let mut interrupts = 0;
    let mut raise: Option<PyErr> = None;
    let mut on_interrupt = |py: Python<'_>, error: PyErr| {
        if !error.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
            // Another signal handler raised: stop everything, re-raise it.
            cancel.kill_running();
            raise.get_or_insert(error);
            return;
        }
        interrupts += 1;
        if interrupts == 1 {
            cancel.stop_new();
            eprintln!(
                "⚠️  Interrupt received: running cases finish, no new case starts. Press Ctrl+C again to kill them."
            );
        } else {
            cancel.kill_running();
            raise.get_or_insert(error);
        }
    };
    let running = &worker;
    loop {
        let (back, got) = py.detach(move || {
            let got = rx.recv_timeout(SLICE);
            if matches!(got, Err(std::sync::mpsc::RecvTimeoutError::Disconnected)) {
                // No (more) events: nothing to wait on but the run itself,
                // polled finely so that a short run returns at once (a
                // 50 ms sleep here was most of a one-case fzr's time).
                let until = std::time::Instant::now() + SLICE;
                while !running.is_finished() && std::time::Instant::now() < until {
                    std::thread::sleep(std::time::Duration::from_micros(500));
                }
            }
            (rx, got)
        });
        rx = back;
        if let (Ok(event), Some(callback)) = (&got, on_event) {
            let (kind, payload) = (event.kind(), event.payload().to_string());
            // User errors are caught by the Python layer's wrapper; what
            // gets here is Ctrl+C during the callback, or an error of ours.
            if let Err(e) = callback.call1(py, (kind, payload)) {
                on_interrupt(py, e);
            }
        }
        if let Err(e) = py.check_signals() {
            on_interrupt(py, e);
        }
        if matches!(got, Err(std::sync::mpsc::RecvTimeoutError::Disconnected))
            && worker.is_finished()
        {
            break;
        }
    }
    let result = worker
        .join()
        .map_err(|_| PyRuntimeError::new_err("the run thread panicked"))?;
    Ok((result, raise))
}

fn table_json(table: &fz_core::format::Table) -> String {
    let rows: Vec<serde_json::Value> = table
        .rows
        .iter()
        .map(|r| serde_json::Value::Array(r.iter().map(fz_core::Value::to_json).collect()))
        .collect();
    serde_json::json!({ "columns": table.columns, "rows": rows }).to_string()
}

/// `fzl`: JSON text of the listing (`{"models": {…}, "calculators": {…},
/// "algorithms": {…}}`).
#[pyfunction]
#[pyo3(signature = (models, calculators, algorithms, check))]
fn fzl(
    py: Python<'_>,
    models: String,
    calculators: String,
    algorithms: String,
    check: bool,
) -> PyResult<String> {
    let lookup = lookup()?;
    let listing = py
        .detach(|| fz_core::ops::list::fzl(&models, &calculators, &algorithms, check, &lookup))
        .map_err(py_err)?;
    Ok(listing.to_json().to_string())
}

/// `report`: writes the HTML page of a results directory to `output`
/// (default `results_dir/report.html`) and returns its path.
#[pyfunction]
#[pyo3(signature = (results_dir, output=None))]
fn report_html(py: Python<'_>, results_dir: String, output: Option<String>) -> PyResult<String> {
    let cwd = lookup()?.cwd;
    let dir = cwd.join(results_dir);
    let out = output.map(|o| cwd.join(o));
    let written = py
        .detach(|| fz_core::report::write_html(&dir, out.as_deref()))
        .map_err(py_err)?;
    Ok(written.display().to_string())
}

/// `report`: the text report of a results directory's journal.
#[pyfunction]
fn report_text(py: Python<'_>, results_dir: String) -> PyResult<String> {
    let dir = lookup()?.cwd.join(results_dir);
    let lines = py
        .detach(|| fz_core::results::journal::read(&dir))
        .map_err(py_err)?;
    Ok(fz_core::results::journal::report(&lines))
}

/// Sets a configuration variable (`FZ_MAX_WORKERS`, …) for this process,
/// over the environment; `None` removes the setting.
#[pyfunction]
#[pyo3(signature = (var, value=None))]
fn set_setting(var: &str, value: Option<&str>) {
    fz_core::config::set_setting(var, value);
}

/// The value of a configuration variable now: the program's setting, else
/// the environment.
#[pyfunction]
fn setting(var: &str) -> Option<String> {
    fz_core::config::setting(var)
}

/// Sets the default of a configuration variable, below the environment
/// and the settings; `None` removes it.
#[pyfunction]
#[pyo3(signature = (var, value=None))]
fn set_default(var: &str, value: Option<&str>) {
    fz_core::config::set_default(var, value);
}

/// Removes every setting made with `set_setting`.
#[pyfunction]
fn clear_settings() {
    fz_core::config::clear_settings();
}

/// The fz version.
#[pyfunction]
fn version() -> &'static str {
    fz_core::VERSION
}

/// The funz-fz version whose commands, files and Python API fz matches.
#[pyfunction]
fn funz_fz_version() -> &'static str {
    fz_core::FUNZ_FZ_VERSION
}

/// Writes out what Rust's stdout buffer still holds (before `fz._output`
/// gives descriptor 1 back); stderr is unbuffered.
#[pyfunction]
fn flush_output() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

#[pymodule]
fn _fz(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(fzi, m)?)?;
    m.add_function(wrap_pyfunction!(fzc, m)?)?;
    m.add_function(wrap_pyfunction!(fzo, m)?)?;
    m.add_function(wrap_pyfunction!(fzr, m)?)?;
    m.add_function(wrap_pyfunction!(fzl, m)?)?;
    m.add_function(wrap_pyfunction!(report_html, m)?)?;
    m.add_function(wrap_pyfunction!(funz::funz_servers, m)?)?;
    m.add_function(wrap_pyfunction!(report_text, m)?)?;
    m.add_function(wrap_pyfunction!(design::fzd, m)?)?;
    m.add_function(wrap_pyfunction!(set_default, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(funz_fz_version, m)?)?;
    m.add_function(wrap_pyfunction!(flush_output, m)?)?;
    m.add_function(wrap_pyfunction!(set_setting, m)?)?;
    m.add_function(wrap_pyfunction!(setting, m)?)?;
    m.add_function(wrap_pyfunction!(clear_settings, m)?)?;
    plugins::register(m)?;
    note_scripts_dir(m.py());
    Ok(())
}

/// Tells packed `slurm://` where pip put the `fz` command of this module
/// (`sysconfig.get_path("scripts")`), which is not always in PATH (a venv
/// used without activating it): the pack tasks run it as their worker.
fn note_scripts_dir(py: Python<'_>) {
    let dir = py
        .import("sysconfig")
        .and_then(|m| m.call_method1("get_path", ("scripts",)))
        .and_then(|p| p.extract::<String>());
    if let Ok(dir) = dir {
        fz_core::calculators::slurm::pack::ship::set_scripts_dir(std::path::Path::new(&dir));
    }
}
