//! Calculator URIs: splitting `scheme://body?query` into its parts, and
//! redacting passwords for display.
//!
//! This module owns the URI *syntax* only: the scheme, the body (whatever a
//! scheme makes of it: a shell command for `sh://`, `user@host/command` for
//! `ssh://`, …), the trailing query parameters and their percent-decoding.
//! It does not resolve aliases, check that a scheme is runnable, nor
//! interpret a body; the calculators of each scheme do that.
//!
//! # The query rule
//!
//! A `?` may appear inside a shell command (`sh://bash -c 'echo a?b'`,
//! `sh://ls data?.txt`), so not every `?` starts a query. The query is the
//! text after the **last** `?` of the URI, and only when that whole text
//! has the form `key=value(&key=value)*` where
//!
//! * every key is one of [`QUERY_KEYS`] (compared case-insensitively), and
//! * no value contains whitespace, `?` or `&` (write them `%20`, `%3F`,
//!   `%26`: values are percent-decoded).
//!
//! Otherwise the URI has no query and the `?` stays in the body. A
//! recognised query with a bad value (`?timeout=abc`) is an error, not part
//! of the body. When a key is repeated, the last value wins.
//!
//! A text that was surely meant as a query but is not one is an error
//! rather than part of the command (where `&` would put the command in the
//! background): a `?` glued to the word before it, followed by
//! `name=value` pairs without spaces or quotes, one of whose names is not a
//! query key (`c.sh?array=1&chunk=auto`), or one of whose pairs is not
//! `name=value` while another names a query key (`?timeout=5&out/x`). A
//! `?` that belongs to the command is written after a space, inside
//! quotes, or percent-encoded.

use crate::{Error, Result};
use indexmap::IndexMap;
use std::time::Duration;

/// Query keys recognised at the end of a calculator URI: `timeout` for every
/// scheme, `ok_exit` for `sh://`, `ssh://` and `slurm://`, the others for batch
/// schedulers (`slurm://`) and remote runs.
pub const QUERY_KEYS: &[&str] = &[
    "timeout",
    "ok_exit",
    "array",
    "pack",
    "time",
    "mem",
    "cpus",
    "account",
    "qos",
    "partition",
    "keep",
];

/// A calculator URI split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct CalculatorUri {
    /// The scheme, lower-cased (`sh`, `ssh`, `slurm`, …).
    pub scheme: String,
    /// Everything between `://` and the query, as written (not decoded).
    /// Empty for `sh://`.
    pub body: String,
    /// The `timeout` query parameter, when given.
    pub timeout: Option<Duration>,
    /// The other query parameters (lower-cased keys, percent-decoded
    /// values), in the order written.
    pub params: IndexMap<String, String>,
    /// The URI with passwords redacted (see [`redact`]), for messages.
    pub display: String,
}

impl CalculatorUri {
    /// Parses `scheme://body[?key=value(&key=value)*]` (see the module
    /// documentation for when a `?` starts the query).
    ///
    /// Errors ([`Error::Value`], naming the redacted URI): empty URI, no
    /// `://`, an empty or malformed scheme, a bad percent escape, a
    /// `timeout` that is not a positive number of seconds.
    pub fn parse(uri: &str) -> Result<Self> {
        let display = redact(uri);
        if uri.trim().is_empty() {
            return Err(Error::Value("Calculator URI is empty".to_string()));
        }
        let Some(sep) = uri.find("://") else {
            return Err(Error::Value(format!(
                "Invalid calculator URI '{display}': it must include a scheme \
                 (e.g. 'sh://', 'ssh://', 'cache://')"
            )));
        };
        let scheme = &uri[..sep];
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(Error::Value(format!(
                "Invalid calculator URI '{display}': bad scheme '{scheme}'"
            )));
        }
        let rest = &uri[sep + 3..];
        let (body, query) = split_query(rest);
        if query.is_none() {
            if let Some(why) = misread_query(rest) {
                return Err(Error::Value(format!(
                    "Invalid calculator URI '{display}': {why}; known query keys: {}. \
                     Write a '?' that belongs to the command after a space, in quotes or as %3F",
                    QUERY_KEYS.join(", ")
                )));
            }
        }
        let mut timeout = None;
        let mut params = IndexMap::new();
        if let Some(query) = query {
            for pair in query.split('&') {
                // split_query guarantees `key=value` pairs.
                let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
                let key = key.to_ascii_lowercase();
                let value = percent_decode(raw).ok_or_else(|| {
                    Error::Value(format!(
                        "Invalid calculator URI '{display}': bad percent escape in \
                         '{key}={raw}'"
                    ))
                })?;
                if key == "timeout" {
                    timeout = Some(parse_timeout(&value).ok_or_else(|| {
                        Error::Value(format!(
                            "Invalid calculator URI '{display}': timeout must be a \
                             positive number of seconds, got '{value}'"
                        ))
                    })?);
                } else {
                    params.insert(key, value);
                }
            }
        }
        Ok(CalculatorUri {
            scheme: scheme.to_ascii_lowercase(),
            body: body.to_string(),
            timeout,
            params,
            display,
        })
    }
}

