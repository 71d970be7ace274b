//! Parsing a template text into literal text, variable references,
//! formulas and context lines, once, so that compiling a case is a single
//! left-to-right rendering that never rescans inserted values.
//!
//! This module owns the grammar of templates.md §2 (with the fixes listed
//! in docs/compatibility.md); it must not evaluate formulas or touch files.

use crate::model::Syntax;
use std::ops::Range;

/// A reference to a variable in the template.
#[derive(Debug, Clone, PartialEq)]
pub struct VarRef {
    /// Variable name (`[A-Za-z_][A-Za-z0-9_]*`).
    pub name: String,
    /// Default text (before any `;comment;bounds` tail), delimited form only.
    pub default: Option<String>,
    /// Byte range of the whole reference in the source.
    pub raw: Range<usize>,
}

/// A piece of template text: literal or variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Literal source bytes.
    Text(Range<usize>),
    /// A variable reference.
    Var(VarRef),
}

/// A formula `F L expression R`.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The expression, as pieces (text and variables), before any `|`.
    pub expr: Vec<Piece>,
    /// Format spec after the first `|` of the literal text, trimmed.
    pub format: Option<String>,
    /// Byte range of the whole formula in the source.
    pub raw: Range<usize>,
    /// Byte range of the inner text (between the delimiters).
    pub inner: Range<usize>,
    /// 1-based line where the formula starts.
    pub line: usize,
}

/// A top-level segment of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Literal text or a variable.
    Piece(Piece),
    /// A formula.
    Formula(Formula),
}

/// What kind of context line (`C F …`) this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKind {
    /// `#@ code`: executed before formulas.
    Code,
    /// `#@: code`: a static object (also reported by `fzi`).
    Static,
    /// `#@? code`: a Java-Funz unit test line (executed like code).
    Test,
}

/// One context line.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextLine {
    /// 1-based line number.
    pub line: usize,
    /// Kind of line.
    pub kind: ContextKind,
    /// The code part (after `C F` and any `:`/`?`), as pieces.
    pub code: Vec<Piece>,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The source text.
    pub src: String,
    /// The text as segments, covering the whole source in order.
    pub segments: Vec<Segment>,
    /// The context lines, in order.
    pub context: Vec<ContextLine>,
}

impl Template {
    /// Whether the template has formulas or context code to evaluate.
    pub fn needs_interpreter(&self) -> bool {
        !self.context.is_empty() || self.formulas().next().is_some()
    }

    /// The formulas, in order.
    pub fn formulas(&self) -> impl Iterator<Item = &Formula> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Formula(f) => Some(f),
            Segment::Piece(_) => None,
        })
    }

    /// Every variable reference (in text, formulas and context lines), in
    /// source order.
    pub fn var_refs(&self) -> Vec<&VarRef> {
        let mut out = Vec::new();
        for seg in &self.segments {
            match seg {
                Segment::Piece(Piece::Var(v)) => out.push(v),
                Segment::Formula(f) => out.extend(vars_of(&f.expr)),
                Segment::Piece(Piece::Text(_)) => {}
            }
        }
        out
    }

    /// Whether the template has no variable, formula or context line at
    /// all (it compiles to itself).
    pub fn is_plain(&self) -> bool {
        self.context.is_empty()
            && self
                .segments
                .iter()
                .all(|s| matches!(s, Segment::Piece(Piece::Text(_))))
    }

    /// The source text of a range.
    pub fn text(&self, r: &Range<usize>) -> &str {
        self.src.get(r.clone()).unwrap_or("")
    }
}

/// The variable references among pieces.
pub fn vars_of(pieces: &[Piece]) -> impl Iterator<Item = &VarRef> {
    pieces.iter().filter_map(|p| match p {
        Piece::Var(v) => Some(v),
        Piece::Text(_) => None,
    })
}

