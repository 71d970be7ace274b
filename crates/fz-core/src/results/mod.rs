//! Results of a run: the row of each finished case, the returned table, the
//! per-case bookkeeping files (`info.txt`, `history.txt`) and the
//! run-level summaries (`summary.csv`, `summary.json`), written atomically.
//!
//! This module decides columns and file formats; it does not run cases or
//! parse outputs.

pub mod journal;
pub mod lock;
pub mod place;

use crate::calculators::AttemptStatus;
use crate::design::Case;
use crate::engine::CaseAttempts;
use crate::error::{Error, Result};
use crate::format::{render_table, Format, Table};
use crate::value::Value;
use indexmap::IndexMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Final status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    /// Ran (or was found in a cache) and succeeded.
    Done,
    /// The command failed on every attempt.
    Failed,
    /// The last attempt ran out of time.
    Timeout,
    /// fz could not run or finish the case (no attempt possible, files).
    Error,
    /// Stopped by the user.
    Interrupted,
}

impl CaseStatus {
    /// The status word of tables and files.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Done => "done",
            CaseStatus::Failed => "failed",
            CaseStatus::Timeout => "timeout",
            CaseStatus::Error => "error",
            CaseStatus::Interrupted => "interrupted",
        }
    }
}

impl From<AttemptStatus> for CaseStatus {
    fn from(s: AttemptStatus) -> Self {
        match s {
            AttemptStatus::Done => CaseStatus::Done,
            AttemptStatus::Failed => CaseStatus::Failed,
            AttemptStatus::Timeout => CaseStatus::Timeout,
            AttemptStatus::Interrupted => CaseStatus::Interrupted,
        }
    }
}

/// The result of one finished case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// Position in the design.
    pub index: usize,
    /// The case's variables.
    pub vars: Case,
    /// Output values, in model order.
    pub outputs: IndexMap<String, Value>,
    /// The case directory (final place).
    pub dir: PathBuf,
    /// Calculator as written by the user (redacted), `none` if none ran.
    pub calculator: String,
    /// Final status.
    pub status: CaseStatus,
    /// Why it is not a clean success.
    pub error: Option<String>,
    /// The command run (without input arguments).
    pub command: Option<String>,
    /// Exit code of the last attempt.
    pub exit_code: Option<i32>,
    /// Number of attempts made.
    pub attempts: usize,
    /// When the first attempt started and the last ended.
    pub started: Option<SystemTime>,
    /// End of the last attempt.
    pub ended: Option<SystemTime>,
}

impl CaseResult {
    /// A result from the attempts made, before outputs are parsed.
    pub fn from_attempts(
        index: usize,
        vars: Case,
        dir: PathBuf,
        attempts: &CaseAttempts,
        calculators: &[String],
        max_attempts: usize,
    ) -> CaseResult {
        let last = attempts.last();
        let (status, error) = match last {
            Some(a) => (CaseStatus::from(a.attempt.status), a.attempt.error.clone()),
            None if calculators.is_empty() => (
                CaseStatus::Error,
                Some("No non-cache calculators available".to_string()),
            ),
            None => (
                CaseStatus::Error,
                Some(format!("No attempt made: FZ_MAX_RETRIES is {max_attempts}")),
            ),
        };
        CaseResult {
            index,
            vars,
            outputs: IndexMap::new(),
            dir,
            calculator: last
                .and_then(|a| slot_label(calculators, a.slot))
                .unwrap_or_else(|| "none".into()),
            status,
            error,
            command: last
                .map(|a| a.attempt.command.clone())
                .filter(|c| !c.is_empty()),
            exit_code: last.and_then(|a| a.attempt.exit_code),
            attempts: attempts.attempts.len(),
            started: attempts.attempts.first().map(|a| a.attempt.started),
            ended: last.map(|a| a.attempt.ended),
        }
    }

    /// Wall time from the first start to the last end.
    pub fn duration(&self) -> Option<Duration> {
        Some(
            self.ended?
                .duration_since(self.started?)
                .unwrap_or_default(),
        )
    }
}

/// The calculator of `slot` as the table shows it: as written, with `#k`
/// appended when the same text names several slots (`-c X -c X` runs two
/// cases at a time; `#1` and `#2` tell which one ran a case).
pub fn slot_label(calculators: &[String], slot: usize) -> Option<String> {
    let name = calculators.get(slot)?;
    let same = calculators.iter().filter(|c| *c == name).count();
    if same < 2 {
        return Some(name.clone());
    }
    let k = calculators[..slot].iter().filter(|c| *c == name).count() + 1;
    Some(format!("{name}#{k}"))
}

