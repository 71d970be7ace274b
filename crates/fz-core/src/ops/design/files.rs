//! What `fzd` writes in the analysis directory after each iteration:
//! `X_<i>.csv`, `Y_<i>.csv` (cumulative, CSV-quoted), the files an
//! analysis calls for (`analysis_<i>.html|.json|.md|.txt`, by content
//! detection as upstream) and `results_<i>.html` (self-contained, text
//! escaped). File-writing errors are warnings: the study goes on.

use crate::algorithms::{Analysis, Objective, ObjectiveSpec, Point};
use crate::log;
use crate::report::design::design_plots;
use crate::report::html::escape;
use crate::results::write_atomic;
use crate::Value;
use regex::Regex;
use serde_json::{Map, Value as Json};
use std::path::Path;
use std::sync::OnceLock;

/// Writes `X_<i>.csv` and `Y_<i>.csv`.
pub fn write_xy(dir: &Path, i: usize, x: &[Point], y: &[Objective], spec: &ObjectiveSpec) {
    let header: Vec<String> = x
        .first()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let rows = x.iter().map(|p| {
        header
            .iter()
            .map(|k| {
                p.get(k)
                    .map_or_else(String::new, |v| Value::Float(*v).py_str())
            })
            .collect::<Vec<_>>()
    });
    write_csv(&dir.join(format!("X_{i}.csv")), &header, rows);
    let y_header: Vec<String> = if spec.multi {
        spec.expressions.clone()
    } else {
        vec!["output".to_string()]
    };
    let width = y_header.len();
    let y_rows = y.iter().map(|o| match o.values() {
        Some(v) => v.iter().map(|f| Value::Float(*f).py_str()).collect(),
        None => vec!["NA".to_string(); width],
    });
    write_csv(&dir.join(format!("Y_{i}.csv")), &y_header, y_rows);
}

/// Writes a CSV file (fields quoted where needed); a failure is warned.
pub fn write_csv(path: &Path, header: &[String], rows: impl Iterator<Item = Vec<String>>) {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut ok = w.write_record(header).is_ok();
    for row in rows {
        ok &= w.write_record(&row).is_ok();
    }
    let bytes = w.into_inner().unwrap_or_default();
    if !ok {
        log::warn(&format!("could not format {}", path.display()));
        return;
    }
    if let Err(e) = write_atomic(path, &bytes) {
        log::warn(&format!("could not write {}: {e}", path.display()));
    }
}

/// What kind of text an analysis returned (first rule that matches).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TextKind {
    /// Contains an HTML tag such as `<div` or `<table`.
    Html,
    /// Starts with `{` or `[` and parses as JSON.
    Json,
    /// Has a Markdown heading, bold line, list item, link or fence.
    Markdown,
    /// At least two `key=value` lines.
    KeyValue,
    /// Anything else.
    Plain,
}

/// Detects the kind of an analysis text, with upstream's rules (spec §7).
pub fn detect(text: &str) -> TextKind {
    static HTML: OnceLock<Option<Regex>> = OnceLock::new();
    static MD: OnceLock<Option<Regex>> = OnceLock::new();
    let html =
        HTML.get_or_init(|| Regex::new(r"(?i)<(html|div|p|h1|h2|h3|img|table|body|head)").ok());
    let md = MD.get_or_init(|| {
        Regex::new(r"(?m)^(#{1,6}\s+.+|\*\*.+\*\*|_.+_|\[.+\]\(.+\)|```.*|\* .+|\d+\. .+)$").ok()
    });
    let trimmed = text.trim();
    if html.as_ref().is_some_and(|r| r.is_match(text)) {
        return TextKind::Html;
    }
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<Json>(trimmed).is_ok()
    {
        return TextKind::Json;
    }
    if md.as_ref().is_some_and(|r| r.is_match(text)) {
        return TextKind::Markdown;
    }
    let kv: Vec<&str> = text
        .lines()
        .filter(|l| l.contains('=') && !l.trim_start().starts_with('#'))
        .collect();
    if kv.len() >= 2 && kv.iter().take(3).all(|l| l.split_once('=').is_some()) {
        return TextKind::KeyValue;
    }
    TextKind::Plain
}

