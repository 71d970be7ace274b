//! Grouped transfers of case directories over one [`Session`]: many case
//! directories sent in one ssh command, many fetched back (and removed)
//! in another.
//!
//! This module owns the group commit ([`Batcher`]: a request arriving
//! while a transfer of its kind is in flight waits and goes with the next
//! one; an idle session sends at once), the archive of an upload (built
//! here with the `tar` crate, case `i` under `i/`), the framed stream of a
//! download (one remote `tar -c` per case between 512-byte marker blocks)
//! and its safe unpacking into each case's local directory, and the two
//! remote scripts. Each case gets its own result: one case's failure (a
//! remote directory that cannot be created, a local file that cannot be
//! read or written, a hostile entry) fails that case only; a lost
//! connection fails every case of the batch with the usual classified
//! error. It knows nothing of SLURM nor of runs: the calculators decide
//! what to send and when.
//!
//! Unpacking refuses absolute paths, `..` components and links (symbolic
//! or hard) that would point outside the case directory; what the tar
//! crate writes is checked again against the canonical case directory.

use super::errors::SshError;
use super::session::{check_transfer, drain, RemoteDir, Session, Upload};
use std::collections::{HashMap, VecDeque};
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

/// Most case directories in one transfer: bounds the remote command line
/// (one path per case) and what one lost connection costs.
pub(crate) const MAX_CASES: usize = 64;

/// Bytes of file data beyond which no other case joins an upload (a larger
/// case still goes, alone): a big case does not hold many small ones back.
pub(crate) const MAX_BYTES: u64 = 64 << 20;

/// Size of a tar block, and of the marker blocks of a download stream.
const BLOCK: usize = 512;

// ---------------------------------------------------------------------------
// Group commit

/// A group commit: callers hand over one item each and get its result;
/// the items that arrive while a batch is being processed go together in
/// the next batch, processed by one of their callers. No caller waits
/// when nothing is in flight.
pub(crate) struct Batcher<T, R> {
    line: Mutex<Line<T, R>>,
    changed: Condvar,
    max_items: usize,
    max_weight: u64,
}

/// The waiting items (id, weight, item), the results not yet taken, and
/// whether a batch is in flight.
struct Line<T, R> {
    waiting: VecDeque<(u64, u64, T)>,
    done: HashMap<u64, R>,
    busy: bool,
    next_id: u64,
}

impl<T, R> std::fmt::Debug for Batcher<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("max_items", &self.max_items)
            .field("max_weight", &self.max_weight)
            .finish_non_exhaustive()
    }
}

