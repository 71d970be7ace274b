//! `jq://<filter> <file>` extractors (compile-and-output.md §5.6), run
//! in-process by the jaq engine: no `jq` executable is needed.
//!
//! This module owns reading the JSON file (relative to the case
//! directory; the spec is split by [`super::filter_and_file`]), compiling
//! and running the filter (also for `yq://`) and turning its one result
//! into a [`Value`]. It does not decide how errors are reported in the table
//! ([`super::extract_one`] does).

use super::OutputKind;
use crate::value::Value;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, RcIter};
use jaq_json::Val;
use std::path::Path;

/// Runs the `jq://` spec `rest` on its file in `dir`: the filter's one
/// output. Errors are one line: bad spec, unreadable file, invalid JSON,
/// invalid filter, a runtime error, no output or several outputs.
pub fn evaluate(rest: &str, spec: &str, dir: &Path) -> Result<Value, String> {
    let (filter, file) = super::filter_and_file(OutputKind::Jq, rest, spec)?;
    // Messages name the file as the spec does: the case directory may
    // still be fz's work copy, a path the user never sees.
    let text = std::fs::read_to_string(dir.join(&file))
        .map_err(|e| super::shell::os_error_text(&e, Path::new(&file)))?;
    let input: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("jq: {file} is not valid JSON: {e}"))?;
    one_value(run(&filter, input)?, &filter, &file)
}

/// The one output of `filter` on `file`, or the error saying there were
/// none or several.
pub fn one_value(
    mut outputs: Vec<serde_json::Value>,
    filter: &str,
    file: &str,
) -> Result<Value, String> {
    match outputs.len() {
        1 => Ok(Value::from(outputs.remove(0))),
        0 => Err(format!("jq filter '{filter}' gave no value for {file}")),
        n => Err(format!(
            "jq filter '{filter}' gave {n} values for {file}; collect them into one \
             with '[{filter}]'"
        )),
    }
}

/// A compiled filter.
type Compiled = jaq_core::Filter<jaq_core::Native<Val>>;

/// Most compiled filters kept per thread.
const MAX_CACHED: usize = 256;

thread_local! {
    /// Filters compiled by this thread, by source: compiling (with the
    /// standard library) costs far more than running on a small file.
    static COMPILED: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Compiled>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Every output of `filter` run on `input`, stopping at the first error.
pub fn run(filter: &str, input: serde_json::Value) -> Result<Vec<serde_json::Value>, String> {
    let compiled = compiled(filter)?;
    let inputs = RcIter::new(core::iter::empty());
    let mut out = Vec::new();
    for item in compiled.run((Ctx::new([], &inputs), Val::from(input))) {
        match item {
            Ok(v) => out.push(serde_json::Value::from(v)),
            Err(e) => return Err(format!("jq filter '{filter}': {e}")),
        }
    }
    Ok(out)
}

/// Whether `filter` compiles (`Err`: why not).
pub fn check(filter: &str) -> Result<(), String> {
    compiled(filter).map(|_| ())
}

/// `filter` compiled, from this thread's cache when it was seen before.
fn compiled(filter: &str) -> Result<std::rc::Rc<Compiled>, String> {
    if let Some(hit) = COMPILED.with(|c| c.borrow().get(filter).cloned()) {
        return Ok(hit);
    }
    let fresh = std::rc::Rc::new(compile(filter)?);
    COMPILED.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(filter.to_string(), fresh.clone());
    });
    Ok(fresh)
}

/// Parses and compiles `filter` with jq's standard library.
fn compile(filter: &str) -> Result<Compiled, String> {
    let program = File {
        code: filter,
        path: (),
    };
    let loader = Loader::new(jaq_std::defs().chain(jaq_json::defs()));
    let arena = Arena::default();
    let modules = loader
        .load(&arena, program)
        .map_err(|_| format!("invalid jq filter '{filter}'"))?;
    Compiler::default()
        .with_funs(jaq_std::funs().chain(jaq_json::funs()))
        .compile(modules)
        .map_err(|errs| {
            let names: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, list)| list.into_iter().map(|(name, _)| name.to_string()))
                .collect();
            if names.is_empty() {
                format!("invalid jq filter '{filter}'")
            } else {
                format!(
                    "invalid jq filter '{filter}': undefined {}",
                    names.join(", ")
                )
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("r.json"),
            r#"{"energy": 1.5, "arr": [1, 2, 3], "one": [7], "obj": {"k": "v"}, "n": null,
                "big": 12345678901234, "f": 1.0, "ord": {"b": 1, "a": 2}}"#,
        )
        .unwrap();
        dir
    }

    #[test]
    fn values_as_the_spec_lists_them() {
        let dir = case_dir();
        let ev = |rest: &str| evaluate(rest, &format!("jq://{rest}"), dir.path());
        assert_eq!(ev(".energy r.json"), Ok(Value::Float(1.5)));
        assert_eq!(
            ev(".arr r.json"),
            Ok(Value::List(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(3)
            ]))
        );
        // Not unwrapped, unlike shell outputs.
        assert_eq!(ev(".one r.json"), Ok(Value::List(vec![Value::Int(7)])));
        assert_eq!(ev("'.obj.k' r.json"), Ok(Value::Str("v".into())));
        assert_eq!(ev(".n r.json"), Ok(Value::Null));
        assert_eq!(ev(".big r.json"), Ok(Value::Int(12345678901234)));
        assert_eq!(ev("'.arr | add' r.json"), Ok(Value::Int(6)));
        assert_eq!(ev(".f r.json"), Ok(Value::Float(1.0)));
        // Keys keep the file's order.
        assert_eq!(
            ev(".ord r.json"),
            Ok(Value::Map(
                [
                    ("b".to_string(), Value::Int(1)),
                    ("a".to_string(), Value::Int(2))
                ]
                .into_iter()
                .collect()
            ))
        );
        assert_eq!(ev("'[.arr[] * 2]' ignored r.json"), {
            Ok(Value::List(vec![
                Value::Int(2),
                Value::Int(4),
                Value::Int(6),
            ]))
        });
    }

    #[test]
    fn errors_are_one_line_and_say_what_is_wrong() {
        let dir = case_dir();
        std::fs::write(dir.path().join("bad.json"), "{oops").unwrap();
        let ev = |rest: &str| evaluate(rest, &format!("jq://{rest}"), dir.path()).unwrap_err();
        assert_eq!(
            ev(".energy"),
            "Invalid 'jq://' output spec: expected a filter followed by a file, got 'jq://.energy'"
        );
        assert_eq!(
            ev(".x missing.json"),
            "[Errno 2] No such file or directory: 'missing.json'"
        );
        assert!(
            ev(".x bad.json").starts_with("jq: bad.json is not valid JSON: "),
            "{}",
            ev(".x bad.json")
        );
        assert_eq!(ev(".[ r.json"), "invalid jq filter '.['");
        assert!(ev("nosuchfn r.json").contains("undefined nosuchfn"));
        assert!(ev(".energy[] r.json").starts_with("jq filter '.energy[]': "));
        assert!(ev("empty r.json").contains("gave no value"));
        assert!(ev(".arr[] r.json").contains("gave 3 values"));
        for msg in [ev(".[ r.json"), ev(".energy[] r.json")] {
            assert!(!msg.contains('\n'), "{msg}");
        }
    }
}
