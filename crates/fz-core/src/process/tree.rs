//! One command tree: the process group a command was started in, its
//! environment tag, and everything descending from it. Finding its live
//! members, signalling them all, and stopping them (SIGTERM, grace,
//! SIGKILL, bounded wait), then reaping those that were re-parented to fz.
//!
//! It does not start or wait for the command itself ([`super::run`] does).

use super::table;
use std::time::{Duration, Instant};

/// The environment variable that tags every process of a command tree.
pub const TAG_VAR: &str = "FZ_CASE_TAG";

/// How often a stopping tree is looked at.
const POLL: Duration = Duration::from_millis(20);

/// Longest wait for processes to disappear after SIGKILL.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// A command tree: group `pgid` (led by the command's first process) and
/// the processes tagged `TAG_VAR=tag`.
#[derive(Debug, Clone)]
pub struct Tree {
    pgid: i32,
    entry: String,
    /// When the group leader started (clock ticks since boot): only
    /// processes started since then can carry the tag.
    start: u64,
}

impl Tree {
    /// The tree of the process `pgid` started in a group of its own with
    /// `TAG_VAR=tag` in its environment.
    pub fn new(pgid: i32, tag: &str) -> Self {
        Tree {
            pgid,
            entry: format!("{TAG_VAR}={tag}"),
            start: table::get(pgid).map_or(0, |p| p.start),
        }
    }

    /// The group id (the first process's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The live members: the group, the tagged processes and all their
    /// descendants; `None` when the process table cannot be read.
    pub fn members(&self) -> Option<Vec<i32>> {
        let procs: Vec<table::Proc> = table::all()?.into_iter().filter(|p| !p.zombie).collect();
        let roots: Vec<i32> = procs
            .iter()
            .filter(|p| {
                p.pgid == self.pgid || (p.start >= self.start && table::has_env(p.pid, &self.entry))
            })
            .map(|p| p.pid)
            .collect();
        Some(table::descendants(&procs, &roots))
    }

    /// Whether any member is alive.
    pub fn alive(&self) -> bool {
        match self.members() {
            Some(m) => !m.is_empty(),
            None => group_alive(self.pgid),
        }
    }

    /// Whether anything is left once the group leader has exited. With fz
    /// as subreaper, a process that left the group has been handed to fz
    /// when its parents of the tree ended: an empty group and no adopted
    /// child of fz mean nothing is left, without scanning every process.
    pub fn left_after_exit(&self) -> bool {
        if super::orphans::is_subreaper()
            && !group_alive(self.pgid)
            && !super::orphans::may_have_adopted()
        {
            return false;
        }
        self.alive()
    }

    /// Sends `sig` to the group and to every member; the members signalled.
    pub fn signal(&self, sig: libc::c_int) -> Vec<i32> {
        super::signal_group(self.pgid, sig);
        let members = self.members().unwrap_or_default();
        for &pid in &members {
            if pid > 1 && pid != own_pid() {
                // SAFETY: plain system call on a pid just seen alive.
                unsafe { libc::kill(pid, sig) };
            }
        }
        members
    }

    /// Stops the tree: SIGTERM, up to `grace` for it to end (signalling
    /// newcomers too), then SIGKILL until nothing is left (at most
    /// [`KILL_WAIT`]). Members re-parented to fz are reaped, except the
    /// group leader, which its spawner waits for.
    pub fn stop(&self, grace: Duration) {
        let mut seen = self.until_gone(libc::SIGTERM, grace);
        if self.alive() {
            seen.extend(self.until_gone(libc::SIGKILL, KILL_WAIT));
        }
        seen.retain(|&p| p != self.pgid);
        reap_children(&seen);
    }

    /// Sends `sig` to the tree until it is gone or `limit` passed; every
    /// pid signalled.
    fn until_gone(&self, sig: libc::c_int, limit: Duration) -> Vec<i32> {
        let until = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            for pid in self.signal(sig) {
                if !seen.contains(&pid) {
                    seen.push(pid);
                }
            }
            if !self.alive() || Instant::now() >= until {
                return seen;
            }
            std::thread::sleep(POLL);
        }
    }
}

fn own_pid() -> i32 {
    std::process::id() as i32
}

/// Reaps those of `pids` that are zombie children of fz (orphans handed to
/// fz as subreaper, never waited for by anyone else).
pub(crate) fn reap_children(pids: &[i32]) {
    let me = own_pid();
    for &pid in pids {
        if table::get(pid).is_some_and(|p| p.ppid == me && p.zombie) {
            let mut status = 0;
            // SAFETY: waiting, without blocking, for a child of ours that
            // no Child handle owns.
            unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        }
    }
}

/// Whether group `pgid` still has a live (not zombie) process, without a
/// process table: signal 0 to the group.
fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks existence and permission.
    pgid > 1 && unsafe { libc::kill(-pgid, 0) } == 0
}
