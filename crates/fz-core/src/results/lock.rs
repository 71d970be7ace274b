//! One run per output directory: an exclusive advisory lock taken for the
//! whole run on a results directory (`fzr`) or an analysis directory
//! (`fzd`).
//!
//! The lock is a file beside the directory, `.<name>.fz-lock`, locked with
//! `flock` and holding the PID, host and start time of its holder. `flock`
//! is released by the kernel when the holder dies (even by `kill -9`), so
//! a lock file left behind is taken over with a notice; the file only
//! serves to name the holder in the refusal. The lock sits beside the
//! directory, not in it, because the directory itself is moved aside when
//! a run starts. Readers (`fzo`, `cache://`, `fz report`) never take it.
//!
//! This module knows nothing about what a run writes.

use crate::error::{Error, Result};
use crate::log;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An exclusive lock on an output directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

/// The lock file of `dir`: `.<name>.fz-lock` in its parent.
pub fn lock_path(dir: &Path) -> PathBuf {
    match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) => parent.join(format!(".{}.fz-lock", name.to_string_lossy())),
        _ => dir.join(".fz-lock"),
    }
}

impl DirLock {
    /// Takes the lock of `dir` or fails at once naming its holder. `what`
    /// names the directory in the refusal (`results directory 'results'`)
    /// and `flag` the option that chooses another (`-r`).
    pub fn acquire(dir: &Path, what: &str, flag: &str) -> Result<DirLock> {
        let path = lock_path(dir);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        // A holder removes the file when it ends: if the file we locked is
        // no longer the one at `path`, lock the new one instead.
        for _ in 0..100 {
            let mut file = open_lock_file(&path)?;
            if !try_flock(&file).map_err(|e| Error::io(&path, e))? {
                return Err(Error::Busy(format!(
                    "{what} is in use by fz ({}); wait for it or choose another {flag}",
                    holder_of(&mut file)
                )));
            }
            if !same_file(&file, &path) {
                continue;
            }
            let previous = read_all(&mut file);
            if !previous.trim().is_empty() {
                log::notice(&format!(
                    "taking over the lock of {what} left by fz ({}), which is no longer running",
                    describe(&previous)
                ));
            }
            write_holder(&mut file).map_err(|e| Error::io(&path, e))?;
            return Ok(DirLock { file, path });
        }
        Err(Error::Busy(format!(
            "{what}: could not take the lock {}",
            path.display()
        )))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Removed while still held, so no one can lock the old file after
        // we leave it (a newcomer checks it locked the file at the path).
        let _ = fs::remove_file(&self.path);
        let _ = self.file.set_len(0);
    }
}

fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(false)` when another process holds it.
fn try_flock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        _ => Err(err),
    }
}

fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn read_all(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut text);
    text
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    let started = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S");
    let text = format!(
        "pid={}\nhost={}\nstarted={started}\n",
        std::process::id(),
        super::journal::host_name()
    );
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// The holder as the refusal names it. The holder writes its line just
/// after locking, so an empty file is read again for a moment.
fn holder_of(file: &mut File) -> String {
    for _ in 0..20 {
        let text = read_all(file);
        if text.contains("pid=") {
            return describe(&text);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    "pid unknown".to_string()
}

/// `pid 1234, started 12:03:04` (with `on <host>` when it is another).
fn describe(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    let started = field("started");
    let clock = started.split('T').nth(1).unwrap_or(&started).to_string();
    let host = field("host");
    let mut out = format!("pid {}", field("pid"));
    if host != super::journal::host_name() {
        out.push_str(&format!(" on {host}"));
    }
    out.push_str(&format!(", started {clock}"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_lock_is_released_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("results");
        let first = DirLock::acquire(&dir, "results directory 'results'", "-r").unwrap();
        let lock = lock_path(&dir);
        assert!(lock.is_file());
        // flock locks belong to the open file: a second open in the same
        // process conflicts just as another process would.
        let err = DirLock::acquire(&dir, "results directory 'results'", "-r").unwrap_err();
        let msg = err.to_string();
        let pid = std::process::id();
        assert!(
            msg.starts_with(&format!(
                "results directory 'results' is in use by fz (pid {pid}, started "
            )),
            "{msg}"
        );
        assert!(
            msg.ends_with("); wait for it or choose another -r"),
            "{msg}"
        );
        drop(first);
        assert!(!lock.exists());
        let again = DirLock::acquire(&dir, "results directory 'results'", "-r");
        assert!(again.is_ok());
    }

    #[test]
    fn stale_lock_file_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("results");
        fs::write(
            lock_path(&dir),
            "pid=999999\nhost=elsewhere\nstarted=2020-01-01T01:02:03\n",
        )
        .unwrap();
        let lock = DirLock::acquire(&dir, "results directory 'results'", "-r").unwrap();
        let text = fs::read_to_string(lock_path(&dir)).unwrap();
        assert!(
            text.starts_with(&format!("pid={}\n", std::process::id())),
            "{text}"
        );
        drop(lock);
    }

    #[test]
    fn describe_names_another_host() {
        let text = "pid=12\nhost=far-away-host\nstarted=2026-01-02T12:03:04\n";
        assert_eq!(describe(text), "pid 12 on far-away-host, started 12:03:04");
    }
}