impl<T, R> Batcher<T, R> {
    /// A batcher putting at most `max_items` items, and no more than
    /// `max_weight` of weight (unless a single item weighs more), in one
    /// batch.
    pub(crate) fn new(max_items: usize, max_weight: u64) -> Self {
        Batcher {
            line: Mutex::new(Line {
                waiting: VecDeque::new(),
                done: HashMap::new(),
                busy: false,
                next_id: 0,
            }),
            changed: Condvar::new(),
            max_items: max_items.max(1),
            max_weight,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Line<T, R>> {
        self.line.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands over `item` (of `weight`) and returns its result. When no
    /// batch is in flight this caller processes one at once with `run`
    /// (the oldest waiting items, its own among them unless the line is
    /// longer than a batch); otherwise it waits. `run` returns one result
    /// per item, in order; an item left without one (a short answer, a
    /// panic in `run`) gets `lost()`.
    pub(crate) fn submit(
        &self,
        item: T,
        weight: u64,
        run: impl Fn(Vec<T>) -> Vec<R>,
        lost: impl Fn() -> R,
    ) -> R {
        let mut line = self.lock();
        let id = line.next_id;
        line.next_id += 1;
        line.waiting.push_back((id, weight, item));
        loop {
            if let Some(r) = line.done.remove(&id) {
                return r;
            }
            if line.busy {
                line = self.changed.wait(line).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            line.busy = true;
            let (ids, items) = self.take(&mut line);
            drop(line);
            let mut flight = Flight {
                batcher: self,
                ids,
                results: Vec::new(),
                lost: &lost,
            };
            flight.results = run(items);
            drop(flight);
            line = self.lock();
        }
    }

    /// The next batch: the oldest items within the bounds (at least one).
    fn take(&self, line: &mut Line<T, R>) -> (Vec<u64>, Vec<T>) {
        let (mut ids, mut items, mut weight) = (Vec::new(), Vec::new(), 0u64);
        while let Some((_, w, _)) = line.waiting.front() {
            let full = items.len() >= self.max_items
                || (!items.is_empty() && weight.saturating_add(*w) > self.max_weight);
            if full {
                break;
            }
            if let Some((id, w, item)) = line.waiting.pop_front() {
                weight = weight.saturating_add(w);
                ids.push(id);
                items.push(item);
            }
        }
        (ids, items)
    }
}

/// A batch in flight: when dropped (normally or while unwinding) its
/// results are handed out and the next batch may start.
struct Flight<'a, T, R, L: Fn() -> R> {
    batcher: &'a Batcher<T, R>,
    ids: Vec<u64>,
    results: Vec<R>,
    lost: &'a L,
}

impl<T, R, L: Fn() -> R> Drop for Flight<'_, T, R, L> {
    fn drop(&mut self) {
        let mut results = std::mem::take(&mut self.results).into_iter();
        let mut line = self.batcher.lock();
        for id in self.ids.drain(..) {
            let r = results.next().unwrap_or_else(self.lost);
            line.done.insert(id, r);
        }
        line.busy = false;
        self.batcher.changed.notify_all();
    }
}

/// How many case directories went each way, and in how many ssh
/// commands (reported when the session closes).
#[derive(Debug, Default)]
pub(crate) struct Counts {
    sent: AtomicU64,
    sends: AtomicU64,
    fetched: AtomicU64,
    fetches: AtomicU64,
}

impl Counts {
    /// One line for the log, `None` when nothing was transferred.
    pub(crate) fn summary(&self, who: &str) -> Option<String> {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (sent, fetched) = (get(&self.sent), get(&self.fetched));
        if sent == 0 && fetched == 0 {
            return None;
        }
        Some(format!(
            "SSH transfers with {who}: {sent} case directories sent in {} transfers, \
             {fetched} fetched back or removed in {} transfers",
            get(&self.sends),
            get(&self.fetches)
        ))
    }
}

// ---------------------------------------------------------------------------
// Upload

/// One case directory to send (what an [`Upload`] names, owned), with its
/// entries listed beforehand so that an unreadable directory fails that
/// case alone.
#[derive(Debug)]
pub(crate) struct UploadJob {
    remote: RemoteDir,
    dir: PathBuf,
    /// Paths relative to `dir`, parents first; symlinks not followed.
    entries: Vec<PathBuf>,
    extra_base: PathBuf,
    extra_files: Vec<PathBuf>,
    /// File data to send, in bytes.
    pub(crate) bytes: u64,
}

impl UploadJob {
    /// Lists what `upload` sends to `remote`. Errors: a directory that
    /// cannot be read, an extra file missing or not a plain relative path.
    pub(crate) fn new(upload: &Upload, remote: &RemoteDir) -> Result<UploadJob, String> {
        let mut entries = Vec::new();
        let mut bytes = 0;
        list_tree(upload.dir, Path::new(""), &mut entries, &mut bytes)
            .map_err(|e| format!("could not read {}: {e}", upload.dir.display()))?;
        let mut extra_files = Vec::new();
        for f in upload.extra_files {
            let rel = plain_relative(Path::new(f))
                .filter(|p| !p.as_os_str().is_empty())
                .ok_or_else(|| {
                    format!("'{f}' is not a relative path inside the launch directory")
                })?;
            let path = upload.extra_base.join(&rel);
            let meta = std::fs::metadata(&path)
                .map_err(|e| format!("could not read {}: {e}", path.display()))?;
            bytes += meta.len();
            extra_files.push(rel);
        }
        Ok(UploadJob {
            remote: remote.clone(),
            dir: upload.dir.to_path_buf(),
            entries,
            extra_base: upload.extra_base.to_path_buf(),
            extra_files,
            bytes,
        })
    }
}

/// Appends the entries of `root/rel` (sorted, directories before their
/// contents) to `out`, adding file sizes to `bytes`. Symlinks are listed,
/// not followed; sockets, fifos and devices are left out.
fn list_tree(root: &Path, rel: &Path, out: &mut Vec<PathBuf>, bytes: &mut u64) -> io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(root.join(rel))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()?;
    names.sort();
    for name in names {
        let child = rel.join(&name);
        let meta = std::fs::symlink_metadata(root.join(&child))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            out.push(child.clone());
            list_tree(root, &child, out, bytes)?;
        } else if kind.is_file() || kind.is_symlink() {
            *bytes += meta.len();
            out.push(child);
        }
    }
    Ok(())
}

