//! The worker loop of a pack task (`fz worker <spool>`), run on the
//! compute node by each task of a packed array: it claims cases from the
//! [`Spool`] one at a time and runs each as an array task would (bash
//! `-c <line>` in the case directory, stdin `/dev/null`, stdout and stderr
//! to `out.txt` and `err.txt`, killed with its process group at its
//! deadline), until it ran its pack of cases, the queue stays empty, fz
//! asked it to stop, or its walltime is near.
//!
//! This module owns that loop and the process of one case. It must not
//! write anything else in the case directory (fz writes `log.txt`) nor
//! decide retries: it only reports each case's [`Outcome`].

use super::spool::{epoch_ms, CaseFile, Outcome, Spool};
use crate::process::{run_tree, Ended, Limits};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Most cases this task runs.
    pub max_cases: usize,
    /// The task's walltime: no case starts when it would likely end past
    /// it (`None`: no limit).
    pub walltime: Option<Duration>,
    /// How long an empty queue is watched for new cases before the task
    /// ends.
    pub idle: Duration,
    /// Time between SIGTERM and SIGKILL when a case is stopped.
    pub grace: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            max_cases: usize::MAX,
            walltime: None,
            idle: Duration::from_secs(1),
            grace: Duration::from_secs(5),
        }
    }
}

/// The name of this task as SLURM lists it (`<job>_<index>`), from the
/// environment SLURM gives a batch task; `local-<pid>` outside SLURM.
pub fn task_name() -> String {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(job), Some(index)) => format!("{job}_{index}"),
        _ => var("SLURM_JOB_ID").unwrap_or_else(|| format!("local-{}", std::process::id())),
    }
}

