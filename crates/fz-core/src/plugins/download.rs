//! Downloading a plugin archive over HTTP(S) (rustls, no system OpenSSL)
//! into a file, with a size cap, a timeout, the SHA-256 computed on the
//! way and a progress bar on a terminal.
//!
//! This module only fetches bytes: it never extracts nor installs.

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

/// Largest archive downloaded (bytes).
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// Seconds a whole download may take, unless `FZ_DOWNLOAD_TIMEOUT` says.
const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// Why a download failed: the server has no such file (try the next URL)
/// or anything else (stop).
#[derive(Debug)]
pub enum Failure {
    /// HTTP 404: the URL does not exist.
    NotFound,
    /// Any other problem, as one line (without the URL).
    Other(String),
}

/// Downloads `url` into `dest`; returns the SHA-256 (hex) of the bytes.
pub fn download(url: &str, dest: &Path) -> std::result::Result<String, Failure> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(timeout_secs())))
        .user_agent(format!("fz/{}", crate::VERSION))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(describe)?;
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > MAX_DOWNLOAD_BYTES) {
        return Err(too_big());
    }
    let mut reader = response
        .body_mut()
        .with_config()
        .limit(MAX_DOWNLOAD_BYTES + 1)
        .reader();
    let mut file = std::fs::File::create(dest)
        .map_err(|e| Failure::Other(format!("cannot write {}: {e}", dest.display())))?;
    let bar = progress_bar(length, url);
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(|e| read_error(&e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > MAX_DOWNLOAD_BYTES {
            return Err(too_big());
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| Failure::Other(format!("cannot write {}: {e}", dest.display())))?;
        if let Some(bar) = &bar {
            bar.set_position(total);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(hex(&hasher.finalize()))
}

/// The SHA-256 (hex) of a file.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn timeout_secs() -> u64 {
    crate::config::setting("FZ_DOWNLOAD_TIMEOUT")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECS)
}

fn too_big() -> Failure {
    Failure::Other(format!(
        "archive larger than {} MiB, refused",
        MAX_DOWNLOAD_BYTES / (1024 * 1024)
    ))
}

/// A bar on stderr when it is a terminal and messages are shown.
fn progress_bar(length: Option<u64>, url: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || !crate::log::enabled(crate::config::LogLevel::Error) {
        return None;
    }
    let bar = match length {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let template = if length.is_some() {
        "Downloading {msg}\n  {bar:30} {bytes}/{total_bytes} {bytes_per_sec}"
    } else {
        "Downloading {msg}\n  {spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(url.to_string());
    Some(bar)
}

/// One line for a ureq error (the caller adds the URL).
fn describe(e: ureq::Error) -> Failure {
    match e {
        ureq::Error::StatusCode(404) => Failure::NotFound,
        ureq::Error::StatusCode(code) => Failure::Other(format!("HTTP {code}")),
        ureq::Error::Io(io) => Failure::Other(io_reason(&io)),
        ureq::Error::Timeout(_) => Failure::Other("timed out".into()),
        ureq::Error::HostNotFound => Failure::Other("host not found".into()),
        ureq::Error::BodyExceedsLimit(_) => too_big(),
        other => Failure::Other(other.to_string()),
    }
}

fn read_error(e: &std::io::Error) -> Failure {
    if e.to_string().contains("limit") {
        return too_big();
    }
    Failure::Other(io_reason(e))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        std::fs::write(&p, "abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn refused_connection_is_one_line() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().unwrap();
        match download(
            &format!("http://127.0.0.1:{port}/x.zip"),
            &dir.path().join("x"),
        ) {
            Err(Failure::Other(m)) => assert_eq!(m, "connection refused"),
            other => panic!("{other:?}"),
        }
    }
}