/// A writer remembering whether writing failed (the remote end went
/// away), to tell that from a local file that could not be read.
struct Watched<W> {
    inner: W,
    broken: bool,
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.broken |= r.is_err();
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.broken |= r.is_err();
        r
    }
}

/// Writes the archive of `jobs` to `out`: job `i`'s tree under `i/`, then
/// its extra files at their relative paths under `i/`, modes kept,
/// symlinks as symlinks. Returns, per job, why it is incomplete (a local
/// file that could not be read: the archive stays valid, that case
/// fails); an error writing to `out` ends it all.
pub(crate) fn write_upload<W: Write>(
    out: W,
    jobs: &[UploadJob],
) -> io::Result<Vec<Option<String>>> {
    let mut tar = tar::Builder::new(Watched {
        inner: out,
        broken: false,
    });
    tar.follow_symlinks(false);
    let mut failed = vec![None; jobs.len()];
    for (i, job) in jobs.iter().enumerate() {
        let top = PathBuf::from(i.to_string());
        let mut items: Vec<(PathBuf, PathBuf)> = vec![(job.dir.clone(), top.clone())];
        items.extend(job.entries.iter().map(|e| (job.dir.join(e), top.join(e))));
        items.extend(
            job.extra_files
                .iter()
                .map(|f| (job.extra_base.join(f), top.join(f))),
        );
        for (path, name) in items {
            if let Err(e) = tar.append_path_with_name(&path, &name) {
                if tar.get_ref().broken {
                    return Err(e);
                }
                failed[i].get_or_insert_with(|| format!("could not read {}: {e}", path.display()));
            }
        }
    }
    tar.into_inner()?.flush()?;
    Ok(failed)
}

/// `$1` a fresh staging directory, `$2…` the case directories (relative
/// to the home directory). Standard input: the archive, case `i` under
/// `i/`. Unpacks it in the staging directory, moves each case to its
/// place (merged into it if it exists) and prints `ok <i>` or
/// `fail <i> <reason>` for each; exits 125 when the archive could not be
/// unpacked.
const UNPACK_BATCH_SCRIPT: &str = r#"s="$HOME/$1"; shift
mkdir -p "$s" && cd "$s" && tar -xf - || { echo "fz: could not unpack the files in $s" >&2; cd /; rm -rf -- "$s"; exit 125; }
cd /
put() {
  [ -d "$1" ] || { echo "not in the archive"; return 1; }
  if [ -e "$2" ] || [ -L "$2" ]; then cp -pR "$1/." "$2/"; else mkdir -p "${2%/*}" && mv -- "$1" "$2"; fi
}
i=0
for d; do
  if e=$(put "$s/$i" "$HOME/$d" 2>&1); then echo "ok $i"
  else printf 'fail %s %s\n' "$i" "$(printf '%s' "$e" | tr '\n' ' ')"; fi
  i=$((i+1))
done
rm -rf -- "$s"
exit 0"#;

