//! Packed mode (`slurm://:P/script?array=1&pack=auto|N`): the cases of a
//! run go into a queue on the shared filesystem ([`spool`]) and a few
//! array tasks, each running the `fz worker` loop ([`worker`]), take them
//! one after another, so that thousands of short cases cost a handful of
//! SLURM jobs instead of one job each.
//!
//! This module owns the engine side: queuing each case handed to `run()`
//! (which blocks until its outcome is back), choosing how many pack tasks
//! to submit and how many cases each may run, noticing tasks that died
//! (their claimed cases without an outcome end as killed, so the engine
//! retries them as in array mode), and stopping: a case past its deadline
//! or interrupted before a worker took it is withdrawn from the queue; the
//! first Ctrl+C stops the hand-out (running cases finish, unstarted tasks
//! are cancelled), the second `scancel`s the tasks. It does not run cases
//! (the worker does) nor write their `log.txt` (`SlurmCalculator::run`).
//!
//! Locally the spool sits next to the case directories, which the
//! compute nodes must share, and the worker is this fz binary (or
//! `FZ_WORKER`), reachable at the same path there. Through a login node
//! (`slurm://user@host:P/…`) the spool sits under `~/.fz/tmp/` there
//! ([`remote`]), the case directories are sent there and fetched back by
//! `SlurmCalculator`, and the worker is found or copied there ([`ship`]).

pub mod remote;
pub mod ship;
pub mod spool;
pub mod store;
pub mod worker;

use super::array::TaskEnd;
use super::scheduler::{ArrayJob, Caps, Queued, Scheduler};
use crate::calculators::sh::shell_quote;
use crate::calculators::ssh::session::Session;
use crate::calculators::Cancel;
use spool::{epoch_ms, CaseFile, Outcome, Spool};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use store::Store;

/// Cases the engine may hand a packed entry at once.
pub const CAPACITY: usize = 4096;

/// How long a pack task should last with `pack=auto`, once the cases'
/// duration is known.
const TASK_TARGET: Duration = Duration::from_secs(300);

/// A submission waits this long after the last case arrived...
const SETTLE: Duration = Duration::from_millis(150);

/// ...but never longer than this after the first one.
const WINDOW: Duration = Duration::from_secs(1);

/// Time between two polls of SLURM.
const POLL: Duration = Duration::from_millis(500);

/// Time between two looks at the outcomes, cancellations and deadlines.
const TICK: Duration = Duration::from_millis(20);

/// Past its deadline by this much with no outcome (the worker kills a
/// case at its deadline), a claimed case's task is cancelled.
const OVERDUE: Duration = Duration::from_secs(20);

/// Longest wait of the last case for the tasks to leave the queue.
const DRAIN: Duration = Duration::from_secs(30);

/// Arrays in a row whose tasks ran no case while cases waited: the
/// tasks cannot run the worker, the waiting cases fail.
const MAX_IDLE_ARRAYS: u32 = 2;

/// `pack=`: how many cases one task may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackSize {
    /// From the number of cases, the slots and the measured case time.
    Auto,
    /// At most this many.
    Fixed(usize),
}

impl PackSize {
    /// Parses a `pack=` value (`auto` or a positive count).
    pub fn parse(value: &str) -> Option<PackSize> {
        if value.eq_ignore_ascii_case("auto") {
            return Some(PackSize::Auto);
        }
        value
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .map(PackSize::Fixed)
    }

    /// Most cases per task, the mean case time being `mean` when known
    /// (`None`: no cap, a task runs until the queue stays empty or its
    /// walltime is near). `auto` caps a task at about five minutes of
    /// work once case times are known.
    pub fn cases_per_task(self, mean: Option<Duration>) -> Option<usize> {
        match (self, mean) {
            (PackSize::Fixed(n), _) => Some(n),
            (PackSize::Auto, Some(m)) if !m.is_zero() => {
                let fit = (TASK_TARGET.as_secs_f64() / m.as_secs_f64()) as usize;
                Some(fit.max(1))
            }
            (PackSize::Auto, _) => None,
        }
    }
}

/// One case waiting for its outcome.
#[derive(Debug)]
struct Waiting {
    deadline: Option<Instant>,
    cancel: Cancel,
    reply: Sender<(TaskEnd, String)>,
}

#[derive(Debug, Default)]
struct Inner {
    spool: Option<Store>,
    waiting: HashMap<u64, Waiting>,
    first_arrival: Option<Instant>,
    last_arrival: Option<Instant>,
    monitor: bool,
}

