//! `yq://<filter> <file>` extractors (compile-and-output.md §5.6): the
//! YAML file is read in-process and the filter runs in the jq engine of
//! [`super::jq`], so no `yq` executable is needed.
//!
//! This module owns reading YAML into JSON values (every document of the
//! file; keys as strings, anchors resolved). The filter language is jq's,
//! which mikefarah's yq shares for paths, iteration, pipes and the common
//! functions; yq-only operators are not available. It does not decide how
//! errors are reported in the table ([`super::extract_one`] does).

use crate::value::Value;
use serde_json::Value as Json;
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

/// Runs the `yq://` spec `rest` on its file in `dir`: the filter's one
/// output over the file's documents.
pub fn evaluate(rest: &str, spec: &str, dir: &Path) -> Result<Value, String> {
    let (filter, file) = super::filter_and_file(super::OutputKind::Yq, rest, spec)?;
    let text = std::fs::read_to_string(dir.join(&file))
        .map_err(|e| super::shell::os_error_text(&e, Path::new(&file)))?;
    let docs = YamlLoader::load_from_str(&text)
        .map_err(|e| format!("yq: {file} is not valid YAML: {e}"))?;
    let mut outputs = Vec::new();
    for doc in &docs {
        outputs.extend(super::jq::run(&filter, to_json(doc))?);
    }
    super::jq::one_value(outputs, &filter, &file)
}

/// A YAML node as JSON (what `yq -o=json` prints).
fn to_json(node: &Yaml) -> Json {
    match node {
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Json::Null,
        Yaml::Boolean(b) => Json::Bool(*b),
        Yaml::Integer(i) => Json::from(*i),
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Json::String(text.clone()), Json::Number),
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(map) => {
            Json::Object(map.iter().map(|(k, v)| (key_text(k), to_json(v))).collect())
        }
    }
}

/// A mapping key as a JSON object key.
fn key_text(key: &Yaml) -> String {
    match key {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_yaml() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("r.yaml"),
            "run:\n  energy: 1.5\n  steps: [1, 2, 3]\n  name: 'x'\nbase: &b {k: 7}\nref: *b\n1: one\n",
        )
        .unwrap();
        let ev = |rest: &str| evaluate(rest, &format!("yq://{rest}"), dir.path());
        assert_eq!(ev(".run.energy r.yaml"), Ok(Value::Float(1.5)));
        assert_eq!(
            ev(".run.steps r.yaml"),
            Ok(Value::List(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(3)
            ]))
        );
        assert_eq!(ev("'.run.steps | length' r.yaml"), Ok(Value::Int(3)));
        assert_eq!(ev(".ref.k r.yaml"), Ok(Value::Int(7)));
        assert_eq!(ev(r#"'.["1"]' r.yaml"#), Ok(Value::Str("one".into())));
        assert_eq!(
            ev(".x").unwrap_err(),
            "Invalid 'yq://' output spec: expected a filter followed by a file, got 'yq://.x'"
        );
        std::fs::write(dir.path().join("bad.yaml"), "a: [1, 2\n").unwrap();
        assert!(ev(".a bad.yaml")
            .unwrap_err()
            .starts_with("yq: bad.yaml is not valid YAML"));
        assert!(ev(".run.steps[] r.yaml")
            .unwrap_err()
            .contains("gave 3 values"));
    }
}
