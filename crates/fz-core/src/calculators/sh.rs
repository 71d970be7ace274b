//! `sh://` – runs a case as a local shell command.
//!
//! This module owns, for one attempt of one case: building the command
//! line (relative paths made absolute against the launch directory, input
//! files appended), running it with `bash -c` inside the case's work
//! directory in a process group of its own, enforcing the time limit and
//! cancellation by killing that whole group, classifying failures, and
//! writing the case's `out.txt`, `err.txt` and `log.txt`.
//!
//! It must not touch anything outside the work directory (never changes
//! the process's current directory, never reads other cases), decide
//! retries, or parse outputs: those belong to the engine and the output
//! parser.
//!
//! # Command line
//!
//! The command written after `sh://` is kept as the user wrote it, except
//! that an unquoted word naming an existing file or directory relative to
//! the launch directory is replaced by its absolute path (see
//! [`absolutize_paths`] for the exact rule). The input files of the case
//! are then appended as shell-quoted arguments, or ` .` when there are
//! none. Without a command the first input file is executed with the
//! others as arguments (`./input.txt rest…`, the legacy Funz convention;
//! `./.` when there are no input files, which fails).
//!
//! # Shell
//!
//! The line runs under `bash -c` on every Unix (not `/bin/sh`, which is
//! dash on Debian/Ubuntu): existing models are written for bash and use
//! bash-isms (`[[ ]]`, `source`, arrays), and upstream runs bash on Windows
//! too. The environment is inherited unchanged and stdin is `/dev/null`.
//!
//! # Reserved file names
//!
//! `out.txt` and `err.txt` (stdout and stderr of the command, created empty
//! before it starts and written by the command directly) and `log.txt`
//! (written after it ends, for every outcome) belong to fz: a simulation
//! writing files of those names in its working directory has them
//! overwritten.
//!
//! # Stopping
//!
//! On timeout or cancellation the whole process group gets SIGTERM, then,
//! after a grace period ([`ShCalculator::grace`], 5 s by default), SIGKILL;
//! the attempt returns once no live process of the group is left (a process
//! that moved itself to another group or session escapes this). Processes
//! the command left running in the background after it exited are stopped
//! the same way, so that nothing keeps writing into the case directory.

use super::uri::CalculatorUri;
use super::{Attempt, AttemptStatus, Calculator, RunRequest};
use crate::{Error, Result};
use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Default time between SIGTERM and SIGKILL when a run is stopped.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// How often cancellation is checked while a command runs.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// How often a stopping process group is checked for live members.
const GROUP_POLL: Duration = Duration::from_millis(20);

/// Longest wait for processes to disappear after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Lines of `err.txt` quoted in failure messages.
const STDERR_TAIL_LINES: usize = 20;

/// Bytes read from the end of `err.txt` for failure messages.
const STDERR_TAIL_BYTES: u64 = 64 * 1024;

/// A local shell calculator, `sh://<command>[?timeout=N]`.
#[derive(Debug, Clone)]
pub struct ShCalculator {
    display: String,
    command: String,
    timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when a run is stopped
    /// ([`DEFAULT_GRACE`] unless changed).
    pub grace: Duration,
}

impl ShCalculator {
    /// Parses an `sh://` URI. The command is the URI body, trimmed; it may
    /// be empty. The only query key accepted is `timeout`.
    ///
    /// Errors ([`Error::Value`], naming the redacted URI): a malformed URI
    /// (see [`CalculatorUri::parse`]), another scheme, or a query key other
    /// than `timeout`.
    pub fn new(uri: &str) -> Result<Self> {
        Self::from_uri(&CalculatorUri::parse(uri)?)
    }

    /// Builds the calculator from an already parsed URI (same checks as
    /// [`ShCalculator::new`]).
    pub fn from_uri(uri: &CalculatorUri) -> Result<Self> {
        if uri.scheme != "sh" {
            return Err(Error::Value(format!(
                "Not an sh:// calculator URI: '{}'",
                uri.display
            )));
        }
        if let Some(key) = uri.params.keys().next() {
            return Err(Error::Value(format!(
                "Query parameter '{key}' is not supported by sh:// calculators \
                 (only 'timeout'): '{}'",
                uri.display
            )));
        }
        Ok(ShCalculator {
            display: uri.display.clone(),
            command: uri.body.trim().to_string(),
            timeout: uri.timeout,
            grace: DEFAULT_GRACE,
        })
    }

    /// The same calculator with another SIGTERM→SIGKILL grace period.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The command as written in the URI (trimmed, query removed); empty
    /// when there is none.
    pub fn command(&self) -> &str {
        &self.command
    }
}

impl Calculator for ShCalculator {
    fn display_uri(&self) -> &str {
        &self.display
    }

    fn uri_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Runs the command once in `request.work_dir` under
    /// `request.timeout` (already resolved by the engine, the URI timeout
    /// winning).
    ///
    /// Outcomes: exit 0 → `Done`; non-zero exit → `Failed` with the exit
    /// code (minus the signal number when the shell itself was killed by a
    /// signal) and a classified message (see [`classify_failure`]); the
    /// command could not be started → `Failed` with the OS error; time
    /// limit reached → `Timeout`, `Command timed out after <T> seconds:
    /// '<command>'`; `request.cancel.must_kill()` → `Interrupted`,
    /// `Calculation interrupted by user` (or `Execution interrupted by
    /// user` when it was already set before the start, in which case
    /// nothing is started). `log.txt` is written in every case where the
    /// work directory exists.
    fn run(&self, request: &RunRequest) -> Attempt {
        let built = build_command_line(&self.command, request.launch_dir, request.input_files);
        if !self.command.is_empty() && built.command != self.command {
            crate::log::info("sh:// command paths resolved to absolute:");
            crate::log::info(&format!("  Original: {}", self.command));
            crate::log::info(&format!("  Resolved: {}", built.command));
        }
        // The command named in messages: the resolved command, or the whole
        // line when there is no command.
        let shown = if built.command.is_empty() {
            built.line.as_str()
        } else {
            built.command.as_str()
        };

        let started = SystemTime::now();
        let clock = Instant::now();
        let ended_how = if request.cancel.must_kill() {
            Ended::NotStarted
        } else {
            crate::log::info(&format!("Running command: {}", built.line));
            execute(&built.line, request, self.grace)
        };
        let ended = SystemTime::now();
        let elapsed = clock.elapsed();

        let (status, exit_code, raw_code, error) = match &ended_how {
            Ended::NotStarted => (
                AttemptStatus::Interrupted,
                None,
                None,
                Some("Execution interrupted by user".to_string()),
            ),
            Ended::SpawnFailed(msg) => (AttemptStatus::Failed, None, None, Some(msg.clone())),
            Ended::Exited(Ok(code)) if *code == 0 => (AttemptStatus::Done, Some(0), Some(0), None),
            Ended::Exited(Ok(code)) => {
                let stderr = stderr_tail(&request.work_dir.join("err.txt"));
                let msg = classify_failure(&stderr, *code, shown);
                (AttemptStatus::Failed, Some(*code), Some(*code), Some(msg))
            }
            Ended::Exited(Err(msg)) => (AttemptStatus::Failed, None, None, Some(msg.clone())),
            Ended::TimedOut(code) => {
                let limit = request.timeout.unwrap_or_default();
                let msg = format!(
                    "Command timed out after {} seconds: '{shown}'",
                    format_seconds(limit)
                );
                (AttemptStatus::Timeout, None, *code, Some(msg))
            }
            Ended::Interrupted(code) => (
                AttemptStatus::Interrupted,
                None,
                *code,
                Some("Calculation interrupted by user".to_string()),
            ),
        };

        let attempt = Attempt {
            status,
            exit_code,
            command: built.command,
            command_line: built.line,
            started,
            ended,
            error,
            host: None,
        };
        // The log keeps the shell's own code after a timeout or Ctrl+C.
        RunLog {
            exit_code: raw_code,
            ..RunLog::of(&attempt, request, elapsed, &[])
        }
        .store();
        attempt
    }
}

