//! Gathers what a report shows from a results directory written by `fzr`:
//! the table (`summary.json`), the journal (`fz_journal.tsv`, optional),
//! and for the first case and each failed case its `info.txt` and the tail
//! of its `err.txt`. Reads only; never writes or runs anything.

use crate::error::{Error, Result};
use crate::results::journal::{self, JournalLine};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Columns `fzr` appends after the variables and outputs.
const BOOKKEEPING: [&str; 7] = [
    "path",
    "calculator",
    "status",
    "error",
    "command",
    "exit_code",
    "attempts",
];

/// How many lines of `err.txt` a failure shows.
const ERR_TAIL: usize = 10;

/// A results directory, read.
#[derive(Debug, Clone, Default)]
pub struct Study {
    /// The results directory.
    pub dir: PathBuf,
    /// Column names of the table, in order.
    pub columns: Vec<String>,
    /// The rows, one value per column (`null` where absent).
    pub rows: Vec<Vec<Json>>,
    /// The input variables (columns), in order.
    pub variables: Vec<String>,
    /// The outputs (columns), in order.
    pub outputs: Vec<String>,
    /// The journal's lines (empty when there is no journal).
    pub journal: Vec<JournalLine>,
    /// The cases that did not end `done`.
    pub failures: Vec<Failure>,
    /// Units of variables and outputs (the model's `units`, recorded as
    /// `unit.*` in each case's `info.txt`).
    pub units: BTreeMap<String, String>,
}

/// A case that did not end `done`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The case directory's name.
    pub case: String,
    /// Its final status.
    pub status: String,
    /// The error recorded (table, else `info.txt`).
    pub error: String,
    /// The last lines of its `err.txt`.
    pub err_tail: String,
}

impl Study {
    /// Reads `dir`; fails when `dir/summary.json` is missing or not a table.
    pub fn read(dir: &Path) -> Result<Study> {
        let path = dir.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound(format!(
                    "{}: not found (not a results directory written by fzr)",
                    path.display()
                ))
            } else {
                Error::io(&path, e)
            }
        })?;
        let json: Json = serde_json::from_str(&text)
            .map_err(|e| Error::Value(format!("{}: not JSON: {e}", path.display())))?;
        let (columns, rows) = table_of(&json)
            .ok_or_else(|| Error::Value(format!("{}: not a list of rows", path.display())))?;
        let mut study = Study {
            dir: dir.to_path_buf(),
            columns,
            rows,
            journal: journal::read(dir).unwrap_or_default(),
            ..Study::default()
        };
        study.split_columns();
        study.failures = study.read_failures();
        Ok(study)
    }

    /// An axis label: `name [unit]` when its unit is known, else `name`.
    pub fn label(&self, name: &str) -> String {
        match self.units.get(name) {
            Some(u) if !u.is_empty() => format!("{name} [{u}]"),
            _ => name.to_string(),
        }
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The values of column `name` as numbers (`None` where not a number).
    pub fn numbers(&self, name: &str) -> Vec<Option<f64>> {
        let Some(i) = self.column(name) else {
            return vec![None; self.rows.len()];
        };
        self.rows.iter().map(|r| number(&r[i])).collect()
    }

    /// The text of cell (`row`, `name`), empty when absent or null.
    pub fn text(&self, row: usize, name: &str) -> String {
        self.column(name)
            .and_then(|i| self.rows.get(row)?.get(i))
            .map(cell_text)
            .unwrap_or_default()
    }

    /// The case directory name of row `row` (last component of `path`).
    pub fn case_name(&self, row: usize) -> String {
        let p = self.text(row, "path");
        Path::new(&p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(p)
    }

    /// Counts of final statuses, sorted by status.
    pub fn status_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for r in 0..self.rows.len() {
            *counts.entry(self.text(r, "status")).or_insert(0) += 1;
        }
        counts
    }

    /// Splits the columns before the bookkeeping ones into variables
    /// (named `input.*` in a case's `info.txt`, else in its directory
    /// name `k=v,…`) and outputs.
    fn split_columns(&mut self) {
        let data: Vec<String> = self
            .columns
            .iter()
            .filter(|c| !BOOKKEEPING.contains(&c.as_str()))
            .cloned()
            .collect();
        let names = self.variable_names();
        let (vars, outs): (Vec<String>, Vec<String>) =
            data.into_iter().partition(|c| names.contains(c));
        self.variables = vars;
        self.outputs = outs;
    }

    /// The variables (and, on the way, the units) from the first case
    /// `info.txt` that names them.
    fn variable_names(&mut self) -> Vec<String> {
        for r in 0..self.rows.len().min(20) {
            let info = read_info(&self.dir.join(self.case_name(r)));
            let vars: Vec<String> = info
                .keys()
                .filter_map(|k| k.strip_prefix("input."))
                .map(str::to_string)
                .collect();
            if !vars.is_empty() {
                self.units = info
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("unit.")?.to_string(), v.clone())))
                    .collect();
                return vars;
            }
        }
        let name = self
            .rows
            .first()
            .map(|_| self.case_name(0))
            .unwrap_or_default();
        name.split(',')
            .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
            .collect()
    }

    fn read_failures(&self) -> Vec<Failure> {
        (0..self.rows.len())
            .filter(|&r| self.text(r, "status") != "done")
            .map(|r| {
                let case = self.case_name(r);
                let case_dir = self.dir.join(&case);
                let mut error = self.text(r, "error");
                if error.is_empty() {
                    error = read_info(&case_dir).remove("error").unwrap_or_default();
                }
                Failure {
                    status: self.text(r, "status"),
                    error,
                    err_tail: tail(&case_dir.join("err.txt"), ERR_TAIL),
                    case,
                }
            })
            .collect()
    }
}

