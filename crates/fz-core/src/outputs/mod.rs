//! Reading results out of case directories: the model's `output` extractors
//! and the `fzo` table (compile-and-output.md §5).
//!
//! This module owns: which directories a path names ([`paths`]), running
//! one extractor in one directory ([`extract`], shell commands in
//! [`shell`]), and turning per-directory values into the table `fzo`
//! returns ([`table`]: directory-name variables, map flattening, column
//! order). It never changes the process working directory and never
//! writes into the directories it reads.

pub mod fastpath;
pub mod jq;
pub mod paths;
pub mod python;
pub mod shell;
pub mod table;
pub mod xpath;
pub mod yq;

use crate::log;
use crate::template::literal::cast_output;
use crate::value::Value;
use indexmap::IndexMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

pub use paths::{resolve_output_paths, OutputDir};
pub use table::build_table;

/// The name of the column listing a row's extractor failures.
pub const ERROR_COLUMN: &str = "_output_error";

/// How an output spec is evaluated (§5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A shell command (`bash://` prefix or none).
    Shell,
    /// A `python://` expression.
    Python,
    /// A `jq://` filter and file.
    Jq,
    /// A `yq://` filter and file.
    Yq,
    /// An `xpath://` expression and file.
    Xpath,
}

impl OutputKind {
    /// The kind of `spec` and the text to evaluate: leading blanks are
    /// ignored and the prefix is compared without regard to case. For
    /// `bash://` the rest, trimmed; for a bare command, `spec` unchanged.
    pub fn of(spec: &str) -> (OutputKind, &str) {
        let s = spec.trim_start();
        for (kind, prefix) in [
            (OutputKind::Python, "python://"),
            (OutputKind::Jq, "jq://"),
            (OutputKind::Yq, "yq://"),
            (OutputKind::Xpath, "xpath://"),
            (OutputKind::Shell, "bash://"),
        ] {
            if s.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            {
                return (kind, s[prefix.len()..].trim());
            }
        }
        (OutputKind::Shell, spec)
    }

    /// The prefix as documented (`python://`, …; `bash://` for shell).
    pub fn prefix(self) -> &'static str {
        match self {
            OutputKind::Shell => "bash://",
            OutputKind::Python => "python://",
            OutputKind::Jq => "jq://",
            OutputKind::Yq => "yq://",
            OutputKind::Xpath => "xpath://",
        }
    }
}

/// The outputs read from one directory: a value per output (model order)
/// and the failures, in the same order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// Output name → value (`Null` when the extractor failed).
    pub values: IndexMap<String, Value>,
    /// `Output '<name>': …` messages.
    pub errors: Vec<String>,
}

impl Extracted {
    /// The errors joined with `; `, as the `_output_error` cell shows them;
    /// `None` when every extractor succeeded.
    pub fn error_text(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| self.errors.join("; "))
    }
}

/// Runs every extractor of `outputs` (name → spec, in order) in `dir`.
/// `shown` is the directory as the user sees it (for warnings); `timeout`
/// bounds each shell command.
pub fn extract(
    dir: &Path,
    shown: &str,
    outputs: &IndexMap<String, String>,
    timeout: Option<Duration>,
) -> Extracted {
    let mut got = Extracted::default();
    for (name, spec) in outputs {
        let (value, error) = extract_one(dir, shown, name, spec, timeout);
        got.values.insert(name.clone(), value);
        got.errors.extend(error);
    }
    got
}

/// [`extract`] for every directory, several directories at a time
/// (at most twice the available parallelism); results in `dirs` order.
pub fn extract_all(
    dirs: &[OutputDir],
    outputs: &IndexMap<String, String>,
    timeout: Option<Duration>,
) -> Vec<Extracted> {
    if outputs.is_empty() {
        return vec![Extracted::default(); dirs.len()];
    }
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get() * 2)
        .min(dirs.len())
        .max(1);
    if workers == 1 {
        return dirs
            .iter()
            .map(|d| extract(&d.dir, &d.shown, outputs, timeout))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Extracted>>> = dirs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = dirs.get(i) else { break };
                let got = extract(&d.dir, &d.shown, outputs, timeout);
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(got);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| m.into_inner().ok().flatten().unwrap_or_default())
        .collect()
}

