//! Orphans: fz as a child subreaper (Linux), so that processes a command
//! detached (`setsid`, double fork) are re-parented to fz rather than to
//! init and stay findable; reaping those that end, and killing those left
//! at the end of a run.
//!
//! Set by the CLI only: a Python interpreter hosting the module keeps its
//! own behaviour. Which children are orphans is told by their group and
//! session (see [`is_orphan`]); children fz spawned itself are never
//! touched here.

use super::table::{self, Proc};

/// Makes fz a child subreaper (Linux; a no-op elsewhere). Returns whether
/// it took effect.
pub fn become_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain prctl call on this process.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Whether fz is a child subreaper.
pub fn is_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        let mut flag: libc::c_int = 0;
        // SAFETY: PR_GET_CHILD_SUBREAPER writes one int through the pointer.
        let rc =
            unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut flag as *mut libc::c_int) };
        rc == 0 && flag != 0
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Whether fz may have adopted a child, read cheaply from its threads'
/// `children` lists (no scan of the whole process table); `true` when
/// that cannot be read.
pub fn may_have_adopted() -> bool {
    let me = std::process::id() as i32;
    let (Some(me), Ok(tasks)) = (table::get(me), std::fs::read_dir("/proc/self/task")) else {
        return true;
    };
    for task in tasks.flatten() {
        let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
            return true;
        };
        let adopted = list
            .split_whitespace()
            .filter_map(|p| table::get(p.parse().ok()?))
            .any(|p| is_orphan(&p, &me));
        if adopted {
            return true;
        }
    }
    false
}

/// Whether `child`, a child of fz (`me`), was adopted rather than spawned:
/// fz spawns its children in its own session, either in its own group or
/// as leaders of new groups, while an adopted orphan either started a
/// session of its own or belongs to a group led by another process.
pub fn is_orphan(child: &Proc, me: &Proc) -> bool {
    child.ppid == me.pid
        && (child.sid != me.sid || (child.pgid != child.pid && child.pgid != me.pgid))
}

/// The adopted children of fz, dead or alive.
fn adopted() -> Vec<Proc> {
    let Some(me) = table::get(std::process::id() as i32) else {
        return Vec::new();
    };
    table::all()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| is_orphan(p, &me))
        .collect()
}

/// Reaps the adopted children that ended; with `kill`, first kills the
/// live ones and their descendants (the end of a run). Returns how many
/// were killed.
pub fn sweep(kill: bool) -> usize {
    let orphans = adopted();
    let mut killed = 0;
    if kill {
        let procs = table::all().unwrap_or_default();
        let roots: Vec<i32> = orphans
            .iter()
            .filter(|p| !p.zombie)
            .map(|p| p.pid)
            .collect();
        for pid in table::descendants(&procs, &roots) {
            // SAFETY: plain system call on a process fz adopted or its
            // descendant.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pids: Vec<i32> = adopted().iter().map(|p| p.pid).collect();
    super::tree::reap_children(&pids);
    killed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orphans_are_told_from_spawned_children() {
        let p = |pid, ppid, pgid, sid| Proc {
            pid,
            ppid,
            pgid,
            sid,
            zombie: false,
            start: 0,
        };
        let me = p(100, 1, 100, 50);
        assert!(!is_orphan(&p(101, 100, 100, 50), &me), "same group");
        assert!(!is_orphan(&p(102, 100, 102, 50), &me), "own group");
        assert!(is_orphan(&p(103, 100, 103, 103), &me), "setsid");
        assert!(is_orphan(&p(104, 100, 102, 50), &me), "a case's group");
        assert!(!is_orphan(&p(105, 7, 7, 7), &me), "not a child");
    }
}
