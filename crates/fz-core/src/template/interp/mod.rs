//! Formula interpreter workers (python3, Rscript): one persistent process per compile.
//!
//! A [`Worker`] is a child interpreter process running an embedded worker
//! script (`worker.py` or `worker.R`). The compile starts one lazily, when a
//! template has formulas, and sends it requests made of cases: for each case
//! every template file with its context program and its formulas (variables
//! already substituted). The worker answers with one reply per request, so a
//! request costs one round trip whatever the number of cases, files and
//! formulas: [`Worker::evaluate`] sends one case, [`Worker::evaluate_many`] a
//! batch, which is much cheaper per case when there are many (the round trip,
//! not the evaluation, dominates the cost of a small case).
//!
//! The Python worker caches compiled code by source text (context programs,
//! single context lines, formulas; at most 4096 entries of each kind, the
//! cache being emptied when full), so a context shared by many cases is
//! compiled once; the R worker caches parsed context programs the same way.
//! Code that fails to compile is never cached, so errors, their messages and
//! the line numbers they name are the same as without the cache.
//!
//! Every file is evaluated in a fresh environment: the case variables bound by
//! bare name with their native values, then the context program, then the
//! formulas in order. Nothing leaks between files or between cases (for R
//! this fixes upstream's shared global environment).
//!
//! # Wire protocol
//!
//! Requests go to the worker's stdin as one line; replies come back on its
//! stdout as one line of JSON prefixed by a per-worker random marker, so that
//! anything else reaching stdout (for instance the output of a `system()`
//! call in R) is skipped rather than mistaken for a reply. The workers also
//! move user output away from the reply channel (Python redirects fd 1 to
//! stderr, R sinks its output to stderr). The worker's stderr is drained by a
//! thread that keeps its tail for error messages.
//!
//! * A request is a list of cases (`{"cases": [{"vars": …, "files": […]}, …]}`
//!   in Python, `list(cases = list(list(vars = …, files = …), …))` in R); the
//!   reply has one entry per case, in order (`{"cases": [{"files": […]}, …]}`),
//!   an entry being `{"fatal": "…"}` when that case could not be handled.
//! * Python requests are JSON. Values use three tagged forms so that nothing
//!   is lost: `{"$f": "nan"}` for non-finite floats, `{"$t": [...]}` for
//!   tuples and `{"$m": {...}}` for maps.
//! * R requests are one line of R source (a `list(...)` call whose string
//!   literals escape every non-ASCII character as `\U{...}`), so the worker
//!   needs nothing beyond base R; R replies are ASCII JSON written by the
//!   worker itself, with doubles as `{"$f": "<%.17g>"}`.

mod watchdog;

use crate::value::Value;
use crate::{Error, Result};
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::collections::hash_map::RandomState;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use watchdog::Watchdog;

/// The Python worker script, run with `python3 -c`.
const PYTHON_WORKER: &str = include_str!("worker.py");
/// The R worker script, passed in `FZ_WORKER_SCRIPT` and run by [`R_BOOTSTRAP`].
const R_WORKER: &str = include_str!("worker.R");
/// The `Rscript -e` expression that runs the R worker script.
const R_BOOTSTRAP: &str = r#"eval(parse(text = Sys.getenv("FZ_WORKER_SCRIPT")))"#;
/// Bytes of worker stderr kept for error messages.
const STDERR_TAIL_BYTES: usize = 4096;
/// Characters of worker stderr quoted in an error message.
const STDERR_QUOTE_CHARS: usize = 1500;

/// Which language formulas and context lines are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterpreterKind {
    /// Python 3, run by `python3` (or `$FZ_PYTHON`).
    Python,
    /// R, run by `Rscript` (or `$FZ_RSCRIPT`).
    R,
}

impl InterpreterKind {
    /// Parses an interpreter name case-insensitively: `python` or `r`.
    /// Anything else (`javascript`, `auto`, …) is not supported: `None`.
    pub fn from_name(name: &str) -> Option<InterpreterKind> {
        if name.eq_ignore_ascii_case("python") {
            Some(InterpreterKind::Python)
        } else if name.eq_ignore_ascii_case("r") {
            Some(InterpreterKind::R)
        } else {
            None
        }
    }

    /// The interpreter's display name: `python` or `R`.
    pub fn name(self) -> &'static str {
        match self {
            InterpreterKind::Python => "python",
            InterpreterKind::R => "R",
        }
    }

    /// The environment variable that overrides the executable.
    pub fn env_var(self) -> &'static str {
        match self {
            InterpreterKind::Python => "FZ_PYTHON",
            InterpreterKind::R => "FZ_RSCRIPT",
        }
    }

    /// The executable [`Worker::start`] runs: the environment override
    /// (`FZ_PYTHON` / `FZ_RSCRIPT`) if set and not empty, else `python3` /
    /// `Rscript` from `PATH`.
    pub fn executable(self) -> String {
        match crate::config::setting(self.env_var()) {
            Some(exe) if !exe.is_empty() => exe,
            _ => self.default_executable().to_string(),
        }
    }

    fn default_executable(self) -> &'static str {
        match self {
            InterpreterKind::Python => "python3",
            InterpreterKind::R => "Rscript",
        }
    }

    fn executable_hint(self) -> &'static str {
        match self {
            InterpreterKind::Python => "a python3 executable",
            InterpreterKind::R => "an Rscript executable",
        }
    }
}

impl std::fmt::Display for InterpreterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One template file of one case, as the worker evaluates it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileRequest {
    /// Display name of the file, used in warnings.
    pub file: String,
    /// Context lines as `(1-based line number, code)`, already dedented;
    /// executed in order as one program.
    pub context: Vec<(usize, String)>,
    /// Formulas as `(line, expression)`, variables already substituted and
    /// format suffix already removed.
    pub formulas: Vec<(usize, String)>,
    /// Compile mode (`true`): if the whole context fails, warn and run each
    /// line separately, warning per failing line. Static-object mode
    /// (`false`, `fzi`): warn `Error executing static objects: …` and go on
    /// with an empty context.
    pub fallback_line_by_line: bool,
}

/// Everything evaluated for one case, in one round trip.
#[derive(Debug, Clone, Copy)]
pub struct CaseRequest<'a> {
    /// Case variables, bound by bare name with native values (lists as
    /// lists, maps as dicts / named lists).
    pub vars: &'a IndexMap<String, Value>,
    /// The template files of the case, each evaluated in its own environment.
    pub files: &'a [FileRequest],
}

/// The result of one formula.
#[derive(Debug, Clone, PartialEq)]
pub enum FormulaOutcome {
    /// The formula evaluated.
    Ok {
        /// Python `str(result)`; for R, `str()` of the converted value
        /// (`2` → `2.0`, `2L` → `2`, `TRUE` → `True`, strings as is).
        text: String,
        /// `float(result)` when that succeeds (ints, floats, bools, numeric
        /// strings, as upstream's number formatting accepts), else `None`.
        number: Option<f64>,
        /// The result as a value; results with no JSON form (sets, objects,
        /// R functions, …) become `Value::Str` of their text.
        value: Value,
    },
    /// The interpreter's error, e.g. `NameError: name 'f' is not defined`.
    Err(String),
}

/// The result of one file of a case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileOutcome {
    /// Context failures, each naming the file, the line and the message,
    /// e.g. `Error executing full context: NameError: name 'x' is not defined (in.txt, line 3)`.
    pub warnings: Vec<String>,
    /// One outcome per formula of the request, in order.
    pub results: Vec<FormulaOutcome>,
}

/// Tail of the worker's stderr (and of stray stdout), filled by a thread.
#[derive(Default)]
pub(crate) struct OutputTail {
    buf: Mutex<Vec<u8>>,
    /// Whether what arrives is also copied to this process's stderr.
    pub(crate) echo: AtomicBool,
}

impl OutputTail {
    pub(crate) fn push(&self, bytes: &[u8]) {
        if self.echo.load(Ordering::Relaxed) {
            let _ = std::io::stderr().write_all(bytes);
        }
        let mut buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        buf.extend_from_slice(bytes);
        if buf.len() > STDERR_TAIL_BYTES {
            let cut = buf.len() - STDERR_TAIL_BYTES;
            buf.drain(..cut);
        }
    }

    pub(crate) fn text(&self) -> String {
        let buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if text.is_empty() {
            return "(nothing on stderr)".to_string();
        }
        let count = text.chars().count();
        if count > STDERR_QUOTE_CHARS {
            let tail: String = text.chars().skip(count - STDERR_QUOTE_CHARS).collect();
            format!("…{tail}")
        } else {
            text.to_string()
        }
    }
}

/// Why reading a reply failed.
pub(crate) enum ReadFailure {
    /// The process closed its stdout.
    Eof,
    /// Reading failed.
    Io(std::io::Error),
    /// The marked line is not JSON: why, quoting it.
    Garbled(String),
}

/// Writes one request to a child's stdin (`None`: already closed).
pub(crate) fn send_request(stdin: Option<&mut ChildStdin>, bytes: &[u8]) -> std::io::Result<()> {
    let stdin =
        stdin.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin closed"))?;
    stdin.write_all(bytes)?;
    stdin.flush()
}

