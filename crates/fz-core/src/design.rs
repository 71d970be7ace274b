//! Designs of experiments: turning what the user gave as `input_variables`
//! into the ordered list of cases.
//!
//! A map is a factorial design (lists are axes, the last key varies
//! fastest); a table (JSON list of objects, CSV file, DataFrame) gives one
//! case per row. Duplicate cases are rejected: two identical cases would
//! write the same directory. This module must not name or create
//! directories.

use crate::error::{Error, Result};
use crate::value::Value;
use indexmap::IndexMap;
use std::collections::HashSet;
use std::path::Path;

/// One case: variable name → value, in design order.
pub type Case = IndexMap<String, Value>;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Design {
    /// A map of fixed values and axes (lists).
    Grid(IndexMap<String, Value>),
    /// One case per row.
    Table(Vec<Case>),
}

impl Design {
    /// Whether the design names no variable at all.
    pub fn is_empty(&self) -> bool {
        match self {
            Design::Grid(m) => m.is_empty(),
            Design::Table(rows) => rows.iter().all(|r| r.is_empty()),
        }
    }

    /// The variable names, in order.
    pub fn names(&self) -> Vec<String> {
        match self {
            Design::Grid(m) => m.keys().cloned().collect(),
            Design::Table(rows) => {
                let mut names: Vec<String> = Vec::new();
                for row in rows {
                    for k in row.keys() {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                }
                names
            }
        }
    }

    /// How many cases the design has, counted without building them
    /// (`None`: more than a `u128` holds).
    pub fn count(&self) -> Option<u128> {
        match self {
            Design::Grid(m) => m.values().try_fold(1u128, |n, v| match v {
                Value::List(items) => n.checked_mul(items.len() as u128),
                _ => Some(n),
            }),
            Design::Table(rows) => Some(rows.len() as u128),
        }
    }

    /// Why the design has no case when it has none although it names
    /// variables: an axis with no value (`{"x": []}`), or a table without
    /// rows. A likely mistake: the run would do nothing and say it is done.
    pub fn why_no_case(&self) -> Option<String> {
        match self {
            Design::Grid(m) => m.iter().find_map(|(name, v)| match v {
                Value::List(items) if items.is_empty() => Some(format!(
                    "input_variables: '{name}' has no values (an empty list): the design has no case"
                )),
                _ => None,
            }),
            Design::Table(_) => None,
        }
    }

    /// Refuses a design of more than `max` cases before any is built: a
    /// grid of many axes grows as their product, and would fill memory
    /// and disk long before the run ends.
    pub fn check_size(&self, max: u64) -> Result<()> {
        let count = self.count();
        if count.is_some_and(|n| n <= u128::from(max)) {
            return Ok(());
        }
        let shown = count.map_or_else(|| "more than 10^38".to_string(), |n| n.to_string());
        Err(Error::TooManyCases(format!(
            "input_variables: the design has {shown} cases, more than FZ_MAX_CASES={max}; \
             use fewer values, or raise FZ_MAX_CASES if this is intended"
        )))
    }

    /// The cases, in order.
    pub fn cases(&self) -> Result<Vec<Case>> {
        match self {
            Design::Grid(m) => grid_cases(m),
            Design::Table(rows) => table_cases(rows),
        }
    }
}

/// The Cartesian product of the list values of `map` (last key fastest);
/// non-list values are fixed. No list at all → the map is the only case.
pub fn grid_cases(map: &IndexMap<String, Value>) -> Result<Vec<Case>> {
    for (name, value) in map {
        if let Value::List(items) = value {
            let mut seen = HashSet::new();
            for item in items {
                if !seen.insert(item.py_repr()) {
                    return Err(Error::Value(format!(
                        "input_variables: axis '{name}' lists the value {} twice; each case must be unique",
                        item.py_repr()
                    )));
                }
            }
        }
    }
    let mut cases = vec![Case::new()];
    for (name, value) in map {
        match value {
            Value::List(items) => {
                let mut next = Vec::with_capacity(cases.len() * items.len());
                for case in &cases {
                    for item in items {
                        let mut c = case.clone();
                        c.insert(name.clone(), item.clone());
                        next.push(c);
                    }
                }
                cases = next;
            }
            other => {
                for case in &mut cases {
                    case.insert(name.clone(), other.clone());
                }
            }
        }
    }
    Ok(cases)
}

/// Rows as cases; every row must name the same variables, no two rows may
/// be equal (the error lists the 0-based row numbers involved).
pub fn table_cases(rows: &[Case]) -> Result<Vec<Case>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let mut by_key: IndexMap<String, Vec<usize>> = IndexMap::new();
    for (i, row) in rows.iter().enumerate() {
        if row.len() != first.len() || !first.keys().all(|k| row.contains_key(k)) {
            return Err(Error::Value(format!(
                "input_variables: row {i} has columns {:?}, expected {:?}",
                row.keys().collect::<Vec<_>>(),
                first.keys().collect::<Vec<_>>()
            )));
        }
        let key = first
            .keys()
            .map(|k| row.get(k).map(Value::py_repr).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\u{0}");
        by_key.entry(key).or_default().push(i);
    }
    let mut dups: Vec<usize> = by_key
        .values()
        .filter(|v| v.len() > 1)
        .flatten()
        .copied()
        .collect();
    if !dups.is_empty() {
        dups.sort_unstable();
        return Err(Error::Value(format!(
            "input_variables table contains duplicate rows (indices {dups:?}). Each case must have a unique combination of input values."
        )));
    }
    // Keep the first row's column order for every case.
    Ok(rows
        .iter()
        .map(|row| first.keys().map(|k| (k.clone(), row[k].clone())).collect())
        .collect())
}

/// A design from JSON: an object is a grid, an array of objects a table.
pub fn from_json(json: &serde_json::Value, origin: &str) -> Result<Design> {
    match Value::from(json) {
        Value::Map(m) => Ok(Design::Grid(m)),
        Value::List(items) => {
            let mut rows = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    Value::Map(m) => rows.push(m),
                    other => {
                        return Err(Error::Type(format!(
                        "{origin}: row {i} of the input_variables list must be an object, got {}",
                        other.type_name()
                    )))
                    }
                }
            }
            Ok(Design::Table(rows))
        }
        other => Err(Error::Type(format!(
            "input_variables must be a dictionary or DataFrame, got {}",
            other.type_name()
        ))),
    }
}

