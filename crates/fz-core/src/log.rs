//! Minimal leveled logging to stderr; the level is read from
//! `FZ_LOG_LEVEL` when each message is emitted, so changing the environment
//! after start-up takes effect. stdout is never written here: it carries data.

use crate::config::{Config, LogLevel};
use std::sync::Mutex;

/// The progress bar being shown, if any: log lines go above it.
static BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Registers (or clears) the progress bar log lines must go around.
pub fn set_bar(bar: Option<indicatif::ProgressBar>) {
    *BAR.lock().unwrap_or_else(|p| p.into_inner()) = bar;
}

/// Prints a line on stderr, above the progress bar when one is shown.
pub fn emit(line: &str) {
    let bar = BAR.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// Whether messages of `level` are shown now.
pub fn enabled(level: LogLevel) -> bool {
    let current = crate::config::setting("FZ_LOG_LEVEL")
        .and_then(|v| v.parse::<LogLevel>().ok())
        .unwrap_or(Config::default().log_level);
    level != LogLevel::Quiet && current >= level
}

/// An error line (shown unless QUIET).
pub fn error(msg: &str) {
    if enabled(LogLevel::Error) {
        emit(msg);
    }
}

/// A warning line, indented by two spaces as upstream does.
pub fn warn(msg: &str) {
    if enabled(LogLevel::Warning) {
        emit(&format!("  ⚠️  {msg}"));
    }
}

/// A warning the user should see at the default level (formula failures,
/// defaults used): shown unless QUIET.
pub fn notice(msg: &str) {
    if enabled(LogLevel::Error) {
        emit(&format!("⚠️  {msg}"));
    }
}

/// A line the user should see at the default level that is not a
/// warning (a side effect such as a directory moved aside): shown unless
/// QUIET, without a prefix.
pub fn note(msg: &str) {
    if enabled(LogLevel::Error) {
        emit(msg);
    }
}

/// An info line, indented by four spaces.
pub fn info(msg: &str) {
    if enabled(LogLevel::Info) {
        emit(&format!("    {msg}"));
    }
}

/// A debug line, indented by six spaces.
pub fn debug(msg: &str) {
    if enabled(LogLevel::Debug) {
        emit(&format!("      {msg}"));
    }
}
