//! The submission and polling layer of the batch modes, written once
//! behind the small [`Scheduler`] trait (submit an array, poll its tasks,
//! ask how finished ones ended, cancel, read the site limits), with its
//! SLURM implementation [`Slurm`] (`sbatch`, `squeue`, `sacct`,
//! `scancel`, `scontrol`, `sacctmgr`). PBS/Torque (`qsub -J`) or HTCondor
//! can follow with another implementation.
//!
//! This module owns the client command lines and the parsing of their
//! output. It knows nothing of cases, queues or files: the array and
//! packed modes ([`super::array`], [`super::pack`]) decide what to submit
//! and what a task's end means.

use super::host::CommandHost;
use super::srun::CLIENT_LIMIT;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One job array to submit.
#[derive(Debug, Clone)]
pub struct ArrayJob {
    /// The job name (`fz-<pid>-…`).
    pub name: String,
    /// The batch script (absolute where the jobs run).
    pub script: PathBuf,
    /// The directory the tasks start in; their scheduler logs go there as
    /// `<task index>.slurm.log`.
    pub dir: PathBuf,
    /// Number of tasks (indices `0..tasks`).
    pub tasks: usize,
    /// Most tasks running at once.
    pub throttle: usize,
    /// The partition (queue).
    pub partition: String,
    /// Extra scheduler options (`--time=…`).
    pub options: Vec<String>,
}

/// Where a task listed by [`Scheduler::poll`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Waiting to start.
    Pending,
    /// Started (or ending).
    Running,
}

/// What a site allows; `None` when unknown or unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteLimits {
    /// `MaxArraySize`: array indices must stay below it.
    pub max_array_size: Option<usize>,
    /// `MaxJobCount`: jobs the controller holds at once.
    pub max_job_count: Option<usize>,
    /// The user's `MaxSubmitJobs` (queued + running).
    pub max_submit_jobs: Option<usize>,
    /// The user's `MaxJobs` (running).
    pub max_jobs: Option<usize>,
}

impl SiteLimits {
    /// Most tasks in one array, at most `ceiling`, and the limit that set
    /// it when it is below `ceiling`.
    pub fn tasks_per_array(&self, ceiling: usize) -> (usize, Option<String>) {
        smallest(
            ceiling,
            &[
                ("MaxArraySize", self.max_array_size),
                ("MaxJobCount", self.max_job_count),
                ("MaxSubmitJobs", self.max_submit_jobs),
            ],
        )
    }

    /// Most tasks queued or running at once, at most `ceiling`.
    pub fn open_tasks(&self, ceiling: usize) -> (usize, Option<String>) {
        smallest(
            ceiling,
            &[
                ("MaxJobCount", self.max_job_count),
                ("MaxSubmitJobs", self.max_submit_jobs),
            ],
        )
    }

    /// Most tasks running at once, at most `ceiling`.
    pub fn running_tasks(&self, ceiling: usize) -> (usize, Option<String>) {
        smallest(ceiling, &[("MaxJobs", self.max_jobs)])
    }
}

/// The limits one queue submits within, from the site's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// Most tasks in one array.
    pub per_array: usize,
    /// Most tasks of the queue queued or running at once.
    pub open: usize,
    /// Most tasks of the queue running at once.
    pub running: usize,
    /// The limit behind `open` (`MaxSubmitJobs=100`), said when it holds
    /// a submission back.
    pub open_limit: Option<String>,
}

impl Caps {
    /// The caps of a queue that would submit arrays of at most
    /// `per_array` tasks, `slots` running at once, under `limits`; says at
    /// info level which site limit lowered them.
    pub fn new(limits: &SiteLimits, per_array: usize, slots: usize) -> Caps {
        let (per_array, a) = limits.tasks_per_array(per_array);
        let (open, o) = limits.open_tasks(usize::MAX);
        let (running, r) = limits.running_tasks(slots);
        if let Some(why) = &a {
            crate::log::info(&format!(
                "SLURM site limit {why}: job arrays of at most {per_array} tasks"
            ));
        }
        if let Some(why) = &r {
            crate::log::info(&format!(
                "SLURM site limit {why}: at most {running} tasks running at once"
            ));
        }
        Caps {
            per_array,
            open,
            running,
            open_limit: o,
        }
    }
}

impl Caps {
    /// Says once (`said`) at info level that the limit on queued tasks
    /// held a submission back.
    pub fn note_open(&self, said: &std::sync::atomic::AtomicBool) {
        if let Some(why) = &self.open_limit {
            if !said.swap(true, std::sync::atomic::Ordering::SeqCst) {
                crate::log::info(&format!(
                    "SLURM site limit {why}: at most {} tasks queued at once",
                    self.open
                ));
            }
        }
    }
}

