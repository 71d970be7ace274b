//! Static objects (`#@: …` lines): collecting their code block and the
//! expressions `fzi` reports for them (templates.md §2.6).
//!
//! Evaluation is the interpreter's job; this module only reads text.

use super::compile::dedent;
use super::parse::{ContextKind, Piece, Template};
use indexmap::IndexMap;

/// The static-object block of some templates (in order): code after `:`
/// with one space removed, the whole block dedented; lines with no code
/// dropped.
pub fn static_block<'a>(templates: impl IntoIterator<Item = &'a Template>) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    for t in templates {
        for c in t.context.iter().filter(|c| c.kind == ContextKind::Static) {
            let code: String = c
                .code
                .iter()
                .map(|p| match p {
                    Piece::Text(r) => t.text(r),
                    Piece::Var(v) => t.text(&v.raw),
                })
                .collect();
            if code.trim().is_empty() {
                continue;
            }
            let code = code.strip_prefix(' ').unwrap_or(&code).to_string();
            lines.push((c.line, code));
        }
    }
    dedent(lines)
}

fn is_indented(line: &str) -> bool {
    line.starts_with("    ") || line.starts_with('\t')
}

/// The expressions reported for a static block: `name = value` (text after
/// the first `=`, trimmed, trailing comment included), `name: type =
/// value`, R `name <- value` (functions up to the closing `}`), and `def
/// name(` with its indented body. Imports and other statements are not
/// reported.
pub fn reported_expressions(block: &[(usize, String)]) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    let lines: Vec<&str> = block.iter().map(|(_, l)| l.as_str()).collect();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let line = raw.trim();
        i += 1;
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with("import ")
            || line.starts_with("from ")
        {
            continue;
        }
        if let Some(rest) = line.strip_prefix("def ") {
            if let Some(paren) = rest.find('(') {
                let name = rest[..paren].trim().to_string();
                let mut body = vec![raw.trim_start().to_string()];
                while i < lines.len() && (lines[i].trim().is_empty() || is_indented(lines[i])) {
                    body.push(lines[i].to_string());
                    i += 1;
                }
                while body.last().is_some_and(|l| l.trim().is_empty()) {
                    body.pop();
                }
                out.insert(name, body.join("\n"));
            }
            continue;
        }
        if let Some((name, value)) = line.split_once("<-") {
            let name = name.trim();
            if is_identifier(name) {
                let mut value = value.trim().to_string();
                if value.starts_with("function(") && !value.contains('}') {
                    while i < lines.len() && (lines[i].trim().is_empty() || is_indented(lines[i])) {
                        value.push('\n');
                        value.push_str(lines[i]);
                        i += 1;
                        if lines[i - 1].contains('}') {
                            break;
                        }
                    }
                }
                out.insert(name.to_string(), value);
            }
            continue;
        }
        if let Some(eq) = assignment_eq(line) {
            let target = line[..eq].trim();
            let name = target.split(':').next().unwrap_or("").trim();
            if is_identifier(name) {
                out.insert(name.to_string(), line[eq + 1..].trim().to_string());
            }
        }
    }
    out
}

/// Position of the `=` of a simple assignment (not `==`, `!=`, `<=`, `>=`).
fn assignment_eq(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let i = line.find('=')?;
    let prev = if i > 0 { b[i - 1] } else { b' ' };
    let next = b.get(i + 1).copied().unwrap_or(b' ');
    (next != b'=' && !matches!(prev, b'!' | b'<' | b'>' | b'=')).then_some(i)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Syntax;
    use crate::template::parse::parse;

    #[test]
    fn verified_examples_of_the_spec() {
        let src = "#@: R = 8.314  # Gas constant\n#@: import math\n#@: from math import sqrt\n#@: x: int = 3\n#@: a, b = 1, 2\n#@: if True:\n#@:     c = 5\n#@: def f(v):\n#@:     return v*R\n#@: g = lambda t: t+1\n#@:\n#@ y = 2\n#@? f(1) > 0\n";
        let t = parse(src.into(), &Syntax::default());
        let block = static_block([&t]);
        assert_eq!(block[0].1, "R = 8.314  # Gas constant");
        assert_eq!(
            block.len(),
            10,
            "the empty `#@:` line is dropped, `#@` and `#@?` are not static"
        );
        let got = reported_expressions(&block);
        let want: Vec<(&str, &str)> = vec![
            ("R", "8.314  # Gas constant"),
            ("x", "3"),
            ("c", "5"),
            ("f", "def f(v):\n    return v*R"),
            ("g", "lambda t: t+1"),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn r_functions_and_comparisons() {
        let block = vec![
            (1, "k <- 2".to_string()),
            (2, "sq <- function(x) {".to_string()),
            (3, "    x^2".to_string()),
            (4, "}".to_string()),
            (5, "a == b".to_string()),
        ];
        let got = reported_expressions(&block);
        assert_eq!(got["k"], "2");
        assert_eq!(got["sq"], "function(x) {\n    x^2");
        assert_eq!(got.len(), 2);
    }
}