/// Processes an analysis into upstream's map (`data`, and `html_file`,
/// `json_data`/`json_file`, `md_file`, `keyvalue_data`/`txt_file` or
/// `text`), writing the files it calls for as `analysis_<i>.*`.
pub fn process(dir: &Path, i: usize, analysis: &Analysis) -> Map<String, Json> {
    let mut out = Map::new();
    out.insert("data".into(), Json::Object(analysis.data.clone()));
    if let Some(html) = &analysis.html {
        let name = format!("analysis_{i}.html");
        write_text(dir, &name, html);
        out.insert("html_file".into(), Json::String(name));
    }
    let Some(text) = &analysis.text else {
        return out;
    };
    match detect(text) {
        TextKind::Html => {
            let name = format!("analysis_{i}.html");
            write_text(dir, &name, text);
            out.insert("html_file".into(), Json::String(name));
        }
        TextKind::Json => {
            let parsed: Json = serde_json::from_str(text.trim()).unwrap_or(Json::Null);
            let name = format!("analysis_{i}.json");
            let pretty = serde_json::to_string_pretty(&parsed).unwrap_or_default();
            write_text(dir, &name, &pretty);
            out.insert("json_data".into(), parsed);
            out.insert("json_file".into(), Json::String(name));
        }
        TextKind::Markdown => {
            let name = format!("analysis_{i}.md");
            write_text(dir, &name, text);
            out.insert("md_file".into(), Json::String(name));
        }
        TextKind::KeyValue => {
            let name = format!("analysis_{i}.txt");
            write_text(dir, &name, text);
            out.insert("keyvalue_data".into(), Json::Object(key_values(text)));
            out.insert("txt_file".into(), Json::String(name));
        }
        TextKind::Plain => {
            out.insert("text".into(), Json::String(text.clone()));
        }
    }
    out
}

fn key_values(text: &str) -> Map<String, Json> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), Json::String(v.trim().to_string())))
        .collect()
}

fn write_text(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Err(e) = write_atomic(&path, text.as_bytes()) {
        log::warn(&format!("could not write {}: {e}", path.display()));
    }
}

/// The evaluations so far, for `results_<i>.html`: the cumulative points,
/// their objectives and the objectives' names.
#[derive(Debug, Clone, Copy)]
pub struct Evaluations<'a> {
    /// The points evaluated, in order.
    pub x: &'a [Point],
    /// Their objectives.
    pub y: &'a [Objective],
    /// The objectives' names (the output expressions).
    pub names: &'a [String],
}