/// Per case, what [`UNPACK_BATCH_SCRIPT`] printed: `Ok`, or the reason.
fn parse_unpacked(text: &str, n: usize) -> Vec<Option<Result<(), String>>> {
    let mut found = vec![None; n];
    for line in text.lines() {
        let mut words = line.splitn(3, ' ');
        let (kind, i) = (
            words.next(),
            words.next().and_then(|i| i.parse::<usize>().ok()),
        );
        let (Some(kind), Some(i)) = (kind, i) else {
            continue;
        };
        let Some(slot) = found.get_mut(i) else {
            continue;
        };
        match kind {
            "ok" => *slot = Some(Ok(())),
            "fail" => *slot = Some(Err(words.next().unwrap_or("").trim().to_string())),
            _ => {}
        }
    }
    found
}

/// Sends `jobs` to their remote directories in one ssh command; one
/// result per job.
pub(crate) fn send(session: &Session, jobs: Vec<UploadJob>) -> Vec<Result<(), SshError>> {
    let n = jobs.len();
    session.counts.sent.fetch_add(n as u64, Ordering::Relaxed);
    session.counts.sends.fetch_add(1, Ordering::Relaxed);
    crate::log::debug(&format!(
        "ssh: sending {n} case directories to {} in one transfer",
        session.target().display()
    ));
    let staging = RemoteDir::unique("up");
    let mut args = vec![staging.relative().to_string()];
    args.extend(jobs.iter().map(|j| j.remote.relative().to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut cmd, _pass) = match session.channel(UNPACK_BATCH_SCRIPT, &argv) {
        Ok(c) => c,
        Err(e) => return vec![Err(e); n],
    };
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut ssh = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return vec![Err(session.spawn_error(e)); n],
    };
    let stdin = ssh.stdin.take();
    let out = drain(ssh.stdout.take());
    let err = drain(ssh.stderr.take());
    let remotes: Vec<RemoteDir> = jobs.iter().map(|j| j.remote.clone()).collect();
    let dirs: Vec<PathBuf> = jobs.iter().map(|j| j.dir.clone()).collect();
    // Written on a thread: the remote side prints while it reads.
    let writer = std::thread::spawn(move || match stdin {
        Some(pipe) => write_upload(pipe, &jobs),
        None => Err(io::Error::other("no pipe to ssh")),
    });
    let status = ssh.wait().ok();
    let packed = writer
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("panic")));
    let said = parse_unpacked(&String::from_utf8_lossy(&out.join().unwrap_or_default()), n);
    let err = err.join().unwrap_or_default();
    let who = session.target().display();
    (0..n)
        .map(|i| {
            if let Ok(failed) = &packed {
                if let Some(why) = &failed[i] {
                    return Err(SshError::Other(format!(
                        "SSH file transfer error: could not pack the files of {}: {why}",
                        dirs[i].display()
                    )));
                }
            }
            match &said[i] {
                Some(Ok(())) => Ok(()),
                Some(Err(why)) => Err(SshError::Other(format!(
                    "SSH file transfer error: upload to {who}:{} failed: {why}",
                    remotes[i].display()
                ))),
                None => {
                    let tar_err = match &packed {
                        Err(e) => format!("could not pack the files: {e}"),
                        Ok(_) => String::new(),
                    };
                    whole_batch_error(session, "upload to", &remotes[i], &tar_err, status, &err)
                }
            }
        })
        .collect()
}

/// The error of a case the remote side said nothing about: the batch
/// failed as a whole (connection, remote tar).
fn whole_batch_error(
    session: &Session,
    what: &str,
    remote: &RemoteDir,
    local_err: &str,
    status: Option<std::process::ExitStatus>,
    ssh_err: &[u8],
) -> Result<(), SshError> {
    let local_err = if local_err.is_empty() && ssh_err.is_empty() {
        "no answer for this directory"
    } else {
        local_err
    };
    let failed = check_transfer(
        what,
        session.target(),
        remote,
        None,
        local_err.as_bytes(),
        status,
        ssh_err,
    );
    // check_transfer fails without a local exit status: never Ok.
    failed.and(Err(SshError::Other(format!(
        "SSH file transfer error: {what} {}:{} failed: no answer",
        session.target().display(),
        remote.display()
    ))))
}