/// Parses `input_variables` given as text (command line): JSON (`{…}` grid
/// or `[{…},…]` table), a `.json` file, a `.csv` file (one case per row), or
/// the compact `a=1,b=[4,5,6],c=[0;1]` form. Relative files are resolved
/// against `cwd`.
pub fn from_text(text: &str, cwd: &Path) -> Result<Design> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let json: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| Error::Value(format!("input_variables: invalid JSON: {e}")))?;
        return from_json(&json, "input_variables");
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower.ends_with(".json") || lower.ends_with(".csv") {
        let path = cwd.join(trimmed);
        if !path.is_file() {
            return Err(Error::NotFound(format!(
                "input_variables file '{}' not found",
                path.display()
            )));
        }
        if lower.ends_with(".csv") {
            return read_csv(&path).map(Design::Table);
        }
        let json = crate::model::read_json_file(&path).map_err(|e| {
            Error::Value(
                e.to_string()
                    .replace("invalid JSON", "invalid JSON in input_variables"),
            )
        })?;
        return from_json(&json, &path.display().to_string());
    }
    if trimmed.contains('=') {
        return parse_compact(trimmed).map(Design::Grid);
    }
    if matches!(lower.as_str(), "null" | "none") {
        return Err(Error::Type(format!(
            "input_variables: '{trimmed}' is not a design: give name=value pairs (x=1,y=[1,2], x=0:10), a JSON object or list of objects, or a .json/.csv file; leave -v out when the input has no variables"
        )));
    }
    Err(Error::Type(format!(
        "input_variables must be a dictionary or DataFrame, got str ('{text}' is not JSON, a .json/.csv file, or name=value pairs)"
    )))
}

