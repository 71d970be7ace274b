//! The run engine: schedules cases onto calculator slots, retries failed
//! attempts on the next calculator, and reports each finished case.
//!
//! One slot per calculator entry (the same URI listed three times gives
//! three slots); a free slot takes the next pending case in case order.
//! Worker threads never change the process directory and share only the
//! slot pool and the case counter. This module does not know how a case
//! runs (calculators do) nor what a finished case becomes on disk (the
//! caller's [`Hooks`] do).

use crate::calculators::{Attempt, AttemptStatus, Calculator, Cancel, RunRequest};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Settings of one run, read when the run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    /// Upper bound on concurrent cases (`FZ_MAX_WORKERS`); `None`: one per
    /// calculator slot.
    pub max_workers: Option<usize>,
    /// Attempts per case (`FZ_MAX_RETRIES`, default 5).
    pub max_attempts: usize,
    /// Time limit of an attempt when the calculator URI sets none.
    pub timeout: Option<Duration>,
}

/// One case to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// Position of the case in the design.
    pub index: usize,
    /// Its work directory (compiled inputs).
    pub work_dir: PathBuf,
    /// Its input files (relative to `work_dir`).
    pub input_files: Vec<String>,
}

/// Where the engine takes its cases from, one at a time, as a worker frees
/// up: a run compiles its cases just ahead of the scheduler instead of all
/// of them up front.
pub trait JobSource: Sync {
    /// The next case to run; `None` when there is none left.
    fn next_job(&self) -> Option<Job>;
    /// At most how many jobs are left (how many workers are worth
    /// starting).
    fn most_left(&self) -> usize;
}

/// A [`JobSource`] over jobs known in advance, taken in order.
pub struct JobList {
    jobs: Vec<Job>,
    next: AtomicUsize,
}

impl JobList {
    /// The jobs, to be run in this order.
    pub fn new(jobs: Vec<Job>) -> Self {
        JobList {
            jobs,
            next: AtomicUsize::new(0),
        }
    }
}

impl JobSource for JobList {
    fn next_job(&self) -> Option<Job> {
        let k = self.next.fetch_add(1, Ordering::SeqCst);
        self.jobs.get(k).cloned()
    }
    fn most_left(&self) -> usize {
        self.jobs
            .len()
            .saturating_sub(self.next.load(Ordering::SeqCst))
    }
}

/// One attempt and the calculator slot it ran on.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotAttempt {
    /// Index of the calculator in the list.
    pub slot: usize,
    /// What happened (after [`Hooks::judge`]).
    pub attempt: Attempt,
    /// Why the calculator's failure was turned into a success
    /// ([`Verdict::Done`]), for the case's history.
    pub note: Option<String>,
}

/// What the caller makes of an attempt once its outputs can be read
/// ([`Hooks::judge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// As the calculator said.
    AsIs,
    /// A successful attempt failed after all (why, e.g. an output is
    /// missing): it is retried like any failure.
    Failed(String),
    /// A failed attempt succeeded after all (why, e.g. every output has a
    /// value): the case is done.
    Done(String),
}

/// Every attempt of a case, in order; the last one decides.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseAttempts {
    /// The attempts, in order.
    pub attempts: Vec<SlotAttempt>,
}

impl CaseAttempts {
    /// The last attempt, if any ran.
    pub fn last(&self) -> Option<&SlotAttempt> {
        self.attempts.last()
    }
}

/// What the caller does around the engine's work. Every method is called
/// on the worker thread concerned, as soon as the event happens.
pub trait Hooks: Sync {
    /// Judges an attempt that ended `Done` or `Failed`, once its files are
    /// in the work directory: may turn a success into a failure (an
    /// output missing) or a failure into a success (every output present
    /// under the model's `success: "outputs"`).
    fn judge(&self, _job: &Job, _attempt: &Attempt) -> Verdict {
        Verdict::AsIs
    }
    /// A case is about to run its first attempt.
    fn case_started(&self, _job: &Job) {}
    /// An attempt ended (`number` counts from 1).
    fn attempt_ended(&self, _job: &Job, _attempt: &SlotAttempt, _number: usize) {}
    /// The case ended: its files may be stored and its row recorded.
    fn case_ended(&self, job: &Job, attempts: &CaseAttempts);
}