// ---------------------------------------------------------------------------
// Download

/// One remote case directory to fetch back and/or remove.
#[derive(Debug, Clone)]
pub(crate) struct FetchJob {
    pub(crate) remote: RemoteDir,
    /// Where its tree goes; `None`: only removed.
    pub(crate) local: Option<PathBuf>,
    /// Relative paths left out (with what is under them).
    pub(crate) exclude: Vec<String>,
    /// Remove the remote directory afterwards (also when fetching failed).
    pub(crate) remove: bool,
}

impl FetchJob {
    /// What the remote script does with it: `f` fetch, `fr` fetch and
    /// remove, `r` remove, `-` nothing but its pid file.
    fn how(&self) -> &'static str {
        match (self.local.is_some(), self.remove) {
            (true, false) => "f",
            (true, true) => "fr",
            (false, true) => "r",
            (false, false) => "-",
        }
    }
}

/// `$1 $2`, `$3 $4`…: a case directory (relative to the home directory)
/// and what to do with it (see [`FetchJob::how`]). For case `i`, prints a
/// 512-byte block `fz-case <i>` followed by the tar of its tree (when
/// fetched), then a block `fz-end <i> <code>` (tar's exit code, or rm's
/// when only removed; 125 when the directory is missing). tar's messages
/// go to stderr as `fz-case <i>: …`. The pid file is removed in any case.
const PACK_BATCH_SCRIPT: &str = r#"exec 3>&1
i=0
while [ "$#" -ge 2 ]; do
  d="$HOME/$1"; how=$2; shift 2; rc=0; e=
  case $how in
  f*) if cd "$d" 2>/dev/null; then
        printf '%-511s\n' "fz-case $i"
        e=$(tar -cf - . 2>&1 >&3); rc=$?
        cd /
      else e="no such directory: $d"; rc=125; fi;;
  esac
  case $how in
  r) e=$(rm -rf -- "$d" "$d.pid" 2>&1); rc=$?;;
  fr) rm -rf -- "$d" "$d.pid";;
  *) rm -f -- "$d.pid";;
  esac
  [ -n "$e" ] && printf '%s\n' "$e" | sed "s/^/fz-case $i: /" >&2
  printf '%-511s\n' "fz-end $i $rc"
  i=$((i+1))
done
exit 0"#;

/// What the stream said about one case: the remote exit code, and why
/// unpacking failed locally if it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fetched {
    pub(crate) code: i32,
    pub(crate) local_error: Option<String>,
}

/// Reads what [`PACK_BATCH_SCRIPT`] printed for `jobs`, unpacking case
/// `i`'s archive into `jobs[i].local`. Returns per job what the stream
/// said (`None`: nothing, the stream ended or broke before), and why the
/// stream broke if it did (then what follows is not read).
pub(crate) fn read_fetched<R: Read>(
    input: R,
    jobs: &[FetchJob],
) -> (Vec<Option<Fetched>>, Option<String>) {
    let mut input = BufReader::new(input);
    let mut said: Vec<Option<Fetched>> = vec![None; jobs.len()];
    let mut unpacked: Vec<Option<Result<(), String>>> = vec![None; jobs.len()];
    let mask = umask();
    let mut block = [0u8; BLOCK];
    loop {
        match read_block(&mut input, &mut block) {
            Ok(false) => return (said, None),
            Ok(true) => {}
            Err(e) => return (said, Some(format!("could not read the transfer: {e}"))),
        }
        if block.iter().all(|b| *b == 0) {
            // The padding of the last archive.
            continue;
        }
        let marker = match parse_marker(&block, jobs.len()) {
            Some(m) => m,
            None => return (said, Some("unexpected data in the transfer".to_string())),
        };
        match marker {
            Marker::Case(i) => {
                let Some(local) = jobs[i].local.as_deref() else {
                    return (said, Some(format!("an archive for case {i}, not asked")));
                };
                match unpack_case(&mut input, local, &jobs[i].exclude, mask) {
                    Ok(result) => unpacked[i] = Some(result),
                    Err(e) => {
                        said[i] = Some(Fetched {
                            code: -1,
                            local_error: Some(format!("broken archive: {e}")),
                        });
                        return (said, Some(format!("broken archive: {e}")));
                    }
                }
            }
            Marker::End(i, code) => {
                let local_error = match unpacked[i].take() {
                    Some(Err(e)) => Some(e),
                    Some(Ok(())) => None,
                    None if code == 0 && jobs[i].local.is_some() => {
                        Some("no archive came".to_string())
                    }
                    None => None,
                };
                said[i] = Some(Fetched { code, local_error });
            }
        }
    }
}

