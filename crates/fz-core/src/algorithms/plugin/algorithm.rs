//! A plugin file as an [`Algorithm`]: its host process started, its
//! `#require` packages checked (never installed), its class instantiated
//! with the header defaults under the user's options; and the check that
//! `fzl --check` runs on a file.
//!
//! This module turns host replies into points and analyses and host
//! failures into one-line errors naming the file and the method; it does
//! not locate files ([`super::resolve`]) nor know the wire format
//! ([`super::host`], [`super::wire`]).

use super::header::Header;
use super::host::{Failure, Host};
use super::resolve::{Language, PluginFile};
use super::wire;
use crate::algorithms::{Algorithm, Analysis, Objective, ObjectiveSpec, Options, Point, Ranges};
use crate::error::{Error, Result};
use serde_json::{json, Map, Value as Json};
use std::path::Path;

/// A plugin file loaded in its own interpreter process (which dies with
/// this value).
#[derive(Debug)]
pub struct PluginAlgorithm {
    file: PluginFile,
    host: Host,
    class: String,
    has_tmp: bool,
}

impl PluginAlgorithm {
    /// Starts `exe` (a Python or Rscript executable, per the file's
    /// language) in `cwd`, warns once per `#require` package it lacks, loads
    /// the file and instantiates its algorithm with `options` over the
    /// header's `#options` defaults. Errors name the file.
    pub fn start(
        file: &PluginFile,
        options: &Map<String, Json>,
        exe: &str,
        cwd: &Path,
    ) -> Result<PluginAlgorithm> {
        let header = Header::read(&file.path)?;
        let options = Options::new(&file.path.display().to_string(), options.clone())
            .with_defaults(header.defaults());
        let mut host = Host::start(file.language, exe, cwd, true)
            .map_err(|e| error(file, None, Failure::Process(e)))?;
        for pkg in missing_packages(&mut host, file, &header)? {
            // Shown at the default log level: the plugin may fail without it.
            crate::log::notice(&format!(
                "algorithm {}: {}; fz does not install packages ({})",
                file.path.display(),
                not_installed(file.language, &pkg),
                install_hint(file.language, &pkg)
            ));
        }
        let request = json!({"file": file.path.display().to_string(), "options": options.values});
        let init = host
            .call("init", request)
            .map_err(|f| error(file, None, f))?;
        Ok(PluginAlgorithm {
            file: file.clone(),
            host,
            class: init
                .get("class")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            has_tmp: init.get("has_tmp").and_then(Json::as_bool) == Some(true),
        })
    }

    /// The plugin file.
    pub fn file(&self) -> &PluginFile {
        &self.file
    }

    /// The class (Python) or S3 class (R) of the algorithm object.
    pub fn class_name(&self) -> &str {
        &self.class
    }

    fn request(&mut self, method: &str, fields: Json) -> Result<Json> {
        self.host
            .call(method, fields)
            .map_err(|f| error(&self.file, Some(method), f))
    }

    fn design(&mut self, method: &str, fields: Json) -> Result<Vec<Point>> {
        let reply = self.request(method, fields)?;
        wire::design(&reply).map_err(|why| bad_reply(&self.file, method, &why))
    }

    fn analysis_of(
        &mut self,
        method: &str,
        x: &[Point],
        y: &[Objective],
    ) -> Result<Option<Analysis>> {
        let reply = self.request(method, xy(x, y))?;
        wire::analysis(&reply).map_err(|why| bad_reply(&self.file, method, &why))
    }
}

impl Algorithm for PluginAlgorithm {
    fn initial_design(
        &mut self,
        ranges: &Ranges,
        objectives: &ObjectiveSpec,
    ) -> Result<Vec<Point>> {
        let fields =
            json!({"input_vars": wire::ranges(ranges), "output_vars": objectives.to_json()});
        self.design("get_initial_design", fields)
    }

    fn next_design(&mut self, x: &[Point], y: &[Objective]) -> Result<Vec<Point>> {
        self.design("get_next_design", xy(x, y))
    }

    fn analysis(&mut self, x: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        self.analysis_of("get_analysis", x, y)
    }

    fn analysis_tmp(&mut self, x: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        if !self.has_tmp {
            return Ok(None);
        }
        self.analysis_of("get_analysis_tmp", x, y)
    }
}

fn xy(x: &[Point], y: &[Objective]) -> Json {
    json!({"X": wire::points(x), "Y": wire::objectives(y)})
}

/// The `#require` packages the host cannot find.
fn missing_packages(host: &mut Host, file: &PluginFile, header: &Header) -> Result<Vec<String>> {
    if header.require.is_empty() {
        return Ok(Vec::new());
    }
    let reply = host
        .call("require", json!({"packages": header.require}))
        .map_err(|f| error(file, None, f))?;
    Ok(reply
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

fn not_installed(language: Language, pkg: &str) -> String {
    format!(
        "required {} package '{pkg}' is not installed",
        language.as_str()
    )
}

fn install_hint(language: Language, pkg: &str) -> String {
    match language {
        Language::Python => format!("pip install {pkg}"),
        Language::R => format!("install.packages(\"{pkg}\")"),
    }
}

/// The one-line error of a failed request: `algorithm <file>: <method>()
/// failed: <message>` (no method while loading).
fn error(file: &PluginFile, method: Option<&str>, failure: Failure) -> Error {
    let at = match method {
        Some(m) => format!("algorithm {}: {m}() failed", file.path.display()),
        None => format!("algorithm {}", file.path.display()),
    };
    match failure {
        Failure::Plugin(msg) => Error::Value(format!("{at}: {msg}")),
        Failure::Process(e) => Error::Interpreter(format!("{at}: {e}")),
    }
}

fn bad_reply(file: &PluginFile, method: &str, why: &str) -> Error {
    Error::Value(format!(
        "algorithm {}: {method}() {why}",
        file.path.display()
    ))
}

/// What is wrong with a plugin file, without running its algorithm: each
/// `#require` package missing, and whether it loads (Python: the module
/// executes and holds an algorithm class; R: the file parses, sources and
/// defines a constructor). Empty when it is fine.
pub fn check(file: &PluginFile, exe: &str, cwd: &Path) -> Vec<String> {
    let header = match Header::read(&file.path) {
        Ok(h) => h,
        Err(e) => return vec![e.to_string()],
    };
    let mut host = match Host::start(file.language, exe, cwd, false) {
        Ok(h) => h,
        Err(e) => return vec![e.to_string()],
    };
    let mut problems = Vec::new();
    match missing_packages(&mut host, file, &header) {
        Ok(missing) => problems.extend(missing.iter().map(|p| not_installed(file.language, p))),
        Err(e) => return vec![e.to_string()],
    }
    let request = json!({"file": file.path.display().to_string()});
    match host.call("check", request) {
        Ok(_) => {}
        Err(Failure::Plugin(msg)) => problems.push(msg),
        Err(Failure::Process(e)) => problems.push(e.to_string()),
    }
    problems
}