/// Parses `src` with `syntax`.
pub fn parse(src: String, syntax: &Syntax) -> Template {
    let scanner = Scanner { src: &src, syntax };
    let mut segments = Vec::new();
    let mut context = Vec::new();
    let mut line_start = 0;
    let mut line_no = 1;
    while line_start < src.len() {
        let line_end = src[line_start..]
            .find('\n')
            .map_or(src.len(), |i| line_start + i + 1);
        let content_end = trim_eol(&src, line_start, line_end);
        if let Some((kind, code)) = scanner.context_code(line_start..content_end) {
            // A context line: variables are substituted in it, formulas are not.
            let code_pieces = scanner.pieces(code.clone());
            context.push(ContextLine {
                line: line_no,
                kind,
                code: code_pieces,
            });
            for p in scanner.pieces(line_start..line_end) {
                segments.push(Segment::Piece(p));
            }
            line_start = line_end;
            line_no += 1;
            continue;
        }
        // Ordinary text: scan to the end of this line, but a formula may run
        // over several lines; continue from wherever the scan stopped.
        let stop = scanner.scan_segments(line_start, line_end, line_no, &mut segments);
        line_no += src[line_start..stop].matches('\n').count();
        line_start = stop;
    }
    merge_text(&mut segments);
    Template {
        src,
        segments,
        context,
    }
}

/// The end of a line's content, without its `\n` / `\r\n`.
fn trim_eol(src: &str, start: usize, end: usize) -> usize {
    let bytes = src.as_bytes();
    let mut e = end;
    if e > start && bytes[e - 1] == b'\n' {
        e -= 1;
        if e > start && bytes[e - 1] == b'\r' {
            e -= 1;
        }
    }
    e
}

fn merge_text(segments: &mut Vec<Segment>) {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for seg in segments.drain(..) {
        if let (Some(Segment::Piece(Piece::Text(prev))), Segment::Piece(Piece::Text(r))) =
            (out.last_mut(), &seg)
        {
            if prev.end == r.start {
                prev.end = r.end;
                continue;
            }
        }
        out.push(seg);
    }
    *segments = out;
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

struct Scanner<'a> {
    src: &'a str,
    syntax: &'a Syntax,
}

