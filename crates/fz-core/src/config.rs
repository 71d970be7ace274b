//! Configuration read at call time: settings made by the program (the
//! Python `get_config()` attributes) over the environment over defaults.
//!
//! Upstream reads `FZ_*` variables once, at import; users of the seed set
//! `os.environ[...]` after importing, so every operation here takes a fresh
//! [`Config::from_env`] when it starts. A value set through
//! [`set_setting`] wins over the environment until it is removed. This
//! module owns parsing, precedence and defaults only; it must not act on
//! the values.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::RwLock;

/// Values set by the program, by variable name; they win over the
/// environment.
static SETTINGS: RwLock<BTreeMap<String, String>> = RwLock::new(BTreeMap::new());

/// Sets `var` (e.g. `FZ_MAX_WORKERS`) for this process, over the
/// environment; `None` removes the setting, so the environment counts
/// again.
pub fn set_setting(var: &str, value: Option<&str>) {
    put(&SETTINGS, var, value);
}

/// Sets (`Some`) or removes (`None`) `var` in `map`.
fn put(map: &RwLock<BTreeMap<String, String>>, var: &str, value: Option<&str>) {
    let mut map = map.write().unwrap_or_else(|p| p.into_inner());
    match value {
        Some(v) => map.insert(var.to_string(), v.to_string()),
        None => map.remove(var),
    };
}

/// Defaults supplied by the host program, by variable name; the
/// environment wins over them.
static DEFAULTS: RwLock<BTreeMap<String, String>> = RwLock::new(BTreeMap::new());

/// Sets the default of `var` for this process, below the environment and
/// the program's settings (the Python module makes its own interpreter the
/// default `FZ_PYTHON`); `None` removes it.
pub fn set_default(var: &str, value: Option<&str>) {
    put(&DEFAULTS, var, value);
}

/// Removes every value set by [`set_setting`].
pub fn clear_settings() {
    SETTINGS.write().unwrap_or_else(|p| p.into_inner()).clear();
}

/// The value of `var` now: the program's setting, else the environment,
/// else the host program's default.
pub fn setting(var: &str) -> Option<String> {
    let set = SETTINGS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(var)
        .cloned();
    set.or_else(|| std::env::var(var).ok()).or_else(|| {
        DEFAULTS
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(var)
            .cloned()
    })
}

/// Verbosity of stderr logs, least to most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing but errors the user must see.
    Quiet,
    /// Errors (the default).
    Error,
    /// Warnings too.
    Warning,
    /// Progress information.
    Info,
    /// Everything, for debugging.
    Debug,
}

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "QUIET" => Ok(LogLevel::Quiet),
            "ERROR" => Ok(LogLevel::Error),
            "WARNING" | "WARN" => Ok(LogLevel::Warning),
            "INFO" => Ok(LogLevel::Info),
            "DEBUG" => Ok(LogLevel::Debug),
            _ => Err(format!(
                "Invalid log level: {s}. Valid levels: ['QUIET', 'ERROR', 'WARNING', 'INFO', 'DEBUG']"
            )),
        }
    }
}

/// How case directories are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseNaming {
    /// `k1=v1,k2=v2` (default).
    Path,
    /// `case_<12 hex of SHA-1 of the case>`.
    Hash,
    /// `case_<i>`, zero-padded.
    Index,
}

impl FromStr for CaseNaming {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "path" => Ok(CaseNaming::Path),
            "hash" => Ok(CaseNaming::Hash),
            "index" => Ok(CaseNaming::Index),
            _ => Err(format!(
                "invalid case naming '{s}': expected one of path, hash, index"
            )),
        }
    }
}

/// Whether warnings about the user's input (a misspelled model key, …) are
/// errors: `FZ_STRICT` true (the CLI's `--strict`, Python's
/// `get_config().strict`). Read at each call.
pub fn strict() -> bool {
    setting("FZ_STRICT")
        .and_then(|v| parse_bool(&v))
        .unwrap_or(false)
}

/// The `PATH` for the shell commands fz runs (calculator commands, output
/// extractors): the directories of `FZ_SHELL_PATH` (`:`-separated) before
/// the inherited `PATH`, so the tools found there win. `None` when
/// `FZ_SHELL_PATH` is unset or empty: children inherit `PATH` as is.
pub fn shell_search_path() -> Option<std::ffi::OsString> {
    let extra = setting("FZ_SHELL_PATH")?;
    let mut dirs: Vec<std::path::PathBuf> = std::env::split_paths(&extra)
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    if dirs.is_empty() {
        return None;
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).ok()
}

