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
//! On timeout or cancellation the whole command tree gets SIGTERM, then,
//! after a grace period ([`ShCalculator::grace`], 5 s by default), SIGKILL;
//! the attempt returns once no live process of the tree is left. The tree
//! is the command's process group plus, on Linux, every process carrying
//! its environment tag and their descendants, so a child that called
//! `setsid` or double-forked is stopped too (see [`crate::process`]).
//! Processes the command left running in the background after it exited
//! are stopped the same way, so that nothing keeps writing into the case
//! directory.
//!
//! # Parts
//!
//! The shell-word scanner is [`words`], failure messages [`failure`],
//! `log.txt` [`log`]; process control is [`crate::process`].

pub mod failure;
pub mod log;
pub mod words;

use super::exit_codes::{self, OkExit};
use super::uri::CalculatorUri;
use super::{Attempt, AttemptStatus, Calculator, RunRequest};
use crate::{Error, Result};
use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

#[cfg(unix)]
pub(crate) use crate::process::Ended;
pub use failure::{classify_common, classify_failure, is_deterministic};
pub(crate) use failure::{format_seconds, last_lines, stderr_tail, with_stderr};
pub(crate) use log::{host_info, RunLog};
pub use words::{absolutize_paths, command_words, local_files, shell_quote};

/// Default time between SIGTERM and SIGKILL when a run is stopped.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// A local shell calculator, `sh://<command>[?timeout=N&ok_exit=0,1]`.
#[derive(Debug, Clone)]
pub struct ShCalculator {
    display: String,
    command: String,
    timeout: Option<Duration>,
    ok_exit: OkExit,
    /// Time between SIGTERM and SIGKILL when a run is stopped
    /// ([`DEFAULT_GRACE`] unless changed).
    pub grace: Duration,
}

