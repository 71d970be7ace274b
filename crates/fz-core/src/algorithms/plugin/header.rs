//! The metadata header of a plugin file (design-of-experiments §5.2):
//! leading `#key: value` comment lines, read in Rust so that listing and
//! checking need no interpreter.
//!
//! This module parses text only; it neither reads options' meaning nor
//! checks `#require` (the host does, see [`super::host`]).

use crate::error::{Error, Result};
use indexmap::IndexMap;
use std::path::Path;

/// What the header of a plugin file declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// `#options: k1=v1;k2=v2`: default option values, as text, in order.
    pub options: IndexMap<String, String>,
    /// `#require: pkg1;pkg2`: packages the plugin needs.
    pub require: Vec<String>,
    /// Every other `#key: value` line (`title`, `author`, `type`, …).
    pub other: IndexMap<String, String>,
}

impl Header {
    /// Parses the header of `text`: comment lines up to the first non-empty
    /// line that is not a comment (a module docstring or the first statement
    /// ends it). A line `#key: value` is split at its first `:`, both sides
    /// trimmed; comment lines without `:` are ignored. A later line with
    /// the same key replaces an earlier one.
    pub fn parse(text: &str) -> Header {
        let mut header = Header::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix('#') else {
                break;
            };
            let Some((key, value)) = comment.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                continue;
            }
            match key {
                "options" => header.options = parse_options(value),
                "require" => header.require = split_list(value).map(str::to_string).collect(),
                _ => {
                    header.other.insert(key.to_string(), value.to_string());
                }
            }
        }
        header
    }

    /// Reads and parses the header of the file at `path`; the error names
    /// the file.
    pub fn read(path: &Path) -> Result<Header> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Ok(Header::parse(&String::from_utf8_lossy(&bytes)))
    }

    /// The default options as (name, text) pairs, for
    /// [`crate::algorithms::Options::with_defaults`].
    pub fn defaults(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// `k1=v1;k2=v2` → ordered map of strings. An item without `=` is skipped
/// (upstream skips it too); values keep inner spaces, trimmed at the ends.
fn parse_options(value: &str) -> IndexMap<String, String> {
    split_list(value)
        .filter_map(|item| item.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// The non-empty, trimmed items of a `;`-separated list.
fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(';').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_require_and_other_keys() {
        let h = Header::parse(
            "#title: Random Sampling\n#author: Test: Someone\n\n#options: nvalues=10; seed = 42 ;bad;=x\n# require: numpy;scipy;\n# plain comment\nimport random\n#options: late=1\n",
        );
        assert_eq!(
            h.options.iter().collect::<Vec<_>>(),
            [
                (&"nvalues".to_string(), &"10".to_string()),
                (&"seed".to_string(), &"42".to_string())
            ]
        );
        assert_eq!(h.require, ["numpy", "scipy"]);
        assert_eq!(
            h.other.get("title").map(String::as_str),
            Some("Random Sampling")
        );
        assert_eq!(
            h.other.get("author").map(String::as_str),
            Some("Test: Someone")
        );
        assert_eq!(
            h.defaults().collect::<Vec<_>>(),
            [("nvalues", "10"), ("seed", "42")]
        );
    }

    #[test]
    fn a_docstring_ends_the_header() {
        let h = Header::parse("\"\"\"Doc\n#options: a=1\n\"\"\"\n");
        assert_eq!(h, Header::default());
        let h = Header::parse("");
        assert_eq!(h, Header::default());
    }

    #[test]
    fn user_options_override_header_defaults_key_by_key() {
        let h = Header::parse("#options: nvalues=10;seed=42\n");
        let mut user = serde_json::Map::new();
        user.insert("seed".into(), serde_json::json!(7));
        let o = crate::algorithms::Options::new("f.py", user).with_defaults(h.defaults());
        assert_eq!(o.values["seed"], serde_json::json!(7));
        assert_eq!(o.values["nvalues"], serde_json::json!("10"));
    }
}
