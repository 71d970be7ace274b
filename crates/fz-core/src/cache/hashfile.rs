//! `.fz_hash` files: one `<md5>  <relative path>` line per compiled input
//! file (and `input_static` entry) of a case.
//!
//! Lines are written in a canonical order: static entries first (as
//! declared), then input files by byte order of their `/`-separated relative
//! path. For a single-file input this is byte-identical to upstream; later
//! matching compares sets of lines, so directory inputs written by either
//! tool in any order match. This module must not decide what a hit is.

use crate::error::{Error, Result};
use md5::{Digest, Md5};
use std::io::Read;
use std::path::Path;

/// The hash file's name inside a case directory.
pub const HASH_FILE: &str = ".fz_hash";

/// One line of a hash file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HashLine {
    /// 32 lowercase hex digits.
    pub md5: String,
    /// Relative path (`/`-separated) or, for absolute static entries, the
    /// absolute path.
    pub path: String,
}

/// MD5 of bytes, lowercase hex.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// MD5 of a file's bytes, streamed.
pub fn md5_file(path: &Path) -> Result<String> {
    let mut file = crate::fsutil::open_regular(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The text of a hash file: `static_lines` as given, then `file_lines`
/// sorted by path; `\n`-terminated lines (an empty set gives `"\n"`, as
/// upstream writes for an empty input directory).
pub fn render(static_lines: &[HashLine], file_lines: &[HashLine]) -> String {
    let mut files: Vec<&HashLine> = file_lines.iter().collect();
    files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut out = String::new();
    for line in static_lines.iter().chain(files) {
        out.push_str(&line.md5);
        out.push_str("  ");
        out.push_str(&line.path);
        out.push('\n');
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// Parses a hash file's text into lines (blank or malformed lines skipped).
pub fn parse(text: &str) -> Vec<HashLine> {
    text.lines()
        .filter_map(|l| {
            let (md5, path) = l.split_once(char::is_whitespace)?;
            let path = path.trim_start();
            (md5.len() == 32 && !path.is_empty()).then(|| HashLine {
                md5: md5.to_ascii_lowercase(),
                path: path.replace('\\', "/"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_render() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        let lines = [
            HashLine {
                md5: md5_hex(b"b"),
                path: "sub/deep.txt".into(),
            },
            HashLine {
                md5: md5_hex(b"a"),
                path: "main.txt".into(),
            },
            HashLine {
                md5: md5_hex(b"c"),
                path: "bin.dat".into(),
            },
        ];
        let text = render(&[], &lines);
        let paths: Vec<&str> = text.lines().map(|l| &l[34..]).collect();
        assert_eq!(paths, ["bin.dat", "main.txt", "sub/deep.txt"]);
        assert_eq!(parse(&text).len(), 3);
        assert_eq!(render(&[], &[]), "\n");
    }

    #[test]
    fn static_lines_come_first() {
        let s = [HashLine {
            md5: md5_hex(b"s"),
            path: "/abs/w.csv".into(),
        }];
        let f = [HashLine {
            md5: md5_hex(b"a"),
            path: "a.txt".into(),
        }];
        let text = render(&s, &f);
        assert!(text.starts_with(&format!("{}  /abs/w.csv\n", md5_hex(b"s"))));
    }
}