impl Scanner<'_> {
    /// If the line is a context line, its kind and the byte range of its code.
    fn context_code(&self, line: Range<usize>) -> Option<(ContextKind, Range<usize>)> {
        let text = &self.src[line.clone()];
        let trimmed = text.trim_start();
        let lead = text.len() - trimmed.len();
        let marker_len = self.syntax.comment.len() + self.syntax.formula_prefix.len();
        if !(trimmed.starts_with(self.syntax.comment.as_str())
            && trimmed[self.syntax.comment.len()..]
                .starts_with(self.syntax.formula_prefix.as_str()))
        {
            return None;
        }
        let mut start = line.start + lead + marker_len;
        // Trailing blanks are not code (trimmed like upstream's stripped line).
        let end = start + self.src[start..line.end].trim_end().len();
        let kind = match self.src.as_bytes().get(start) {
            Some(b':') => {
                start += 1;
                ContextKind::Static
            }
            Some(b'?') => {
                start += 1;
                ContextKind::Test
            }
            _ => ContextKind::Code,
        };
        Some((kind, start..end.max(start)))
    }

    /// Text and variables of a range (no formulas).
    fn pieces(&self, range: Range<usize>) -> Vec<Piece> {
        let mut out = Vec::new();
        let mut text_start = range.start;
        let mut i = range.start;
        while i < range.end {
            if let Some(v) = self.var_at(i, range.end) {
                if text_start < i {
                    out.push(Piece::Text(text_start..i));
                }
                i = v.raw.end;
                text_start = i;
                out.push(Piece::Var(v));
            } else {
                i += utf8_len(self.src.as_bytes()[i]);
            }
        }
        if text_start < range.end {
            out.push(Piece::Text(text_start..range.end));
        }
        out
    }

    /// Scans ordinary text from `start`, stopping at the end of the line
    /// unless a formula runs past it; returns where it stopped.
    fn scan_segments(
        &self,
        start: usize,
        line_end: usize,
        line_no: usize,
        out: &mut Vec<Segment>,
    ) -> usize {
        let mut text_start = start;
        let mut i = start;
        let mut end = line_end;
        let mut line = line_no;
        while i < end {
            if let Some(v) = self.delimited_var_at(i, self.src.len()) {
                self.flush(out, text_start, i);
                i = v.raw.end;
                text_start = i;
                out.push(Segment::Piece(Piece::Var(v)));
            } else if let Some(f) = self.formula_at(i, line) {
                self.flush(out, text_start, i);
                i = f.raw.end;
                text_start = i;
                out.push(Segment::Formula(f));
            } else if let Some(v) = self.plain_var_at(i, self.src.len()) {
                self.flush(out, text_start, i);
                i = v.raw.end;
                text_start = i;
                out.push(Segment::Piece(Piece::Var(v)));
            } else {
                if self.src.as_bytes()[i] == b'\n' {
                    line += 1;
                }
                i += utf8_len(self.src.as_bytes()[i]);
            }
            if i > end {
                // A formula or variable ran over the line end: finish that
                // line too, so context-line detection starts on a line start.
                end = self.src[i..]
                    .find('\n')
                    .map_or(self.src.len(), |k| i + k + 1);
            }
        }
        self.flush(out, text_start, i);
        i
    }

    fn flush(&self, out: &mut Vec<Segment>, from: usize, to: usize) {
        if from < to {
            out.push(Segment::Piece(Piece::Text(from..to)));
        }
    }

    /// A variable (delimited first, then plain) starting at `i`.
    fn var_at(&self, i: usize, limit: usize) -> Option<VarRef> {
        self.delimited_var_at(i, limit)
            .or_else(|| self.plain_var_at(i, limit))
    }

    /// `P L name [~default] R` at `i`.
    fn delimited_var_at(&self, i: usize, limit: usize) -> Option<VarRef> {
        let (l, r) = self.syntax.var_delim?;
        let rest = self.src.get(i..limit)?;
        let after_p = rest.strip_prefix(self.syntax.var_prefix.as_str())?;
        let after_l = after_p.strip_prefix(l)?;
        let name_len = name_len(after_l.as_bytes());
        if name_len == 0 {
            return None;
        }
        let name = &after_l[..name_len];
        let after_name = &after_l[name_len..];
        let consumed_before = rest.len() - after_name.len();
        if let Some(tail) = after_name.strip_prefix(r) {
            let end = i + rest.len() - tail.len();
            return Some(VarRef {
                name: name.to_string(),
                default: None,
                raw: i..end,
            });
        }
        let default_text = after_name.strip_prefix('~')?;
        let close = default_text.find([r, '\n'])?;
        if !default_text[close..].starts_with(r) {
            return None;
        }
        let full = &default_text[..close];
        let default = full.split(';').next().unwrap_or("").to_string();
        let end = i + consumed_before + 1 + close + r.len_utf8();
        Some(VarRef {
            name: name.to_string(),
            default: Some(default),
            raw: i..end,
        })
    }

    /// `P name` (or the legacy `?name`) at `i`; the name is greedy and must
    /// not run into a non-ASCII letter (`$xé` is not a variable).
    fn plain_var_at(&self, i: usize, limit: usize) -> Option<VarRef> {
        let rest = self.src.get(i..limit)?;
        let (prefix_len, legacy) = if rest.starts_with(self.syntax.var_prefix.as_str()) {
            (self.syntax.var_prefix.len(), false)
        } else {
            match &self.syntax.legacy_prefix {
                Some(lp) if rest.starts_with(lp.as_str()) => (lp.len(), true),
                _ => return None,
            }
        };
        if legacy {
            // `a?b`, `??x` and `(?P<` are not variables: the legacy prefix
            // must not follow a word character or itself.
            if let Some(prev) = self.src[..i].chars().next_back() {
                if prev.is_alphanumeric() || prev == '_' || prev == '?' || prev == '(' {
                    return None;
                }
            }
        }
        let after = &rest[prefix_len..];
        let n = name_len(after.as_bytes());
        if n == 0 {
            return None;
        }
        if let Some(next) = after[n..].chars().next() {
            if next.is_alphanumeric() {
                return None;
            }
        }
        Some(VarRef {
            name: after[..n].to_string(),
            default: None,
            raw: i..i + prefix_len + n,
        })
    }

    /// `F L expression R` at `i`. Variables inside are atomic (a `}` that
    /// closes `${x}` does not close the formula) and `L`/`R` nest.
    fn formula_at(&self, i: usize, line: usize) -> Option<Formula> {
        let (l, r) = self.syntax.formula_delim?;
        let rest = self.src.get(i..)?;
        let after_f = rest.strip_prefix(self.syntax.formula_prefix.as_str())?;
        let after_l = after_f.strip_prefix(l)?;
        let inner_start = i + (rest.len() - after_l.len());
        let mut depth = 0usize;
        let mut j = inner_start;
        let bytes = self.src.as_bytes();
        let mut pieces = Vec::new();
        let mut text_start = j;
        loop {
            if j >= self.src.len() {
                return None;
            }
            if let Some(v) = self.var_at(j, self.src.len()) {
                if text_start < j {
                    pieces.push(Piece::Text(text_start..j));
                }
                j = v.raw.end;
                text_start = j;
                pieces.push(Piece::Var(v));
                continue;
            }
            let c = self.src[j..].chars().next()?;
            if c == r && (depth == 0 || l == r) {
                break;
            }
            if c == l && l != r {
                depth += 1;
            } else if c == r {
                depth -= 1;
            }
            j += utf8_len(bytes[j]);
        }
        if j == inner_start {
            return None;
        }
        if text_start < j {
            pieces.push(Piece::Text(text_start..j));
        }
        let (expr, format) = split_format(self.src, pieces);
        Some(Formula {
            expr,
            format,
            raw: i..j + r.len_utf8(),
            inner: inner_start..j,
            line,
        })
    }
}

