//! The interpreter process hosting one plugin file: `python3 -c host.py` or
//! `Rscript` running `host.R`, spoken to in JSON lines (requests on its
//! stdin, one marked reply line per request on its stdout).
//!
//! This module owns the process (start, requests, death, kill on drop) and
//! the request encoding; it does not interpret replies (see
//! [`super::algorithm`]). The child runs in its own process group, so a
//! Ctrl+C at the terminal reaches fz only (which may still want the
//! plugin's analysis); it exits when fz closes its stdin, and it is killed
//! with every process the plugin started when the [`Host`] is dropped.

use super::resolve::Language;
use crate::error::{Error, Result};
use crate::template::interp::{
    new_marker, r_double, r_string, read_marked_json, send_request, spawn_drain, truncate,
    InterpreterKind, OutputTail, ReadFailure,
};
use serde_json::Value as Json;
use std::fmt::Write as _;
use std::io::BufReader;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The Python host script, run with `python3 -c`.
const PYTHON_HOST: &str = include_str!("host.py");
/// The R host script, passed in `FZ_PLUGIN_HOST` and run by [`R_BOOTSTRAP`].
const R_HOST: &str = include_str!("host.R");
/// The `Rscript -e` expression that runs the R host script.
const R_BOOTSTRAP: &str = r#"eval(parse(text = Sys.getenv("FZ_PLUGIN_HOST")))"#;

/// Why a request failed.
#[derive(Debug)]
pub enum Failure {
    /// The plugin raised (or broke a rule of the host): its one-line message.
    Plugin(String),
    /// The host process could not be started, died or answered nonsense.
    Process(Error),
}

/// A running host process; killed (and reaped) on drop.
pub struct Host {
    language: Language,
    exe: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    tail: Arc<OutputTail>,
    marker: Vec<u8>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("language", &self.language)
            .field("exe", &self.exe)
            .field("pid", &self.child.id())
            .finish()
    }
}

/// The interpreter fz runs for `language`: the one formulas use
/// (`FZ_PYTHON`, the calling Python when fz is used from Python, else
/// `python3`; `FZ_RSCRIPT`, else `Rscript`).
pub fn default_executable(language: Language) -> String {
    match language {
        Language::Python => InterpreterKind::Python.executable(),
        Language::R => InterpreterKind::R.executable(),
    }
}

impl Host {
    /// Starts the host for `language` with the interpreter `exe`, in the
    /// directory `cwd`. The plugin's own output (stdout and stderr) is
    /// copied to fz's stderr when `echo` is set; its tail is kept for
    /// error messages either way.
    pub fn start(language: Language, exe: &str, cwd: &Path, echo: bool) -> Result<Host> {
        let marker = new_marker();
        let mut cmd = Command::new(exe);
        match language {
            Language::Python => {
                cmd.arg("-c").arg(PYTHON_HOST);
            }
            Language::R => {
                cmd.arg("-e").arg(R_BOOTSTRAP).env("FZ_PLUGIN_HOST", R_HOST);
            }
        }
        cmd.env("FZ_PLUGIN_MARKER", &marker)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().map_err(|e| {
            let kind = match language {
                Language::Python => InterpreterKind::Python,
                Language::R => InterpreterKind::R,
            };
            Error::Interpreter(format!(
                "algorithm plugins in {} need '{exe}', which could not be started (set {} to \
                 another executable): {e}",
                language.as_str(),
                kind.env_var()
            ))
        })?;
        let tail = Arc::new(OutputTail::default());
        tail.echo.store(echo, Ordering::Relaxed);
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Interpreter(format!(
                "algorithm host '{exe}': could not open its pipes"
            )));
        };
        // The drain thread ends when the child's stderr closes.
        if let Err(e) = spawn_drain(stderr, Arc::clone(&tail)) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Interpreter(format!(
                "algorithm host '{exe}': could not start its stderr reader: {e}"
            )));
        }
        Ok(Host {
            language,
            exe: exe.to_string(),
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            tail,
            marker: marker.into_bytes(),
        })
    }

    /// Sends request `op` with the fields of `fields` (a JSON object) and
    /// returns the `ok` value of the reply.
    pub fn call(&mut self, op: &str, fields: Json) -> std::result::Result<Json, Failure> {
        let mut request = match fields {
            Json::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        request.insert("op".into(), Json::String(op.to_string()));
        let request = Json::Object(request);
        let mut line = match self.language {
            Language::Python => request.to_string(),
            Language::R => r_source(&request),
        };
        line.push('\n');
        if let Err(e) = send_request(self.stdin.as_mut(), line.as_bytes()) {
            return Err(self.died(&format!("could not be sent a request ({e})")));
        }
        let reply = self.read_reply()?;
        match (reply.get("ok"), reply.get("error")) {
            (Some(ok), None) => Ok(ok.clone()),
            (_, Some(err)) => Err(Failure::Plugin(
                err.as_str().map_or_else(|| err.to_string(), str::to_string),
            )),
            (None, None) => Err(self.died(&format!(
                "sent an invalid reply: {}",
                truncate(&reply.to_string(), 200)
            ))),
        }
    }

    /// The next marked reply; other output goes to the tail.
    fn read_reply(&mut self) -> std::result::Result<Json, Failure> {
        match read_marked_json(&mut self.stdout, &self.marker, &self.tail) {
            Ok(reply) => Ok(reply),
            Err(ReadFailure::Eof) => Err(self.died("exited")),
            Err(ReadFailure::Io(e)) => Err(self.died(&format!("could not be read ({e})"))),
            Err(ReadFailure::Garbled(why)) => {
                Err(self.died(&format!("sent a garbled reply ({why})")))
            }
        }
    }

    /// Stops the process for good; the error quotes the end of its stderr.
    fn died(&mut self, what: &str) -> Failure {
        self.stdin = None;
        self.kill();
        let status = match self.child.wait() {
            Ok(s) => s.to_string(),
            Err(e) => format!("not reaped: {e}"),
        };
        // Give the drain thread a moment to collect the last words.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let tail = self.tail.text().replace('\n', " | ");
        Failure::Process(Error::Interpreter(format!(
            "algorithm host '{}' {what} ({status}); its stderr ends with: {tail}",
            self.exe
        )))
    }
}