/// `path` as the table shows it: relative to `cwd` when inside it.
pub fn display_path(dir: &Path, cwd: &Path) -> String {
    match dir.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => dir.display().to_string(),
    }
}

/// The columns fz adds after the outputs in a run's table.
pub const RUN_COLUMNS: [&str; 7] = [
    "path",
    "calculator",
    "status",
    "error",
    "command",
    "exit_code",
    "attempts",
];

/// Refuses an output named like a variable or one of [`RUN_COLUMNS`]: its
/// column would overwrite the other one in the table and `summary.csv`.
pub fn check_output_names(variables: &[String], outputs: &[String]) -> Result<()> {
    for o in outputs {
        if variables.contains(o) {
            return Err(Error::Model(format!(
                "output '{o}' has the name of the variable '{o}'; rename one of them"
            )));
        }
        if RUN_COLUMNS.contains(&o.as_str()) {
            return Err(Error::Model(format!(
                "output '{o}' has the name of the table column '{o}' that fz adds; rename the output"
            )));
        }
    }
    Ok(())
}

/// The returned table: variables, outputs, `path`, `calculator`, `status`,
/// `error`, `command`, `exit_code` and `attempts` (a fixed set: upstream
/// left `exit_code` out when no case had one); map-valued
/// outputs are flattened into columns appended at the end.
pub fn build_table(
    variables: &[String],
    outputs: &[String],
    results: &[CaseResult],
    cwd: &Path,
) -> Table {
    let rows = results
        .iter()
        .map(|r| table_row(variables, outputs, r, cwd))
        .collect();
    finish_table(variables, outputs, rows)
}

/// One row of [`build_table`]'s table, before map-valued outputs are
/// flattened.
pub fn table_row(
    variables: &[String],
    outputs: &[String],
    r: &CaseResult,
    cwd: &Path,
) -> Vec<Value> {
    let mut row: Vec<Value> = variables
        .iter()
        .map(|v| r.vars.get(v).cloned().unwrap_or(Value::Null))
        .collect();
    row.extend(
        outputs
            .iter()
            .map(|o| r.outputs.get(o).cloned().unwrap_or(Value::Null)),
    );
    row.push(Value::Str(display_path(&r.dir, cwd)));
    row.push(Value::Str(r.calculator.clone()));
    row.push(Value::Str(r.status.as_str().into()));
    row.push(r.error.clone().map_or(Value::Null, Value::Str));
    row.push(r.command.clone().map_or(Value::Null, Value::Str));
    row.push(r.exit_code.map_or(Value::Null, |c| Value::Int(c.into())));
    row.push(Value::Int(r.attempts as i128));
    row
}