/// The settings fz reads from `FZ_*` environment variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `FZ_LOG_LEVEL` (default ERROR; invalid → ERROR).
    pub log_level: LogLevel,
    /// `FZ_INTERPRETER` (default `python`), lower-case.
    pub interpreter: String,
    /// `FZ_CASE_NAMING` (default path; invalid → path).
    pub case_naming: CaseNaming,
    /// `FZ_STATIC_CANDIDATE_MIN_SIZE` in bytes (default 1 MiB, 0 disables).
    pub static_candidate_min_size: u64,
    /// `FZ_MAX_WORKERS`: cap on concurrent cases (unset or invalid: none).
    pub max_workers: Option<usize>,
    /// `FZ_MAX_RETRIES`: attempts per case (default 5). An invalid value is
    /// kept as text so that a run can refuse it clearly.
    pub max_retries: Result<usize, String>,
    /// `FZ_RUN_TIMEOUT` in seconds (default 3600; invalid → default).
    pub run_timeout: u64,
    /// `FZ_MISSING_OUTPUT_FAILS`: a run that exits 0 but leaves a model
    /// output missing counts as a failed attempt (retried on the next
    /// calculator). Default false, as upstream: `done` with an error.
    pub missing_output_fails: bool,
    /// `FZ_MAX_CASES`: the most cases a design may have (default
    /// 1,000,000; invalid → default). Checked before any case is built.
    pub max_cases: u64,
    /// `FZ_COMPILE_AHEAD`: how many cases `fzr` compiles ahead of the
    /// calculators at a time (default 2048; at least 1; invalid →
    /// default). Bounds the waiting case directories of a large run.
    pub compile_ahead: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            log_level: LogLevel::Error,
            interpreter: "python".into(),
            case_naming: CaseNaming::Path,
            static_candidate_min_size: 1_048_576,
            max_workers: None,
            max_retries: Ok(5),
            run_timeout: 3600,
            missing_output_fails: false,
            max_cases: 1_000_000,
            compile_ahead: 2048,
        }
    }
}

impl Config {
    /// Reads the settings now (the program's, then the environment).
    pub fn from_env() -> Self {
        Self::from_lookup(setting)
    }

    /// Reads settings through `get` (the environment, or a test map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let d = Config::default();
        Config {
            log_level: get("FZ_LOG_LEVEL")
                .and_then(|v| v.parse().ok())
                .unwrap_or(d.log_level),
            interpreter: get("FZ_INTERPRETER")
                .map(|v| v.trim().to_ascii_lowercase())
                .filter(|v| matches!(v.as_str(), "python" | "r" | "javascript" | "auto"))
                .unwrap_or(d.interpreter),
            case_naming: get("FZ_CASE_NAMING")
                .and_then(|v| v.parse().ok())
                .unwrap_or(d.case_naming),
            static_candidate_min_size: get("FZ_STATIC_CANDIDATE_MIN_SIZE")
                .and_then(|v| parse_int(&v))
                .unwrap_or(d.static_candidate_min_size),
            max_workers: get("FZ_MAX_WORKERS")
                .and_then(|v| parse_int::<usize>(&v))
                .filter(|n| *n > 0),
            max_retries: match get("FZ_MAX_RETRIES") {
                None => d.max_retries,
                Some(v) => parse_int::<usize>(&v).ok_or_else(|| {
                    format!("FZ_MAX_RETRIES must be a non-negative integer, got '{v}'")
                }),
            },
            run_timeout: get("FZ_RUN_TIMEOUT")
                .and_then(|v| parse_int(&v))
                .unwrap_or(d.run_timeout),
            missing_output_fails: get("FZ_MISSING_OUTPUT_FAILS")
                .and_then(|v| parse_bool(&v))
                .unwrap_or(d.missing_output_fails),
            max_cases: get("FZ_MAX_CASES")
                .and_then(|v| parse_int(&v))
                .unwrap_or(d.max_cases),
            compile_ahead: get("FZ_COMPILE_AHEAD")
                .and_then(|v| parse_int::<usize>(&v))
                .filter(|n| *n > 0)
                .unwrap_or(d.compile_ahead),
        }
    }
}