/// Writes `results_<i>.html`: summary, plots (objective per evaluation,
/// against each variable, Pareto front of the first two objectives),
/// intermediate progress (when the algorithm has an intermediate
/// analysis) and current results.
pub fn write_results_page(
    dir: &Path,
    i: usize,
    evals: Evaluations,
    tmp: Option<&Map<String, Json>>,
    current: Option<&Map<String, Json>>,
) {
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Iteration {i} Results</title>\n\
         <style>body{{font-family:sans-serif;margin:2em}}pre{{background:#f4f4f4;padding:1em}}\
         .plots{{display:flex;flex-wrap:wrap;gap:8px}}.plots svg{{border:1px solid #ddd}}</style>\n\
         </head><body>\n<h1>Algorithm Results - Iteration {i}</h1>\n"
    );
    html.push_str(&results_body(i, evals, tmp, current));
    html.push_str("</body></html>\n");
    write_text(dir, &format!("results_{i}.html"), &html);
}

/// The sections of `results_<i>.html` (also the body of `fzd --report`'s
/// page): summary, plots, intermediate progress and current results.
pub fn results_body(
    i: usize,
    evals: Evaluations,
    tmp: Option<&Map<String, Json>>,
    current: Option<&Map<String, Json>>,
) -> String {
    let y = evals.y;
    let valid = y.iter().filter(|o| o.is_valid()).count();
    let mut html = format!(
        "<h2>Summary</h2>\n<p>Total samples: {}</p>\n<p>Valid samples: {valid}</p>\n<p>Iteration: {i}</p>\n",
        y.len()
    );
    html.push_str(&design_plots(evals.x, y, evals.names));
    if let Some(tmp) = tmp.filter(|m| m.len() > 1 || m.get("data").is_some_and(non_empty)) {
        html.push_str("<h2>Intermediate Progress</h2>\n");
        section(&mut html, tmp);
    }
    if let Some(current) = current {
        html.push_str("<h2>Current Results</h2>\n");
        section(&mut html, current);
    }
    html
}

fn non_empty(v: &Json) -> bool {
    v.as_object().is_some_and(|m| !m.is_empty())
}

fn section(html: &mut String, analysis: &Map<String, Json>) {
    let links = [
        ("html_file", "📄 View HTML Analysis"),
        ("md_file", "View Markdown Analysis"),
        ("json_file", "View JSON Data"),
        ("txt_file", "View Text Data"),
    ];
    for (key, label) in links {
        if let Some(file) = analysis.get(key).and_then(Json::as_str) {
            html.push_str(&format!(
                "<p><a href=\"{}\">{label}</a></p>\n",
                escape(file)
            ));
        }
    }
    if let Some(text) = analysis.get("text").and_then(Json::as_str) {
        html.push_str(&format!("<pre>{}</pre>\n", escape(text)));
    }
    if let Some(data) = analysis.get("data").and_then(Json::as_object) {
        if !data.is_empty() {
            let lines: Vec<String> = data
                .iter()
                .map(|(k, v)| format!("{}: {}", escape(k), escape(&v.to_string())))
                .collect();
            html.push_str(&format!("<pre>{}</pre>\n", lines.join("\n")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_detection_follows_the_spec_examples() {
        assert_eq!(
            detect("<html><body><h1>R</h1></body></html>"),
            TextKind::Html
        );
        assert_eq!(detect(r#"{"mean": 42.5, "std": 3.2}"#), TextKind::Json);
        assert_eq!(
            detect("mean=42.5\nstd=3.2\nsamples=100"),
            TextKind::KeyValue
        );
        assert_eq!(
            detect("# Results\n\n## Stats\n- Mean: 42.5"),
            TextKind::Markdown
        );
        assert_eq!(detect("Mean: 42.5, Std: 3.2"), TextKind::Plain);
        assert_eq!(detect("- a\n- b"), TextKind::Plain);
        assert_eq!(detect("a=1\n# note\nb=2"), TextKind::Markdown);
    }

    #[test]
    fn processing_writes_the_files_and_keys() {
        let d = tempfile::tempdir().unwrap();
        let a = Analysis {
            text: Some("mean=42.5\nstd=3.2".into()),
            html: None,
            data: Map::new(),
        };
        let m = process(d.path(), 3, &a);
        assert_eq!(m["txt_file"], "analysis_3.txt");
        assert_eq!(m["keyvalue_data"]["mean"], "42.5");
        assert!(d.path().join("analysis_3.txt").is_file());
        assert!(!m.contains_key("text"));
        let a = Analysis {
            text: Some("plain words".into()),
            ..Analysis::default()
        };
        let m = process(d.path(), 4, &a);
        assert_eq!(m["text"], "plain words");
        assert_eq!(m["data"], Json::Object(Map::new()));
    }

    #[test]
    fn results_page_escapes_text() {
        let d = tempfile::tempdir().unwrap();
        let mut m = Map::new();
        m.insert(
            "text".into(),
            Json::String("<script>alert(1)</script>".into()),
        );
        let x: Vec<Point> = [0.5, 1.5]
            .iter()
            .map(|v| [("x".to_string(), *v)].into_iter().collect())
            .collect();
        let evals = Evaluations {
            x: &x,
            y: &[Objective::Single(1.0), Objective::Missing],
            names: &["a<b".to_string()],
        };
        write_results_page(d.path(), 1, evals, None, Some(&m));
        let html = std::fs::read_to_string(d.path().join("results_1.html")).unwrap();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("Total samples: 2") && html.contains("Valid samples: 1"));
        assert!(html.contains("<h2>Plots</h2>") && html.contains("a&lt;b per evaluation"));
        assert_eq!(html.matches("<svg").count(), 2, "per evaluation, vs x");
        let sections = ["<h2>Summary", "<h2>Plots", "<h2>Current Results"];
        let at: Vec<usize> = sections.iter().filter_map(|s| html.find(s)).collect();
        assert!(
            at.len() == 3 && at.windows(2).all(|w| w[0] < w[1]),
            "section order"
        );
    }

    #[test]
    fn xy_files_are_quoted_csv() {
        let d = tempfile::tempdir().unwrap();
        let p: Point = [("x".to_string(), 0.1), ("z".to_string(), 5.0)]
            .into_iter()
            .collect();
        let spec = ObjectiveSpec {
            expressions: vec!["max(a, b)".into(), "c".into()],
            multi: true,
        };
        write_xy(
            d.path(),
            2,
            &[p.clone(), p],
            &[Objective::Multi(vec![1.0, 2.5]), Objective::Missing],
            &spec,
        );
        let x = std::fs::read_to_string(d.path().join("X_2.csv")).unwrap();
        assert_eq!(x, "x,z\n0.1,5.0\n0.1,5.0\n");
        let y = std::fs::read_to_string(d.path().join("Y_2.csv")).unwrap();
        assert_eq!(y, "\"max(a, b)\",c\n1.0,2.5\nNA,NA\n");
    }
}
