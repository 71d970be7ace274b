//! fz core: everything fz does, with no command line and no Python in it.
//!
//! Layers, each in its own module, in the order a run flows through them:
//! [`model`] & [`config`] resolution → [`template`] (parse, compile;
//! formula interpreters) → [`design`] (grid, table) → [`engine`]
//! (scheduler, retries, time limits, interrupts) → [`calculators`] (one
//! module per scheme behind one trait) → [`cache`] (hashing, index,
//! lookup) → [`outputs`] (extractors, typing) → [`results`] (table, summary
//! files, journal), rendered by [`format`](mod@format). The operations
//! users call (`fzi`, `fzc`, `fzo`, `fzr`, `fzl`) live in [`ops`]; the
//! progress display and run events in [`progress`] and [`ops::events`].

#![warn(missing_docs)]

pub mod algorithms;
pub mod cache;
pub mod calculators;
pub mod config;
pub mod design;
pub mod engine;
pub mod error;
pub mod format;
pub mod fsutil;
pub mod log;
pub mod model;
pub mod naming;
pub mod ops;
pub mod outputs;
pub mod plugins;
pub mod process;
pub mod progress;
pub mod report;
pub mod results;
pub mod template;
pub mod value;
pub mod worker;

pub use error::{Error, Result};
pub use value::Value;

/// The fz version, as printed by `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The funz-fz (Python) release whose commands, files and API fz matches;
/// `--version` says so next to [`VERSION`].
pub const FUNZ_FZ_VERSION: &str = "1.2";
