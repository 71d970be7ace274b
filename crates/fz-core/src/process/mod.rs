//! Process control for everything fz starts: a command tree spawned in a
//! process group of its own and tagged, waited for under a time limit and
//! cancellation, and stopped as a whole (SIGTERM, grace, SIGKILL) including
//! the descendants that left the group (`setsid`, double fork); helper
//! processes tied to fz's life (`PR_SET_PDEATHSIG`); orphans handed to fz
//! when it is a child subreaper.
//!
//! Used by `sh://`, `slurm://` in srun mode, and the formula and output
//! workers. It knows nothing of cases, calculators or log files: callers
//! build the command and interpret the outcome.
//!
//! # How descendants are found (Linux)
//!
//! Each command tree gets a random tag in its environment
//! ([`TAG_VAR`]`=<tag>`), inherited by every descendant that does not clear
//! its environment. A tree's members are the live processes of its group,
//! those carrying its tag (read from `/proc/<pid>/environ`) and every
//! descendant of those (by parent pid). When fz is a child subreaper
//! ([`orphans::become_subreaper`], done by the CLI), orphans are re-parented
//! to fz instead of init, so they stay findable and are reaped by fz. On
//! other Unix systems only the process group is known.

#[cfg(unix)]
pub mod orphans;
#[cfg(unix)]
pub mod run;
pub mod table;
pub mod tied;
#[cfg(unix)]
pub mod tree;

#[cfg(unix)]
pub use run::{case_command, run_tree, Ended, Limits};
pub use tied::spawn_tied;
#[cfg(unix)]
pub use tree::{Tree, TAG_VAR};

/// A fresh random tag (16 hex digits) for [`TAG_VAR`].
pub fn new_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    format!("{:016x}", h.finish())
}

/// The exit code, or minus the signal number that killed the process.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .or_else(|| status.signal().map(|s| -s))
            .unwrap_or(-1)
    }
    #[cfg(not(unix))]
    {
        status.code().unwrap_or(-1)
    }
}

/// Sends `sig` to every process of group `pgid` (never to groups 0 or 1).
#[cfg(unix)]
pub fn signal_group(pgid: libc::pid_t, sig: libc::c_int) {
    if pgid > 1 {
        // SAFETY: plain system call; a negative pid addresses the group.
        unsafe { libc::kill(-pgid, sig) };
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_are_distinct_hex() {
        let a = super::new_tag();
        let b = super::new_tag();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