/// Runs cases from the spool at `dir` as task `task`; returns how many
/// ran. `Err`: the spool cannot be used (one line naming it).
pub fn run(dir: &Path, task: &str, opts: &WorkerOptions) -> Result<usize, String> {
    let spool = Spool::at(dir);
    if !dir.join("q").is_dir() {
        return Err(format!("{} is not an fz spool directory", dir.display()));
    }
    let start = Instant::now();
    let mut ran = 0usize;
    let mut longest = Duration::ZERO;
    let mut idle_since: Option<Instant> = None;
    let mut seen = Vec::new();
    while ran < opts.max_cases && !spool.stopped() {
        if let Some(wall) = opts.walltime {
            // Room for the longest case seen so far, twice, and a margin.
            if start.elapsed() + longest * 2 + Duration::from_secs(5) > wall {
                break;
            }
        }
        let Some((id, claimed)) = claim_one(&spool, task, &mut seen) else {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= opts.idle {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        idle_since = None;
        let outcome = match claimed {
            Ok(case) => run_case(&case, opts.grace),
            // An unreadable case file: reported as a failure of the case.
            Err(e) => {
                eprintln!("fz worker: {e}");
                Outcome::Exit { code: 97, ms: 0 }
            }
        };
        longest = longest.max(outcome.duration());
        spool.finish(id, task, outcome)?;
        ran += 1;
    }
    Ok(ran)
}

/// Claims the first case still queued, going through `seen` (the ids of
/// the last listing, largest first) before listing the queue again: one
/// directory listing per batch of cases, not per case.
fn claim_one(
    spool: &Spool,
    task: &str,
    seen: &mut Vec<u64>,
) -> Option<(u64, Result<CaseFile, String>)> {
    for relisted in [false, true] {
        if relisted {
            *seen = spool.queued();
            seen.reverse();
        }
        while let Some(id) = seen.pop() {
            if let Some(c) = spool.claim(id, task) {
                return Some((id, c));
            }
        }
    }
    None
}

/// Runs one case in its directory until it exits or its deadline.
pub fn run_case(case: &CaseFile, grace: Duration) -> Outcome {
    let start = Instant::now();
    let ms = |s: Instant| s.elapsed().as_millis() as u64;
    let timeout = match case.deadline_ms {
        Some(d) => match d.saturating_sub(epoch_ms(SystemTime::now())) {
            0 => return Outcome::Timeout { ms: 0 },
            left => Some(Duration::from_millis(left)),
        },
        None => None,
    };
    let Some(command) = command(case) else {
        return Outcome::Exit { code: 97, ms: 0 };
    };
    // The worker is stopped by SLURM (signals), never by a Cancel of its
    // own: this one is only there for the process module's signature.
    let cancel = crate::calculators::Cancel::new();
    let limits = Limits {
        timeout,
        cancel: &cancel,
        grace,
    };
    match run_tree(command, "bash", limits) {
        Ended::Exited(Ok(code)) => Outcome::Exit {
            code,
            ms: ms(start),
        },
        Ended::TimedOut(_) | Ended::Interrupted(_) => Outcome::Timeout { ms: ms(start) },
        Ended::Exited(Err(e)) | Ended::SpawnFailed(e) => {
            eprintln!("fz worker: {e} (in {})", case.dir.display());
            Outcome::Exit {
                code: 97,
                ms: ms(start),
            }
        }
        Ended::NotStarted => Outcome::Exit { code: 97, ms: 0 },
    }
}

/// The case's command as every local case runs
/// ([`crate::process::case_command`]); `None` when the directory cannot be
/// entered or written. The process module adds the group and the tag.
fn command(case: &CaseFile) -> Option<Command> {
    match crate::process::case_command(&case.line, &case.dir) {
        Ok(cmd) => Some(cmd),
        Err(e) => {
            eprintln!("fz worker: cannot enter {}: {e}", case.dir.display());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(dir: &Path, line: &str, timeout_ms: Option<u64>) -> CaseFile {
        CaseFile {
            dir: dir.to_path_buf(),
            line: line.into(),
            deadline_ms: timeout_ms.map(|t| epoch_ms(SystemTime::now()) + t),
        }
    }

    #[test]
    fn a_worker_runs_its_pack_and_reports_each_case() {
        let d = tempfile::tempdir().unwrap();
        let spool = Spool::create(&d.path().join("spool")).unwrap();
        let mut dirs = Vec::new();
        for i in 0..4u64 {
            let c = d.path().join(format!("x={i}"));
            std::fs::create_dir(&c).unwrap();
            spool
                .put(
                    i,
                    &case(&c, &format!("echo out{i}; echo e >&2; exit {i}"), None),
                )
                .unwrap();
            dirs.push(c);
        }
        spool
            .put(9, &case(&d.path().join("missing"), "true", None))
            .unwrap();
        let opts = WorkerOptions {
            max_cases: 3,
            idle: Duration::from_millis(100),
            ..WorkerOptions::default()
        };
        assert_eq!(run(spool.dir(), "5_0", &opts).unwrap(), 3);
        let mut got = spool.take_outcomes();
        got.sort_by_key(|(id, _, _)| *id);
        assert!(got.iter().all(|(_, _, t)| t == "5_0"));
        let codes: Vec<(u64, i32)> = got
            .iter()
            .map(|(id, o, _)| match o {
                Outcome::Exit { code, .. } => (*id, *code),
                Outcome::Timeout { .. } => (*id, -1000),
            })
            .collect();
        assert_eq!(codes, vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(
            std::fs::read_to_string(dirs[1].join("out.txt")).unwrap(),
            "out1\n"
        );
        assert_eq!(
            std::fs::read_to_string(dirs[1].join("err.txt")).unwrap(),
            "e\n"
        );
        // A second task takes the rest; the missing directory is 97.
        assert_eq!(run(spool.dir(), "5_1", &opts).unwrap(), 2);
        let mut got = spool.take_outcomes();
        got.sort_by_key(|(id, _, _)| *id);
        assert_eq!(
            got[1],
            (9, Outcome::Exit { code: 97, ms: 0 }, "5_1".to_string())
        );
        assert!(spool.claimed().is_empty() && spool.queued().is_empty());
    }

    #[test]
    fn a_case_is_killed_at_its_deadline_with_its_children() {
        let d = tempfile::tempdir().unwrap();
        let t0 = Instant::now();
        let o = run_case(
            &case(d.path(), "sleep 30 & echo $! > child.pid; wait", Some(300)),
            Duration::from_millis(200),
        );
        assert!(matches!(o, Outcome::Timeout { .. }), "{o:?}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(d.path().join("child.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // SAFETY: signal 0 only checks existence.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ");
        assert!(!alive, "the background child was killed too");
        // Past its deadline already: not started.
        let o = run_case(&case(d.path(), "touch ran", Some(0)), Duration::ZERO);
        assert_eq!(o, Outcome::Timeout { ms: 0 });
        assert!(!d.path().join("ran").exists());
    }

    #[test]
    fn stop_and_walltime_end_the_loop_before_a_new_case() {
        let d = tempfile::tempdir().unwrap();
        let spool = Spool::create(d.path()).unwrap();
        spool.put(1, &case(d.path(), "true", None)).unwrap();
        let opts = WorkerOptions {
            walltime: Some(Duration::from_secs(2)),
            ..WorkerOptions::default()
        };
        assert_eq!(run(spool.dir(), "1_0", &opts).unwrap(), 0, "walltime");
        spool.stop();
        assert_eq!(
            run(spool.dir(), "1_0", &WorkerOptions::default()).unwrap(),
            0
        );
        assert_eq!(spool.queued(), vec![1]);
        let e = run(&d.path().join("nope"), "1_0", &WorkerOptions::default()).unwrap_err();
        assert!(e.contains("not an fz spool directory"), "{e}");
    }
}