/// Reads lines from a child's stdout until one carries `marker` and parses
/// what follows it as JSON; lines without the marker (stray output) and
/// text before it go to `tail`.
pub(crate) fn read_marked_json(
    reader: &mut impl BufRead,
    marker: &[u8],
    tail: &OutputTail,
) -> std::result::Result<Json, ReadFailure> {
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return Err(ReadFailure::Eof),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadFailure::Io(e)),
        }
        let Some(pos) = find(&line, marker) else {
            tail.push(&line);
            continue;
        };
        if pos > 0 {
            tail.push(&line[..pos]);
            tail.push(b"\n");
        }
        let body = &line[pos + marker.len()..];
        return serde_json::from_slice(body).map_err(|e| {
            ReadFailure::Garbled(format!(
                "{e} in {}",
                truncate(String::from_utf8_lossy(body).trim(), 200)
            ))
        });
    }
}

/// A running formula interpreter process; killed (and reaped) on drop.
pub struct Worker {
    kind: InterpreterKind,
    exe: String,
    version: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    tail: Arc<OutputTail>,
    drain: Option<JoinHandle<()>>,
    marker: Vec<u8>,
    failure: Option<String>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("kind", &self.kind)
            .field("exe", &self.exe)
            .field("pid", &self.child.id())
            .field("version", &self.version)
            .finish()
    }
}

impl Worker {
    /// Starts a worker with the default executable of `kind`
    /// ([`InterpreterKind::executable`]: `$FZ_PYTHON` or `python3`,
    /// `$FZ_RSCRIPT` or `Rscript`) and waits until it is ready.
    pub fn start(kind: InterpreterKind) -> Result<Worker> {
        Worker::start_with(kind, kind.executable())
    }

    /// Starts a worker running the given interpreter executable and waits
    /// until it is ready. A missing executable, or one that exits instead of
    /// answering, gives an [`Error::Interpreter`] naming it.
    pub fn start_with(kind: InterpreterKind, exe: impl AsRef<OsStr>) -> Result<Worker> {
        let exe_os = exe.as_ref();
        let exe_name = exe_os.to_string_lossy().into_owned();
        let marker = new_marker();
        let mut cmd = Command::new(exe_os);
        match kind {
            InterpreterKind::Python => {
                cmd.arg("-c").arg(PYTHON_WORKER);
            }
            InterpreterKind::R => {
                cmd.arg("-e")
                    .arg(R_BOOTSTRAP)
                    .env("FZ_WORKER_SCRIPT", R_WORKER);
            }
        }
        cmd.env("FZ_WORKER_MARKER", &marker)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Dies with fz, even on `kill -9`.
        let mut child = crate::process::spawn_tied(cmd).map_err(|e| {
            let what = if e.kind() == std::io::ErrorKind::NotFound {
                "not found"
            } else {
                "could not be started"
            };
            Error::Interpreter(format!(
                "formula interpreter '{exe_name}' {what} (set {} to {}): {e}",
                kind.env_var(),
                kind.executable_hint()
            ))
        })?;
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Interpreter(format!(
                "formula interpreter '{exe_name}': could not open its pipes"
            )));
        };
        let tail = Arc::new(OutputTail::default());
        let drain = match spawn_drain(stderr, Arc::clone(&tail)) {
            Ok(handle) => handle,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Interpreter(format!(
                    "formula interpreter '{exe_name}': could not start its stderr reader: {e}"
                )));
            }
        };
        let mut worker = Worker {
            kind,
            exe: exe_name,
            version: String::new(),
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            tail,
            drain: Some(drain),
            marker: marker.into_bytes(),
            failure: None,
        };
        let ready = match worker.read_reply() {
            Ok(reply) => reply,
            Err(failure) => return Err(worker.fail_read("exited at start-up", failure)),
        };
        match ready.get("ready").and_then(Json::as_str) {
            Some(version) => worker.version = version.to_string(),
            None => {
                return Err(worker.kill_and_fail(&format!(
                    "sent an unexpected greeting: {}",
                    truncate(&ready.to_string(), 200)
                )))
            }
        }
        Ok(worker)
    }

    /// The language of this worker.
    pub fn kind(&self) -> InterpreterKind {
        self.kind
    }

    /// The executable this worker runs, as given.
    pub fn executable(&self) -> &str {
        &self.exe
    }

    /// The interpreter version the worker reported, e.g. `Python 3.11.7` or `R 4.2.2`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether output the worker writes outside the protocol (user `print()`
    /// output, R messages and warnings) is copied to this process's stderr.
    /// Off by default; the last few KB are always kept for error messages.
    pub fn set_echo_output(&self, on: bool) {
        self.tail.echo.store(on, Ordering::Relaxed);
    }

    /// Evaluates one case: every file's context then its formulas, each file
    /// in a fresh environment, in one round trip. Returns one outcome per
    /// file, in order. A worker that died or answered nonsense gives an
    /// [`Error::Interpreter`] quoting the tail of its stderr; such a worker
    /// stays failed and every later call returns the same error.
    ///
    /// The same as [`Worker::evaluate_many`] with one case.
    pub fn evaluate(&mut self, req: &CaseRequest) -> Result<Vec<FileOutcome>> {
        let mut outs = self.evaluate_many(std::slice::from_ref(req))?;
        match outs.pop() {
            Some(out) if outs.is_empty() => Ok(out),
            _ => Err(Error::Interpreter(
                "internal: one case asked, another number answered".to_string(),
            )),
        }
    }

    /// Evaluates a batch of cases in ONE round trip: returns, for each case
    /// in order, what [`Worker::evaluate`] would return for it alone (one
    /// outcome per file; every file of every case in a fresh environment,
    /// the same fallback rules and warnings). Cases without files need no
    /// evaluation and get an empty vector.
    ///
    /// Errors: a worker that died or answered nonsense fails the whole call
    /// (and stays failed, as with [`Worker::evaluate`]), so a case that kills
    /// the interpreter loses the results of its whole batch. A case the
    /// worker could not handle (a request it could not read or a reply it
    /// could not encode) fails the call with an [`Error::Interpreter`]
    /// naming the case's index in the batch; the worker stays usable.
    pub fn evaluate_many(&mut self, reqs: &[CaseRequest]) -> Result<Vec<Vec<FileOutcome>>> {
        if let Some(failure) = &self.failure {
            return Err(Error::Interpreter(failure.clone()));
        }
        let sent: Vec<usize> = (0..reqs.len())
            .filter(|&i| !reqs[i].files.is_empty())
            .collect();
        let mut outcomes: Vec<Vec<FileOutcome>> = vec![Vec::new(); reqs.len()];
        if sent.is_empty() {
            return Ok(outcomes);
        }
        let mut line = match self.kind {
            InterpreterKind::Python => python_request(reqs, &sent),
            InterpreterKind::R => r_request(reqs, &sent).into_bytes(),
        };
        line.push(b'\n');
        if let Err(e) = self.send(&line) {
            return Err(self.fail(&format!("could not be sent a request ({e})")));
        }
        drop(line);
        let limit = watchdog::limit_per_case().map(|l| l * sent.len() as u32);
        let dog = limit.map(|l| Watchdog::arm(self.child.id(), l));
        let read = self.read_reply();
        let fired = dog.is_some_and(Watchdog::disarm);
        let reply = match read {
            Ok(reply) => reply,
            Err(_) if fired => {
                let secs = limit.map_or(0, |l| l.as_secs());
                return Err(self.fail(&format!(
                    "did not finish the formulas within {secs} s (FZ_FORMULA_TIMEOUT per case) and was stopped"
                )));
            }
            Err(failure) => return Err(self.fail_read("died", failure)),
        };
        if let Some(fatal) = reply.get("fatal") {
            return Err(self.not_handled(fatal, None));
        }
        let Some(cases) = reply.get("cases").and_then(Json::as_array) else {
            return Err(self.kill_and_fail("sent an invalid reply (no cases)"));
        };
        if cases.len() != sent.len() {
            let why = format!("{} cases for {} requested", cases.len(), sent.len());
            return Err(self.kill_and_fail(&format!("sent an invalid reply ({why})")));
        }
        for (case, &i) in cases.iter().zip(&sent) {
            if let Some(fatal) = case.get("fatal") {
                let at = (reqs.len() > 1).then_some(i);
                return Err(self.not_handled(fatal, at));
            }
            match parse_files(case, &reqs[i], self.kind) {
                Ok(files) => outcomes[i] = files,
                Err(why) => {
                    return Err(self.kill_and_fail(&format!("sent an invalid reply ({why})")))
                }
            }
        }
        Ok(outcomes)
    }

    /// The error for a request (or the case at `index` of a batch) that the
    /// worker answered with `{"fatal": …}`.
    fn not_handled(&self, fatal: &Json, index: Option<usize>) -> Error {
        let text = fatal
            .as_str()
            .map_or_else(|| fatal.to_string(), str::to_string);
        let what = match index {
            Some(i) => format!("case {i} of the batch"),
            None => "the request".to_string(),
        };
        Error::Interpreter(format!(
            "formula interpreter '{}' could not handle {what}: {text}",
            self.exe
        ))
    }

    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        send_request(self.stdin.as_mut(), bytes)
    }

    /// Reads lines until one carries the marker; other lines are stray
    /// output and go to the tail.
    fn read_reply(&mut self) -> std::result::Result<Json, ReadFailure> {
        read_marked_json(&mut self.stdout, &self.marker, &self.tail)
    }

    fn fail_read(&mut self, what: &str, failure: ReadFailure) -> Error {
        match failure {
            ReadFailure::Eof => self.fail(what),
            ReadFailure::Io(e) => self.fail(&format!("could not be read ({e})")),
            ReadFailure::Garbled(why) => {
                self.kill_and_fail(&format!("sent a garbled reply ({why})"))
            }
        }
    }

    /// Kills a worker that is still running but out of protocol.
    fn kill_and_fail(&mut self, what: &str) -> Error {
        let _ = self.child.kill();
        self.fail(what)
    }

    /// Stops the worker for good and builds the error describing why; a
    /// worker that has not exited within a second is killed.
    fn fail(&mut self, what: &str) -> Error {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_millis(1000);
        let mut status = None;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(s)) => {
                    status = Some(s);
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => break,
            }
        }
        let status = match status {
            Some(s) => s.to_string(),
            None => {
                let _ = self.child.kill();
                match self.child.wait() {
                    Ok(s) => format!("killed by fz, {s}"),
                    Err(e) => format!("could not be reaped: {e}"),
                }
            }
        };
        if let Some(drain) = self.drain.take() {
            let deadline = Instant::now() + Duration::from_millis(500);
            while !drain.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if drain.is_finished() {
                let _ = drain.join();
            }
        }
        let msg = format!(
            "formula interpreter '{}' {what} ({status}); its stderr ends with: {}",
            self.exe,
            self.tail.text()
        );
        self.failure = Some(msg.clone());
        Error::Interpreter(msg)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn spawn_drain(
    mut stderr: ChildStderr,
    tail: Arc<OutputTail>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("fz-interp-stderr".to_string())
        .spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match stderr.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => tail.push(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        })
}

