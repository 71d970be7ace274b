//! The end-of-run summary of `fzr` (one line on stderr) and the exit
//! status it implies. Built from the returned table only: it must not run,
//! read case directories or change the table.

use fz_core::format::Table;
use fz_core::Value;
use std::time::Duration;

/// At most this many unfinished cases are named in the summary.
const NAMED_CASES: usize = 3;

/// At most this many characters of a case's error are quoted.
const ERROR_CHARS: usize = 60;

/// Counts of the rows of a run table, by outcome.
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    /// Done by a calculator in this run.
    pub done: usize,
    /// Done, reused from a cache.
    pub cached: usize,
    /// Not done: (status, number), in first-seen order.
    pub not_done: Vec<(String, usize)>,
}

impl Counts {
    /// Every row is done (run or from cache).
    pub fn all_done(&self) -> bool {
        self.not_done.is_empty()
    }
}

/// The text of column `name` in `row`, if the column exists and holds one.
fn cell<'a>(table: &'a Table, row: &'a [Value], name: &str) -> Option<&'a Value> {
    let col = table.columns.iter().position(|c| c == name)?;
    row.get(col)
}

/// A cell as plain text (`None` and null give "").
fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Str(s)) => s.clone(),
        Some(other) => other.py_str(),
    }
}

/// Counts the rows of `table` by status; a done row whose calculator is a
/// `cache://` one was reused.
pub fn count(table: &Table) -> Counts {
    let mut counts = Counts::default();
    for row in &table.rows {
        let status = text(cell(table, row, "status"));
        if status == "done" {
            if text(cell(table, row, "calculator")).starts_with("cache://") {
                counts.cached += 1;
            } else {
                counts.done += 1;
            }
            continue;
        }
        match counts.not_done.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => counts.not_done.push((status, 1)),
        }
    }
    counts
}

/// `12 cases: 10 done, 1 failed, 1 from cache in 3.2 s; not done: x=2
/// (failed, exit 3: …); see fz report results`. `variables` name the
/// cases; without them, the case's `path` does.
pub fn line(table: &Table, variables: &[String], elapsed: Duration, results_dir: &str) -> String {
    let counts = count(table);
    let total = table.rows.len();
    let mut parts = vec![format!("{} done", counts.done)];
    parts.extend(counts.not_done.iter().map(|(s, n)| format!("{n} {s}")));
    if counts.cached > 0 {
        parts.push(format!("{} from cache", counts.cached));
    }
    let plural = if total == 1 { "case" } else { "cases" };
    let mut out = format!(
        "{total} {plural}: {} in {:.1} s",
        parts.join(", "),
        elapsed.as_secs_f64()
    );
    if counts.all_done() {
        return out;
    }
    let unfinished: Vec<&Vec<Value>> = table
        .rows
        .iter()
        .filter(|r| text(cell(table, r, "status")) != "done")
        .collect();
    let named: Vec<String> = unfinished
        .iter()
        .take(NAMED_CASES)
        .map(|r| describe(table, r, variables))
        .collect();
    out.push_str(&format!("; not done: {}", named.join(", ")));
    if unfinished.len() > NAMED_CASES {
        out.push_str(&format!(" and {} more", unfinished.len() - NAMED_CASES));
    }
    out.push_str(&format!("; see fz report {results_dir}"));
    out
}

/// `x=2,y=a (failed, exit 3: solver diverged…)`.
fn describe(table: &Table, row: &[Value], variables: &[String]) -> String {
    let name = if variables.is_empty() {
        text(cell(table, row, "path"))
    } else {
        variables
            .iter()
            .map(|v| format!("{v}={}", text(cell(table, row, v))))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut why = text(cell(table, row, "status"));
    let code = text(cell(table, row, "exit_code"));
    if !code.is_empty() {
        why.push_str(&format!(", exit {code}"));
    }
    let error = text(cell(table, row, "error"));
    let mut first = error.lines().next().unwrap_or("").trim();
    if !code.is_empty() {
        // The exit code is shown already: keep what the command said.
        let said = format!("Command failed with exit code {code}");
        if let Some(rest) = first.strip_prefix(&said) {
            first = rest.trim_start_matches('.').trim();
            first = first.strip_prefix("stderr:").unwrap_or(first).trim();
        }
    }
    if !first.is_empty() {
        let short: String = first.chars().take(ERROR_CHARS).collect();
        let more = if short.len() < first.len() { "…" } else { "" };
        why.push_str(&format!(": {short}{more}"));
    }
    format!("{name} ({why})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[(i128, &str, &str, Option<i128>, &str)]) -> Table {
        let mut t = Table::new(
            ["x", "calculator", "status", "exit_code", "error", "path"]
                .map(String::from)
                .into(),
        );
        t.rows = rows
            .iter()
            .map(|(x, calc, status, code, error)| {
                vec![
                    Value::Int(*x),
                    Value::Str(calc.to_string()),
                    Value::Str(status.to_string()),
                    code.map_or(Value::Null, Value::Int),
                    if error.is_empty() {
                        Value::Null
                    } else {
                        Value::Str(error.to_string())
                    },
                    Value::Str(format!("results/x={x}")),
                ]
            })
            .collect();
        t
    }

    #[test]
    fn all_done_names_nothing() {
        let t = table(&[
            (1, "sh://a", "done", Some(0), ""),
            (2, "cache://", "done", None, ""),
        ]);
        let vars = vec!["x".to_string()];
        assert!(count(&t).all_done());
        assert_eq!(
            line(&t, &vars, Duration::from_millis(3210), "results"),
            "2 cases: 1 done, 1 from cache in 3.2 s"
        );
    }

    #[test]
    fn unfinished_cases_are_named_a_few_at_a_time() {
        let long = "solver diverged after a very long explanation that goes on and on and on";
        let t = table(&[
            (1, "sh://a", "done", Some(0), ""),
            (2, "sh://a", "failed", Some(3), long),
            (3, "sh://a", "timeout", None, "Timed out after 5 s"),
            (4, "sh://a", "failed", Some(1), ""),
            (5, "sh://a", "failed", Some(1), "x\ny"),
            (
                6,
                "sh://a",
                "failed",
                Some(4),
                "Command failed with exit code 4",
            ),
        ]);
        let vars = vec!["x".to_string()];
        assert!(!count(&t).all_done());
        assert_eq!(
            line(&t, &vars, Duration::from_secs(1), "res"),
            "6 cases: 1 done, 4 failed, 1 timeout in 1.0 s; not done: \
             x=2 (failed, exit 3: solver diverged after a very long explanation that goes on a…), \
             x=3 (timeout: Timed out after 5 s), x=4 (failed, exit 1) and 2 more; \
             see fz report res"
        );
        assert!(line(&t, &[], Duration::ZERO, "r").contains("not done: results/x=2 (failed"));
        let last = table(&[
            (
                6,
                "sh://a",
                "failed",
                Some(4),
                "Command failed with exit code 4",
            ),
            (
                7,
                "sh://a",
                "failed",
                Some(3),
                "Command failed with exit code 3. stderr: boom",
            ),
        ]);
        assert!(
            line(&last, &vars, Duration::ZERO, "r").ends_with(
                "not done: x=6 (failed, exit 4), x=7 (failed, exit 3: boom); see fz report r"
            ),
            "{}",
            line(&last, &vars, Duration::ZERO, "r")
        );
    }
}
