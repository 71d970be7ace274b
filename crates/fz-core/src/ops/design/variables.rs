//! The input variables of `fzd`: ranges (`"[0;1]"`, `"[0,2]"`) handed to
//! the algorithm, and fixed values (`"5"`) merged into every point.

use crate::algorithms::{Point, Ranges};
use crate::error::{Error, Result};
use indexmap::IndexMap;

/// Ranges and fixed values, in the order given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Variables {
    /// Range variables: name → (min, max).
    pub ranges: Ranges,
    /// Fixed variables: name → value.
    pub fixed: IndexMap<String, f64>,
}

impl Variables {
    /// Every variable's name, ranges first.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.ranges.keys().chain(self.fixed.keys()).cloned()
    }

    /// Parses `name → text` (JSON strings; a JSON number is a fixed
    /// value too, where upstream crashed).
    pub fn parse(given: &serde_json::Map<String, serde_json::Value>) -> Result<Variables> {
        let mut out = Variables::default();
        for (name, value) in given {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            match parse_range(&text) {
                Some((min, max)) if min < max => {
                    out.ranges.insert(name.clone(), (min, max));
                }
                Some((min, max)) => {
                    return Err(Error::Value(format!(
                        "Invalid range for variable '{name}': min ({}) must be < max ({})",
                        py_float(min),
                        py_float(max)
                    )))
                }
                None => match text.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() => {
                        out.fixed.insert(name.clone(), v);
                    }
                    _ => {
                        return Err(Error::Value(format!(
                            "Invalid format for variable '{name}': '{text}'. Expected '[min;max]' \
                             for range or numeric value for fixed variable"
                        )))
                    }
                },
            }
        }
        Ok(out)
    }

    /// `point` with the fixed values merged in (they win over a
    /// same-named value), range variables first.
    pub fn complete(&self, point: &Point) -> Point {
        let mut out: Point = point
            .iter()
            .filter(|(k, _)| !self.fixed.contains_key(*k))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (k, v) in &self.fixed {
            out.insert(k.clone(), *v);
        }
        out
    }
}

/// `[a;b]` or `[a,b]` at the start of the trimmed text (trailing text
/// ignored, as upstream); `None` when it is not a range.
fn parse_range(text: &str) -> Option<(f64, f64)> {
    let inner = text.trim().strip_prefix('[')?;
    let end = inner.find(']')?;
    let inner = &inner[..end];
    let (a, b) = inner.split_once([';', ','])?;
    if b.contains([';', ',']) {
        return None;
    }
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn py_float(v: f64) -> String {
    crate::Value::Float(v).py_repr()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Variables> {
        match serde_json::from_str(json) {
            Ok(serde_json::Value::Object(m)) => Variables::parse(&m),
            _ => panic!("test JSON must be an object"),
        }
    }

    #[test]
    fn ranges_and_fixed_values() {
        let v = parse(r#"{"x": "[0;1]", "y": "[-5.5, 5.5] m", "z": "5", "w": 2}"#).unwrap();
        assert_eq!(v.ranges.get("x"), Some(&(0.0, 1.0)));
        assert_eq!(v.ranges.get("y"), Some(&(-5.5, 5.5)));
        assert_eq!(v.fixed.get("z"), Some(&5.0));
        assert_eq!(v.fixed.get("w"), Some(&2.0));
        let p: Point = [("x".to_string(), 0.5), ("z".to_string(), 9.0)]
            .into_iter()
            .collect();
        let full = v.complete(&p);
        assert_eq!(full.keys().collect::<Vec<_>>(), ["x", "z", "w"]);
        assert_eq!(full["z"], 5.0);
    }

    #[test]
    fn errors_name_the_variable() {
        let e = parse(r#"{"x": "[1;0]"}"#).unwrap_err().to_string();
        assert_eq!(
            e,
            "Invalid range for variable 'x': min (1.0) must be < max (0.0)"
        );
        let e = parse(r#"{"x": "[1,2,3]"}"#).unwrap_err().to_string();
        assert!(
            e.starts_with("Invalid format for variable 'x': '[1,2,3]'"),
            "{e}"
        );
        assert!(parse(r#"{"x": "abc"}"#).is_err());
    }
}
