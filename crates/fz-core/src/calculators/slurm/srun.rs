//! srun mode, local: one blocking `srun` per case, run like an `sh://`
//! command in the case directory, with a unique `--job-name` so that a
//! timeout or Ctrl+C can `scancel` the job and wait until `squeue` no
//! longer lists it.
//!
//! This module owns the srun command line and what happens around the
//! process (`scancel`, the `sacct` look-up that names why a job failed).
//! Running the process, the time limit and the process-group kill belong
//! to `sh::execute`, the wording of failures to `classify`.

use super::classify;
use super::host::CommandHost;
use super::SlurmCalculator;
use crate::calculators::sh::{self, format_seconds, shell_quote, stderr_tail, Ended, RunLog};
use crate::calculators::{Attempt, AttemptStatus, RunRequest};
use std::time::{Duration, Instant, SystemTime};

/// Longest wait for a cancelled job to leave the queue.
const CANCEL_WAIT: Duration = Duration::from_secs(20);

/// Limit of one SLURM client command.
pub(crate) const CLIENT_LIMIT: Duration = Duration::from_secs(30);

/// `srun --job-name=N --partition=P [options] <script> <inputs…>` (` .`
/// without input files), the input files shell-quoted.
pub(crate) fn srun_line(
    calc: &SlurmCalculator,
    script: &str,
    job_name: &str,
    input_files: &[String],
) -> String {
    let mut line = calc.srun_command(script);
    line.insert_str(
        "srun".len(),
        &format!(" --job-name={}", shell_quote(job_name)),
    );
    if input_files.is_empty() {
        line.push_str(" .");
    }
    for f in input_files {
        line.push(' ');
        line.push_str(&shell_quote(f));
    }
    line
}

/// Runs one case with srun on this machine (see the module
/// documentation).
pub(crate) fn run_local(calc: &SlurmCalculator, request: &RunRequest) -> Attempt {
    let job_name = super::job_name("s");
    let script = calc.script_for(request.launch_dir);
    let line = srun_line(calc, &script, &job_name, request.input_files);
    let command = calc.srun_command(&script);
    let partition = &calc.target.partition;
    let started = SystemTime::now();
    let clock = Instant::now();
    let ended_how = if request.cancel.must_kill() {
        Ended::NotStarted
    } else {
        crate::log::info(&format!("Running command: {line}"));
        sh::execute(&line, request, calc.grace)
    };
    if matches!(ended_how, Ended::TimedOut(_) | Ended::Interrupted(_)) {
        // srun was killed with its shell; the job may outlive it.
        cancel_by_name(calc.host.as_ref(), &job_name);
    }
    let ended = SystemTime::now();
    let (status, exit_code, error) = match &ended_how {
        Ended::NotStarted => (
            AttemptStatus::Interrupted,
            None,
            Some("Execution interrupted by user".to_string()),
        ),
        Ended::SpawnFailed(msg) | Ended::Exited(Err(msg)) => {
            (AttemptStatus::Failed, None, Some(msg.clone()))
        }
        Ended::Exited(Ok(code)) if calc.ok_exit.accepts(*code) => {
            (AttemptStatus::Done, Some(*code), None)
        }
        Ended::Exited(Ok(code)) => {
            let stderr = stderr_tail(&request.work_dir.join("err.txt"));
            let state = job_state(calc.host.as_ref(), &job_name);
            let msg = classify::failure(&stderr, *code, state.as_deref(), partition, &script);
            (AttemptStatus::Failed, Some(*code), Some(msg))
        }
        Ended::TimedOut(_) => (
            AttemptStatus::Timeout,
            None,
            Some(format!(
                "SLURM job timed out after {} seconds on partition '{partition}'",
                format_seconds(request.timeout.unwrap_or_default())
            )),
        ),
        Ended::Interrupted(_) => (
            AttemptStatus::Interrupted,
            None,
            Some("Calculation interrupted by user".to_string()),
        ),
    };
    let extra = [
        ("SLURM partition", partition.clone()),
        ("SLURM job name", job_name.clone()),
    ];
    let attempt = Attempt {
        status,
        exit_code,
        command,
        command_line: line,
        started,
        ended,
        error,
        host: None,
    };
    RunLog::of(&attempt, request, clock.elapsed(), &extra).store();
    attempt
}

/// `scancel --name=<name>`, then waits (bounded) until `squeue` lists no
/// job of that name; failures are logged, not fatal.
pub(crate) fn cancel_by_name(host: &dyn CommandHost, name: &str) {
    let by_name = format!("--name={name}");
    match host.exec("scancel", std::slice::from_ref(&by_name), CLIENT_LIMIT) {
        Ok(out) if !out.ok() => {
            crate::log::warn(&format!("scancel {by_name} failed: {}", out.stderr))
        }
        Err(e) => crate::log::warn(&format!("scancel {by_name}: {e}")),
        Ok(_) => {}
    }
    let until = Instant::now() + CANCEL_WAIT;
    loop {
        let listed = host.exec(
            "squeue",
            &["-h".into(), by_name.clone(), "-o".into(), "%i".into()],
            CLIENT_LIMIT,
        );
        match listed {
            Ok(out) if out.ok() && out.stdout.trim().is_empty() => return,
            Ok(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(200)),
            Ok(out) => {
                crate::log::warn(&format!(
                    "SLURM job {name} still queued {} s after scancel: {}",
                    CANCEL_WAIT.as_secs(),
                    out.stdout.trim()
                ));
                return;
            }
            Err(e) => {
                crate::log::warn(&format!("squeue: {e}"));
                return;
            }
        }
    }
}

/// The state `sacct` records for the job of that name (`FAILED`,
/// `TIMEOUT`, `CANCELLED by 0`, …), when accounting is available.
pub(crate) fn job_state(host: &dyn CommandHost, name: &str) -> Option<String> {
    let args = ["-n", "-P", "-X", "--name", name, "--format=State"].map(String::from);
    let out = host.exec("sacct", &args, CLIENT_LIMIT).ok()?;
    if !out.ok() {
        return None;
    }
    out.stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_string)
}
