//! The `fz` binary (also `fzi`, `fzc`, `fzo`, `fzr`, `fzd`, `fzl` under
//! those names): a thin wrapper around [`fz_cli::main_with`].

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(fz_cli::main_with(std::env::args().collect()))
}