/// A marker block of the download stream.
enum Marker {
    Case(usize),
    End(usize, i32),
}

/// `fz-case <i>` or `fz-end <i> <code>` (padded with spaces, newline), `i`
/// below `n`.
fn parse_marker(block: &[u8; BLOCK], n: usize) -> Option<Marker> {
    let text = std::str::from_utf8(block).ok()?;
    let mut words = text.split_ascii_whitespace();
    let kind = words.next()?;
    let i: usize = words.next()?.parse().ok().filter(|i| *i < n)?;
    match (kind, words.next(), words.next()) {
        ("fz-case", None, _) => Some(Marker::Case(i)),
        ("fz-end", Some(code), None) => Some(Marker::End(i, code.parse().ok()?)),
        _ => None,
    }
}

/// Reads one whole block; `false` at the end of the stream.
fn read_block<R: Read>(input: &mut R, block: &mut [u8; BLOCK]) -> io::Result<bool> {
    let mut got = 0;
    while got < BLOCK {
        match input.read(&mut block[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut block")),
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Unpacks one archive from `input` into `dest`, leaving out `exclude`.
/// The outer error: the archive is broken (the stream cannot be followed
/// further); the inner one: an entry was refused or could not be
/// written (the rest of the archive is read through and left out, so the
/// stream stays in step).
fn unpack_case<R: Read>(
    input: &mut R,
    dest: &Path,
    exclude: &[String],
    mask: u32,
) -> io::Result<Result<(), String>> {
    let mut archive = tar::Archive::new(input);
    archive.set_mask(mask);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    let mut first_error = None;
    for entry in archive.entries()? {
        let mut entry = entry?;
        if first_error.is_some() {
            continue;
        }
        if let Err(e) = place_entry(&mut entry, dest, exclude) {
            first_error = Some(e);
        }
    }
    Ok(first_error.map_or(Ok(()), Err))
}

/// Writes one entry under `dest` after checking it (see the module
/// documentation); entries under an excluded path, and fifos or devices,
/// are skipped.
fn place_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    dest: &Path,
    exclude: &[String],
) -> Result<(), String> {
    let raw = entry.path().map_err(|e| e.to_string())?.into_owned();
    let refused = |why: &str| format!("refused the entry '{}': {why}", raw.display());
    let rel = plain_relative(&raw).ok_or_else(|| refused("absolute path or '..'"))?;
    if rel.as_os_str().is_empty() || excluded(&rel, exclude) {
        return Ok(());
    }
    let kind = entry.header().entry_type();
    if kind.is_symlink() || kind.is_hard_link() {
        let target = entry
            .link_name()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| refused("a link without target"))?;
        let inside = if kind.is_symlink() {
            symlink_stays_inside(&rel, &target)
        } else {
            plain_relative(&target).is_some_and(|t| !t.as_os_str().is_empty())
        };
        if !inside {
            return Err(refused(&format!(
                "a link to '{}', outside the case directory",
                target.display()
            )));
        }
    } else if !(kind.is_file() || kind.is_dir() || kind.is_contiguous() || kind.is_gnu_sparse()) {
        return Ok(());
    }
    match entry.unpack_in(dest) {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused("outside the case directory")),
        Err(e) => Err(format!(
            "could not write {}: {e}",
            dest.join(&rel).display()
        )),
    }
}

/// `path` without `.` components when it is relative and has no `..`;
/// `None` otherwise.
fn plain_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Whether a symlink at `rel` pointing to `target` stays inside the
/// directory `rel` is relative to (resolved by name, as the link will be).
fn symlink_stays_inside(rel: &Path, target: &Path) -> bool {
    let mut depth: Vec<&std::ffi::OsStr> = rel
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(p) => Some(p),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    for c in target.components() {
        match c {
            Component::Normal(p) => depth.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Whether `rel` is one of `exclude` or under one.
fn excluded(rel: &Path, exclude: &[String]) -> bool {
    exclude.iter().any(|e| {
        plain_relative(Path::new(e))
            .is_some_and(|e| !e.as_os_str().is_empty() && rel.starts_with(e))
    })
}

/// The file mode creation mask of this process (as `tar -x` applies it),
/// read from `/proc/self/status`; 022 where that is not available.
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Fetches back and/or removes `jobs` in one ssh command; one result per
/// job.
pub(crate) fn fetch(session: &Session, jobs: Vec<FetchJob>) -> Vec<Result<(), SshError>> {
    let n = jobs.len();
    session
        .counts
        .fetched
        .fetch_add(n as u64, Ordering::Relaxed);
    session.counts.fetches.fetch_add(1, Ordering::Relaxed);
    crate::log::debug(&format!(
        "ssh: fetching back or removing {n} case directories on {} in one transfer",
        session.target().display()
    ));
    let mut args = Vec::new();
    for j in &jobs {
        args.push(j.remote.relative().to_string());
        args.push(j.how().to_string());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut cmd, _pass) = match session.channel(PACK_BATCH_SCRIPT, &argv) {
        Ok(c) => c,
        Err(e) => return vec![Err(e); n],
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut ssh = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return vec![Err(session.spawn_error(e)); n],
    };
    let err = drain(ssh.stderr.take());
    let (said, broken) = match ssh.stdout.take() {
        Some(out) => read_fetched(out, &jobs),
        None => (vec![None; n], Some("no pipe from ssh".to_string())),
    };
    if broken.is_some() {
        // Nothing more is read: do not let ssh block on a full pipe.
        let _ = ssh.kill();
    }
    let status = ssh.wait().ok();
    let err = err.join().unwrap_or_default();
    let messages = case_messages(&String::from_utf8_lossy(&err));
    let who = session.target().display();
    jobs.iter()
        .enumerate()
        .map(|(i, job)| {
            let failed = |why: String| {
                let what = if job.local.is_some() {
                    "download from"
                } else {
                    "removal of"
                };
                Err(SshError::Other(format!(
                    "SSH file transfer error: {what} {who}:{} failed: {why}",
                    job.remote.display()
                )))
            };
            match &said[i] {
                Some(Fetched {
                    local_error: Some(e),
                    ..
                }) => failed(e.clone()),
                Some(Fetched { code: 0, .. }) => Ok(()),
                Some(Fetched { code, .. }) => failed(
                    messages
                        .get(&i)
                        .cloned()
                        .unwrap_or_else(|| format!("exit code {code}")),
                ),
                None => whole_batch_error(
                    session,
                    "download from",
                    &job.remote,
                    broken.as_deref().unwrap_or(""),
                    status,
                    &err,
                ),
            }
        })
        .collect()
}

/// The `fz-case <i>: …` lines of stderr, joined per case.
fn case_messages(stderr: &str) -> HashMap<usize, String> {
    let mut found: HashMap<usize, String> = HashMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("fz-case ") else {
            continue;
        };
        let Some((i, text)) = rest.split_once(": ") else {
            continue;
        };
        if let Ok(i) = i.parse() {
            let m = found.entry(i).or_default();
            if !m.is_empty() {
                m.push_str("; ");
            }
            m.push_str(text.trim());
        }
    }
    found
}

#[cfg(test)]
mod tests;