/// The forms `-v` accepts for one value, shown when one is misread.
pub const COMPACT_FORMS: &str =
    "accepted forms: x=1 (one value), x=[1,2,3] or x=[1;2;3] (a list), \
x=0:10 (integers 0 to 10, both ends included), x=0:1:0.25 (start:stop:step); \
a text with ';', ':', '..' or brackets goes in JSON: '{\"x\": \"1;2\"}'";

/// Parses `a=1,b=[4,5,6],c=[0;1],d=0:10,e=0:1:0.25`.
pub fn parse_compact(text: &str) -> Result<IndexMap<String, Value>> {
    let mut out = IndexMap::new();
    for pair in split_top_level(text) {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let Some((name, value)) = pair.split_once('=') else {
            return Err(Error::Value(format!(
                "input_variables: '{pair}' is not name=value"
            )));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Value(format!(
                "input_variables: empty name in '{pair}'"
            )));
        }
        out.insert(name.to_string(), compact_value(name, value.trim())?);
    }
    Ok(out)
}

/// One value of the compact form: a list in brackets, a range, or a
/// scalar. A value that looks like a list or range gone wrong (`1;2`,
/// `[1;2`, `1..3`) is refused rather than read as one text value.
fn compact_value(name: &str, value: &str) -> Result<Value> {
    let broken = || {
        Error::Value(format!(
            "input_variables: '{name}={value}' looks like a broken list or range; {COMPACT_FORMS}"
        ))
    };
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        if inner.contains(['[', ']']) {
            return Err(broken());
        }
        return Ok(Value::List(
            inner
                .split([',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(parse_scalar)
                .collect(),
        ));
    }
    if value.contains(['[', ']', ';']) || value.contains("..") {
        return Err(broken());
    }
    match compact_range(value) {
        Ok(Some(range)) => Ok(range),
        Ok(None) => Ok(parse_scalar(value)),
        Err(why) => Err(Error::Value(format!(
            "input_variables: '{name}={value}' is not a range: {why}; {COMPACT_FORMS}"
        ))),
    }
}

/// Most values a range may give (a typo such as `0:1e9` would otherwise
/// fill the memory).
const MAX_RANGE_VALUES: usize = 1_000_000;

/// `start:stop` (integers, both ends included) or `start:stop:step`. The
/// values are integers when every bound is, else floats computed as
/// `start + i*step` and rounded to 12 significant digits (so `0:1:0.1`
/// gives 0.3, not 0.30000000000000004). `Ok(None)` when `text` is not made
/// of numbers separated by `:` (a text such as `C:/data` stays a text);
/// `Err` says what is wrong with a range.
fn compact_range(text: &str) -> std::result::Result<Option<Value>, String> {
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    if parts.len() < 2
        || parts
            .iter()
            .any(|p| matches!(parse_scalar(p), Value::Str(_)))
    {
        return Ok(None);
    }
    let nums: Vec<Value> = parts.iter().map(|p| parse_scalar(p)).collect();
    let as_f64 = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    let all_int = nums.iter().all(|v| matches!(v, Value::Int(_)));
    let floats: Vec<f64> = nums.iter().filter_map(as_f64).collect();
    if floats.len() != nums.len() || nums.len() > 3 {
        return Err("expected start:stop or start:stop:step".into());
    }
    let (start, stop) = (floats[0], floats[1]);
    let step = match floats.get(2) {
        Some(s) => *s,
        None if all_int => 1.0,
        None => return Err("start:stop needs integers; give a step for decimals".into()),
    };
    if step <= 0.0 {
        return Err("the step must be positive".into());
    }
    if stop < start {
        return Err("stop is below start".into());
    }
    let count = ((stop - start) / step + 1e-9).floor() + 1.0;
    if count > MAX_RANGE_VALUES as f64 {
        return Err(format!("more than {MAX_RANGE_VALUES} values"));
    }
    let values = (0..count as usize).map(|i| {
        if all_int {
            Value::Int(start as i128 + i as i128 * step as i128)
        } else {
            let v = start + i as f64 * step;
            Value::Float(format!("{v:.11e}").parse().unwrap_or(v))
        }
    });
    Ok(Some(Value::List(values.collect())))
}

/// Splits at commas outside brackets.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A scalar from text: integer, else float, else the string itself.
pub fn parse_scalar(text: &str) -> Value {
    let t = text.trim();
    if let Some(i) = crate::config::parse_int::<i128>(t) {
        return Value::Int(i);
    }
    let plain = t.replace('_', "");
    if !t.starts_with('_') && !t.ends_with('_') {
        if let Ok(f) = plain.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(t.to_string())
}

/// Reads a CSV file as a table: header = variable names, cells typed like
/// [`parse_scalar`], an empty cell is `None`.
pub fn read_csv(path: &Path) -> Result<Vec<Case>> {
    let err = |e: csv::Error| Error::Value(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(err)?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(err)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(err)?;
        let row: Case = headers
            .iter()
            .zip(record.iter())
            .map(|(h, cell)| {
                let v = if cell.trim().is_empty() {
                    Value::Null
                } else {
                    parse_scalar(cell)
                };
                (h.clone(), v)
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(cases: &[Case]) -> Vec<String> {
        cases
            .iter()
            .map(|c| Value::Map(c.clone()).py_str())
            .collect()
    }

    fn grid(j: serde_json::Value) -> Result<Vec<Case>> {
        from_json(&j, "t")?.cases()
    }

    #[test]
    fn grid_rules_of_the_spec() {
        assert_eq!(
            names(&grid(json!({"x": [1, 2], "y": [3, 4]})).unwrap()),
            [
                "{'x': 1, 'y': 3}",
                "{'x': 1, 'y': 4}",
                "{'x': 2, 'y': 3}",
                "{'x': 2, 'y': 4}"
            ]
        );
        assert_eq!(
            names(&grid(json!({"x": 1, "y": 2})).unwrap()),
            ["{'x': 1, 'y': 2}"]
        );
        assert_eq!(
            names(&grid(json!({"x": [1, 2], "y": "a b"})).unwrap()),
            ["{'x': 1, 'y': 'a b'}", "{'x': 2, 'y': 'a b'}"]
        );
        assert!(grid(json!({"x": [], "y": 3})).unwrap().is_empty());
        assert_eq!(
            names(&grid(json!({"x": [[1, 2], [3]], "y": 3})).unwrap()),
            ["{'x': [1, 2], 'y': 3}", "{'x': [3], 'y': 3}"]
        );
        assert_eq!(grid(json!({})).unwrap(), vec![Case::new()]);
        let err = grid(json!({"x": [1, 1]})).unwrap_err().to_string();
        assert!(err.contains("axis 'x' lists the value 1 twice"), "{err}");
    }

    #[test]
    fn a_design_is_counted_without_being_built() {
        let axes: serde_json::Map<String, serde_json::Value> =
            (0..64).map(|i| (format!("x{i}"), json!([0, 1]))).collect();
        let huge = from_json(&serde_json::Value::Object(axes), "t").unwrap();
        assert_eq!(huge.count(), Some(1u128 << 64));
        let err = huge.check_size(1_000_000).unwrap_err().to_string();
        assert_eq!(
            err,
            "input_variables: the design has 18446744073709551616 cases, more than \
             FZ_MAX_CASES=1000000; use fewer values, or raise FZ_MAX_CASES if this is intended"
        );
        let grid = from_json(&json!({"a": [1, 2, 3], "b": [1, 2], "c": 5}), "t").unwrap();
        assert_eq!(grid.count(), Some(6));
        assert!(grid.check_size(6).is_ok());
        assert!(grid
            .check_size(5)
            .unwrap_err()
            .to_string()
            .contains(" 6 cases"));
        let table = from_json(&json!([{"x": 1}, {"x": 2}]), "t").unwrap();
        assert_eq!(table.count(), Some(2));
        let wide: serde_json::Map<String, serde_json::Value> = (0..200)
            .map(|i| (format!("x{i}"), json!([0, 1, 2])))
            .collect();
        let wide = from_json(&serde_json::Value::Object(wide), "t").unwrap();
        assert_eq!(wide.count(), None);
        assert!(wide
            .check_size(u64::MAX)
            .unwrap_err()
            .to_string()
            .contains("more than 10^38"));
    }

    #[test]
    fn tables_keep_types_and_reject_duplicates() {
        let cases = grid(json!([{"x": 1, "y": 0.5}, {"x": 2, "y": 1.5}])).unwrap();
        assert_eq!(names(&cases), ["{'x': 1, 'y': 0.5}", "{'x': 2, 'y': 1.5}"]);
        let err = grid(json!([{"x": 1}, {"x": 2}, {"x": 1}]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate rows (indices [0, 2])"), "{err}");
        let err = grid(json!([{"x": 1}, {"y": 2}])).unwrap_err().to_string();
        assert!(err.contains("row 1 has columns"), "{err}");
        let err = grid(json!([1])).unwrap_err().to_string();
        assert!(
            err.contains("row 0 of the input_variables list must be an object"),
            "{err}"
        );
    }

    #[test]
    fn compact_syntax() {
        let m = parse_compact("a=1,b=[4,5,6],c=[0;1],d=x y,e=2.5").unwrap();
        assert_eq!(
            Value::Map(m).py_str(),
            "{'a': 1, 'b': [4, 5, 6], 'c': [0, 1], 'd': 'x y', 'e': 2.5}"
        );
        assert!(parse_compact("a=1,b").is_err());
    }

    #[test]
    fn broken_lists_are_refused_with_the_accepted_forms() {
        for bad in ["x=1;2", "x=[1;2", "x=1..3", "x=1]", "x=[[1]]"] {
            let err = parse_compact(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!(
                    "input_variables: '{bad}' looks like a broken list or range; accepted forms: x=1"
                )),
                "{err}"
            );
            assert!(err.contains("x=0:1:0.25 (start:stop:step)"), "{err}");
        }
    }

    #[test]
    fn ranges() {
        let show = |t: &str| Value::Map(parse_compact(t).unwrap()).py_str();
        assert_eq!(show("x=0:3"), "{'x': [0, 1, 2, 3]}");
        assert_eq!(show("x=0:10:5"), "{'x': [0, 5, 10]}");
        assert_eq!(show("x=0:1:0.25"), "{'x': [0.0, 0.25, 0.5, 0.75, 1.0]}");
        assert_eq!(show("x=0:0.3:0.1"), "{'x': [0.0, 0.1, 0.2, 0.3]}");
        assert_eq!(show("x=2:2,y=[a;b]"), "{'x': [2], 'y': ['a', 'b']}");
        assert_eq!(show("p=C:/data,t=a:b"), "{'p': 'C:/data', 't': 'a:b'}");
        for (bad, why) in [
            ("x=0:1.5", "start:stop needs integers"),
            ("x=1:2:3:4", "expected start:stop or start:stop:step"),
            ("x=0:1:0", "the step must be positive"),
            ("x=3:1", "stop is below start"),
            ("x=0:1000000000", "more than 1000000 values"),
        ] {
            let err = parse_compact(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("input_variables: '{bad}' is not a range: {why}")),
                "{err}"
            );
        }
    }

    #[test]
    fn text_forms() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("d.csv"), "x,y\n1,a\n2.5,\n").unwrap();
        std::fs::write(dir.path().join("v.json"), r#"{"x":[1,2]}"#).unwrap();
        let t = from_text("d.csv", dir.path()).unwrap();
        assert_eq!(
            names(&t.cases().unwrap()),
            ["{'x': 1, 'y': 'a'}", "{'x': 2.5, 'y': None}"]
        );
        assert_eq!(
            from_text("v.json", dir.path())
                .unwrap()
                .cases()
                .unwrap()
                .len(),
            2
        );
        assert!(matches!(
            from_text("nope.json", dir.path()),
            Err(Error::NotFound(_))
        ));
        let err = from_text("hello", dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("input_variables must be a dictionary or DataFrame, got str"));
        let err = from_text("null", dir.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("input_variables: 'null' is not a design: give name=value pairs"),
            "{err}"
        );
        assert_eq!(
            from_text("x=[1,2]", dir.path())
                .unwrap()
                .cases()
                .unwrap()
                .len(),
            2
        );
    }
}