/// [`Hooks`] made of closures.
pub struct FnHooks<S, V, A, C> {
    /// See [`Hooks::case_started`].
    pub case_started: S,
    /// See [`Hooks::judge`].
    pub judge: V,
    /// See [`Hooks::attempt_ended`].
    pub attempt_ended: A,
    /// See [`Hooks::case_ended`].
    pub case_ended: C,
}

impl<S, V, A, C> Hooks for FnHooks<S, V, A, C>
where
    S: Fn(&Job) + Sync,
    V: Fn(&Job, &Attempt) -> Verdict + Sync,
    A: Fn(&Job, &SlotAttempt, usize) + Sync,
    C: Fn(&Job, &CaseAttempts) + Sync,
{
    fn case_started(&self, job: &Job) {
        (self.case_started)(job)
    }
    fn judge(&self, job: &Job, attempt: &Attempt) -> Verdict {
        (self.judge)(job, attempt)
    }
    fn attempt_ended(&self, job: &Job, attempt: &SlotAttempt, number: usize) {
        (self.attempt_ended)(job, attempt, number)
    }
    fn case_ended(&self, job: &Job, attempts: &CaseAttempts) {
        (self.case_ended)(job, attempts)
    }
}

/// The slots of the calculator entries: entry `i` runs at most
/// `capacity[i]` cases at a time (1 for most calculators, see
/// [`Calculator::capacity`]).
struct Slots {
    capacity: Vec<usize>,
    busy: Mutex<Vec<usize>>,
    freed: Condvar,
}

