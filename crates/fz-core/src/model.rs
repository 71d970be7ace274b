//! Model resolution and validation.
//!
//! A model says how to read templates (prefixes, delimiters, comment marker,
//! interpreter) and outputs. Upstream accepts several spellings for each key
//! and honoured them in some places only; here every alias list is resolved
//! once, into [`Syntax`], and the rest of fz only ever reads that. This
//! module must not read templates or touch case directories.

use crate::error::{Error, Result};
use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};

/// Keys naming the variable prefix, highest precedence first.
const VAR_PREFIX_KEYS: &[&str] = &["var_prefix", "varprefix", "var_char", "varchar"];
/// Keys naming the formula prefix, highest precedence first.
const FORMULA_PREFIX_KEYS: &[&str] = &[
    "formula_prefix",
    "formulaprefix",
    "form_prefix",
    "formprefix",
    "formula_char",
    "form_char",
];
/// Keys naming the comment marker, highest precedence first.
const COMMENT_KEYS: &[&str] = &[
    "commentline",
    "comment_line",
    "comment_char",
    "commentchar",
    "comment",
];

/// Every key a model may set (aliases included); any other key is kept in
/// [`Model::raw`] but read by nothing.
const OTHER_KEYS: &[&str] = &[
    "delim",
    "var_delim",
    "formula_delim",
    "legacy_prefix",
    "interpreter",
    "output",
    "id",
    "timeout",
    "units",
    "success",
];

/// The known model keys, in the order `fz` documents them.
pub fn known_keys() -> impl Iterator<Item = &'static str> {
    VAR_PREFIX_KEYS
        .iter()
        .chain(FORMULA_PREFIX_KEYS)
        .chain(COMMENT_KEYS)
        .chain(OTHER_KEYS)
        .copied()
}

/// The known key `key` is most likely a misspelling of: same letters in
/// another case, or at most one edit away (two for keys of 6+ letters,
/// a swap of neighbours counting as one). `None` for a known key and for
/// keys far from every known one (free metadata such as `description`).
pub fn closest_key(key: &str) -> Option<&'static str> {
    if known_keys().any(|k| k == key) {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    let limit = if lower.chars().count() >= 6 { 2 } else { 1 };
    known_keys()
        .map(|k| (edit_distance(&lower, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions
/// and swaps of two neighbouring characters each cost one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// One message per key of `map` that looks like a misspelled model key
/// (it would be ignored silently otherwise).
pub fn misspelled_keys(map: &Map<String, Json>) -> Vec<String> {
    map.keys()
        .filter_map(|k| {
            closest_key(k).map(|near| {
                format!("Model key '{k}' is not a model key and is ignored: did you mean '{near}'?")
            })
        })
        .collect()
}

/// How templates are read: resolved from whichever key aliases a model used.
#[derive(Debug, Clone, PartialEq)]
pub struct Syntax {
    /// Variable prefix `P` (default `$`).
    pub var_prefix: String,
    /// Formula prefix `F` (default `@`).
    pub formula_prefix: String,
    /// Comment marker `C` (default `#`).
    pub comment: String,
    /// Variable delimiters `L`,`R`; `None` means prefix-only variables.
    pub var_delim: Option<(char, char)>,
    /// Formula delimiters; `None` disables formulas.
    pub formula_delim: Option<(char, char)>,
    /// The legacy Funz variable prefix (`?x`), an alias of `var_prefix`
    /// for the plain form. Enabled (`?`) when the variable prefix is `$`,
    /// unless the model sets `legacy_prefix` to `""`.
    pub legacy_prefix: Option<String>,
}

impl Default for Syntax {
    fn default() -> Self {
        Syntax {
            var_prefix: "$".into(),
            formula_prefix: "@".into(),
            comment: "#".into(),
            var_delim: Some(('(', ')')),
            formula_delim: Some(('{', '}')),
            legacy_prefix: Some("?".into()),
        }
    }
}

/// Per-model run timeout (`timeout` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelTimeout {
    /// `null` or `0`: no timeout at all.
    Unlimited,
    /// A limit in seconds.
    Seconds(u64),
}

/// What decides that an attempt succeeded (`success` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SuccessRule {
    /// `"exit"` (default): the command's exit code (0, or a code listed by
    /// the calculator's `?ok_exit=`).
    #[default]
    Exit,
    /// `"outputs"`: every model output has a value after the attempt,
    /// whatever the exit code; an output missing fails the attempt.
    Outputs,
}

impl SuccessRule {
    /// The key's value as written in a model.
    pub fn as_str(self) -> &'static str {
        match self {
            SuccessRule::Exit => "exit",
            SuccessRule::Outputs => "outputs",
        }
    }
}

/// The `success` key: `"exit"` (default, also when absent or null) or
/// `"outputs"`.
fn success_of(value: Option<&Json>) -> Result<SuccessRule> {
    match value {
        None | Some(Json::Null) => Ok(SuccessRule::Exit),
        Some(Json::String(s)) if s == "exit" => Ok(SuccessRule::Exit),
        Some(Json::String(s)) if s == "outputs" => Ok(SuccessRule::Outputs),
        Some(other) => Err(Error::Model(format!(
            "Model 'success' must be \"exit\" (the exit code decides, default) or \"outputs\" \
             (every output has a value), got {other}"
        ))),
    }
}

/// A resolved, validated model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The model as given (JSON object), for keys read by later layers.
    pub raw: Map<String, Json>,
    /// Template syntax, every alias resolved.
    pub syntax: Syntax,
    /// Interpreter name as written (`python`, `R`, …), if the model sets one.
    pub interpreter: Option<String>,
    /// Output extractors, name → spec, in model order.
    pub output: IndexMap<String, String>,
    /// Model identifier (`id`).
    pub id: Option<String>,
    /// Per-model timeout, if the model sets `timeout`.
    pub timeout: Option<ModelTimeout>,
    /// Units of variables and outputs (`units`: name → unit), shown on
    /// the report's axes and recorded in each case's `info.txt`.
    pub units: IndexMap<String, String>,
    /// What decides that an attempt succeeded (`success`).
    pub success: SuccessRule,
    /// Non-fatal remarks found while validating (shown as warnings).
    pub warnings: Vec<String>,
}