/// A marker no user output will contain by chance.
pub(crate) fn new_marker() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(d.as_nanos());
    }
    format!("@@fz-reply-{:016x}@@", hasher.finish())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}…")
    }
}

// ---------------------------------------------------------------------------
// Python requests (tagged JSON)

/// `{"cases":[{"vars":{…},"files":[…]}, …]}` for the cases at `sent`,
/// written straight to bytes.
fn python_request(reqs: &[CaseRequest], sent: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 * sent.len());
    out.extend_from_slice(b"{\"cases\":[");
    for (n, &i) in sent.iter().enumerate() {
        let req = &reqs[i];
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"vars\":{");
        for (k, (name, v)) in req.vars.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            json_string(name, &mut out);
            out.push(b':');
            write_wire(v, &mut out);
        }
        out.extend_from_slice(b"},\"files\":[");
        for (k, f) in req.files.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"file\":");
            json_string(&f.file, &mut out);
            out.extend_from_slice(b",\"context\":");
            json_lines(&f.context, &mut out);
            out.extend_from_slice(b",\"formulas\":");
            json_lines(&f.formulas, &mut out);
            out.extend_from_slice(if f.fallback_line_by_line {
                b",\"fallback\":true}"
            } else {
                b",\"fallback\":false}"
            });
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
    out
}

/// `[[line, "text"], …]`.
fn json_lines(lines: &[(usize, String)], out: &mut Vec<u8>) {
    out.push(b'[');
    for (k, (line, text)) in lines.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let _ = write!(out, "[{line},");
        json_string(text, out);
        out.push(b']');
    }
    out.push(b']');
}

/// A JSON string literal: UTF-8 kept as is, quotes, backslashes and
/// control characters escaped.
fn json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Value → tagged JSON text (see the module documentation).
/// Value → tagged JSON bytes (see the module documentation).
pub(crate) fn to_wire(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_wire(v, &mut out);
    out
}

fn write_wire(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // `{:?}` always has a `.` or an exponent, so Python reads a float.
        Value::Float(f) if f.is_finite() => {
            let _ = write!(out, "{f:?}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{{\"$f\":\"{}\"}}", nonfinite_text(*f));
        }
        Value::Str(s) => json_string(s, out),
        Value::List(items) => write_wire_items(items, out),
        Value::Tuple(items) => {
            out.extend_from_slice(b"{\"$t\":");
            write_wire_items(items, out);
            out.push(b'}');
        }
        Value::Map(map) => {
            out.extend_from_slice(b"{\"$m\":{");
            for (k, (key, item)) in map.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                json_string(key, out);
                out.push(b':');
                write_wire(item, out);
            }
            out.extend_from_slice(b"}}");
        }
    }
}

fn write_wire_items(items: &[Value], out: &mut Vec<u8>) {
    out.push(b'[');
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        write_wire(item, out);
    }
    out.push(b']');
}

fn nonfinite_text(f: f64) -> &'static str {
    if f.is_nan() {
        "nan"
    } else if f > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// Tagged JSON → Value.
pub(crate) fn from_wire(j: &Json) -> std::result::Result<Value, String> {
    Ok(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i128() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(from_wire).collect::<Result<_, _>>()?),
        Json::Object(map) => {
            if let Some(f) = map.get("$f") {
                let text = f.as_str().ok_or("float tag without text")?;
                Value::Float(parse_float_text(text).ok_or_else(|| format!("bad float {text:?}"))?)
            } else if let Some(items) = map.get("$t") {
                let items = items.as_array().ok_or("tuple tag without items")?;
                Value::Tuple(items.iter().map(from_wire).collect::<Result<_, _>>()?)
            } else if let Some(entries) = map.get("$m") {
                let entries = entries.as_object().ok_or("map tag without entries")?;
                let mut out = IndexMap::with_capacity(entries.len());
                for (k, v) in entries {
                    out.insert(k.clone(), from_wire(v)?);
                }
                Value::Map(out)
            } else {
                return Err("untagged object".to_string());
            }
        }
    })
}

/// Parses a float as the workers print it (`repr` or `%.17g`, plus
/// `nan`/`inf`/`-inf`).
fn parse_float_text(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        "nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// Python `float(s)` for a string: surrounding whitespace ignored,
/// `inf`/`infinity`/`nan` in any case with an optional sign, underscores
/// allowed between digits.
fn py_float_from_str(s: &str) -> Option<f64> {
    let t = s.trim();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, &t[1..]),
        Some(b'+') => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    let lower = rest.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let bytes = lower.as_bytes();
    let mut cleaned = String::with_capacity(lower.len());
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' | b'.' | b'e' | b'+' | b'-' => cleaned.push(b as char),
            b'_' => {
                let digit_before = i > 0 && bytes[i - 1].is_ascii_digit();
                let digit_after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !(digit_before && digit_after) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    cleaned.parse::<f64>().ok().map(|f| sign * f)
}

/// What upstream's number formatting would get from `float(value)`.
fn py_float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Str(s) => py_float_from_str(s),
        other => other.as_f64(),
    }
}

// ---------------------------------------------------------------------------
// R requests (one line of R source)

/// `list(cases = list(<case>, …))` for the cases at `sent`.
fn r_request(reqs: &[CaseRequest], sent: &[usize]) -> String {
    let mut out = String::with_capacity(256 * sent.len());
    out.push_str("list(cases = list(");
    for (n, &i) in sent.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        r_case(&reqs[i], &mut out);
    }
    out.push_str("))");
    out
}

/// `list(vars = list(names = …, values = …), files = list(…))`.
fn r_case(req: &CaseRequest, out: &mut String) {
    out.push_str("list(vars = list(names = ");
    let names: Vec<&str> = req.vars.keys().map(String::as_str).collect();
    r_chr_vector(&names, out);
    out.push_str(", values = list(");
    for (i, v) in req.vars.values().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        r_literal(v, out);
    }
    out.push_str(")), files = list(");
    for (i, f) in req.files.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("list(file = ");
        r_string(&f.file, out);
        out.push_str(", ctx_lines = ");
        let lines: Vec<usize> = f.context.iter().map(|(l, _)| *l).collect();
        r_int_vector(&lines, out);
        out.push_str(", ctx_code = ");
        let code: Vec<&str> = f.context.iter().map(|(_, c)| c.as_str()).collect();
        r_chr_vector(&code, out);
        out.push_str(", f_code = ");
        let formulas: Vec<&str> = f.formulas.iter().map(|(_, e)| e.as_str()).collect();
        r_chr_vector(&formulas, out);
        out.push_str(", fallback = ");
        out.push_str(if f.fallback_line_by_line {
            "TRUE"
        } else {
            "FALSE"
        });
        out.push(')');
    }
    out.push_str("))");
}

fn r_chr_vector(items: &[&str], out: &mut String) {
    if items.is_empty() {
        out.push_str("character(0)");
        return;
    }
    out.push_str("c(");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        r_string(s, out);
    }
    out.push(')');
}

fn r_int_vector(items: &[usize], out: &mut String) {
    if items.is_empty() {
        out.push_str("integer(0)");
        return;
    }
    out.push_str("c(");
    for (i, n) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let n = (*n).min(i32::MAX as usize);
        let _ = write!(out, "{n}L");
    }
    out.push(')');
}

