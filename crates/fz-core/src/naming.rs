//! Case directory names: `k1=v1,k2=v2` (path), `case_<sha1>` (hash) or
//! `case_<i>` (index), and the `cases.csv` manifest.
//!
//! Path names are made safe here, once: a value can never create a
//! subdirectory, escape the output directory or exceed the 255-byte name
//! limit, while ordinary values keep upstream's names exactly. Escaping
//! (documented in docs/compatibility.md): `/`, NUL and control characters
//! are written `%XX`, and so is a `%` that is followed by two hex digits
//! (so decoding is exact and `50%` stays `50%`); a name longer than 255
//! bytes is cut and suffixed with `~` and 12 hex digits of its SHA-1, and
//! the `cases.csv` manifest is then written so the values stay recoverable.
//! This module must not create directories.

use crate::config::CaseNaming;
use crate::design::Case;
use crate::error::{Error, Result};
use sha1::{Digest, Sha1};
use std::fmt::Write as _;
use std::path::Path;

/// Longest file name most filesystems accept, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// The manifest file listing case directories and their values.
pub const MANIFEST: &str = "cases.csv";

/// Escapes a key or value for use inside a `k=v,…` directory name.
pub fn escape_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let hex_follows = bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        match c {
            '/' => out.push_str("%2F"),
            '%' if hex_follows => out.push_str("%25"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape_component`].
pub fn unescape_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = text
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// First 12 hex digits of SHA-1 of `text`.
fn sha1_12(text: &str) -> String {
    let digest = Sha1::digest(text.as_bytes());
    digest.iter().take(6).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The `k1=v1,k2=v2` name of a case (values as Python `str()`), escaped
/// and length-limited. The flag says whether it had to be shortened.
pub fn path_name(case: &Case) -> (String, bool) {
    let mut name = String::new();
    for (i, (k, v)) in case.iter().enumerate() {
        if i > 0 {
            name.push(',');
        }
        name.push_str(&escape_component(k));
        name.push('=');
        name.push_str(&escape_component(&v.py_str()));
    }
    if name.len() <= MAX_NAME_BYTES {
        return (name, false);
    }
    let suffix = format!("~{}", sha1_12(&name));
    let mut cut = MAX_NAME_BYTES - suffix.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    (format!("{}{suffix}", &name[..cut]), true)
}

/// The `case_<12 hex>` name: SHA-1 of the case as Python's
/// `json.dumps(case, sort_keys=True)`, as upstream 1.2 names it.
pub fn hash_name(case: &Case) -> String {
    format!(
        "case_{}",
        sha1_12(&crate::Value::Map(case.clone()).py_json(true))
    )
}

/// The `case_<i>` name, zero-padded to the width of `total - 1`.
pub fn index_name(index: usize, total: usize) -> String {
    let width = total.saturating_sub(1).to_string().len();
    format!("case_{index:0width$}")
}

/// Names for all cases under `naming`. Returns the names and whether the
/// `cases.csv` manifest must be written (hash/index naming, or shortened
/// path names). An empty case (no variables) has the empty name: it is
/// written directly into the output directory.
pub fn case_names(cases: &[Case], naming: CaseNaming) -> (Vec<String>, bool) {
    let total = cases.len();
    let mut manifest = naming != CaseNaming::Path;
    let names = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            if case.is_empty() {
                return String::new();
            }
            match naming {
                CaseNaming::Path => {
                    let (n, shortened) = path_name(case);
                    manifest |= shortened;
                    n
                }
                CaseNaming::Hash => hash_name(case),
                CaseNaming::Index => index_name(i, total),
            }
        })
        .collect();
    (names, manifest && cases.iter().any(|c| !c.is_empty()))
}

/// Writes `cases.csv`: header `case,<vars…>`, one row per case.
pub fn write_manifest(dir: &Path, names: &[String], cases: &[Case]) -> Result<()> {
    let path = dir.join(MANIFEST);
    let mut w = csv::Writer::from_path(&path)
        .map_err(|e| Error::Value(format!("{}: {e}", path.display())))?;
    let mut header = vec!["case".to_string()];
    if let Some(first) = cases.first() {
        header.extend(first.keys().cloned());
    }
    let csv_err = |e: csv::Error| Error::Value(format!("{}: {e}", path.display()));
    w.write_record(&header).map_err(csv_err)?;
    for (name, case) in names.iter().zip(cases) {
        let mut row = vec![name.clone()];
        row.extend(case.values().map(|v| v.py_str()));
        w.write_record(&row).map_err(csv_err)?;
    }
    w.flush().map_err(|e| Error::io(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    fn case(pairs: &[(&str, Value)]) -> Case {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn path_names_like_python_str() {
        let cases = [
            (
                case(&[("a", Value::Int(1)), ("b", Value::Float(2.0))]),
                "a=1,b=2.0",
            ),
            (
                case(&[("a", Value::Float(1e-7)), ("b", Value::Bool(true))]),
                "a=1e-07,b=True",
            ),
            (case(&[("a", Value::Float(1e16))]), "a=1e+16"),
            (case(&[("b", Value::Str("x y".into()))]), "b=x y"),
        ];
        for (c, want) in cases {
            assert_eq!(path_name(&c).0, want);
        }
    }

    #[test]
    fn unsafe_values_are_escaped_and_reversible() {
        let hostile = [
            "../../etc",
            "s/t",
            "a,b=c",
            "%2F",
            "50%",
            "%+1",
            "nul\0x",
            "tab\tnl\n",
            "100%",
            "back\\slash",
            "..",
        ];
        for v in hostile {
            let (name, _) = path_name(&case(&[("k", Value::Str(v.into()))]));
            assert!(
                !name.contains('/') && !name.contains('\0') && !name.contains('\n'),
                "{name:?}"
            );
            assert_ne!(name, "..");
            let value = name.strip_prefix("k=").unwrap();
            assert_eq!(unescape_component(value), v);
        }
        assert_eq!(path_name(&case(&[("../k", Value::Int(1))])).0, "..%2Fk=1");
        assert_eq!(
            path_name(&case(&[("k", Value::Str("50% a,b".into()))])).0,
            "k=50% a,b"
        );
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let long: Case = (0..40)
            .map(|i| (format!("variable_{i}"), Value::Float(0.1 + i as f64)))
            .collect();
        let (name, shortened) = path_name(&long);
        assert!(shortened);
        assert!(name.len() <= MAX_NAME_BYTES);
        let mut other = long.clone();
        other.insert("variable_39".into(), Value::Int(0));
        assert_ne!(
            path_name(&other).0,
            name,
            "different cases, different names"
        );
        let (names, manifest) = case_names(&[long], CaseNaming::Path);
        assert!(manifest);
        assert_eq!(names[0], name);
    }

    #[test]
    fn hash_and_index_names_like_upstream() {
        assert_eq!(
            hash_name(&case(&[("x", Value::Int(1)), ("y", Value::Float(3.5))])),
            "case_3a29537f88ae"
        );
        assert_eq!(index_name(0, 10), "case_0");
        assert_eq!(index_name(3, 12), "case_03");
        assert_eq!(index_name(0, 1), "case_0");
    }
}
