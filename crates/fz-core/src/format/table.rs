//! The table renderer used by `fzo` and `fzr` (config-and-cli.md §9.4
//! "Table (fzo, fzr)").
//!
//! Upstream hands a pandas `DataFrame` to pandas (`to_string`, `to_csv`,
//! `to_html`) and to `tabulate` (`to_markdown`); this module reproduces
//! what they print, with two deliberate differences that follow from the
//! port keeping every cell's own type: a missing value is `null` (never
//! pandas' `NaN`), and integers stay integers in columns that also hold
//! floats or missing values. The column typing rules (which cells make a
//! column numeric, how floats of a column share one layout) are those of
//! pandas and tabulate.

use super::{
    csv_line, html_escape, json_pretty, newline_indent, py_len, write_json_pretty, write_json_str,
    Format,
};
use crate::template::literal::{parse_py_float, parse_py_int};
use crate::value::{py_float_repr, Value};
use indexmap::IndexMap;

/// A result table: named columns and rows of cells.
///
/// A row shorter than `columns` is padded with `Null`; cells beyond the
/// last column are ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column names, in display order.
    pub columns: Vec<String>,
    /// Rows of cells, one cell per column.
    pub rows: Vec<Vec<Value>>,
}

static NULL: Value = Value::Null;

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<String>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// The cell at (`row`, `col`), `Null` when the row is too short or the
    /// position does not exist.
    pub fn cell(&self, row: usize, col: usize) -> &Value {
        self.rows.get(row).and_then(|r| r.get(col)).unwrap_or(&NULL)
    }

    /// The cells of one column, top to bottom.
    fn column(&self, col: usize) -> Vec<&Value> {
        (0..self.rows.len()).map(|r| self.cell(r, col)).collect()
    }
}

/// Renders `table` in `format`.
///
/// * `Json`: list of row objects, 2-space indent, `null` for missing cells
///   and non-finite floats;
/// * `Csv`: header then rows, RFC 4180 quoting, missing → empty field,
///   lists as Python text; every line (the last one too) ends with `\n`,
///   as pandas writes it;
/// * `Table`: pandas `to_string(index=False)`;
/// * `Markdown`: pandas `to_markdown(index=False)` (a tabulate pipe table);
/// * `Html`: pandas `to_html(index=False)`.
///
/// Other formats have no trailing newline.
pub fn render_table(table: &Table, format: Format) -> String {
    match format {
        Format::Json => json(table),
        Format::Csv => csv(table),
        Format::Table => plain(table),
        Format::Markdown => markdown(table),
        Format::Html => html(table),
    }
}

// ---------------------------------------------------------------------------
// JSON and CSV
// ---------------------------------------------------------------------------

fn json(table: &Table) -> String {
    let mut seen = std::collections::HashSet::new();
    if !table.columns.iter().all(|c| seen.insert(c.as_str())) {
        // Repeated column names: a JSON object keeps the last cell of a
        // name at the place of its first; build the objects to get that.
        let rows: Vec<Value> = (0..table.rows.len())
            .map(|r| {
                let mut obj = IndexMap::new();
                for (c, name) in table.columns.iter().enumerate() {
                    obj.insert(name.clone(), table.cell(r, c).clone());
                }
                Value::Map(obj)
            })
            .collect();
        return json_pretty(&Value::List(rows));
    }
    // Written row by row, the same text as `json_pretty` of a list of row
    // objects without building that copy of the table (a large run's
    // summary is rewritten while it runs).
    if table.rows.is_empty() {
        return "[]".to_string();
    }
    let mut out = String::from("[");
    for r in 0..table.rows.len() {
        if r > 0 {
            out.push(',');
        }
        newline_indent(1, &mut out);
        if table.columns.is_empty() {
            out.push_str("{}");
            continue;
        }
        out.push('{');
        for (c, name) in table.columns.iter().enumerate() {
            if c > 0 {
                out.push(',');
            }
            newline_indent(2, &mut out);
            write_json_str(name, &mut out);
            out.push_str(": ");
            write_json_pretty(table.cell(r, c), 2, &mut out);
        }
        newline_indent(1, &mut out);
        out.push('}');
    }
    out.push_str("\n]");
    out
}

fn csv(table: &Table) -> String {
    let mut out = csv_line(&table.columns);
    out.push('\n');
    for r in 0..table.rows.len() {
        let fields: Vec<String> = (0..table.columns.len())
            .map(|c| csv_cell(table.cell(r, c)))
            .collect();
        out.push_str(&csv_line(&fields));
        out.push('\n');
    }
    out
}

/// A cell as pandas `to_csv` writes it.
fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Float(f) if f.is_nan() => String::new(),
        Value::Float(f) => py_float_repr(*f),
        other => other.py_str(),
    }
}

// ---------------------------------------------------------------------------
// pandas cell formatting (to_string, to_html)
// ---------------------------------------------------------------------------

/// How pandas would type a column holding these cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Only integers, nothing missing (`int64`).
    Int,
    /// Numbers with at least one float or missing value (`float64`).
    Float,
    /// Only booleans, nothing missing (`bool`).
    Bool,
    /// Anything else (`object`).
    Object,
}

fn column_kind(cells: &[&Value]) -> Kind {
    if cells.is_empty() {
        return Kind::Object;
    }
    if cells.iter().all(|v| matches!(v, Value::Bool(_))) {
        return Kind::Bool;
    }
    if cells.iter().all(|v| matches!(v, Value::Int(_))) {
        return Kind::Int;
    }
    let numeric = cells
        .iter()
        .all(|v| matches!(v, Value::Int(_) | Value::Float(_) | Value::Null));
    let some_number = cells
        .iter()
        .any(|v| matches!(v, Value::Int(_) | Value::Float(_)));
    if numeric && some_number {
        Kind::Float
    } else {
        Kind::Object
    }
}

/// The display strings of one column, before justification, and whether
/// pandas treats the column as numeric (its header then gets a leading
/// space in `to_string`). With `exact`, floats are written in their
/// shortest round-trip form (`1.03e-05`, `0.30000000000000004`) instead of
/// pandas' six decimals, so no digit is lost.
fn pandas_column(cells: &[&Value], exact: bool) -> (Vec<String>, bool) {
    let kind = column_kind(cells);
    let strings = match kind {
        Kind::Int | Kind::Bool => cells.iter().map(|v| v.py_str()).collect(),
        Kind::Float => {
            let floats: Vec<f64> = cells
                .iter()
                .filter_map(|v| match v {
                    Value::Float(f) => Some(*f),
                    _ => None,
                })
                .collect();
            let formatted = if exact {
                floats
                    .iter()
                    .map(|f| match f.is_nan() {
                        true => "NaN".to_string(),
                        false => Value::Float(*f).py_str(),
                    })
                    .collect()
            } else {
                pandas_floats(&floats)
            };
            let mut formatted = formatted.into_iter();
            cells
                .iter()
                .map(|v| match v {
                    Value::Float(_) => formatted.next().unwrap_or_default(),
                    Value::Int(i) => i.to_string(),
                    _ => "None".to_string(),
                })
                .collect()
        }
        Kind::Object => cells.iter().map(|v| pandas_object_cell(v)).collect(),
    };
    (strings, kind != Kind::Object)
}