/// An R string literal holding `s`, pure ASCII: control and non-ASCII
/// characters as `\U{…}` (R refuses to mix `\U` and `\x` escapes in one
/// string); NUL (which R strings cannot hold) becomes U+FFFD.
pub(crate) fn r_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\U{fffd}"),
            c if c.is_ascii_control() || !c.is_ascii() => {
                let _ = write!(out, "\\U{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub(crate) fn r_double(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{f:?}");
    }
}

/// An R expression building `v`: ints as integers (doubles outside R's
/// integer range), floats as doubles, lists of numbers / strings / bools as
/// atomic vectors (numbers as doubles, as upstream's `FloatVector`), other
/// lists and tuples as lists, maps as named lists.
fn r_literal(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("NULL"),
        Value::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        Value::Int(i) => {
            if *i > i128::from(i32::MIN) && *i <= i128::from(i32::MAX) {
                let _ = write!(out, "{i}L");
            } else {
                r_double(*i as f64, out);
            }
        }
        Value::Float(f) => r_double(*f, out),
        Value::Str(s) => r_string(s, out),
        Value::List(items) | Value::Tuple(items) => r_list_literal(items, out),
        Value::Map(map) => {
            out.push_str("structure(list(");
            for (i, v) in map.values().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                r_literal(v, out);
            }
            out.push_str("), names = ");
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            r_chr_vector(&keys, out);
            out.push(')');
        }
    }
}

fn r_list_literal(items: &[Value], out: &mut String) {
    if items.is_empty() {
        out.push_str("list()");
        return;
    }
    let all_numbers = items
        .iter()
        .all(|v| matches!(v, Value::Int(_) | Value::Float(_)));
    let all_strings = items.iter().all(|v| matches!(v, Value::Str(_)));
    let all_bools = items.iter().all(|v| matches!(v, Value::Bool(_)));
    out.push_str(if all_numbers || all_strings || all_bools {
        "c("
    } else {
        "list("
    });
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match v {
            Value::Int(n) if all_numbers => r_double(*n as f64, out),
            other => r_literal(other, out),
        }
    }
    out.push(')');
}

// ---------------------------------------------------------------------------
// Replies

