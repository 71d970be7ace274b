//! The `fzo` table from per-directory results (compile-and-output.md §5.8):
//! `path`, the outputs in model order, `_output_error` when some extractor
//! failed, the variables read from each `info.txt` (or, for directories
//! without one, from directory names or `cases.csv`), then map values
//! flattened into columns.
//!
//! Every cell keeps its own type (no pandas upcast of integer columns).

use super::{Extracted, OutputDir, ERROR_COLUMN};
use crate::format::Table;
use crate::naming::{unescape_component, MANIFEST};
use crate::template::literal::{parse_py_float, parse_py_int};
use crate::value::Value;
use indexmap::IndexMap;
use std::path::Path;

/// Rounds of map flattening (upstream's bound).
const MAX_FLATTEN_ROUNDS: usize = 10;

/// A column-oriented table under construction.
type Columns = Vec<(String, Vec<Value>)>;

/// `cases.csv`: case directory name → (variable → text).
type Manifest = IndexMap<String, IndexMap<String, String>>;

/// Builds the `fzo` table. `names` are the output names in model order;
/// `dirs` and `results` are parallel, one per row.
pub fn build_table(names: &[String], dirs: &[OutputDir], results: &[Extracted]) -> Table {
    let nrows = dirs.len();
    let mut cols: Columns = Vec::new();
    cols.push((
        "path".to_string(),
        dirs.iter().map(|d| Value::Str(d.shown.clone())).collect(),
    ));
    for name in names {
        if name == "path" {
            // Upstream's row dict would overwrite `path`; keep the path.
            continue;
        }
        cols.push((
            name.clone(),
            results
                .iter()
                .map(|r| r.values.get(name).cloned().unwrap_or(Value::Null))
                .collect(),
        ));
    }
    if results.iter().any(|r| !r.errors.is_empty()) {
        cols.retain(|(n, _)| n != ERROR_COLUMN);
        cols.push((
            ERROR_COLUMN.to_string(),
            results
                .iter()
                .map(|r| r.error_text().map_or(Value::Null, Value::Str))
                .collect(),
        ));
    }
    let variables = row_variables(dirs).unwrap_or_default();
    let mut keys = Vec::new();
    for (key, values) in variables {
        // An output (or `path`) of the same name wins over the variable.
        if !cols.iter().any(|(n, _)| *n == key) {
            keys.push(cols.len());
            cols.push((key, values));
        }
    }
    let order = sorted_rows(&cols, &keys, nrows);
    flatten_maps(&mut cols, nrows);
    let mut table = Table::new(cols.iter().map(|(n, _)| n.clone()).collect());
    table.rows = order
        .into_iter()
        .map(|r| cols.iter().map(|(_, vals)| vals[r].clone()).collect())
        .collect();
    table
}

/// Row order: by the variable columns `keys` in turn, numbers by value
/// (R=470 before R=1000, which a sort of the names puts after), then
/// texts, then nulls; rows equal on every variable keep their order.
fn sorted_rows(cols: &Columns, keys: &[usize], nrows: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..nrows).collect();
    order.sort_by(|&a, &b| {
        keys.iter()
            .map(|&k| compare_values(&cols[k].1[a], &cols[k].1[b]))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    order
}

/// Numbers (by value; a text that reads as a number, such as `1e-07`,
/// counts as one) < other texts (by code point) < anything else.
fn compare_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn rank(v: &Value) -> (u8, Option<f64>, Option<&str>) {
        match v {
            Value::Int(i) => (0, Some(*i as f64), None),
            Value::Float(f) => (0, Some(*f), None),
            Value::Str(s) => match s.trim().parse::<f64>() {
                Ok(f) if !f.is_nan() => (0, Some(f), None),
                _ => (1, None, Some(s)),
            },
            _ => (2, None, None),
        }
    }
    let (ra, fa, sa) = rank(a);
    let (rb, fb, sb) = rank(b);
    ra.cmp(&rb)
        .then_with(|| match (fa, fb) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => std::cmp::Ordering::Equal,
        })
        .then_with(|| sa.cmp(&sb))
}