/// The smallest of `ceiling` and the known limits (at least 1), with
/// `Name=value` of the limit when one is below `ceiling`.
fn smallest(ceiling: usize, limits: &[(&str, Option<usize>)]) -> (usize, Option<String>) {
    let mut best = (ceiling.max(1), None);
    for (name, value) in limits {
        if let Some(v) = value {
            let v = (*v).max(1);
            if v < best.0 {
                best = (v, Some(format!("{name}={v}")));
            }
        }
    }
    best
}

/// A batch scheduler, as the array and packed modes use it.
pub trait Scheduler: Send + Sync + std::fmt::Debug {
    /// Submits `job`; returns its id.
    fn submit(&self, job: &ArrayJob) -> Result<String, String>;
    /// The tasks of these jobs still queued or running, by task id
    /// (`<job>_<index>`); `Err` when the scheduler could not be asked.
    fn poll(&self, job_ids: &[String]) -> Result<HashMap<String, Queued>, String>;
    /// How finished tasks of these jobs ended (`<job>_<index>` →
    /// `TIMEOUT`, `CANCELLED by 0`…); empty when accounting is off.
    fn final_states(&self, job_ids: &[String]) -> HashMap<String, String>;
    /// Cancels these jobs or tasks (a warning when it fails).
    fn cancel(&self, ids: &[String]);
    /// Cancels the tasks of these jobs that have not started yet.
    fn cancel_pending(&self, job_ids: &[String]);
    /// Lets a submitted array run at most `throttle` tasks at once.
    fn set_throttle(&self, job_id: &str, throttle: usize) -> Result<(), String>;
    /// The site's limits (asked once per queue).
    fn limits(&self) -> SiteLimits;
}

/// SLURM through its client commands, run by a [`CommandHost`].
#[derive(Debug, Clone)]
pub struct Slurm {
    host: Arc<dyn CommandHost>,
    /// The user whose association limits apply (`None`: not looked up).
    user: Option<String>,
}

impl Slurm {
    /// SLURM reached through `host`, for `user`'s association limits.
    pub fn new(host: Arc<dyn CommandHost>, user: Option<String>) -> Self {
        Slurm { host, user }
    }

    fn run(&self, program: &str, args: &[String]) -> Result<super::host::Output, String> {
        self.host.exec(program, args, CLIENT_LIMIT)
    }
}

impl Scheduler for Slurm {
    fn submit(&self, job: &ArrayJob) -> Result<String, String> {
        let mut args = vec![
            "--parsable".to_string(),
            format!("--array=0-{}%{}", job.tasks - 1, job.throttle.max(1)),
            format!("--partition={}", job.partition),
            format!("--job-name={}", job.name),
            format!("--chdir={}", job.dir.display()),
            // `%` starts a SLURM file-name pattern: a literal one is `%%`.
            format!(
                "--output={}/%a.slurm.log",
                job.dir.display().to_string().replace('%', "%%")
            ),
        ];
        args.extend(job.options.iter().cloned());
        args.push(job.script.display().to_string());
        let out = self.run("sbatch", &args)?;
        if !out.ok() {
            return Err(super::classify::failure(
                &out.stderr,
                out.code,
                None,
                &job.partition,
                "sbatch",
            ));
        }
        let job_id = out
            .stdout
            .trim()
            .split(';')
            .next()
            .unwrap_or("")
            .to_string();
        if job_id.is_empty() || !job_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "sbatch printed no job id: '{}' {}",
                out.stdout.trim(),
                out.stderr
            ));
        }
        Ok(job_id)
    }

    fn poll(&self, job_ids: &[String]) -> Result<HashMap<String, Queued>, String> {
        let args = vec![
            "-h".to_string(),
            "-r".to_string(),
            "-j".to_string(),
            job_ids.join(","),
            "-o".to_string(),
            "%i %T".to_string(),
        ];
        match self.run("squeue", &args) {
            Ok(out) if out.ok() => Ok(parse_squeue(&out.stdout)),
            // Jobs the controller already forgot.
            Ok(out) if out.stderr.to_ascii_lowercase().contains("invalid job id") => {
                Ok(HashMap::new())
            }
            Ok(out) => {
                crate::log::warn(&format!("squeue failed: {}", out.stderr));
                Err(format!("squeue failed: {}", out.stderr))
            }
            Err(e) => {
                crate::log::warn(&format!("squeue: {e}"));
                Err(e)
            }
        }
    }

    fn final_states(&self, job_ids: &[String]) -> HashMap<String, String> {
        let args = vec![
            "-n".to_string(),
            "-P".to_string(),
            "-X".to_string(),
            "-j".to_string(),
            job_ids.join(","),
            "--format=JobID,State".to_string(),
        ];
        let Ok(out) = self.run("sacct", &args) else {
            return HashMap::new();
        };
        out.stdout
            .lines()
            .filter_map(|l| {
                let (id, state) = l.trim().split_once('|')?;
                Some((id.to_string(), state.to_string()))
            })
            .collect()
    }

    fn cancel(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        crate::log::info(&format!("scancel {}", ids.join(" ")));
        self.scancel(ids.to_vec());
    }

    fn cancel_pending(&self, job_ids: &[String]) {
        if job_ids.is_empty() {
            return;
        }
        crate::log::info(&format!("scancel --state=PENDING {}", job_ids.join(" ")));
        let mut args = vec!["--state=PENDING".to_string()];
        args.extend(job_ids.iter().cloned());
        self.scancel(args);
    }

    fn set_throttle(&self, job_id: &str, throttle: usize) -> Result<(), String> {
        let args = [
            "update".to_string(),
            format!("JobId={job_id}"),
            format!("ArrayTaskThrottle={throttle}"),
        ];
        match self.run("scontrol", &args) {
            Ok(out) if out.ok() => Ok(()),
            Ok(out) => Err(out.stderr),
            Err(e) => Err(format!("scontrol: {e}")),
        }
    }

    fn limits(&self) -> SiteLimits {
        let mut limits = SiteLimits::default();
        if let Ok(out) = self.run("scontrol", &["show".into(), "config".into()]) {
            if out.ok() {
                parse_config(&out.stdout, &mut limits);
            }
        }
        if let Some(user) = &self.user {
            let args = [
                "-n".to_string(),
                "-P".to_string(),
                "show".to_string(),
                "assoc".to_string(),
                format!("user={user}"),
                "format=MaxSubmitJobs,MaxJobs".to_string(),
            ];
            // No accounting database: no association limits to respect.
            if let Ok(out) = self.run("sacctmgr", &args) {
                if out.ok() {
                    parse_assoc(&out.stdout, &mut limits);
                }
            }
        }
        limits
    }
}

