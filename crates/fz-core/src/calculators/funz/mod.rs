//! `funz://` – runs a case on a legacy Java Funz calculator daemon
//! (spec §7), found by UDP discovery and driven over its TCP protocol.
//!
//! This module owns one attempt of one case: claiming a daemon that
//! offers the code from the run's registry for the URI's UDP port
//! ([`discovery`]), the session with it ([`session`]: RESERVE, NEWCASE,
//! PUTFILE of every input file with the main input first, EXECUTE,
//! ARCHIVE, GETFILE, UNRESERVE), extracting the results archive into the
//! case directory ([`unzip`]), stopping the case on the daemon (KILL on a
//! side connection) at the time limit or on Ctrl+C, and writing `log.txt`.
//! The URI grammar is in [`target`]. Like the other schemes it must not
//! decide retries nor parse outputs.
//!
//! The daemon runs `<code command> <first uploaded file>` in its spool
//! directory; what it leaves there (`out.txt`, `err.txt`, the outputs)
//! comes back into the case directory. The daemon's own `log.txt` is
//! replaced by fz's (its exit status is read from it first).

pub mod discovery;
pub mod session;
pub mod survey;
pub mod target;
pub mod unzip;

use super::sh::{format_seconds, host_info, RunLog};
use super::uri::CalculatorUri;
use super::{Attempt, AttemptStatus, Calculator, RunRequest};
use crate::Result;
use discovery::{Claim, Registries, Registry, Wanted};
use session::{Reservation, Session, Stop};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use target::FunzTarget;

/// Time allowed to the closing requests (KILL, UNRESERVE) after a timeout
/// or Ctrl+C.
const CLOSING_LIMIT: Duration = Duration::from_secs(5);

/// A Funz calculator, `funz://[host]:<udp port>/<code>[?timeout=N]`.
#[derive(Debug, Clone)]
pub struct FunzCalculator {
    display: String,
    target: FunzTarget,
    registry: Arc<Registry>,
    timeout: Option<Duration>,
}

/// How an attempt ended, before it becomes an [`Attempt`].
#[derive(Debug)]
enum End {
    Done,
    /// The code ran and failed (the daemon's reason, its exit status).
    RunFailed(String, Option<i32>),
    Timeout,
    Interrupted,
    /// Discovery, connection or protocol failure.
    Error(String),
}

impl FunzCalculator {
    /// Builds the calculator from a parsed `funz://` URI, listening through
    /// the run's `registries`. Errors: see [`FunzTarget::parse`].
    pub fn from_uri(uri: &CalculatorUri, registries: &Registries) -> Result<Self> {
        let target = FunzTarget::parse(uri, true)?;
        Ok(FunzCalculator {
            display: uri.display.clone(),
            registry: registries.get(target.udp_port),
            target,
            timeout: uri.timeout,
        })
    }

    /// What the URI names.
    pub fn target(&self) -> &FunzTarget {
        &self.target
    }
}

impl Calculator for FunzCalculator {
    fn display_uri(&self) -> &str {
        &self.display
    }

