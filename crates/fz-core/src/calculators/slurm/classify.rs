//! Why a SLURM job failed, in one line: from srun's messages in the
//! case's stderr, the job state `sacct` reports, and the exit code.
//!
//! This module owns the wording of SLURM failures and the list of srun
//! messages that are progress notes, not errors. Failures of the user's
//! script itself (command not found, missing input, …) are worded by the
//! `sh://` rules it falls back to.

use crate::calculators::sh::{classify_failure, with_stderr};

/// Whether a stderr line is one of srun's progress notes ("job N queued
/// and waiting for resources", "has been allocated resources", …), which
/// say nothing about a failure.
pub fn is_progress_note(line: &str) -> bool {
    let l = line.trim().to_ascii_lowercase();
    l.starts_with("srun: job ")
        && (l.contains("queued and waiting for resources")
            || l.contains("has been allocated resources")
            || l.contains("step creation temporarily disabled")
            || l.contains("step created"))
        || l.starts_with("srun: step created")
}

/// `stderr` without srun's progress notes.
pub fn without_notes(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !is_progress_note(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The message for a job state that says what went wrong (`TIMEOUT`,
/// `NODE_FAIL`, …; `sacct` may append ` by <uid>`), or `None` for states
/// that leave it to the exit code (`FAILED`, `COMPLETED`) or are unknown.
pub fn state_message(state: &str, partition: &str) -> Option<String> {
    let word = state.split_whitespace().next().unwrap_or("");
    let msg = match word {
        "TIMEOUT" => format!(
            "SLURM job reached its time limit (the 'time' option) on partition '{partition}'"
        ),
        "NODE_FAIL" => format!("SLURM node failure while the job ran on partition '{partition}'"),
        "OUT_OF_MEMORY" => {
            format!("SLURM job ran out of memory (the 'mem' option) on partition '{partition}'")
        }
        "CANCELLED" => format!("SLURM job was cancelled ({state}) on partition '{partition}'"),
        "BOOT_FAIL" => format!("SLURM node failed to boot for the job on partition '{partition}'"),
        "DEADLINE" => format!("SLURM job missed its deadline on partition '{partition}'"),
        "PREEMPTED" => format!("SLURM job was preempted on partition '{partition}'"),
        _ => return None,
    };
    Some(msg)
}

/// One message for a failed SLURM job: `stderr` is the case's stderr
/// (srun's own lines included), `code` the exit code, `state` the job
/// state from `sacct` when known, `script` the user's command.
///
/// Order: SLURM refused the job (invalid partition, account, QOS, …),
/// srun missing, a job state or srun line naming the cause (time limit,
/// node failure, memory, cancellation), then the `sh://` rules on the
/// rest of stderr (the script's own failure).
pub fn failure(
    stderr: &str,
    code: i32,
    state: Option<&str>,
    partition: &str,
    script: &str,
) -> String {
    let stderr = without_notes(stderr);
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("invalid partition") {
        return format!(
            "SLURM partition '{partition}' does not exist (srun/sbatch: invalid partition \
             name); 'sinfo' lists the partitions"
        );
    }
    if let Some(line) = stderr.lines().find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("unable to allocate resources") || l.contains("batch job submission failed")
    }) {
        return format!(
            "SLURM refused the job on partition '{partition}': {}",
            line.trim()
        );
    }
    if code == 127 && lower.contains("srun: command not found") {
        return "srun not found: the SLURM client commands are not installed or not in PATH"
            .to_string();
    }
    if let Some(msg) = state.and_then(|s| state_message(s, partition)) {
        return with_stderr(format!("{msg}."), &stderr);
    }
    let cues: &[(&str, &str)] = &[
        ("due to time limit", "TIMEOUT"),
        ("node failure", "NODE_FAIL"),
        ("oom-kill", "OUT_OF_MEMORY"),
        ("out of memory", "OUT_OF_MEMORY"),
        ("cancelled at", "CANCELLED"),
        ("force terminated", "CANCELLED"),
    ];
    if let Some((_, s)) = cues.iter().find(|(cue, _)| lower.contains(cue)) {
        if let Some(msg) = state_message(s, partition) {
            return with_stderr(format!("{msg}."), &stderr);
        }
    }
    // srun's own "task 0: Exited with exit code N" adds nothing to the
    // script's stderr.
    let script_stderr: String = stderr
        .lines()
        .filter(|l| !(l.starts_with("srun: error:") && l.contains("Exited with exit code")))
        .collect::<Vec<_>>()
        .join("\n");
    classify_failure(&script_stderr, code, script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_notes_are_not_errors() {
        let s = "srun: job 12 queued and waiting for resources\nsrun: job 12 has been allocated resources\nboom";
        assert_eq!(without_notes(s), "boom");
        assert!(!is_progress_note(
            "srun: error: vm: task 0: Exited with exit code 3"
        ));
    }

    #[test]
    fn causes() {
        let p = "debug";
        let m = failure(
            "srun: error: invalid partition specified: nope\nsrun: error: Unable to allocate resources: Invalid partition name specified",
            1,
            None,
            "nope",
            "bash x.sh",
        );
        assert!(m.contains("partition 'nope' does not exist"), "{m}");
        let m = failure("srun: error: Unable to allocate resources: Invalid account or account/partition combination specified", 1, None, p, "x");
        assert!(
            m.contains("refused the job") && m.contains("Invalid account"),
            "{m}"
        );
        let m = failure(
            "slurmstepd: error: *** STEP 5.0 ON vm CANCELLED AT 2026 DUE TO TIME LIMIT ***",
            1,
            None,
            p,
            "x",
        );
        assert!(m.contains("time limit"), "{m}");
        let m = failure("", 1, Some("NODE_FAIL"), p, "x");
        assert_eq!(
            m,
            "SLURM node failure while the job ran on partition 'debug'"
        );
        let m = failure("", 0, Some("CANCELLED by 0"), p, "x");
        assert!(
            m.starts_with("SLURM job was cancelled (CANCELLED by 0)"),
            "{m}"
        );
        let m = failure(
            "srun: error: vm: task 0: Exited with exit code 3",
            3,
            Some("FAILED"),
            p,
            "bash x.sh",
        );
        assert_eq!(m, "Command failed with exit code 3");
        let m = failure("calc.sh: line 1: nosuchprog: command not found\nsrun: error: vm: task 0: Exited with exit code 127", 127, None, p, "bash calc.sh");
        assert!(
            m.contains("Command not found") && m.contains("nosuchprog"),
            "{m}"
        );
    }
}