impl ShCalculator {
    /// Parses an `sh://` URI. The command is the URI body, trimmed; it may
    /// be empty. The query keys accepted are `timeout` and `ok_exit` (see
    /// [`OkExit`]).
    ///
    /// Errors ([`Error::Value`], naming the redacted URI): a malformed URI
    /// (see [`CalculatorUri::parse`]), another scheme, or a query key other
    /// than `timeout` and `ok_exit`, a bad `ok_exit` list.
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
        if let Some(key) = uri.params.keys().find(|k| *k != exit_codes::KEY) {
            return Err(Error::Value(format!(
                "Query parameter '{key}' is not supported by sh:// calculators \
                 (only 'timeout' and 'ok_exit'): '{}'",
                uri.display
            )));
        }
        Ok(ShCalculator {
            display: uri.display.clone(),
            command: uri.body.trim().to_string(),
            timeout: uri.timeout,
            ok_exit: OkExit::from_uri(uri)?,
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
    /// Outcomes: exit 0 (or a code listed by `?ok_exit=`) → `Done`;
    /// another exit → `Failed` with the exit
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
            Ended::Exited(Ok(code)) if self.ok_exit.accepts(*code) => {
                (AttemptStatus::Done, Some(*code), Some(*code), None)
            }
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

// ---------------------------------------------------------------------------
// Process

/// Runs `line` with `bash -c` in `request.work_dir` (stdout to `out.txt`,
/// stderr to `err.txt`, stdin `/dev/null`) and waits for it under the
/// request's time limit and cancellation (also used by `slurm://`, whose
/// srun mode runs its line here).
#[cfg(unix)]
pub(crate) fn execute(line: &str, request: &RunRequest, grace: Duration) -> Ended {
    let work_dir = request.work_dir;
    let command = match crate::process::case_command(line, work_dir) {
        Ok(c) => c,
        Err(e) => return Ended::SpawnFailed(e),
    };
    let limits = crate::process::Limits {
        timeout: request.timeout,
        cancel: request.cancel,
        grace,
    };
    let what = format!("bash in {}", work_dir.display());
    let ended = crate::process::run_tree(command, &what, limits);
    if matches!(ended, Ended::Interrupted(_)) {
        crate::log::warn("Interrupt detected, the command was terminated");
    }
    ended
}

/// How the command ended (non-Unix stand-in).
#[cfg(not(unix))]
#[derive(Debug)]
pub(crate) enum Ended {
    /// Cancellation was already requested: nothing was started.
    NotStarted,
    /// The command could not be started (message).
    SpawnFailed(String),
    /// The command exited by itself.
    Exited(std::result::Result<i32, String>),
    /// The time limit expired.
    TimedOut(Option<i32>),
    /// Cancelled while running.
    Interrupted(Option<i32>),
}

/// Non-Unix systems: not supported yet.
#[cfg(not(unix))]
pub(crate) fn execute(_line: &str, _request: &RunRequest, _grace: Duration) -> Ended {
    Ended::SpawnFailed("sh:// calculators are only supported on Unix systems".to_string())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::calculators::Cancel;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

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
                "bash 'calc.sh' \\calc.sh \"calc.sh\" \"$X/calc.sh\" 'calc'.sh",
                format!("bash {p}/calc.sh \\calc.sh {p}/calc.sh \"$X/calc.sh\" 'calc'.sh"),
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
        // A path quoted whole, spaces included, is made absolute too.
        for quoted in ["'my dir/calc.sh'", "\"my dir/calc.sh\""] {
            assert_eq!(
                build_command_line(&format!("bash {quoted}"), l, &[]).command,
                format!("bash '{p}/my dir/calc.sh'")
            );
        }
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
        // 3 s: the script must have written its pid files by then, even on
        // a machine busy with the rest of the test suite.
        let calc = ShCalculator::new("sh://bash slow.sh?timeout=3")
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
            Some(format!("Command timed out after 3 seconds: 'bash {p}/slow.sh'").as_str())
        );
        assert!(
            took >= Duration::from_secs(3) && took < Duration::from_secs(9),
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
            log.contains("Error: Command timed out after 3 seconds"),
            "{log}"
        );
    }

    /// The live processes whose command line contains `mark`.
    fn marked(mark: &str) -> Vec<i32> {
        let mut found = Vec::new();
        for e in fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = fs::read(e.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(mark) && pid_alive(pid) {
                found.push(pid);
            }
        }
        found
    }

    /// A script leaving a `setsid` child and a double-forked grandchild,
    /// both tagged `mark` in their command line, then running `rest`.
    fn detaching_script(d: &Dirs, mark: &str, rest: &str) {
        script(
            &d.launch,
            "detach.sh",
            &format!(
                "setsid bash -c 'sleep 300; : {mark}' &\n\
                 ( bash -c 'sleep 300; : {mark}' & )\n\
                 while [ $(pgrep -fc {mark}) -lt 2 ]; do sleep 0.05; done\n{rest}"
            ),
        );
    }

    #[test]
    fn detached_descendants_die_at_timeout() {
        let d = dirs();
        let mark = format!("fzmark{}", crate::process::new_tag());
        detaching_script(&d, &mark, "sleep 300");
        let calc = ShCalculator::new("sh://bash detach.sh?timeout=3")
            .unwrap()
            .with_grace(Duration::from_millis(300));
        let a = run(&calc, &d, calc.uri_timeout(), &Cancel::new());
        assert_eq!(a.status, AttemptStatus::Timeout, "{a:?}");
        assert_eq!(marked(&mark), Vec::<i32>::new(), "survivors");
    }

    #[test]
    fn detached_leftovers_die_when_the_command_exits() {
        let d = dirs();
        let mark = format!("fzmark{}", crate::process::new_tag());
        detaching_script(&d, &mark, "exit 0");
        let calc = ShCalculator::new("sh://bash detach.sh")
            .unwrap()
            .with_grace(Duration::from_millis(300));
        let a = run(&calc, &d, Some(Duration::from_secs(60)), &Cancel::new());
        assert_eq!(a.status, AttemptStatus::Done, "{a:?}");
        assert_eq!(marked(&mark), Vec::<i32>::new(), "survivors");
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