/// Types a variable value read from text: without a `.`, Python `int()`
/// if it parses; with one, `float()`; otherwise the text. So `1e-07` and
/// `True` stay strings and `2.5` is a float.
pub fn type_name_value(text: &str) -> Value {
    let typed = if text.contains('.') {
        parse_py_float(text).map(Value::Float)
    } else {
        parse_py_int(text)
    };
    typed.unwrap_or_else(|| Value::Str(text.to_string()))
}

/// Parses one `k1=v1,k2=v2` directory name into (key, raw value) pairs,
/// keys and values trimmed and unescaped; `None` unless every
/// comma-separated part holds a `=`.
pub fn parse_dir_name(name: &str) -> Option<IndexMap<String, String>> {
    if !name.contains('=') {
        return None;
    }
    let mut out = IndexMap::new();
    for part in name.split(',') {
        let (k, v) = part.split_once('=')?;
        out.insert(unescape_component(k.trim()), unescape_component(v.trim()));
    }
    Some(out)
}

/// The variables of every row: each directory's `info.txt` `input.*`
/// lines (written by `fzr`, exact values), else its name, else its
/// parent's `cases.csv`; `None` unless every row has them from one of
/// these. A key missing from some rows is `null` there.
fn row_variables(dirs: &[OutputDir]) -> Option<Columns> {
    let mut manifests: IndexMap<std::path::PathBuf, Option<Manifest>> = IndexMap::new();
    let mut rows = Vec::with_capacity(dirs.len());
    for d in dirs {
        let vars = info_variables(&d.dir)
            .or_else(|| name_variables(d))
            .or_else(|| manifest_variables(d, &mut manifests))?;
        rows.push(vars);
    }
    let cols = collect_columns(&rows);
    (!cols.is_empty()).then_some(cols)
}

/// Variables from the last component of the row's `path`.
fn name_variables(d: &OutputDir) -> Option<IndexMap<String, String>> {
    let name = Path::new(&d.shown)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse_dir_name(&name)
}

/// Variables from the `cases.csv` manifest next to the directory (each
/// manifest read once).
fn manifest_variables(
    d: &OutputDir,
    manifests: &mut IndexMap<std::path::PathBuf, Option<Manifest>>,
) -> Option<IndexMap<String, String>> {
    let parent = d.dir.parent()?.to_path_buf();
    let name = d.dir.file_name()?.to_string_lossy().into_owned();
    let manifest = manifests
        .entry(parent.clone())
        .or_insert_with(|| read_manifest(&parent.join(MANIFEST)))
        .as_ref()?;
    manifest.get(&name).cloned()
}

/// `cases.csv` as case name → (variable → text); `None` when missing or
/// malformed.
fn read_manifest(path: &Path) -> Option<Manifest> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .ok()?;
    let headers = reader.headers().ok()?.clone();
    let case_col = headers.iter().position(|h| h == "case")?;
    let mut out = IndexMap::new();
    for record in reader.records() {
        let record = record.ok()?;
        let mut vars = IndexMap::new();
        for (i, (h, v)) in headers.iter().zip(record.iter()).enumerate() {
            if i != case_col {
                vars.insert(h.to_string(), v.to_string());
            }
        }
        out.insert(record.get(case_col)?.to_string(), vars);
    }
    Some(out)
}

/// Variables from a directory's `info.txt` `input.<var>=<value>` lines;
/// `None` without the file or without such lines.
fn info_variables(dir: &Path) -> Option<IndexMap<String, String>> {
    let bytes = std::fs::read(dir.join("info.txt")).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut vars = IndexMap::new();
    for line in text.split(['\n', '\r']) {
        if let Some((k, v)) = line.strip_prefix("input.").and_then(|l| l.split_once('=')) {
            vars.insert(k.to_string(), v.to_string());
        }
    }
    (!vars.is_empty()).then_some(vars)
}