/// The filter (or XPath expression) and the file of a `jq://`, `yq://`
/// or `xpath://` spec: the first and the last of the shell-style words of
/// `rest` (the spec without its prefix; words in between are ignored, as
/// upstream does). `spec` is the whole spec, for the message.
pub fn filter_and_file(
    kind: OutputKind,
    rest: &str,
    spec: &str,
) -> Result<(String, String), String> {
    let words = shlex::split(rest).unwrap_or_default();
    match (words.first(), words.last()) {
        (Some(first), Some(file)) if words.len() >= 2 => Ok((first.clone(), file.clone())),
        _ => Err(format!(
            "Invalid '{}' output spec: expected {} followed by a file, got '{}'",
            kind.prefix(),
            if kind == OutputKind::Xpath {
                "an XPath expression"
            } else {
                "a filter"
            },
            spec.trim()
        )),
    }
}

/// What can be known of an output spec without a case directory: its
/// form (`jq://`/`yq://`/`xpath://` need a filter and a file), the jq
/// filter's syntax, `xmllint` on `PATH` for `xpath://`. `Err` is the
/// problem (for `fzl --check`); shell commands and `python://`
/// expressions are not looked into.
pub fn check_spec(spec: &str) -> Result<(), String> {
    let (kind, rest) = OutputKind::of(spec);
    match kind {
        OutputKind::Jq | OutputKind::Yq => {
            let (filter, _) = filter_and_file(kind, rest, spec)?;
            jq::check(&filter)
        }
        OutputKind::Xpath => {
            filter_and_file(kind, rest, spec)?;
            if !crate::calculators::check::on_path("xmllint") {
                return Err("xpath:// outputs need 'xmllint' on PATH (Debian package \
                            libxml2-utils)"
                    .to_string());
            }
            Ok(())
        }
        OutputKind::Python | OutputKind::Shell => Ok(()),
    }
}

