//! Job-array mode (`slurm://…?array=1`): the cases handed to a calculator
//! within a short window go to SLURM as ONE `sbatch --array=0-(N-1)%K`
//! job, one array task per case directory, and each `run()` call blocks
//! until its task ends.
//!
//! This module owns the queue of cases waiting to be submitted, the
//! submission (a wrapper script in a directory next to the case
//! directories, or under `~/.fz/tmp/` of a login node: see
//! [`Place`]), the bounded-rate polling of the submitted arrays (one
//! `squeue` call for all of them per round, `sacct` only for tasks that
//! vanished without an exit code), and `scancel` of tasks whose case timed
//! out or was interrupted. It does not decide retries nor write case
//! results: the engine and `SlurmCalculator::run` do.
//!
//! # Slots
//!
//! The entries naming a queue give it K slots. Arrays submitted while
//! others still run share them: a new array's `%K` is the slots free at
//! submission (none free: the cases wait in the queue), and slots freed by
//! earlier arrays are given to later ones with `scontrol update
//! ArrayTaskThrottle`, so no more than K tasks run at once.
//!
//! # How a task reports
//!
//! The wrapper runs the case line with bash in the case directory, stdout
//! and stderr to `out.txt`/`err.txt`, then writes its exit code to
//! `<i>.rc` in the submission directory (atomically, through a rename).
//! An `.rc` file is a finished task, without waiting for SLURM to say so
//! (looked for every 50 ms locally, at each poll on a login node);
//! a task no longer listed by `squeue` without one was killed (time limit,
//! node failure, memory, scancel), and `sacct` says how.

use super::place::Place;
use super::scheduler::{ArrayJob, Caps, Queued, Scheduler};
use crate::calculators::sh::shell_quote;
use crate::calculators::Cancel;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Most tasks in one array (SLURM's default `MaxArraySize` is 1001);
/// the site's limits may lower it ([`Caps`]).
pub const MAX_TASKS: usize = 1000;

/// A submission waits this long after the last case arrived...
const SETTLE: Duration = Duration::from_millis(150);

/// ...but never longer than this after the first one.
const WINDOW: Duration = Duration::from_secs(1);

/// Time between two polls of SLURM.
const POLL: Duration = Duration::from_millis(500);

/// Time between two looks at the `.rc` files, cancellations and deadlines.
const TICK: Duration = Duration::from_millis(50);

/// How long SLURM may stay unreachable (`squeue` failing) before the
/// open tasks are given up as lost (failed, so the engine can retry them
/// elsewhere) rather than waited for forever.
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(120);

/// Polls a vanished task may stay without `sacct` knowing it before it is
/// reported as lost.
const LOST_POLLS: u32 = 10;

/// How one task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEnd {
    /// The case line exited with this code.
    Exited(i32),
    /// Killed by SLURM without an exit code: the state `sacct` gave
    /// (`NODE_FAIL`, `TIMEOUT`, …; empty when unknown), and the tail of
    /// the task's SLURM log.
    Killed {
        /// The `sacct` state.
        state: String,
        /// The tail of the task's SLURM log.
        log: String,
    },
    /// Cancelled because the case's time limit expired.
    TimedOut,
    /// Cancelled because the run was interrupted.
    Interrupted,
    /// Never ran: the submission failed (message).
    NotSubmitted(String),
    /// SLURM could not be asked about the task for too long (the last
    /// error): its outcome is unknown.
    Unreachable(String),
}

/// One case waiting for its task.
#[derive(Debug)]
struct Task {
    work_dir: PathBuf,
    line: String,
    deadline: Option<Instant>,
    cancel: Cancel,
    /// Set once, by the worker, under the queue lock.
    end: Mutex<Option<(TaskEnd, String)>>,
}