fn parse_files(
    reply: &Json,
    req: &CaseRequest,
    kind: InterpreterKind,
) -> std::result::Result<Vec<FileOutcome>, String> {
    let files = reply
        .get("files")
        .and_then(Json::as_array)
        .ok_or("no files")?;
    if files.len() != req.files.len() {
        return Err(format!(
            "{} files for {} requested",
            files.len(),
            req.files.len()
        ));
    }
    let mut outcomes = Vec::with_capacity(files.len());
    for (file, asked) in files.iter().zip(req.files) {
        let warnings = file
            .get("warnings")
            .and_then(Json::as_array)
            .ok_or("no warnings")?
            .iter()
            .map(|w| w.as_str().map(str::to_string).ok_or("warning is not text"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let results = file
            .get("results")
            .and_then(Json::as_array)
            .ok_or("no results")?;
        if results.len() != asked.formulas.len() {
            return Err(format!(
                "{} results for {} formulas",
                results.len(),
                asked.formulas.len()
            ));
        }
        let results = results
            .iter()
            .map(|r| parse_result(r, kind))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        outcomes.push(FileOutcome { warnings, results });
    }
    Ok(outcomes)
}

fn parse_result(r: &Json, kind: InterpreterKind) -> std::result::Result<FormulaOutcome, String> {
    if let Some(err) = r.get("err") {
        let msg = err.as_str().ok_or("error is not text")?;
        return Ok(FormulaOutcome::Err(msg.to_string()));
    }
    let value = from_wire(r.get("value").ok_or("result without value")?)?;
    Ok(match kind {
        InterpreterKind::Python => {
            let text = r
                .get("text")
                .and_then(Json::as_str)
                .ok_or("result without text")?
                .to_string();
            let number = match r.get("number") {
                None | Some(Json::Null) => None,
                Some(n) => from_wire(n)?.as_f64(),
            };
            FormulaOutcome::Ok {
                text,
                number,
                value,
            }
        }
        InterpreterKind::R => FormulaOutcome::Ok {
            text: value.py_str(),
            number: py_float_of(&value),
            value,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> Worker {
        Worker::start_with(InterpreterKind::Python, "python3").expect("python3 worker starts")
    }

    /// `None` (with a message) when Rscript is not installed.
    fn r_worker() -> Option<Worker> {
        match Worker::start_with(InterpreterKind::R, "Rscript") {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("skipping R test: {e}");
                None
            }
        }
    }

    fn file(name: &str, context: &[&str], formulas: &[&str], fallback: bool) -> FileRequest {
        FileRequest {
            file: name.to_string(),
            context: context
                .iter()
                .enumerate()
                .map(|(i, c)| (i + 1, c.to_string()))
                .collect(),
            formulas: formulas
                .iter()
                .enumerate()
                .map(|(i, f)| (context.len() + i + 1, f.to_string()))
                .collect(),
            fallback_line_by_line: fallback,
        }
    }

    fn vars(pairs: &[(&str, Value)]) -> IndexMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn eval_one(w: &mut Worker, v: &IndexMap<String, Value>, f: FileRequest) -> FileOutcome {
        let files = [f];
        let mut out = w
            .evaluate(&CaseRequest {
                vars: v,
                files: &files,
            })
            .expect("evaluate");
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    fn texts(outcome: &FileOutcome) -> Vec<String> {
        outcome
            .results
            .iter()
            .map(|r| match r {
                FormulaOutcome::Ok { text, .. } => text.clone(),
                FormulaOutcome::Err(e) => format!("ERR {e}"),
            })
            .collect()
    }

    /// The benchmark scenario: one 3-line context and 3 formulas per case,
    /// the numbers in the formulas differing from case to case.
    fn bench_cases(
        kind: InterpreterKind,
        n: usize,
    ) -> Vec<(IndexMap<String, Value>, Vec<FileRequest>)> {
        let ctx: &[&str] = match kind {
            InterpreterKind::Python => &["R = 8.314", "def kelvin(t):", "    return t + 273.15"],
            InterpreterKind::R => &["R <- 8.314", "kelvin <- function(t) {", "    t + 273.15 }"],
        };
        (0..n)
            .map(|i| {
                let t = 20 + i as i128;
                let d = 1 + (i % 13) as i128;
                let formulas = [
                    format!("kelvin({t})"),
                    format!("2 * R * kelvin({t}) / 0.00{d}"),
                    format!("{t} / (2 + {d})"),
                ];
                let formulas: Vec<&str> = formulas.iter().map(String::as_str).collect();
                let v = vars(&[("T", Value::Int(t)), ("d", Value::Int(d))]);
                (v, vec![file("input.txt", ctx, &formulas, true)])
            })
            .collect()
    }

    /// The benchmark scenario of `bench/formulas.sh`: `cargo test --release -p fz-core
    /// bench_case_throughput -- --ignored --nocapture` (`FZ_BENCH_CASES`
    /// sets the number of cases, 10000 by default).
    #[test]
    #[ignore = "benchmark"]
    fn bench_case_throughput() {
        let n: usize = std::env::var("FZ_BENCH_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10_000);
        for kind in [InterpreterKind::Python, InterpreterKind::R] {
            if Worker::start(kind).is_err() {
                eprintln!("{kind}: not available");
                continue;
            }
            let cases = bench_cases(kind, n);
            let reqs: Vec<CaseRequest> = cases
                .iter()
                .map(|(vars, files)| CaseRequest { vars, files })
                .collect();
            let report = |what: &str, el: Duration| {
                eprintln!(
                    "{kind}: {n} cases, {what}: {el:.2?} = {:.1} us/case",
                    el.as_secs_f64() * 1e6 / n as f64
                );
            };
            let mut w = Worker::start(kind).expect("worker starts");
            let start = Instant::now();
            let sequential: Vec<Vec<FileOutcome>> = reqs
                .iter()
                .map(|r| w.evaluate(r).expect("evaluate"))
                .collect();
            report("one evaluate per case", start.elapsed());
            assert!(sequential.iter().all(|o| o[0].warnings.is_empty()));
            for batch in [64, 256, 1000] {
                let mut w = Worker::start(kind).expect("worker starts");
                let start = Instant::now();
                let mut batched = Vec::with_capacity(n);
                for chunk in reqs.chunks(batch) {
                    batched.extend(w.evaluate_many(chunk).expect("evaluate_many"));
                }
                report(&format!("evaluate_many by {batch}"), start.elapsed());
                assert!(batched == sequential, "batches of {batch} differ");
            }
        }
    }

    #[test]
    fn interpreter_names() {
        assert_eq!(
            InterpreterKind::from_name("Python"),
            Some(InterpreterKind::Python)
        );
        assert_eq!(
            InterpreterKind::from_name("PYTHON"),
            Some(InterpreterKind::Python)
        );
        assert_eq!(InterpreterKind::from_name("r"), Some(InterpreterKind::R));
        assert_eq!(InterpreterKind::from_name("R"), Some(InterpreterKind::R));
        assert_eq!(InterpreterKind::from_name("javascript"), None);
        assert_eq!(InterpreterKind::from_name(" python"), None);
        assert_eq!(InterpreterKind::R.to_string(), "R");
    }

    #[test]
    fn python_spec_example() {
        let mut w = python();
        assert!(w.version().starts_with("Python 3"), "{}", w.version());
        let v = vars(&[("T", Value::Int(20)), ("n", Value::Int(2))]);
        let f = file(
            "input.txt",
            &[
                "import math",
                "R = 8.314",
                "def f(t):",
                "    return t + 273.15",
                "PI = 3.14159",
                "f(1) > 0",
            ],
            &[
                "f(20)",
                "2 * R * f(20) / 2",
                "\"a\" + \"b\"",
                "undefined_fn(1)",
                "PI",
                "math.pi",
                "[i for i in range(3)]",
            ],
            true,
        );
        let out = eval_one(&mut w, &v, f);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            texts(&out),
            [
                "293.15",
                "2437.2491",
                "ab",
                "ERR NameError: name 'undefined_fn' is not defined",
                "3.14159",
                "3.141592653589793",
                "[0, 1, 2]",
            ]
        );
        assert_eq!(
            out.results[0],
            FormulaOutcome::Ok {
                text: "293.15".into(),
                number: Some(293.15),
                value: Value::Float(293.15)
            }
        );
        assert_eq!(
            out.results[6],
            FormulaOutcome::Ok {
                text: "[0, 1, 2]".into(),
                number: None,
                value: Value::List(vec![Value::Int(0), Value::Int(1), Value::Int(2)])
            }
        );
    }

    #[test]
    fn python_values_round_trip() {
        let mut w = python();
        let mut m = IndexMap::new();
        m.insert("k\"ey".to_string(), Value::Float(f64::NAN));
        m.insert("b".to_string(), Value::Null);
        let v = vars(&[
            ("s", Value::Str("it's \"q\"\n\\ café 😀".into())),
            ("l", Value::List(vec![Value::Int(1), Value::Float(2.0)])),
            (
                "t",
                Value::Tuple(vec![Value::Bool(true), Value::Float(f64::INFINITY)]),
            ),
            ("m", Value::Map(m.clone())),
            ("x", Value::Float(2.0)),
        ]);
        let f = file(
            "v.txt",
            &[],
            &[
                "s",
                "l",
                "t",
                "m",
                "x",
                "type(x).__name__",
                "sqrt(16)",
                "{1, 2}",
                "10**20",
                "'2.5'",
                "True",
                "x = 1",
                "{(1, 2): 3}",
                "{1: 'a'}",
                "float('-inf')",
                "None",
                "len(s)",
            ],
            true,
        );
        let out = eval_one(&mut w, &v, f);
        let ok = |i: usize| match &out.results[i] {
            FormulaOutcome::Ok {
                text,
                number,
                value,
            } => (text.clone(), *number, value.clone()),
            FormulaOutcome::Err(e) => panic!("formula {i} failed: {e}"),
        };
        assert_eq!(ok(0).2, Value::Str("it's \"q\"\n\\ café 😀".into()));
        assert_eq!(
            ok(1),
            (
                "[1, 2.0]".into(),
                None,
                Value::List(vec![Value::Int(1), Value::Float(2.0)])
            )
        );
        let (text, _, value) = ok(2);
        assert_eq!(text, "(True, inf)");
        assert!(matches!(value, Value::Tuple(ref t) if t[1] == Value::Float(f64::INFINITY)));
        let (text, _, value) = ok(3);
        assert_eq!(text, "{'k\"ey': nan, 'b': None}");
        match value {
            Value::Map(got) => {
                assert_eq!(got.keys().collect::<Vec<_>>(), m.keys().collect::<Vec<_>>());
                assert!(matches!(got["k\"ey"], Value::Float(f) if f.is_nan()));
            }
            other => panic!("not a map: {other:?}"),
        }
        assert_eq!(ok(4), ("2.0".into(), Some(2.0), Value::Float(2.0)));
        assert_eq!(ok(5).0, "float");
        assert_eq!(ok(6), ("4.0".into(), Some(4.0), Value::Float(4.0)));
        assert_eq!(ok(7), ("{1, 2}".into(), None, Value::Str("{1, 2}".into())));
        assert_eq!(
            ok(8),
            (
                "100000000000000000000".into(),
                Some(1e20),
                Value::Int(100000000000000000000)
            )
        );
        assert_eq!(ok(9), ("2.5".into(), Some(2.5), Value::Str("2.5".into())));
        assert_eq!(ok(10), ("True".into(), Some(1.0), Value::Bool(true)));
        assert!(matches!(&out.results[11], FormulaOutcome::Err(e) if e.starts_with("SyntaxError")));
        assert_eq!(ok(12).2, Value::Str("{(1, 2): 3}".into()));
        assert_eq!(ok(13).2.py_str(), "{'1': 'a'}");
        assert_eq!(ok(14).1, Some(f64::NEG_INFINITY));
        assert_eq!(ok(15), ("None".into(), None, Value::Null));
        assert_eq!(ok(16).0, "17");
    }

    #[test]
    fn python_context_falls_back_line_by_line() {
        let mut w = python();
        let v = IndexMap::new();
        let f = FileRequest {
            file: "in.txt".into(),
            context: vec![
                (3, "a = 1".into()),
                (4, "b = undefined_name".into()),
                (7, "c = 3".into()),
                (8, "".into()),
                (9, "  d = 4".into()),
            ],
            formulas: vec![(10, "a + c".into()), (11, "b".into())],
            fallback_line_by_line: true,
        };
        let out = eval_one(&mut w, &v, f);
        assert_eq!(
            out.warnings,
            [
                "Error executing full context: IndentationError: unexpected indent (in.txt, line 9)",
                "Error executing context line 'b = undefined_name': NameError: name 'undefined_name' is not defined (in.txt, line 4)",
                "Error executing context line '  d = 4': IndentationError: unexpected indent (in.txt, line 9)",
            ]
        );
        assert_eq!(texts(&out), ["4", "ERR NameError: name 'b' is not defined"]);
    }

    #[test]
    fn python_runtime_error_names_its_line() {
        let mut w = python();
        let v = IndexMap::new();
        let f = FileRequest {
            file: "in.txt".into(),
            context: vec![
                (2, "def f():".into()),
                (3, "    return 1 / 0".into()),
                (5, "x = f()".into()),
            ],
            formulas: vec![],
            fallback_line_by_line: true,
        };
        let out = eval_one(&mut w, &v, f);
        assert_eq!(
            out.warnings[0],
            "Error executing full context: ZeroDivisionError: division by zero (in.txt, line 3)"
        );
    }

    #[test]
    fn python_static_objects_mode() {
        let mut w = python();
        let v = vars(&[("y", Value::Float(2.5))]);
        let f = file(
            "s.txt",
            &["PI = 3.14159", "assert False, 'nope'"],
            &["y", "PI"],
            false,
        );
        let out = eval_one(&mut w, &v, f);
        assert_eq!(
            out.warnings,
            ["Error executing static objects: AssertionError: nope (s.txt, line 2)"]
        );
        assert_eq!(
            texts(&out),
            ["2.5", "ERR NameError: name 'PI' is not defined"]
        );
        let ok = file(
            "s.txt",
            &[
                "from math import sqrt as root",
                "def area(r):",
                "    return 3 * r * r",
            ],
            &["area(y)", "root(4)"],
            false,
        );
        let out = eval_one(&mut w, &v, ok);
        assert!(out.warnings.is_empty());
        assert_eq!(texts(&out), ["18.75", "2.0"]);
    }

    #[test]
    fn python_user_output_does_not_corrupt_replies() {
        let mut w = python();
        let v = IndexMap::new();
        let f = file(
            "p.txt",
            &[
                "print('hello', flush=True)",
                "import os, sys",
                "os.write(1, b'raw fd 1 write\\n')",
                "sys.__stdout__.write('to the original stdout\\n')",
                "sys.__stdout__.flush()",
                "os.system('echo from a subprocess')",
                "got = input() if False else sys.stdin.read()",
            ],
            &["print('in formula') or 5", "repr(got)"],
            true,
        );
        let out = eval_one(&mut w, &v, f);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(texts(&out), ["5", "''"]);
        // The worker is still in sync for the next case.
        let out = eval_one(&mut w, &v, file("q.txt", &[], &["1 + 1"], true));
        assert_eq!(texts(&out), ["2"]);
    }

    #[test]
    fn python_namespaces_do_not_leak() {
        let mut w = python();
        let v = vars(&[("xs", Value::List(vec![Value::Int(1)]))]);
        let files = [
            file("a.txt", &["A = 1", "xs.append(2)"], &["A", "xs"], true),
            file("b.txt", &[], &["A", "xs"], true),
        ];
        let out = w
            .evaluate(&CaseRequest {
                vars: &v,
                files: &files,
            })
            .expect("evaluate");
        assert_eq!(texts(&out[0]), ["1", "[1, 2]"]);
        assert_eq!(
            texts(&out[1]),
            ["ERR NameError: name 'A' is not defined", "[1]"]
        );
        // Next case: nothing left from the previous one either.
        let v2 = vars(&[("z", Value::Int(3))]);
        let files = [file("a.txt", &[], &["z", "A", "sqrt"], true)];
        let out = w
            .evaluate(&CaseRequest {
                vars: &v2,
                files: &files,
            })
            .expect("evaluate");
        assert_eq!(
            texts(&out[0])[..2],
            ["3", "ERR NameError: name 'A' is not defined"]
        );
        // Helpers are there, and variables may shadow them.
        let v3 = vars(&[("sqrt", Value::Int(7))]);
        let out = eval_one(
            &mut w,
            &v3,
            file("a.txt", &[], &["sqrt", "floor(2.5)", "abs(-1)"], true),
        );
        assert_eq!(texts(&out), ["7", "2", "1"]);
    }

    #[test]
    fn python_empty_request_needs_no_round_trip() {
        let mut w = python();
        let v = IndexMap::new();
        let out = w
            .evaluate(&CaseRequest {
                vars: &v,
                files: &[],
            })
            .expect("evaluate");
        assert!(out.is_empty());
    }

    #[test]
    fn missing_executable_is_a_clear_error() {
        let err = Worker::start_with(InterpreterKind::Python, "/nonexistent/python3")
            .expect_err("must fail");
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "formula interpreter '/nonexistent/python3' not found (set FZ_PYTHON to a python3 executable): "
            ),
            "{msg}"
        );
        let err =
            Worker::start_with(InterpreterKind::R, "/nonexistent/Rscript").expect_err("must fail");
        assert!(
            err.to_string()
                .contains("set FZ_RSCRIPT to an Rscript executable"),
            "{err}"
        );
        assert!(matches!(err, Error::Interpreter(_)));
    }

    #[test]
    fn executable_that_is_not_an_interpreter_fails_at_start() {
        let err = Worker::start_with(InterpreterKind::Python, "false").expect_err("must fail");
        assert!(err.to_string().contains("exited at start-up"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn drop_kills_and_reaps_the_process() {
        let w = python();
        let pid = w.pid();
        let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
        assert!(proc_dir.exists());
        drop(w);
        // kill + wait: the pid is gone, not a zombie.
        assert!(!proc_dir.exists(), "process {pid} still present");
    }

    #[test]
    fn dead_worker_reports_its_stderr_and_stays_failed() {
        let mut w = python();
        let v = IndexMap::new();
        let files = [file(
            "d.txt",
            &[
                "import sys, os",
                "sys.stderr.write('last words\\n')",
                "sys.stderr.flush()",
                "os._exit(3)",
            ],
            &["1"],
            true,
        )];
        let err = w
            .evaluate(&CaseRequest {
                vars: &v,
                files: &files,
            })
            .expect_err("worker died");
        let msg = err.to_string();
        assert!(msg.contains("formula interpreter 'python3' died"), "{msg}");
        assert!(msg.contains("exit status: 3"), "{msg}");
        assert!(msg.contains("last words"), "{msg}");
        let files = [file("e.txt", &[], &["1"], true)];
        let again = w
            .evaluate(&CaseRequest {
                vars: &v,
                files: &files,
            })
            .expect_err("still failed");
        assert_eq!(again.to_string(), msg);
    }

    #[test]
    fn python_many_round_trips_are_fast() {
        let mut w = python();
        let files = [file("t.txt", &["k = 2"], &["x * k", "x + 0.5"], true)];
        let n = 10_000;
        let start = Instant::now();
        for i in 0..n {
            let v = vars(&[("x", Value::Int(i))]);
            let out = w
                .evaluate(&CaseRequest {
                    vars: &v,
                    files: &files,
                })
                .expect("evaluate");
            assert_eq!(texts(&out[0])[0], (2 * i).to_string());
        }
        let elapsed = start.elapsed();
        eprintln!("python: {n} round trips in {elapsed:?}");
        assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    }

    #[test]
    fn r_spec_example() {
        let Some(mut w) = r_worker() else { return };
        assert!(w.version().starts_with("R "), "{}", w.version());
        let v = vars(&[("T", Value::Int(20)), ("n", Value::Int(2))]);
        let f = file(
            "input.R",
            &[
                "R <- 8.314",
                "f <- function(t) {",
                "    t + 273.15",
                "}",
                "PI <- 3.14159",
            ],
            &[
                "f(20)",
                "2 * R * f(20) / 2",
                "paste0(\"a\", \"b\")",
                "undefined_fn(1)",
                "PI",
                "pi",
                "0:2",
                "T",
                "n * 1",
                "TRUE",
                "x y",
            ],
            true,
        );
        let out = eval_one(&mut w, &v, f);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            texts(&out),
            [
                "293.15",
                "2437.2491",
                "ab",
                "ERR Error in undefined_fn(1) : could not find function \"undefined_fn\"",
                "3.14159",
                "3.141592653589793",
                "[0, 1, 2]",
                "20",
                "2.0",
                "True",
                "ERR Error: unexpected symbol",
            ]
        );
        assert_eq!(
            out.results[1],
            FormulaOutcome::Ok {
                text: "2437.2491".into(),
                number: Some(2437.2491),
                value: Value::Float(2437.2491)
            }
        );
    }

    #[test]
    fn r_values_round_trip() {
        let Some(mut w) = r_worker() else { return };
        let mut m = IndexMap::new();
        m.insert("a".to_string(), Value::Int(1));
        m.insert("b c".to_string(), Value::Str("x".into()));
        let weird = "it's \"q\"\n\\ café 😀 \u{7}";
        let v = vars(&[
            ("s", Value::Str(weird.into())),
            ("l", Value::List(vec![Value::Int(1), Value::Float(2.5)])),
            (
                "ls",
                Value::List(vec![Value::Str("a".into()), Value::Str("b".into())]),
            ),
            (
                "mixed",
                Value::List(vec![Value::Int(1), Value::Str("b".into())]),
            ),
            ("m", Value::Map(m)),
            ("big", Value::Int(1 << 40)),
            ("nan", Value::Float(f64::NAN)),
            ("nul", Value::Null),
        ]);
        let f = file(
            "v.R",
            &[],
            &[
                "s",
                "l",
                "ls",
                "mixed",
                "m",
                "m$`b c`",
                "big",
                "is.nan(nan)",
                "is.null(nul)",
                "c(a = 1, b = 2)",
                "NA",
                "1+2i",
                "'2.5'",
                "1e-7",
                "-Inf",
                "sum(l)",
                "nchar(s)",
            ],
            true,
        );
        let out = eval_one(&mut w, &v, f);
        assert_eq!(
            texts(&out),
            [
                weird,
                "[1.0, 2.5]",
                "['a', 'b']",
                "[1, 'b']",
                "{'a': 1, 'b c': 'x'}",
                "x",
                "1099511627776.0",
                "True",
                "True",
                "{'a': 1.0, 'b': 2.0}",
                "None",
                "[1] 1+2i",
                "2.5",
                "1e-07",
                "-inf",
                "3.5",
                "19",
            ]
        );
        let numbers: Vec<Option<f64>> = out
            .results
            .iter()
            .map(|r| match r {
                FormulaOutcome::Ok { number, .. } => *number,
                FormulaOutcome::Err(_) => None,
            })
            .collect();
        assert_eq!(numbers[12], Some(2.5));
        assert_eq!(numbers[7], Some(1.0));
        assert_eq!(numbers[1], None);
        assert_eq!(numbers[14], Some(f64::NEG_INFINITY));
    }

    #[test]
    fn r_context_fallback_and_static_mode() {
        let Some(mut w) = r_worker() else { return };
        let v = IndexMap::new();
        let f = FileRequest {
            file: "in.R".into(),
            context: vec![
                (2, "a <- 1".into()),
                (3, "g <- function(".into()),
                (5, "c <- 3".into()),
            ],
            formulas: vec![(6, "a + c".into())],
            fallback_line_by_line: true,
        };
        let out = eval_one(&mut w, &v, f);
        assert_eq!(
            out.warnings,
            [
                "Error executing full context: Error: unexpected assignment (in.R, line 5)",
                "Error executing context line 'g <- function(': Error: unexpected end of input (in.R, line 3)",
            ]
        );
        assert_eq!(texts(&out), ["4.0"]);
        let f = FileRequest {
            file: "in.R".into(),
            context: vec![(2, "a <- 1".into()), (4, "stop('nope')".into())],
            formulas: vec![(6, "exists('a', inherits = FALSE)".into())],
            fallback_line_by_line: false,
        };
        let out = eval_one(&mut w, &v, f);
        assert_eq!(
            out.warnings,
            ["Error executing static objects: Error: nope (in.R, line 4)"]
        );
        assert_eq!(texts(&out), ["False"]);
    }

    #[test]
    fn r_user_output_and_isolation() {
        let Some(mut w) = r_worker() else { return };
        let v = vars(&[("x", Value::Int(1))]);
        let files = [
            file(
                "a.R",
                &[
                    "print('hello')",
                    "cat('no newline')",
                    "invisible(system('echo sys'))",
                    "G <<- 5",
                    "A <- 1",
                ],
                &["A + x", "message('to stderr'); 2"],
                true,
            ),
            file("b.R", &[], &["exists('A')", "exists('G')"], true),
        ];
        let out = w
            .evaluate(&CaseRequest {
                vars: &v,
                files: &files,
            })
            .expect("evaluate");
        assert!(out[0].warnings.is_empty(), "{:?}", out[0].warnings);
        assert_eq!(texts(&out[0]), ["2.0", "2.0"]);
        assert_eq!(texts(&out[1]), ["False", "False"]);
        let out = eval_one(&mut w, &vars(&[]), file("c.R", &[], &["exists('x')"], true));
        assert_eq!(texts(&out), ["False"]);
    }

    #[test]
    fn r_many_round_trips() {
        let Some(mut w) = r_worker() else { return };
        let files = [file("t.R", &["k <- 2"], &["x * k", "x + 0.5"], true)];
        let n = 2_000;
        let start = Instant::now();
        for i in 0..n {
            let v = vars(&[("x", Value::Int(i))]);
            let out = w
                .evaluate(&CaseRequest {
                    vars: &v,
                    files: &files,
                })
                .expect("evaluate");
            assert_eq!(texts(&out[0])[0], format!("{}.0", 2 * i));
        }
        let elapsed = start.elapsed();
        eprintln!("R: {n} round trips in {elapsed:?}");
        assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    }

    fn lines(first: usize, code: &[&str]) -> Vec<(usize, String)> {
        code.iter()
            .enumerate()
            .map(|(i, c)| (first + i, c.to_string()))
            .collect()
    }

    fn file_at(
        name: &str,
        context: Vec<(usize, String)>,
        formulas: &[&str],
        fallback: bool,
    ) -> FileRequest {
        let next = context.last().map_or(1, |(l, _)| l + 1);
        FileRequest {
            file: name.to_string(),
            context,
            formulas: lines(next, formulas),
            fallback_line_by_line: fallback,
        }
    }

    type Cases = Vec<(IndexMap<String, Value>, Vec<FileRequest>)>;

    /// Evaluates `cases` one `evaluate` call each on a fresh worker, then as
    /// one batch on another fresh worker, in batches of 3, and once more as
    /// one batch on the first (warm) worker: all must agree. Returns the
    /// outcomes.
    fn assert_batches_match_sequential(
        kind: InterpreterKind,
        cases: &Cases,
    ) -> Vec<Vec<FileOutcome>> {
        let reqs: Vec<CaseRequest> = cases
            .iter()
            .map(|(vars, files)| CaseRequest { vars, files })
            .collect();
        let mut first = Worker::start(kind).expect("worker starts");
        let sequential: Vec<Vec<FileOutcome>> = reqs
            .iter()
            .map(|r| first.evaluate(r).expect("evaluate"))
            .collect();
        let mut second = Worker::start(kind).expect("worker starts");
        let batched = second.evaluate_many(&reqs).expect("evaluate_many");
        assert_eq!(batched, sequential, "one batch on a fresh worker");
        let mut by_three = Vec::new();
        for chunk in reqs.chunks(3) {
            by_three.extend(second.evaluate_many(chunk).expect("evaluate_many"));
        }
        assert_eq!(by_three, sequential, "batches of 3");
        let warm = first.evaluate_many(&reqs).expect("evaluate_many");
        assert_eq!(warm, sequential, "one batch on a warm worker");
        assert!(first.evaluate_many(&[]).expect("empty batch").is_empty());
        sequential
    }

    #[test]
    fn python_batch_matches_sequential_evaluation() {
        let kelvin = ["R = 8.314", "def kelvin(t):", "    return t + 273.15"];
        let broken = ["a = 1", "b = undefined_name", "c = 3", "  d = 4"];
        let failing_fn = ["def f():", "    return 1 / 0", "y = f()"];
        let statics = ["PI = 3.14159", "assert False, 'nope'"];
        let mut m = IndexMap::new();
        m.insert(
            "k".to_string(),
            Value::Tuple(vec![Value::Int(1), Value::Null]),
        );
        let cases: Cases = vec![
            (
                vars(&[
                    ("x", Value::Int(1)),
                    ("xs", Value::List(vec![Value::Int(1)])),
                ]),
                vec![
                    file_at(
                        "a.txt",
                        lines(1, &[&kelvin[..], &["xs.append(2)"]].concat()),
                        &[
                            "kelvin(x)",
                            "xs",
                            "undefined(1)",
                            "1/0",
                            "x y",
                            "2 * R * kelvin(20) / 0.001",
                        ],
                        true,
                    ),
                    file_at("b.txt", vec![], &["xs", "R", "kelvin"], true),
                ],
            ),
            (vars(&[("x", Value::Int(9))]), vec![]),
            (
                vars(&[("x", Value::Float(2.5))]),
                vec![
                    file_at(
                        "a.txt",
                        lines(10, &kelvin),
                        &["kelvin(x)", "20 / (2 + 1)"],
                        true,
                    ),
                    file_at(
                        "in.txt",
                        vec![
                            (3, broken[0].into()),
                            (4, broken[1].into()),
                            (7, broken[2].into()),
                            (9, broken[3].into()),
                        ],
                        &["a + c", "b"],
                        true,
                    ),
                ],
            ),
            (
                vars(&[("y", Value::Float(2.5))]),
                vec![
                    file_at("s.txt", lines(1, &statics), &["y", "PI"], false),
                    file_at("t.txt", lines(5, &statics), &["PI", "y * 2"], false),
                ],
            ),
            (
                vars(&[("y", Value::Int(5))]),
                vec![file_at("f.txt", lines(2, &failing_fn), &["y"], true)],
            ),
            (
                vars(&[("y", Value::Int(6))]),
                vec![
                    file_at("f.txt", lines(2, &failing_fn), &["y"], true),
                    file_at("g.txt", lines(4, &failing_fn), &["y", "f"], false),
                ],
            ),
            (
                vars(&[
                    ("m", Value::Map(m)),
                    ("nan", Value::Float(f64::NAN)),
                    ("s", Value::Str("é\"\n".into())),
                ]),
                vec![file_at(
                    "v.txt",
                    lines(1, &["A = 1"]),
                    &["m", "math.isnan(nan)", "s", "{1, 2}", "(1, [2])"],
                    true,
                )],
            ),
            (
                vars(&[]),
                vec![file_at(
                    "w.txt",
                    vec![],
                    &["A", "kelvin(1)", "__builtins__ is None"],
                    true,
                )],
            ),
        ];
        let out = assert_batches_match_sequential(InterpreterKind::Python, &cases);
        // The outcomes are the ones expected, not merely equal.
        assert_eq!(
            texts(&out[0][0]),
            [
                "274.15",
                "[1, 2]",
                "ERR NameError: name 'undefined' is not defined",
                "ERR ZeroDivisionError: division by zero",
                "ERR SyntaxError: invalid syntax",
                "4874498.2",
            ]
        );
        assert_eq!(
            texts(&out[0][1]),
            [
                "[1]",
                "ERR NameError: name 'R' is not defined",
                "ERR NameError: name 'kelvin' is not defined"
            ]
        );
        assert!(out[1].is_empty());
        assert_eq!(texts(&out[2][0]), ["275.65", "6.666666666666667"]);
        assert_eq!(
            out[2][1].warnings,
            [
                "Error executing full context: IndentationError: unexpected indent (in.txt, line 9)",
                "Error executing context line 'b = undefined_name': NameError: name 'undefined_name' is not defined (in.txt, line 4)",
                "Error executing context line '  d = 4': IndentationError: unexpected indent (in.txt, line 9)",
            ]
        );
        assert_eq!(
            out[3][0].warnings,
            ["Error executing static objects: AssertionError: nope (s.txt, line 2)"]
        );
        assert_eq!(
            out[3][1].warnings,
            ["Error executing static objects: AssertionError: nope (t.txt, line 6)"]
        );
        assert_eq!(
            texts(&out[3][1]),
            ["ERR NameError: name 'PI' is not defined", "5.0"]
        );
        // A cached context still names the line of a runtime error.
        for (o, line) in [(&out[4][0], 3), (&out[5][0], 3)] {
            assert_eq!(
                o.warnings[0],
                format!("Error executing full context: ZeroDivisionError: division by zero (f.txt, line {line})")
            );
        }
        assert_eq!(
            out[5][1].warnings,
            ["Error executing static objects: ZeroDivisionError: division by zero (g.txt, line 5)"]
        );
        assert_eq!(
            texts(&out[5][1]),
            ["6", "ERR NameError: name 'f' is not defined"]
        );
        assert_eq!(
            texts(&out[6][0]),
            [
                "{'k': (1, None)}",
                "ERR NameError: name 'math' is not defined",
                "é\"\n",
                "{1, 2}",
                "(1, [2])"
            ]
        );
        assert_eq!(
            texts(&out[7][0]),
            [
                "ERR NameError: name 'A' is not defined",
                "ERR NameError: name 'kelvin' is not defined",
                "False"
            ]
        );
    }

    #[test]
    fn python_batch_case_failures() {
        let mut w = python();
        let v = vars(&[("x", Value::Int(1))]);
        let good = [file("a.txt", &["k = 2"], &["x * k"], true)];
        let bad = [file("b.txt", &["raise KeyboardInterrupt"], &["x"], true)];
        let reqs = [
            CaseRequest {
                vars: &v,
                files: &good,
            },
            CaseRequest {
                vars: &v,
                files: &bad,
            },
            CaseRequest {
                vars: &v,
                files: &good,
            },
        ];
        let err = w.evaluate_many(&reqs).expect_err("case 1 fails");
        assert_eq!(
            err.to_string(),
            "formula interpreter 'python3' could not handle case 1 of the batch: KeyboardInterrupt"
        );
        let err = w.evaluate(&reqs[1]).expect_err("fails alone too");
        assert_eq!(
            err.to_string(),
            "formula interpreter 'python3' could not handle the request: KeyboardInterrupt"
        );
        // The worker is still usable.
        let out = w.evaluate_many(&[reqs[0], reqs[2]]).expect("evaluate_many");
        assert_eq!(texts(&out[0][0]), ["2"]);
        assert_eq!(texts(&out[1][0]), ["2"]);
    }

    #[test]
    fn python_code_cache_stays_bounded() {
        let mut w = python();
        let cases: Cases = (0..5000)
            .map(|i| {
                let f = format!("x + {i}");
                (
                    vars(&[("x", Value::Int(1))]),
                    vec![file("c.txt", &["y = 1"], &[&f], true)],
                )
            })
            .collect();
        let reqs: Vec<CaseRequest> = cases
            .iter()
            .map(|(vars, files)| CaseRequest { vars, files })
            .collect();
        let out = w.evaluate_many(&reqs).expect("evaluate_many");
        assert_eq!(texts(&out[4999][0]), ["5000"]);
        let probe = file(
            "p.txt",
            &[],
            &[
                "len(__import__('__main__')._eval_cache)",
                "len(__import__('__main__')._exec_cache)",
            ],
            true,
        );
        let out = eval_one(&mut w, &vars(&[]), probe);
        let sizes = texts(&out);
        let eval_size: usize = sizes[0].parse().expect("a size");
        assert!((1..=4096).contains(&eval_size), "{sizes:?}");
        assert_eq!(sizes[1], "1");
    }

    #[test]
    fn r_batch_matches_sequential_evaluation() {
        if r_worker().is_none() {
            return;
        }
        let kelvin = [
            "R <- 8.314",
            "kelvin <- function(t) {",
            "    t + 273.15",
            "}",
        ];
        let broken = ["a <- 1", "g <- function(", "c <- 3"];
        let statics = ["PI <- 3.14159", "stop('nope')"];
        let cases: Cases = vec![
            (
                vars(&[
                    ("x", Value::Int(1)),
                    ("xs", Value::List(vec![Value::Int(1)])),
                ]),
                vec![
                    file_at(
                        "a.R",
                        lines(1, &[&kelvin[..], &["xs[2] <- 2", "G <<- 1"]].concat()),
                        &[
                            "kelvin(x)",
                            "xs",
                            "undefined(1)",
                            "x y",
                            "2 * R * kelvin(20) / 0.001",
                        ],
                        true,
                    ),
                    file_at("b.R", vec![], &["xs", "exists('R')", "exists('G')"], true),
                ],
            ),
            (vars(&[]), vec![]),
            (
                vars(&[("x", Value::Float(2.5))]),
                vec![
                    file_at(
                        "a.R",
                        lines(10, &kelvin),
                        &["kelvin(x)", "20 / (2 + 1)"],
                        true,
                    ),
                    file_at(
                        "in.R",
                        vec![
                            (2, broken[0].into()),
                            (3, broken[1].into()),
                            (5, broken[2].into()),
                        ],
                        &["a + c"],
                        true,
                    ),
                ],
            ),
            (
                vars(&[("y", Value::Float(2.5))]),
                vec![
                    file_at(
                        "s.R",
                        lines(1, &statics),
                        &["y", "exists('PI', inherits = FALSE)"],
                        false,
                    ),
                    file_at("t.R", lines(5, &statics), &["y * 2"], false),
                ],
            ),
            (
                vars(&[]),
                vec![file_at(
                    "w.R",
                    vec![],
                    &["exists('kelvin')", "exists('G')"],
                    true,
                )],
            ),
        ];
        let out = assert_batches_match_sequential(InterpreterKind::R, &cases);
        assert_eq!(
            texts(&out[0][0]),
            [
                "274.15",
                "[1.0, 2.0]",
                "ERR Error in undefined(1) : could not find function \"undefined\"",
                "ERR Error: unexpected symbol",
                "4874498.2",
            ]
        );
        assert_eq!(texts(&out[0][1]), ["1.0", "False", "False"]);
        assert_eq!(texts(&out[2][0]), ["275.65", "6.666666666666667"]);
        assert_eq!(
            out[2][1].warnings,
            [
                "Error executing full context: Error: unexpected assignment (in.R, line 5)",
                "Error executing context line 'g <- function(': Error: unexpected end of input (in.R, line 3)",
            ]
        );
        assert_eq!(
            out[3][0].warnings,
            ["Error executing static objects: Error: nope (s.R, line 2)"]
        );
        assert_eq!(
            out[3][1].warnings,
            ["Error executing static objects: Error: nope (t.R, line 6)"]
        );
        assert_eq!(texts(&out[3][0]), ["2.5", "False"]);
        assert_eq!(texts(&out[4][0]), ["False", "False"]);
    }

    #[test]
    fn r_batch_case_failures() {
        let Some(mut w) = r_worker() else { return };
        let good_vars = vars(&[("x", Value::Int(1))]);
        let bad_vars = vars(&[("", Value::Int(1))]);
        let files = [file("a.R", &["k <- 2"], &["x * k"], true)];
        let reqs = [
            CaseRequest {
                vars: &good_vars,
                files: &files,
            },
            CaseRequest {
                vars: &bad_vars,
                files: &files,
            },
        ];
        let err = w.evaluate_many(&reqs).expect_err("case 1 fails");
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "formula interpreter 'Rscript' could not handle case 1 of the batch: Error"
            ),
            "{msg}"
        );
        let out = w.evaluate_many(&reqs[..1]).expect("still usable");
        assert_eq!(texts(&out[0][0]), ["2.0"]);
    }

    #[test]
    fn r_literals() {
        let mut out = String::new();
        r_string("a\"b\\c\nd\té😀\0\u{1}", &mut out);
        assert_eq!(out, r#""a\"b\\c\nd\t\U{e9}\U{1f600}\U{fffd}\U{1}""#);
        let mut out = String::new();
        let mut m = IndexMap::new();
        m.insert("k".to_string(), Value::List(vec![]));
        r_literal(
            &Value::List(vec![
                Value::Int(-5),
                Value::Int(1 << 40),
                Value::Float(0.1),
                Value::Float(f64::NEG_INFINITY),
                Value::Map(m),
                Value::Null,
                Value::Tuple(vec![Value::Bool(true), Value::Bool(false)]),
            ]),
            &mut out,
        );
        assert_eq!(
            out,
            r#"list(-5L, 1099511627776.0, 0.1, -Inf, structure(list(list()), names = c("k")), NULL, c(TRUE, FALSE))"#
        );
    }

    #[test]
    fn wire_round_trip_and_float_parsing() {
        let mut m = IndexMap::new();
        m.insert("z".to_string(), Value::Float(2.0));
        m.insert(
            "a".to_string(),
            Value::Tuple(vec![Value::Float(f64::INFINITY)]),
        );
        let v = Value::List(vec![Value::Map(m), Value::Int(-3), Value::Str("s".into())]);
        let wire = |v: &Value| {
            let mut out = Vec::new();
            write_wire(v, &mut out);
            String::from_utf8(out).expect("utf-8")
        };
        let json: Json = serde_json::from_str(&wire(&v)).expect("valid JSON");
        assert_eq!(from_wire(&json).expect("decodes"), v);
        assert_eq!(wire(&Value::Float(2.0)), "2.0");
        assert_eq!(wire(&Value::Float(1e20)), "1e20");
        assert_eq!(wire(&Value::Float(-1e-7)), "-1e-7");
        assert_eq!(wire(&Value::Float(f64::NAN)), r#"{"$f":"nan"}"#);
        let s = "q\"b\\s\n\r\t\u{1}\u{1f} é😀\u{7f}";
        assert_eq!(
            wire(&Value::Str(s.into())),
            "\"q\\\"b\\\\s\\n\\r\\t\\u0001\\u001f é😀\u{7f}\""
        );
        let json: Json = serde_json::from_str(&wire(&Value::Str(s.into()))).expect("valid JSON");
        assert_eq!(json.as_str(), Some(s));
        assert_eq!(parse_float_text("1e+300"), Some(1e300));
        assert_eq!(parse_float_text("293.14999999999998"), Some(293.15));
        assert!(parse_float_text("NaN").is_some_and(f64::is_nan));
        assert_eq!(py_float_from_str(" 1_000.5 "), Some(1000.5));
        assert_eq!(py_float_from_str("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(py_float_from_str("1__0"), None);
        assert_eq!(py_float_from_str("abc"), None);
        assert_eq!(py_float_from_str(""), None);
        assert_eq!(py_float_from_str(".5"), Some(0.5));
        assert!(from_wire(&serde_json::json!({"x": 1})).is_err());
    }
}