    fn uri_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Runs the case once on a daemon (see the module documentation).
    /// Outcomes: the daemon's final answer `Y` → `Done`; `N run failed` →
    /// `Failed` (exit status from the daemon's log when it gives one); no
    /// daemon found, a refused request, a lost connection or a protocol
    /// error → `Failed` with a one-line message naming the daemon; time
    /// limit → `Timeout`; Ctrl+C → `Interrupted` (both after KILL and
    /// UNRESERVE). The time limit counts from the reservation: waiting
    /// for a free daemon is not running.
    fn run(&self, request: &RunRequest) -> Attempt {
        let started = SystemTime::now();
        let clock = Instant::now();
        let code = &self.target.code;
        let command_line = match request.input_files.first() {
            Some(first) => format!("{code} {first}"),
            None => code.clone(),
        };
        let mut ran_on: Option<String> = None;
        let end = if request.cancel.must_kill() {
            End::Interrupted
        } else {
            self.attempt(request, &mut ran_on)
        };
        let (status, exit_code, error) = match end {
            End::Done => (AttemptStatus::Done, Some(0), None),
            End::RunFailed(reason, exit) => {
                let on = ran_on.as_deref().unwrap_or("?");
                let code_part = exit.map_or(String::new(), |c| format!(" with exit code {c}"));
                (
                    AttemptStatus::Failed,
                    exit,
                    Some(format!(
                        "Code '{code}' failed on Funz calculator {on}{code_part}: {reason}"
                    )),
                )
            }
            End::Timeout => (
                AttemptStatus::Timeout,
                None,
                Some(format!(
                    "Command timed out after {} seconds: '{code}' on Funz calculator {} \
                     (killed)",
                    format_seconds(request.timeout.unwrap_or_default()),
                    ran_on.as_deref().unwrap_or("?")
                )),
            ),
            End::Interrupted => (
                AttemptStatus::Interrupted,
                None,
                Some("Calculation interrupted by user".to_string()),
            ),
            End::Error(msg) => (AttemptStatus::Failed, None, Some(msg)),
        };
        if request.work_dir.is_dir() {
            // Same files as every scheme, even when the daemon sent none.
            for name in ["out.txt", "err.txt"] {
                let path = request.work_dir.join(name);
                if !path.exists() {
                    let _ = std::fs::write(&path, "");
                }
            }
        }
        let attempt = Attempt {
            status,
            exit_code,
            command: code.clone(),
            command_line,
            started,
            ended: SystemTime::now(),
            error,
            host: ran_on.clone(),
        };
        let extra = [
            (
                "Funz calculator",
                ran_on.unwrap_or_else(|| "None".to_string()),
            ),
            ("Funz UDP port", self.target.udp_port.to_string()),
            ("Funz code", code.clone()),
        ];
        RunLog::of(&attempt, request, clock.elapsed(), &extra).store();
        attempt
    }
}

impl FunzCalculator {
    /// Claims daemons until one accepts the reservation, then runs the
    /// case there. `ran_on` receives `name (address:port)`.
    fn attempt(&self, request: &RunRequest, ran_on: &mut Option<String>) -> End {
        let hosts = match discovery::resolve_host(self.target.host.as_deref()) {
            Ok(h) => h,
            Err(e) => return End::Error(e),
        };
        let wanted = Wanted {
            code: &self.target.code,
            hosts: hosts.as_deref(),
        };
        let user = host_info().user.clone();
        let timeout = discovery::discovery_timeout();
        loop {
            let claim = match self
                .registry
                // A first Ctrl+C ends the wait: the case has not started.
                .claim(&wanted, timeout, || !request.cancel.may_start())
            {
                Err(msg) => return End::Error(msg),
                Ok(None) => return End::Interrupted,
                Ok(Some(c)) => c,
            };
            let host = self
                .target
                .host
                .clone()
                .unwrap_or_else(|| claim.daemon.addr.to_string());
            let port = claim.daemon.announce.tcp_port;
            let who = format!("{} ({host}:{port})", claim.daemon.announce.name);
            let deadline = request.timeout.map(|t| Instant::now() + t);
            let mut s = match Session::connect(&host, port, deadline, request.cancel) {
                Ok(s) => s,
                Err(e) => {
                    claim.dead();
                    return End::Error(format!("Funz calculator {who}: {e}"));
                }
            };
            let reservation = match s.reserve(&self.target.code, &user) {
                Ok(r) => r,
                Err(Stop::Refused(why)) => {
                    // Busy with another client since its last datagram:
                    // try another daemon.
                    crate::log::debug(&format!("Funz calculator {who} refused: {why}"));
                    claim.refused();
                    continue;
                }
                Err(e) => {
                    let end = self.stopped(e, &mut s, &claim, None, &who);
                    *ran_on = Some(who);
                    return end;
                }
            };
            crate::log::info(&format!(
                "Running '{}' on Funz calculator {who} (we are {})",
                self.target.code, reservation.client_ip
            ));
            *ran_on = Some(who.clone());
            return self.run_case(request, &mut s, &claim, &reservation, &user, &who);
        }
    }

