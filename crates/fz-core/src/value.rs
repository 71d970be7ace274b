//! Dynamic values exchanged with users: variable values, defaults, formula
//! results and (later) parsed outputs.
//!
//! This module owns the value model and its two Python-compatible text
//! renderings, `str()` and `repr()`, which fz uses for case directory names,
//! substituted values and table cells. It must not know about templates,
//! files or formats.

use indexmap::IndexMap;
use std::fmt::Write as _;

/// A value as Python users of fz know it.
///
/// `Tuple` is kept apart from `List` because Python renders them differently
/// (`(1, 2)` vs `[1, 2]`) and, in a design, a tuple is a fixed value while a
/// list is an axis.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Python `None` / JSON `null`.
    Null,
    /// Python `bool`.
    Bool(bool),
    /// Python `int` (within 128 bits; `10**20` stays exact).
    Int(i128),
    /// Python `float`.
    Float(f64),
    /// Python `str`.
    Str(String),
    /// Python `list`.
    List(Vec<Value>),
    /// Python `tuple`.
    Tuple(Vec<Value>),
    /// Python `dict` (insertion order kept).
    Map(IndexMap<String, Value>),
}

impl Value {
    /// Python `str(value)`: strings as is, everything else as `repr`.
    pub fn py_str(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            other => other.py_repr(),
        }
    }

    /// Python `repr(value)`.
    pub fn py_repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&py_float_repr(*f)),
            Value::Str(s) => out.push_str(&py_str_repr(s)),
            Value::List(items) => {
                out.push('[');
                write_items(items, out);
                out.push(']');
            }
            Value::Tuple(items) => {
                out.push('(');
                write_items(items, out);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Value::Map(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&py_str_repr(k));
                    out.push_str(": ");
                    v.write_repr(out);
                }
                out.push('}');
            }
        }
    }

    /// Python `json.dumps(value, sort_keys=sort_keys)`: `", "`/`": "`
    /// separators, non-ASCII escaped, `NaN`/`Infinity` for non-finite floats.
    pub fn py_json(&self, sort_keys: bool) -> String {
        let mut out = String::new();
        self.write_json(&mut out, sort_keys);
        out
    }

    fn write_json(&self, out: &mut String, sort_keys: bool) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) if f.is_nan() => out.push_str("NaN"),
            Value::Float(f) if f.is_infinite() => {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Value::Float(f) => out.push_str(&py_float_repr(*f)),
            Value::Str(s) => write_json_str(s, out),
            Value::List(items) | Value::Tuple(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_json(out, sort_keys);
                }
                out.push(']');
            }
            Value::Map(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                if sort_keys {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_json_str(k, out);
                    out.push_str(": ");
                    v.write_json(out, sort_keys);
                }
                out.push('}');
            }
        }
    }

    /// The value as a number, if it is one (bools count, as in Python).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// Python type name, for error messages (`int`, `str`, `list`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "dict",
        }
    }

    /// Converts to JSON; tuples become arrays, non-finite floats become
    /// `null` (JSON has no NaN).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => serde_json::Number::from_i128(*i).map_or(J::Null, J::Number),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::List(items) | Value::Tuple(items) => {
                J::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(map) => {
                J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i128() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::List(items.iter().map(Value::from).collect()),
            J::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Self {
        Value::from(&json)
    }
}

/// Appends `s` as a JSON string literal with every non-ASCII character
/// escaped, as Python's `json.dumps` does by default (`ensure_ascii`).
pub fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_items(items: &[Value], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out);
    }
}

/// Python `repr(float)`: shortest round-trip digits, scientific notation
/// when the decimal exponent is < -4 or >= 16, integral floats keep `.0`.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let mut m = String::new();
        m.push_str(&digits[..1]);
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if (point as usize) >= digits.len() {
        format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// Python `'%.<precision>g' % f` (`format(f, 'g')` for precision 6):
/// scientific notation when the exponent is < -4 or >= precision, trailing
/// zeros removed.
pub fn py_format_g(f: f64, precision: usize) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let p = precision.max(1);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    // The exponent after rounding to p significant digits decides the layout.
    let sci = format!("{:.*e}", p - 1, f);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if exp < -4 || exp >= p as i32 {
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{}e{esign}{:02}", strip(mantissa), exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip(&format!("{f:.decimals$}"))
    }
}

/// Python `repr(str)`: single quotes unless the text holds a `'` and no `"`.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_g_matches_python() {
        // What Python's "%.6g" % v and "%.4g" % v print.
        let cases = [
            (1.0025, 6, "1.0025"),
            (1.0, 6, "1"),
            (0.0, 6, "0"),
            (-0.0, 6, "-0"),
            (1e-5, 6, "1e-05"),
            (123456789.0, 6, "1.23457e+08"),
            (0.0001234567, 6, "0.000123457"),
            (999999.5, 6, "1e+06"),
            (100000.0, 6, "100000"),
            (0.123456, 4, "0.1235"),
            (12345.0, 4, "1.234e+04"),
        ];
        for (v, p, want) in cases {
            assert_eq!(py_format_g(v, p), want, "%.{p}g of {v}");
        }
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (2.0, "2.0"),
            (0.1, "0.1"),
            (2.5, "2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (1e-7, "1e-07"),
            (-7.25, "-7.25"),
            (123456.789, "123456.789"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-0.0, "-0.0"),
            (293.15, "293.15"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_repr(f), want, "repr({f:?})");
        }
    }

    #[test]
    fn str_and_repr_match_python() {
        let mut map = IndexMap::new();
        map.insert("a".to_string(), Value::Int(1));
        let cases = [
            (Value::Int(-7), "-7"),
            (Value::Int(10i128.pow(20)), "100000000000000000000"),
            (Value::Bool(true), "True"),
            (Value::Bool(false), "False"),
            (Value::Null, "None"),
            (Value::Str("x y".into()), "x y"),
            (Value::List(vec![Value::Int(1), Value::Int(2)]), "[1, 2]"),
            (
                Value::List(vec![Value::Str("a".into()), Value::Str("b".into())]),
                "['a', 'b']",
            ),
            (Value::List(vec![Value::Bool(true)]), "[True]"),
            (Value::Map(map), "{'a': 1}"),
            (Value::Tuple(vec![Value::Int(1), Value::Int(2)]), "(1, 2)"),
            (Value::Tuple(vec![Value::Int(1)]), "(1,)"),
            (Value::List(vec![Value::Str("it's".into())]), "[\"it's\"]"),
        ];
        for (v, want) in cases {
            assert_eq!(v.py_str(), want);
        }
    }

    #[test]
    fn py_json_matches_python_dumps() {
        let mut map = IndexMap::new();
        map.insert("y".to_string(), Value::Float(3.5));
        map.insert("x".to_string(), Value::Int(1));
        map.insert("s".to_string(), Value::Str("é\"\n".into()));
        let v = Value::Map(map);
        assert_eq!(v.py_json(true), r#"{"s": "\u00e9\"\n", "x": 1, "y": 3.5}"#);
        assert_eq!(Value::Float(f64::NAN).py_json(false), "NaN");
        assert_eq!(Value::Str("😀".into()).py_json(false), r#""\ud83d\ude00""#);
    }

    #[test]
    fn json_round_trip_keeps_ints_and_order() {
        let j: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":[2.0,"x",null]}"#).unwrap();
        let v = Value::from(&j);
        assert_eq!(v.py_str(), "{'b': 1, 'a': [2.0, 'x', None]}");
        assert_eq!(v.to_json(), j);
    }
}