/// pandas' float column layout: six decimals with the common trailing
/// zeros removed, or `d.dddddde±XX` for everyone when a value is tiny (or
/// huge and the fixed layout too wide).
fn pandas_floats(vals: &[f64]) -> Vec<String> {
    let fixed: Vec<String> = vals
        .iter()
        .map(|v| {
            if v.is_nan() {
                "NaN".to_string()
            } else {
                format!("{v:.6}")
            }
        })
        .collect();
    let fixed = trim_zeros_float(fixed);
    let too_long = fixed.iter().map(|s| py_len(s)).max().unwrap_or(0) > 12;
    let has_large = vals.iter().any(|v| v.abs() > 1e6);
    let has_small = vals.iter().any(|v| v.abs() < 1e-6 && v.abs() > 0.0);
    if has_small || (too_long && has_large) {
        let sci = vals
            .iter()
            .map(|v| {
                if v.is_nan() {
                    "NaN".to_string()
                } else {
                    py_sci(*v, 6)
                }
            })
            .collect();
        return trim_zeros_float(sci);
    }
    fixed
}

/// Python `format(v, '.<prec>e')`: exponent with a sign and at least two
/// digits.
fn py_sci(v: f64, prec: usize) -> String {
    if !v.is_finite() {
        return py_nonfinite(v);
    }
    let s = format!("{v:.prec$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

fn py_nonfinite(v: f64) -> String {
    if v.is_nan() {
        "nan".to_string()
    } else if v > 0.0 {
        "inf".to_string()
    } else {
        "-inf".to_string()
    }
}

/// Does `s` look like `^\s*[+-]?[0-9]+\.[0-9]*$`?
fn is_decimal_number(s: &str) -> bool {
    let t = s.trim_start();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    match t.split_once('.') {
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// pandas `_trim_zeros_float`: drop trailing zeros from every decimal
/// number while all of them end in `0`, keeping one digit after the point.
fn trim_zeros_float(mut strs: Vec<String>) -> Vec<String> {
    let is_num: Vec<bool> = strs.iter().map(|s| is_decimal_number(s)).collect();
    if !is_num.iter().any(|b| *b) {
        return strs;
    }
    while strs
        .iter()
        .zip(&is_num)
        .filter(|(_, n)| **n)
        .all(|(s, _)| s.ends_with('0'))
    {
        for (s, n) in strs.iter_mut().zip(&is_num) {
            if *n {
                s.pop();
            }
        }
    }
    for (s, n) in strs.iter_mut().zip(&is_num) {
        if *n && s.ends_with('.') {
            s.push('0');
        }
    }
    strs
}

/// A cell of an `object` column as pandas prints it.
fn pandas_object_cell(v: &Value) -> String {
    match v {
        Value::Null => "None".to_string(),
        Value::Float(f) if f.is_nan() => "NaN".to_string(),
        Value::Float(f) => {
            // f"{x: .6f}" with trailing zeros trimmed.
            let mut s = if f.is_finite() {
                format!("{f:.6}")
            } else {
                py_nonfinite(*f)
            };
            if !s.starts_with('-') {
                s.insert(0, ' ');
            }
            let trimmed = s.trim_end_matches('0');
            let mut s = trimmed.to_string();
            if s.ends_with('.') {
                s.push('0');
            }
            s
        }
        other => pprint(other, 0, false, true),
    }
}

/// pandas `pprint_thing`: strings unquoted at the top (quoted inside
/// maps), tab/CR/LF shown escaped outside maps, containers nested three
/// levels deep and then printed with Python `str()`, at most 100 items.
fn pprint(v: &Value, level: usize, quote: bool, escape: bool) -> String {
    const MAX_ITEMS: usize = 100;
    const MAX_DEPTH: usize = 3;
    let esc = |s: String| {
        if escape {
            s.replace('\t', "\\t")
                .replace('\n', "\\n")
                .replace('\r', "\\r")
        } else {
            s
        }
    };
    match v {
        Value::Str(s) => {
            let s = esc(s.clone());
            if quote {
                format!("'{s}'")
            } else {
                s
            }
        }
        Value::List(items) | Value::Tuple(items) if level < MAX_DEPTH => {
            let mut parts: Vec<String> = items
                .iter()
                .take(MAX_ITEMS)
                .map(|i| pprint(i, level + 1, quote, escape))
                .collect();
            if items.len() > MAX_ITEMS {
                parts.push("...".to_string());
            }
            let body = parts.join(", ");
            match v {
                Value::Tuple(_) if items.len() == 1 => format!("({body},)"),
                Value::Tuple(_) => format!("({body})"),
                _ => format!("[{body}]"),
            }
        }
        Value::Map(map) if level < MAX_DEPTH => {
            let mut parts: Vec<String> = map
                .iter()
                .take(MAX_ITEMS)
                .map(|(k, val)| {
                    format!(
                        "{}: {}",
                        pprint(&Value::Str(k.clone()), level + 1, true, false),
                        pprint(val, level + 1, true, false)
                    )
                })
                .collect();
            if map.len() > MAX_ITEMS {
                parts.push("...".to_string());
            }
            format!("{{{}}}", parts.join(", "))
        }
        other => esc(other.py_str()),
    }
}

/// Python `str.rjust(width)`.
fn rjust(s: &str, width: usize) -> String {
    let n = py_len(s);
    let mut out = " ".repeat(width.saturating_sub(n));
    out.push_str(s);
    out
}

/// Python `str.ljust(width)`.
fn ljust(s: &str, width: usize) -> String {
    let n = py_len(s);
    let mut out = s.to_string();
    out.push_str(&" ".repeat(width.saturating_sub(n)));
    out
}

/// pandas' text for an empty frame.
fn empty_frame(table: &Table) -> String {
    let cols: Vec<String> = table
        .columns
        .iter()
        .take(100)
        .cloned()
        .chain((table.columns.len() > 100).then(|| "...".to_string()))
        .collect();
    let idx: Vec<String> = (0..table.rows.len().min(100))
        .map(|i| i.to_string())
        .chain((table.rows.len() > 100).then(|| "...".to_string()))
        .collect();
    format!(
        "Empty DataFrame\nColumns: [{}]\nIndex: [{}]",
        cols.join(", "),
        idx.join(", ")
    )
}

/// pandas `to_string(index=False)`, except that floats keep every digit
/// (pandas rounds them to six decimals).
fn plain(table: &Table) -> String {
    if table.columns.is_empty() || table.rows.is_empty() {
        return empty_frame(table);
    }
    let mut columns: Vec<Vec<String>> = Vec::with_capacity(table.columns.len());
    for (c, name) in table.columns.iter().enumerate() {
        let (cells, numeric) = pandas_column(&table.column(c), true);
        let escaped = pprint(&Value::Str(name.clone()), 0, false, true);
        let header = if numeric {
            format!(" {escaped}")
        } else {
            escaped
        };
        let width = cells
            .iter()
            .map(|s| py_len(s))
            .chain(std::iter::once(py_len(&header)))
            .max()
            .unwrap_or(0);
        let mut col = vec![rjust(&header, width)];
        col.extend(cells.iter().map(|s| rjust(s, width)));
        columns.push(col);
    }
    let last = columns.len() - 1;
    (0..=table.rows.len())
        .map(|r| {
            let mut line = String::new();
            for (c, col) in columns.iter().enumerate() {
                if c < last {
                    let w = col.iter().map(|s| py_len(s)).max().unwrap_or(0);
                    line.push_str(&ljust(&col[r], w + 1));
                } else {
                    line.push_str(&col[r]);
                }
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// pandas `to_html(index=False)`.
fn html(table: &Table) -> String {
    let cell = |s: &str| html_escape(s).trim().replace("  ", "&nbsp;&nbsp;");
    let mut lines = vec![
        "<table border=\"1\" class=\"dataframe\">".to_string(),
        "  <thead>".to_string(),
        "    <tr style=\"text-align: right;\">".to_string(),
    ];
    for name in &table.columns {
        lines.push(format!("      <th>{}</th>", cell(name)));
    }
    lines.push("    </tr>".to_string());
    lines.push("  </thead>".to_string());
    lines.push("  <tbody>".to_string());
    let columns: Vec<Vec<String>> = (0..table.columns.len())
        .map(|c| pandas_column(&table.column(c), false).0)
        .collect();
    for r in 0..table.rows.len() {
        lines.push("    <tr>".to_string());
        for col in &columns {
            let text = col.get(r).map(String::as_str).unwrap_or("");
            lines.push(format!("      <td>{}</td>", cell(text)));
        }
        lines.push("    </tr>".to_string());
    }
    lines.push("  </tbody>".to_string());
    lines.push("</table>".to_string());
    lines.join("\n")
}

// ---------------------------------------------------------------------------
// tabulate pipe table (to_markdown)
// ---------------------------------------------------------------------------

/// tabulate's column types, least generic first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TType {
    None,
    Bool,
    Int,
    Float,
    Str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Decimal,
}

/// Does `s` match tabulate's number-with-thousands-separators pattern
/// (`1,000`, `+1,000.5`, `.5`, and the empty string)?
fn thousands_number(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if let Some(frac) = s.strip_prefix('.') {
        return !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit());
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if let Some(f) = frac {
        if !f.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let mut groups = int.split(',');
    let first = groups.next().unwrap_or("");
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// tabulate `_isnumber` for text: Python `float()` accepts it and it is
/// not an overflow to infinity (literal `inf`/`nan` are fine).
fn str_is_number(s: &str) -> bool {
    match parse_py_float(s) {
        Some(f) if f.is_finite() => true,
        Some(_) => matches!(s.to_lowercase().as_str(), "inf" | "-inf" | "nan"),
        None => false,
    }
}

fn tab_type(v: &Value) -> TType {
    match v {
        Value::Null => TType::None,
        Value::Str(s) if s.is_empty() => TType::None,
        Value::Bool(_) => TType::Bool,
        Value::Str(s) if s == "True" || s == "False" => TType::Bool,
        Value::Int(_) => TType::Int,
        Value::Float(_) => TType::Float,
        Value::Str(s) => {
            if parse_py_int(s).is_some() || (thousands_number(s) && !s.contains('.')) {
                TType::Int
            } else if str_is_number(s) || thousands_number(s) {
                TType::Float
            } else {
                TType::Str
            }
        }
        _ => TType::Str,
    }
}

/// Python `format(x, 'g')`.
fn py_format_g(x: f64) -> String {
    crate::value::py_format_g(x, 6)
}

/// tabulate `_format` with `floatfmt='g'`, `intfmt=''`, `missingval=''`.
fn tab_format(v: &Value, t: TType) -> String {
    match v {
        Value::Null => return String::new(),
        Value::Str(s) if s.is_empty() => return String::new(),
        _ => {}
    }
    match t {
        TType::Int => match v {
            Value::Str(s) => s.clone(),
            other => other.py_str(),
        },
        TType::Float => {
            let f = match v {
                Value::Float(f) => Some(*f),
                Value::Int(i) => Some(*i as f64),
                Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                Value::Str(s) => parse_py_float(&s.replace(',', "")),
                _ => None,
            };
            match f {
                Some(f) => py_format_g(f),
                None => v.py_str(),
            }
        }
        _ => v.py_str(),
    }
}

/// tabulate `_afterpoint`: digits after the decimal point (or the `e`),
/// -1 for integers and non-numbers.
fn afterpoint(s: &str) -> isize {
    if !(str_is_number(s) || thousands_number(s)) || parse_py_int(s).is_some() {
        return -1;
    }
    let chars: Vec<char> = s.chars().collect();
    let pos = chars
        .iter()
        .rposition(|c| *c == '.')
        .or_else(|| chars.iter().rposition(|c| c.eq_ignore_ascii_case(&'e')));
    match pos {
        Some(p) => (chars.len() - p - 1) as isize,
        None => -1,
    }
}

/// Python `str.splitlines()`.
fn splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if is_break {
            lines.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some((j, '\n')) = iter.peek().copied() {
                    iter.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// Width of a cell: longest line when the table is multi-line.
fn tab_width(s: &str, multiline: bool) -> usize {
    if multiline {
        s.split(['\r', '\n']).map(py_len).max().unwrap_or(0)
    } else {
        py_len(s)
    }
}

/// A padding function: text and width to padded text.
type PadFn = fn(&str, usize) -> String;

/// tabulate `_align_column`.
fn align_column(
    strings: Vec<String>,
    align: Align,
    minwidth: usize,
    multiline: bool,
) -> Vec<String> {
    let (strings, pad): (Vec<String>, PadFn) = match align {
        Align::Left => (
            strings.iter().map(|s| s.trim().to_string()).collect(),
            |s, w| ljust(s, w),
        ),
        Align::Decimal => {
            let decimals: Vec<isize> = strings.iter().map(|s| afterpoint(s)).collect();
            let max = decimals.iter().copied().max().unwrap_or(-1);
            (
                strings
                    .iter()
                    .zip(&decimals)
                    .map(|(s, d)| format!("{s}{}", " ".repeat((max - d).max(0) as usize)))
                    .collect(),
                |s, w| rjust(s, w),
            )
        }
    };
    let width = strings
        .iter()
        .map(|s| tab_width(s, multiline))
        .chain(std::iter::once(minwidth))
        .max()
        .unwrap_or(minwidth);
    strings
        .iter()
        .map(|s| {
            if multiline {
                splitlines(s)
                    .into_iter()
                    .map(|line| pad(line, width))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                pad(s, width)
            }
        })
        .collect()
}

/// tabulate `_align_header` (left headers padded right, others left).
fn align_header(h: &str, align: Align, width: usize, multiline: bool) -> String {
    let one = |line: &str| match align {
        Align::Left => ljust(line, width),
        Align::Decimal => rjust(line, width),
    };
    if multiline {
        // tabulate splits headers on `\r|\n|\r\n` (so `\r\n` twice).
        h.split(['\r', '\n'])
            .map(one)
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        one(h)
    }
}

/// One table line per cell line (tabulate `_append_multiline_row`), or a
/// single line.
fn pipe_rows(cells: &[String], widths: &[usize], multiline: bool, out: &mut Vec<String>) {
    let row = |parts: Vec<String>| format!("|{}|", parts.join("|")).trim_end().to_string();
    if !multiline {
        out.push(row(cells.iter().map(|c| format!(" {c} ")).collect()));
        return;
    }
    let cell_lines: Vec<Vec<&str>> = cells.iter().map(|c| splitlines(c)).collect();
    let n = cell_lines.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..n {
        let parts = cell_lines
            .iter()
            .zip(widths)
            .map(|(lines, w)| {
                let text = lines
                    .get(i)
                    .map_or_else(|| " ".repeat(*w), |l| l.to_string());
                format!(" {text} ")
            })
            .collect();
        out.push(row(parts));
    }
}

/// pandas `to_markdown(index=False)`, i.e. tabulate's `pipe` format with
/// the column names as headers.
fn markdown(table: &Table) -> String {
    let ncols = table.columns.len();
    if ncols == 0 {
        return String::new();
    }
    let headers = &table.columns;
    let has_rows = !table.rows.is_empty();
    let raw: Vec<Vec<&Value>> = (0..ncols).map(|c| table.column(c)).collect();
    let multiline = headers
        .iter()
        .map(String::as_str)
        .chain(raw.iter().flatten().filter_map(|v| match v {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }))
        .any(|s| s.contains(['\r', '\n']))
        || raw
            .iter()
            .flatten()
            .filter(|v| !matches!(v, Value::Str(_)))
            .any(|v| v.py_str().contains(['\r', '\n']));

    let types: Vec<TType> = raw
        .iter()
        .map(|col| {
            col.iter()
                .map(|v| tab_type(v))
                .fold(TType::Bool, TType::max)
        })
        .collect();
    let aligns: Vec<Align> = types
        .iter()
        .map(|t| match t {
            TType::Int | TType::Float => Align::Decimal,
            _ => Align::Left,
        })
        .collect();
    let header_minwidths: Vec<usize> = headers
        .iter()
        .map(|h| tab_width(h, multiline) + 2)
        .collect();
    let cols: Vec<Vec<String>> = raw
        .iter()
        .zip(&types)
        .zip(aligns.iter().zip(&header_minwidths))
        .map(|((col, t), (a, minw))| {
            let formatted = col.iter().map(|v| tab_format(v, *t)).collect();
            align_column(formatted, *a, *minw, multiline)
        })
        .collect();

    // Without rows tabulate aligns headers left and draws plain dashes.
    let header_aligns: Vec<Align> = if has_rows {
        aligns.clone()
    } else {
        vec![Align::Left; ncols]
    };
    let widths: Vec<usize> = cols
        .iter()
        .zip(&header_minwidths)
        .map(|(col, minw)| {
            col.iter()
                .map(|s| tab_width(s, multiline))
                .chain(std::iter::once(*minw))
                .max()
                .unwrap_or(*minw)
        })
        .collect();
    let header_cells: Vec<String> = headers
        .iter()
        .zip(&header_aligns)
        .zip(&widths)
        .map(|((h, a), w)| align_header(h, *a, *w, multiline))
        .collect();

    let mut lines = Vec::new();
    pipe_rows(&header_cells, &widths, multiline, &mut lines);
    let segments: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(c, w)| {
            let w = w + 2;
            if !has_rows {
                return "-".repeat(w);
            }
            match aligns[c] {
                Align::Decimal => format!("{}:", "-".repeat(w - 1)),
                Align::Left => format!(":{}", "-".repeat(w - 1)),
            }
        })
        .collect();
    lines.push(format!("|{}|", segments.join("|")));
    for r in 0..table.rows.len() {
        let cells: Vec<String> = cols.iter().map(|col| col[r].clone()).collect();
        pipe_rows(&cells, &widths, multiline, &mut lines);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Value::{Bool as B, Float as F, Int as I, Null as N};

    fn s(x: &str) -> Value {
        Value::Str(x.to_string())
    }
    fn l(items: Vec<Value>) -> Value {
        Value::List(items)
    }
    fn t(items: Vec<Value>) -> Value {
        Value::Tuple(items)
    }
    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// The row objects of `table`, the way JSON output shows them.
    fn as_objects(table: &Table) -> Value {
        l((0..table.rows.len())
            .map(|r| {
                Value::Map(
                    table
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(c, n)| (n.clone(), table.cell(r, c).clone()))
                        .collect(),
                )
            })
            .collect())
    }

    #[test]
    fn json_is_written_row_by_row_as_the_list_of_row_objects() {
        let mut table = Table::new(vec!["x".into(), "out".into(), "e".into(), "p".into()]);
        table.rows = vec![
            vec![I(1), m(&[("a", l(vec![F(0.5), N]))]), l(vec![]), s("q\"\n")],
            vec![F(f64::NAN), B(true), m(&[]), t(vec![I(2)])],
            vec![N],
        ];
        let text = render_table(&table, Format::Json);
        assert_eq!(text, json_pretty(&as_objects(&table)));
        assert!(text.starts_with("[\n  {\n    \"x\": 1,"), "{text}");
        assert_eq!(
            render_table(&Table::new(vec!["x".into()]), Format::Json),
            "[]"
        );
        let no_columns = Table {
            columns: vec![],
            rows: vec![vec![], vec![]],
        };
        assert_eq!(render_table(&no_columns, Format::Json), "[\n  {},\n  {}\n]");
        assert_eq!(
            render_table(&no_columns, Format::Json),
            json_pretty(&as_objects(&no_columns))
        );
        // A repeated name keeps its first place and its last cell.
        let mut twice = Table::new(vec!["a".into(), "b".into(), "a".into()]);
        twice.rows = vec![vec![I(1), I(2), I(3)]];
        assert_eq!(
            render_table(&twice, Format::Json),
            "[\n  {\n    \"a\": 3,\n    \"b\": 2\n  }\n]"
        );
    }

    fn check(table: &Table, cases: &[(Format, &str)]) {
        for (format, want) in cases {
            assert_eq!(render_table(table, *format), *want, "format {format}");
        }
    }

    // Tables below: expected strings are upstream `format_output` on the
    // pandas DataFrame with the same cells (columns typed as the port
    // types them), except JSON where non-finite floats are `null`.
    // generated by running pandas 3.1.1 and upstream format_output
    // ---- fzr_like
    #[test]
    fn table_fzr_like() {
        let table = Table {
            columns: vec![
                "x".to_string(),
                "y".to_string(),
                "res".to_string(),
                "path".to_string(),
                "calculator".to_string(),
                "status".to_string(),
                "error".to_string(),
                "command".to_string(),
            ],
            rows: vec![
                vec![
                    I(1),
                    I(3),
                    F(4.0),
                    s("results/x=1,y=3"),
                    s("sh://bash calc.sh#a9fb9ae0"),
                    s("done"),
                    N,
                    s("bash /w/calc.sh"),
                ],
                vec![
                    I(2),
                    I(3),
                    F(5.5),
                    s("results/x=2,y=3"),
                    s("sh://bash calc.sh#a9fb9ae0"),
                    s("failed"),
                    s("exit 1"),
                    s("bash /w/calc.sh"),
                ],
            ],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"x\": 1,\n    \"y\": 3,\n    \"res\": 4.0,\n    \"path\": \"results/x=1,y=3\",\n    \"calculator\": \"sh://bash calc.sh#a9fb9ae0\",\n    \"status\": \"done\",\n    \"error\": null,\n    \"command\": \"bash /w/calc.sh\"\n  },\n  {\n    \"x\": 2,\n    \"y\": 3,\n    \"res\": 5.5,\n    \"path\": \"results/x=2,y=3\",\n    \"calculator\": \"sh://bash calc.sh#a9fb9ae0\",\n    \"status\": \"failed\",\n    \"error\": \"exit 1\",\n    \"command\": \"bash /w/calc.sh\"\n  }\n]"),
            (Format::Csv, "x,y,res,path,calculator,status,error,command\n1,3,4.0,\"results/x=1,y=3\",sh://bash calc.sh#a9fb9ae0,done,,bash /w/calc.sh\n2,3,5.5,\"results/x=2,y=3\",sh://bash calc.sh#a9fb9ae0,failed,exit 1,bash /w/calc.sh\n"),
            (Format::Table, " x  y  res            path                 calculator status  error         command\n 1  3  4.0 results/x=1,y=3 sh://bash calc.sh#a9fb9ae0   done   None bash /w/calc.sh\n 2  3  5.5 results/x=2,y=3 sh://bash calc.sh#a9fb9ae0 failed exit 1 bash /w/calc.sh"),
            (Format::Markdown, "|   x |   y |   res | path            | calculator                 | status   | error   | command         |\n|----:|----:|------:|:----------------|:---------------------------|:---------|:--------|:----------------|\n|   1 |   3 |   4   | results/x=1,y=3 | sh://bash calc.sh#a9fb9ae0 | done     |         | bash /w/calc.sh |\n|   2 |   3 |   5.5 | results/x=2,y=3 | sh://bash calc.sh#a9fb9ae0 | failed   | exit 1  | bash /w/calc.sh |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>x</th>\n      <th>y</th>\n      <th>res</th>\n      <th>path</th>\n      <th>calculator</th>\n      <th>status</th>\n      <th>error</th>\n      <th>command</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>1</td>\n      <td>3</td>\n      <td>4.0</td>\n      <td>results/x=1,y=3</td>\n      <td>sh://bash calc.sh#a9fb9ae0</td>\n      <td>done</td>\n      <td>None</td>\n      <td>bash /w/calc.sh</td>\n    </tr>\n    <tr>\n      <td>2</td>\n      <td>3</td>\n      <td>5.5</td>\n      <td>results/x=2,y=3</td>\n      <td>sh://bash calc.sh#a9fb9ae0</td>\n      <td>failed</td>\n      <td>exit 1</td>\n      <td>bash /w/calc.sh</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- float_layouts
    #[test]
    fn table_float_layouts() {
        let table = Table {
            columns: vec![
                "f_small".to_string(),
                "f_mid".to_string(),
                "f_big".to_string(),
                "f_nan".to_string(),
                "f_inf".to_string(),
                "f_neg".to_string(),
                "label".to_string(),
            ],
            rows: vec![
                vec![
                    F(0.1),
                    F(3.5),
                    F(1234567.0),
                    F(1.5),
                    F(f64::INFINITY),
                    F(-0.5),
                    s("a"),
                ],
                vec![
                    F(1e-07),
                    F(2.25),
                    F(2.0),
                    F(f64::NAN),
                    F(-1.0),
                    F(-12.25),
                    s("b"),
                ],
                vec![F(1e+16), F(100.0), F(3.0), F(2.0), F(0.0), F(0.0), s("c")],
            ],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"f_small\": 0.1,\n    \"f_mid\": 3.5,\n    \"f_big\": 1234567.0,\n    \"f_nan\": 1.5,\n    \"f_inf\": null,\n    \"f_neg\": -0.5,\n    \"label\": \"a\"\n  },\n  {\n    \"f_small\": 1e-07,\n    \"f_mid\": 2.25,\n    \"f_big\": 2.0,\n    \"f_nan\": null,\n    \"f_inf\": -1.0,\n    \"f_neg\": -12.25,\n    \"label\": \"b\"\n  },\n  {\n    \"f_small\": 1e+16,\n    \"f_mid\": 100.0,\n    \"f_big\": 3.0,\n    \"f_nan\": 2.0,\n    \"f_inf\": 0.0,\n    \"f_neg\": 0.0,\n    \"label\": \"c\"\n  }\n]"),
            (Format::Csv, "f_small,f_mid,f_big,f_nan,f_inf,f_neg,label\n0.1,3.5,1234567.0,1.5,inf,-0.5,a\n1e-07,2.25,2.0,,-1.0,-12.25,b\n1e+16,100.0,3.0,2.0,0.0,0.0,c\n"),
            (Format::Table, " f_small  f_mid     f_big  f_nan  f_inf  f_neg label\n     0.1    3.5 1234567.0    1.5    inf   -0.5     a\n   1e-07   2.25       2.0    NaN   -1.0 -12.25     b\n   1e+16  100.0       3.0    2.0    0.0    0.0     c"),
            (Format::Markdown, "|   f_small |   f_mid |       f_big |   f_nan |   f_inf |   f_neg | label   |\n|----------:|--------:|------------:|--------:|--------:|--------:|:--------|\n|     0.1   |    3.5  | 1.23457e+06 |     1.5 |     inf |   -0.5  | a       |\n|     1e-07 |    2.25 | 2           |   nan   |      -1 |  -12.25 | b       |\n|     1e+16 |  100    | 3           |     2   |       0 |    0    | c       |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>f_small</th>\n      <th>f_mid</th>\n      <th>f_big</th>\n      <th>f_nan</th>\n      <th>f_inf</th>\n      <th>f_neg</th>\n      <th>label</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>1.000000e-01</td>\n      <td>3.50</td>\n      <td>1234567.0</td>\n      <td>1.5</td>\n      <td>inf</td>\n      <td>-0.50</td>\n      <td>a</td>\n    </tr>\n    <tr>\n      <td>1.000000e-07</td>\n      <td>2.25</td>\n      <td>2.0</td>\n      <td>NaN</td>\n      <td>-1.0</td>\n      <td>-12.25</td>\n      <td>b</td>\n    </tr>\n    <tr>\n      <td>1.000000e+16</td>\n      <td>100.00</td>\n      <td>3.0</td>\n      <td>2.0</td>\n      <td>0.0</td>\n      <td>0.00</td>\n      <td>c</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- plain_floats
    #[test]
    fn table_plain_floats() {
        let table = Table {
            columns: vec![
                "a".to_string(),
                "b".to_string(),
                "c".to_string(),
                "s".to_string(),
            ],
            rows: vec![
                vec![F(0.5), F(1000000.0), F(293.15), s("p")],
                vec![F(0.25), F(2000000.0), F(0.30000000000000004), s("q")],
            ],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"a\": 0.5,\n    \"b\": 1000000.0,\n    \"c\": 293.15,\n    \"s\": \"p\"\n  },\n  {\n    \"a\": 0.25,\n    \"b\": 2000000.0,\n    \"c\": 0.30000000000000004,\n    \"s\": \"q\"\n  }\n]"),
            (Format::Csv, "a,b,c,s\n0.5,1000000.0,293.15,p\n0.25,2000000.0,0.30000000000000004,q\n"),
            (Format::Table, "   a         b                   c s\n 0.5 1000000.0              293.15 p\n0.25 2000000.0 0.30000000000000004 q"),
            (Format::Markdown, "|    a |     b |      c | s   |\n|-----:|------:|-------:|:----|\n| 0.5  | 1e+06 | 293.15 | p   |\n| 0.25 | 2e+06 |   0.3  | q   |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>a</th>\n      <th>b</th>\n      <th>c</th>\n      <th>s</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>0.50</td>\n      <td>1000000.0</td>\n      <td>293.15</td>\n      <td>p</td>\n    </tr>\n    <tr>\n      <td>0.25</td>\n      <td>2000000.0</td>\n      <td>0.30</td>\n      <td>q</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- objects
    #[test]
    fn table_objects() {
        let table = Table {
            columns: vec!["l".to_string(), "b".to_string(), "o".to_string()],
            rows: vec![
                vec![l(vec![I(1), I(2)]), B(true), I(1)],
                vec![l(vec![s("a"), s("b")]), B(false), F(2.5)],
                vec![l(vec![F(0.5), F(2.5)]), B(true), s("s")],
                vec![t(vec![I(1)]), B(true), N],
                vec![m(&[("k", s("v")), ("n", F(1.5))]), B(false), F(-0.25)],
                vec![s("x\ty"), B(true), F(f64::INFINITY)],
                vec![s("it's"), B(true), B(true)],
                vec![
                    l(vec![l(vec![
                        I(1),
                        l(vec![I(2), l(vec![I(3), l(vec![I(4)])])]),
                    ])]),
                    B(false),
                    t(vec![I(1), s("z")]),
                ],
            ],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"l\": [\n      1,\n      2\n    ],\n    \"b\": true,\n    \"o\": 1\n  },\n  {\n    \"l\": [\n      \"a\",\n      \"b\"\n    ],\n    \"b\": false,\n    \"o\": 2.5\n  },\n  {\n    \"l\": [\n      0.5,\n      2.5\n    ],\n    \"b\": true,\n    \"o\": \"s\"\n  },\n  {\n    \"l\": [\n      1\n    ],\n    \"b\": true,\n    \"o\": null\n  },\n  {\n    \"l\": {\n      \"k\": \"v\",\n      \"n\": 1.5\n    },\n    \"b\": false,\n    \"o\": -0.25\n  },\n  {\n    \"l\": \"x\\ty\",\n    \"b\": true,\n    \"o\": null\n  },\n  {\n    \"l\": \"it's\",\n    \"b\": true,\n    \"o\": true\n  },\n  {\n    \"l\": [\n      [\n        1,\n        [\n          2,\n          [\n            3,\n            [\n              4\n            ]\n          ]\n        ]\n      ]\n    ],\n    \"b\": false,\n    \"o\": [\n      1,\n      \"z\"\n    ]\n  }\n]"),
            (Format::Csv, "l,b,o\n\"[1, 2]\",True,1\n\"['a', 'b']\",False,2.5\n\"[0.5, 2.5]\",True,s\n\"(1,)\",True,\n\"{'k': 'v', 'n': 1.5}\",False,-0.25\nx\ty,True,inf\nit's,True,True\n\"[[1, [2, [3, [4]]]]]\",False,\"(1, 'z')\"\n"),
            (Format::Table, "                   l     b      o\n              [1, 2]  True      1\n              [a, b] False    2.5\n          [0.5, 2.5]  True      s\n                (1,)  True   None\n{'k': 'v', 'n': 1.5} False  -0.25\n                x\\ty  True    inf\n                it's  True   True\n[[1, [2, [3, [4]]]]] False (1, z)"),
            (Format::Markdown, "| l                    | b     | o        |\n|:---------------------|:------|:---------|\n| [1, 2]               | True  | 1        |\n| ['a', 'b']           | False | 2.5      |\n| [0.5, 2.5]           | True  | s        |\n| (1,)                 | True  |          |\n| {'k': 'v', 'n': 1.5} | False | -0.25    |\n| x\ty                  | True  | inf      |\n| it's                 | True  | True     |\n| [[1, [2, [3, [4]]]]] | False | (1, 'z') |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>l</th>\n      <th>b</th>\n      <th>o</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>[1, 2]</td>\n      <td>True</td>\n      <td>1</td>\n    </tr>\n    <tr>\n      <td>[a, b]</td>\n      <td>False</td>\n      <td>2.5</td>\n    </tr>\n    <tr>\n      <td>[0.5, 2.5]</td>\n      <td>True</td>\n      <td>s</td>\n    </tr>\n    <tr>\n      <td>(1,)</td>\n      <td>True</td>\n      <td>None</td>\n    </tr>\n    <tr>\n      <td>{'k': 'v', 'n': 1.5}</td>\n      <td>False</td>\n      <td>-0.25</td>\n    </tr>\n    <tr>\n      <td>x\\ty</td>\n      <td>True</td>\n      <td>inf</td>\n    </tr>\n    <tr>\n      <td>it's</td>\n      <td>True</td>\n      <td>True</td>\n    </tr>\n    <tr>\n      <td>[[1, [2, [3, [4]]]]]</td>\n      <td>False</td>\n      <td>(1, z)</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- strings
    #[test]
    fn table_strings() {
        let table = Table {
            columns: vec!["name".to_string(), "val".to_string(), "num_str".to_string()],
            rows: vec![
                vec![s(" lead"), s("a  b"), s("1")],
                vec![s("<&>"), s("p|q"), s("2.5")],
                vec![s("é日本"), s("1,000"), s("1e-07")],
                vec![s(""), s("True"), s("inf")],
            ],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"name\": \" lead\",\n    \"val\": \"a  b\",\n    \"num_str\": \"1\"\n  },\n  {\n    \"name\": \"<&>\",\n    \"val\": \"p|q\",\n    \"num_str\": \"2.5\"\n  },\n  {\n    \"name\": \"\\u00e9\\u65e5\\u672c\",\n    \"val\": \"1,000\",\n    \"num_str\": \"1e-07\"\n  },\n  {\n    \"name\": \"\",\n    \"val\": \"True\",\n    \"num_str\": \"inf\"\n  }\n]"),
            (Format::Csv, "name,val,num_str\n lead,a  b,1\n<&>,p|q,2.5\né日本,\"1,000\",1e-07\n,True,inf\n"),
            (Format::Table, " name   val num_str\n lead  a  b       1\n  <&>   p|q     2.5\n  é日本 1,000   1e-07\n       True     inf"),
            (Format::Markdown, "| name   | val   |   num_str |\n|:-------|:------|----------:|\n| lead   | a  b  |     1     |\n| <&>    | p|q   |     2.5   |\n| é日本    | 1,000 |     1e-07 |\n|        | True  |   inf     |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>name</th>\n      <th>val</th>\n      <th>num_str</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>lead</td>\n      <td>a&nbsp;&nbsp;b</td>\n      <td>1</td>\n    </tr>\n    <tr>\n      <td>&lt;&amp;&gt;</td>\n      <td>p|q</td>\n      <td>2.5</td>\n    </tr>\n    <tr>\n      <td>é日本</td>\n      <td>1,000</td>\n      <td>1e-07</td>\n    </tr>\n    <tr>\n      <td></td>\n      <td>True</td>\n      <td>inf</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- multiline
    #[test]
    fn table_multiline() {
        let table = Table {
            columns: vec!["msg".to_string(), "n".to_string()],
            rows: vec![vec![s("line1\nline2"), I(1)], vec![s("x"), I(22)]],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"msg\": \"line1\\nline2\",\n    \"n\": 1\n  },\n  {\n    \"msg\": \"x\",\n    \"n\": 22\n  }\n]"),
            (Format::Csv, "msg,n\n\"line1\nline2\",1\nx,22\n"),
            (Format::Table, "         msg  n\nline1\\nline2  1\n           x 22"),
            (Format::Markdown, "| msg   |   n |\n|:------|----:|\n| line1 |   1 |\n| line2 |     |\n| x     |  22 |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>msg</th>\n      <th>n</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>line1\\nline2</td>\n      <td>1</td>\n    </tr>\n    <tr>\n      <td>x</td>\n      <td>22</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- nulls_and_empty
    #[test]
    fn table_nulls_and_empty() {
        let table = Table {
            columns: vec!["a".to_string(), "z".to_string()],
            rows: vec![vec![N, s("x")], vec![s(""), N]],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"a\": null,\n    \"z\": \"x\"\n  },\n  {\n    \"a\": \"\",\n    \"z\": null\n  }\n]"),
            (Format::Csv, "a,z\n,x\n,\n"),
            (Format::Table, "   a    z\nNone    x\n     None"),
            (Format::Markdown, "| a   | z   |\n|:----|:----|\n|     | x   |\n|     |     |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>a</th>\n      <th>z</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>None</td>\n      <td>x</td>\n    </tr>\n    <tr>\n      <td></td>\n      <td>None</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- single_null
    #[test]
    fn table_single_null() {
        let table = Table {
            columns: vec!["a".to_string()],
            rows: vec![vec![N], vec![s("")]],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"a\": null\n  },\n  {\n    \"a\": \"\"\n  }\n]"),
            (Format::Csv, "a\n\"\"\n\"\"\n"),
            (Format::Table, "   a\nNone\n    "),
            (Format::Markdown, "| a   |\n|:----|\n|     |\n|     |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>a</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>None</td>\n    </tr>\n    <tr>\n      <td></td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- wide_header
    #[test]
    fn table_wide_header() {
        let table = Table {
            columns: vec![
                "value_of_x".to_string(),
                "flag".to_string(),
                "s".to_string(),
            ],
            rows: vec![vec![I(1), B(true), s("a")], vec![I(22), B(false), s("bb")]],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"value_of_x\": 1,\n    \"flag\": true,\n    \"s\": \"a\"\n  },\n  {\n    \"value_of_x\": 22,\n    \"flag\": false,\n    \"s\": \"bb\"\n  }\n]"),
            (Format::Csv, "value_of_x,flag,s\n1,True,a\n22,False,bb\n"),
            (Format::Table, " value_of_x  flag  s\n          1  True  a\n         22 False bb"),
            (Format::Markdown, "|   value_of_x | flag   | s   |\n|-------------:|:-------|:----|\n|            1 | True   | a   |\n|           22 | False  | bb  |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>value_of_x</th>\n      <th>flag</th>\n      <th>s</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>1</td>\n      <td>True</td>\n      <td>a</td>\n    </tr>\n    <tr>\n      <td>22</td>\n      <td>False</td>\n      <td>bb</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- no_rows
    #[test]
    fn table_no_rows() {
        let table = Table {
            columns: vec!["a".to_string(), "b".to_string()],
            rows: vec![],
        };
        check(&table, &[
            (Format::Json, "[]"),
            (Format::Csv, "a,b\n"),
            (Format::Table, "Empty DataFrame\nColumns: [a, b]\nIndex: []"),
            (Format::Markdown, "| a   | b   |\n|-----|-----|"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>a</th>\n      <th>b</th>\n    </tr>\n  </thead>\n  <tbody>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- no_columns
    #[test]
    fn table_no_columns() {
        let table = Table {
            columns: vec![],
            rows: vec![],
        };
        check(&table, &[
            (Format::Json, "[]"),
            (Format::Csv, "\n"),
            (Format::Table, "Empty DataFrame\nColumns: []\nIndex: []"),
            (Format::Markdown, ""),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n    </tr>\n  </thead>\n  <tbody>\n  </tbody>\n</table>"),
        ]);
    }
    // ---- rows_no_columns
    #[test]
    fn table_rows_no_columns() {
        let table = Table {
            columns: vec![],
            rows: vec![vec![], vec![]],
        };
        check(&table, &[
            (Format::Json, "[\n  {},\n  {}\n]"),
            (Format::Csv, "\n\n\n"),
            (Format::Table, "Empty DataFrame\nColumns: []\nIndex: [0, 1]"),
            (Format::Markdown, ""),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n    </tr>\n    <tr>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }

    /// Port rule: integers and missing values keep their own look in
    /// numeric columns (pandas would print `1.0` and `NaN`). Markdown and
    /// CSV expectations come from tabulate / pandas on the same Python
    /// values; table and HTML follow the pandas layout with those cells.
    #[test]
    fn table_mixed_numeric_columns_keep_cell_types() {
        let table = Table {
            columns: vec!["x".into(), "r".into(), "n".into(), "path".into()],
            rows: vec![
                vec![I(1), F(2.5), F(1.0), s("a")],
                vec![N, I(3), N, s("b")],
                vec![I(3), N, F(f64::NAN), s("c")],
            ],
        };
        check(&table, &[
            (Format::Json, "[\n  {\n    \"x\": 1,\n    \"r\": 2.5,\n    \"n\": 1.0,\n    \"path\": \"a\"\n  },\n  {\n    \"x\": null,\n    \"r\": 3,\n    \"n\": null,\n    \"path\": \"b\"\n  },\n  {\n    \"x\": 3,\n    \"r\": null,\n    \"n\": null,\n    \"path\": \"c\"\n  }\n]"),
            (Format::Csv, "x,r,n,path\n1,2.5,1.0,a\n,3,,b\n3,,,c\n"),
            (Format::Table, "   x    r    n path\n   1  2.5  1.0    a\nNone    3 None    b\n   3 None  NaN    c"),
            (Format::Markdown, "|   x |   r |   n | path   |\n|----:|----:|----:|:-------|\n|   1 | 2.5 |   1 | a      |\n|     | 3   |     | b      |\n|   3 |     | nan | c      |"),
            (Format::Html, "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th>x</th>\n      <th>r</th>\n      <th>n</th>\n      <th>path</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <td>1</td>\n      <td>2.5</td>\n      <td>1.0</td>\n      <td>a</td>\n    </tr>\n    <tr>\n      <td>None</td>\n      <td>3</td>\n      <td>None</td>\n      <td>b</td>\n    </tr>\n    <tr>\n      <td>3</td>\n      <td>None</td>\n      <td>NaN</td>\n      <td>c</td>\n    </tr>\n  </tbody>\n</table>"),
        ]);
    }

    #[test]
    fn short_rows_are_padded_with_null() {
        let table = Table {
            columns: vec!["a".into(), "b".into()],
            rows: vec![vec![I(1)], vec![I(2), s("x"), s("ignored")]],
        };
        assert_eq!(table.cell(0, 1), &N);
        assert_eq!(table.cell(5, 0), &N);
        assert_eq!(render_table(&table, Format::Csv), "a,b\n1,\n2,x\n");
        let empty = Table::new(vec!["a".into()]);
        assert_eq!(render_table(&empty, Format::Json), "[]");
        assert_eq!(render_table(&empty, Format::Csv), "a\n");
    }

    /// Helper rules checked against Python `format(x, 'g')`, tabulate's
    /// `_isnumber_with_thousands_separator` / `_afterpoint` and
    /// `str.splitlines`.
    #[test]
    fn tabulate_helpers_match_python() {
        let g = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (100.0, "100"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e-7, "1e-07"),
            (2.25, "2.25"),
            (0.30000000000000004, "0.3"),
            (-1.5e300, "-1.5e+300"),
            (9.9999995, "10"),
            (999999.5, "1e+06"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
            (1e16, "1e+16"),
        ];
        for (x, want) in g {
            assert_eq!(py_format_g(x), want, "format({x}, 'g')");
        }
        let th = [
            ("", true),
            ("1", true),
            ("1.", true),
            (".1", true),
            ("1000", false),
            ("1,000", true),
            ("1,0000", false),
            ("1,000.1234", true),
            ("+1,000.1234", true),
            ("-1,000", true),
            (".", false),
            ("1,00", false),
            ("12,345,678", true),
            ("a", false),
        ];
        for (text, want) in th {
            assert_eq!(thousands_number(text), want, "thousands {text:?}");
        }
        let ap = [
            ("123.45", 2),
            ("1001", -1),
            ("eggs", -1),
            ("123e45", 2),
            ("1e-07", 3),
            ("inf", -1),
            ("nan", -1),
            ("1,000.5", 1),
            ("", -1),
        ];
        for (text, want) in ap {
            assert_eq!(afterpoint(text), want, "afterpoint {text:?}");
        }
        assert_eq!(
            splitlines("a\r\nb\rc\nd\x0be\u{85}f\u{2028}"),
            vec!["a", "b", "c", "d", "e", "f"]
        );
        assert!(splitlines("").is_empty());
        assert_eq!(splitlines("x\n"), vec!["x"]);
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(N),
            any::<bool>().prop_map(B),
            any::<i128>().prop_map(I),
            any::<u64>().prop_map(|b| F(f64::from_bits(b))),
            "\\PC{0,8}".prop_map(Value::Str),
            "[0-9.,e+ \r\n-]{0,6}".prop_map(Value::Str),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::List),
                proptest::collection::vec(inner, 0..3).prop_map(Value::Tuple),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn never_panics(
            columns in proptest::collection::vec("\\PC{0,6}", 0..4),
            rows in proptest::collection::vec(proptest::collection::vec(any_value(), 0..5), 0..4),
        ) {
            let table = Table { columns, rows };
            for format in Format::ALL {
                let _ = render_table(&table, format);
            }
        }
    }
}