/// `true/1/yes/on` or `false/0/no/off` (any case), else `None`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Python `int()`-like parsing: blanks around, `_` between digits.
pub fn parse_int<T: FromStr>(text: &str) -> Option<T> {
    let t = text.trim();
    if t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    t.replace('_', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_path_directories_come_before_path() {
        set_setting("FZ_SHELL_PATH", Some("/opt/tools::/opt/more"));
        let path = shell_search_path().unwrap();
        set_setting("FZ_SHELL_PATH", None);
        let dirs: Vec<_> = std::env::split_paths(&path).collect();
        assert_eq!(dirs[0], std::path::Path::new("/opt/tools"));
        assert_eq!(dirs[1], std::path::Path::new("/opt/more"));
        assert!(dirs.len() > 2, "the inherited PATH follows");
    }

    #[test]
    fn a_default_counts_only_without_setting_and_environment() {
        // A variable no other test reads, so parallel tests are unaffected.
        let var = "FZ_TEST_DEFAULT_PRECEDENCE";
        set_default(var, Some("host"));
        assert_eq!(setting(var).as_deref(), Some("host"));
        std::env::set_var(var, "env");
        assert_eq!(setting(var).as_deref(), Some("env"));
        set_setting(var, Some("program"));
        assert_eq!(setting(var).as_deref(), Some("program"));
        set_setting(var, None);
        std::env::remove_var(var);
        assert_eq!(setting(var).as_deref(), Some("host"));
        set_default(var, None);
        assert_eq!(setting(var), None);
    }

    #[test]
    fn a_setting_wins_over_the_environment_until_removed() {
        // A variable no other test reads, so parallel tests are unaffected.
        let var = "FZ_TEST_SETTING_PRECEDENCE";
        std::env::set_var(var, "from-env");
        assert_eq!(setting(var).as_deref(), Some("from-env"));
        set_setting(var, Some("from-program"));
        std::env::set_var(var, "env-changed-later");
        assert_eq!(setting(var).as_deref(), Some("from-program"));
        set_setting(var, None);
        assert_eq!(setting(var).as_deref(), Some("env-changed-later"));
        set_setting(var, Some(""));
        assert_eq!(setting(var).as_deref(), Some(""), "empty is a value");
        set_setting(var, None);
        std::env::remove_var(var);
        assert_eq!(setting(var), None);
    }

    #[test]
    fn reads_and_falls_back() {
        let c = Config::from_lookup(|k| match k {
            "FZ_LOG_LEVEL" => Some("debug".into()),
            "FZ_INTERPRETER" => Some(" R ".into()),
            "FZ_CASE_NAMING" => Some("bogus".into()),
            "FZ_STATIC_CANDIDATE_MIN_SIZE" => Some(" 1_000 ".into()),
            _ => None,
        });
        assert_eq!(c.log_level, LogLevel::Debug);
        assert_eq!(c.interpreter, "r");
        assert_eq!(c.case_naming, CaseNaming::Path);
        assert_eq!(c.static_candidate_min_size, 1000);
        assert_eq!(c.max_retries, Ok(5));
        assert_eq!(c.run_timeout, 3600);
        assert_eq!(c.max_cases, 1_000_000);
        assert_eq!(c.compile_ahead, 2048);
        let c = Config::from_lookup(|k| match k {
            "FZ_MAX_RETRIES" => Some("three".into()),
            "FZ_MAX_WORKERS" => Some("2".into()),
            "FZ_RUN_TIMEOUT" => Some("x".into()),
            "FZ_MAX_CASES" => Some("2_000".into()),
            "FZ_COMPILE_AHEAD" => Some("0".into()),
            _ => None,
        });
        assert_eq!(c.max_cases, 2000);
        assert_eq!(c.compile_ahead, 2048, "0 is not a chunk size");
        assert!(c.max_retries.unwrap_err().contains("'three'"));
        assert_eq!(c.max_workers, Some(2));
        assert_eq!(c.run_timeout, 3600);
        let c = Config::from_lookup(|k| (k == "FZ_INTERPRETER").then(|| "cobol".into()));
        assert_eq!(c.interpreter, "python");
    }

    #[test]
    fn int_parsing_like_python() {
        assert_eq!(parse_int::<u64>(" 12 "), Some(12));
        assert_eq!(parse_int::<u64>("1_000"), Some(1000));
        assert_eq!(parse_int::<u64>("_1"), None);
        assert_eq!(parse_int::<u64>("x"), None);
    }
}