/// Columns and rows of a JSON list of objects (column order: first seen).
fn table_of(json: &Json) -> Option<(Vec<String>, Vec<Vec<Json>>)> {
    let list = json.as_array()?;
    let mut columns: Vec<String> = Vec::new();
    for row in list {
        for k in row.as_object()?.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let rows = list
        .iter()
        .filter_map(Json::as_object)
        .map(|o| {
            columns
                .iter()
                .map(|c| o.get(c).cloned().unwrap_or(Json::Null))
                .collect()
        })
        .collect();
    Some((columns, rows))
}

/// A cell as a number: JSON numbers, and text that parses as one.
pub fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A cell as text (strings unquoted, null empty).
pub fn cell_text(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `info.txt` of a case as key → value (empty when unreadable).
fn read_info(case_dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(case_dir.join("info.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The last `n` lines of a file (empty when unreadable).
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_table_variables_and_failures() {
        let d = tempfile::tempdir().unwrap();
        let rows = r#"[{"x":1,"p":"2.5","path":"r/x=1","calculator":"sh://a","status":"done","error":null},
                       {"x":2,"p":null,"path":"r/x=2","calculator":"sh://a","status":"failed","error":"exit 2"}]"#;
        std::fs::write(d.path().join("summary.json"), rows).unwrap();
        std::fs::create_dir(d.path().join("x=2")).unwrap();
        std::fs::write(d.path().join("x=2/err.txt"), "a\nb\nboom\n").unwrap();
        let s = Study::read(d.path()).unwrap();
        assert_eq!(s.variables, ["x"]);
        assert_eq!(s.outputs, ["p"]);
        assert_eq!(s.numbers("p"), [Some(2.5), None]);
        assert_eq!(s.failures.len(), 1);
        assert_eq!(s.failures[0].case, "x=2");
        assert_eq!(s.failures[0].error, "exit 2");
        assert_eq!(s.failures[0].err_tail, "a\nb\nboom");
        assert_eq!(s.status_counts()["failed"], 1);
    }

    #[test]
    fn a_directory_without_summary_is_named() {
        let d = tempfile::tempdir().unwrap();
        let e = Study::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("summary.json") && e.contains("not found"), "{e}");
    }
}
