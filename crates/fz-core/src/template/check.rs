//! Checks of an input's variables against a design, before anything is
//! compiled: a variable no design value and no default fills (it would
//! stay as written in the compiled input), and a design name no template
//! uses (a typo such as `X` for `x` would be ignored).
//!
//! This module only finds the problems and words them (file:line for
//! the undefined ones); whether they are warnings or errors (`--strict`)
//! is decided by the caller. It does not read files or print.

use super::input::InputSet;
use super::parse::Template;
use crate::model::Syntax;
use std::collections::{BTreeSet, HashSet};

/// The 1-based line of byte offset `at` in `t`'s source.
fn line_of(t: &Template, at: usize) -> usize {
    let end = at.min(t.src.len());
    t.src.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// One message per variable the templates reference that has no value in
/// `design` and no default anywhere in the input (`defaulted`), at its
/// first reference: `in.txt:3: variable 'w' has no value and no default…`.
/// Names in `known` (static objects) are left alone; `syntax` spells the
/// default form in the hint (`${w~default}`, `$(w~default)`).
pub fn undefined_variables(
    input: &InputSet,
    syntax: &Syntax,
    design: &[String],
    defaulted: &HashSet<&str>,
    known: &HashSet<&str>,
) -> Vec<String> {
    let given: HashSet<&str> = design.iter().map(String::as_str).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (file, t) in input.templates() {
        for v in t.var_refs() {
            let name = v.name.as_str();
            if given.contains(name) || defaulted.contains(name) || known.contains(name) {
                continue;
            }
            if seen.insert(v.name.clone()) {
                let with_default = match syntax.var_delim {
                    Some((l, r)) => format!(" or write {}{l}{name}~default{r}", syntax.var_prefix),
                    None => String::new(),
                };
                out.push(format!(
                    "{}:{}: variable '{name}' has no value and no default: '{}' stays as \
                     written in the compiled input (give it with -v {name}=…{with_default})",
                    file.rel,
                    line_of(t, v.raw.start),
                    t.text(&v.raw)
                ));
            }
        }
    }
    out
}

/// One message per design name that no template uses (`keys`: every
/// variable, static object and formula key of the input), with the
/// closest used name when one is near (`X` for `x`).
pub fn unused_variables(design: &[String], keys: &BTreeSet<String>) -> Vec<String> {
    let mut unused: Vec<&String> = design.iter().filter(|n| !keys.contains(*n)).collect();
    unused.sort();
    unused
        .into_iter()
        .map(|name| {
            let hint = closest(name, keys)
                .map(|k| format!(": did you mean '{k}'?"))
                .unwrap_or_default();
            format!("input variable '{name}' is not used by any input file and is ignored{hint}")
        })
        .collect()
}

/// The used name `name` most likely stands for: same letters in another
/// case, else at most one edit away (two for names of 6+ letters; none
/// for names of one or two letters, where any other is one edit away).
pub(crate) fn closest<'k>(name: &str, keys: &'k BTreeSet<String>) -> Option<&'k str> {
    if let Some(k) = keys.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return Some(k);
    }
    let limit = match name.chars().count() {
        0..=2 => return None,
        3..=5 => 1,
        _ => 2,
    };
    keys.iter()
        .map(|k| (crate::model::edit_distance(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Syntax;
    use crate::template::input::load;

    fn input(dir: &tempfile::TempDir, text: &str) -> InputSet {
        let path = dir.path().join("in.txt");
        std::fs::write(&path, text).unwrap();
        load(&path, &Syntax::default(), &HashSet::new()).unwrap()
    }

    #[test]
    fn undefined_variables_are_named_once_with_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        let set = input(&d, "a=$x\nb=$w\nc=${w}\nd=${v~2}\ne=$v\nf=$PI\n");
        let msgs = undefined_variables(
            &set,
            &Syntax::default(),
            &["x".into()],
            &HashSet::from(["v"]),
            &HashSet::from(["PI"]),
        );
        assert_eq!(
            msgs,
            [
                "in.txt:2: variable 'w' has no value and no default: '$w' stays as written in \
              the compiled input (give it with -v w=… or write $(w~default))"
            ]
        );
    }

    #[test]
    fn unused_design_names_suggest_the_used_one() {
        let keys: BTreeSet<String> = ["x", "length"].map(String::from).into();
        assert_eq!(
            unused_variables(
                &["X".into(), "x".into(), "lenght".into(), "zz".into(), "y".into()],
                &keys
            ),
            [
                "input variable 'X' is not used by any input file and is ignored: did you mean 'x'?",
                "input variable 'lenght' is not used by any input file and is ignored: did you mean 'length'?",
                "input variable 'y' is not used by any input file and is ignored",
                "input variable 'zz' is not used by any input file and is ignored",
            ]
        );
    }
}