impl Host {
    /// Kills the host and what the plugin started (its process group).
    fn kill(&mut self) {
        #[cfg(unix)]
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            crate::process::signal_group(pgid, libc::SIGKILL);
        }
        let _ = self.child.kill();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stdin = None;
        self.kill();
        let _ = self.child.wait();
    }
}

/// One line of R source building `v` as the R host reads requests:
/// objects as named lists, arrays as lists, integers that fit as R
/// integers, other numbers as doubles, `null` as `NULL`.
pub fn r_source(v: &Json) -> String {
    let mut out = String::new();
    write_r(v, &mut out);
    out
}

fn write_r(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("NULL"),
        Json::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        Json::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) if i != i32::MIN => out.push_str(&format!("{i}L")),
            _ => r_exact_double(n.as_f64().unwrap_or(f64::NAN), out),
        },
        Json::String(s) => r_string(s, out),
        Json::Array(items) => {
            out.push_str("list(");
            write_r_items(items.iter(), out);
            out.push(')');
        }
        Json::Object(map) => {
            out.push_str("structure(list(");
            write_r_items(map.values(), out);
            out.push_str("), names = c(");
            for (i, k) in map.keys().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                r_string(k, out);
            }
            out.push_str("))");
        }
    }
}

/// A double as an R hexadecimal literal (`0x1.8p1`), which R reads back
/// bit for bit (its decimal reader is off by one unit in the last place
/// for some shortest representations); non-finite values and zeros as
/// [`r_double`] writes them.
fn r_exact_double(f: f64, out: &mut String) {
    if !f.is_finite() || f == 0.0 {
        r_double(f, out);
        return;
    }
    let bits = f.to_bits();
    let sign = if bits >> 63 == 1 { "-" } else { "" };
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let mantissa = bits & ((1u64 << 52) - 1);
    let _ = if exponent == 0 {
        write!(out, "{sign}0x0.{mantissa:013x}p-1022")
    } else {
        write!(out, "{sign}0x1.{mantissa:013x}p{}", exponent - 1023)
    };
}

fn write_r_items<'a>(items: impl Iterator<Item = &'a Json>, out: &mut String) {
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_r(v, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn r_source_of_requests() {
        assert_eq!(
            r_source(
                &json!({"op": "x", "X": [{"a": 1.0, "b": 2.5}], "Y": [null, 3, [1, 2]], "o": {}})
            ),
            "structure(list(\"x\", list(structure(list(0x1.0000000000000p0, 0x1.4000000000000p1), \
             names = c(\"a\", \"b\"))), list(NULL, 3L, list(1L, 2L)), structure(list(), names = c())), \
             names = c(\"op\", \"X\", \"Y\", \"o\"))"
        );
        assert_eq!(r_source(&json!("é\"\n")), "\"\\U{e9}\\\"\\n\"");
        assert_eq!(r_source(&json!(true)), "TRUE");
        assert_eq!(r_source(&json!(-0.1)), "-0x1.999999999999ap-4");
        assert_eq!(r_source(&json!(5e-324)), "0x0.0000000000001p-1022");
        assert_eq!(r_source(&json!(3_000_000_000u64)), "0x1.65a0bc0000000p31");
        assert_eq!(r_source(&json!(0.0)), "0.0");
    }
}