/// The packed queue of one `slurm://…?pack=` URI, shared by the entries
/// naming it (each adds one slot: one task running at once).
#[derive(Debug)]
pub struct PackQueue {
    scheduler: Arc<dyn Scheduler>,
    partition: String,
    options: Vec<String>,
    size: PackSize,
    keep: bool,
    /// The login node holding the spool (`None`: this machine).
    session: Option<Arc<Session>>,
    /// The worker binary found there (looked up once).
    remote_worker: OnceLock<Result<String, String>>,
    slots: AtomicUsize,
    caps: OnceLock<Caps>,
    /// The limit on queued tasks was said.
    said_open: std::sync::atomic::AtomicBool,
    next_id: AtomicU64,
    inner: Mutex<Inner>,
    /// Signalled when a case arrives and when the monitor ends.
    changed: Condvar,
}

impl PackQueue {
    /// A queue submitting pack tasks to `partition` with the sbatch
    /// `options`, `size` cases each; its spool on the login node of
    /// `session` (`None`: next to the case directories).
    pub fn new(
        scheduler: Arc<dyn Scheduler>,
        partition: &str,
        options: &[String],
        size: PackSize,
        keep: bool,
        session: Option<Arc<Session>>,
    ) -> Self {
        PackQueue {
            scheduler,
            partition: partition.to_string(),
            options: options.to_vec(),
            size,
            keep,
            session,
            remote_worker: OnceLock::new(),
            slots: AtomicUsize::new(0),
            caps: OnceLock::new(),
            said_open: std::sync::atomic::AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            inner: Mutex::new(Inner::default()),
            changed: Condvar::new(),
        }
    }

