//! Minimal leveled logging to stderr; the level is read from
//! `FZ_LOG_LEVEL` when each message is emitted, so changing the environment
//! after start-up takes effect. stdout is never written here: it carries data.

use crate::config::{Config, LogLevel};

/// Whether messages of `level` are shown now.
pub fn enabled(level: LogLevel) -> bool {
    level != LogLevel::Quiet && Config::from_env().log_level >= level
}

/// An error line (shown unless QUIET).
pub fn error(msg: &str) {
    if enabled(LogLevel::Error) {
        eprintln!("{msg}");
    }
}

/// A warning line, indented by two spaces as upstream does.
pub fn warn(msg: &str) {
    if enabled(LogLevel::Warning) {
        eprintln!("  ⚠️  {msg}");
    }
}

/// A warning the user should see at the default level (formula failures,
/// defaults used): shown unless QUIET.
pub fn notice(msg: &str) {
    if enabled(LogLevel::Error) {
        eprintln!("⚠️  {msg}");
    }
}

/// An info line, indented by four spaces.
pub fn info(msg: &str) {
    if enabled(LogLevel::Info) {
        eprintln!("    {msg}");
    }
}

/// A debug line, indented by six spaces.
pub fn debug(msg: &str) {
    if enabled(LogLevel::Debug) {
        eprintln!("      {msg}");
    }
}
