//! The user-facing operations (`fzi`, `fzc`, …) composed from the layers.
//! Thin: argument checks and orchestration only.

pub mod case_writer;
pub mod compile;
pub mod design;
pub mod events;
pub mod input;
pub mod list;
pub mod output;
pub mod preflight;
pub mod run;