/// Parses a calculator URI; same as [`CalculatorUri::parse`].
pub fn parse(uri: &str) -> Result<CalculatorUri> {
    CalculatorUri::parse(uri)
}

/// Splits the text after `://` into the body and the query (without its
/// `?`), following the rule of the module documentation.
pub fn split_query(rest: &str) -> (&str, Option<&str>) {
    let Some(q) = rest.rfind('?') else {
        return (rest, None);
    };
    let query = &rest[q + 1..];
    if is_query(query) {
        (&rest[..q], Some(query))
    } else {
        (rest, None)
    }
}

/// Whether `text` is `key=value(&key=value)*` with known keys and values
/// free of whitespace, `?` and `&`.
fn is_query(text: &str) -> bool {
    !text.is_empty()
        && text.split('&').all(|pair| {
            let Some((key, value)) = pair.split_once('=') else {
                return false;
            };
            QUERY_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
                && !value.chars().any(|c| c.is_whitespace() || c == '?')
        })
}

/// Why the text after the last `?` of `rest` looks like a query that is
/// not one (see the module documentation), or `None` when it is plain
/// command text.
fn misread_query(rest: &str) -> Option<String> {
    let q = rest.rfind('?')?;
    let glued = rest[..q]
        .chars()
        .next_back()
        .is_some_and(|c| !c.is_whitespace());
    let query = &rest[q + 1..];
    if !glued
        || !query.contains('=')
        || query.contains(|c: char| c.is_whitespace() || "'\"".contains(c))
    {
        return None;
    }
    let pairs: Vec<Option<(&str, &str)>> = query
        .split('&')
        .map(|p| p.split_once('=').filter(|(k, _)| is_name(k)))
        .collect();
    let known = |k: &str| QUERY_KEYS.iter().any(|q| q.eq_ignore_ascii_case(k));
    if pairs.iter().all(Option::is_some) {
        let unknown: Vec<&str> = pairs
            .iter()
            .flatten()
            .map(|(k, _)| *k)
            .filter(|k| !known(k))
            .collect();
        return (!unknown.is_empty())
            .then(|| format!("unknown query key '{}' in '?{query}'", unknown.join("', '")));
    }
    pairs
        .iter()
        .flatten()
        .any(|(k, _)| known(k))
        .then(|| format!("query '?{query}' is not key=value pairs separated by '&'"))
}

