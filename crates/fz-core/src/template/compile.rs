//! Compiling a parsed template for one case: values substituted once, left
//! to right, then formulas filled in from the interpreter's answers.
//!
//! This module owns the substitution rules (templates.md §2.2–2.4 with our
//! fixes); it builds interpreter requests but does not talk to processes,
//! and it does not write files.

use super::interp::{FileOutcome, FileRequest, FormulaOutcome};
use super::numfmt::format_number;
use super::parse::{Piece, Segment, Template, VarRef};
use crate::value::Value;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::ops::Range;

/// The variables of one case, by name.
pub type CaseVars = IndexMap<String, Value>;

/// One output part: ready text or a formula slot.
#[derive(Debug)]
enum Part {
    Text(Range<usize>),
    Owned(String),
    Formula(usize),
}

/// A formula waiting for its value.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingFormula {
    /// 1-based line of the formula.
    pub line: usize,
    /// Expression with variables substituted, format removed.
    pub expr: String,
    /// Format spec (`0.00`, …), if any.
    pub format: Option<String>,
    /// What stays in the file if evaluation fails (variables substituted).
    pub fallback: String,
}

/// A template rendered for one case, with formulas still pending.
#[derive(Debug)]
pub struct Rendered<'t> {
    template: &'t Template,
    parts: Vec<Part>,
    /// The formulas, in order.
    pub formulas: Vec<PendingFormula>,
    /// Context program: (line, code) with the common indentation removed.
    pub context: Vec<(usize, String)>,
    /// Variables replaced by their template default: (name, default).
    pub defaulted: Vec<(String, String)>,
}

/// Defaults declared anywhere in an input (`${x~1}`), by variable name:
/// the last one in scan order wins, as `fzi` reports them.
pub type InputDefaults = HashMap<String, String>;

/// What fills variable references: the case's values, then the input's
/// defaults.
struct Fill<'v> {
    vars: &'v CaseVars,
    defaults: &'v InputDefaults,
}

impl Fill<'_> {
    /// The default for `v`: its own, else one declared elsewhere in the
    /// input (so `$Vamp` in a formula takes the `${Vamp~1}` of another
    /// line, as `fzi` evaluates it).
    fn default_of<'d>(&'d self, v: &'d VarRef) -> Option<&'d String> {
        v.default.as_ref().or_else(|| self.defaults.get(&v.name))
    }

    /// Whether `v` is replaced (a value or a default).
    fn fills(&self, v: &VarRef) -> bool {
        self.vars.contains_key(&v.name) || self.default_of(v).is_some()
    }
}

/// The text a variable reference becomes: its value, else its default,
/// else itself.
fn var_text<'a>(
    t: &'a Template,
    v: &VarRef,
    fill: &Fill<'_>,
    defaulted: &mut Vec<(String, String)>,
) -> std::borrow::Cow<'a, str> {
    if let Some(value) = fill.vars.get(&v.name) {
        return value.py_str().into();
    }
    if let Some(d) = fill.default_of(v) {
        if !defaulted.iter().any(|(n, _)| n == &v.name) {
            defaulted.push((v.name.clone(), d.clone()));
        }
        return d.clone().into();
    }
    t.text(&v.raw).into()
}

fn render_pieces(
    t: &Template,
    pieces: &[Piece],
    fill: &Fill<'_>,
    defaulted: &mut Vec<(String, String)>,
) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(r) => out.push_str(t.text(r)),
            Piece::Var(v) => out.push_str(&var_text(t, v, fill, defaulted)),
        }
    }
    out
}

/// The defaults declared in `templates` (last one wins).
pub fn input_defaults<'t>(templates: impl Iterator<Item = &'t Template>) -> InputDefaults {
    let mut out = InputDefaults::new();
    for t in templates {
        for v in t.var_refs() {
            if let Some(d) = &v.default {
                out.insert(v.name.clone(), d.clone());
            }
        }
    }
    out
}

