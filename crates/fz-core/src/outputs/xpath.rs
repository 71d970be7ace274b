//! `xpath://<expression> <file>` extractors (compile-and-output.md §5.6),
//! run by the system `xmllint --xpath` (libxml2), as upstream does.
//!
//! This module owns (once [`super::filter_and_file`] has split the spec
//! into the expression and the file, relative to the case directory) the
//! `count(…)` probe that tells a node-set of several nodes (a list, one
//! `xmllint` call per node) from a single node or a scalar (one value),
//! and typing each text like Python's `int()`, else `float()`, else text.
//! `xmllint` is started directly (no shell, `FZ_SHELL_PATH` first on its
//! `PATH`), stdin empty, under the output time limit. It does not decide
//! how errors are reported in the table ([`super::extract_one`] does).

use super::OutputKind;
use crate::template::literal::{parse_py_float, parse_py_int};
use crate::value::Value;
use std::path::Path;
use std::time::Duration;

/// Evaluates the `xpath://` spec `rest` on its file in `dir`: a list when
/// the expression selects several nodes, else one value. Each
/// `xmllint` call is bounded by `limit`.
pub fn evaluate(
    rest: &str,
    spec: &str,
    dir: &Path,
    limit: Option<Duration>,
) -> Result<Value, String> {
    let (expr, file) = super::filter_and_file(OutputKind::Xpath, rest, spec)?;
    let count = xmllint(&format!("count({expr})"), &file, dir, limit)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok());
    if let Some(n) = count.filter(|&n| n > 1) {
        return (1..=n)
            .map(|i| xmllint(&format!("({expr})[{i}]"), &file, dir, limit).map(|t| typed(&t)))
            .collect::<Result<Vec<Value>, String>>()
            .map(Value::List);
    }
    xmllint(&expr, &file, dir, limit).map(|t| typed(&t))
}

/// The text as Python's `int()`, else `float()`, else as it is (trimmed).
fn typed(text: &str) -> Value {
    let t = text.trim();
    parse_py_int(t)
        .or_else(|| parse_py_float(t).map(Value::Float))
        .unwrap_or_else(|| Value::Str(t.to_string()))
}

/// `xmllint --xpath <expr> <file>` in `dir`: its stdout, or a one-line
/// error (xmllint missing, its message, the time limit).
fn xmllint(expr: &str, file: &str, dir: &Path, limit: Option<Duration>) -> Result<String, String> {
    let run = super::shell::run_program("xmllint", &["--xpath", expr, file], dir, limit).map_err(
        |e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "The 'xpath://' output prefix requires the 'xmllint' executable (libxml2, \
                 Debian package libxml2-utils) to be installed and available on PATH."
                    .to_string()
            } else {
                format!("Could not run xmllint: {e}")
            }
        },
    )?;
    if run.timed_out {
        return Err(format!(
            "xmllint --xpath '{expr}' {file} timed out after {} s",
            limit.map(|l| l.as_secs_f64()).unwrap_or_default()
        ));
    }
    if run.code == Some(0) {
        return Ok(run.stdout);
    }
    let why: Vec<&str> = run
        .stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Err(format!(
        "xmllint --xpath '{expr}' {file} failed (exit code {}){}",
        run.code.unwrap_or(-1),
        if why.is_empty() {
            String::new()
        } else {
            format!(": {}", why.join("; "))
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn have_xmllint() -> bool {
        let found = std::process::Command::new("xmllint")
            .arg("--version")
            .output()
            .is_ok();
        if !found && std::env::var_os("CI").is_some() {
            panic!("CI is set but xmllint is not installed (.ci/install installs libxml2-utils)");
        }
        found
    }

    #[test]
    fn spec_words_and_typing() {
        assert_eq!(
            super::super::filter_and_file(
                OutputKind::Xpath,
                "'//a b' ignored out.xml",
                "xpath://…"
            ),
            Ok(("//a b".to_string(), "out.xml".to_string()))
        );
        assert_eq!(
            super::super::filter_and_file(OutputKind::Xpath, "//a", "xpath://  //a").unwrap_err(),
            "Invalid 'xpath://' output spec: expected an XPath expression followed by a \
             file, got 'xpath://  //a'"
        );
        assert_eq!(typed(" 007\n"), Value::Int(7));
        assert_eq!(typed("1e3"), Value::Float(1000.0));
        assert_eq!(typed("x y"), Value::Str("x y".into()));
    }

    #[test]
    fn values_lists_and_errors_from_xmllint() {
        if !have_xmllint() {
            eprintln!("skipped: xmllint is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("out.xml"),
            "<r><p>1.5</p><v>1</v><v>2</v><v>x y</v><name>foo</name></r>\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("bad.xml"), "<r><unclosed></r>\n").unwrap();
        let ev = |rest: &str| evaluate(rest, rest, dir.path(), Some(Duration::from_secs(10)));
        assert_eq!(ev("//p/text() out.xml"), Ok(Value::Float(1.5)));
        assert_eq!(ev("'string(//name)' out.xml"), Ok(Value::Str("foo".into())));
        assert_eq!(ev("'count(//v)' out.xml"), Ok(Value::Int(3)));
        assert_eq!(
            ev("//v/text() out.xml"),
            Ok(Value::List(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Str("x y".into())
            ]))
        );
        let e = ev("//nothing out.xml").unwrap_err();
        assert!(e.contains("XPath set is empty"), "{e}");
        let e = ev("//p missing.xml").unwrap_err();
        assert!(e.contains("missing.xml"), "{e}");
        let e = ev("//p bad.xml").unwrap_err();
        assert!(e.starts_with("xmllint --xpath '//p' bad.xml failed"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}