    /// The reserved part of the session: NEWCASE to UNRESERVE.
    fn run_case(
        &self,
        request: &RunRequest,
        s: &mut Session,
        claim: &Claim,
        reservation: &Reservation,
        user: &str,
        who: &str,
    ) -> End {
        let code = &self.target.code;
        let sent = (|| {
            let files = upload_list(request.work_dir, request.input_files)?;
            s.new_case(user)?;
            for name in &files {
                s.put_file(name, &request.work_dir.join(name))?;
            }
            s.execute(code)
        })();
        if let Err(e) = sent {
            return self.stopped(e, s, claim, None, who);
        }
        let run_failed = match s.execute_end() {
            Ok(()) => None,
            Err(Stop::Refused(reason)) => Some(reason),
            Err(e) => return self.stopped(e, s, claim, Some(reservation), who),
        };
        let zip = match s.archive() {
            Ok(z) => z,
            Err(e) => return self.stopped(e, s, claim, None, who),
        };
        let fetched = unzip::entries(&zip).and_then(|entries| {
            let exit = daemon_exit_status(&entries);
            unzip::extract(&entries, request.work_dir, &["log.txt"]).map(|()| exit)
        });
        if let Err(e) = s.unreserve() {
            crate::log::warn(&format!("Funz calculator {who}: UNRESERVE failed: {e}"));
        }
        claim.idle();
        match (fetched, run_failed) {
            (Err(e), _) => End::Error(format!("Funz calculator {who}: bad results archive: {e}")),
            (Ok(exit), Some(reason)) => End::RunFailed(reason, exit),
            (Ok(_), None) => End::Done,
        }
    }

    /// Ends a session that stopped early: KILL the running case (when one
    /// may run: `running` holds its reservation), UNRESERVE, and the
    /// attempt's end.
    fn stopped(
        &self,
        stop: Stop,
        s: &mut Session,
        claim: &Claim,
        running: Option<&Reservation>,
        who: &str,
    ) -> End {
        if let Stop::Lost(why) = &stop {
            claim.dead();
            return End::Error(format!(
                "Lost the connection to Funz calculator {who}: {why}"
            ));
        }
        if let Some(r) = running {
            let addr = s.addr;
            match session::kill(&addr.ip().to_string(), addr.port(), &r.secret) {
                Ok(()) => crate::log::info(&format!("Killed the case on Funz calculator {who}")),
                Err(e) => crate::log::warn(&format!(
                    "Could not kill the case on Funz calculator {who}: {e}"
                )),
            }
        }
        s.closing(CLOSING_LIMIT);
        // After KILL the daemon has already dropped the reservation and
        // answers "not owner": either way it is free.
        let unreserved = s.unreserve();
        if running.is_some() || unreserved.is_ok() {
            claim.idle();
        }
        match stop {
            Stop::Timeout => End::Timeout,
            Stop::Interrupted => End::Interrupted,
            Stop::Refused(why) => End::Error(format!("Funz calculator {who} refused: {why}")),
            other => End::Error(format!("Funz calculator {who}: {other}")),
        }
    }
}

/// The files to upload, in order: the input files as listed (the main
/// input first: the daemon runs its code on the first file), a directory
/// among them (a static entry) expanded into its files, sorted.
fn upload_list(
    work_dir: &std::path::Path,
    input_files: &[String],
) -> std::result::Result<Vec<String>, Stop> {
    let mut out = Vec::new();
    let mut pending: Vec<String> = input_files.iter().rev().cloned().collect();
    while let Some(name) = pending.pop() {
        if unzip::safe_name(&name).ok().as_deref() != Some(name.as_str()) {
            return Err(Stop::Protocol(format!("unsafe input file name '{name}'")));
        }
        let path = work_dir.join(&name);
        if path.is_dir() {
            let listed = std::fs::read_dir(&path)
                .map_err(|e| Stop::Protocol(format!("cannot list {}: {e}", path.display())))?;
            let mut inner: Vec<String> = listed
                .flatten()
                .map(|e| format!("{name}/{}", e.file_name().to_string_lossy()))
                .collect();
            inner.sort();
            pending.extend(inner.into_iter().rev());
        } else {
            out.push(name);
        }
    }
    Ok(out)
}

/// `fzl --check` of a `funz://` URI: its grammar, then whether a daemon
/// offering the code (any daemon for a bare alias URI, `bare_ok`) is
/// heard on the UDP port within the discovery timeout. Empty: usable.
pub fn check(uri: &CalculatorUri, bare_ok: bool) -> Vec<String> {
    let target = match FunzTarget::parse(uri, !bare_ok) {
        Ok(t) => t,
        Err(e) => return vec![e.to_string()],
    };
    let hosts = match discovery::resolve_host(target.host.as_deref()) {
        Ok(h) => h,
        Err(e) => return vec![e],
    };
    let registry = Registry::listen(target.udp_port);
    let wanted = Wanted {
        code: &target.code,
        hosts: hosts.as_deref(),
    };
    let timeout = discovery::discovery_timeout();
    if target.code.is_empty() {
        let until = Instant::now() + timeout;
        while registry.heard_daemons().is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
        if !registry.heard_daemons().is_empty() {
            return Vec::new();
        }
    } else if registry.wait_for(&wanted, timeout) {
        return Vec::new();
    }
    vec![registry.missing(&wanted, timeout)]
}