/// One extractor: its value and, when it failed, the error message.
pub fn extract_one(
    dir: &Path,
    shown: &str,
    name: &str,
    spec: &str,
    timeout: Option<Duration>,
) -> (Value, Option<String>) {
    let (kind, command) = OutputKind::of(spec);
    let native = match kind {
        OutputKind::Jq => Some(jq::evaluate(command, spec, dir)),
        OutputKind::Xpath => Some(xpath::evaluate(command, spec, dir, timeout)),
        OutputKind::Python => Some(python::evaluate(command, dir, timeout)),
        OutputKind::Yq => Some(yq::evaluate(command, spec, dir)),
        OutputKind::Shell => None,
    };
    if let Some(result) = native {
        return match result {
            Ok(value) => (value, None),
            Err(e) => {
                log::warn(&format!(
                    "Warning: Error executing command for '{shown}/{name}': {e}"
                ));
                (Value::Null, Some(format!("Output '{name}': {e}")))
            }
        };
    }
    // Common grep/awk/cut pipelines are answered in-process when the answer
    // is certain (see fastpath); anything else runs in bash. With
    // FZ_SHELL_PATH the user picked their own tools: always run them.
    let own_tools = crate::config::shell_search_path().is_some();
    if let Some(stdout) = (!own_tools)
        .then(|| fastpath::evaluate(command, dir))
        .flatten()
    {
        return (cast_output(&stdout), None);
    }
    let run = match shell::run_shell(command, dir, timeout) {
        Ok(run) => run,
        Err(e) => {
            log::warn(&format!(
                "Warning: Error executing command for '{shown}/{name}': {e}"
            ));
            return (Value::Null, Some(format!("Output '{name}': {e}")));
        }
    };
    let stderr = run.stderr.trim();
    if run.timed_out {
        let secs = timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
        let mut msg = format!(
            "Output '{name}': command timed out after {secs} s ({})",
            shell::TIMEOUT_ENV
        );
        if !stderr.is_empty() {
            msg.push_str(&format!(" — {stderr}"));
        }
        log::warn(&format!("Warning: Command for '{shown}/{name}' timed out"));
        return (Value::Null, Some(msg));
    }
    if run.code == Some(0) {
        let value = cast_output(&run.stdout);
        if run.stdout.trim().is_empty() {
            let msg = if stderr.is_empty() {
                format!("Output '{name}': command returned empty output (no result produced)")
            } else {
                format!("Output '{name}': command returned empty output — {stderr}")
            };
            return (value, Some(msg));
        }
        return (value, None);
    }
    // Python reports death by signal N as the exit code -N.
    let code = run.code.or(run.signal.map(|s| -s)).unwrap_or(-1);
    let mut msg = format!("Output '{name}': command failed (exit code {code})");
    if !stderr.is_empty() {
        msg.push_str(&format!(" — {stderr}"));
    }
    log::warn(&format!(
        "Warning: Command for '{shown}/{name}' failed: {}",
        run.stderr
    ));
    (Value::Null, Some(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_prefixes() {
        let cases = [
            ("python://1+1", OutputKind::Python, "1+1"),
            ("  PYTHON:// 1+1 ", OutputKind::Python, "1+1"),
            ("jq://.a r.json", OutputKind::Jq, ".a r.json"),
            ("Yq://.a f.yaml", OutputKind::Yq, ".a f.yaml"),
            ("xpath://a b.xml", OutputKind::Xpath, "a b.xml"),
            ("Bash:// echo 1 ", OutputKind::Shell, "echo 1"),
            (" echo 1 ", OutputKind::Shell, " echo 1 "),
            ("echo python://", OutputKind::Shell, "echo python://"),
        ];
        for (spec, kind, text) in cases {
            assert_eq!(OutputKind::of(spec), (kind, text), "{spec:?}");
        }
    }

    fn outputs(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn shell_values_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("out.txt"), "val = 4.5\n").unwrap();
        std::fs::write(dir.path().join("ok.json"), r#"{"k": [1.5]}"#).unwrap();
        let got = extract(
            dir.path(),
            "d",
            &outputs(&[
                ("v", "grep val out.txt | awk '{print $3}'"),
                ("b", "bash://echo '[7]'"),
                ("missing", "cat nofile.txt"),
                ("empty", "echo"),
                ("pipe", "grep x nofile.txt | awk '{print $1}'"),
                ("sig", "kill -9 $$"),
                ("py", "python://1+1"),
                ("jq", "JQ://.a r.json"),
                ("jqok", "jq://'.k' ok.json"),
                ("multi", "printf '300\\n310\\n'"),
            ]),
            None,
        );
        let v = &got.values;
        assert_eq!(v["v"], Value::Float(4.5));
        assert_eq!(v["b"], Value::Int(7));
        assert_eq!(v["missing"], Value::Null);
        assert_eq!(v["empty"], Value::Null);
        assert_eq!(v["py"], Value::Int(2));
        assert_eq!(v["multi"], Value::Str("300\n310".into()));
        assert_eq!(v["jqok"], Value::List(vec![Value::Float(1.5)]));
        assert_eq!(
            got.errors,
            [
                "Output 'missing': command failed (exit code 1) — cat: nofile.txt: No such file or directory",
                "Output 'empty': command returned empty output (no result produced)",
                "Output 'pipe': command returned empty output — grep: nofile.txt: No such file or directory",
                "Output 'sig': command failed (exit code -9)",
                "Output 'jq': [Errno 2] No such file or directory: 'r.json'",
            ]
        );
        assert!(got.error_text().unwrap().contains("; Output 'empty'"));
    }

    #[test]
    fn timeout_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (v, e) = extract_one(
            dir.path(),
            "d",
            "slow",
            "echo 1; sleep 20",
            Some(Duration::from_millis(200)),
        );
        assert_eq!(v, Value::Null);
        assert_eq!(
            e.unwrap(),
            "Output 'slow': command timed out after 0.2 s (FZ_OUTPUT_TIMEOUT)"
        );
    }
}
