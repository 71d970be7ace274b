//! The process table as fz needs it, read from `/proc` on Linux: pid,
//! parent, group, session and whether the process is a zombie; whether a
//! process carries a given environment entry; the descendants of a set of
//! processes. Read-only: signalling is [`super::tree`]'s business.
//!
//! Every function returns `None` where `/proc` is not available (other
//! systems), so that callers fall back to process groups.

/// One process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proc {
    /// Its id.
    pub pid: i32,
    /// Its parent's id.
    pub ppid: i32,
    /// Its process group.
    pub pgid: i32,
    /// Its session.
    pub sid: i32,
    /// Dead and waiting to be reaped (state `Z` or `X`).
    pub zombie: bool,
    /// When it started, in clock ticks since boot.
    pub start: u64,
}

/// Parses the text of `/proc/<pid>/stat` (`pid (comm) state ppid pgrp
/// session …`; comm may hold spaces and `)`).
pub fn parse_stat(text: &str) -> Option<Proc> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let mut f = text.get(close + 1..)?.split_whitespace();
    let state = f.next()?;
    let mut num = || f.next().and_then(|v| v.parse::<i32>().ok());
    let (ppid, pgid, sid) = (num()?, num()?, num()?);
    // Field 22 of the line, the 19th after the state.
    let start = f.nth(15).and_then(|v| v.parse().ok()).unwrap_or(0);
    Some(Proc {
        pid,
        ppid,
        pgid,
        sid,
        zombie: state == "Z" || state == "X",
        start,
    })
}

/// One process by id; `None` when it is gone (or without `/proc`).
pub fn get(pid: i32) -> Option<Proc> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process; `None` without a readable `/proc`.
pub fn all() -> Option<Vec<Proc>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let entries = std::fs::read_dir("/proc").ok()?;
    let procs = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(get)
        .collect();
    Some(procs)
}

/// Whether process `pid` has `entry` (`NAME=value`) in its environment.
/// False when its environment cannot be read (another user's process, a
/// zombie, no `/proc`).
pub fn has_env(pid: i32, entry: &str) -> bool {
    let Ok(bytes) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    bytes.split(|&b| b == 0).any(|e| e == entry.as_bytes())
}

/// The processes of `procs` descending from any of `roots` (the roots
/// included when present), by parent pid.
pub fn descendants(procs: &[Proc], roots: &[i32]) -> Vec<i32> {
    let mut found: Vec<i32> = procs
        .iter()
        .filter(|p| roots.contains(&p.pid))
        .map(|p| p.pid)
        .collect();
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        for p in procs {
            if p.ppid == parent && !found.contains(&p.pid) {
                found.push(p.pid);
            }
        }
        i += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let line = "42 (a b) c)) S 7 40 39 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1 2";
        let p = parse_stat(line).unwrap();
        assert_eq!(p.start, 98765);
        assert_eq!(
            (p.pid, p.ppid, p.pgid, p.sid, p.zombie),
            (42, 7, 40, 39, false)
        );
        assert!(parse_stat("43 (x) Z 1 43 43").unwrap().zombie);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn descendants_follow_parents() {
        let p = |pid, ppid| Proc {
            pid,
            ppid,
            pgid: pid,
            sid: pid,
            zombie: false,
            start: 0,
        };
        let procs = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 1), p(13, 10)];
        let mut d = descendants(&procs, &[10]);
        d.sort();
        assert_eq!(d, [10, 11, 12, 13]);
        assert!(descendants(&procs, &[99]).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let me = std::process::id() as i32;
        let p = get(me).unwrap();
        assert_eq!(p.pid, me);
        assert!(all().unwrap().iter().any(|q| q.pid == me));
        // Cargo sets this in the environment the test binary starts with.
        assert!(has_env(me, "CARGO_PKG_NAME=fz-core"));
        assert!(!has_env(me, "FZ_NO_SUCH_ENTRY=1"));
    }
}