/// The exit status the daemon wrote in its `log.txt` (`Exit status N`).
fn daemon_exit_status(entries: &[unzip::Entry]) -> Option<i32> {
    let log = entries.iter().find(|e| e.name == "log.txt")?;
    String::from_utf8_lossy(&log.data)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Exit status ")?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculators::Cancel;
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, UdpSocket};

    /// A calculator on a fresh UDP port with its registry.
    fn calc(code: &str) -> (FunzCalculator, Arc<Registry>) {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let registries = Registries::new();
        let uri = CalculatorUri::parse(&format!("funz://:{port}/{code}")).unwrap();
        let c = FunzCalculator::from_uri(&uri, &registries).unwrap();
        let r = registries.get(port);
        (c, r)
    }

    /// A scripted daemon answering requests read line by line: `answer`
    /// gets the request lines (up to `/`) and returns the reply and
    /// whether to close the connection after it.
    fn daemon(
        answer: impl Fn(&[String]) -> (Vec<u8>, bool) + Send + 'static,
    ) -> (u16, std::thread::JoinHandle<Vec<Vec<String>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut seen = Vec::new();
            loop {
                let mut req = Vec::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return seen;
                    }
                    let line = line.trim_end().to_string();
                    if line == "/" {
                        break;
                    }
                    req.push(line);
                }
                // The second phase of RESERVE has no `/`: read its lines.
                if req[0] == "RESERVE" {
                    w.write_all(b"Y\n/\n").unwrap();
                    for _ in 0..4 {
                        let mut line = String::new();
                        r.read_line(&mut line).unwrap();
                        req.push(line.trim_end().to_string());
                    }
                }
                if req[0] == "NEWCASE" {
                    for _ in 0..3 {
                        let mut line = String::new();
                        r.read_line(&mut line).unwrap();
                    }
                }
                if req[0] == "PUTFILE" {
                    w.write_all(b"Y\n/\n").unwrap();
                    let mut data = vec![0u8; req[2].parse().unwrap()];
                    std::io::Read::read_exact(&mut r, &mut data).unwrap();
                }
                let (reply, close) = answer(&req);
                w.write_all(&reply).unwrap();
                if req[0] == "GETFILE" {
                    let mut sync = String::new();
                    r.read_line(&mut sync).unwrap();
                    req.push(sync.trim_end().to_string());
                }
                seen.push(req);
                if close {
                    return seen;
                }
            }
        });
        (port, h)
    }

    fn announce(r: &Registry, tcp: u16) {
        let dgram = format!("calc-test\n{tcp}\n0\nLinux\nidle\n1\nbash\n");
        r.heard("127.0.0.1:40000".parse().unwrap(), dgram.as_bytes());
    }

    fn case_dir() -> (tempfile::TempDir, Vec<String>) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("input.txt"), "x=1\n").unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/data.txt"), "d").unwrap();
        (d, vec!["input.txt".into(), "sub/data.txt".into()])
    }

    fn run(c: &FunzCalculator, dir: &std::path::Path, files: &[String]) -> Attempt {
        let cancel = Cancel::new();
        c.run(&RunRequest {
            work_dir: dir,
            input_files: files,
            launch_dir: dir,
            timeout: Some(Duration::from_secs(20)),
            cancel: &cancel,
        })
    }

    #[test]
    fn a_full_session_follows_the_authoritative_sequence() {
        let (c, r) = calc("bash");
        let zip = unzip::tests::zip_of(&[
            ("/out.txt", b"hi\n"),
            ("/log.txt", b"cmd: /bin/bash input.txt\n"),
            ("res/", b""),
            ("res/p.txt", b"pressure = 3\n"),
        ]);
        let (port, h) = daemon(move |req| {
            (
                match req[0].as_str() {
                    "RESERVE" => b"Y\n42\n127.0.0.1\nN\n/\n".to_vec(),
                    "EXECUTE" => b"Y\n/\nH\nI\ninfo\nH\nY\n/\n".to_vec(),
                    "GETFILE" => {
                        let mut v = format!("Y\n/\n{}\n", zip.len()).into_bytes();
                        v.extend(&zip);
                        v
                    }
                    _ => b"Y\n/\n".to_vec(),
                },
                req[0] == "UNRESERVE",
            )
        });
        announce(&r, port);
        let (d, files) = case_dir();
        let a = run(&c, d.path(), &files);
        assert_eq!(a.status, AttemptStatus::Done, "{:?}", a.error);
        assert_eq!(a.command_line, "bash input.txt");
        assert_eq!(
            std::fs::read_to_string(d.path().join("out.txt")).unwrap(),
            "hi\n"
        );
        assert!(d.path().join("res/p.txt").is_file());
        let log = std::fs::read_to_string(d.path().join("log.txt")).unwrap();
        assert!(
            log.contains(&format!("Funz calculator: calc-test (127.0.0.1:{port})")),
            "{log}"
        );
        let requests = h.join().unwrap();
        assert_eq!(requests[6], ["GETFILE", "S"], "the sync line");
        assert_eq!(
            requests[2],
            ["PUTFILE", "input.txt", "4"],
            "main input first"
        );
        assert_eq!(requests[3], ["PUTFILE", "sub/data.txt", "1"]);
        let methods: Vec<String> = requests.iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            methods,
            [
                "RESERVE",
                "NEWCASE",
                "PUTFILE",
                "PUTFILE",
                "EXECUTE",
                "ARCHIVE",
                "GETFILE",
                "UNRESERVE"
            ]
        );
    }

    #[test]
    fn a_getfile_shorter_than_announced_is_an_error() {
        let (c, r) = calc("bash");
        let (port, _h) = daemon(|req| {
            (
                match req[0].as_str() {
                    "RESERVE" => b"Y\n42\n127.0.0.1\nN\n/\n".to_vec(),
                    "EXECUTE" => b"Y\n/\nY\n/\n".to_vec(),
                    "GETFILE" => return (b"Y\n/\n100\nPK".to_vec(), true),
                    _ => b"Y\n/\n".to_vec(),
                },
                req[0] == "UNRESERVE",
            )
        });
        announce(&r, port);
        let (d, files) = case_dir();
        let a = run(&c, d.path(), &files);
        assert_eq!(a.status, AttemptStatus::Failed);
        let e = a.error.unwrap();
        assert!(e.contains("calc-test") && e.contains("bytes"), "{e}");
    }

    #[test]
    fn a_run_failure_keeps_the_reason_and_the_exit_status() {
        let (c, r) = calc("bash");
        let zip = unzip::tests::zip_of(&[("/log.txt", b"Error message: boom\n\nExit status 3\n")]);
        let (port, _h) = daemon(move |req| {
            (
                match req[0].as_str() {
                    "RESERVE" => b"Y\n42\n127.0.0.1\nN\n/\n".to_vec(),
                    "EXECUTE" => b"Y\n/\nH\nN\nrun failed: boom\n\n/\n".to_vec(),
                    "GETFILE" => {
                        let mut v = format!("Y\n/\n{}\n", zip.len()).into_bytes();
                        v.extend(&zip);
                        v
                    }
                    _ => b"Y\n/\n".to_vec(),
                },
                req[0] == "UNRESERVE",
            )
        });
        announce(&r, port);
        let (d, files) = case_dir();
        let a = run(&c, d.path(), &files);
        assert_eq!((a.status, a.exit_code), (AttemptStatus::Failed, Some(3)));
        assert!(a
            .error
            .unwrap()
            .ends_with("with exit code 3: run failed: boom"));
        assert!(d.path().join("err.txt").is_file());
    }

    #[test]
    fn a_secure_daemon_is_refused_and_released() {
        let (c, r) = calc("bash");
        let (port, h) = daemon(|req| {
            (
                match req[0].as_str() {
                    "RESERVE" => b"Y\n42\n127.0.0.1\nY\n/\n".to_vec(),
                    _ => b"Y\n/\n".to_vec(),
                },
                req[0] == "UNRESERVE",
            )
        });
        announce(&r, port);
        let (d, files) = case_dir();
        let a = run(&c, d.path(), &files);
        assert_eq!(a.status, AttemptStatus::Failed);
        assert!(a.error.unwrap().contains("secure mode"));
        let methods: Vec<String> = h.join().unwrap().iter().map(|r| r[0].clone()).collect();
        assert_eq!(methods, ["RESERVE", "UNRESERVE"]);
    }
}
