//! Objectives of `fzd`: the user's expressions (Python syntax) evaluated on
//! each result row by a real Python worker (`objective_worker.py`), whose
//! namespace holds only the row's columns and the functions of the spec
//! (`mean`, `sqrt`, `zip`…). One round trip per batch. NaN counts as
//! missing. This module does not decide which rows are evaluated.

use crate::algorithms::{Objective, ObjectiveSpec};
use crate::error::{Error, Result};
use crate::template::interp::{from_wire, to_wire, InterpreterKind};
use crate::worker::{JsonWorker, WorkerError};
use crate::Value;
use indexmap::IndexMap;

/// The worker script, run with `python3 -c`.
const WORKER: &str = include_str!("objective_worker.py");

/// One result row: column → value.
pub type Row = IndexMap<String, Value>;

/// Evaluates the objective expressions of one design.
pub struct Objectives {
    spec: ObjectiveSpec,
    worker: Option<JsonWorker>,
}

impl Objectives {
    /// Objectives for `spec` (the worker starts at the first evaluation).
    pub fn new(spec: ObjectiveSpec) -> Self {
        Objectives { spec, worker: None }
    }

    /// The expressions and whether they were given as a list.
    pub fn spec(&self) -> &ObjectiveSpec {
        &self.spec
    }

    /// Checks the expressions before anything runs. A syntax error is an
    /// error naming the expression. A name that is none of `columns` (what
    /// every row will hold: variables, outputs, run columns; `None` when
    /// only the rows will tell, as with a function model) nor a function
    /// of the namespace would fail every evaluation: a warning naming it,
    /// an error in strict mode. Bare names of known columns need no
    /// Python.
    pub fn check(&mut self, columns: Option<&[String]>) -> Result<()> {
        let is_column = |name: &str| columns.is_some_and(|c| is_known(name, c));
        let asked: Vec<String> = (self.spec.expressions.iter())
            .filter(|e| !(is_plain_name(e) && is_column(e)))
            .cloned()
            .collect();
        if asked.is_empty() {
            return Ok(());
        }
        let mut warnings = Vec::new();
        for (expr, names) in asked.iter().zip(self.names_in(&asked)?) {
            let names = names.map_err(|why| {
                Error::Value(format!(
                    "output_expression '{expr}' is not a Python expression: {why}"
                ))
            })?;
            let Some(columns) = columns else { continue };
            let unknown: Vec<&String> = names.iter().filter(|n| !is_column(n)).collect();
            if !unknown.is_empty() {
                warnings.push(unknown_names(expr, &unknown, columns));
            }
        }
        crate::ops::input::refuse_in_strict_mode(&warnings, Error::Value)?;
        for w in &warnings {
            crate::log::notice(w);
        }
        Ok(())
    }

    /// Per expression, the names it looks up (`Err`: its syntax error).
    fn names_in(
        &mut self,
        exprs: &[String],
    ) -> Result<Vec<std::result::Result<Vec<String>, String>>> {
        let request = serde_json::json!({ "check": exprs }).to_string();
        let reply = self.ask(&request)?;
        let answers = (reply.get("c").and_then(|c| c.as_array()))
            .filter(|c| c.len() == exprs.len())
            .ok_or_else(|| Error::Interpreter(format!("objective worker: no check in {reply}")))?;
        Ok(answers.iter().map(names_of).collect())
    }

    /// The objective of every row, or why it is missing.
    pub fn evaluate(&mut self, rows: &[&Row]) -> Result<Vec<(Objective, Option<String>)>> {
        let mut out: Vec<Option<(Objective, Option<String>)>> =
            rows.iter().map(|row| self.direct(row)).collect();
        let python: Vec<&Row> = rows
            .iter()
            .zip(&out)
            .filter(|(_, got)| got.is_none())
            .map(|(row, _)| *row)
            .collect();
        let mut answers = self.in_python(&python)?.into_iter();
        Ok(out
            .iter_mut()
            .map(|got| got.take().or_else(|| answers.next()))
            .map(|got| got.unwrap_or((Objective::Missing, Some("no result".to_string()))))
            .collect())
    }