/// Whether `text` can be a query key: a letter or `_`, then letters,
/// digits, `_` or `-`.
fn is_name(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A timeout value: a positive, finite number of seconds (`300`, `1.5`).
fn parse_timeout(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if secs.is_finite() && secs > 0.0 {
        Duration::try_from_secs_f64(secs).ok()
    } else {
        None
    }
}

/// Decodes `%XX` escapes (`+` is kept as is); `None` on a malformed escape
/// or when the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URI with the password of a `user:password@host` part replaced by
/// `***`; used for every display of a URI. Only the text right after `://`
/// is considered, up to the first `/` for the login schemes (`ssh://`,
/// `slurm://`, whose parsers read the login part that far, so a password
/// with an unencoded space or `?` is still hidden), and for other schemes
/// only when it reaches the `@` without whitespace, `/` or `?` (so a shell
/// command containing `a:b@c` after a space is untouched). A URI without a
/// password is returned unchanged.
pub fn redact(uri: &str) -> String {
    let Some(sep) = uri.find("://") else {
        return uri.to_string();
    };
    let start = sep + 3;
    let rest = &uri[start..];
    let login_scheme = ["ssh", "slurm"]
        .iter()
        .any(|s| uri[..sep].eq_ignore_ascii_case(s));
    let end = if login_scheme {
        rest.find('/').unwrap_or(rest.len())
    } else {
        rest.find(|c: char| c == '/' || c == '?' || c.is_whitespace())
            .unwrap_or(rest.len())
    };
    let authority = &rest[..end];
    let Some(at) = authority.rfind('@') else {
        return uri.to_string();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return uri.to_string();
    };
    format!(
        "{}{}:***{}",
        &uri[..start],
        &userinfo[..colon],
        &uri[start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_scheme_body_and_timeout() {
        let u = parse("sh://bash calc.sh?timeout=300").unwrap();
        assert_eq!(u.scheme, "sh");
        assert_eq!(u.body, "bash calc.sh");
        assert_eq!(u.timeout, Some(Duration::from_secs(300)));
        assert!(u.params.is_empty());
        assert_eq!(u.display, "sh://bash calc.sh?timeout=300");
    }

    #[test]
    fn empty_sh_command_is_allowed() {
        let u = parse("sh://").unwrap();
        assert_eq!((u.scheme.as_str(), u.body.as_str()), ("sh", ""));
        let u = parse("SH://?timeout=2").unwrap();
        assert_eq!((u.scheme.as_str(), u.body.as_str()), ("sh", ""));
        assert_eq!(u.timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn question_marks_inside_commands_stay() {
        for uri in [
            "sh://bash -c 'echo a?b'",
            "sh://ls data?.txt",
            "sh://echo ?",
            "sh://cmd ?foo=1",
            "sh://cmd ?timeout=1 x",
            "sh://cmd?timeout",
            "sh://curl 'http://h/p?a=1'",
            "sh://ls data?x/y",
            "sh://ls a?b/c=1",
        ] {
            let u = parse(uri).unwrap();
            assert_eq!(u.body, &uri[5..], "{uri}");
            assert_eq!(u.timeout, None);
        }
        let u = parse("sh://bash -c 'echo a?b'?timeout=5").unwrap();
        assert_eq!(u.body, "bash -c 'echo a?b'");
        assert_eq!(u.timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn other_known_keys_are_kept_decoded() {
        let u = parse("slurm://:debug/bash run.sh?time=01%3A00%3A00&mem=4G&TIMEOUT=1.5&keep=a%20b")
            .unwrap();
        assert_eq!(u.body, ":debug/bash run.sh");
        assert_eq!(u.timeout, Some(Duration::from_millis(1500)));
        let params: Vec<_> = u
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            params,
            [("time", "01:00:00"), ("mem", "4G"), ("keep", "a b")]
        );
    }

    #[test]
    fn errors_name_the_uri() {
        for (uri, needle) in [
            ("", "empty"),
            ("bash calc.sh", "'bash calc.sh'"),
            ("://x", "bad scheme"),
            ("1x://y", "bad scheme"),
            ("sh://x?timeout=abc", "'sh://x?timeout=abc'"),
            ("sh://x?timeout=0", "positive"),
            ("sh://x?timeout=-3", "positive"),
            ("sh://x?mem=%zz", "percent"),
            ("ssh://u:secret@h/x?timeout=no", "ssh://u:***@h/x"),
            (
                "slurm://:debug/bash c.sh?array=1&chunk=auto",
                "Invalid calculator URI 'slurm://:debug/bash c.sh?array=1&chunk=auto': unknown query key 'chunk' in '?array=1&chunk=auto'; known query keys: timeout, ok_exit, array, pack, time,",
            ),
            ("sh://bash c.sh?foo=1&bar=2", "unknown query key 'foo', 'bar' in"),
            (
                "sh://bash c.sh?timeout=5&out/x",
                "query '?timeout=5&out/x' is not key=value pairs separated by '&'",
            ),
            ("sh://bash c.sh?timeout=5&a/b=1", "is not key=value pairs"),
        ] {
            let err = parse(uri).unwrap_err();
            assert!(matches!(err, Error::Value(_)), "{uri}");
            let msg = err.to_string();
            assert!(msg.contains(needle), "{uri}: {msg}");
            assert!(!msg.contains("secret"), "{msg}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c%2F").as_deref(), Some("a b+c/"));
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("ssh://user:p4ss@host:22/bash run.sh"),
            "ssh://user:***@host:22/bash run.sh"
        );
        assert_eq!(redact("ssh://us:p@ss@host/x"), "ssh://us:***@host/x");
        assert_eq!(redact("ssh://user@host/x"), "ssh://user@host/x");
        assert_eq!(redact("sh://bash calc.sh"), "sh://bash calc.sh");
        assert_eq!(redact("sh://mysql -u a:b@c"), "sh://mysql -u a:b@c");
        assert_eq!(redact("funz://:5555/R"), "funz://:5555/R");
        assert_eq!(redact("plain"), "plain");
        assert_eq!(
            redact("slurm://u:pw@hpc:debug/x?timeout=3"),
            "slurm://u:***@hpc:debug/x?timeout=3"
        );
        assert_eq!(redact("ssh://u:p w?d@h/x"), "ssh://u:***@h/x");
        assert_eq!(redact("SSH://u:pw@h?timeout=3"), "SSH://u:***@h?timeout=3");
    }
}