// ---------------------------------------------------------------------------
// Command line

/// A command line ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The command with paths made absolute, without the input arguments;
    /// empty when the URI has no command.
    pub command: String,
    /// The full line passed to `bash -c`.
    pub line: String,
}

/// Builds the line run for `command` (the URI body): [`absolutize_paths`]
/// against `launch_dir`, then the input files appended as shell-quoted
/// arguments (` .` when there are none). An empty command runs the first
/// input file: `./<first> <rest…>` (`./.` without input files).
pub fn build_command_line(command: &str, launch_dir: &Path, input_files: &[String]) -> CommandLine {
    let command = command.trim();
    let args: Vec<Cow<'_, str>> = input_files.iter().map(|f| shell_quote(f)).collect();
    if command.is_empty() {
        let line = match input_files.split_first() {
            Some((first, rest)) => {
                let mut line = shell_quote(&format!("./{first}")).into_owned();
                for f in rest {
                    line.push(' ');
                    line.push_str(&shell_quote(f));
                }
                line
            }
            None => "./.".to_string(),
        };
        return CommandLine {
            command: String::new(),
            line,
        };
    }
    let resolved = absolutize_paths(command, launch_dir);
    let line = if args.is_empty() {
        format!("{resolved} .")
    } else {
        format!("{resolved} {}", args.join(" "))
    };
    CommandLine {
        command: resolved,
        line,
    }
}

/// Quotes `text` for bash when needed: returned as is when it is made only
/// of letters, digits and `_ @ % + = : , . / -`, else in single quotes
/// (`'` written `'\''`). The empty string gives `''`.
pub fn shell_quote(text: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("'{}'", text.replace('\'', "'\\''")))
    }
}

/// Makes the relative paths of a shell command absolute against
/// `launch_dir`, without otherwise changing the text.
///
/// The command is scanned with bash's word rules (quotes, `\` escapes,
/// `$(…)`, `${…}`, backquotes, comments, operators `| || & && ; ( )` and
/// redirections `< > >> 2> &> 2>&1 <<< …`). A word is replaced by
/// `<launch_dir>/<word>` (shell-quoted when needed, `./` components
/// dropped) when all of these hold:
///
/// * it is not the target of a redirection (`> out.txt`, `2>&1`, `<in`),
/// * it has no quoting, escape, expansion or pattern character (none of
///   `' " \ $ `` ` `` * ? [ ] { } ~ = ! #`), so `'calc.sh'`, `$HOME/x`,
///   `VAR=calc.sh`, `*.txt` are kept,
/// * it is not an option (`-x`, `--x`), not absolute, not `.` or `..`, and
///   not a shell reserved word (`if`, `then`, `do`, …),
/// * `<launch_dir>/<word>` exists (file, directory or symbolic link).
///
/// So `bash calc.sh` → `bash /p/calc.sh`, `./run` → `/p/run`, while
/// `sleep 10`, `echo hello > out.txt` and `python3 -c 'print(1)'` are kept
/// — unless a file named `10` or `hello` exists in the launch directory,
/// which is then made absolute too. A command whose quotes are unbalanced
/// is returned unchanged.
pub fn absolutize_paths(command: &str, launch_dir: &Path) -> String {
    let Some(words) = scan_words(command) else {
        return command.to_string();
    };
    let base: Cow<'_, Path> = if launch_dir.is_absolute() {
        Cow::Borrowed(launch_dir)
    } else {
        match std::path::absolute(launch_dir) {
            Ok(p) => Cow::Owned(p),
            Err(_) => Cow::Borrowed(launch_dir),
        }
    };
    let mut out = String::with_capacity(command.len() + 64);
    let mut copied = 0;
    for w in words {
        if w.redirect_target {
            continue;
        }
        // Spans end on ASCII delimiters, hence on char boundaries; `get`
        // keeps a scanner mistake from ever panicking.
        let (Some(word), Some(before)) =
            (command.get(w.start..w.end), command.get(copied..w.start))
        else {
            return command.to_string();
        };
        if let Some(abs) = absolute_word(word, &base) {
            out.push_str(before);
            out.push_str(&shell_quote(&abs));
            copied = w.end;
        }
    }
    out.push_str(command.get(copied..).unwrap_or_default());
    out
}

/// The words of a shell command that name existing regular files relative
/// to `launch_dir`, as written (`calc.sh`, `scripts/run.sh`), by the rule
/// of [`absolutize_paths`], leaving out words that climb out of the
/// directory (`../x`). Used by remote calculators to send the scripts a
/// command refers to along with the case files. Each path is listed once.
pub fn local_files(command: &str, launch_dir: &Path) -> Vec<String> {
    let Some(words) = scan_words(command) else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for w in words.iter().filter(|w| !w.redirect_target) {
        let Some(word) = command.get(w.start..w.end) else {
            continue;
        };
        let climbs = Path::new(word)
            .components()
            .any(|c| matches!(c, Component::ParentDir));
        if climbs || absolute_word(word, launch_dir).is_none() {
            continue;
        }
        let rel: PathBuf = Path::new(word)
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        let is_file = std::fs::metadata(launch_dir.join(&rel)).is_ok_and(|m| m.is_file());
        if let (true, Some(rel)) = (is_file, rel.to_str()) {
            if !found.iter().any(|f| f == rel) {
                found.push(rel.to_string());
            }
        }
    }
    found
}

/// The words of a shell command as written (quotes kept), leaving out
/// operators, comments and redirection targets; `None` when a quote or
/// substitution is not closed. Used by `fzl --check` to find the program
/// and the scripts a command names.
pub fn command_words(command: &str) -> Option<Vec<&str>> {
    let words = scan_words(command)?;
    Some(
        words
            .iter()
            .filter(|w| !w.redirect_target)
            .filter_map(|w| command.get(w.start..w.end))
            .collect(),
    )
}

/// Reserved words of bash, never rewritten.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
    "done", "in", "function", "time", "coproc", "{", "}", "[[", "]]", "!",
];