    /// One more calculator entry uses this queue.
    pub fn add_entry(&self) {
        self.slots.fetch_add(1, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn caps(&self) -> Caps {
        self.caps
            .get_or_init(|| {
                let slots = self.slots.load(Ordering::SeqCst).max(1);
                Caps::new(&self.scheduler.limits(), super::array::MAX_TASKS, slots)
            })
            .clone()
    }

    /// Queues the case of `work_dir` (`line` run there with bash; a path
    /// on the login node when the spool is there) and
    /// blocks until it ended; returns how, and the pack task that ran it
    /// (`123_4`, empty when none did).
    pub fn run(
        self: &Arc<Self>,
        work_dir: &Path,
        line: &str,
        timeout: Option<Duration>,
        cancel: &Cancel,
    ) -> (TaskEnd, String) {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let case = CaseFile {
            dir: work_dir.to_path_buf(),
            line: line.to_string(),
            deadline_ms: timeout.map(|t| epoch_ms(SystemTime::now() + t)),
        };
        let (reply, answer) = channel();
        {
            let mut inner = self.lock();
            if let Err(msg) = self.enqueue(&mut inner, id, &case) {
                return (TaskEnd::NotSubmitted(msg), String::new());
            }
            let now = Instant::now();
            inner.first_arrival.get_or_insert(now);
            inner.last_arrival = Some(now);
            inner.waiting.insert(
                id,
                Waiting {
                    deadline: timeout.map(|t| now + t),
                    cancel: cancel.clone(),
                    reply,
                },
            );
            self.changed.notify_all();
            if !inner.monitor {
                let me = Arc::clone(self);
                let spawned = std::thread::Builder::new()
                    .name("fz-slurm-pack".to_string())
                    .spawn(move || me.monitor());
                match spawned {
                    Ok(_) => inner.monitor = true,
                    Err(e) => {
                        inner.waiting.remove(&id);
                        return (
                            TaskEnd::NotSubmitted(format!(
                                "Could not start the SLURM pack thread: {e}"
                            )),
                            String::new(),
                        );
                    }
                }
            }
        }
        let end = answer.recv().unwrap_or((
            TaskEnd::NotSubmitted("The SLURM pack thread stopped".into()),
            String::new(),
        ));
        self.drain();
        end
    }

    /// When no other case waits, waits (at most [`DRAIN`]) for the pack
    /// tasks to leave SLURM's queue and the spool to be removed, or for a
    /// new case: so that the run does not end with tasks or files left.
    fn drain(&self) {
        let until = Instant::now() + DRAIN;
        let mut inner = self.lock();
        while inner.monitor && inner.waiting.is_empty() && Instant::now() < until {
            inner = self
                .changed
                .wait_timeout(inner, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Writes the case into the spool, creating the spool first (next
    /// to the case directory, or on the login node).
    fn enqueue(&self, inner: &mut Inner, id: u64, case: &CaseFile) -> Result<(), String> {
        if inner.spool.is_none() {
            let name = super::job_name("p");
            inner.spool = Some(match &self.session {
                Some(session) => {
                    Store::Remote(remote::RemoteSpool::create(session.clone(), &name)?)
                }
                None => {
                    let parent = case.dir.parent().unwrap_or(&case.dir);
                    Store::Local(Spool::create(&parent.join(format!(".{name}")))?)
                }
            });
        }
        match &inner.spool {
            Some(spool) => spool.put(id, case),
            None => Err("no spool".into()),
        }
    }

    /// Sends case `id` its end (once).
    fn finish(&self, id: u64, end: TaskEnd, task: String) {
        if let Some(w) = self.lock().waiting.remove(&id) {
            let _ = w.reply.send((end, task));
        }
    }

    /// The monitor: hands outcomes back, withdraws or cancels what must
    /// stop, submits pack tasks while cases wait, notices dead tasks;
    /// ends (removing the spool) when no case waits and no task runs.
    fn monitor(self: Arc<Self>) {
        let mut m = Monitor::default();
        loop {
            let spool = {
                let mut inner = self.lock();
                if inner.waiting.is_empty() && m.arrays.is_empty() {
                    if let Some(spool) = inner.spool.take() {
                        if !self.keep {
                            spool.remove();
                        }
                    }
                    inner.monitor = false;
                    inner.first_arrival = None;
                    inner.last_arrival = None;
                    self.changed.notify_all();
                    return;
                }
                match &inner.spool {
                    Some(s) => s.clone(),
                    None => {
                        inner.monitor = false;
                        self.changed.notify_all();
                        return;
                    }
                }
            };
            spool.refresh(false);
            self.collect(&spool, &mut m);
            self.stop_due(&spool, &mut m);
            if Instant::now() >= m.next_poll {
                self.poll(&spool, &mut m);
                m.next_poll = Instant::now() + POLL;
            }
            self.maybe_submit(&spool, &mut m);
            std::thread::sleep(TICK);
        }
    }

    /// Hands back the outcomes the workers wrote.
    fn collect(&self, spool: &Store, m: &mut Monitor) {
        for (id, outcome, task) in spool.take_outcomes() {
            m.record(outcome.duration(), &task);
            let end = match outcome {
                Outcome::Exit { code, .. } => TaskEnd::Exited(code),
                Outcome::Timeout { .. } => TaskEnd::TimedOut,
            };
            self.finish(id, end, task);
        }
    }

    /// Withdraws or cancels the cases that must stop (see the module
    /// documentation).
    fn stop_due(&self, spool: &Store, m: &mut Monitor) {
        let now = Instant::now();
        let mut withdraw = Vec::new();
        let mut claimed_due = Vec::new();
        let (mut no_start, mut kill) = (false, false);
        for (&id, w) in self.lock().waiting.iter() {
            no_start |= !w.cancel.may_start();
            kill |= w.cancel.must_kill();
            if !w.cancel.may_start() {
                withdraw.push((id, TaskEnd::Interrupted));
            } else if let Some(d) = w.deadline.filter(|d| now >= *d) {
                withdraw.push((id, TaskEnd::TimedOut));
                if now >= d + OVERDUE {
                    claimed_due.push(id);
                }
            }
        }
        let mut left = Vec::new();
        let ids: Vec<u64> = withdraw.iter().map(|(id, _)| *id).collect();
        let taken: HashSet<u64> = if ids.is_empty() {
            HashSet::new()
        } else {
            spool.withdraw(&ids).into_iter().collect()
        };
        for (id, end) in withdraw {
            if taken.contains(&id) {
                self.finish(id, end, String::new());
            } else {
                left.push(id);
            }
        }
        if no_start && !m.stopped {
            m.stopped = true;
            spool.stop();
            self.scheduler.cancel_pending(&m.job_ids());
        }
        if kill && !m.killed {
            m.killed = true;
            self.scheduler.cancel(&m.job_ids());
        }
        // Claimed cases to end now: all of them after a second Ctrl+C,
        // those far past their deadline otherwise (their task is
        // cancelled: its other cases are retried).
        let claims: HashMap<u64, String> = if kill || !claimed_due.is_empty() {
            spool.claimed().into_iter().collect()
        } else {
            return;
        };
        let ids: Vec<u64> = if kill { left } else { claimed_due };
        let mut tasks = Vec::new();
        for id in ids {
            if let Some(task) = claims.get(&id) {
                spool.drop_claim(id, task);
                tasks.push(task.clone());
                let end = if kill {
                    TaskEnd::Interrupted
                } else {
                    TaskEnd::TimedOut
                };
                self.finish(id, end, task.clone());
            }
        }
        if !kill && !tasks.is_empty() {
            self.scheduler.cancel(&tasks);
        }
    }

    /// Asks SLURM which tasks still run; the cases claimed by tasks that
    /// ended without an outcome end as killed.
    fn poll(&self, spool: &Store, m: &mut Monitor) {
        if m.arrays.is_empty() {
            return;
        }
        let ids = m.job_ids();
        let Ok(queued) = self.scheduler.poll(&ids) else {
            return;
        };
        m.alive = queued;
        // Outcomes written before the tasks ended (and the claims as of
        // now, not as of before the squeue).
        spool.refresh(true);
        self.collect(spool, m);
        let dead: Vec<(u64, String)> = spool
            .claimed()
            .into_iter()
            .filter(|(_, task)| !m.alive.contains_key(task) && m.owns(task))
            .collect();
        if !dead.is_empty() {
            let states = self.scheduler.final_states(&ids);
            for (id, task) in dead {
                spool.drop_claim(id, &task);
                m.dead_claims.insert(job_of(&task).to_string());
                let state = states.get(&task).cloned().unwrap_or_default();
                let log = m.log_tail(spool, &task);
                self.finish(id, TaskEnd::Killed { state, log }, task);
            }
        }
        self.end_arrays(spool, m);
    }

    /// Forgets the arrays none of whose tasks is queued or running; fails
    /// the waiting cases when arrays in a row ran none.
    fn end_arrays(&self, spool: &Store, m: &mut Monitor) {
        let alive = &m.alive;
        let (ended, running): (Vec<Array>, Vec<Array>) = m
            .arrays
            .drain(..)
            .partition(|a| !alive.keys().any(|t| job_of(t) == a.job_id));
        m.arrays = running;
        for a in ended {
            let worked = m.ran.contains(&a.job_id) || m.dead_claims.contains(&a.job_id);
            if worked || spool.queued().is_empty() {
                m.idle_arrays = 0;
                continue;
            }
            m.idle_arrays += 1;
            if m.idle_arrays >= MAX_IDLE_ARRAYS {
                let log = spool.log_tail(&a.dir, 0);
                let msg = crate::calculators::sh::with_stderr(
                    format!(
                        "The SLURM pack tasks of job {} ran no case (is {} reachable on the \
                         compute nodes?)",
                        a.job_id, a.worker
                    ),
                    &log,
                );
                self.fail_queued(spool, &msg);
                m.idle_arrays = 0;
            }
        }
    }

    /// Submits pack tasks when cases wait and no task of ours is waiting
    /// to start.
    fn maybe_submit(&self, spool: &Store, m: &mut Monitor) {
        if m.stopped || m.alive.values().any(|q| *q == Queued::Pending) {
            return;
        }
        // No arrival since the last submission (cases that reached the
        // spool late, or left over by a full submission): nothing to
        // wait for.
        let settled = {
            let inner = self.lock();
            let now = Instant::now();
            match (inner.first_arrival, inner.last_arrival) {
                (Some(first), Some(last)) => now - last >= SETTLE || now - first >= WINDOW,
                _ => true,
            }
        };
        if !settled {
            return;
        }
        let caps = self.caps();
        let slots = self.slots.load(Ordering::SeqCst).clamp(1, caps.running);
        let running = m.alive.len();
        if running >= slots {
            return;
        }
        let queued = spool.queued().len();
        if queued == 0 {
            return;
        }
        let free = slots - running;
        let per_task = self.size.cases_per_task(m.mean());
        // One task per pack, and at least every free slot busy.
        let packs = per_task.map_or(1, |p| queued.div_ceil(p));
        let wanted = packs.max(queued.min(free)).min(caps.per_array);
        let tasks = wanted.min(caps.open.saturating_sub(running));
        if tasks < wanted {
            caps.note_open(&self.said_open);
        }
        if tasks == 0 {
            return;
        }
        // Fewer tasks than packs (a site limit): each takes more cases.
        let per_task = per_task.map(|p| p.max(queued.div_ceil(tasks)));
        match self.submit(spool, tasks, per_task, free, queued) {
            Ok(a) => {
                for i in 0..tasks {
                    m.alive.insert(format!("{}_{i}", a.job_id), Queued::Pending);
                }
                m.arrays.push(a);
                m.next_poll = Instant::now() + POLL;
            }
            Err(msg) => self.fail_queued(spool, &msg),
        }
        let mut inner = self.lock();
        inner.first_arrival = None;
        inner.last_arrival = None;
    }

    /// Withdraws the queued cases and fails them with `msg`.
    fn fail_queued(&self, spool: &Store, msg: &str) {
        for id in spool.withdraw(&spool.queued()) {
            self.finish(id, TaskEnd::NotSubmitted(msg.to_string()), String::new());
        }
    }

    /// The worker binary, as the tasks name it.
    fn worker(&self) -> Result<PathBuf, String> {
        match &self.session {
            None => ship::local_worker(),
            Some(session) => self
                .remote_worker
                .get_or_init(|| ship::remote_worker(session))
                .clone()
                .map(PathBuf::from),
        }
    }

    /// Writes the task script and submits `tasks` pack tasks of at most
    /// `per_task` cases, `throttle` at a time.
    fn submit(
        &self,
        spool: &Store,
        tasks: usize,
        per_task: Option<usize>,
        throttle: usize,
        queued: usize,
    ) -> Result<Array, String> {
        let worker = self.worker()?;
        let name = super::job_name("p");
        let walltime = walltime_of(&self.options);
        let script = task_script(&worker, spool.path(), per_task, walltime);
        let dir = spool.write_task(&name, &script)?;
        let path = dir.join("pack.sh");
        let pack = match per_task {
            Some(n) => format!("at most {n} cases per task"),
            None => "each until the queue is empty".to_string(),
        };
        crate::log::info(&format!(
            "Submitting {queued} cases as {tasks} SLURM pack tasks {name} on partition '{}' \
             ({pack}, {throttle} tasks at a time)",
            self.partition
        ));
        let job_id = self.scheduler.submit(&ArrayJob {
            name: name.clone(),
            script: path,
            dir: dir.clone(),
            tasks,
            throttle,
            partition: self.partition.clone(),
            options: self.options.clone(),
        })?;
        crate::log::info(&format!("SLURM pack array {job_id} submitted ({name})"));
        Ok(Array {
            job_id,
            dir,
            worker: worker.display().to_string(),
        })
    }
}

/// A submitted pack array.
#[derive(Debug)]
struct Array {
    job_id: String,
    /// Its directory in the spool (task logs `<index>.slurm.log`).
    dir: PathBuf,
    /// The worker binary its tasks run.
    worker: String,
}

/// What the monitor thread knows between two rounds.
#[derive(Debug)]
struct Monitor {
    arrays: Vec<Array>,
    /// Our tasks SLURM lists, as of the last poll (plus those just
    /// submitted).
    alive: HashMap<String, Queued>,
    next_poll: Instant,
    /// Sum and count of the case durations seen.
    total: Duration,
    count: u32,
    /// Jobs whose tasks reported an outcome / left a claim behind.
    ran: HashSet<String>,
    dead_claims: HashSet<String>,
    idle_arrays: u32,
    stopped: bool,
    killed: bool,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            arrays: Vec::new(),
            alive: HashMap::new(),
            next_poll: Instant::now(),
            total: Duration::ZERO,
            count: 0,
            ran: HashSet::new(),
            dead_claims: HashSet::new(),
            idle_arrays: 0,
            stopped: false,
            killed: false,
        }
    }
}

impl Monitor {
    fn record(&mut self, took: Duration, task: &str) {
        self.total += took;
        self.count += 1;
        if !self.ran.contains(job_of(task)) {
            self.ran.insert(job_of(task).to_string());
        }
    }

    fn mean(&self) -> Option<Duration> {
        (self.count > 0).then(|| self.total / self.count)
    }

    fn job_ids(&self) -> Vec<String> {
        self.arrays.iter().map(|a| a.job_id.clone()).collect()
    }

    /// Whether `task` is a task of one of our arrays.
    fn owns(&self, task: &str) -> bool {
        self.arrays.iter().any(|a| a.job_id == job_of(task))
    }

    /// The last lines of the SLURM log of `task`.
    fn log_tail(&self, spool: &Store, task: &str) -> String {
        let index = task.rsplit_once('_').and_then(|(_, i)| i.parse().ok());
        let array = self.arrays.iter().find(|a| a.job_id == job_of(task));
        match (array, index) {
            (Some(a), Some(i)) => spool.log_tail(&a.dir, i),
            _ => String::new(),
        }
    }
}

/// The job of task `<job>_<index>`.
fn job_of(task: &str) -> &str {
    task.split_once('_').map(|(j, _)| j).unwrap_or(task)
}

/// The batch script of a pack task: the worker loop, nothing else.
fn task_script(
    worker: &Path,
    spool: &Path,
    per_task: Option<usize>,
    walltime: Option<u64>,
) -> String {
    let q = |p: &Path| shell_quote(&p.to_string_lossy()).into_owned();
    let mut line = format!("exec {} worker {}", q(worker), q(spool));
    if let Some(n) = per_task {
        line.push_str(&format!(" --max-cases {n}"));
    }
    if let Some(w) = walltime {
        line.push_str(&format!(" --walltime {w}"));
    }
    format!(
        "#!/bin/bash\n# fz: pack task, runs queued cases (written by fz, removed after the run)\n\
         {line}\n"
    )
}

/// The walltime in seconds of `--time=` among the sbatch options.
fn walltime_of(options: &[String]) -> Option<u64> {
    options
        .iter()
        .find_map(|o| o.strip_prefix("--time="))
        .and_then(slurm_seconds)
}

/// Seconds of a SLURM time (`M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`,
/// `D-H:M:S`).
fn slurm_seconds(v: &str) -> Option<u64> {
    let (days, rest) = match v.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().ok()?, r),
        None => (0, v),
    };
    let parts: Vec<u64> = rest
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let secs = match (v.contains('-'), parts.as_slice()) {
        (false, [m]) => m * 60,
        (false, [m, s]) => m * 60 + s,
        (_, [h, m, s]) => h * 3600 + m * 60 + s,
        (true, [h]) => h * 3600,
        (true, [h, m]) => h * 3600 + m * 60,
        _ => return None,
    };
    Some(days * 86400 + secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_sizes() {
        assert_eq!(PackSize::parse("auto"), Some(PackSize::Auto));
        assert_eq!(PackSize::parse("25"), Some(PackSize::Fixed(25)));
        assert_eq!(PackSize::parse("0"), None);
        assert_eq!(PackSize::parse("x"), None);
        let auto = PackSize::Auto;
        // Unknown case time: no cap, a task runs while cases wait.
        assert_eq!(auto.cases_per_task(None), None);
        // 10 ms cases: 30,000 per task (5 minutes).
        assert_eq!(
            auto.cases_per_task(Some(Duration::from_millis(10))),
            Some(30_000)
        );
        // 60 s cases: 5 per task; 20 min cases: 1.
        assert_eq!(auto.cases_per_task(Some(Duration::from_secs(60))), Some(5));
        assert_eq!(
            auto.cases_per_task(Some(Duration::from_secs(1200))),
            Some(1)
        );
        assert_eq!(PackSize::Fixed(7).cases_per_task(None), Some(7));
    }

    #[test]
    fn walltimes() {
        let o = |t: &str| walltime_of(&["--mem=1G".into(), format!("--time={t}")]);
        assert_eq!(o("30"), Some(1800));
        assert_eq!(o("1:30"), Some(90));
        assert_eq!(o("1:00:05"), Some(3605));
        assert_eq!(o("2-1"), Some(2 * 86400 + 3600));
        assert_eq!(o("1-0:30"), Some(86400 + 1800));
        assert_eq!(o("1-0:0:9"), Some(86409));
        assert_eq!(o("x"), None);
        assert_eq!(walltime_of(&[]), None);
    }

    #[test]
    fn task_script_runs_the_worker() {
        let s = task_script(
            Path::new("/opt/fz bin/fz"),
            Path::new("/r/.fz-1-p0"),
            Some(50),
            Some(600),
        );
        assert!(
            s.ends_with("exec '/opt/fz bin/fz' worker /r/.fz-1-p0 --max-cases 50 --walltime 600\n"),
            "{s}"
        );
        let s = task_script(Path::new("/fz"), Path::new("/s"), None, None);
        assert!(s.ends_with("\nexec /fz worker /s\n"), "{s}");
        assert_eq!(job_of("123_4"), "123");
    }
}