/// A submitted array.
#[derive(Debug)]
struct Submitted {
    job_id: String,
    dir: PathBuf,
    tasks: Vec<Arc<Task>>,
    finished: Vec<bool>,
    /// Why a task was scancelled (`Some(TimedOut | Interrupted)`).
    cancelled: Vec<Option<TaskEnd>>,
    unknown_polls: Vec<u32>,
    /// `squeue` listed the task as PENDING at the last poll.
    waiting: Vec<bool>,
    /// Its `%K`: most tasks running at once.
    throttle: usize,
    /// `scontrol update … ArrayTaskThrottle` failed: not tried again.
    fixed_throttle: bool,
    /// Ends found, delivered once the directory is cleaned up (so that
    /// nothing is left behind when the last case returns and fz exits).
    outbox: Vec<(usize, TaskEnd, String)>,
}

impl Submitted {
    /// Tasks not finished and not being cancelled.
    fn open(&self) -> usize {
        (0..self.tasks.len())
            .filter(|&i| !self.finished[i] && self.cancelled[i].is_none())
            .count()
    }
}

/// Task slots taken by these arrays: each runs at most its throttle of
/// its open tasks.
fn slots_in_use(arrays: &[Submitted]) -> usize {
    arrays.iter().map(|a| a.open().min(a.throttle)).sum()
}

#[derive(Debug, Default)]
struct Inner {
    pending: Vec<Arc<Task>>,
    first_arrival: Option<Instant>,
    last_arrival: Option<Instant>,
    worker: bool,
}

/// The queue of one `slurm://…?array=1` URI, shared by every calculator
/// entry naming it in a run.
#[derive(Debug)]
pub struct ArrayQueue {
    scheduler: Arc<dyn Scheduler>,
    /// The site's limits, asked at the first submission.
    caps: std::sync::OnceLock<Caps>,
    /// The limit on queued tasks was said.
    said_open: std::sync::atomic::AtomicBool,
    place: Place,
    partition: String,
    options: Vec<String>,
    /// Entries sharing this queue: the `%K` of the arrays.
    throttle: AtomicUsize,
    keep: bool,
    unreachable_after: Duration,
    inner: Mutex<Inner>,
    changed: Condvar,
}

impl ArrayQueue {
    /// A queue submitting to `partition` with the extra sbatch `options`,
    /// through `scheduler`, its files in `place`.
    pub fn new(
        scheduler: Arc<dyn Scheduler>,
        place: Place,
        partition: &str,
        options: &[String],
        keep: bool,
    ) -> Self {
        ArrayQueue {
            scheduler,
            caps: std::sync::OnceLock::new(),
            said_open: std::sync::atomic::AtomicBool::new(false),
            place,
            partition: partition.to_string(),
            options: options.to_vec(),
            throttle: AtomicUsize::new(0),
            keep,
            unreachable_after: UNREACHABLE_AFTER,
            inner: Mutex::new(Inner::default()),
            changed: Condvar::new(),
        }
    }

    /// The same queue giving tasks up after SLURM was unreachable for
    /// `after` (default [`UNREACHABLE_AFTER`]).
    pub fn with_unreachable_after(mut self, after: Duration) -> Self {
        self.unreachable_after = after;
        self
    }

    /// One more calculator entry uses this queue (one more concurrent
    /// task per array).
    pub fn add_entry(&self) {
        self.throttle.fetch_add(1, Ordering::SeqCst);
    }

