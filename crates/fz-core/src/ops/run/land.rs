//! Landing a finished case: its bookkeeping files (`info.txt`,
//! `history.txt`, `.fz_hash`) written into its work directory, which then
//! moves into the results directory in one rename.
//!
//! The `.fz_hash` text of a compiled case waits in memory
//! ([`PendingHashes`]) while the case runs, so the calculator's working
//! directory holds the input files alone, as with funz-fz; it is written
//! only as the case lands, so a case in the results always has it and a
//! crash before the rename leaves it in the work area only (removed by the
//! next run). This module does not decide a case's status nor its rows
//! (`batch.rs`).

use super::super::case_writer::CompiledCase;
use crate::cache::hashfile::{parse as parse_hash, HashLine, HASH_FILE};
use crate::cache::index::Stamp;
use crate::error::{Error, Result};
use crate::fsutil::rename_noreplace;
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The `.fz_hash` texts of the compiled cases that have not landed yet,
/// by case index: about one chunk of waiting cases plus the running ones.
#[derive(Default)]
pub(super) struct PendingHashes(Mutex<HashMap<usize, String>>);

impl PendingHashes {
    fn map(&self) -> MutexGuard<'_, HashMap<usize, String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the texts of `compiled`, the cases from index `first` on.
    pub fn keep(&self, first: usize, compiled: Vec<CompiledCase>) {
        let mut map = self.map();
        for (k, case) in compiled.into_iter().enumerate() {
            if let Some(text) = case.hash {
                map.insert(first + k, text);
            }
        }
    }

    /// The hash lines of case `i`, while it waits or runs.
    pub fn lines(&self, i: usize) -> Option<Vec<HashLine>> {
        self.map().get(&i).map(|text| parse_hash(text))
    }

    /// Takes the text of case `i` (it lands, or will never land).
    pub fn take(&self, i: usize) -> Option<String> {
        self.map().remove(&i)
    }
}

/// The bookkeeping files a finished case lands with.
pub(super) struct CaseFiles<'t> {
    /// `info.txt`.
    pub info: &'t str,
    /// `history.txt`.
    pub history: &'t str,
    /// `.fz_hash`, as compiled.
    pub hash: &'t str,
}

/// Writes the bookkeeping files of a finished case into `work_dir` and
/// moves it to `final_dir` (never replacing a directory); the stamp of its
/// `.fz_hash` as landed, for the results directory's cache index (the
/// directory's rename leaves it as written). `into_results`: the single
/// case of a design without variables, whose files go into the results
/// directory `final_dir` itself, one rename each, `.fz_hash` last (a case
/// directory is a cache entry only once its hash is there); no stamp then.
pub(super) fn land(
    work_dir: &Path,
    final_dir: &Path,
    into_results: bool,
    files: &CaseFiles<'_>,
) -> Result<Option<Stamp>> {
    let write = |name: &str, text: &str| {
        let path = work_dir.join(name);
        fs::File::create(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()).map(|()| f))
            .map_err(|e| Error::io(&path, e))
    };
    write("info.txt", files.info)?;
    write("history.txt", files.history)?;
    let stamp = Stamp::of_file(&write(HASH_FILE, files.hash)?);
    if !into_results {
        rename_noreplace(work_dir, final_dir).map_err(|e| Error::io(final_dir, e))?;
        return Ok(stamp);
    }
    let entries = fs::read_dir(work_dir).map_err(|e| Error::io(work_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(work_dir, e))?;
        if entry.file_name() != HASH_FILE {
            let target = final_dir.join(entry.file_name());
            fs::rename(entry.path(), &target).map_err(|e| Error::io(&target, e))?;
        }
    }
    let target = final_dir.join(HASH_FILE);
    fs::rename(work_dir.join(HASH_FILE), &target).map_err(|e| Error::io(&target, e))?;
    fs::remove_dir(work_dir).map_err(|e| Error::io(work_dir, e))?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testutil::names;
    use std::path::PathBuf;

    const HASH: &str = "0123456789abcdef0123456789abcdef  in.txt\n";

    fn files() -> CaseFiles<'static> {
        CaseFiles {
            info: "state=done\n",
            history: "# x=1\n",
            hash: HASH,
        }
    }

    fn work_case(root: &Path) -> PathBuf {
        let work = root.join("work/x=1");
        fs::create_dir_all(&work).unwrap();
        fs::write(work.join("in.txt"), "x=1\n").unwrap();
        fs::write(work.join("out.txt"), "y=2\n").unwrap();
        work
    }

    #[test]
    fn a_landed_case_has_its_hash_and_bookkeeping_files() {
        let d = tempfile::tempdir().unwrap();
        let work = work_case(d.path());
        fs::create_dir(d.path().join("results")).unwrap();
        let dest = d.path().join("results/x=1");
        let stamp = land(&work, &dest, false, &files()).unwrap();
        assert!(!work.exists());
        let hash = fs::File::open(dest.join(".fz_hash")).unwrap();
        assert_eq!(stamp, Stamp::of_file(&hash), "stamped as landed");
        assert_eq!(
            names(&dest),
            [".fz_hash", "history.txt", "in.txt", "info.txt", "out.txt"]
        );
        assert_eq!(fs::read_to_string(dest.join(".fz_hash")).unwrap(), HASH);
        assert_eq!(
            fs::read_to_string(dest.join("info.txt")).unwrap(),
            "state=done\n"
        );
    }

    #[test]
    fn a_case_that_cannot_land_stays_in_the_work_area_whole() {
        let d = tempfile::tempdir().unwrap();
        let work = work_case(d.path());
        let dest = d.path().join("results/x=1");
        fs::create_dir_all(&dest).unwrap();
        let err = land(&work, &dest, false, &files()).unwrap_err().to_string();
        assert!(err.contains("results/x=1"), "{err}");
        // Nothing of it reached the results; the work copy is complete.
        assert!(names(&dest).is_empty());
        assert_eq!(fs::read_to_string(work.join(".fz_hash")).unwrap(), HASH);
    }

    #[test]
    fn the_single_case_lands_into_the_results_directory_itself() {
        let d = tempfile::tempdir().unwrap();
        let work = work_case(d.path());
        let results = d.path().join("results");
        fs::create_dir(&results).unwrap();
        fs::write(results.join("summary.csv"), "y\n").unwrap();
        assert_eq!(land(&work, &results, true, &files()).unwrap(), None);
        assert!(!work.exists());
        assert_eq!(
            names(&results),
            [
                ".fz_hash",
                "history.txt",
                "in.txt",
                "info.txt",
                "out.txt",
                "summary.csv"
            ]
        );
        assert_eq!(fs::read_to_string(results.join(".fz_hash")).unwrap(), HASH);
    }

    #[test]
    fn pending_hashes_are_kept_by_case_index_and_taken_once() {
        let pending = PendingHashes::default();
        let case = |hash: Option<&str>| CompiledCase {
            dir: PathBuf::from("w"),
            hash: hash.map(str::to_string),
        };
        pending.keep(10, vec![case(Some(HASH)), case(None)]);
        let lines = pending.lines(10).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].path, "in.txt");
        assert!(pending.lines(11).is_none());
        assert_eq!(pending.take(10).as_deref(), Some(HASH));
        assert!(pending.take(10).is_none());
    }
}