/// Splits formula pieces at the first `|` in literal text: expression
/// before, format spec (trimmed) after.
fn split_format(src: &str, pieces: Vec<Piece>) -> (Vec<Piece>, Option<String>) {
    let mut expr = Vec::new();
    let mut iter = pieces.into_iter();
    for p in iter.by_ref() {
        if let Piece::Text(r) = &p {
            if let Some(k) = src[r.clone()].find('|') {
                if k > 0 {
                    expr.push(Piece::Text(r.start..r.start + k));
                }
                let mut format = src[r.start + k + 1..r.end].to_string();
                for rest in iter.by_ref() {
                    match rest {
                        Piece::Text(r) => format.push_str(&src[r]),
                        Piece::Var(v) => format.push_str(&src[v.raw]),
                    }
                }
                return (expr, Some(format.trim().to_string()));
            }
        }
        expr.push(p);
    }
    (expr, None)
}

fn name_len(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(c) if is_name_start(*c) => bytes.iter().take_while(|c| is_name_char(**c)).count(),
        _ => 0,
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(prefix: &str, delim: &str) -> Syntax {
        let chars: Vec<char> = delim.chars().collect();
        let pair = (chars.len() == 2).then(|| (chars[0], chars[1]));
        Syntax {
            var_prefix: prefix.into(),
            var_delim: pair,
            ..Syntax::default()
        }
    }

    fn names(src: &str, syn: &Syntax) -> Vec<String> {
        let t = parse(src.to_string(), syn);
        let mut v: Vec<String> = t.var_refs().iter().map(|r| r.name.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn discovery_per_delimiter_matches_spec() {
        let src = "a=$x b=${y} c=$(z) d=${w~3.5} e=$(v~7;comment;[0,1]) f=?q g=$x_y h=$1abc i=$$x";
        let mut no_legacy = syntax("$", "()");
        no_legacy.legacy_prefix = None;
        assert_eq!(names(src, &no_legacy), ["v", "x", "x_y", "z"]);
        let mut s = syntax("$", "{}");
        s.legacy_prefix = None;
        assert_eq!(names(src, &s), ["w", "x", "x_y", "y"]);
        let mut s = syntax("$", "");
        s.legacy_prefix = None;
        assert_eq!(names(src, &s), ["x", "x_y"]);
        // With the legacy prefix on (default for `$`), `?q` is a variable too.
        assert_eq!(names(src, &syntax("$", "()")), ["q", "v", "x", "x_y", "z"]);
    }

    #[test]
    fn legacy_prefix_needs_a_non_word_before() {
        let s = syntax("$", "{}");
        assert_eq!(names("n=?n_mol", &s), ["n_mol"]);
        assert!(names("http://h/p?x=1 why?y (?P<g>)", &s).is_empty());
    }

    #[test]
    fn defaults_are_cut_at_semicolon() {
        let t = parse("e=$(v~7;comment;[0,1]) w=${w~x}".into(), &syntax("$", "()"));
        let refs = t.var_refs();
        assert_eq!(refs[0].default.as_deref(), Some("7"));
        assert_eq!(
            refs.len(),
            1,
            "${{w~x}} is not a variable with () delimiters"
        );
    }

    #[test]
    fn formulas_nest_and_keep_variables_atomic() {
        let s = Syntax {
            var_delim: Some(('{', '}')),
            ..Syntax::default()
        };
        let t = parse("f=@{area(${y}) | 0.00} g=@{ {'a':1}['a'] }".into(), &s);
        let f: Vec<&Formula> = t.formulas().collect();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].format.as_deref(), Some("0.00"));
        assert_eq!(t.text(&f[0].inner), "area(${y}) | 0.00");
        assert_eq!(t.text(&f[1].inner), " {'a':1}['a'] ");
        let paren = Syntax {
            formula_delim: Some(('(', ')')),
            ..Syntax::default()
        };
        let t = parse("@(max($x, (1+2)) * 2) @(((3)))".into(), &paren);
        let inner: Vec<&str> = t.formulas().map(|f| t.text(&f.inner)).collect();
        assert_eq!(inner, ["max($x, (1+2)) * 2", "((3))"]);
    }

    #[test]
    fn equal_prefixes_variable_before_formula() {
        let s = Syntax {
            var_prefix: "$".into(),
            formula_prefix: "$".into(),
            var_delim: Some(('{', '}')),
            ..Syntax::default()
        };
        let t = parse("${x} ${x*2}".into(), &s);
        assert_eq!(t.var_refs().len(), 1);
        assert_eq!(t.formulas().count(), 1);
    }

    #[test]
    fn context_lines_and_kinds() {
        let src = "# header\n  #@ import math\r\n#@: PI = 3.14\n#@? f(1) > 0\nx=$x\n#@ y = $x\n";
        let t = parse(src.into(), &Syntax::default());
        let kinds: Vec<(usize, ContextKind)> = t.context.iter().map(|c| (c.line, c.kind)).collect();
        assert_eq!(
            kinds,
            [
                (2, ContextKind::Code),
                (3, ContextKind::Static),
                (4, ContextKind::Test),
                (6, ContextKind::Code)
            ]
        );
        let code = |c: &ContextLine| -> String {
            c.code
                .iter()
                .map(|p| match p {
                    Piece::Text(r) => t.text(r).to_string(),
                    Piece::Var(v) => format!("<{}>", v.name),
                })
                .collect()
        };
        assert_eq!(code(&t.context[0]), " import math");
        assert_eq!(code(&t.context[1]), " PI = 3.14");
        assert_eq!(code(&t.context[3]), " y = <x>");
    }

    #[test]
    fn segments_cover_the_source_exactly() {
        let src = "a=$x\r\nb=@{1 +\n 2}\nc\n#@ z=1\nend";
        let t = parse(src.into(), &Syntax::default());
        let mut rebuilt = String::new();
        for s in &t.segments {
            match s {
                Segment::Piece(Piece::Text(r)) => rebuilt.push_str(t.text(r)),
                Segment::Piece(Piece::Var(v)) => rebuilt.push_str(t.text(&v.raw)),
                Segment::Formula(f) => rebuilt.push_str(t.text(&f.raw)),
            }
        }
        assert_eq!(rebuilt, src);
        assert_eq!(
            t.context[0].line, 5,
            "line numbers count multi-line formulas"
        );
    }
}
