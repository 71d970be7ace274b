//! The `fz` binary (also `fzi`, `fzc`, `fzo`, `fzr`, `fzd`, `fzl` under
//! those names): a thin wrapper around [`fz_cli::main_with`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut argv = Vec::new();
    for arg in std::env::args_os() {
        match arg.into_string() {
            Ok(text) => argv.push(text),
            Err(raw) => {
                // Paths, values and models are UTF-8 text in fz (JSON,
                // case names): refuse the argument instead of mangling it.
                eprintln!(
                    "fz: error: argument {} is not valid UTF-8",
                    raw.to_string_lossy().escape_debug()
                );
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::from(fz_cli::main_with(argv))
}
