//! Whether an earlier case directory can stand for a new case: same
//! inputs, recorded as `done`, its files intact and its outputs readable.
//! Used by the cache phase and by `--resume`; reads only, never copies.

use crate::cache::hashfile::{parse as parse_hash, HashLine, HASH_FILE};
use crate::cache::lookup::{damaged_listed, key_digest, recorded_state, CacheIndex, CacheTier};
use crate::log;
use crate::model::Model;
use crate::Value;
use indexmap::IndexMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The outputs of an earlier case directory when it can stand for a new
/// case: recorded as `done`, its listed files intact (not truncated
/// mid-copy nor edited), and every model output readable in place (so a
/// rejected candidate leaves nothing behind). `None`, with the reason at
/// DEBUG level, otherwise.
pub(super) fn reusable(
    dir: &Path,
    shown: &str,
    lines: &[HashLine],
    model: &Model,
    output_timeout: Option<Duration>,
) -> Option<IndexMap<String, Value>> {
    if recorded_state(dir).as_deref() != Some("done") {
        log::debug(&format!(
            "cached case {shown} rejected: not recorded as done"
        ));
        return None;
    }
    let (missing, changed) = damaged_listed(dir, lines);
    if !missing.is_empty() || !changed.is_empty() {
        log::debug(&format!(
            "cached case {shown} rejected: files missing {missing:?} or changed {changed:?}"
        ));
        return None;
    }
    let got = crate::outputs::extract(dir, shown, &model.output, output_timeout);
    if got.values.values().any(|v| *v == Value::Null) {
        log::debug(&format!("cached case {shown} rejected: missing outputs"));
        return None;
    }
    Some(got.values)
}

/// An accepted cached case.
pub(super) struct Hit {
    /// The cached case directory.
    pub dir: PathBuf,
    /// The URI of the tier it was found through.
    pub uri: String,
    /// Its outputs, read in place.
    pub outputs: IndexMap<String, Value>,
    /// Its `.fz_hash` lines (the new case's compiled inputs).
    pub lines: Vec<HashLine>,
}

/// The first acceptable cached case for a case compiled with the hash
/// lines `compiled` (see [`reusable`]).
pub(super) fn cache_hit(
    index: &CacheIndex,
    tiers: &[CacheTier],
    compiled: &[HashLine],
    model: &Model,
    output_timeout: Option<Duration>,
    cwd: &Path,
) -> Option<Hit> {
    let key = key_digest(compiled);
    for candidate in index.candidates(&key) {
        let shown = crate::results::display_path(&candidate.dir, cwd);
        // The map may come from a results-directory index: the candidate's
        // own .fz_hash, read now, has the last word.
        let lines = fs::read_to_string(candidate.dir.join(HASH_FILE))
            .map(|t| parse_hash(&t))
            .unwrap_or_default();
        if lines.is_empty() || key_digest(&lines) != key {
            log::debug(&format!(
                "cached case {shown} skipped: its .fz_hash changed since it was indexed"
            ));
            continue;
        }
        let Some(outputs) = reusable(&candidate.dir, &shown, &lines, model, output_timeout) else {
            continue;
        };
        return Some(Hit {
            dir: candidate.dir.clone(),
            uri: tiers
                .get(candidate.tier)
                .map_or_else(|| "cache://".to_string(), |t| t.uri.clone()),
            outputs,
            lines,
        });
    }
    None
}