/// The absolute path for `word` when it is a rewritable relative path that
/// exists under `base`.
fn absolute_word(word: &str, base: &Path) -> Option<String> {
    let special = |c: char| c.is_control() || "'\"\\$`*?[]{}~=!#".contains(c);
    if word.is_empty()
        || word.starts_with('-')
        || word.starts_with('/')
        || word == "."
        || word == ".."
        || RESERVED.contains(&word)
        || word.chars().any(special)
    {
        return None;
    }
    let mut path: PathBuf = base.to_path_buf();
    for part in Path::new(word).components() {
        match part {
            Component::CurDir => {}
            Component::Normal(p) => path.push(p),
            Component::ParentDir => path.push(".."),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if std::fs::symlink_metadata(&path).is_err() {
        return None;
    }
    path.to_str().map(str::to_string)
}

/// A word of a shell command, by byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WordSpan {
    start: usize,
    end: usize,
    /// The word follows a redirection operator.
    redirect_target: bool,
}

/// Splits a shell command into words, skipping operators, redirection
/// operators and comments; `None` when a quote or substitution is not
/// closed.
fn scan_words(cmd: &str) -> Option<Vec<WordSpan>> {
    let b = cmd.as_bytes();
    let n = b.len();
    let mut words = Vec::new();
    let mut target_next = false;
    let mut i = 0;
    while i < n {
        let at = |k: usize| b.get(k).copied();
        match b[i] {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' => {
                target_next = false;
                i += 1;
            }
            b'#' => {
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'&' if at(i + 1) == Some(b'>') => {
                // `&>` / `&>>`: both streams redirected.
                i += 2;
                if at(i) == Some(b'>') {
                    i += 1;
                }
                target_next = true;
            }
            c @ (b'|' | b'&' | b';') => {
                i += 1;
                if at(i) == Some(c) || (c == b'|' && at(i) == Some(b'&')) {
                    i += 1;
                }
                target_next = false;
            }
            b'(' | b')' => {
                i += 1;
                target_next = false;
            }
            b'<' | b'>' if at(i + 1) == Some(b'(') => {
                // Process substitution: its words are ordinary words.
                i += 2;
                target_next = false;
            }
            b'<' | b'>' => {
                i = skip_redirection(b, i);
                target_next = true;
            }
            _ => {
                let mut j = i;
                while j < n && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > i && matches!(at(j), Some(b'<' | b'>')) && at(j + 1) != Some(b'(') {
                    // `2>`, `2>&1`, `0<`: a redirection with a descriptor.
                    i = skip_redirection(b, j);
                    target_next = true;
                    continue;
                }
                let end = scan_word(b, i)?;
                words.push(WordSpan {
                    start: i,
                    end,
                    redirect_target: target_next,
                });
                target_next = false;
                i = end;
            }
        }
    }
    Some(words)
}

/// Skips a redirection operator starting at `b[i]` (`<` or `>`).
fn skip_redirection(b: &[u8], i: usize) -> usize {
    let rest = &b[i..];
    let len = if rest.starts_with(b"<<<") || rest.starts_with(b"<<-") {
        3
    } else if [&b"<<"[..], b"<>", b"<&", b">>", b">|", b">&"]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        2
    } else {
        1
    };
    i + len
}

/// The end of the word starting at `b[i]`.
fn scan_word(b: &[u8], mut i: usize) -> Option<usize> {
    let n = b.len();
    while i < n {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' | b'|' | b'&' | b';' | b'(' | b')' | b'<' | b'>' => break,
            b'\\' => i += 2,
            b'\'' => i = skip_single(b, i + 1)?,
            b'"' => i = skip_double(b, i + 1)?,
            b'`' => i = skip_backquote(b, i + 1)?,
            b'$' => i = skip_dollar(b, i)?,
            _ => i += 1,
        }
    }
    Some(i.min(n))
}

/// After an opening `'`: the index after the closing one.
fn skip_single(b: &[u8], i: usize) -> Option<usize> {
    let close = b.get(i..)?.iter().position(|&c| c == b'\'')?;
    Some(i + close + 1)
}

/// After an opening `"`: the index after the closing one.
fn skip_double(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            b'`' => i = skip_backquote(b, i + 1)?,
            b'$' => i = skip_dollar(b, i)?,
            _ => i += 1,
        }
    }
    None
}

/// After an opening backquote: the index after the closing one.
fn skip_backquote(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// At a `$`: the index after `$(…)`, `$((…))`, `${…}`, `$'…'`, or after the
/// `$` alone.
fn skip_dollar(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i + 1) {
        Some(b'(') => skip_nested(b, i + 2, b'(', b')'),
        Some(b'{') => skip_nested(b, i + 2, b'{', b'}'),
        Some(b'\'') => {
            // ANSI-C quoting: `\'` does not close it.
            let mut k = i + 2;
            while k < b.len() {
                match b[k] {
                    b'\\' => k += 2,
                    b'\'' => return Some(k + 1),
                    _ => k += 1,
                }
            }
            None
        }
        _ => Some(i + 1),
    }
}

