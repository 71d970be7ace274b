//! Before a run compiles anything: is each calculator it will use able to
//! start a case at all? The checks are `fzl --check`'s that need no
//! network (see [`check_before_run`]), plus the legacy convention of a
//! calculator without a command (`sh://`, also what `fzr` without `-c`
//! uses): each case runs its first input file itself, which must then be
//! executable.
//!
//! Only reads file metadata; starts nothing, writes nothing. Whether a
//! remote host answers is the run's business (retries may help there).

use crate::calculators::check::{check_before_run, CheckContext};
use crate::calculators::uri::redact;
use crate::error::{Error, Result};
use crate::ops::compile::Prepared;
use std::path::Path;

/// Refuses the run, naming the calculator and the first problem, when a
/// calculator in `uris` cannot run any case of `p`. `case_files` are the
/// names every case directory holds (a command may name them).
pub fn check_calculators(
    uris: &[String],
    p: &Prepared,
    case_files: &[String],
    cwd: &Path,
) -> Result<()> {
    let ctx = CheckContext {
        project: cwd.to_path_buf(),
        home: None,
        case_files: case_files.to_vec(),
    };
    for uri in uris {
        let shown = redact(uri);
        if let Some(problem) = check_before_run(uri, &ctx).into_iter().next() {
            return Err(Error::Value(format!(
                "calculator '{shown}': {problem} (checked before compiling, as fzl --check does)"
            )));
        }
        if is_bare_sh(uri) {
            check_input_runs_itself(&shown, p, case_files)?;
        }
    }
    Ok(())
}

/// `sh://` without a command.
fn is_bare_sh(uri: &str) -> bool {
    uri.split_once("://")
        .is_some_and(|(scheme, body)| scheme.eq_ignore_ascii_case("sh") && body.trim().is_empty())
}

/// Without a command a case runs `./<first case file>`: it must be an
/// executable file, or every case fails the same way.
fn check_input_runs_itself(shown: &str, p: &Prepared, case_files: &[String]) -> Result<()> {
    let Some(first) = case_files.first() else {
        return Ok(());
    };
    let source = p
        .statics
        .iter()
        .find(|s| &s.name == first)
        .map(|s| s.source.clone())
        .or_else(|| {
            p.scan
                .input
                .files
                .iter()
                .find(|f| &f.rel == first)
                .map(|f| f.abs.clone())
        });
    let Some(source) = source else {
        return Ok(());
    };
    if is_executable(&source) {
        return Ok(());
    }
    Err(Error::Value(format!(
        "calculator '{shown}' has no command, so each case would run its input file '{first}' \
         itself (the legacy convention when no calculator is given), but '{first}' is not \
         executable: give a calculator, e.g. -c 'sh://bash run.sh', or chmod +x it"
    )))
}

/// Adds to a failed case's `error` that it ran its input file `first`
/// itself, when `calculator` (as shown in the table: `sh://`, `sh://#2`)
/// has no command: the user may not know that convention.
pub fn note_input_ran_itself(error: &mut String, calculator: &str, first: &str) {
    let bare = calculator
        .split_once('#')
        .map_or(calculator, |(uri, _)| uri);
    if is_bare_sh(bare) {
        error.push_str(&format!(
            " (no calculator command: the case ran its input file './{first}' itself, \
             the legacy convention when no calculator is given; give one with -c)"
        ));
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_of_the_input_run_as_a_command_says_so() {
        let mut e = "Command failed with exit code 3.".to_string();
        note_input_ran_itself(&mut e, "sh://#2", "input.txt");
        assert_eq!(
            e,
            "Command failed with exit code 3. (no calculator command: the case ran its input \
             file './input.txt' itself, the legacy convention when no calculator is given; give \
             one with -c)"
        );
        let mut e = "Command failed with exit code 3.".to_string();
        note_input_ran_itself(&mut e, "sh://bash calc.sh", "input.txt");
        assert_eq!(e, "Command failed with exit code 3.");
    }

    #[test]
    fn bare_sh_is_told_apart_from_a_command() {
        assert!(is_bare_sh("sh://"));
        assert!(is_bare_sh("SH://  "));
        assert!(!is_bare_sh("sh://bash calc.sh"));
        assert!(!is_bare_sh("ssh://host"));
    }
}
