//! Writing an install: the files a model or algorithm install chose (a
//! [`Plan`]) are checked against what is already in `.fz/` and only then
//! copied, and the manifest is updated.
//!
//! Rules: a file may replace one of an earlier install of the same model
//! or algorithm (a reinstall) or an identical file; any other existing
//! file is an error naming both, and nothing is written. A reinstall
//! removes the files of the old install that the new one no longer has.

use super::fetch::Provenance;
use super::manifest::{self, Entry, Kind, Manifest};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// One file to install.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The file in the fetched plugin.
    pub src: PathBuf,
    /// Where it goes, relative to the base directory, `/`-separated.
    pub rel: String,
    /// Its path in the plugin (for messages).
    pub origin: String,
    /// Whether it is made executable.
    pub executable: bool,
}

/// Everything one install writes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Model or algorithm.
    pub kind: Kind,
    /// Model ids or algorithm names provided.
    pub names: Vec<String>,
    /// The files.
    pub files: Vec<Planned>,
}

/// Checks then writes `plan` into `base`, and records it in the manifest.
pub fn apply(plan: &Plan, base: &Path, provenance: &Provenance) -> Result<()> {
    let mut manifest = Manifest::load(base)?;
    let replaced: Vec<usize> = manifest
        .installs
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == plan.kind && e.names.iter().any(|n| plan.names.contains(n)))
        .map(|(i, _)| i)
        .collect();
    check_duplicates(plan)?;
    for f in &plan.files {
        check_target(f, base, &manifest, &replaced, provenance)?;
    }
    for f in &plan.files {
        write(f, base)?;
    }
    retire(&mut manifest, &replaced, plan, base)?;
    manifest.installs.push(Entry {
        kind: plan.kind,
        names: plan.names.clone(),
        source: provenance.source.clone(),
        url: provenance.url.clone(),
        reference: provenance.reference.clone(),
        sha256: provenance.sha256.clone(),
        files: plan.files.iter().map(|f| f.rel.clone()).collect(),
        date: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    });
    manifest.save(base)
}

/// Two files of one plugin bound for the same place.
fn check_duplicates(plan: &Plan) -> Result<()> {
    for (i, a) in plan.files.iter().enumerate() {
        if let Some(b) = plan.files[..i].iter().find(|b| b.rel == a.rel) {
            return Err(Error::Value(format!(
                "'{}' and '{}' would both be installed as {}; refused",
                b.origin, a.origin, a.rel
            )));
        }
    }
    Ok(())
}

fn check_target(
    f: &Planned,
    base: &Path,
    manifest: &Manifest,
    replaced: &[usize],
    provenance: &Provenance,
) -> Result<()> {
    let target = manifest::path_of(base, &f.rel);
    let Ok(meta) = std::fs::symlink_metadata(&target) else {
        return Ok(());
    };
    let reinstall = replaced
        .iter()
        .any(|&i| manifest.installs[i].files.contains(&f.rel));
    if meta.is_file() && (reinstall || same_content(&f.src, &target)) {
        return Ok(());
    }
    let whose = match manifest.owner(&f.rel, replaced) {
        Some(e) => format!("installed from '{}'", e.source),
        None if meta.is_dir() => "a directory".to_string(),
        None => "not installed by fz install".to_string(),
    };
    Err(Error::Value(format!(
        "'{}' of '{}' would replace {} ({whose}); uninstall or remove it first",
        f.origin,
        provenance.source,
        target.display()
    )))
}

fn same_content(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn write(f: &Planned, base: &Path) -> Result<()> {
    let target = manifest::path_of(base, &f.rel);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let bytes = std::fs::read(&f.src).map_err(|e| Error::io(&f.src, e))?;
    // Never write through a link left at the target.
    if std::fs::symlink_metadata(&target).is_ok() {
        std::fs::remove_file(&target).map_err(|e| Error::io(&target, e))?;
    }
    let mode = if f.executable { 0o755 } else { 0o644 };
    crate::fsutil::write_with_mode(&target, &bytes, Some(mode))
}

/// Takes the names and files of `plan` from the entries it replaces; an
/// entry left with no name is removed with its remaining files (those no
/// other entry lists).
fn retire(manifest: &mut Manifest, replaced: &[usize], plan: &Plan, base: &Path) -> Result<()> {
    let new_files: Vec<&str> = plan.files.iter().map(|f| f.rel.as_str()).collect();
    let mut emptied = Vec::new();
    for &i in replaced {
        let e = &mut manifest.installs[i];
        e.names.retain(|n| !plan.names.contains(n));
        e.files.retain(|f| !new_files.contains(&f.as_str()));
        if e.names.is_empty() {
            emptied.push(i);
        }
    }
    for &i in emptied.iter().rev() {
        let gone = manifest.installs.remove(i);
        for rel in &gone.files {
            if !manifest.owns(rel) {
                manifest::remove_file(base, rel)?;
            }
        }
    }
    Ok(())
}