/// After an opening bracket: the index after its matching close, quotes
/// and nested substitutions respected.
fn skip_nested(b: &[u8], mut i: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 1usize;
    while i < b.len() {
        let c = b[i];
        if c == open {
            depth += 1;
            i += 1;
        } else if c == close {
            depth -= 1;
            i += 1;
            if depth == 0 {
                return Some(i);
            }
        } else {
            match c {
                b'\\' => i += 2,
                b'\'' => i = skip_single(b, i + 1)?,
                b'"' => i = skip_double(b, i + 1)?,
                b'`' => i = skip_backquote(b, i + 1)?,
                b'$' => i = skip_dollar(b, i)?,
                _ => i += 1,
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Failure messages

/// A human message for a command that exited with `exit_code` (negative:
/// killed by that signal), from the tail of its stderr — a hint only; the
/// raw code is kept in [`Attempt::exit_code`].
///
/// Rules (spec §1.1, `sh` then common), matched case-insensitively on
/// whole words (so `boom` is not `oom`): Windows line endings (`\r`); bad
/// interpreter; binary not executable; `command not found`, or `not found`
/// / `no such file or directory` with exit code 127 → command not found;
/// `permission denied` / `operation not permitted`; shell syntax errors;
/// exit 126; exit 127; then the common rules of [`classify_common`]. The
/// message ends with `stderr: <stderr>` when stderr is not empty.
pub fn classify_failure(stderr: &str, exit_code: i32, command: &str) -> String {
    let lower = stderr.to_lowercase();
    let hint = sh_hint(stderr, &lower, exit_code, command)
        .unwrap_or_else(|| classify_common(&lower, exit_code, "locally"));
    with_stderr(hint, stderr)
}

/// The scheme-independent hint for a failed command (`lower_stderr`
/// lower-cased, `location` `locally` or `on remote server`): missing
/// output, missing input file, memory, full or read-only file system,
/// timeout (exit 124), killed by a signal (negative code), else
/// `Command failed with exit code <n>.`
pub fn classify_common(lower_stderr: &str, exit_code: i32, location: &str) -> String {
    let has = |phrases: &[&str]| phrases.iter().any(|p| contains_words(lower_stderr, p));
    if has(&[
        "output file not found",
        "no output produced",
        "missing output",
        "expected output",
        "output.txt: no such file",
    ]) {
        return "Missing output file: the calculation did not produce expected output.".to_string();
    }
    if has(&[
        "no such file or directory",
        "cannot open",
        "failed to open",
        "input file not found",
        "file not found",
    ]) && !has(&["command not found"])
    {
        return format!(
            "Input file not found {location}. Check that all required input files \
             exist and are accessible."
        );
    }
    if has(&[
        "out of memory",
        "cannot allocate memory",
        "killed",
        "oom",
        "memory allocation failed",
    ]) {
        return "Process ran out of memory or was killed.".to_string();
    }
    if has(&[
        "no space left on device",
        "disk quota exceeded",
        "read-only file system",
    ]) {
        return "Filesystem error (disk full, quota exceeded or read-only).".to_string();
    }
    if exit_code == 124 || has(&["timed out", "timeout"]) {
        return format!("Command timed out (exit code {exit_code}).");
    }
    if exit_code < 0 {
        return format!(
            "Process terminated by signal {} (exit code {exit_code}).",
            signal_name(-exit_code)
        );
    }
    format!("Command failed with exit code {exit_code}.")
}

/// The `sh`-specific hint, when one applies.
fn sh_hint(stderr: &str, lower: &str, exit_code: i32, command: &str) -> Option<String> {
    let has = |phrases: &[&str]| phrases.iter().any(|p| contains_words(lower, p));
    let cmd = command.split_whitespace().next().unwrap_or("unknown");
    if stderr.contains('\r') || has(&["\\r"]) {
        return Some(format!(
            "Script line ending error: '{cmd}' appears to have Windows-style line \
             endings (\\r\\n). Convert it to Unix line endings (\\n), e.g. with dos2unix."
        ));
    }
    if has(&["bad interpreter"]) {
        return Some(format!(
            "Bad interpreter when executing '{cmd}': check the script's #! line."
        ));
    }
    if has(&["cannot execute binary file", "exec format error"]) {
        return Some(format!(
            "Cannot execute '{cmd}': not a program for this system."
        ));
    }
    let code_note = if exit_code == 127 {
        " (exit code 127)"
    } else {
        ""
    };
    if has(&["command not found"])
        || (exit_code == 127 && has(&["not found", "no such file or directory"]))
    {
        let name = not_found_name(stderr).unwrap_or(cmd);
        return Some(format!(
            "Command not found locally: '{name}'{code_note}. Check that the command \
             is installed and available in PATH."
        ));
    }
    if has(&["permission denied", "operation not permitted"]) {
        return Some(format!(
            "Permission denied when executing '{cmd}'. Check file permissions \
             (chmod +x) and user privileges."
        ));
    }
    if has(&["syntax error", "unexpected token", "parse error"]) {
        return Some(format!("Script syntax error in '{cmd}'."));
    }
    if exit_code == 126 {
        return Some(format!(
            "Command '{cmd}' found but not executable (exit code 126). Check file \
             permissions (chmod +x)."
        ));
    }
    if exit_code == 127 {
        return Some(format!(
            "Command not found locally: '{cmd}' (exit code 127). Check that the \
             command is installed and available in PATH."
        ));
    }
    None
}

/// The name bash reports in `…: <name>: command not found`.
fn not_found_name(stderr: &str) -> Option<&str> {
    stderr.lines().find_map(|line| {
        let before = line.trim_end().strip_suffix(": command not found")?;
        let name = before.rsplit(": ").next()?.trim();
        (!name.is_empty()).then_some(name)
    })
}

/// Whether `phrase` occurs in `text` not glued to letters or digits on a
/// side where the phrase itself starts/ends with one.
fn contains_words(text: &str, phrase: &str) -> bool {
    let alnum_start = phrase.chars().next().is_some_and(char::is_alphanumeric);
    let alnum_end = phrase
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    text.match_indices(phrase).any(|(pos, _)| {
        let before_ok = !alnum_start
            || !text[..pos]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
        let after_ok = !alnum_end
            || !text[pos + phrase.len()..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        before_ok && after_ok
    })
}

/// `hint` followed by `stderr: <stderr>` when there is stderr text.
pub(crate) fn with_stderr(hint: String, stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        hint.trim_end_matches('.').to_string()
    } else {
        format!("{hint} stderr: {stderr}")
    }
}

/// `SIGTERM`, `SIGKILL`, … for a signal number (the number itself when
/// unknown).
fn signal_name(sig: i32) -> String {
    const NAMES: &[(i32, &str)] = &[
        (1, "SIGHUP"),
        (2, "SIGINT"),
        (3, "SIGQUIT"),
        (4, "SIGILL"),
        (5, "SIGTRAP"),
        (6, "SIGABRT"),
        (8, "SIGFPE"),
        (9, "SIGKILL"),
        (11, "SIGSEGV"),
        (13, "SIGPIPE"),
        (14, "SIGALRM"),
        (15, "SIGTERM"),
    ];
    #[cfg(unix)]
    let extra: &[(i32, &str)] = &[
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
    ];
    #[cfg(not(unix))]
    let extra: &[(i32, &str)] = &[];
    NAMES
        .iter()
        .chain(extra)
        .find(|(n, _)| *n == sig)
        .map_or_else(|| sig.to_string(), |(_, name)| (*name).to_string())
}

/// The last lines of `path` (at most [`STDERR_TAIL_LINES`] lines from its
/// last [`STDERR_TAIL_BYTES`] bytes), trimmed; empty when unreadable.
pub(crate) fn stderr_tail(path: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(STDERR_TAIL_BYTES);
    if file.seek(SeekFrom::Start(from)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    last_lines(&String::from_utf8_lossy(&bytes))
}

/// The last lines of `text` as quoted in error messages, trimmed.
pub(crate) fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.trim().lines().collect();
    let keep = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[keep..].join("\n")
}

/// Seconds as written in messages: `300`, `1.5`.
pub(crate) fn format_seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

// ---------------------------------------------------------------------------
// Process

/// How the command ended (also used by `slurm://`, whose srun mode runs
/// its line through [`execute`]).
#[derive(Debug)]
pub(crate) enum Ended {
    /// Cancellation was already requested: nothing was started.
    NotStarted,
    /// The command could not be started (message).
    SpawnFailed(String),
    /// The command exited by itself: its code (minus the signal number when
    /// killed by a signal), or why it could not be waited for.
    Exited(std::result::Result<i32, String>),
    /// The time limit expired; the group was killed (raw code if known).
    TimedOut(Option<i32>),
    /// Cancelled while running; the group was killed (raw code if known).
    Interrupted(Option<i32>),
}

/// Runs `line` with `bash -c` in `request.work_dir` and waits for it under
/// the request's time limit and cancellation.
#[cfg(unix)]
pub(crate) fn execute(line: &str, request: &RunRequest, grace: Duration) -> Ended {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::sync::mpsc::{self, RecvTimeoutError};

    let work_dir = request.work_dir;
    let open = |name: &str| {
        let path = work_dir.join(name);
        std::fs::File::create(&path)
            .map_err(|e| format!("Could not create {}: {e}", path.display()))
    };
    let (out, err) = match (open("out.txt"), open("err.txt")) {
        (Ok(out), Ok(err)) => (out, err),
        (Err(e), _) | (_, Err(e)) => return Ended::SpawnFailed(e),
    };
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(line)
        .current_dir(work_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0);
    if let Some(path) = crate::config::shell_search_path() {
        command.env("PATH", path);
    }
    let clock = Instant::now();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Ended::SpawnFailed(format!(
                "Could not start bash in {}: {e}",
                work_dir.display()
            ))
        }
    };
    let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Ended::SpawnFailed("Could not start bash: process id out of range".to_string());
    };

    // The waiter thread reaps the shell; this thread watches the clock and
    // the cancellation meanwhile.
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("fz-sh-wait".to_string())
        .spawn(move || {
            let _ = tx.send(child.wait());
        });
    if let Err(e) = spawned {
        // The child was dropped with the closure: kill and reap it here.
        signal_group(pgid, libc::SIGKILL);
        let mut status = 0;
        // SAFETY: waiting for our own child by pid; `status` is a valid
        // out-pointer.
        unsafe { libc::waitpid(pgid, &mut status, 0) };
        return Ended::SpawnFailed(format!("Could not start a waiter thread: {e}"));
    }

    let deadline = request.timeout.map(|t| clock + t);
    let stop = loop {
        let step = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(CANCEL_POLL),
            None => CANCEL_POLL,
        };
        match rx.recv_timeout(step) {
            Ok(result) => {
                // Background processes the command left behind are stopped.
                if group_alive(pgid) {
                    stop_group(pgid, None, grace);
                }
                return Ended::Exited(
                    result
                        .map(exit_code)
                        .map_err(|e| format!("Could not wait for the command: {e}")),
                );
            }
            Err(RecvTimeoutError::Disconnected) => {
                stop_group(pgid, None, grace);
                return Ended::Exited(Err("Lost track of the command".to_string()));
            }
            Err(RecvTimeoutError::Timeout) => {
                if request.cancel.must_kill() {
                    break Ended::Interrupted(None);
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break Ended::TimedOut(None);
                }
            }
        }
    };
    let code = stop_group(pgid, Some(&rx), grace);
    match stop {
        Ended::Interrupted(_) => {
            crate::log::warn("Interrupt detected, the command was terminated");
            Ended::Interrupted(code)
        }
        _ => Ended::TimedOut(code),
    }
}