/// Where model aliases (`.fz/models/<name>.json`) are looked up.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The caller's working directory (project `.fz/` and relative files).
    pub cwd: PathBuf,
    /// The user's home directory (`~/.fz/`), if known.
    pub home: Option<PathBuf>,
}

impl Lookup {
    /// The current process directory and `$HOME`.
    pub fn from_env() -> Result<Self> {
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        Ok(Lookup { cwd, home })
    }

    /// Candidate files for `<kind>/<name>.json` (`kind` = `models`,
    /// `calculators`): project first, then home.
    pub fn alias_candidates(&self, kind: &str, name: &str) -> Vec<PathBuf> {
        let mut out = vec![self.cwd.join(".fz").join(kind).join(format!("{name}.json"))];
        if let Some(home) = &self.home {
            out.push(home.join(".fz").join(kind).join(format!("{name}.json")));
        }
        out
    }
}

/// Resolves a model given as text: inline JSON, a `.json` file, or an alias
/// in `.fz/models/` (project, then home). The error names everything tried.
pub fn resolve_model_str(text: &str, lookup: &Lookup) -> Result<Model> {
    let trimmed = text.trim();
    let mut tried = Vec::new();
    if trimmed.starts_with('{') {
        match serde_json::from_str::<Json>(trimmed) {
            Ok(json) => return model_from_json(json, "inline model"),
            Err(e) => tried.push(format!("invalid inline JSON ({e})")),
        }
    }
    if trimmed.ends_with(".json") {
        let path = lookup.cwd.join(trimmed);
        if path.is_file() {
            let json = read_json_file(&path)?;
            return model_from_json(json, &path.display().to_string());
        }
        tried.push(format!("file {} not found", path.display()));
    }
    if is_alias_name(trimmed) {
        for candidate in lookup.alias_candidates("models", trimmed) {
            if !candidate.is_file() {
                continue;
            }
            // The first existing file wins, as for calculator aliases: a
            // broken project file is an error naming it, never a silent
            // fall-back to the home file of that name (upstream skips it).
            let json = read_json_file(&candidate)?;
            return model_from_json(json, &candidate.display().to_string());
        }
        let places: Vec<String> = lookup
            .alias_candidates("models", trimmed)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        tried.push(format!("no alias file {}", places.join(" or ")));
    }
    if tried.is_empty() {
        tried.push("not inline JSON, not a .json file and not an alias name".into());
    }
    Err(Error::Model(format!(
        "model '{text}' not found: {}",
        tried.join("; ")
    )))
}

