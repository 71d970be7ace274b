//! `fz help [COMMAND|TOPIC]`: the help of a subcommand (as `--help`), or
//! a topic: `fz help model` lists the model keys, one line each.
//!
//! Text only: it reads no model and touches no file.

use crate::args::FzArgs;
use crate::Failure;
use clap::CommandFactory;

/// The model keys with what each does (aliases after the main name).
pub const MODEL_KEYS: &[(&str, &str)] = &[
    ("id", "the model's name (matched against calculator aliases' \"models\")"),
    (
        "varprefix",
        "variable prefix, default '$' (aliases: var_prefix, var_char, varchar)",
    ),
    (
        "formulaprefix",
        "formula prefix, default '@' (aliases: formula_prefix, form_prefix, formprefix, formula_char, form_char)",
    ),
    (
        "delim",
        "delimiters of variables and formulas, two characters, default '{}' ('' : prefix only)",
    ),
    ("var_delim", "delimiters of variables only (overrides delim)"),
    ("formula_delim", "delimiters of formulas only (overrides delim)"),
    (
        "commentline",
        "comment marker starting context lines ('#@ …'), default '#' (aliases: comment_line, comment_char, commentchar, comment)",
    ),
    (
        "legacy_prefix",
        "the legacy Funz variable prefix '?x' ('' turns it off)",
    ),
    ("interpreter", "formula interpreter: python (default) or R"),
    (
        "output",
        "output name → shell command printing its value, run in each case directory",
    ),
    (
        "timeout",
        "time limit of one attempt in seconds (0 or null: none), before --timeout",
    ),
    (
        "success",
        "what makes an attempt succeed: \"exit\" (default: exit code 0, or one listed by ?ok_exit=) or \"outputs\" (every output has a value, whatever the exit code)",
    ),
    (
        "units",
        "name → unit of variables and outputs ({\"pressure\": \"Pa\"}), on the report's axes",
    ),
];

/// Runs `fz help TOPIC…`.
pub fn help(topic: &[String]) -> Result<u8, Failure> {
    let mut root = FzArgs::command();
    match topic.first().map(String::as_str) {
        None => {
            let _ = root.print_help();
            println!();
            Ok(0)
        }
        Some("model" | "models") => {
            crate::commands::print_out(&model_keys())?;
            Ok(0)
        }
        Some(name) => match root.find_subcommand_mut(name) {
            Some(sub) => {
                let mut sub = sub.clone().bin_name(format!("fz {name}"));
                let _ = sub.print_long_help();
                Ok(0)
            }
            None => Err(Failure::Usage(format!(
                "no help on '{name}': give a command (run, compile, …) or 'model'"
            ))),
        },
    }
}

/// One line per model key, names aligned.
fn model_keys() -> String {
    let width = MODEL_KEYS.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut text = String::from(
        "Model keys (a model is a JSON object; -m takes it inline, as a file or an alias):\n",
    );
    for (key, what) in MODEL_KEYS {
        text.push_str(&format!("  {key:<width$}  {what}\n"));
    }
    text.push_str("Example:\n  fzr input.txt -v x=1:3 -c 'sh://bash calc.sh' -m '{\"output\": {\"r\": \"cat r.txt\"}}'");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_key_is_documented() {
        let text = model_keys();
        for key in fz_core::model::known_keys() {
            assert!(
                MODEL_KEYS.iter().any(|(k, _)| *k == key)
                    || text.contains(&format!(" {key},"))
                    || text.contains(&format!(" {key})")),
                "model key '{key}' missing from `fz help model`"
            );
        }
    }
}