    /// The site's limits for this queue, asked once.
    fn caps(&self) -> Caps {
        self.caps
            .get_or_init(|| {
                let slots = self.throttle.load(Ordering::SeqCst).max(1);
                Caps::new(&self.scheduler.limits(), MAX_TASKS, slots)
            })
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues the case of `work_dir` (absolute where the jobs run; `line`
    /// run there) and blocks until
    /// its task ended; returns how, and the SLURM task id (`123_4`, empty
    /// when never submitted).
    pub fn run(
        self: &Arc<Self>,
        work_dir: &Path,
        line: &str,
        timeout: Option<Duration>,
        cancel: &Cancel,
    ) -> (TaskEnd, String) {
        let task = Arc::new(Task {
            work_dir: work_dir.to_path_buf(),
            line: line.to_string(),
            deadline: timeout.map(|t| Instant::now() + t),
            cancel: cancel.clone(),
            end: Mutex::new(None),
        });
        let mut inner = self.lock();
        let now = Instant::now();
        inner.first_arrival.get_or_insert(now);
        inner.last_arrival = Some(now);
        inner.pending.push(task.clone());
        if !inner.worker {
            inner.worker = true;
            let me = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("fz-slurm-array".to_string())
                .spawn(move || me.work());
            if let Err(e) = spawned {
                inner.worker = false;
                inner.pending.retain(|t| !Arc::ptr_eq(t, &task));
                return (
                    TaskEnd::NotSubmitted(format!("Could not start the SLURM array thread: {e}")),
                    String::new(),
                );
            }
        }
        loop {
            if let Some(end) = task.end.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return end;
            }
            inner = self
                .changed
                .wait_timeout(inner, Duration::from_millis(500))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Records how `task` ended and wakes its `run()` call.
    fn finish(&self, task: &Task, end: TaskEnd, id: String) {
        let _inner = self.lock();
        let mut slot = task.end.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some((end, id));
        }
        drop(slot);
        self.changed.notify_all();
    }

    /// The worker: submits the queued cases in batches, polls the
    /// submitted arrays, cancels what must stop; exits when nothing is
    /// queued or running.
    fn work(self: Arc<Self>) {
        let mut arrays: Vec<Submitted> = Vec::new();
        let mut next_poll = Instant::now();
        let mut unreachable_since: Option<Instant> = None;
        loop {
            // Arrays share the K slots of the queue: a new one gets the
            // free ones, and waits while there are none.
            let caps = self.caps();
            let slots = self.throttle.load(Ordering::SeqCst).clamp(1, caps.running);
            let free = slots.saturating_sub(slots_in_use(&arrays));
            // Tasks submitted and not finished count against the site's
            // limit of queued jobs.
            let queued: usize = arrays.iter().map(Submitted::open).sum();
            let open_room = caps.open.saturating_sub(queued);
            let room = caps.per_array.min(open_room);
            let batch = {
                let mut inner = self.lock();
                if inner.pending.is_empty() && arrays.is_empty() {
                    inner.worker = false;
                    inner.first_arrival = None;
                    inner.last_arrival = None;
                    return;
                }
                let now = Instant::now();
                // Queued cases that must stop before being submitted.
                let mut stopped = Vec::new();
                inner.pending.retain(|t| {
                    if !t.cancel.may_start() {
                        stopped.push((t.clone(), TaskEnd::Interrupted));
                        false
                    } else if t.deadline.is_some_and(|d| now >= d) {
                        stopped.push((t.clone(), TaskEnd::TimedOut));
                        false
                    } else {
                        true
                    }
                });
                for (t, end) in stopped {
                    let mut slot = t.end.lock().unwrap_or_else(|p| p.into_inner());
                    slot.get_or_insert((end, String::new()));
                }
                self.changed.notify_all();
                let settled = inner.last_arrival.is_some_and(|t| now - t >= SETTLE)
                    || inner.first_arrival.is_some_and(|t| now - t >= WINDOW);
                if open_room < caps.per_array.min(inner.pending.len()) {
                    caps.note_open(&self.said_open);
                }
                if !inner.pending.is_empty() && settled && free > 0 && room > 0 {
                    let n = inner.pending.len().min(room);
                    let batch: Vec<Arc<Task>> = inner.pending.drain(..n).collect();
                    if inner.pending.is_empty() {
                        inner.first_arrival = None;
                        inner.last_arrival = None;
                    } else {
                        inner.first_arrival = Some(now);
                    }
                    batch
                } else {
                    Vec::new()
                }
            };
            if !batch.is_empty() {
                match self.submit(&batch, free) {
                    Ok(sub) => {
                        arrays.push(sub);
                        next_poll = Instant::now() + POLL / 2;
                    }
                    Err(msg) => {
                        for t in &batch {
                            self.finish(t, TaskEnd::NotSubmitted(msg.clone()), String::new());
                        }
                    }
                }
            }
            if !arrays.is_empty() {
                if self.place.is_local() {
                    self.collect_rc(&mut arrays);
                }
                self.cancel_due(&mut arrays);
                if Instant::now() >= next_poll {
                    match self.poll(&mut arrays) {
                        Ok(()) => unreachable_since = None,
                        Err(e) => {
                            let since = *unreachable_since.get_or_insert_with(Instant::now);
                            if since.elapsed() >= self.unreachable_after {
                                give_up(&mut arrays, &e);
                                unreachable_since = None;
                            }
                        }
                    }
                    next_poll = Instant::now() + POLL;
                }
                self.share_slots(&mut arrays, slots);
                let mut ends = Vec::new();
                arrays.retain_mut(|a| {
                    let done = a.finished.iter().all(|f| *f);
                    if done && !self.keep {
                        self.place.remove(&a.dir);
                    }
                    for (i, end, id) in a.outbox.drain(..) {
                        ends.push((a.tasks[i].clone(), end, id));
                    }
                    !done
                });
                for (task, end, id) in ends {
                    self.finish(&task, end, id);
                }
            }
            std::thread::sleep(TICK);
        }
    }

    /// Writes the wrapper and submits `batch` as one array running at
    /// most `throttle` tasks at once.
    fn submit(&self, batch: &[Arc<Task>], throttle: usize) -> Result<Submitted, String> {
        let name = super::job_name("a");
        let dir = self
            .place
            .create_submission(&batch[0].work_dir, &name, &wrapper(batch))?;
        let throttle = throttle.max(1);
        let job = ArrayJob {
            name: name.clone(),
            script: dir.join("array.sh"),
            dir: dir.clone(),
            tasks: batch.len(),
            throttle,
            partition: self.partition.clone(),
            options: self.options.clone(),
        };
        crate::log::info(&format!(
            "Submitting {} cases as SLURM job array {name} on partition '{}' (at most {throttle} at a time)",
            batch.len(),
            self.partition
        ));
        let job_id = match self.scheduler.submit(&job) {
            Ok(id) => id,
            Err(e) => {
                self.place.remove(&dir);
                return Err(e);
            }
        };
        crate::log::info(&format!("SLURM job array {job_id} submitted ({name})"));
        Ok(Submitted {
            job_id,
            dir,
            tasks: batch.to_vec(),
            finished: vec![false; batch.len()],
            cancelled: vec![None; batch.len()],
            unknown_polls: vec![0; batch.len()],
            waiting: vec![false; batch.len()],
            throttle,
            fixed_throttle: false,
            outbox: Vec::new(),
        })
    }

    /// Finishes the tasks whose `.rc` file appeared.
    fn collect_rc(&self, arrays: &mut [Submitted]) {
        let open: Vec<&Submitted> = arrays
            .iter()
            .filter(|a| a.finished.iter().any(|f| !f))
            .collect();
        if open.is_empty() {
            return;
        }
        let dirs: Vec<&Path> = open.iter().map(|a| a.dir.as_path()).collect();
        let mut codes = self.place.read_rcs(&dirs).into_iter();
        for a in arrays.iter_mut() {
            if a.finished.iter().all(|f| *f) {
                continue;
            }
            let codes = codes.next().unwrap_or_default();
            for (&i, &code) in &codes {
                if i >= a.tasks.len() || a.finished[i] {
                    continue;
                }
                a.finished[i] = true;
                let end = rc_end(code, a.cancelled[i].as_ref());
                let id = format!("{}_{i}", a.job_id);
                a.outbox.push((i, end, id));
            }
        }
    }

    /// Gives slots freed by earlier arrays to later ones whose throttle
    /// holds tasks back (`scontrol update JobId=… ArrayTaskThrottle=…`),
    /// earliest array first, never more than `slots` in use in all.
    fn share_slots(&self, arrays: &mut [Submitted], slots: usize) {
        let mut free = slots.saturating_sub(slots_in_use(arrays));
        for a in arrays.iter_mut() {
            if free == 0 {
                return;
            }
            let held_back = a.open().saturating_sub(a.throttle);
            if held_back == 0 || a.fixed_throttle {
                continue;
            }
            let raised = a.throttle + held_back.min(free);
            match self.scheduler.set_throttle(&a.job_id, raised) {
                Ok(()) => {
                    crate::log::debug(&format!(
                        "SLURM job array {}: at most {raised} tasks at once",
                        a.job_id
                    ));
                    free -= raised - a.throttle;
                    a.throttle = raised;
                }
                Err(e) => {
                    a.fixed_throttle = true;
                    crate::log::warn(&format!(
                        "Could not raise the task limit of SLURM job array {}: {e}",
                        a.job_id
                    ));
                }
            }
        }
    }

    /// `scancel`s the tasks whose case timed out or was interrupted: after
    /// a first Ctrl+C (no new start) the tasks SLURM has not started yet,
    /// after a second one all of them (the whole array at once when every
    /// task must stop).
    fn cancel_due(&self, arrays: &mut [Submitted]) {
        let now = Instant::now();
        let mut ids: Vec<String> = Vec::new();
        for a in arrays.iter_mut() {
            let mut due = Vec::new();
            for i in 0..a.tasks.len() {
                if a.finished[i] || a.cancelled[i].is_some() {
                    continue;
                }
                let t = &a.tasks[i];
                if t.cancel.must_kill() || (!t.cancel.may_start() && a.waiting[i]) {
                    due.push((i, TaskEnd::Interrupted));
                } else if t.deadline.is_some_and(|d| now >= d) {
                    due.push((i, TaskEnd::TimedOut));
                }
            }
            if due.is_empty() {
                continue;
            }
            let open = (0..a.tasks.len())
                .filter(|&i| !a.finished[i] && a.cancelled[i].is_none())
                .count();
            if due.len() == open {
                ids.push(a.job_id.clone());
            } else {
                ids.extend(due.iter().map(|(i, _)| format!("{}_{i}", a.job_id)));
            }
            for (i, why) in due {
                a.cancelled[i] = Some(why);
            }
        }
        self.scheduler.cancel(&ids);
    }

    /// One `squeue` call for every array; tasks no longer listed and
    /// without an `.rc` file end as cancelled, or as `sacct` says. `Err`
    /// when `squeue` could not be asked (its message).
    fn poll(&self, arrays: &mut [Submitted]) -> Result<(), String> {
        let ids: Vec<String> = arrays.iter().map(|a| a.job_id.clone()).collect();
        let queued = self.scheduler.poll(&ids)?;
        // An .rc file may have appeared since the last look.
        self.collect_rc(arrays);
        let mut states: Option<HashMap<String, String>> = None;
        for a in arrays.iter_mut() {
            for i in 0..a.tasks.len() {
                let id = format!("{}_{i}", a.job_id);
                a.waiting[i] = queued.get(&id) == Some(&Queued::Pending);
                if a.finished[i] || queued.contains_key(&id) {
                    continue;
                }
                if let Some(why) = a.cancelled[i].clone() {
                    a.finished[i] = true;
                    a.outbox.push((i, why, id));
                    continue;
                }
                let states = states.get_or_insert_with(|| self.scheduler.final_states(&ids));
                let log = self.place.log_tail(&a.dir, i);
                match states.get(&id) {
                    Some(state) if !is_active(state) => {
                        a.finished[i] = true;
                        a.outbox.push((
                            i,
                            TaskEnd::Killed {
                                state: state.clone(),
                                log,
                            },
                            id,
                        ));
                    }
                    _ => {
                        a.unknown_polls[i] += 1;
                        if a.unknown_polls[i] >= LOST_POLLS {
                            a.finished[i] = true;
                            let state = states.get(&id).cloned().unwrap_or_default();
                            a.outbox.push((i, TaskEnd::Killed { state, log }, id));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Ends every open task of `arrays` as [`TaskEnd::Unreachable`] with the
/// last error: SLURM could not be asked about them for too long.
fn give_up(arrays: &mut [Submitted], error: &str) {
    for a in arrays.iter_mut() {
        for i in 0..a.tasks.len() {
            if !a.finished[i] {
                a.finished[i] = true;
                let id = format!("{}_{i}", a.job_id);
                a.outbox
                    .push((i, TaskEnd::Unreachable(error.to_string()), id));
            }
        }
    }
}

/// States of a job that has not ended.
fn is_active(state: &str) -> bool {
    let word = state.split_whitespace().next().unwrap_or("");
    matches!(
        word,
        "PENDING"
            | "RUNNING"
            | "REQUEUED"
            | "RESIZING"
            | "SUSPENDED"
            | "COMPLETING"
            | "CONFIGURING"
    )
}

/// How a task that wrote exit code `code` ended. A task we scancelled
/// may still write its `.rc` (bash reports the SIGTERM as 143): it ended
/// because we stopped it, unless it had succeeded just before.
fn rc_end(code: i32, cancelled: Option<&TaskEnd>) -> TaskEnd {
    match cancelled {
        Some(why) if code != 0 => why.clone(),
        _ => TaskEnd::Exited(code),
    }
}

/// The batch script: task `i` enters the directory of case `i`, runs its
/// line with bash (stdin `/dev/null`, stdout/stderr to `out.txt` and
/// `err.txt`), and records the exit code in `<dir>/<i>.rc`.
fn wrapper(batch: &[Arc<Task>]) -> String {
    let q = |p: &Path| shell_quote(&p.to_string_lossy()).into_owned();
    let mut s = String::from(
        "#!/bin/bash\n# fz: one case per array task (written by fz, removed after the run)\n",
    );
    s.push_str("dirs=(\n");
    for t in batch {
        s.push_str(&format!("  {}\n", q(&t.work_dir)));
    }
    s.push_str(")\nlines=(\n");
    for t in batch {
        s.push_str(&format!("  {}\n", shell_quote(&t.line)));
    }
    s.push_str(")\n");
    // sbatch --chdir starts the script in the submission directory.
    s.push_str("rcdir=$PWD\n");
    s.push_str(
        r#"i=$SLURM_ARRAY_TASK_ID
if cd "${dirs[$i]}"; then
  bash -c "${lines[$i]}" </dev/null >out.txt 2>err.txt
  rc=$?
else
  rc=97
fi
echo "$rc" > "$rcdir/$i.rc.tmp" && mv -f "$rcdir/$i.rc.tmp" "$rcdir/$i.rc"
exit "$rc"
"#,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SLURM whose `sbatch` accepts arrays but whose controller then
    /// stops answering `squeue`.
    #[derive(Debug)]
    struct ControllerGone;

    impl super::super::host::CommandHost for ControllerGone {
        fn exec(
            &self,
            program: &str,
            _args: &[String],
            _limit: Duration,
        ) -> Result<super::super::host::Output, String> {
            let (code, stdout, stderr) = match program {
                "sbatch" => (0, "4242\n", ""),
                _ => (
                    1,
                    "",
                    "slurm_load_jobs error: Unable to contact slurm controller",
                ),
            };
            Ok(super::super::host::Output {
                code,
                stdout: stdout.to_string(),
                stderr: stderr.to_string(),
            })
        }

        fn location(&self) -> String {
            "here".to_string()
        }
    }

    #[test]
    fn tasks_are_given_up_when_slurm_stays_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let case = dir.path().join("x=1");
        std::fs::create_dir(&case).unwrap();
        let queue = Arc::new(
            ArrayQueue::new(
                Arc::new(super::super::scheduler::Slurm::new(
                    Arc::new(ControllerGone),
                    None,
                )),
                Place::Local,
                "debug",
                &[],
                false,
            )
            .with_unreachable_after(Duration::from_millis(600)),
        );
        queue.add_entry();
        // On its own thread: were the task waited for forever, the test
        // fails instead of hanging.
        let (tx, rx) = std::sync::mpsc::channel();
        let (q, c) = (queue.clone(), case.clone());
        std::thread::spawn(move || {
            let _ = tx.send(q.run(&c, "true", None, &Cancel::new()));
        });
        let (end, id) = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the task is given up, not waited for forever");
        assert_eq!(
            end,
            TaskEnd::Unreachable(
                "squeue failed: slurm_load_jobs error: Unable to contact slurm controller".into()
            )
        );
        assert_eq!(id, "4242_0");
        // The submission directory is cleaned up all the same.
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }

    #[test]
    fn a_cancelled_task_ends_as_cancelled_even_when_it_wrote_an_rc() {
        assert_eq!(
            rc_end(143, Some(&TaskEnd::Interrupted)),
            TaskEnd::Interrupted
        );
        assert_eq!(rc_end(143, Some(&TaskEnd::TimedOut)), TaskEnd::TimedOut);
        assert_eq!(rc_end(0, Some(&TaskEnd::Interrupted)), TaskEnd::Exited(0));
        assert_eq!(rc_end(3, None), TaskEnd::Exited(3));
    }

    #[test]
    fn wrapper_quotes_dirs_and_lines() {
        let t = |d: &str, l: &str| {
            Arc::new(Task {
                work_dir: PathBuf::from(d),
                line: l.to_string(),
                deadline: None,
                cancel: Cancel::new(),
                end: Mutex::new(None),
            })
        };
        let s = wrapper(&[t("/r/a b", "bash x.sh 'in put.txt'"), t("/r/c", "run .")]);
        assert!(s.contains("  '/r/a b'\n  /r/c\n"), "{s}");
        assert!(s.contains(r#"  'bash x.sh '\''in put.txt'\'''"#), "{s}");
        assert!(s.contains("rcdir=$PWD\n"), "{s}");
        // The script is valid bash and picks the task's directory.
        let dir = tempfile::tempdir().unwrap();
        let case = dir.path().join("case 1");
        std::fs::create_dir(&case).unwrap();
        let s = wrapper(&[
            t("/nonexistent", "true"),
            t(case.to_str().unwrap(), "echo hi; echo e >&2; exit 4"),
        ]);
        let rc = |i: usize| Place::Local.read_rcs(&[dir.path()])[0].get(&i).copied();
        // sbatch --chdir: the script starts in the submission directory.
        let st = std::process::Command::new("bash")
            .arg("-c")
            .arg(&s)
            .current_dir(dir.path())
            .env("SLURM_ARRAY_TASK_ID", "1")
            .status()
            .unwrap();
        assert_eq!(st.code(), Some(4));
        assert_eq!(
            std::fs::read_to_string(case.join("out.txt")).unwrap(),
            "hi\n"
        );
        assert_eq!(
            std::fs::read_to_string(case.join("err.txt")).unwrap(),
            "e\n"
        );
        assert_eq!(rc(1), Some(4));
        let st = std::process::Command::new("bash")
            .arg("-c")
            .arg(&s)
            .current_dir(dir.path())
            .env("SLURM_ARRAY_TASK_ID", "0")
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(st.code(), Some(97));
        assert_eq!(rc(0), Some(97));
    }

    #[test]
    fn active_states() {
        assert!(is_active("RUNNING") && is_active("PENDING"));
        assert!(!is_active("CANCELLED by 0") && !is_active("TIMEOUT") && !is_active("FAILED"));
    }
}