/// Typed columns from per-row (key → text) maps, keys in first-seen order;
/// a key missing from some row is `null` there.
fn collect_columns(rows: &[IndexMap<String, String>]) -> Columns {
    let mut keys: Vec<&String> = Vec::new();
    for row in rows {
        for k in row.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys.into_iter()
        .map(|k| {
            let values = rows
                .iter()
                .map(|r| r.get(k).map_or(Value::Null, |v| type_name_value(v)))
                .collect();
            (k.clone(), values)
        })
        .collect()
}

/// Flattens the map-valued columns of a finished table (used by `fzr`,
/// whose outputs may be maps), as `fzo` does for its own table.
pub fn flatten_table(table: &mut Table) {
    let width = table.columns.len();
    let any_map = (0..width).any(|c| {
        matches!(
            table
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .find(|v| !matches!(v, Value::Null)),
            Some(Value::Map(_))
        )
    });
    if !any_map && table.rows.iter().all(|r| r.len() == width) {
        // Nothing to flatten: the table would come back as it is, after
        // two copies (a large run's table is built while it runs).
        return;
    }
    let nrows = table.rows.len();
    let mut cols: Columns = table
        .columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let values = table
                .rows
                .iter()
                .map(|r| r.get(c).cloned().unwrap_or(Value::Null))
                .collect();
            (name.clone(), values)
        })
        .collect();
    flatten_maps(&mut cols, nrows);
    table.columns = cols.iter().map(|(n, _)| n.clone()).collect();
    table.rows = (0..nrows)
        .map(|r| {
            cols.iter()
                .map(|(_, v)| v.get(r).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
}

/// Flattens map-valued columns (§5.8.3): while the first non-null value of
/// some column is a map, every map cell of such a column becomes columns
/// `<col>_<key>[_<subkey>…]` appended at the end (a column of that name
/// already present is replaced in place) and the column is dropped.
fn flatten_maps(cols: &mut Columns, nrows: usize) {
    for _ in 0..MAX_FLATTEN_ROUNDS {
        let map_cols: Vec<String> = cols
            .iter()
            .filter(|(_, vals)| {
                matches!(
                    vals.iter().find(|v| !matches!(v, Value::Null)),
                    Some(Value::Map(_))
                )
            })
            .map(|(n, _)| n.clone())
            .collect();
        if map_cols.is_empty() {
            return;
        }
        let mut new_cols: IndexMap<String, Vec<Value>> = IndexMap::new();
        for name in &map_cols {
            let Some((_, vals)) = cols.iter().find(|(n, _)| n == name) else {
                continue;
            };
            for (r, v) in vals.iter().enumerate() {
                if let Value::Map(map) = v {
                    let mut flat = IndexMap::new();
                    flatten_map(map, name, &mut flat);
                    for (k, fv) in flat {
                        new_cols
                            .entry(k)
                            .or_insert_with(|| vec![Value::Null; nrows])[r] = fv;
                    }
                }
            }
        }
        for (k, vals) in new_cols {
            match cols.iter_mut().find(|(n, _)| *n == k) {
                Some(existing) => existing.1 = vals,
                None => cols.push((k, vals)),
            }
        }
        cols.retain(|(n, _)| !map_cols.contains(n));
    }
}

/// `map` flattened under `prefix`: nested maps joined with `_`; a later
/// duplicate key replaces the value in place.
fn flatten_map(map: &IndexMap<String, Value>, prefix: &str, out: &mut IndexMap<String, Value>) {
    for (k, v) in map {
        let key = format!("{prefix}_{k}");
        match v {
            Value::Map(inner) => flatten_map(inner, &key, out),
            other => {
                out.insert(key, other.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn s(t: &str) -> Value {
        Value::Str(t.into())
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn dir(shown: &str) -> OutputDir {
        OutputDir {
            dir: PathBuf::from("/nonexistent").join(shown),
            shown: shown.into(),
        }
    }

    fn result(pairs: &[(&str, Value)], errors: &[&str]) -> Extracted {
        Extracted {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            errors: errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn name_values_are_typed_like_upstream() {
        let cases = [
            ("1", Value::Int(1)),
            ("-7", Value::Int(-7)),
            ("007", Value::Int(7)),
            ("2.5", Value::Float(2.5)),
            ("1.0", Value::Float(1.0)),
            ("1e-07", s("1e-07")),
            ("1e+16", s("1e+16")),
            ("True", s("True")),
            ("abc", s("abc")),
            ("1.5.2", s("1.5.2")),
            ("", s("")),
            ("1_000", Value::Int(1000)),
        ];
        for (text, want) in cases {
            assert_eq!(type_name_value(text), want, "{text:?}");
        }
    }

    #[test]
    fn dir_names_parse_all_or_nothing() {
        let p = parse_dir_name(" x = 1 ,y=a%2Fb,z=50%").unwrap();
        assert_eq!(
            p.into_iter().collect::<Vec<_>>(),
            [
                ("x".to_string(), "1".to_string()),
                ("y".to_string(), "a/b".to_string()),
                ("z".to_string(), "50%".to_string())
            ]
        );
        assert_eq!(parse_dir_name("caseA"), None);
        assert_eq!(parse_dir_name("x=1,extra"), None);
        assert_eq!(parse_dir_name("x=a=b").unwrap()["x"], "a=b");

        let dirs = [
            dir("res/x=1,y=True"),
            dir("res/x=2.5,y=1e-07"),
            dir("res/x=10,y=a%2Fb"),
        ];
        let results = vec![Extracted::default(); 3];
        let t = build_table(&[], &dirs, &results);
        assert_eq!(t.columns, ["path", "x", "y"]);
        assert_eq!(t.rows[0], [s("res/x=1,y=True"), Value::Int(1), s("True")]);
        assert_eq!(t.rows[1][1..], [Value::Float(2.5), s("1e-07")]);
        assert_eq!(t.rows[2][1..], [Value::Int(10), s("a/b")]);

        // One unparsable name: no variable column for any row.
        let dirs = [dir("plain/caseA"), dir("plain/x=1")];
        let t = build_table(&[], &dirs, &[Extracted::default(), Extracted::default()]);
        assert_eq!(t.columns, ["path"]);
    }

    #[test]
    fn output_named_like_a_variable_wins() {
        let dirs = [dir("r/x=1,y=2")];
        let results = [result(&[("x", s("out"))], &[])];
        let t = build_table(&["x".into()], &dirs, &results);
        assert_eq!(t.columns, ["path", "x", "y"]);
        assert_eq!(t.rows[0], [s("r/x=1,y=2"), s("out"), Value::Int(2)]);
    }

    #[test]
    fn flattening_and_column_order() {
        let names: Vec<String> = ["a", "js", "late", "b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let dirs = [dir("r/k=1"), dir("r/k=2")];
        let results = [
            result(
                &[
                    ("a", Value::Int(1)),
                    (
                        "js",
                        map(&[("p", Value::Int(1)), ("q", map(&[("r", Value::Int(2))]))]),
                    ),
                    ("late", Value::Null),
                    ("b", Value::Null),
                ],
                &["Output 'b': failed"],
            ),
            result(
                &[
                    ("a", Value::Int(2)),
                    ("js", map(&[("z", s("only here"))])),
                    ("late", map(&[("m", Value::Int(1))])),
                    ("b", Value::Float(0.5)),
                ],
                &[],
            ),
        ];
        let t = build_table(&names, &dirs, &results);
        assert_eq!(
            t.columns,
            [
                "path",
                "a",
                "b",
                "_output_error",
                "k",
                "js_p",
                "js_q_r",
                "js_z",
                "late_m"
            ]
        );
        assert_eq!(
            t.rows[0],
            [
                s("r/k=1"),
                Value::Int(1),
                Value::Null,
                s("Output 'b': failed"),
                Value::Int(1),
                Value::Int(1),
                Value::Int(2),
                Value::Null,
                Value::Null
            ]
        );
        assert_eq!(
            t.rows[1],
            [
                s("r/k=2"),
                Value::Int(2),
                Value::Float(0.5),
                Value::Null,
                Value::Int(2),
                Value::Null,
                Value::Null,
                s("only here"),
                Value::Int(1)
            ]
        );

        // A column whose first non-null value is not a map stays as is.
        let results = [
            result(&[("a", s("text"))], &[]),
            result(&[("a", map(&[("k", Value::Int(1))]))], &[]),
        ];
        let t = build_table(&["a".into()], &[dir("p"), dir("q")], &results);
        assert_eq!(t.columns, ["path", "a"]);
        assert_eq!(t.rows[1][1], map(&[("k", Value::Int(1))]));

        // Maps nested in maps flatten fully; a flattened name that exists
        // already replaces that column in place.
        let results = [result(
            &[
                ("m_x", Value::Int(0)),
                (
                    "m",
                    map(&[
                        ("x", Value::Int(9)),
                        ("y", map(&[("z", map(&[("w", Value::Int(3))]))])),
                    ]),
                ),
            ],
            &[],
        )];
        let t = build_table(&["m_x".into(), "m".into()], &[dir("p")], &results);
        assert_eq!(t.columns, ["path", "m_x", "m_y_z_w"]);
        assert_eq!(t.rows[0], [s("p"), Value::Int(9), Value::Int(3)]);
    }

    #[test]
    fn manifest_then_info_fallbacks() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        for name in ["case_0", "case_1"] {
            std::fs::create_dir_all(root.join("res").join(name)).unwrap();
        }
        std::fs::write(
            root.join("res").join("cases.csv"),
            "case,x,s\ncase_0,1,1e-07\ncase_1,2.5,\"a,b\"\n",
        )
        .unwrap();
        let dirs: Vec<OutputDir> = ["case_0", "case_1"]
            .iter()
            .map(|n| OutputDir {
                dir: root.join("res").join(n),
                shown: format!("res/{n}"),
            })
            .collect();
        let empty = vec![Extracted::default(); 2];
        let tab = build_table(&[], &dirs, &empty);
        assert_eq!(tab.columns, ["path", "x", "s"]);
        assert_eq!(tab.rows[0][1..], [Value::Int(1), s("1e-07")]);
        assert_eq!(tab.rows[1][1..], [Value::Float(2.5), s("a,b")]);

        // info.txt, where present, wins over the manifest (it holds the
        // exact values); a key missing from a row is null there.
        std::fs::write(root.join("res").join("cases.csv"), "case,x\ncase_0,1\n").unwrap();
        std::fs::write(
            root.join("res/case_0/info.txt"),
            "status=done\ninput.x=3\ninput.only=1\ninput.t= 2.0\n",
        )
        .unwrap();
        std::fs::write(
            root.join("res/case_1/info.txt"),
            "input.t=abc\r\ninput.x=4\r\n",
        )
        .unwrap();
        let tab = build_table(&[], &dirs, &empty);
        assert_eq!(tab.columns, ["path", "x", "only", "t"]);
        assert_eq!(
            tab.rows[0][1..],
            [Value::Int(3), Value::Int(1), Value::Float(2.0)]
        );
        assert_eq!(tab.rows[1][1..], [Value::Int(4), Value::Null, s("abc")]);

        // Neither info.txt nor a manifest line nor a parsable name in one
        // directory: no variables at all.
        std::fs::remove_file(root.join("res/case_1/info.txt")).unwrap();
        assert_eq!(build_table(&[], &dirs, &empty).columns, ["path"]);
    }
}