/// Removes the common leading whitespace (characters, tabs count as one)
/// of the non-blank lines.
pub fn dedent(lines: Vec<(usize, String)>) -> Vec<(usize, String)> {
    let indent = lines
        .iter()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| l.chars().take_while(|c| c.is_whitespace()).count())
        .min()
        .unwrap_or(0);
    lines
        .into_iter()
        .map(|(n, l)| {
            let cut: usize = l
                .chars()
                .take(indent)
                .take_while(|c| c.is_whitespace())
                .map(char::len_utf8)
                .sum();
            (n, l[cut..].to_string())
        })
        .collect()
}

/// Renders `t` for the case `vars` (defaults: each reference's own).
pub fn render<'t>(t: &'t Template, vars: &CaseVars) -> Rendered<'t> {
    render_with_defaults(t, vars, &InputDefaults::new())
}

/// Renders `t` for the case `vars`; a reference without a value or a
/// default of its own takes the input's default for that name.
pub fn render_with_defaults<'t>(
    t: &'t Template,
    vars: &CaseVars,
    defaults: &InputDefaults,
) -> Rendered<'t> {
    let fill = Fill { vars, defaults };
    let mut defaulted = Vec::new();
    let mut parts = Vec::with_capacity(t.segments.len());
    let mut formulas = Vec::new();
    for seg in &t.segments {
        match seg {
            Segment::Piece(Piece::Text(r)) => parts.push(Part::Text(r.clone())),
            Segment::Piece(Piece::Var(v)) => {
                if fill.fills(v) {
                    parts.push(Part::Owned(
                        var_text(t, v, &fill, &mut defaulted).into_owned(),
                    ));
                } else {
                    parts.push(Part::Text(v.raw.clone()));
                }
            }
            Segment::Formula(f) => {
                let expr = render_pieces(t, &f.expr, &fill, &mut defaulted);
                let expr_end = f.expr.last().map_or(f.inner.start, |p| match p {
                    Piece::Text(r) => r.end,
                    Piece::Var(v) => v.raw.end,
                });
                let fallback = format!(
                    "{}{}{}",
                    t.text(&(f.raw.start..f.inner.start)),
                    expr,
                    t.text(&(expr_end..f.raw.end))
                );
                parts.push(Part::Formula(formulas.len()));
                formulas.push(PendingFormula {
                    line: f.line,
                    expr: expr.trim().to_string(),
                    format: f.format.clone(),
                    fallback,
                });
            }
        }
    }
    let context = dedent(
        t.context
            .iter()
            .map(|c| (c.line, render_pieces(t, &c.code, &fill, &mut defaulted)))
            .collect(),
    );
    Rendered {
        template: t,
        parts,
        formulas,
        context,
        defaulted,
    }
}

