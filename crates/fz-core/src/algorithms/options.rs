//! Algorithm options: what the user passed (`--options`, `algorithm_options`)
//! over the defaults (a plugin's `#options:` header, a built-in's table).
//!
//! Header defaults are strings (`nvalues=10`); user options are JSON values.
//! Getters accept either form, so `{"nvalues": "20"}` and `{"nvalues": 20}`
//! mean the same, and name the option and the value at fault otherwise.

use crate::error::{Error, Result};

/// Options of one algorithm: name → JSON value, user values over defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Who the options are for, named in error messages (`brent`, a file).
    pub owner: String,
    /// The values.
    pub values: serde_json::Map<String, serde_json::Value>,
}

impl Options {
    /// Options for `owner` from a JSON object.
    pub fn new(owner: &str, values: serde_json::Map<String, serde_json::Value>) -> Self {
        Options {
            owner: owner.to_string(),
            values,
        }
    }

    /// Adds `defaults` (name, text) for the names not already set.
    pub fn with_defaults<'a>(
        mut self,
        defaults: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        for (name, text) in defaults {
            if !self.values.contains_key(name) {
                self.values.insert(
                    name.to_string(),
                    serde_json::Value::String(text.to_string()),
                );
            }
        }
        self
    }

    /// The names set that are not in `known` (for a warning naming them).
    pub fn unknown<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        self.values
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect()
    }

    /// A float option (a number or a numeric string); `default` when unset.
    pub fn f64(&self, name: &str, default: f64) -> Result<f64> {
        match self.values.get(name) {
            None | Some(serde_json::Value::Null) => Ok(default),
            Some(serde_json::Value::Number(n)) => {
                n.as_f64().ok_or_else(|| self.bad(name, "a number"))
            }
            Some(serde_json::Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| self.bad(name, "a number")),
            Some(serde_json::Value::Bool(b)) => Ok(if *b { 1.0 } else { 0.0 }),
            Some(_) => Err(self.bad(name, "a number")),
        }
    }

    /// An integer option (`10`, `"10"`, `10.0` or `"10.0"`); `default` when
    /// unset. A fractional or negative value is an error.
    pub fn usize(&self, name: &str, default: usize) -> Result<usize> {
        if !self.values.contains_key(name) {
            return Ok(default);
        }
        let v = self.f64(name, default as f64)?;
        if v < 0.0 || v.fract() != 0.0 || !v.is_finite() {
            return Err(self.bad(name, "a non-negative integer"));
        }
        Ok(v as usize)
    }

    /// An unsigned 64-bit integer option (seeds); `default` when unset.
    pub fn u64(&self, name: &str, default: u64) -> Result<u64> {
        match self.values.get(name) {
            None | Some(serde_json::Value::Null) => Ok(default),
            Some(serde_json::Value::Number(n)) => match n.as_u64() {
                Some(v) => Ok(v),
                None => self.usize(name, default as usize).map(|v| v as u64),
            },
            Some(serde_json::Value::String(s)) => match s.trim().parse::<u64>() {
                Ok(v) => Ok(v),
                Err(_) => self.usize(name, default as usize).map(|v| v as u64),
            },
            Some(_) => Err(self.bad(name, "a non-negative integer")),
        }
    }

    /// A boolean option (`true`, `"true"`, `1`, `"yes"`…); `default` when unset.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.values.get(name) {
            None | Some(serde_json::Value::Null) => Ok(default),
            Some(serde_json::Value::Bool(b)) => Ok(*b),
            Some(serde_json::Value::Number(n)) => Ok(n.as_f64() != Some(0.0)),
            Some(serde_json::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(self.bad(name, "true or false")),
            },
            Some(_) => Err(self.bad(name, "true or false")),
        }
    }

    fn bad(&self, name: &str, expected: &str) -> Error {
        let shown = self
            .values
            .get(name)
            .map_or_else(String::new, |v| v.to_string());
        Error::Value(format!(
            "option '{name}' of algorithm '{}' must be {expected}, got {shown}",
            self.owner
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(json: &str) -> Options {
        match serde_json::from_str(json) {
            Ok(serde_json::Value::Object(m)) => Options::new("t", m),
            _ => panic!("test JSON must be an object"),
        }
    }

    #[test]
    fn numbers_and_numeric_strings_mean_the_same() {
        let o = opts(r#"{"a": 3, "b": "3", "c": "2.5", "d": 4.0}"#);
        assert_eq!(o.usize("a", 0).ok(), Some(3));
        assert_eq!(o.usize("b", 0).ok(), Some(3));
        assert_eq!(o.f64("c", 0.0).ok(), Some(2.5));
        assert_eq!(o.usize("d", 0).ok(), Some(4));
        assert_eq!(o.usize("missing", 7).ok(), Some(7));
    }

    #[test]
    fn bad_values_name_option_and_owner() {
        let o = opts(r#"{"n": "ten", "k": 2.5}"#);
        let e = o
            .usize("n", 1)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("'n'") && e.contains("'t'") && e.contains("ten"),
            "{e}"
        );
        assert!(o.usize("k", 1).is_err());
    }

    #[test]
    fn defaults_fill_only_unset_names() {
        let o = opts(r#"{"a": 1}"#).with_defaults([("a", "5"), ("b", "6")]);
        assert_eq!(o.usize("a", 0).ok(), Some(1));
        assert_eq!(o.usize("b", 0).ok(), Some(6));
        assert_eq!(o.unknown(&["a"]), vec!["b"]);
    }
}