/// Whether `text` can name an alias file (no path separators, not empty).
fn is_alias_name(text: &str) -> bool {
    !text.is_empty() && !text.contains(['/', '\\', '\0']) && text != "." && text != ".."
}

/// Reads and parses a JSON file, naming the file in errors.
pub fn read_json_file(path: &Path) -> Result<Json> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Model(format!("{}: invalid JSON: {e}", path.display())))
}

/// Validates a model given as JSON and resolves its syntax. `origin` names
/// where it came from, for messages.
pub fn model_from_json(json: Json, origin: &str) -> Result<Model> {
    match json {
        Json::Object(map) => {
            let mut model = Model::from_map(map).map_err(|e| match e {
                Error::Model(m) => Error::Model(format!("{origin}: {m}")),
                Error::Type(m) => Error::Type(format!("{origin}: {m}")),
                other => other,
            })?;
            // Warnings name the model too, as errors do.
            for w in &mut model.warnings {
                *w = format!("{origin}: {w}");
            }
            Ok(model)
        }
        Json::Null => Err(Error::Type(
            "Model cannot be None. Please provide a model definition dictionary or alias string."
                .into(),
        )),
        other => Err(Error::Type(format!(
            "{origin}: model must be a JSON object, got {}",
            json_type(&other)
        ))),
    }
}

/// Python-ish type name of a JSON value, for messages.
pub fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "NoneType",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_i64() || n.is_u64() => "int",
        Json::Number(_) => "float",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

/// The first key of `keys` present in `map` (present wins, even if null).
fn first_present<'a>(map: &'a Map<String, Json>, keys: &[&'a str]) -> Option<(&'a str, &'a Json)> {
    keys.iter().find_map(|k| map.get(*k).map(|v| (*k, v)))
}

/// A string-valued key; `null` counts as absent.
fn string_key(map: &Map<String, Json>, keys: &[&str]) -> Result<Option<String>> {
    match first_present(map, keys) {
        None | Some((_, Json::Null)) => Ok(None),
        Some((_, Json::String(s))) => Ok(Some(s.clone())),
        Some((k, other)) => Err(Error::Type(format!(
            "Model '{k}' must be a string, got {}",
            json_type(other)
        ))),
    }
}

/// A delimiter pair: `""` → none, 2 characters → the pair.
fn delim_key(
    map: &Map<String, Json>,
    keys: &[&str],
    default: Option<(char, char)>,
) -> Result<Option<(char, char)>> {
    let Some(text) = string_key(map, keys)? else {
        return Ok(default);
    };
    let key = first_present(map, keys).map_or("delim", |(k, _)| k);
    let chars: Vec<char> = text.chars().collect();
    match chars.as_slice() {
        [] => Ok(None),
        [l, r] => Ok(Some((*l, *r))),
        _ => Err(Error::Model(format!(
            "Model '{key}' must be empty or exactly 2 characters, got {} characters: '{text}'",
            chars.len()
        ))),
    }
}