    /// The objective of a row without Python, when every expression is the
    /// bare name of a numeric column (`-e f`, the common case): the value
    /// Python would compute, without its start-up. `None` sends the row to
    /// Python (other expressions, missing or non-numeric columns, whose
    /// messages Python words).
    fn direct(&self, row: &Row) -> Option<(Objective, Option<String>)> {
        let mut values = Vec::with_capacity(self.spec.expressions.len());
        for expr in &self.spec.expressions {
            if !is_plain_name(expr) {
                return None;
            }
            values.push(match row.get(expr.as_str())? {
                Value::Float(f) => *f,
                Value::Int(i) => *i as f64,
                _ => return None,
            });
        }
        Some(self.objective_of(values))
    }

    /// The objectives of `rows` evaluated by the Python worker.
    fn in_python(&mut self, rows: &[&Row]) -> Result<Vec<(Objective, Option<String>)>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let request = self.request(rows);
        let reply = self.ask(&request)?;
        let answers = reply
            .get("r")
            .and_then(|r| r.as_array())
            .filter(|r| r.len() == rows.len())
            .ok_or_else(|| {
                let why = reply
                    .get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("no results");
                Error::Interpreter(format!("objective worker: {why}"))
            })?;
        Ok(answers.iter().map(|a| self.objective(a)).collect())
    }

    fn request(&self, rows: &[&Row]) -> String {
        let mut out = String::from("{\"exprs\":");
        out.push_str(&serde_json::Value::from(self.spec.expressions.clone()).to_string());
        out.push_str(",\"rows\":[");
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            for (k, (name, value)) in row.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(name.clone()).to_string());
                out.push(':');
                out.push_str(&String::from_utf8_lossy(&to_wire(value)));
            }
            out.push('}');
        }
        out.push_str("]}");
        out
    }

    /// Starts the worker now, so that Python's start-up overlaps the first
    /// batch instead of delaying the first objectives. A failure to start
    /// is reported by the first evaluation.
    /// Bare column names need no Python (see `Objectives::direct`).
    pub fn warm_up(&mut self) {
        if self.spec.expressions.iter().all(|e| is_plain_name(e)) {
            return;
        }
        let _ = self.worker();
    }

    /// The running worker, started on first use.
    fn worker(&mut self) -> Result<&mut JsonWorker> {
        if self.worker.is_none() {
            let exe = InterpreterKind::Python.executable();
            let started = JsonWorker::start(
                &exe,
                WORKER,
                "objective worker",
                &[("PYTHONIOENCODING", "utf-8")],
            )
            .map_err(|e| {
                Error::Interpreter(format!(
                    "fzd objectives are Python expressions: {e} (set FZ_PYTHON to a python3 executable)"
                ))
            })?;
            self.worker = Some(started);
        }
        match &mut self.worker {
            Some(w) => Ok(w),
            None => Err(Error::Interpreter("objective worker: not started".into())),
        }
    }

    fn ask(&mut self, request: &str) -> Result<serde_json::Value> {
        let worker = self.worker()?;
        match worker.ask(request, None) {
            Ok(reply) => Ok(reply),
            Err(e) => {
                self.worker = None;
                Err(Error::Interpreter(match e {
                    WorkerError::Dead(m) => m,
                    WorkerError::Timeout(s) => format!("objective worker: no reply after {s} s"),
                }))
            }
        }
    }

    /// One row's answer as an objective (NaN and errors are missing).
    fn objective(&self, answer: &serde_json::Value) -> (Objective, Option<String>) {
        if let Some(e) = answer.get("e").and_then(|e| e.as_str()) {
            return (Objective::Missing, Some(e.to_string()));
        }
        let values: Vec<f64> = answer
            .get("v")
            .and_then(|v| v.as_array())
            .map(|v| {
                v.iter()
                    .map(|x| match from_wire(x) {
                        Ok(Value::Float(f)) => f,
                        Ok(Value::Int(i)) => i as f64,
                        _ => f64::NAN,
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.objective_of(values)
    }

    /// One objective from the value of each expression (NaN is missing).
    fn objective_of(&self, values: Vec<f64>) -> (Objective, Option<String>) {
        if values.len() != self.spec.expressions.len() || values.iter().any(|v| v.is_nan()) {
            return (
                Objective::Missing,
                Some("the objective is NaN (a missing output?)".to_string()),
            );
        }
        if self.spec.multi {
            (Objective::Multi(values), None)
        } else {
            (Objective::Single(values[0]), None)
        }
    }
}

/// One check answer of the worker: the names, or the syntax error.
fn names_of(answer: &serde_json::Value) -> std::result::Result<Vec<String>, String> {
    if let Some(why) = answer.get("syntax").and_then(|s| s.as_str()) {
        return Err(why.to_string());
    }
    Ok((answer.get("names").and_then(|n| n.as_array()))
        .map(|n| {
            n.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

/// Whether `name` is one of `columns`, or may be a column flattened from a
/// map output (`<output>_<key>`).
fn is_known(name: &str, columns: &[String]) -> bool {
    columns.iter().any(|c| {
        c == name
            || name
                .strip_prefix(c.as_str())
                .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// The warning for the names of `expr` that no row holds, with the
/// closest column when one is near.
fn unknown_names(expr: &str, unknown: &[&String], columns: &[String]) -> String {
    let own: std::collections::BTreeSet<String> = (columns.iter())
        .filter(|c| !crate::results::RUN_COLUMNS.contains(&c.as_str()))
        .cloned()
        .collect();
    let quoted: Vec<String> = unknown.iter().map(|n| format!("'{n}'")).collect();
    let hint = crate::template::check::closest(unknown[0], &own)
        .map(|k| format!("; did you mean '{k}'?"))
        .unwrap_or_default();
    let listed: Vec<&str> = own.iter().map(String::as_str).collect();
    format!(
        "output_expression '{expr}' uses {}, which is not a column of the results (outputs and \
         variables: {}), so no point would get an objective{hint}",
        quoted.join(", "),
        listed.join(", ")
    )
}

/// Python's keywords that look like names but are not looked up.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Whether `expr` is a bare ASCII Python name (which the worker would look
/// up in the row first).
fn is_plain_name(expr: &str) -> bool {
    let mut chars = expr.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(exprs: &[&str], multi: bool) -> ObjectiveSpec {
        ObjectiveSpec {
            expressions: exprs.iter().map(|s| s.to_string()).collect(),
            multi,
        }
    }

    fn row(pairs: &[(&str, Value)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn the_idioms_of_the_spec() {
        let mut o = Objectives::new(spec(
            &[
                "res * 2",
                "mean(a + b)",
                "sqrt(sum((x - y) ** 2 for x, y in zip(a, b)) / len(a))",
                "a[-1] if res > 0 else 0",
            ],
            true,
        ));
        let ints = |v: &[i128]| Value::List(v.iter().map(|i| Value::Int(*i)).collect());
        let r = row(&[
            ("res", Value::Float(1.5)),
            ("a", ints(&[1, 2])),
            ("b", ints(&[4, 5])),
        ]);
        let got = o.evaluate(&[&r]).unwrap();
        assert_eq!(got[0].0, Objective::Multi(vec![3.0, 3.0, 3.0, 2.0]));
    }

    #[test]
    fn errors_and_nan_are_missing_with_a_reason() {
        let mut o = Objectives::new(spec(&["series"], false));
        let r = row(&[("series", Value::List(vec![Value::Int(1), Value::Int(2)]))]);
        let nan = row(&[("series", Value::Float(f64::NAN))]);
        let none = row(&[("series", Value::Null)]);
        let got = o.evaluate(&[&r, &nan, &none]).unwrap();
        let why = got[0].1.clone().unwrap_or_default();
        assert_eq!(got[0].0, Objective::Missing);
        assert!(
            why.contains("not a single number") && why.contains("mean(series)"),
            "{why}"
        );
        assert_eq!(got[1].0, Objective::Missing);
        assert_eq!(got[2].0, Objective::Missing);
        let mut o = Objectives::new(spec(&["nope + 1"], false));
        let got = o.evaluate(&[&r]).unwrap();
        let why = got[0].1.clone().unwrap_or_default();
        assert!(
            why.starts_with("Failed to evaluate output expression 'nope + 1'"),
            "{why}"
        );
        assert!(why.contains("NameError"), "{why}");
    }

    #[test]
    fn check_reads_the_names_each_expression_looks_up() {
        let cols: Vec<String> = ["f", "curve", "x"].iter().map(|s| s.to_string()).collect();
        // Known bare names: no Python at all.
        let mut o = Objectives::new(spec(&["f", "x"], true));
        o.check(Some(&cols)).unwrap();
        assert!(o.worker.is_none());
        let mut o = Objectives::new(spec(&["f"], false));
        let names = o
            .names_in(&[
                "sqrt(sum(v ** 2 for v in curve)) + pi".to_string(),
                "(lambda a: a + f)(curve_max)".to_string(),
                "[q for q in range(3)][0] + nope".to_string(),
                "f +".to_string(),
            ])
            .unwrap();
        assert_eq!(names[0], Ok(vec!["curve".to_string()]));
        assert_eq!(names[1], Ok(vec!["curve_max".to_string(), "f".to_string()]));
        assert_eq!(names[2], Ok(vec!["nope".to_string()]));
        assert!(
            names[3]
                .as_ref()
                .is_err_and(|e| e.contains("invalid syntax")),
            "{names:?}"
        );
        // A flattened map output (curve_max) is a column; `nope` is not.
        assert!(is_known("curve_max", &cols) && !is_known("nope", &cols) && !is_known("fx", &cols));
        // Syntax errors are errors even when the columns are unknown
        // (function model); unknown names are then not judged.
        let mut o = Objectives::new(spec(&["f +"], false));
        let err = o.check(None).unwrap_err().to_string();
        assert!(
            err.starts_with("output_expression 'f +' is not a Python expression"),
            "{err}"
        );
        let mut o = Objectives::new(spec(&["nope * 2"], false));
        o.check(None).unwrap();
        o.check(Some(&cols)).unwrap();
    }

    #[test]
    fn bare_names_of_numbers_need_no_python() {
        let mut o = Objectives::new(spec(&["f", "g"], true));
        let ok = row(&[("f", Value::Float(1.5)), ("g", Value::Int(3))]);
        let nan = row(&[("f", Value::Float(f64::NAN)), ("g", Value::Int(3))]);
        o.warm_up();
        let got = o.evaluate(&[&ok, &nan]).unwrap();
        assert_eq!(got[0], (Objective::Multi(vec![1.5, 3.0]), None));
        assert_eq!(got[1].0, Objective::Missing);
        assert!(o.worker.is_none(), "no Python worker for bare names");
        // A text output, a missing column and a keyword go to Python, in
        // their place among the rows, with Python's words.
        let text = row(&[("f", Value::Str("oops".into())), ("g", Value::Int(1))]);
        let missing = row(&[("g", Value::Int(1))]);
        let got = o.evaluate(&[&ok, &text, &missing]).unwrap();
        assert_eq!(got[0].0, Objective::Multi(vec![1.5, 3.0]));
        assert_eq!(got[1].0, Objective::Missing);
        assert!(got[1].1.clone().unwrap_or_default().contains("'oops'"));
        assert!(got[2].1.clone().unwrap_or_default().contains("NameError"));
        assert!(o.worker.is_some());
        let mut o = Objectives::new(spec(&["None"], false));
        let got = o.evaluate(&[&row(&[("None", Value::Int(2))])]).unwrap();
        assert_eq!(got[0].0, Objective::Missing, "None is Python's constant");
    }

    #[test]
    fn no_builtins_beyond_the_spec() {
        let mut o = Objectives::new(spec(&["__import__('os').getpid()"], false));
        let r = row(&[]);
        let got = o.evaluate(&[&r]).unwrap();
        assert_eq!(got[0].0, Objective::Missing);
    }
}