impl Slurm {
    fn scancel(&self, args: Vec<String>) {
        match self.run("scancel", &args) {
            Ok(out) if !out.ok() => crate::log::warn(&format!("scancel failed: {}", out.stderr)),
            Err(e) => crate::log::warn(&format!("scancel: {e}")),
            Ok(_) => {}
        }
    }
}

/// `squeue -h -r -o "%i %T"` lines → task id → pending or running.
fn parse_squeue(text: &str) -> HashMap<String, Queued> {
    text.lines()
        .filter_map(|l| {
            let (id, state) = l.trim().split_once(' ')?;
            let q = if state.trim() == "PENDING" {
                Queued::Pending
            } else {
                Queued::Running
            };
            Some((id.to_string(), q))
        })
        .collect()
}

/// `MaxArraySize` and `MaxJobCount` of `scontrol show config`.
fn parse_config(text: &str, limits: &mut SiteLimits) {
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().parse::<usize>().ok().filter(|v| *v > 0);
        match key.trim() {
            "MaxArraySize" => limits.max_array_size = value,
            "MaxJobCount" => limits.max_job_count = value,
            _ => {}
        }
    }
}

/// The smallest `MaxSubmitJobs|MaxJobs` over the user's associations
/// (`sacctmgr -n -P show assoc user=U format=MaxSubmitJobs,MaxJobs`; an
/// empty field is no limit).
fn parse_assoc(text: &str, limits: &mut SiteLimits) {
    let min = |old: Option<usize>, new: Option<usize>| match (old, new) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    for line in text.lines() {
        let mut fields = line.split('|').map(|f| f.trim().parse::<usize>().ok());
        let submit = fields.next().flatten();
        let running = fields.next().flatten();
        limits.max_submit_jobs = min(limits.max_submit_jobs, submit);
        limits.max_jobs = min(limits.max_jobs, running);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_limits_are_read_from_scontrol_and_sacctmgr() {
        let mut l = SiteLimits::default();
        parse_config(
            "Configuration data as of 2026-12-02T03:00:00\nMaxArraySize            = 50\n\
             MaxJobCount             = 10000\nMaxStepCount = 40000\nMCSPlugin = mcs/none\n",
            &mut l,
        );
        assert_eq!((l.max_array_size, l.max_job_count), (Some(50), Some(10000)));
        parse_assoc("|\n200|20\n100|\n", &mut l);
        assert_eq!((l.max_submit_jobs, l.max_jobs), (Some(100), Some(20)));
        assert_eq!(
            l.tasks_per_array(1000),
            (50, Some("MaxArraySize=50".into()))
        );
        assert_eq!(l.tasks_per_array(10), (10, None));
        assert_eq!(l.open_tasks(1000), (100, Some("MaxSubmitJobs=100".into())));
        assert_eq!(l.running_tasks(32), (20, Some("MaxJobs=20".into())));
        assert_eq!(SiteLimits::default().tasks_per_array(1000), (1000, None));
    }

    #[test]
    fn squeue_states() {
        let q = parse_squeue("12_0 RUNNING\n12_1 PENDING\n12_2 COMPLETING\nbad\n");
        assert_eq!(q.len(), 3);
        assert_eq!(q["12_0"], Queued::Running);
        assert_eq!(q["12_1"], Queued::Pending);
        assert_eq!(q["12_2"], Queued::Running);
    }
}
