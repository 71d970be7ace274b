//! The map renderer used by `fzi` (config-and-cli.md §9.4 "Map (fzi)").
//!
//! JSON prints the map itself; every other format first turns it into
//! `Key`/`Value` rows: a nested map gives one `key.subkey` row per entry, a
//! list gives its items joined by `, `, anything else its Python `str()`.
//! CSV quoting follows RFC 4180 (upstream forgot to double inner quotes).

use super::{csv_line, html_escape, json_pretty, py_len, Format};
use crate::value::Value;
use indexmap::IndexMap;

/// Renders a map (the result of `fzi`) in `format`, without a trailing
/// newline. An empty map prints `{}` in JSON and `No data` otherwise.
pub fn render_map(map: &IndexMap<String, Value>, format: Format) -> String {
    if format == Format::Json {
        return json_pretty(&Value::Map(map.clone()));
    }
    let rows = key_value_rows(map);
    if rows.is_empty() {
        return "No data".to_string();
    }
    match format {
        Format::Csv => {
            let mut lines = vec!["Key,Value".to_string()];
            lines.extend(rows.into_iter().map(|(k, v)| csv_line(&[k, v])));
            lines.join("\n")
        }
        Format::Html => html(&rows),
        Format::Markdown => {
            let mut lines = vec!["| Key | Value |".to_string(), "| --- | --- |".to_string()];
            for (k, v) in &rows {
                lines.push(format!(
                    "| {} | {} |",
                    k.replace('|', "\\|"),
                    v.replace('|', "\\|")
                ));
            }
            lines.join("\n")
        }
        Format::Table | Format::Json => boxed(&rows),
    }
}

/// The `Key`/`Value` rows of a map.
fn key_value_rows(map: &IndexMap<String, Value>) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for (key, value) in map {
        match value {
            Value::Map(sub) => {
                for (sk, sv) in sub {
                    rows.push((format!("{key}.{sk}"), sv.py_str()));
                }
            }
            Value::List(items) => {
                let joined: Vec<String> = items.iter().map(Value::py_str).collect();
                rows.push((key.clone(), joined.join(", ")));
            }
            other => rows.push((key.clone(), other.py_str())),
        }
    }
    rows
}