impl Model {
    /// Validates a model map and resolves every key alias.
    pub fn from_map(map: Map<String, Json>) -> Result<Model> {
        let mut warnings = misspelled_keys(&map);
        let var_prefix = string_key(&map, VAR_PREFIX_KEYS)?.unwrap_or_else(|| "$".into());
        let formula_prefix = string_key(&map, FORMULA_PREFIX_KEYS)?.unwrap_or_else(|| "@".into());
        let comment = string_key(&map, COMMENT_KEYS)?.unwrap_or_else(|| "#".into());
        for (what, value) in [
            ("variable prefix", &var_prefix),
            ("formula prefix", &formula_prefix),
            ("comment marker", &comment),
        ] {
            if value.is_empty() {
                return Err(Error::Model(format!("Model {what} must not be empty")));
            }
        }
        let both = delim_key(&map, &["delim"], None)?;
        let has_delim = matches!(map.get("delim"), Some(d) if !d.is_null());
        let var_delim = delim_key(
            &map,
            &["var_delim"],
            if has_delim { both } else { Some(('(', ')')) },
        )?;
        let formula_delim = delim_key(
            &map,
            &["formula_delim"],
            if has_delim { both } else { Some(('{', '}')) },
        )?;
        let legacy_prefix = match map.get("legacy_prefix") {
            None | Some(Json::Null) => (var_prefix == "$").then(|| "?".to_string()),
            Some(Json::String(s)) if s.is_empty() => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Error::Type(format!(
                    "Model 'legacy_prefix' must be a string, got {}",
                    json_type(other)
                )))
            }
        };

        let interpreter = string_key(&map, &["interpreter"])?;
        if let Some(name) = &interpreter {
            if !matches!(name.to_ascii_lowercase().as_str(), "python" | "r") {
                warnings.push(format!(
                    "Model 'interpreter' is '{name}'. Supported interpreters: python, r, R"
                ));
            }
        }

        let mut output = IndexMap::new();
        match map.get("output") {
            None | Some(Json::Null) => {}
            Some(Json::Object(outputs)) => {
                for (name, spec) in outputs {
                    match spec {
                        Json::String(s) => {
                            output.insert(name.clone(), s.clone());
                        }
                        other => {
                            return Err(Error::Type(format!(
                                "Model output values must be strings (shell command, optionally prefixed with 'bash://', or a 'python://', 'jq://', 'yq://' or 'xpath://' expression) or callables, got {} for key '{name}'",
                                json_type(other)
                            )))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(Error::Type(format!(
                    "Model 'output' must be a dictionary, got {}",
                    json_type(other)
                )))
            }
        }

        let id = match map.get("id") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => Some(crate::Value::from(other).py_str()),
        };

        let timeout = match map.get("timeout") {
            None => None,
            Some(Json::Null) => Some(ModelTimeout::Unlimited),
            Some(Json::Number(n)) => match n.as_u64() {
                Some(0) => Some(ModelTimeout::Unlimited),
                Some(s) => Some(ModelTimeout::Seconds(s)),
                None => {
                    return Err(Error::Model(format!(
                        "Model 'timeout' must be a non-negative integer number of seconds, got {n}"
                    )))
                }
            },
            Some(other) => {
                return Err(Error::Type(format!(
                    "Model 'timeout' must be an integer (seconds) or null, got {}",
                    json_type(other)
                )))
            }
        };

        let units = units_of(map.get("units"))?;
        let success = success_of(map.get("success"))?;

        Ok(Model {
            syntax: Syntax {
                var_prefix,
                formula_prefix,
                comment,
                var_delim,
                formula_delim,
                legacy_prefix,
            },
            interpreter,
            output,
            id,
            timeout,
            units,
            success,
            warnings,
            raw: map,
        })
    }
}

impl Model {
    /// Why the `success` rule cannot work with this model's outputs:
    /// `"outputs"` without any output (nothing could tell a case
    /// succeeded). Checked once the command line's outputs are added.
    pub fn success_problem(&self) -> Option<String> {
        (self.success == SuccessRule::Outputs && self.output.is_empty()).then(|| {
            "Model 'success' is \"outputs\" but the model has no 'output': nothing could \
             tell a case succeeded (add outputs, or drop 'success')"
                .to_string()
        })
    }
}

/// The `units` key: an object of unit strings.
fn units_of(value: Option<&Json>) -> Result<IndexMap<String, String>> {
    let bad = |what: String| {
        Error::Model(format!(
            "Model 'units' must map names to unit strings, e.g. {{\"pressure\": \"Pa\"}}; {what}"
        ))
    };
    match value {
        None | Some(Json::Null) => Ok(IndexMap::new()),
        Some(Json::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Json::String(u) if !u.contains(['\n', '\r']) => Ok((k.clone(), u.clone())),
                other => Err(bad(format!("got {} for '{k}'", json_type(other)))),
            })
            .collect(),
        Some(other) => Err(bad(format!("got {}", json_type(other)))),
    }
}

