//! `fz install`, `fz uninstall` and `fz list models|algorithms|calculators`:
//! argument handling and printing around `fz_core::plugins`. The result
//! lines go to stdout, download progress and warnings to stderr.

use crate::args::{InstallCommand, ListArgs, UninstallCommand};
use crate::resolve;
use crate::Failure;
use fz_core::calculators::alias::Scope;
use fz_core::model::Lookup;
use fz_core::ops::list::render::{render_section, Section};
use fz_core::plugins::{self, fetch::Provenance, Kind};

/// `fz install model|algorithm SOURCE [--global]`.
pub fn install(c: &InstallCommand) -> Result<u8, Failure> {
    let lookup = Lookup::from_env()?;
    let mut out = Vec::new();
    let provenance = match c {
        InstallCommand::Model(a) => {
            a.log.apply();
            let done = plugins::install_model(&a.source, a.global, &lookup)?;
            for m in &done.models {
                out.push(format!("Successfully installed model '{m}'"));
            }
            if !done.installed_files.is_empty() {
                out.push(format!(
                    "  Installed {} additional files from .fz subdirectories",
                    done.installed_files.len()
                ));
            }
            done.provenance
        }
        InstallCommand::Algorithm(a) => {
            a.log.apply();
            let done = plugins::install_algorithm(&a.source, a.global, &lookup)?;
            for n in &done.names {
                out.push(format!("Successfully installed algorithm '{n}'"));
            }
            if done.files.len() > 1 {
                out.push(format!("  Installed {} files", done.files.len()));
            }
            done.provenance
        }
    };
    out.extend(provenance_lines(&provenance));
    crate::commands::print_out(&out.join("\n"))?;
    Ok(0)
}

/// Where an install came from: URL (and ref), SHA-256 of the archive.
fn provenance_lines(p: &Provenance) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(url) = &p.url {
        match &p.reference {
            Some(r) => lines.push(format!("  From: {url} ({r})")),
            None => lines.push(format!("  From: {url}")),
        }
    }
    if let Some(sha) = &p.sha256 {
        lines.push(format!("  SHA-256: {sha}"));
    }
    lines
}

/// `fz uninstall model|algorithm NAME [--global]`: exit 1 when it is not
/// installed there.
pub fn uninstall(c: &UninstallCommand) -> Result<u8, Failure> {
    let (kind, a) = match c {
        UninstallCommand::Model(a) => (Kind::Model, a),
        UninstallCommand::Algorithm(a) => (Kind::Algorithm, a),
    };
    a.log.apply();
    let lookup = Lookup::from_env()?;
    let place = format!(
        "{}/.fz/{}/",
        if a.global { "~" } else { "." },
        plugins::uninstall::kind_dir(kind)
    );
    let label = match kind {
        Kind::Model => "Model",
        Kind::Algorithm => "Algorithm",
    };
    let Some(done) = plugins::uninstall(kind, &a.name, a.global, &lookup)? else {
        return Err(Failure::Error(format!(
            "{label} '{}' not found in {place}",
            a.name
        )));
    };
    let mut out = vec![format!(
        "Successfully uninstalled {} '{}' from {place}",
        kind.as_str(),
        a.name
    )];
    if done.removed.len() > 1 {
        out.push(format!("  Removed {} files", done.removed.len()));
    }
    crate::commands::print_out(&out.join("\n"))?;
    Ok(0)
}

/// `fz list models|algorithms|calculators [--global]`: one part of the
/// `fzl` listing (algorithms: name, file, type, scope).
pub fn list(a: &ListArgs, what: &str) -> Result<u8, Failure> {
    a.log.apply();
    let format = resolve::format(&a.format)?;
    let lookup = Lookup::from_env()?;
    if what == "algorithms" {
        let list = plugins::list::installed_algorithms(&lookup, a.global);
        crate::commands::print_out(&plugins::list::render_algorithms(&list, format)?)?;
        return Ok(0);
    }
    let scoped = if a.global {
        plugins::list::home_only(&lookup).ok_or_else(|| {
            Failure::Error("--global: the home directory is unknown (HOME is not set)".into())
        })?
    } else {
        lookup
    };
    // Algorithms are listed above; a name with NUL matches no file.
    let no_algorithm = "\u{0}";
    let mut listing =
        fz_core::ops::list::fzl(&a.models, &a.calculators, no_algorithm, a.check, &scoped)?;
    if a.global {
        listing
            .models
            .iter_mut()
            .for_each(|m| m.scope = Scope::Home);
        for c in listing.calculators.iter_mut().filter(|c| c.scope.is_some()) {
            c.scope = Some(Scope::Home);
        }
    }
    let section = if what == "models" {
        Section::Models
    } else {
        Section::Calculators
    };
    crate::commands::print_out(&render_section(&listing, section, format)?)?;
    let problems = listing.problems();
    for p in &problems {
        eprintln!("fz list: check failed: {p}");
    }
    Ok(if problems.is_empty() { 0 } else { 1 })
}