/// Non-Unix systems: not supported yet.
#[cfg(not(unix))]
pub(crate) fn execute(_line: &str, _request: &RunRequest, _grace: Duration) -> Ended {
    Ended::SpawnFailed("sh:// calculators are only supported on Unix systems".to_string())
}

/// The exit code, or minus the signal number that killed the process.
#[cfg(unix)]
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| -s))
        .unwrap_or(-1)
}

/// Stops process group `pgid`: SIGTERM, up to `grace` for it to end, then
/// SIGKILL, and waits (bounded) until no live member is left. With `rx`,
/// also collects the shell's exit code from the waiter thread.
#[cfg(unix)]
fn stop_group(
    pgid: libc::pid_t,
    rx: Option<&std::sync::mpsc::Receiver<std::io::Result<std::process::ExitStatus>>>,
    grace: Duration,
) -> Option<i32> {
    let mut code = None;
    let mut collect = |wait: Duration| {
        if code.is_none() {
            if let Some(rx) = rx {
                code = rx
                    .recv_timeout(wait)
                    .ok()
                    .and_then(|r| r.ok())
                    .map(exit_code);
            }
        }
    };
    signal_group(pgid, libc::SIGTERM);
    let until = Instant::now() + grace;
    collect(grace);
    while group_alive(pgid) && Instant::now() < until {
        std::thread::sleep(GROUP_POLL);
    }
    if group_alive(pgid) {
        signal_group(pgid, libc::SIGKILL);
    }
    collect(KILL_WAIT);
    let until = Instant::now() + KILL_WAIT;
    while group_alive(pgid) && Instant::now() < until {
        std::thread::sleep(GROUP_POLL);
    }
    code
}

/// Sends `sig` to every process of group `pgid` (never to groups 0 or 1).
#[cfg(unix)]
pub(crate) fn signal_group(pgid: libc::pid_t, sig: libc::c_int) {
    if pgid > 1 {
        // SAFETY: plain system call; a negative pid addresses the group.
        unsafe { libc::kill(-pgid, sig) };
    }
}

/// Whether group `pgid` still has a live (not zombie) process.
#[cfg(unix)]
fn group_alive(pgid: libc::pid_t) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission.
    if unsafe { libc::kill(-pgid, 0) } != 0 {
        return false;
    }
    // kill() also succeeds for zombies waiting to be reaped by their new
    // parent; on Linux look at the members' states.
    #[cfg(target_os = "linux")]
    if let Some(alive) = linux_group_has_live_member(pgid) {
        return alive;
    }
    true
}

/// Scans `/proc` for a non-zombie process of group `pgid`; `None` when
/// `/proc` cannot be read.
#[cfg(target_os = "linux")]
fn linux_group_has_live_member(pgid: libc::pid_t) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may contain spaces and ')'.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        let state = fields.next().unwrap_or("");
        let _ppid = fields.next();
        let pgrp = fields.next().and_then(|f| f.parse::<libc::pid_t>().ok());
        if pgrp == Some(pgid) && state != "Z" && state != "X" {
            return Some(true);
        }
    }
    Some(false)
}

// ---------------------------------------------------------------------------
// log.txt

/// What `log.txt` records about one local attempt (`sh://`, and
/// `slurm://` in local mode with its extra lines).
pub(crate) struct RunLog<'a> {
    pub(crate) command_line: &'a str,
    pub(crate) exit_code: Option<i32>,
    /// `key: value` lines written right after `Exit code` (none for
    /// `sh://`; `SLURM partition`, … for `slurm://`).
    pub(crate) extra: &'a [(&'a str, String)],
    pub(crate) started: SystemTime,
    pub(crate) ended: SystemTime,
    pub(crate) elapsed: Duration,
    pub(crate) work_dir: &'a Path,
    pub(crate) launch_dir: &'a Path,
    pub(crate) status: AttemptStatus,
    pub(crate) error: Option<&'a str>,
}

impl<'a> RunLog<'a> {
    /// The record of `attempt`, made for `request` and lasting `elapsed`,
    /// with the `extra` lines.
    pub(crate) fn of(
        attempt: &'a Attempt,
        request: &'a RunRequest,
        elapsed: Duration,
        extra: &'a [(&'a str, String)],
    ) -> Self {
        RunLog {
            command_line: &attempt.command_line,
            exit_code: attempt.exit_code,
            extra,
            started: attempt.started,
            ended: attempt.ended,
            elapsed,
            work_dir: request.work_dir,
            launch_dir: request.launch_dir,
            status: attempt.status,
            error: attempt.error.as_deref(),
        }
    }

    /// Writes `log.txt` in the case's work directory when it exists (a
    /// failure to write is a warning: the attempt's outcome stands).
    pub(crate) fn store(&self) {
        if !self.work_dir.is_dir() {
            return;
        }
        let path = self.work_dir.join("log.txt");
        if let Err(e) = self.write(&path) {
            crate::log::warn(&format!("Could not write {}: {e}", path.display()));
        }
    }

    /// Writes the `key: value` lines (continuation lines of a multi-line
    /// error indented by two spaces).
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        use chrono::{DateTime, Local};
        let iso = |t: SystemTime| {
            DateTime::<Local>::from(t)
                .format("%Y-%m-%dT%H:%M:%S%.6f")
                .to_string()
        };
        let host = host_info();
        let exit = self
            .exit_code
            .map_or_else(|| "None".to_string(), |c| c.to_string());
        let error = self
            .error
            .map_or_else(|| "None".to_string(), |e| e.replace('\n', "\n  "));
        let extra: String = self
            .extra
            .iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        let text = format!(
            "Command: {}\nExit code: {exit}\n{extra}Time start: {}\nTime end: {}\n\
             Execution time: {:.3} seconds\nUser: {}\nHostname: {}\n\
             Operating system: {}\nPlatform: {}\nWorking directory: {}\n\
             Original directory: {}\nStatus: {}\nError: {error}\nTimestamp: {}\n",
            self.command_line,
            iso(self.started),
            iso(self.ended),
            self.elapsed.as_secs_f64(),
            host.user,
            host.hostname,
            host.os,
            host.platform,
            self.work_dir.display(),
            self.launch_dir.display(),
            self.status.as_str(),
            DateTime::<Local>::from(self.ended).format("%a %b %e %H:%M:%S %Y"),
        );
        std::fs::write(path, text)
    }
}