/// [`build_table`]'s table from rows made by [`table_row`].
pub fn finish_table(variables: &[String], outputs: &[String], rows: Vec<Vec<Value>>) -> Table {
    let mut columns: Vec<String> = variables.to_vec();
    columns.extend(outputs.iter().cloned());
    for c in &RUN_COLUMNS[..5] {
        columns.push(c.to_string());
    }
    columns.push("exit_code".into());
    columns.push("attempts".into());
    let mut table = Table { columns, rows };
    // A map-valued output becomes one column per key (`out_a`, `out_b_c`).
    crate::outputs::table::flatten_table(&mut table);
    table
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Rewrites `summary.csv` and `summary.json` in `results_dir` from `table`.
pub fn write_summaries(results_dir: &Path, table: &Table) -> Result<()> {
    write_atomic(
        &results_dir.join("summary.csv"),
        render_table(table, Format::Csv).as_bytes(),
    )?;
    let mut json = render_table(table, Format::Json);
    json.push('\n');
    write_atomic(&results_dir.join("summary.json"), json.as_bytes())
}

fn iso_seconds(t: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Local> = t.into();
    dt.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `info.txt`: Java-properties style summary of the case; `units` (the
/// model's) add `unit.<name>=<unit>` lines.
pub fn info_text(r: &CaseResult, units: &indexmap::IndexMap<String, String>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "state={}", r.status.as_str());
    let _ = writeln!(out, "calc={}", r.calculator);
    if let Some(e) = &r.error {
        let _ = writeln!(out, "error={}", e.replace('\n', " "));
    }
    if let Some(s) = r.started {
        let _ = writeln!(out, "start={}", iso_seconds(s));
    }
    if let Some(e) = r.ended {
        let _ = writeln!(out, "end={}", iso_seconds(e));
    }
    if let Some(d) = r.duration() {
        let _ = writeln!(out, "duration={:.2}", d.as_secs_f64());
    }
    for (k, v) in &r.vars {
        let _ = writeln!(out, "input.{k}={}", v.py_str().replace('\n', " "));
    }
    for (k, v) in &r.outputs {
        let _ = writeln!(out, "output.{k}={}", v.py_str().replace('\n', " "));
    }
    for (k, u) in units {
        let _ = writeln!(out, "unit.{k}={u}");
    }
    out
}

/// `history.txt`: one line per attempt, then the final state.
pub fn history_text(
    case_name: &str,
    r: &CaseResult,
    attempts: &CaseAttempts,
    calculators: &[String],
) -> String {
    let clock = |t: SystemTime| {
        let dt: chrono::DateTime<chrono::Local> = t.into();
        dt.format("%H:%M:%S").to_string()
    };
    let mut out = format!(
        "# {}\n",
        if case_name.is_empty() {
            "no_variables"
        } else {
            case_name
        }
    );
    for (k, a) in attempts.attempts.iter().enumerate() {
        let calc = calculators.get(a.slot).map_or("?", String::as_str);
        let _ = writeln!(
            out,
            "[{}] Attempt {} on {calc}: {}",
            clock(a.attempt.started),
            k + 1,
            a.attempt.command_line
        );
        let _ = write!(
            out,
            "[{}] {}",
            clock(a.attempt.ended),
            a.attempt.status.as_str()
        );
        if let Some(code) = a.attempt.exit_code {
            let _ = write!(out, " (exit code {code})");
        }
        out.push('\n');
        // Upstream's layout: the attempt's error on a line of its own.
        if let Some(e) = &a.attempt.error {
            let _ = writeln!(
                out,
                "[{}] Error: {}",
                clock(a.attempt.ended),
                e.replace('\n', " ")
            );
        }
        if let Some(note) = &a.note {
            let _ = writeln!(out, "[{}] Note: {note}", clock(a.attempt.ended));
        }
    }
    let _ = write!(out, "Case finished (status: {}", r.status.as_str());
    if let Some(d) = r.duration() {
        let _ = write!(out, ", {:.2}s", d.as_secs_f64());
    }
    out.push_str(")\n");
    if let Some(e) = &r.error {
        let _ = writeln!(out, "Error: {}", e.replace('\n', " "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculators::Attempt;
    use crate::engine::SlotAttempt;

    fn attempt(status: AttemptStatus, code: i32) -> SlotAttempt {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        SlotAttempt {
            slot: 1,
            attempt: Attempt {
                status,
                exit_code: Some(code),
                command: "bash /p/calc.sh".into(),
                command_line: "bash /p/calc.sh input.txt".into(),
                started: t,
                ended: t + Duration::from_millis(1500),
                error: (code != 0).then(|| "Command failed with exit code 2".to_string()),
                host: None,
            },
            note: None,
        }
    }

    #[test]
    fn results_from_attempts_and_table_columns() {
        let mut vars = Case::new();
        vars.insert("x".into(), Value::Int(1));
        let calcs = vec!["sh://a".to_string(), "sh://b".to_string()];
        let attempts = CaseAttempts {
            attempts: vec![attempt(AttemptStatus::Failed, 2)],
        };
        let r = CaseResult::from_attempts(
            0,
            vars.clone(),
            "/w/results/x=1".into(),
            &attempts,
            &calcs,
            5,
        );
        assert_eq!(r.calculator, "sh://b");
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(r.exit_code, Some(2));
        let none = CaseResult::from_attempts(
            1,
            vars,
            "/w/results/x=2".into(),
            &CaseAttempts::default(),
            &[],
            5,
        );
        assert_eq!(none.status, CaseStatus::Error);
        assert_eq!(none.calculator, "none");
        let t = build_table(&["x".into()], &["p".into()], &[r, none], Path::new("/w"));
        assert_eq!(
            t.columns,
            [
                "x",
                "p",
                "path",
                "calculator",
                "status",
                "error",
                "command",
                "exit_code",
                "attempts"
            ]
        );
        assert_eq!(t.rows[0][2], Value::Str("results/x=1".into()));
        assert_eq!(t.rows[1][7], Value::Null);
        // No case with an exit code: the column is there all the same.
        let cached = CaseResult::from_attempts(
            2,
            Case::new(),
            "/w/results/c".into(),
            &CaseAttempts::default(),
            &[],
            5,
        );
        let t = build_table(&[], &[], &[cached], Path::new("/w"));
        assert_eq!(t.columns[5], "exit_code");
        assert_eq!(t.rows[0][5], Value::Null);
    }

    #[test]
    fn identical_calculators_are_numbered() {
        let calcs: Vec<String> = ["sh://a", "sh://b", "sh://a"].map(String::from).into();
        let labels: Vec<_> = (0..4).map(|i| slot_label(&calcs, i)).collect();
        assert_eq!(
            labels,
            [
                Some("sh://a#1".to_string()),
                Some("sh://b".to_string()),
                Some("sh://a#2".to_string()),
                None
            ]
        );
    }

    #[test]
    fn info_and_history() {
        let mut vars = Case::new();
        vars.insert("x".into(), Value::Float(2.5));
        let attempts = CaseAttempts {
            attempts: vec![
                attempt(AttemptStatus::Failed, 2),
                attempt(AttemptStatus::Done, 0),
            ],
        };
        let calcs = vec!["sh://a".to_string(), "sh://b".to_string()];
        let r = CaseResult::from_attempts(0, vars, "/r/x=2.5".into(), &attempts, &calcs, 5);
        let units = [("x".to_string(), "m".to_string())].into_iter().collect();
        let info = info_text(&r, &units);
        assert!(info.ends_with("\nunit.x=m\n"), "{info}");
        assert!(
            info.starts_with("state=done\ncalc=sh://b\nstart="),
            "{info}"
        );
        assert!(info.contains("\ninput.x=2.5\n"));
        let h = history_text("x=2.5", &r, &attempts, &calcs);
        assert!(h.starts_with("# x=2.5\n"));
        assert_eq!(h.matches("Attempt ").count(), 2);
        assert!(
            h.contains("failed (exit code 2)\n[")
                && h.contains("] Error: Command failed with exit code 2\n"),
            "the attempt's error on a line of its own, as upstream: {h}"
        );
        assert!(h.ends_with("Case finished (status: done, 1.50s)\n"), "{h}");
        assert_eq!(
            h.matches("Error:").count(),
            1,
            "a done case ends without Error: {h}"
        );
        // A failure judged done (model "success": "outputs") says why.
        let mut accepted = attempt(AttemptStatus::Done, 1);
        accepted.attempt.error = None;
        accepted.note = Some("exit code 1 ignored: every output has a value".into());
        let one = CaseAttempts {
            attempts: vec![accepted],
        };
        let r = CaseResult::from_attempts(0, Case::new(), "/r/x".into(), &one, &calcs, 5);
        let h = history_text("x", &r, &one, &calcs);
        assert!(
            h.contains("] done (exit code 1)\n[")
                && h.contains("] Note: exit code 1 ignored: every output has a value\n"),
            "{h}"
        );
        assert!(!h.contains("Error"), "{h}");
        let failed = CaseAttempts {
            attempts: vec![attempt(AttemptStatus::Failed, 2)],
        };
        let r = CaseResult::from_attempts(0, Case::new(), "/r/x".into(), &failed, &calcs, 5);
        let h = history_text("x", &r, &failed, &calcs);
        assert!(
            h.ends_with(")\nError: Command failed with exit code 2\n"),
            "{h}"
        );
    }

    #[test]
    fn atomic_summaries() {
        let d = tempfile::tempdir().unwrap();
        let t = Table {
            columns: vec!["x".into(), "status".into()],
            rows: vec![vec![Value::Int(1), Value::Str("done".into())]],
        };
        write_summaries(d.path(), &t).unwrap();
        assert_eq!(
            fs::read_to_string(d.path().join("summary.csv")).unwrap(),
            "x,status\n1,done\n"
        );
        let j: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(d.path().join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(j[0]["status"], "done");
        let leftovers: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
