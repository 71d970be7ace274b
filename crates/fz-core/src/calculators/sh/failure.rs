//! Failure messages of local and remote commands: a human hint from the
//! exit code and the tail of stderr (command not found, permission denied,
//! syntax error, missing input, memory, …), and whether such a failure is
//! deterministic, i.e. would fail again on the same calculator.
//!
//! Hints only: the raw exit code stays in the attempt. This module does
//! not run anything nor decide retries (the engine asks
//! [`is_deterministic`]).

use std::path::Path;
use std::time::Duration;

/// Lines of `err.txt` quoted in failure messages.
const STDERR_TAIL_LINES: usize = 20;

/// Bytes read from the end of `err.txt` for failure messages.
const STDERR_TAIL_BYTES: u64 = 64 * 1024;

/// A human message for a command that exited with `exit_code` (negative:
/// killed by that signal), from the tail of its stderr — a hint only; the
/// raw code is kept in [`crate::calculators::Attempt::exit_code`].
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
    if let Some(path) = missing_script(stderr, exit_code) {
        return Some(format!(
            "Script or file not found: '{path}' (exit code 127). Check the path \
             (relative paths are taken from the directory fz was started in)."
        ));
    }
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

/// The script bash could not open, from `<shell>: <path>: No such file or
/// directory` with exit code 127 (`bash missing.sh`).
fn missing_script(stderr: &str, exit_code: i32) -> Option<&str> {
    if exit_code != 127 {
        return None;
    }
    stderr.lines().find_map(|line| {
        let before = line
            .trim_end()
            .strip_suffix(": No such file or directory")?;
        let (shell, path) = before.split_once(": ")?;
        // `bash: line 1: ./run.sh: …` when the command runs it directly.
        let path = match path.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
            Some((n, rest)) if n.bytes().all(|c| c.is_ascii_digit()) => rest,
            _ => path,
        };
        let shell = shell.rsplit('/').next().unwrap_or(shell);
        let is_shell = matches!(shell, "bash" | "sh" | "dash" | "zsh" | "ksh");
        (is_shell && !path.is_empty()).then_some(path)
    })
}

/// Beginnings of the hints for failures that the same command would meet
/// again on the same calculator: retrying there cannot help.
const DETERMINISTIC: &[&str] = &[
    "Command not found",
    "Script or file not found",
    "Permission denied when executing",
    "Script syntax error",
    "Input file not found",
    "Bad interpreter",
    "Cannot execute",
    "Script line ending error",
];

/// Whether a failure hint (from [`classify_failure`] or the remote
/// classifiers) says the command cannot succeed on this calculator: not
/// found, not executable, permission denied, syntax error, missing input.
pub fn is_deterministic(hint: &str) -> bool {
    DETERMINISTIC.iter().any(|p| hint.starts_with(p))
        || (hint.starts_with("Command '") && hint.contains("found but not executable"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scripts_are_named_and_deterministic() {
        let hint = classify_failure(
            "bash: missing.sh: No such file or directory",
            127,
            "bash missing.sh",
        );
        assert!(
            hint.starts_with("Script or file not found: 'missing.sh' (exit code 127)"),
            "{hint}"
        );
        assert!(is_deterministic(&hint));
        let hint = classify_failure(
            "bash: line 1: ./run.sh: No such file or directory",
            127,
            "./run.sh",
        );
        assert!(
            hint.starts_with("Script or file not found: './run.sh'"),
            "{hint}"
        );
        for (stderr, code) in [
            ("bash: line 1: foo: command not found", 127),
            ("x: Permission denied", 126),
            ("line 3: syntax error near unexpected token `fi'", 2),
            ("cat: in.dat: No such file or directory", 1),
            ("", 126),
        ] {
            let hint = classify_failure(stderr, code, "./x");
            assert!(is_deterministic(&hint), "{hint}");
        }
        for (stderr, code) in [("boom", 3), ("", 1), ("x: Killed", 137), ("", -11)] {
            let hint = classify_failure(stderr, code, "./x");
            assert!(!is_deterministic(&hint), "{hint}");
        }
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
}
