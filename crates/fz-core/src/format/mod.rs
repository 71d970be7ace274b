//! Rendering results for users: maps (`fzi`) and tables (`fzo`, `fzr`) as
//! json, csv, markdown, html or plain-text tables.
//!
//! This module owns the output-format names ([`Format`]) and the pieces
//! both renderers share (indented JSON as Python's `json.dumps(indent=2)`
//! writes it, CSV quoting, HTML escaping). The map renderer is in [`map`],
//! the table renderer in [`table`] (config-and-cli.md §9.4). Renderers
//! return text without a trailing newline unless the format itself ends
//! with one (table CSV); they never print.

pub mod map;
pub mod table;

pub use map::render_map;
pub use table::{render_table, Table};

use crate::value::{py_float_repr, write_json_str, Value};
use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

/// An output format of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Indented JSON.
    Json,
    /// Plain-text table (`+---+` boxes for maps, pandas `to_string` look for
    /// tables).
    Table,
    /// Comma-separated values, RFC 4180 quoting.
    Csv,
    /// GitHub pipe table (the CLI default).
    #[default]
    Markdown,
    /// HTML `<table>`.
    Html,
}

impl Format {
    /// Every format, in the order the CLI lists the choices.
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Csv,
        Format::Html,
        Format::Markdown,
        Format::Table,
    ];

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown format name; its message lists the choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFormatError(
    /// The rejected name.
    pub String,
);

impl fmt::Display for ParseFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid choice: '{}' (choose from 'json', 'csv', 'html', 'markdown', 'table')",
            self.0
        )
    }
}

impl std::error::Error for ParseFormatError {}

impl FromStr for Format {
    type Err = ParseFormatError;

    /// Parses an exact lower-case name (`json|table|csv|markdown|html`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| ParseFormatError(s.to_string()))
    }
}

/// Number of characters, as Python's `len()` counts them.
fn py_len(s: &str) -> usize {
    s.chars().count()
}

/// Python `json.dumps(value, indent=2)` (non-ASCII escaped), except that
/// NaN and infinities become `null` so the output is valid JSON. Tuples are
/// arrays.
fn json_pretty(value: &Value) -> String {
    let mut out = String::new();
    write_json_pretty(value, 0, &mut out);
    out
}

fn write_json_pretty(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) if !f.is_finite() => out.push_str("null"),
        Value::Float(f) => out.push_str(&py_float_repr(*f)),
        Value::Str(s) => write_json_str(s, out),
        Value::List(items) | Value::Tuple(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(level + 1, out);
                write_json_pretty(item, level + 1, out);
            }
            newline_indent(level, out);
            out.push(']');
        }
        Value::Map(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(level + 1, out);
                write_json_str(k, out);
                out.push_str(": ");
                write_json_pretty(v, level + 1, out);
            }
            newline_indent(level, out);
            out.push('}');
        }
    }
}

fn newline_indent(level: usize, out: &mut String) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// One CSV line (no terminator): fields holding `,`, `"`, CR or LF are
/// quoted with inner quotes doubled (RFC 4180); a line made of one empty
/// field is written `""` so that it is not an empty line.
fn csv_line(fields: &[String]) -> String {
    if fields.len() == 1 && fields[0].is_empty() {
        return "\"\"".to_string();
    }
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out
}

/// Escapes `&`, `<` and `>` for HTML text.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    #[test]
    fn format_names_round_trip() {
        let cases = [
            ("json", Ok(Format::Json)),
            ("table", Ok(Format::Table)),
            ("csv", Ok(Format::Csv)),
            ("markdown", Ok(Format::Markdown)),
            ("html", Ok(Format::Html)),
            ("JSON", Err(ParseFormatError("JSON".into()))),
            ("xml", Err(ParseFormatError("xml".into()))),
            ("", Err(ParseFormatError(String::new()))),
        ];
        for (text, want) in cases {
            let got = text.parse::<Format>();
            assert_eq!(got, want, "{text:?}");
            if let Ok(f) = got {
                assert_eq!(f.to_string(), text);
            }
        }
        assert_eq!(
            "xml".parse::<Format>().map_err(|e| e.to_string()),
            Err(
                "invalid choice: 'xml' (choose from 'json', 'csv', 'html', 'markdown', 'table')"
                    .to_string()
            )
        );
        assert_eq!(Format::default(), Format::Markdown);
    }

    /// Expected strings from Python `json.dumps(v, indent=2)`.
    #[test]
    fn pretty_json_matches_python() {
        let mut inner = IndexMap::new();
        inner.insert("k".to_string(), Value::List(vec![]));
        inner.insert("m".to_string(), Value::Map(IndexMap::new()));
        let mut map = IndexMap::new();
        map.insert(
            "a".to_string(),
            Value::List(vec![Value::Int(1), Value::Float(2.5)]),
        );
        map.insert("é".to_string(), Value::Str("ü\"\\\n😀".into()));
        map.insert("n".to_string(), Value::Map(inner));
        map.insert(
            "t".to_string(),
            Value::Tuple(vec![Value::Null, Value::Bool(true)]),
        );
        map.insert("x".to_string(), Value::Float(f64::NAN));
        let cases = [
            (Value::Map(IndexMap::new()), "{}"),
            (Value::List(vec![]), "[]"),
            (Value::Float(1e16), "1e+16"),
            (
                Value::Map(map),
                "{\n  \"a\": [\n    1,\n    2.5\n  ],\n  \"\\u00e9\": \"\\u00fc\\\"\\\\\\n\\ud83d\\ude00\",\n  \"n\": {\n    \"k\": [],\n    \"m\": {}\n  },\n  \"t\": [\n    null,\n    true\n  ],\n  \"x\": null\n}",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(json_pretty(&v), want);
        }
    }

    #[test]
    fn csv_quoting_is_rfc4180() {
        let cases: [(&[&str], &str); 6] = [
            (&["a", "b"], "a,b"),
            (&["x,y", "say \"hi\""], "\"x,y\",\"say \"\"hi\"\"\""),
            (&["line\nbreak", "cr\rx"], "\"line\nbreak\",\"cr\rx\""),
            (&[""], "\"\""),
            (&["", ""], ","),
            (&[" lead", "tab\tx"], " lead,tab\tx"),
        ];
        for (fields, want) in cases {
            let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
            assert_eq!(csv_line(&fields), want);
        }
    }
}