impl Slots {
    fn new(capacity: Vec<usize>) -> Self {
        let n = capacity.len();
        Slots {
            capacity,
            busy: Mutex::new(vec![0; n]),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.busy.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot of the first entry (in list order) with room, waiting for
    /// one.
    fn acquire_any(&self) -> usize {
        let mut busy = self.lock();
        loop {
            if let Some(i) = (0..busy.len()).find(|&i| busy[i] < self.capacity[i]) {
                busy[i] += 1;
                return i;
            }
            busy = self.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// A slot of entry `i`, waiting until it has room.
    fn acquire(&self, i: usize) {
        let mut busy = self.lock();
        while busy[i] >= self.capacity[i] {
            busy = self.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        busy[i] += 1;
    }

    fn release(&self, i: usize) {
        {
            let mut busy = self.lock();
            busy[i] = busy[i].saturating_sub(1);
        }
        self.freed.notify_all();
    }
}

/// Runs `jobs` on `calculators` (every one a slot). Each case is tried on
/// its first free slot, then on the next calculators in list order, up to
/// `max_attempts` attempts, until one is done. `hooks` are told of every
/// attempt and case as it ends, on the
/// worker thread as soon as a case ends (for the per-case files and the
/// move into place); nothing is kept here once a case has ended, so a long
/// run's memory does not grow with its cases. Cases not started when
/// `cancel` stops new starts are left out (no hook is called for them).
pub fn run_jobs(
    jobs: &dyn JobSource,
    calculators: &[Box<dyn Calculator>],
    settings: &EngineSettings,
    launch_dir: &Path,
    cancel: &Cancel,
    hooks: &dyn Hooks,
) {
    let most_left = jobs.most_left();
    if most_left == 0 {
        return;
    }
    let capacity: Vec<usize> = if calculators.is_empty() {
        vec![1]
    } else {
        calculators.iter().map(|c| c.capacity().max(1)).collect()
    };
    let total = capacity
        .iter()
        .fold(0usize, |sum, &c| sum.saturating_add(c));
    let slots = Slots::new(capacity);
    let workers = total
        .min(most_left)
        .min(settings.max_workers.unwrap_or(usize::MAX).max(1));
    let work = || loop {
        if !cancel.may_start() {
            return;
        }
        let Some(job) = jobs.next_job() else {
            return;
        };
        let job = &job;
        hooks.case_started(job);
        let attempts = run_case(
            job,
            calculators,
            &slots,
            settings,
            launch_dir,
            cancel,
            hooks,
        );
        hooks.case_ended(job, &attempts);
    };
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(work);
            }
        });
    }
}

/// The attempts of one case: first free slot, then the next calculators in
/// list order (wrapping), until done, out of attempts, or killed.
fn run_case(
    job: &Job,
    calculators: &[Box<dyn Calculator>],
    slots: &Slots,
    settings: &EngineSettings,
    launch_dir: &Path,
    cancel: &Cancel,
    hooks: &dyn Hooks,
) -> CaseAttempts {
    let mut result = CaseAttempts::default();
    if calculators.is_empty() || settings.max_attempts == 0 {
        return result;
    }
    // URIs where this case failed in a way that would repeat there.
    let mut hopeless: Vec<&str> = Vec::new();
    let mut slot = slots.acquire_any();
    for k in 0..settings.max_attempts {
        if k > 0 {
            // After an interrupt no new attempt starts either: a retry is
            // a new start, which the user just asked to stop.
            if !cancel.may_start() {
                break;
            }
            let Some(next) = next_slot(calculators, slot, &hopeless) else {
                break;
            };
            slot = next;
            slots.acquire(slot);
            if !cancel.may_start() {
                slots.release(slot);
                break;
            }
        }
        let calc = &calculators[slot];
        let request = RunRequest {
            work_dir: &job.work_dir,
            input_files: &job.input_files,
            launch_dir,
            timeout: calc.uri_timeout().or(settings.timeout),
            cancel,
        };
        crate::log::debug(&format!(
            "case {}: attempt {} on {} in {} (time limit {})",
            job.index,
            k + 1,
            calc.display_uri(),
            job.work_dir.display(),
            request
                .timeout
                .map_or("none".to_string(), |t| format!("{} s", t.as_secs_f64()))
        ));
        let mut attempt = calc.run(&request);
        slots.release(slot);
        crate::log::debug(&format!(
            "case {}: attempt {} {} (exit code {}) in {:.3} s: {}",
            job.index,
            k + 1,
            attempt.status.as_str(),
            attempt.exit_code.map_or("-".to_string(), |c| c.to_string()),
            attempt
                .ended
                .duration_since(attempt.started)
                .unwrap_or_default()
                .as_secs_f64(),
            attempt.command_line
        ));
        let note = apply_verdict(job, hooks, &mut attempt);
        if would_repeat(&attempt) {
            crate::log::info(&format!(
                "case {}: not retried on {}: this failure would happen again there",
                job.index,
                calc.display_uri()
            ));
            hopeless.push(calc.display_uri());
        }
        let status = attempt.status;
        let done = SlotAttempt {
            slot,
            attempt,
            note,
        };
        hooks.attempt_ended(job, &done, k + 1);
        result.attempts.push(done);
        if matches!(status, AttemptStatus::Done | AttemptStatus::Interrupted) {
            break;
        }
    }
    result
}

/// Asks `hooks` to judge an attempt that ended `Done` or `Failed` and
/// applies the verdict; returns the note of a failure turned into a
/// success.
fn apply_verdict(job: &Job, hooks: &dyn Hooks, attempt: &mut Attempt) -> Option<String> {
    if !matches!(attempt.status, AttemptStatus::Done | AttemptStatus::Failed) {
        return None;
    }
    match hooks.judge(job, attempt) {
        Verdict::AsIs => None,
        Verdict::Failed(why) => {
            attempt.status = AttemptStatus::Failed;
            attempt.error = Some(why);
            None
        }
        Verdict::Done(note) => {
            crate::log::info(&format!("case {}: {note}", job.index));
            attempt.status = AttemptStatus::Done;
            attempt.error = None;
            Some(note)
        }
    }
}

/// The next calculator after `slot` in list order (wrapping, `slot`
/// itself last) whose URI is not in `hopeless`.
fn next_slot(calculators: &[Box<dyn Calculator>], slot: usize, hopeless: &[&str]) -> Option<usize> {
    let n = calculators.len();
    (1..=n)
        .map(|i| (slot + i) % n)
        .find(|&s| !hopeless.contains(&calculators[s].display_uri()))
}

/// Whether the command of `attempt` exited with a failure that the same
/// calculator would give again (not found, permission denied, syntax
/// error, missing input: see [`crate::calculators::sh::is_deterministic`]).
fn would_repeat(attempt: &Attempt) -> bool {
    attempt.status == AttemptStatus::Failed
        && attempt.exit_code.is_some()
        && attempt
            .error
            .as_deref()
            .is_some_and(crate::calculators::sh::is_deterministic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::SystemTime;

    /// A calculator whose outcome is decided by a closure, to test the
    /// scheduling rules alone (real processes are tested in sh.rs and in
    /// the CLI tests).
    struct Scripted<F: Fn(&RunRequest) -> AttemptStatus + Send + Sync> {
        name: String,
        outcome: F,
        running: AtomicUsize,
        peak: AtomicUsize,
        capacity: usize,
    }

    impl<F: Fn(&RunRequest) -> AttemptStatus + Send + Sync> Calculator for Scripted<F> {
        fn display_uri(&self) -> &str {
            &self.name
        }
        fn capacity(&self) -> usize {
            self.capacity
        }
        fn run(&self, r: &RunRequest) -> Attempt {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            let status = (self.outcome)(r);
            self.running.fetch_sub(1, Ordering::SeqCst);
            Attempt {
                status,
                exit_code: Some(if status == AttemptStatus::Done { 0 } else { 1 }),
                command: self.name.clone(),
                command_line: self.name.clone(),
                started: SystemTime::now(),
                ended: SystemTime::now(),
                error: (status != AttemptStatus::Done).then(|| "boom".to_string()),
                host: None,
            }
        }
    }

    fn calc<F: Fn(&RunRequest) -> AttemptStatus + Send + Sync + 'static>(
        name: &str,
        f: F,
    ) -> Box<dyn Calculator> {
        Box::new(Scripted {
            name: name.into(),
            outcome: f,
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            capacity: 1,
        })
    }

    fn jobs(n: usize) -> Vec<Job> {
        (0..n)
            .map(|i| Job {
                index: i,
                work_dir: PathBuf::from(format!("/nonexistent/{i}")),
                input_files: vec![],
            })
            .collect()
    }

    /// Hooks from two closures, for tests.
    struct TestHooks<V: Fn(&Job, &Attempt) -> Verdict + Sync, F: Fn(&Job, &CaseAttempts) + Sync>(
        V,
        F,
    );

    impl<V: Fn(&Job, &Attempt) -> Verdict + Sync, F: Fn(&Job, &CaseAttempts) + Sync> Hooks
        for TestHooks<V, F>
    {
        fn judge(&self, job: &Job, attempt: &Attempt) -> Verdict {
            (self.0)(job, attempt)
        }
        fn case_ended(&self, job: &Job, attempts: &CaseAttempts) {
            (self.1)(job, attempts)
        }
    }

    /// Runs `jobs` and returns each ended case's attempts, by index (what
    /// the hooks were given).
    fn run_jobs<V: Fn(&Job, &Attempt) -> Verdict + Sync, F: Fn(&Job, &CaseAttempts) + Sync>(
        jobs: &[Job],
        calculators: &[Box<dyn Calculator>],
        settings: &EngineSettings,
        launch_dir: &Path,
        cancel: &Cancel,
        hooks: &TestHooks<V, F>,
    ) -> Vec<(usize, CaseAttempts)> {
        let ended = Mutex::new(Vec::new());
        let collect = TestHooks(&hooks.0, |job: &Job, attempts: &CaseAttempts| {
            (hooks.1)(job, attempts);
            ended.lock().unwrap().push((job.index, attempts.clone()));
        });
        let list = JobList::new(jobs.to_vec());
        super::run_jobs(&list, calculators, settings, launch_dir, cancel, &collect);
        let mut ended = ended.into_inner().unwrap();
        ended.sort_by_key(|(i, _)| *i);
        ended
    }

    /// [`run_jobs`] of `n` jobs with `max_attempts`, from `/`, never
    /// cancelled.
    fn run_simple<V: Fn(&Job, &Attempt) -> Verdict + Sync, F: Fn(&Job, &CaseAttempts) + Sync>(
        n: usize,
        calculators: &[Box<dyn Calculator>],
        max_attempts: usize,
        hooks: &TestHooks<V, F>,
    ) -> Vec<(usize, CaseAttempts)> {
        let settings = settings(max_attempts);
        run_jobs(
            &jobs(n),
            calculators,
            &settings,
            Path::new("/"),
            &Cancel::new(),
            hooks,
        )
    }

    fn settings(max_attempts: usize) -> EngineSettings {
        EngineSettings {
            max_workers: None,
            max_attempts,
            timeout: None,
        }
    }

    #[test]
    fn retries_move_to_the_next_calculator() {
        let calcs = vec![
            calc("may_fail", |_| AttemptStatus::Failed),
            calc("backup", |_| AttemptStatus::Failed),
        ];
        let out = run_simple(1, &calcs, 4, &TestHooks(|_, _| Verdict::AsIs, |_, _| {}));
        let order: Vec<usize> = out[0].1.attempts.iter().map(|a| a.slot).collect();
        assert_eq!(order, [0, 1, 0, 1], "the seed's retry behaviour");
        let calcs = vec![
            calc("may_fail", |_| AttemptStatus::Failed),
            calc("backup", |_| AttemptStatus::Done),
        ];
        let out = run_simple(1, &calcs, 5, &TestHooks(|_, _| Verdict::AsIs, |_, _| {}));
        assert_eq!(out[0].1.attempts.len(), 2);
        assert_eq!(
            out[0].1.last().map(|a| a.attempt.status),
            Some(AttemptStatus::Done)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_failure_that_would_repeat_skips_that_uri() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("ok.sh"), "exit 0\n").unwrap();
        let job = Job {
            index: 0,
            work_dir: tmp.path().join("case"),
            input_files: vec![],
        };
        std::fs::create_dir(&job.work_dir).unwrap();
        let sh = |uri: &str| crate::calculators::build(uri).unwrap();
        let run = |calcs: &[Box<dyn Calculator>]| {
            let out = run_jobs(
                std::slice::from_ref(&job),
                calcs,
                &settings(5),
                tmp.path(),
                &Cancel::new(),
                &TestHooks(|_, _| Verdict::AsIs, |_, _| {}),
            );
            let slots: Vec<usize> = out[0].1.attempts.iter().map(|a| a.slot).collect();
            (slots, out[0].1.last().map(|a| a.attempt.status))
        };
        let missing = "sh://bash missing.sh";
        let (slots, last) = run(&[sh(missing), sh(missing), sh("sh://bash ok.sh")]);
        assert_eq!(slots, [0, 2], "the second entry of the same URI is skipped");
        assert_eq!(last, Some(AttemptStatus::Done));
        let (slots, last) = run(&[sh(missing)]);
        assert_eq!(slots, [0], "tried once");
        assert_eq!(last, Some(AttemptStatus::Failed));
        // An ordinary failure is still retried.
        let (slots, _) = run(&[sh("sh://bash -c 'exit 3'")]);
        assert_eq!(slots, [0, 0, 0, 0, 0]);
    }

    #[test]
    fn validation_turns_success_into_a_retry() {
        let calcs = vec![
            calc("a", |_| AttemptStatus::Done),
            calc("b", |_| AttemptStatus::Done),
        ];
        let seen = AtomicUsize::new(0);
        let out = run_simple(
            1,
            &calcs,
            5,
            &TestHooks(
                |_, _| {
                    if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                        Verdict::Failed("Missing output: r".to_string())
                    } else {
                        Verdict::AsIs
                    }
                },
                |_, _| {},
            ),
        );
        let a = &out[0].1.attempts;
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].attempt.status, AttemptStatus::Failed);
        assert_eq!(a[0].attempt.error.as_deref(), Some("Missing output: r"));
        assert_eq!((a[1].slot, a[1].attempt.status), (1, AttemptStatus::Done));
    }

    #[test]
    fn a_failure_judged_done_is_not_retried_and_keeps_its_note() {
        let calcs = vec![calc("a", |_| AttemptStatus::Failed)];
        let judged = Mutex::new(Vec::new());
        let out = run_simple(
            1,
            &calcs,
            5,
            &TestHooks(
                |_, a: &Attempt| {
                    judged.lock().unwrap().push(a.status);
                    Verdict::Done("exit code 1 ignored".into())
                },
                |_, _| {},
            ),
        );
        assert_eq!(*judged.lock().unwrap(), [AttemptStatus::Failed]);
        let a = &out[0].1.attempts;
        assert_eq!(a.len(), 1, "done at the first attempt");
        assert_eq!(a[0].attempt.status, AttemptStatus::Done);
        assert_eq!(a[0].attempt.error, None);
        assert_eq!(
            a[0].attempt.exit_code,
            Some(1),
            "the real exit code is kept"
        );
        assert_eq!(a[0].note.as_deref(), Some("exit code 1 ignored"));
    }

    #[test]
    fn timeouts_and_interrupts_are_not_judged() {
        let calcs = vec![calc("a", |_| AttemptStatus::Timeout)];
        let out = run_simple(
            1,
            &calcs,
            2,
            &TestHooks(|_, _| Verdict::Done("never".into()), |_, _| {}),
        );
        let a = &out[0].1.attempts;
        assert_eq!(a.len(), 2);
        assert!(a
            .iter()
            .all(|x| x.attempt.status == AttemptStatus::Timeout && x.note.is_none()));
    }

    #[test]
    fn zero_attempts_runs_nothing() {
        let calcs = vec![calc("a", |_| AttemptStatus::Done)];
        let out = run_simple(2, &calcs, 0, &TestHooks(|_, _| Verdict::AsIs, |_, _| {}));
        assert!(out.iter().all(|(_, a)| a.attempts.is_empty()));
    }

    #[test]
    fn every_case_finishes_once_in_order() {
        let calcs: Vec<Box<dyn Calculator>> =
            (0..3).map(|_| calc("c", |_| AttemptStatus::Done)).collect();
        let finished = Mutex::new(Vec::new());
        let out = run_simple(
            10,
            &calcs,
            5,
            &TestHooks(
                |_, _| Verdict::AsIs,
                |j, _| finished.lock().unwrap().push(j.index),
            ),
        );
        assert_eq!(
            out.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        let mut f = finished.into_inner().unwrap();
        f.sort();
        assert_eq!(f, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn stopping_new_starts_leaves_cases_out() {
        let cancel = Cancel::new();
        let c2 = cancel.clone();
        let calcs = vec![calc("a", move |_| {
            c2.stop_new();
            AttemptStatus::Done
        })];
        let out = run_jobs(
            &jobs(5),
            &calcs,
            &settings(5),
            Path::new("/"),
            &cancel,
            &TestHooks(|_, _| Verdict::AsIs, |_, _| {}),
        );
        assert_eq!(out.len(), 1, "the running case finishes, no new one starts");
    }

    #[test]
    fn no_retry_starts_after_an_interrupt() {
        let cancel = Cancel::new();
        let c2 = cancel.clone();
        let calcs = vec![calc("a", move |_| {
            c2.stop_new();
            AttemptStatus::Failed
        })];
        let out = run_jobs(
            &jobs(1),
            &calcs,
            &settings(5),
            Path::new("/"),
            &cancel,
            &TestHooks(|_, _| Verdict::AsIs, |_, _| {}),
        );
        assert_eq!(
            out[0].1.attempts.len(),
            1,
            "the failed attempt is not retried"
        );
    }

    #[test]
    fn a_calculator_with_capacity_runs_that_many_cases_at_once() {
        let peak = std::sync::Arc::new(AtomicUsize::new(0));
        let running = std::sync::Arc::new(AtomicUsize::new(0));
        let (p, r) = (peak.clone(), running.clone());
        let batchy: Box<dyn Calculator> = Box::new(Scripted {
            name: "batch".into(),
            outcome: move |_: &RunRequest| {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                r.fetch_sub(1, Ordering::SeqCst);
                AttemptStatus::Failed
            },
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            capacity: 4,
        });
        let calcs = vec![batchy, calc("single", |_| AttemptStatus::Done)];
        let out = run_simple(6, &calcs, 2, &TestHooks(|_, _| Verdict::AsIs, |_, _| {}));
        assert_eq!(
            peak.load(Ordering::SeqCst),
            4,
            "four cases at once on the first entry"
        );
        for (_, a) in &out {
            // Every case fails on the batch entry, then is retried on the
            // next one in the list.
            let slots: Vec<usize> = a.attempts.iter().map(|x| x.slot).collect();
            assert_eq!(slots.last(), Some(&1), "{slots:?}");
            assert_eq!(
                a.last().map(|x| x.attempt.status),
                Some(AttemptStatus::Done)
            );
        }
    }
}
