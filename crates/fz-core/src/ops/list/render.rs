//! Text forms of a [`Listing`]: `markdown` (the default), `table` (plain
//! text) and `json` (plugins.md §6.5, with alias names, paths, URIs and
//! model commands added, and the algorithms). Rendering only: no file
//! access.

use super::algorithms::AlgorithmEntry;
use super::{CalculatorEntry, CheckStatus, Listing, ModelEntry};
use crate::format::Format;
use crate::{Error, Result};
use std::fmt::Write as _;

/// The listing in `format` (`json`, `markdown` or `table`), without a
/// trailing newline.
pub fn render(listing: &Listing, format: Format) -> Result<String> {
    match format {
        Format::Json => serde_json::to_string_pretty(&listing.to_json())
            .map_err(|e| Error::Value(format!("fzl: cannot write JSON: {e}"))),
        Format::Markdown => Ok(markdown(listing)),
        Format::Table => Ok(table(listing)),
        other => Err(Error::Value(format!(
            "fzl: invalid format '{other}' (choose from 'json', 'markdown', 'table')"
        ))),
    }
}

/// ` ✓` when passed, ` ✗` when failed, nothing when not checked.
fn mark(check: &CheckStatus) -> &'static str {
    match check {
        CheckStatus::Passed => " ✓",
        CheckStatus::Failed(_) => " ✗",
        CheckStatus::NotChecked => "",
    }
}

fn markdown(l: &Listing) -> String {
    let mut s = String::from("# Models and Calculators\n\n## Models\n\n");
    markdown_models(l, &mut s);
    s.push_str("## Calculators\n\n");
    markdown_calculators(l, &mut s);
    s.push_str("## Algorithms\n\n");
    markdown_algorithms(l, &mut s);
    s.trim_end().to_string()
}

fn markdown_algorithms(l: &Listing, s: &mut String) {
    if l.algorithms.is_empty() {
        s.push_str("No algorithms found matching pattern.\n\n");
    }
    for a in &l.algorithms {
        markdown_algorithm(a, s);
    }
}

fn markdown_models(l: &Listing, s: &mut String) {
    if l.models.is_empty() {
        s.push_str("No models found matching pattern.\n\n");
    }
    for m in &l.models {
        markdown_model(m, s);
    }
}

fn markdown_calculators(l: &Listing, s: &mut String) {
    if l.calculators.is_empty() {
        s.push_str("No calculators found matching pattern.\n\n");
    }
    for c in &l.calculators {
        markdown_calculator(c, s);
    }
}

/// One part of a listing, for `fz list models` / `fz list calculators`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The models only.
    Models,
    /// The calculators only.
    Calculators,
}

/// Only the `section` of the listing in `format`: the same blocks as
/// [`render`] under a `# Models` / `# Calculators` title (markdown), one
/// `=== … ===` part (table), or one key of the JSON object.
pub fn render_section(listing: &Listing, section: Section, format: Format) -> Result<String> {
    let (key, title) = match section {
        Section::Models => ("models", "Models"),
        Section::Calculators => ("calculators", "Calculators"),
    };
    match format {
        Format::Json => {
            let all = listing.to_json();
            let part = serde_json::json!({ key: all[key] });
            serde_json::to_string_pretty(&part)
                .map_err(|e| Error::Value(format!("fz list: cannot write JSON: {e}")))
        }
        Format::Markdown => {
            let mut s = format!("# {title}\n\n");
            match section {
                Section::Models => markdown_models(listing, &mut s),
                Section::Calculators => markdown_calculators(listing, &mut s),
            }
            Ok(s.trim_end().to_string())
        }
        Format::Table => {
            let full = table(listing);
            let calc = full.find("=== CALCULATORS ===").unwrap_or(full.len());
            let algos = full
                .find("=== ALGORITHMS ===")
                .unwrap_or(full.len())
                .max(calc);
            let part = match section {
                Section::Models => full[..calc].trim_end().to_string(),
                Section::Calculators => format!("\n{}", full[calc..algos].trim_end()),
            };
            Ok(part)
        }
        other => render(listing, other),
    }
}

/// `plugin (python)`, `plugin (R)` or `built-in`.
fn algorithm_type(a: &AlgorithmEntry) -> String {
    match a.language {
        Some(lang) => format!("plugin ({})", lang.as_str()),
        None => "built-in".to_string(),
    }
}

