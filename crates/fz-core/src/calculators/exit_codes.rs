//! `?ok_exit=0,1`: the exit codes a calculator accepts as success (some
//! programs, e.g. `ngspice -b`, exit 1 after printing their results).
//!
//! This module owns reading that query key; each calculator asks
//! [`OkExit::accepts`] about the code its command exited with.

use super::uri::CalculatorUri;
use crate::{Error, Result};

/// The query key.
pub const KEY: &str = "ok_exit";

/// The accepted exit codes (`0` alone unless the URI says otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkExit(Vec<i32>);

impl Default for OkExit {
    fn default() -> Self {
        OkExit(vec![0])
    }
}

impl OkExit {
    /// The codes listed by `?ok_exit=` (the full list: 0 is not implied),
    /// or the default. Errors ([`Error::Value`], naming the redacted URI):
    /// an empty list or an item that is not an integer.
    pub fn from_uri(uri: &CalculatorUri) -> Result<Self> {
        let Some(text) = uri.params.get(KEY) else {
            return Ok(OkExit::default());
        };
        let codes: Option<Vec<i32>> = text
            .split(',')
            .map(|c| c.trim().parse::<i32>().ok())
            .collect();
        match codes {
            Some(codes) if !codes.is_empty() => Ok(OkExit(codes)),
            _ => Err(Error::Value(format!(
                "Invalid calculator URI '{}': ok_exit must be a comma-separated list of \
                 exit codes, got '{text}'",
                uri.display
            ))),
        }
    }

    /// Whether a command exiting with `code` succeeded.
    pub fn accepts(&self, code: i32) -> bool {
        self.0.contains(&code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(uri: &str) -> Result<OkExit> {
        OkExit::from_uri(&CalculatorUri::parse(uri)?)
    }

    #[test]
    fn codes_are_read_from_the_query() {
        let ok = parse("sh://ngspice -b?ok_exit=0,1").unwrap();
        assert!(ok.accepts(0) && ok.accepts(1) && !ok.accepts(2));
        let ok = parse("sh://x?ok_exit=3").unwrap();
        assert!(ok.accepts(3) && !ok.accepts(0), "0 is not implied");
        let ok = parse("sh://x").unwrap();
        assert!(ok.accepts(0) && !ok.accepts(1));
        for bad in [
            "sh://x?ok_exit=a",
            "sh://x?ok_exit=1,,2",
            "sh://x?ok_exit=%20",
        ] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("ok_exit must be a comma-separated list"),
                "{err}"
            );
        }
    }
}