fn html(rows: &[(String, String)]) -> String {
    let mut lines: Vec<String> = [
        "<table border=\"1\">",
        "  <thead>",
        "    <tr>",
        "      <th>Key</th>",
        "      <th>Value</th>",
        "    </tr>",
        "  </thead>",
        "  <tbody>",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (k, v) in rows {
        lines.push("    <tr>".to_string());
        lines.push(format!("      <td>{}</td>", html_escape(k)));
        lines.push(format!("      <td>{}</td>", html_escape(v)));
        lines.push("    </tr>".to_string());
    }
    lines.push("  </tbody>".to_string());
    lines.push("</table>".to_string());
    lines.join("\n")
}

/// `+-----+-------+` box table, cells left-aligned.
fn boxed(rows: &[(String, String)]) -> String {
    let kw = rows.iter().map(|(k, _)| py_len(k)).fold(3, usize::max);
    let vw = rows.iter().map(|(_, v)| py_len(v)).fold(5, usize::max);
    let sep = format!("+{}+{}+", "-".repeat(kw + 2), "-".repeat(vw + 2));
    let line = |k: &str, v: &str| format!("| {} | {} |", ljust(k, kw), ljust(v, vw));
    let mut lines = vec![sep.clone(), line("Key", "Value"), sep.clone()];
    for (k, v) in rows {
        lines.push(line(k, v));
    }
    lines.push(sep);
    lines.join("\n")
}

/// Python `str.ljust(width)`.
fn ljust(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    for _ in py_len(s)..width {
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> IndexMap<String, Value> {
        // Same content as the upstream run: fzi on a template with these
        // defaults (plus a nested map, which fzi can return for defaults
        // like `{'k': 1}` under other delimiters).
        let mut m = IndexMap::new();
        m.insert("R".to_string(), Value::Str("8.314  # gas|const".into()));
        m.insert("a".to_string(), Value::Str("x,y".into()));
        m.insert(
            "b".to_string(),
            Value::List(vec![Value::Int(1), Value::Int(2)]),
        );
        m.insert("c".to_string(), Value::Str("say \"hi\"".into()));
        m.insert("d".to_string(), Value::Null);
        m.insert("e".to_string(), Value::Str("é<&>".into()));
        m.insert("f".to_string(), Value::Float(1.5e300));
        m.insert("g".to_string(), Value::Bool(true));
        m.insert("i".to_string(), Value::Tuple(vec![]));
        m.insert("j".to_string(), Value::List(vec![]));
        m.insert("l".to_string(), Value::Str("tab\tx".into()));
        let mut sub = IndexMap::new();
        sub.insert("k".to_string(), Value::Int(1));
        sub.insert(
            "j".to_string(),
            Value::List(vec![Value::Int(1), Value::Str("z".into())]),
        );
        m.insert("n".to_string(), Value::Map(sub));
        m.insert(
            "s".to_string(),
            Value::List(vec![Value::Str("p".into()), Value::Float(2.0), Value::Null]),
        );
        m
    }

    /// Expected outputs produced by upstream `fzi --format <f>` (and, for
    /// the nested map and string list rows, upstream `format_output`),
    /// except CSV where inner quotes are now doubled.
    #[test]
    fn renders_like_upstream_fzi() {
        let m = sample();
        let cases = [
            (
                Format::Json,
                r#"{
  "R": "8.314  # gas|const",
  "a": "x,y",
  "b": [
    1,
    2
  ],
  "c": "say \"hi\"",
  "d": null,
  "e": "\u00e9<&>",
  "f": 1.5e+300,
  "g": true,
  "i": [],
  "j": [],
  "l": "tab\tx",
  "n": {
    "k": 1,
    "j": [
      1,
      "z"
    ]
  },
  "s": [
    "p",
    2.0,
    null
  ]
}"#,
            ),
            (
                Format::Csv,
                "Key,Value\nR,8.314  # gas|const\na,\"x,y\"\nb,\"1, 2\"\nc,\"say \"\"hi\"\"\"\nd,None\ne,é<&>\nf,1.5e+300\ng,True\ni,()\nj,\nl,tab\tx\nn.k,1\nn.j,\"[1, 'z']\"\ns,\"p, 2.0, None\"",
            ),
            (
                Format::Table,
                "+-----+--------------------+
| Key | Value              |
+-----+--------------------+
| R   | 8.314  # gas|const |
| a   | x,y                |
| b   | 1, 2               |
| c   | say \"hi\"           |
| d   | None               |
| e   | é<&>               |
| f   | 1.5e+300           |
| g   | True               |
| i   | ()                 |
| j   |                    |
| l   | tab\tx              |
| n.k | 1                  |
| n.j | [1, 'z']           |
| s   | p, 2.0, None       |
+-----+--------------------+",
            ),
            (
                Format::Markdown,
                "| Key | Value |
| --- | --- |
| R | 8.314  # gas\\|const |
| a | x,y |
| b | 1, 2 |
| c | say \"hi\" |
| d | None |
| e | é<&> |
| f | 1.5e+300 |
| g | True |
| i | () |
| j |  |
| l | tab\tx |
| n.k | 1 |
| n.j | [1, 'z'] |
| s | p, 2.0, None |",
            ),
            (
                Format::Html,
                "<table border=\"1\">
  <thead>
    <tr>
      <th>Key</th>
      <th>Value</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <td>R</td>
      <td>8.314  # gas|const</td>
    </tr>
    <tr>
      <td>a</td>
      <td>x,y</td>
    </tr>
    <tr>
      <td>b</td>
      <td>1, 2</td>
    </tr>
    <tr>
      <td>c</td>
      <td>say \"hi\"</td>
    </tr>
    <tr>
      <td>d</td>
      <td>None</td>
    </tr>
    <tr>
      <td>e</td>
      <td>é&lt;&amp;&gt;</td>
    </tr>
    <tr>
      <td>f</td>
      <td>1.5e+300</td>
    </tr>
    <tr>
      <td>g</td>
      <td>True</td>
    </tr>
    <tr>
      <td>i</td>
      <td>()</td>
    </tr>
    <tr>
      <td>j</td>
      <td></td>
    </tr>
    <tr>
      <td>l</td>
      <td>tab\tx</td>
    </tr>
    <tr>
      <td>n.k</td>
      <td>1</td>
    </tr>
    <tr>
      <td>n.j</td>
      <td>[1, 'z']</td>
    </tr>
    <tr>
      <td>s</td>
      <td>p, 2.0, None</td>
    </tr>
  </tbody>
</table>",
            ),
        ];
        for (format, want) in cases {
            assert_eq!(render_map(&m, format), want, "format {format}");
        }
    }

    #[test]
    fn empty_map_and_special_cases() {
        let empty = IndexMap::new();
        let cases = [
            (Format::Json, "{}"),
            (Format::Csv, "No data"),
            (Format::Table, "No data"),
            (Format::Markdown, "No data"),
            (Format::Html, "No data"),
        ];
        for (format, want) in cases {
            assert_eq!(render_map(&empty, format), want);
        }
        // Only an empty nested map: no rows at all.
        let mut only_empty = IndexMap::new();
        only_empty.insert("m".to_string(), Value::Map(IndexMap::new()));
        assert_eq!(render_map(&only_empty, Format::Csv), "No data");
        assert_eq!(render_map(&only_empty, Format::Json), "{\n  \"m\": {}\n}");
        // NaN is not valid JSON: null.
        let mut nan = IndexMap::new();
        nan.insert("x".to_string(), Value::Float(f64::NAN));
        nan.insert("y".to_string(), Value::Float(f64::NEG_INFINITY));
        assert_eq!(
            render_map(&nan, Format::Json),
            "{\n  \"x\": null,\n  \"y\": null\n}"
        );
        assert_eq!(render_map(&nan, Format::Csv), "Key,Value\nx,nan\ny,-inf");
        // Keys are quoted/escaped like values.
        let mut keys = IndexMap::new();
        keys.insert("a,b|<c>".to_string(), Value::Str("v\"w".into()));
        let cases = [
            (Format::Csv, "Key,Value\n\"a,b|<c>\",\"v\"\"w\""),
            (Format::Markdown, "| Key | Value |\n| --- | --- |\n| a,b\\|<c> | v\"w |"),
            (
                Format::Table,
                "+---------+-------+\n| Key     | Value |\n+---------+-------+\n| a,b|<c> | v\"w   |\n+---------+-------+",
            ),
        ];
        for (format, want) in cases {
            assert_eq!(render_map(&keys, format), want);
        }
        assert!(render_map(&keys, Format::Html).contains("      <td>a,b|&lt;c&gt;</td>\n"));
    }
}