fn markdown_algorithm(a: &AlgorithmEntry, s: &mut String) {
    let _ = writeln!(s, "### {}{}", a.name, mark(&a.check));
    let _ = writeln!(s, "- **Type**: {}", algorithm_type(a));
    if let Some(path) = &a.path {
        let _ = writeln!(s, "- **Path**: `{}`", path.display());
    }
    if let Some(summary) = &a.summary {
        let _ = writeln!(s, "- **Summary**: {summary}");
    }
    if a.shadows_builtin {
        s.push_str("- **Hides the built-in of the same name**\n");
    }
    if let Some(err) = a.check.error() {
        let _ = writeln!(s, "- **Error**: {err}");
    }
    if !a.options.is_empty() {
        s.push_str("- **Options**:\n");
        for o in &a.options {
            let _ = write!(s, "  - `{}` = `{}`", o.name, o.default);
            match &o.help {
                Some(help) => {
                    let _ = writeln!(s, ": {help}");
                }
                None => s.push('\n'),
            }
        }
    }
    if !a.require.is_empty() {
        let list: Vec<String> = a.require.iter().map(|r| format!("`{r}`")).collect();
        let _ = writeln!(s, "- **Requires**: {}", list.join(", "));
    }
    s.push('\n');
}

fn markdown_model(m: &ModelEntry, s: &mut String) {
    let _ = writeln!(s, "### {}{}", m.name, mark(&m.check));
    let _ = writeln!(s, "- **Path**: `{}`", m.path.display());
    if let Some(id) = &m.id {
        let _ = writeln!(s, "- **Id**: `{id}`");
    }
    if let Some(err) = m.check.error() {
        let _ = writeln!(s, "- **Error**: {err}");
    }
    let _ = writeln!(
        s,
        "- **Supported Calculators**: {}",
        m.supported_calculators.len()
    );
    for c in &m.supported_calculators {
        let _ = writeln!(s, "  - `{c}`");
    }
    s.push('\n');
}

fn markdown_calculator(c: &CalculatorEntry, s: &mut String) {
    let _ = writeln!(s, "### {}{}", c.name, mark(&c.check));
    if let Some(path) = &c.path {
        let _ = writeln!(s, "- **Path**: `{}`", path.display());
    }
    if let Some(uri) = &c.uri {
        let _ = writeln!(s, "- **URI**: `{uri}`");
    }
    if let Some(err) = c.check.error() {
        let _ = writeln!(s, "- **Error**: {err}");
    }
    match &c.supports {
        None => s.push_str("- **Supports**: All models\n"),
        Some(models) => {
            let list: Vec<String> = models.iter().map(|m| format!("`{m}`")).collect();
            let _ = writeln!(s, "- **Supports Models**: {}", list.join(", "));
        }
    }
    if !c.commands.is_empty() {
        s.push_str("- **Commands**:\n");
        for (model, command) in &c.commands {
            let _ = writeln!(s, "  - `{model}`: `{command}`");
        }
    }
    s.push('\n');
}

fn table(l: &Listing) -> String {
    let mut s = String::from("\n=== MODELS ===\n\n");
    if l.models.is_empty() {
        s.push_str("No models found matching pattern.\n\n");
    }
    for m in &l.models {
        let _ = writeln!(s, "Model: {}{}", m.name, mark(&m.check));
        let _ = writeln!(s, "  Path: {}", m.path.display());
        if let Some(id) = &m.id {
            let _ = writeln!(s, "  Id: {id}");
        }
        if let Some(err) = m.check.error() {
            let _ = writeln!(s, "  Error: {err}");
        }
        let _ = writeln!(
            s,
            "  Supported Calculators: {}",
            m.supported_calculators.len()
        );
        for c in &m.supported_calculators {
            let _ = writeln!(s, "    - {c}");
        }
        s.push('\n');
    }
    s.push_str("=== CALCULATORS ===\n\n");
    if l.calculators.is_empty() {
        s.push_str("No calculators found matching pattern.\n\n");
    }
    for c in &l.calculators {
        let _ = writeln!(s, "Calculator: {}{}", c.name, mark(&c.check));
        if let Some(path) = &c.path {
            let _ = writeln!(s, "  Path: {}", path.display());
        }
        if let Some(uri) = &c.uri {
            let _ = writeln!(s, "  URI: {uri}");
        }
        if let Some(err) = c.check.error() {
            let _ = writeln!(s, "  Error: {err}");
        }
        match &c.supports {
            None => s.push_str("  Supports: All models\n"),
            Some(models) => {
                let _ = writeln!(s, "  Supports Models: {}", models.join(", "));
            }
        }
        if !c.commands.is_empty() {
            s.push_str("  Commands:\n");
            for (model, command) in &c.commands {
                let _ = writeln!(s, "    {model}: {command}");
            }
        }
        s.push('\n');
    }
    s.push_str("=== ALGORITHMS ===\n\n");
    if l.algorithms.is_empty() {
        s.push_str("No algorithms found matching pattern.\n\n");
    }
    for a in &l.algorithms {
        table_algorithm(a, &mut s);
    }
    s.trim_end().to_string()
}