/// Who and where, for `log.txt`.
pub(crate) struct HostInfo {
    pub(crate) user: String,
    pub(crate) hostname: String,
    pub(crate) os: String,
    pub(crate) platform: String,
}

/// The user (`LOGNAME`, `USER`, `LNAME`, `USERNAME`, then the password
/// database), host name, OS name and a `<os>-<release>-<machine>` string.
pub(crate) fn host_info() -> HostInfo {
    let user = ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(passwd_user)
        .unwrap_or_else(|| "unknown".to_string());
    let (os, release, machine) = uname_parts().unwrap_or_else(|| {
        (
            std::env::consts::OS.to_string(),
            String::new(),
            std::env::consts::ARCH.to_string(),
        )
    });
    let platform = [os.as_str(), release.as_str(), machine.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("-");
    HostInfo {
        user,
        hostname: hostname().unwrap_or_else(|| "unknown".to_string()),
        os,
        platform,
    }
}

/// The effective user's name from the password database.
#[cfg(unix)]
fn passwd_user() -> Option<String> {
    // SAFETY: getpwuid_r writes into `pwd` and `buf`, which outlive the
    // call; the name is copied out before they are dropped.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::geteuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[cfg(not(unix))]
fn passwd_user() -> Option<String> {
    None
}

/// The host name.
#[cfg(unix)]
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `len` bytes; one byte is kept for a
    // terminating NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(not(unix))]
fn hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

/// `(sysname, release, machine)` from `uname(2)`.
#[cfg(unix)]
fn uname_parts() -> Option<(String, String, String)> {
    // SAFETY: `uname` fills the zeroed struct; its fields are
    // NUL-terminated arrays read in place.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        let field = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        Some((field(&u.sysname), field(&u.release), field(&u.machine)))
    }
}

#[cfg(not(unix))]
fn uname_parts() -> Option<(String, String, String)> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::calculators::Cancel;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    /// A launch dir and a work dir holding `input.txt`.
    struct Dirs {
        _tmp: tempfile::TempDir,
        launch: PathBuf,
        work: PathBuf,
    }

    fn dirs() -> Dirs {
        let tmp = tempfile::tempdir().unwrap();
        let launch = tmp.path().join("launch");
        let work = tmp.path().join("work");
        fs::create_dir_all(&launch).unwrap();
        fs::create_dir_all(&work).unwrap();
        fs::write(work.join("input.txt"), "x = 1\n").unwrap();
        Dirs {
            _tmp: tmp,
            launch,
            work,
        }
    }

    fn script(dir: &Path, name: &str, body: &str) {
        let path = dir.join(name);
        fs::write(&path, format!("#!/bin/bash\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn run(calc: &ShCalculator, d: &Dirs, timeout: Option<Duration>, cancel: &Cancel) -> Attempt {
        let inputs = ["input.txt".to_string()];
        calc.run(&RunRequest {
            work_dir: &d.work,
            input_files: &inputs,
            launch_dir: &d.launch,
            timeout,
            cancel,
        })
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_default()
    }

    /// Whether `pid` is a live (not zombie) process.
    fn pid_alive(pid: i32) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => {
                let state = stat[stat.rfind(')').unwrap() + 1..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                state != "Z" && state != "X"
            }
            Err(_) => false,
        }
    }

    /// Waits (up to 15 s, for the system to reap zombies) until
    /// `kill(-pgid, 0)` fails with ESRCH.
    fn group_gone(pgid: i32) -> bool {
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            let rc = unsafe { libc::kill(-pgid, 0) };
            if rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
                return true;
            }
            if Instant::now() > until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn success_appends_input_files_and_writes_files() {
        let d = dirs();
        script(
            &d.launch,
            "calc.sh",
            "echo \"args: $*\"; cat \"$1\"; echo warn >&2",
        );
        let calc = ShCalculator::new("sh://bash calc.sh").unwrap();
        let a = run(&calc, &d, None, &Cancel::new());
        let p = d.launch.display().to_string();
        assert_eq!(a.status, AttemptStatus::Done, "{a:?}");
        assert_eq!(a.exit_code, Some(0));
        assert_eq!(a.error, None);
        assert_eq!(a.command, format!("bash {p}/calc.sh"));
        assert_eq!(a.command_line, format!("bash {p}/calc.sh input.txt"));
        assert_eq!(read(&d.work.join("out.txt")), "args: input.txt\nx = 1\n");
        assert_eq!(read(&d.work.join("err.txt")), "warn\n");
        let log = read(&d.work.join("log.txt"));
        for key in [
            "Command: bash ",
            "Exit code: 0\n",
            "Time start: ",
            "Time end: ",
            "Execution time: ",
            "User: ",
            "Hostname: ",
            "Operating system: ",
            "Platform: ",
            "Status: done\n",
            "Error: None\n",
            "Timestamp: ",
        ] {
            assert!(log.contains(key), "{key} missing in {log}");
        }
        assert!(log.contains(&format!("Working directory: {}\n", d.work.display())));
        assert!(log.contains(&format!("Original directory: {p}\n")));
        assert!(a.ended >= a.started);
    }

    #[test]
    fn local_files_lists_existing_relative_files_once() {
        let d = dirs();
        fs::create_dir_all(d.launch.join("sub")).unwrap();
        fs::write(d.launch.join("calc.sh"), "").unwrap();
        fs::write(d.launch.join("sub/run.sh"), "").unwrap();
        fs::write(d.work.join("x"), "").unwrap();
        let got = local_files(
            "bash ./calc.sh sub/run.sh calc.sh sub /abs/x ../launch/calc.sh > out.txt 'calc.sh'",
            &d.launch,
        );
        assert_eq!(got, ["calc.sh", "sub/run.sh"]);
        assert!(local_files("bash 'unclosed", &d.launch).is_empty());
    }

    #[test]
    fn rewriting_table() {
        let d = dirs();
        let l = &d.launch;
        for f in [
            "calc.sh",
            "run_simulation",
            "run.sh",
            "model.R",
            "script.py",
            "out.txt",
        ] {
            fs::write(l.join(f), "").unwrap();
        }
        fs::create_dir_all(l.join(".fz/calculators")).unwrap();
        fs::write(l.join(".fz/calculators/T.sh"), "").unwrap();
        fs::create_dir_all(l.join("data")).unwrap();
        let p = l.display().to_string();
        let inputs = ["input.txt".to_string()];
        let table: &[(&str, String)] = &[
            ("bash calc.sh", format!("bash {p}/calc.sh")),
            ("./run_simulation", format!("{p}/run_simulation")),
            (
                "bash run.sh --method=fast --tol=1e-6",
                format!("bash {p}/run.sh --method=fast --tol=1e-6"),
            ),
            (
                "bash .fz/calculators/T.sh",
                format!("bash {p}/.fz/calculators/T.sh"),
            ),
            ("python3 -c 'print(1)'", "python3 -c 'print(1)'".into()),
            ("echo hello > out.txt", "echo hello > out.txt".into()),
            ("Rscript model.R", format!("Rscript {p}/model.R")),
            ("sleep 10", "sleep 10".into()),
            ("bash calc.sh 2>&1", format!("bash {p}/calc.sh 2>&1")),
            ("bash -c \"cat calc.sh\"", "bash -c \"cat calc.sh\"".into()),
            (
                "python3 script.py arg1 3.5 $HOME",
                format!("python3 {p}/script.py arg1 3.5 $HOME"),
            ),
            (
                "cat calc.sh | wc -l; ls data/ && true",
                format!("cat {p}/calc.sh | wc -l; ls {p}/data && true"),
            ),
            (
                "bash calc.sh>out.txt 2>out.txt <calc.sh &>out.txt",
                format!("bash {p}/calc.sh>out.txt 2>out.txt <calc.sh &>out.txt"),
            ),
            (
                "bash 'calc.sh' \\calc.sh",
                "bash 'calc.sh' \\calc.sh".into(),
            ),
            (
                "echo $(cat calc.sh) \"$(ls calc.sh)\" `cat calc.sh` ${X:-calc.sh}",
                "echo $(cat calc.sh) \"$(ls calc.sh)\" `cat calc.sh` ${X:-calc.sh}".into(),
            ),
            (
                "VAR=calc.sh bash calc.sh",
                format!("VAR=calc.sh bash {p}/calc.sh"),
            ),
            (
                "cd . && bash ./calc.sh",
                format!("cd . && bash {p}/calc.sh"),
            ),
            (
                "diff <(cat calc.sh) run.sh",
                format!("diff <(cat {p}/calc.sh) {p}/run.sh"),
            ),
            ("echo 'calc.sh", "echo 'calc.sh".into()),
            (
                "bash calc.sh  # run calc.sh",
                format!("bash {p}/calc.sh  # run calc.sh"),
            ),
        ];
        for (cmd, want) in table {
            let got = build_command_line(cmd, l, &inputs);
            assert_eq!(&got.command, want, "command for {cmd}");
            assert_eq!(got.line, format!("{want} input.txt"), "line for {cmd}");
        }
        // A word naming an existing file is made absolute, whatever it is.
        fs::write(l.join("hello"), "").unwrap();
        assert_eq!(
            build_command_line("echo hello > out.txt", l, &inputs).command,
            format!("echo {p}/hello > out.txt")
        );
        // Non-ASCII names are found and quoted; escapes stay untouched.
        fs::write(l.join("é.sh"), "").unwrap();
        assert_eq!(
            build_command_line("bash é.sh \\é.sh", l, &inputs).command,
            format!("bash '{p}/é.sh' \\é.sh")
        );
        // Paths needing quotes are quoted.
        let spaced = l.join("my dir");
        fs::create_dir_all(&spaced).unwrap();
        fs::write(spaced.join("calc.sh"), "").unwrap();
        assert_eq!(
            build_command_line("bash calc.sh", &spaced, &[]).line,
            format!("bash '{p}/my dir/calc.sh' .")
        );
    }

    #[test]
    fn input_arguments_and_legacy_no_command() {
        let l = Path::new("/nonexistent-launch-dir");
        let files = [
            "input.txt".to_string(),
            "b c.txt".to_string(),
            "it's".to_string(),
        ];
        let line = build_command_line("bash run.sh", l, &files);
        assert_eq!(line.line, "bash run.sh input.txt 'b c.txt' 'it'\\''s'");
        assert_eq!(
            build_command_line("bash run.sh", l, &[]).line,
            "bash run.sh ."
        );
        let legacy = build_command_line("  ", l, &files);
        assert_eq!(legacy.command, "");
        assert_eq!(legacy.line, "./input.txt 'b c.txt' 'it'\\''s'");
        assert_eq!(build_command_line("", l, &[]).line, "./.");
        assert_eq!(
            build_command_line("", l, &["my model.sh".to_string()]).line,
            "'./my model.sh'"
        );
    }

    #[test]
    fn failing_exit_is_classified() {
        let d = dirs();
        script(&d.launch, "fail.sh", "echo start; echo boom >&2; exit 3");
        let calc = ShCalculator::new("sh://bash fail.sh").unwrap();
        let a = run(&calc, &d, None, &Cancel::new());
        assert_eq!(a.status, AttemptStatus::Failed);
        assert_eq!(a.exit_code, Some(3));
        assert_eq!(
            a.error.as_deref(),
            Some("Command failed with exit code 3. stderr: boom")
        );
        let log = read(&d.work.join("log.txt"));
        assert!(
            log.contains("Exit code: 3\n") && log.contains("Status: failed\n"),
            "{log}"
        );
        assert!(log.contains("Error: Command failed with exit code 3. stderr: boom\n"));

        let calc = ShCalculator::new("sh://no_such_command_xyz").unwrap();
        let a = run(&calc, &d, None, &Cancel::new());
        assert_eq!(a.exit_code, Some(127));
        let err = a.error.unwrap_or_default();
        assert!(
            err.starts_with("Command not found locally: 'no_such_command_xyz' (exit code 127)"),
            "{err}"
        );

        // Legacy convention: the input file itself, not executable.
        let calc = ShCalculator::new("sh://").unwrap();
        let a = run(&calc, &d, None, &Cancel::new());
        assert_eq!(a.status, AttemptStatus::Failed);
        assert_eq!(a.command, "");
        assert_eq!(a.command_line, "./input.txt");
        let err = a.error.unwrap_or_default();
        assert!(
            err.starts_with("Permission denied when executing './input.txt'"),
            "{err}"
        );
    }

    #[test]
    fn classifier_rules() {
        assert_eq!(
            classify_failure("", 2, "bash x"),
            "Command failed with exit code 2"
        );
        assert_eq!(
            classify_failure("boom\n", 3, "bash x"),
            "Command failed with exit code 3. stderr: boom"
        );
        assert!(
            classify_failure("x: Killed", 137, "bash x").starts_with("Process ran out of memory")
        );
        assert!(
            classify_failure("cat: in.dat: No such file or directory", 1, "bash x")
                .starts_with("Input file not found locally.")
        );
        assert!(classify_failure(
            "line 3: syntax error near unexpected token `fi'",
            2,
            "bash x"
        )
        .starts_with("Script syntax error in 'bash'."));
        assert!(classify_failure("$'\\r': command not found", 127, "bash x")
            .starts_with("Script line ending error"));
        assert!(classify_failure("", -11, "bash x")
            .starts_with("Process terminated by signal SIGSEGV (exit code -11)"));
        assert!(
            classify_failure("", 126, "./x").starts_with("Command './x' found but not executable")
        );
        assert!(classify_failure("No space left on device", 1, "x").starts_with("Filesystem error"));
        assert!(classify_failure("", 124, "x").starts_with("Command timed out"));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let d = dirs();
        // A grandchild that dies on SIGTERM, one that ignores it (needs
        // SIGKILL), then the script itself sleeps.
        script(
            &d.launch,
            "slow.sh",
            "awk '{print $5}' /proc/$$/stat > pgid.txt\n\
             sleep 300 &\necho $! > gc1.pid\n\
             (trap '' TERM; exec sleep 300) &\necho $! > gc2.pid\n\
             sleep 300",
        );
        let calc = ShCalculator::new("sh://bash slow.sh?timeout=1")
            .unwrap()
            .with_grace(Duration::from_millis(300));
        let t0 = Instant::now();
        let a = run(&calc, &d, calc.uri_timeout(), &Cancel::new());
        let took = t0.elapsed();
        let p = d.launch.display().to_string();
        assert_eq!(a.status, AttemptStatus::Timeout, "{a:?}");
        assert_eq!(a.exit_code, None);
        assert_eq!(
            a.error.as_deref(),
            Some(format!("Command timed out after 1 seconds: 'bash {p}/slow.sh'").as_str())
        );
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(4),
            "{took:?}"
        );
        let num = |f: &str| read(&d.work.join(f)).trim().parse::<i32>().unwrap();
        let (pgid, gc1, gc2) = (num("pgid.txt"), num("gc1.pid"), num("gc2.pid"));
        assert!(pgid > 1);
        assert!(!pid_alive(gc1), "grandchild {gc1} survived");
        assert!(!pid_alive(gc2), "TERM-ignoring grandchild {gc2} survived");
        assert!(group_gone(pgid), "process group {pgid} still exists");
        let log = read(&d.work.join("log.txt"));
        assert!(log.contains("Status: timeout\n"), "{log}");
        assert!(
            log.contains("Error: Command timed out after 1 seconds"),
            "{log}"
        );
    }

    #[test]
    fn cancel_interrupts_quickly() {
        let d = dirs();
        script(
            &d.launch,
            "long.sh",
            "sleep 300 &\necho $! > gc.pid\nsleep 300",
        );
        let calc = ShCalculator::new("sh://bash long.sh").unwrap();
        let cancel = Cancel::new();
        let t0 = Instant::now();
        let a = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                cancel.kill_running();
            });
            run(&calc, &d, Some(Duration::from_secs(60)), &cancel)
        });
        assert_eq!(a.status, AttemptStatus::Interrupted, "{a:?}");
        assert_eq!(a.error.as_deref(), Some("Calculation interrupted by user"));
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
        let gc: i32 = read(&d.work.join("gc.pid")).trim().parse().unwrap();
        assert!(!pid_alive(gc));
        assert!(read(&d.work.join("log.txt")).contains("Status: interrupted\n"));

        // Already cancelled: nothing starts.
        let d = dirs();
        let a = run(&calc, &d, None, &cancel);
        assert_eq!(a.status, AttemptStatus::Interrupted);
        assert_eq!(a.error.as_deref(), Some("Execution interrupted by user"));
        assert!(!d.work.join("out.txt").exists());
    }

    #[test]
    fn background_leftovers_are_stopped_after_exit() {
        let d = dirs();
        script(&d.launch, "bg.sh", "sleep 300 &\necho $! > gc.pid\nexit 0");
        let calc = ShCalculator::new("sh://bash bg.sh")
            .unwrap()
            .with_grace(Duration::from_millis(300));
        let a = run(&calc, &d, None, &Cancel::new());
        assert_eq!(a.status, AttemptStatus::Done);
        let gc: i32 = read(&d.work.join("gc.pid")).trim().parse().unwrap();
        assert!(!pid_alive(gc));
    }

    #[test]
    fn big_output_does_not_deadlock() {
        let d = dirs();
        script(
            &d.launch,
            "big.sh",
            "head -c 10485760 /dev/zero | tr '\\0' x\nhead -c 1048576 /dev/zero | tr '\\0' y >&2",
        );
        let calc = ShCalculator::new("sh://bash big.sh").unwrap();
        let a = run(&calc, &d, Some(Duration::from_secs(60)), &Cancel::new());
        assert_eq!(a.status, AttemptStatus::Done, "{a:?}");
        assert_eq!(
            fs::metadata(d.work.join("out.txt")).unwrap().len(),
            10_485_760
        );
        assert_eq!(
            fs::metadata(d.work.join("err.txt")).unwrap().len(),
            1_048_576
        );
    }

    #[test]
    fn concurrent_runs_are_independent() {
        let all: Vec<Dirs> = (0..3).map(|_| dirs()).collect();
        for (i, d) in all.iter().enumerate() {
            fs::write(d.work.join("input.txt"), format!("case {i}\n")).unwrap();
            script(&d.launch, "calc.sh", "sleep 0.5; cat \"$1\"; pwd");
        }
        let calc = ShCalculator::new("sh://bash calc.sh").unwrap();
        let t0 = Instant::now();
        let attempts: Vec<Attempt> = std::thread::scope(|s| {
            let handles: Vec<_> = all
                .iter()
                .map(|d| {
                    let calc = &calc;
                    s.spawn(move || run(calc, d, None, &Cancel::new()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            t0.elapsed() < Duration::from_millis(1400),
            "{:?}",
            t0.elapsed()
        );
        for (i, (a, d)) in attempts.iter().zip(&all).enumerate() {
            assert_eq!(a.status, AttemptStatus::Done, "{a:?}");
            let work = fs::canonicalize(&d.work).unwrap();
            assert_eq!(
                read(&d.work.join("out.txt")),
                format!("case {i}\n{}\n", work.display())
            );
        }
    }

    #[test]
    fn spawn_failure_is_failed_with_os_error() {
        let d = dirs();
        let missing = d.work.join("missing");
        let calc = ShCalculator::new("sh://echo hi").unwrap();
        let a = calc.run(&RunRequest {
            work_dir: &missing,
            input_files: &[],
            launch_dir: &d.launch,
            timeout: None,
            cancel: &Cancel::new(),
        });
        assert_eq!(a.status, AttemptStatus::Failed);
        assert_eq!(a.exit_code, None);
        let err = a.error.unwrap_or_default();
        assert!(err.contains("No such file or directory"), "{err}");
        assert!(!missing.exists());
    }

    #[test]
    fn uri_query_and_errors() {
        let calc = ShCalculator::new("sh://bash calc.sh?timeout=5").unwrap();
        assert_eq!(calc.command(), "bash calc.sh");
        assert_eq!(calc.uri_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(calc.display_uri(), "sh://bash calc.sh?timeout=5");
        assert_eq!(calc.grace, DEFAULT_GRACE);

        let calc = ShCalculator::new("sh://bash -c 'echo a?b'").unwrap();
        assert_eq!(calc.command(), "bash -c 'echo a?b'");
        assert_eq!(calc.uri_timeout(), None);

        let calc = ShCalculator::new("sh://").unwrap();
        assert_eq!(calc.command(), "");

        for bad in [
            "ssh://host/bash x",
            "sh://x?mem=1G",
            "sh://x?timeout=abc",
            "bash x",
        ] {
            assert!(
                matches!(ShCalculator::new(bad), Err(Error::Value(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn uri_timeout_applies_to_a_run() {
        let d = dirs();
        let calc = ShCalculator::new("sh://bash -c 'sleep 30'?timeout=0.3")
            .unwrap()
            .with_grace(Duration::from_millis(200));
        let t0 = Instant::now();
        let a = run(&calc, &d, calc.uri_timeout(), &Cancel::new());
        assert_eq!(a.status, AttemptStatus::Timeout);
        assert_eq!(
            a.error.as_deref(),
            Some("Command timed out after 0.3 seconds: 'bash -c 'sleep 30''")
        );
        assert!(t0.elapsed() < Duration::from_secs(2));
    }
}