/// Model keys set from the command line (`--varprefix`, `--delim`, …).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--varprefix`.
    pub var_prefix: Option<String>,
    /// `--formulaprefix`.
    pub formula_prefix: Option<String>,
    /// `--delim` (both delimiter pairs).
    pub delim: Option<String>,
    /// `--commentline`.
    pub comment: Option<String>,
    /// `--interpreter`.
    pub interpreter: Option<String>,
    /// `--output-cmd NAME=COMMAND`, added to / replacing `output`.
    pub outputs: Vec<(String, String)>,
}

impl Overrides {
    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.var_prefix.is_none()
            && self.formula_prefix.is_none()
            && self.delim.is_none()
            && self.comment.is_none()
            && self.interpreter.is_none()
            && self.outputs.is_empty()
    }
}

impl Model {
    /// The model with command-line overrides applied. An override replaces
    /// every alias of its key (so `--varprefix` wins over a model's
    /// `var_prefix`), and `--delim` replaces `var_delim`/`formula_delim`.
    pub fn with_overrides(&self, o: &Overrides) -> Result<Model> {
        if o.is_empty() {
            return Ok(self.clone());
        }
        let mut raw = self.raw.clone();
        let mut set = |keys: &[&str], key: &str, value: &Option<String>| {
            if let Some(v) = value {
                for k in keys {
                    raw.remove(*k);
                }
                raw.insert(key.to_string(), Json::String(v.clone()));
            }
        };
        set(VAR_PREFIX_KEYS, "varprefix", &o.var_prefix);
        set(FORMULA_PREFIX_KEYS, "formulaprefix", &o.formula_prefix);
        set(&["delim", "var_delim", "formula_delim"], "delim", &o.delim);
        set(COMMENT_KEYS, "commentline", &o.comment);
        set(&["interpreter"], "interpreter", &o.interpreter);
        if !o.outputs.is_empty() {
            let mut outputs = match raw.remove("output") {
                Some(Json::Object(m)) => m,
                _ => Map::new(),
            };
            for (name, cmd) in &o.outputs {
                outputs.insert(name.clone(), Json::String(cmd.clone()));
            }
            raw.insert("output".into(), Json::Object(outputs));
        }
        let mut model = Model::from_map(raw)?;
        // Keep the origin the first resolution put in front of a warning.
        for w in &mut model.warnings {
            let suffix = format!(": {w}");
            if let Some(named) = self.warnings.iter().find(|o| o.ends_with(&suffix)) {
                *w = named.clone();
            }
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(j: Json) -> Result<Model> {
        model_from_json(j, "test")
    }

    #[test]
    fn defaults_without_delim_differ_for_variables_and_formulas() {
        let m = model(json!({})).unwrap();
        assert_eq!(m.syntax.var_delim, Some(('(', ')')));
        assert_eq!(m.syntax.formula_delim, Some(('{', '}')));
        assert_eq!(m.syntax.var_prefix, "$");
        assert_eq!(m.syntax.legacy_prefix.as_deref(), Some("?"));
    }

    #[test]
    fn first_present_alias_wins() {
        let m = model(json!({"var_prefix": "$", "varprefix": "!"})).unwrap();
        assert_eq!(m.syntax.var_prefix, "$");
        let m = model(json!({"varchar": "V", "form_char": "F", "comment": "*"})).unwrap();
        assert_eq!(m.syntax.var_prefix, "V");
        assert_eq!(m.syntax.formula_prefix, "F");
        assert_eq!(m.syntax.comment, "*");
        assert_eq!(
            m.syntax.legacy_prefix, None,
            "legacy ?x only with the $ prefix"
        );
    }

    #[test]
    fn delim_sets_both_and_specific_keys_override() {
        let m = model(json!({"delim": "{}"})).unwrap();
        assert_eq!(m.syntax.var_delim, Some(('{', '}')));
        assert_eq!(m.syntax.formula_delim, Some(('{', '}')));
        let m = model(json!({"delim": "{}", "var_delim": "()"})).unwrap();
        assert_eq!(m.syntax.var_delim, Some(('(', ')')));
        assert_eq!(m.syntax.formula_delim, Some(('{', '}')));
        let m = model(json!({"delim": ""})).unwrap();
        assert_eq!(m.syntax.var_delim, None);
        assert_eq!(m.syntax.formula_delim, None);
    }

    #[test]
    fn validation_errors_name_the_key() {
        let cases = [
            (
                json!({"delim": 3}),
                "Model 'delim' must be a string, got int",
            ),
            (
                json!({"delim": "abc"}),
                "Model 'delim' must be empty or exactly 2 characters, got 3 characters: 'abc'",
            ),
            (
                json!({"formula_delim": "{"}),
                "Model 'formula_delim' must be empty or exactly 2 characters",
            ),
            (
                json!({"varprefix": 1}),
                "Model 'varprefix' must be a string, got int",
            ),
            (
                json!({"output": []}),
                "Model 'output' must be a dictionary, got list",
            ),
            (json!({"output": {"k": 1}}), "got int for key 'k'"),
            (
                json!({"interpreter": 2}),
                "Model 'interpreter' must be a string",
            ),
            (
                json!({"timeout": "x"}),
                "Model 'timeout' must be an integer",
            ),
            (
                json!({"varprefix": ""}),
                "variable prefix must not be empty",
            ),
            (json!([1]), "model must be a JSON object, got list"),
        ];
        for (j, want) in cases {
            let err = model(j.clone()).unwrap_err().to_string();
            assert!(err.contains(want), "{j}: {err}");
        }
    }

    #[test]
    fn units_are_names_to_strings() {
        let m = model(json!({"units": {"pressure": "Pa", "T": "°C"}})).unwrap();
        assert_eq!(m.units.get("T").map(String::as_str), Some("°C"));
        assert!(model(json!({})).unwrap().units.is_empty());
        for bad in [json!({"units": ["Pa"]}), json!({"units": {"p": 1}})] {
            let e = model(bad).unwrap_err().to_string();
            assert!(
                e.contains("Model 'units' must map names to unit strings"),
                "{e}"
            );
        }
    }

    #[test]
    fn success_is_exit_or_outputs() {
        assert_eq!(model(json!({})).unwrap().success, SuccessRule::Exit);
        assert_eq!(
            model(json!({"success": null})).unwrap().success,
            SuccessRule::Exit
        );
        assert_eq!(
            model(json!({"success": "exit"})).unwrap().success,
            SuccessRule::Exit
        );
        assert_eq!(
            model(json!({"success": "outputs"})).unwrap().success,
            SuccessRule::Outputs
        );
        for bad in [json!("output"), json!(true), json!(["outputs"])] {
            let err = model(json!({ "success": bad })).unwrap_err().to_string();
            assert!(
                err.contains(&format!(
                    "test: Model 'success' must be \"exit\" (the exit code decides, default) \
                     or \"outputs\" (every output has a value), got {bad}"
                )),
                "{err}"
            );
        }
        let m = model(json!({"success": "outputs"})).unwrap();
        assert!(m
            .success_problem()
            .is_some_and(|p| p.contains("the model has no 'output'")));
        let m = model(json!({"success": "outputs", "output": {"r": "cat r"}})).unwrap();
        assert_eq!(m.success_problem(), None);
        // A near miss of the key is named.
        let m = model(json!({"sucess": "outputs"})).unwrap();
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains("did you mean 'success'?")),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn interpreter_warning_and_timeout() {
        let m = model(json!({"interpreter": "js", "timeout": 0})).unwrap();
        assert_eq!(m.warnings.len(), 1);
        assert!(m.warnings[0].contains("'js'"));
        assert_eq!(m.timeout, Some(ModelTimeout::Unlimited));
        let m = model(json!({"timeout": 30, "interpreter": "R"})).unwrap();
        assert!(m.warnings.is_empty());
        assert_eq!(m.timeout, Some(ModelTimeout::Seconds(30)));
    }

    #[test]
    fn misspelled_keys_are_named_with_the_closest_key() {
        let m = model(json!({"outptu": {"a": "x"}, "varprefx": "%", "Output": {},
            "description": "free text", "id": "m"}))
        .unwrap();
        assert_eq!(
            m.warnings,
            [
                "test: Model key 'outptu' is not a model key and is ignored: did you mean 'output'?",
                "test: Model key 'varprefx' is not a model key and is ignored: did you mean 'varprefix'?",
                "test: Model key 'Output' is not a model key and is ignored: did you mean 'output'?",
            ]
        );
        let o = Overrides {
            delim: Some("{}".into()),
            ..Default::default()
        };
        assert_eq!(m.with_overrides(&o).unwrap().warnings, m.warnings);
        assert!(m.output.is_empty(), "a misspelled key is still not read");
        assert_eq!(m.syntax.var_prefix, "$");
        for k in known_keys() {
            assert_eq!(closest_key(k), None, "{k}");
        }
        assert_eq!(closest_key("description"), None);
        assert_eq!(closest_key("name"), None);
        assert_eq!(closest_key("ids"), Some("id"));
        assert_eq!(edit_distance("outptu", "output"), 1);
    }

    #[test]
    fn overrides_replace_every_alias() {
        let m = model(json!({"var_prefix": "%", "var_delim": "()", "output": {"a": "x"}})).unwrap();
        let o = Overrides {
            var_prefix: Some("$".into()),
            delim: Some("{}".into()),
            outputs: vec![("b".into(), "echo 1".into())],
            ..Default::default()
        };
        let m = m.with_overrides(&o).unwrap();
        assert_eq!(m.syntax.var_prefix, "$");
        assert_eq!(m.syntax.var_delim, Some(('{', '}')));
        assert_eq!(m.output.keys().collect::<Vec<_>>(), ["a", "b"]);
        let bad = Overrides {
            delim: Some("{".into()),
            ..Default::default()
        };
        assert!(m.with_overrides(&bad).is_err());
    }

    #[test]
    fn resolution_order_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let lookup = Lookup {
            cwd: dir.path().to_path_buf(),
            home: Some(home.path().to_path_buf()),
        };
        std::fs::create_dir_all(dir.path().join(".fz/models")).unwrap();
        std::fs::create_dir_all(home.path().join(".fz/models")).unwrap();
        std::fs::write(dir.path().join(".fz/models/a.json"), r#"{"id":"project"}"#).unwrap();
        std::fs::write(home.path().join(".fz/models/a.json"), r#"{"id":"home"}"#).unwrap();
        std::fs::write(dir.path().join(".fz/models/b.json"), "{bad").unwrap();
        std::fs::write(home.path().join(".fz/models/b.json"), r#"{"id":"homeb"}"#).unwrap();
        std::fs::write(dir.path().join("m.json"), r#"{"id":"file"}"#).unwrap();

        assert_eq!(
            resolve_model_str("a", &lookup).unwrap().id.as_deref(),
            Some("project")
        );
        // A broken project alias is an error naming it (no fall-back to home).
        let err = resolve_model_str("b", &lookup).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "{}: invalid JSON",
                dir.path().join(".fz/models/b.json").display()
            )),
            "{err}"
        );
        std::fs::remove_file(dir.path().join(".fz/models/b.json")).unwrap();
        assert_eq!(
            resolve_model_str("b", &lookup).unwrap().id.as_deref(),
            Some("homeb")
        );
        assert_eq!(
            resolve_model_str("m.json", &lookup).unwrap().id.as_deref(),
            Some("file")
        );
        assert_eq!(
            resolve_model_str(r#" {"id":"inline"}"#, &lookup)
                .unwrap()
                .id
                .as_deref(),
            Some("inline")
        );
        let err = resolve_model_str("nosuch", &lookup)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("model 'nosuch' not found: no alias file"),
            "{err}"
        );
        assert!(err.contains(".fz/models/nosuch.json"), "{err}");
        let err = resolve_model_str("{bad", &lookup).unwrap_err().to_string();
        assert!(err.contains("invalid inline JSON"), "{err}");
        let err = resolve_model_str("x.json", &lookup)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.json not found"), "{err}");
        let err = resolve_model_str("../etc/passwd", &lookup)
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("alias file"),
            "a path is never an alias: {err}"
        );
    }
}