fn table_algorithm(a: &AlgorithmEntry, s: &mut String) {
    let _ = writeln!(s, "Algorithm: {}{}", a.name, mark(&a.check));
    let _ = writeln!(s, "  Type: {}", algorithm_type(a));
    if let Some(path) = &a.path {
        let _ = writeln!(s, "  Path: {}", path.display());
    }
    if let Some(summary) = &a.summary {
        let _ = writeln!(s, "  Summary: {summary}");
    }
    if a.shadows_builtin {
        s.push_str("  Hides the built-in of the same name\n");
    }
    if let Some(err) = a.check.error() {
        let _ = writeln!(s, "  Error: {err}");
    }
    if !a.options.is_empty() {
        s.push_str("  Options:\n");
        for o in &a.options {
            let _ = write!(s, "    {} = {}", o.name, o.default);
            match &o.help {
                Some(help) => {
                    let _ = writeln!(s, ": {help}");
                }
                None => s.push('\n'),
            }
        }
    }
    if !a.require.is_empty() {
        let _ = writeln!(s, "  Requires: {}", a.require.join(", "));
    }
    s.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::plugin::Language;
    use crate::calculators::alias::Scope;
    use crate::ops::list::algorithms::AlgorithmOption;
    use std::path::PathBuf;

    fn listing() -> Listing {
        Listing {
            models: vec![ModelEntry {
                name: "pg".into(),
                path: PathBuf::from("/p/.fz/models/pg.json"),
                scope: Scope::Project,
                id: Some("PG".into()),
                properties: Some(serde_json::json!({"id": "PG"})),
                supported_calculators: vec!["local".into()],
                check: CheckStatus::Passed,
            }],
            calculators: vec![CalculatorEntry {
                name: "local".into(),
                path: Some(PathBuf::from("/p/.fz/calculators/local.json")),
                scope: Some(Scope::Project),
                uri: Some("sh://".into()),
                supports: Some(vec!["PG".into()]),
                commands: vec![("PG".into(), "bash pg.sh".into())],
                check: CheckStatus::Failed(vec!["a".into(), "b".into()]),
            }],
            algorithms: vec![
                AlgorithmEntry {
                    name: "mine".into(),
                    path: Some(PathBuf::from("/p/.fz/algorithms/mine.py")),
                    scope: Some(Scope::Project),
                    language: Some(Language::Python),
                    summary: Some("My sampler".into()),
                    options: vec![option("n", "10", None)],
                    require: vec!["numpy".into()],
                    metadata: Default::default(),
                    shadows_builtin: true,
                    check: CheckStatus::Failed(vec!["no class".into()]),
                },
                AlgorithmEntry {
                    name: "grid".into(),
                    path: None,
                    scope: None,
                    language: None,
                    summary: Some("A grid".into()),
                    options: vec![option("step", "0.1", Some("grid step"))],
                    require: vec![],
                    metadata: Default::default(),
                    shadows_builtin: false,
                    check: CheckStatus::NotChecked,
                },
            ],
        }
    }

    fn option(name: &str, default: &str, help: Option<&str>) -> AlgorithmOption {
        AlgorithmOption {
            name: name.into(),
            default: default.into(),
            help: help.map(str::to_string),
        }
    }

    #[test]
    fn markdown_text() {
        assert_eq!(
            render(&listing(), Format::Markdown).unwrap(),
            "# Models and Calculators\n\n## Models\n\n### pg ✓\n- **Path**: `/p/.fz/models/pg.json`\n- **Id**: `PG`\n- **Supported Calculators**: 1\n  - `local`\n\n## Calculators\n\n### local ✗\n- **Path**: `/p/.fz/calculators/local.json`\n- **URI**: `sh://`\n- **Error**: a; b\n- **Supports Models**: `PG`\n- **Commands**:\n  - `PG`: `bash pg.sh`\n\n## Algorithms\n\n### mine ✗\n- **Type**: plugin (python)\n- **Path**: `/p/.fz/algorithms/mine.py`\n- **Summary**: My sampler\n- **Hides the built-in of the same name**\n- **Error**: no class\n- **Options**:\n  - `n` = `10`\n- **Requires**: `numpy`\n\n### grid\n- **Type**: built-in\n- **Summary**: A grid\n- **Options**:\n  - `step` = `0.1`: grid step"
        );
        assert_eq!(
            render(&Listing::default(), Format::Markdown).unwrap(),
            "# Models and Calculators\n\n## Models\n\nNo models found matching pattern.\n\n## Calculators\n\nNo calculators found matching pattern.\n\n## Algorithms\n\nNo algorithms found matching pattern."
        );
    }

    #[test]
    fn table_and_json_text() {
        assert_eq!(
            render(&listing(), Format::Table).unwrap(),
            "\n=== MODELS ===\n\nModel: pg ✓\n  Path: /p/.fz/models/pg.json\n  Id: PG\n  Supported Calculators: 1\n    - local\n\n=== CALCULATORS ===\n\nCalculator: local ✗\n  Path: /p/.fz/calculators/local.json\n  URI: sh://\n  Error: a; b\n  Supports Models: PG\n  Commands:\n    PG: bash pg.sh\n\n=== ALGORITHMS ===\n\nAlgorithm: mine ✗\n  Type: plugin (python)\n  Path: /p/.fz/algorithms/mine.py\n  Summary: My sampler\n  Hides the built-in of the same name\n  Error: no class\n  Options:\n    n = 10\n  Requires: numpy\n\nAlgorithm: grid\n  Type: built-in\n  Summary: A grid\n  Options:\n    step = 0.1: grid step"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&listing(), Format::Json).unwrap()).unwrap();
        assert_eq!(json["models"]["pg"]["check_status"], "passed");
        assert_eq!(json["calculators"]["local"]["check_error"], "a; b");
        assert_eq!(json["algorithms"]["mine"]["check_error"], "no class");
        assert_eq!(json["algorithms"]["mine"]["options"]["n"], "10");
        assert_eq!(json["algorithms"]["grid"]["type"], "builtin");
        assert_eq!(
            json["algorithms"]["grid"]["options_help"]["step"],
            "grid step"
        );
        assert!(render(&listing(), Format::Csv).is_err());
    }

    #[test]
    fn one_section() {
        let l = listing();
        assert_eq!(
            render_section(&l, Section::Models, Format::Markdown).unwrap(),
            "# Models\n\n### pg ✓\n- **Path**: `/p/.fz/models/pg.json`\n- **Id**: `PG`\n- **Supported Calculators**: 1\n  - `local`"
        );
        assert_eq!(
            render_section(&l, Section::Models, Format::Table).unwrap(),
            "\n=== MODELS ===\n\nModel: pg ✓\n  Path: /p/.fz/models/pg.json\n  Id: PG\n  Supported Calculators: 1\n    - local"
        );
        let calcs = render_section(&l, Section::Calculators, Format::Table).unwrap();
        assert!(
            calcs.starts_with("\n=== CALCULATORS ===\n\nCalculator: local ✗\n"),
            "{calcs}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render_section(&l, Section::Calculators, Format::Json).unwrap())
                .unwrap();
        assert_eq!(json.as_object().unwrap().len(), 1);
        assert_eq!(json["calculators"]["local"]["uri"], "sh://");
        let empty =
            render_section(&Listing::default(), Section::Calculators, Format::Markdown).unwrap();
        assert_eq!(
            empty,
            "# Calculators\n\nNo calculators found matching pattern."
        );
    }
}