impl Rendered<'_> {
    /// Whether an interpreter is needed to finish this file.
    pub fn needs_interpreter(&self) -> bool {
        !self.formulas.is_empty()
    }

    /// The interpreter request for this file (context and formulas).
    pub fn request(&self, file: &str) -> FileRequest {
        FileRequest {
            file: file.to_string(),
            context: self.context.clone(),
            formulas: self
                .formulas
                .iter()
                .map(|f| (f.line, f.expr.clone()))
                .collect(),
            fallback_line_by_line: true,
        }
    }

    /// The final text. `outcome` holds the interpreter's answers (None:
    /// formulas are left as written, variables substituted). Failed
    /// formulas are reported in the returned warnings, naming `file`.
    pub fn finish(self, file: &str, outcome: Option<&FileOutcome>) -> (String, Vec<String>) {
        let mut warnings = Vec::new();
        if let Some(o) = outcome {
            warnings.extend(o.warnings.iter().cloned());
        }
        let mut out = String::with_capacity(self.template.src.len() + 64);
        for part in &self.parts {
            match part {
                Part::Text(r) => out.push_str(self.template.text(r)),
                Part::Owned(s) => out.push_str(s),
                Part::Formula(i) => {
                    let f = &self.formulas[*i];
                    match outcome.and_then(|o| o.results.get(*i)) {
                        Some(FormulaOutcome::Ok { text, number, .. }) => {
                            let formatted = match (&f.format, number) {
                                (Some(spec), Some(n)) => format_number(spec, *n),
                                _ => None,
                            };
                            out.push_str(formatted.as_deref().unwrap_or(text));
                        }
                        Some(FormulaOutcome::Err(msg)) => {
                            warnings.push(format!(
                                "{file}:{}: formula '{}' failed: {msg}",
                                f.line, f.expr
                            ));
                            out.push_str(&f.fallback);
                        }
                        None => out.push_str(&f.fallback),
                    }
                }
            }
        }
        (out, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Syntax;
    use crate::template::parse::parse;

    fn vars(pairs: &[(&str, Value)]) -> CaseVars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn syn(delim: &str) -> Syntax {
        let c: Vec<char> = delim.chars().collect();
        Syntax {
            var_delim: (c.len() == 2).then(|| (c[0], c[1])),
            ..Syntax::default()
        }
    }

    /// Substitution only (formulas left as their fallback).
    fn subst(src: &str, s: &Syntax, v: &CaseVars) -> String {
        let t = parse(src.to_string(), s);
        render(&t, v).finish("f", None).0
    }

    #[test]
    fn substitution_table_of_the_spec() {
        let x1 = vars(&[("x", Value::Int(1))]);
        let cases: Vec<(&str, &str, CaseVars, &str)> = vec![
            (
                "a=$x b=${x} c=$(x) d=$xy e=${w~3.5} f=$(w~3) g=${unk}",
                "{}",
                x1.clone(),
                "a=1 b=1 c=$(x) d=$xy e=3.5 f=$(w~3) g=${unk}",
            ),
            (
                "a=$x b=${x} c=$(x) d=$xy e=${w~3.5} f=$(w~3) g=$(unk)",
                "()",
                x1.clone(),
                "a=1 b=${x} c=1 d=$xy e=${w~3.5} f=3 g=$(unk)",
            ),
            (
                "a=$x b=$xy c=$x.5",
                "",
                vars(&[("x", Value::Int(1)), ("xy", Value::Int(2))]),
                "a=1 b=2 c=1.5",
            ),
            // Fixed: the default is cut at `;` (upstream inserts the tail).
            ("e=$(v~7;comment;[0,1])", "()", vars(&[]), "e=7"),
            ("v=$x", "{}", vars(&[("x", Value::Float(1.0))]), "v=1.0"),
            (
                "v=$x s=$s l=$l b=$b n=$n",
                "{}",
                vars(&[
                    ("x", Value::Float(0.1 + 0.2)),
                    ("s", Value::Str("hi".into())),
                    ("l", Value::List(vec![Value::Int(1), Value::Int(2)])),
                    ("b", Value::Bool(true)),
                    ("n", Value::Null),
                ]),
                "v=0.30000000000000004 s=hi l=[1, 2] b=True n=None",
            ),
            // Fixed: no chained substitution, no regex escapes in values.
            (
                "a=$x b=$y",
                "{}",
                vars(&[("x", Value::Str("$y".into())), ("y", Value::Int(2))]),
                "a=$y b=2",
            ),
            (
                "p=$x q=${x} r=$y",
                "{}",
                vars(&[
                    ("x", Value::Str("C:\\new".into())),
                    ("y", Value::Str("x\\g<0>".into())),
                ]),
                "p=C:\\new q=C:\\new r=x\\g<0>",
            ),
            // Legacy `?x`.
            ("n=?n_mol", "{}", vars(&[("n_mol", Value::Int(2))]), "n=2"),
            // Mixed line endings are preserved.
            ("a=$x\r\nb=$x\nc\r\n", "{}", x1.clone(), "a=1\r\nb=1\nc\r\n"),
            // `$$x` is a literal `$` then x; `$1abc` is not a variable.
            ("$$x $1abc", "{}", x1.clone(), "$1 $1abc"),
            // Unknown variables are left as written, context lines too.
            ("#@ y = $x + $z", "{}", x1.clone(), "#@ y = 1 + $z"),
        ];
        for (src, delim, v, want) in cases {
            assert_eq!(
                subst(src, &syn(delim), &v),
                want,
                "template {src:?} delim {delim:?}"
            );
        }
    }

    #[test]
    fn aliases_apply_to_plain_and_delimited_variables() {
        // Upstream bug: with varchar "V" fzc left V(x) and Vx untouched.
        let s = Syntax {
            var_prefix: "V".into(),
            formula_prefix: "F".into(),
            var_delim: Some(('(', ')')),
            legacy_prefix: None,
            ..Syntax::default()
        };
        let t = parse("a=V(x) / b=Vx / c=F{V(x) * 2}".into(), &s);
        let r = render(&t, &vars(&[("x", Value::Int(3))]));
        assert_eq!(r.formulas[0].expr, "3 * 2");
        let (text, _) = r.finish("f", None);
        assert_eq!(text, "a=3 / b=3 / c=F{3 * 2}");
    }

    #[test]
    fn formulas_requests_and_fallbacks() {
        let s = syn("{}");
        let src = "#@ import math\n#@ def f(t):\n#@     return t + 273.15\nT=@{f($T)}\nP=@{$n * 2 | 0.00}\nbad=@{undefined_fn($n)}\n";
        let t = parse(src.into(), &s);
        let r = render(&t, &vars(&[("T", Value::Int(20)), ("n", Value::Int(2))]));
        let req = r.request("in.txt");
        assert_eq!(
            req.context,
            vec![
                (1, "import math".to_string()),
                (2, "def f(t):".to_string()),
                (3, "    return t + 273.15".to_string())
            ]
        );
        assert_eq!(
            req.formulas,
            vec![
                (4, "f(20)".to_string()),
                (5, "2 * 2".to_string()),
                (6, "undefined_fn(2)".to_string())
            ]
        );
        let outcome = FileOutcome {
            warnings: vec![],
            results: vec![
                FormulaOutcome::Ok {
                    text: "293.15".into(),
                    number: Some(293.15),
                    value: Value::Float(293.15),
                },
                FormulaOutcome::Ok {
                    text: "4".into(),
                    number: Some(4.0),
                    value: Value::Int(4),
                },
                FormulaOutcome::Err("NameError: name 'undefined_fn' is not defined".into()),
            ],
        };
        let (text, warnings) = r.finish("in.txt", Some(&outcome));
        assert!(
            text.ends_with("T=293.15\nP=4.00\nbad=@{undefined_fn(2)}\n"),
            "{text}"
        );
        assert!(
            text.starts_with("#@ import math\n"),
            "context lines are kept"
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("in.txt:6: formula 'undefined_fn(2)' failed: NameError"));
    }

    #[test]
    fn defaults_are_reported_once() {
        let t = parse("${w~3.5} ${w~3.5}".into(), &syn("{}"));
        let r = render(&t, &vars(&[]));
        assert_eq!(r.defaulted, vec![("w".to_string(), "3.5".to_string())]);
    }

    #[test]
    fn a_default_declared_elsewhere_fills_every_reference() {
        let t = parse(
            "a=${Vamp~1}\nb=@{0.1*$Vamp}\nc=$Vamp $w\n".into(),
            &syn("{}"),
        );
        let defaults = input_defaults(std::iter::once(&t));
        let r = render_with_defaults(&t, &vars(&[]), &defaults);
        assert_eq!(r.formulas[0].expr, "0.1*1");
        assert_eq!(r.finish("f", None).0, "a=1\nb=@{0.1*1}\nc=1 $w\n");
        let r = render_with_defaults(&t, &vars(&[("Vamp", Value::Int(5))]), &defaults);
        assert_eq!(r.formulas[0].expr, "0.1*5");
    }

    #[test]
    fn dedent_counts_characters() {
        let d = dedent(vec![
            (1, "  a".into()),
            (2, "".into()),
            (3, "\t\t\tb".into()),
        ]);
        assert_eq!(d, vec![(1, "a".into()), (2, "".into()), (3, "\tb".into())]);
    }
}
