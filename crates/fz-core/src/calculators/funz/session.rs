//! One TCP session with a Funz daemon (spec §7.3–7.4): line framing,
//! responses with their heartbeat prologue, raw byte transfers, and the
//! requests of the authoritative sequence (RESERVE in two phases,
//! NEWCASE, PUTFILE with both acknowledgements, EXECUTE with its immediate
//! and final answers, ARCHIVE, GETFILE with the `S` sync line, UNRESERVE,
//! and KILL on a side connection).
//!
//! Every read is bounded: by the attempt's wall-clock deadline, by the
//! run's cancellation, and by [`SILENCE_LIMIT`] without a byte from the
//! daemon (it sends a heartbeat every 100 ms while a case runs). This
//! module knows nothing of case directories or discovery.

use crate::calculators::Cancel;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Longest time without a byte from the daemon before the connection is
/// taken as lost (the Java client gives up after 50 s).
pub const SILENCE_LIMIT: Duration = Duration::from_secs(60);

/// How long a TCP connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Granularity of the deadline and cancellation checks while reading.
const TICK: Duration = Duration::from_millis(100);

/// The line closing a request or a response.
const END: &str = "/";

/// Why a session step did not complete.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The attempt's deadline passed.
    Timeout,
    /// The run was cancelled (Ctrl+C).
    Interrupted,
    /// The connection failed or closed (the daemon may be gone).
    Lost(String),
    /// The daemon answered something the protocol does not allow.
    Protocol(String),
    /// The daemon said no (`N` or `E`), with its reason.
    Refused(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Timeout => write!(f, "time limit reached"),
            Stop::Interrupted => write!(f, "interrupted by user"),
            Stop::Lost(why) => write!(f, "connection lost: {why}"),
            Stop::Protocol(why) => write!(f, "protocol error: {why}"),
            Stop::Refused(why) => write!(f, "{why}"),
        }
    }
}

/// A response: `Y` with its lines, or a refusal (`N`/`E` and the reason).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The lines after `Y`, before `/`.
    pub lines: Vec<String>,
}

/// What RESERVE gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// The secret that identifies the reservation (for KILL).
    pub secret: String,
    /// Our address as the daemon sees it.
    pub client_ip: String,
}

/// A TCP session with a daemon.
#[derive(Debug)]
pub struct Session<'a> {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    deadline: Option<Instant>,
    cancel: &'a Cancel,
    /// The daemon's address, for messages.
    pub addr: SocketAddr,
}

impl<'a> Session<'a> {
    /// Opens a session with `host:port`.
    pub fn connect(
        host: &str,
        port: u16,
        deadline: Option<Instant>,
        cancel: &'a Cancel,
    ) -> Result<Self, Stop> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| Stop::Lost(format!("cannot resolve {host}: {e}")))?
            .collect();
        let mut last = format!("no address for {host}");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    stream
                        .set_read_timeout(Some(TICK))
                        .map_err(|e| Stop::Lost(e.to_string()))?;
                    let writer = stream.try_clone().map_err(|e| Stop::Lost(e.to_string()))?;
                    return Ok(Session {
                        reader: BufReader::new(stream),
                        writer,
                        deadline,
                        cancel,
                        addr,
                    });
                }
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        Err(Stop::Lost(last))
    }

    /// Ends the deadline and cancellation checks (for the closing
    /// requests, which must go out even after a timeout or Ctrl+C), with a
    /// short limit of their own.
    pub fn closing(&mut self, limit: Duration) {
        self.deadline = Some(Instant::now() + limit);
        self.cancel = &NEVER;
    }

    /// Sends lines, each followed by `\n`.
    pub fn send(&mut self, lines: &[&str]) -> Result<(), Stop> {
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        self.send_bytes(text.as_bytes())
    }

    /// Sends raw bytes.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.writer
            .write_all(bytes)
            .map_err(|e| Stop::Lost(e.to_string()))
    }

    /// Sends the contents of a file (exactly `size` bytes).
    pub fn send_file(&mut self, path: &std::path::Path, size: u64) -> Result<(), Stop> {
        let file = std::fs::File::open(path)
            .map_err(|e| Stop::Protocol(format!("cannot read {}: {e}", path.display())))?;
        let sent = std::io::copy(&mut file.take(size), &mut self.writer)
            .map_err(|e| Stop::Lost(e.to_string()))?;
        if sent != size {
            return Err(Stop::Protocol(format!(
                "{} changed size while being sent",
                path.display()
            )));
        }
        Ok(())
    }

    /// Why a read must stop now, if it must.
    fn check(&self, quiet_since: Instant) -> Result<(), Stop> {
        if self.cancel.must_kill() {
            return Err(Stop::Interrupted);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Stop::Timeout);
        }
        if quiet_since.elapsed() >= SILENCE_LIMIT {
            return Err(Stop::Lost(format!(
                "no data from the daemon for {} s",
                SILENCE_LIMIT.as_secs()
            )));
        }
        Ok(())
    }

    /// Reads one line (without its `\n`).
    pub fn line(&mut self) -> Result<String, Stop> {
        let mut buf = Vec::new();
        let mut quiet_since = Instant::now();
        loop {
            self.check(quiet_since)?;
            let before = buf.len();
            match self.reader.read_until(b'\n', &mut buf) {
                Ok(_) if buf.ends_with(b"\n") => {
                    buf.pop();
                    if buf.ends_with(b"\r") {
                        buf.pop();
                    }
                    return Ok(String::from_utf8_lossy(&buf).into_owned());
                }
                // No newline at the end: the stream ended.
                Ok(_) => return Err(Stop::Lost("the daemon closed the connection".into())),
                Err(e) if is_tick(&e) => {
                    if buf.len() > before {
                        quiet_since = Instant::now();
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Stop::Lost(e.to_string())),
            }
        }
    }

    /// Reads exactly `size` raw bytes. Memory grows with the bytes that
    /// really arrive, not with the announced size.
    pub fn bytes(&mut self, size: usize) -> Result<Vec<u8>, Stop> {
        const CHUNK: usize = 1 << 20;
        let mut out = Vec::with_capacity(size.min(64 * CHUNK));
        let mut chunk = vec![0u8; CHUNK];
        let mut got = 0;
        let mut quiet_since = Instant::now();
        while got < size {
            self.check(quiet_since)?;
            let want = (size - got).min(CHUNK);
            match self.reader.read(&mut chunk[..want]) {
                Ok(0) => {
                    return Err(Stop::Lost(format!(
                        "the daemon closed the connection after {got} of {size} bytes"
                    )))
                }
                Ok(n) => {
                    out.extend_from_slice(&chunk[..n]);
                    got += n;
                    quiet_since = Instant::now();
                }
                Err(e) if is_tick(&e) || e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Stop::Lost(e.to_string())),
            }
        }
        Ok(out)
    }

    /// Reads a response: `H` lines and `I` + info line are skipped before
    /// the first real line only; then `Y` and its lines up to `/`, or
    /// `N`/`E` and the reason ([`Stop::Refused`]).
    pub fn response(&mut self) -> Result<Response, Stop> {
        let first = loop {
            let l = self.line()?;
            match l.as_str() {
                "H" => continue,
                "I" => {
                    let info = self.line()?;
                    crate::log::debug(&format!("Funz {}: {info}", self.addr));
                }
                _ => break l,
            }
        };
        let mut lines = Vec::new();
        loop {
            let l = self.line()?;
            if l == END {
                break;
            }
            lines.push(l);
        }
        match first.as_str() {
            "Y" => Ok(Response { lines }),
            "N" | "E" => Err(Stop::Refused(
                lines
                    .iter()
                    .map(|l| l.trim())
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
            other => Err(Stop::Protocol(format!(
                "unexpected answer '{other}' (expected Y, N or E)"
            ))),
        }
    }

    /// A request answered by a plain `Y /`.
    fn simple(&mut self, lines: &[&str]) -> Result<Response, Stop> {
        self.send(lines)?;
        self.response()
    }

    /// RESERVE, both phases: the code and the tagged values (`USERNAME`).
    /// A daemon in secure mode is refused ([`Stop::Protocol`]): fz does not
    /// encrypt transfers.
    pub fn reserve(&mut self, code: &str, user: &str) -> Result<Reservation, Stop> {
        self.simple(&["RESERVE", END])?;
        self.send(&[code, "1", "USERNAME", user])?;
        let r = self.response()?;
        let [secret, client_ip, secure] = r.lines.as_slice() else {
            return Err(Stop::Protocol(format!(
                "RESERVE answered {} lines instead of 3 (secret, address, secure flag)",
                r.lines.len()
            )));
        };
        if secure.trim() == "Y" {
            return Err(Stop::Protocol(
                "the daemon runs in secure mode (encrypted transfers), which fz does not support; \
                 use a daemon without secure=\"yes\""
                    .into(),
            ));
        }
        Ok(Reservation {
            secret: secret.clone(),
            client_ip: client_ip.clone(),
        })
    }

    /// NEWCASE with the tagged values (`USERNAME`).
    pub fn new_case(&mut self, user: &str) -> Result<(), Stop> {
        self.simple(&["NEWCASE", END, "1", "USERNAME", user])
            .map(drop)
    }

    /// PUTFILE of `local` as `name` (`/` separated): request, first
    /// acknowledgement, the bytes, second acknowledgement.
    pub fn put_file(&mut self, name: &str, local: &std::path::Path) -> Result<(), Stop> {
        let size = std::fs::metadata(local)
            .map_err(|e| Stop::Protocol(format!("cannot read {}: {e}", local.display())))?
            .len();
        self.simple(&["PUTFILE", name, &size.to_string(), END])?;
        self.send_file(local, size)?;
        self.response().map(drop)
    }

    /// EXECUTE: the immediate answer (accepted or not).
    pub fn execute(&mut self, code: &str) -> Result<(), Stop> {
        self.simple(&["EXECUTE", code, END]).map(drop)
    }

    /// The final answer of EXECUTE (heartbeats skipped): `Ok` when the run
    /// succeeded, [`Stop::Refused`] with the reason when it failed.
    pub fn execute_end(&mut self) -> Result<(), Stop> {
        self.response().map(drop)
    }

    /// ARCHIVE then GETFILE: the results archive's bytes.
    pub fn archive(&mut self) -> Result<Vec<u8>, Stop> {
        self.simple(&["ARCHIVE", END])?;
        self.simple(&["GETFILE", END])?;
        let size_line = self.line()?;
        let size: usize = size_line
            .trim()
            .parse()
            .map_err(|_| Stop::Protocol(format!("GETFILE announced the size '{size_line}'")))?;
        self.send(&["S"])?;
        self.bytes(size)
    }

    /// UNRESERVE (the daemon then closes the session).
    pub fn unreserve(&mut self) -> Result<(), Stop> {
        self.simple(&["UNRESERVE", END]).map(drop)
    }
}

/// A cancellation that never fires (for the closing requests).
static NEVER: std::sync::LazyLock<Cancel> = std::sync::LazyLock::new(Cancel::new);

fn is_tick(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// KILL the running case of a reservation, on a connection of its own
/// (the session's connection is busy with EXECUTE).
pub fn kill(host: &str, port: u16, secret: &str) -> Result<(), Stop> {
    let never = Cancel::new();
    let deadline = Some(Instant::now() + Duration::from_secs(10));
    let mut side = Session::connect(host, port, deadline, &never)?;
    side.simple(&["KILL", secret, END]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A scripted daemon: answers each expected request with the given
    /// bytes, then closes. Returns what the client sent.
    fn peer(script: Vec<(usize, Vec<u8>)>) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        peer_then(script, false)
    }

    /// [`peer`], keeping the connection open (up to 5 s) after the script
    /// when `hold`.
    fn peer_then(
        script: Vec<(usize, Vec<u8>)>,
        hold: bool,
    ) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            for (need, answer) in script {
                let mut buf = vec![0u8; need];
                s.read_exact(&mut buf).unwrap();
                got.extend(buf);
                s.write_all(&answer).unwrap();
            }
            if hold {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.read(&mut [0u8; 1]);
            }
            got
        });
        (port, h)
    }

    #[test]
    fn reserve_reads_both_phases_and_refuses_secure_mode() {
        let c = Cancel::new();
        let req1 = "RESERVE\n/\n".len();
        let req2 = "bash\n1\nUSERNAME\nme\n".len();
        let (port, h) = peer(vec![
            (req1, b"Y\n/\n".to_vec()),
            (req2, b"Y\n123\n127.0.0.1\nN\n/\n".to_vec()),
        ]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        let r = s.reserve("bash", "me").unwrap();
        drop(s);
        assert_eq!(r.secret, "123");
        assert_eq!(
            String::from_utf8(h.join().unwrap()).unwrap(),
            "RESERVE\n/\nbash\n1\nUSERNAME\nme\n"
        );

        let (port, _h) = peer(vec![
            (req1, b"Y\n/\n".to_vec()),
            (req2, b"Y\n123\n127.0.0.1\nY\n/\n".to_vec()),
        ]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        let e = s.reserve("bash", "me").unwrap_err();
        drop(s);
        assert!(e.to_string().contains("secure mode"), "{e}");

        let (port, _h) = peer(vec![(req1, b"N\nalready reserved\n/\n".to_vec())]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        assert_eq!(
            s.reserve("bash", "me").unwrap_err(),
            Stop::Refused("already reserved".into())
        );
    }

    #[test]
    fn heartbeats_are_skipped_only_before_the_first_line() {
        let c = Cancel::new();
        let (port, _h) = peer(vec![(
            "EXECUTE\nbash\n/\n".len(),
            b"Y\n/\nH\nH\nI\n50%\nH\nN\nrun failed: boom\n\n/\n".to_vec(),
        )]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        s.execute("bash").unwrap();
        assert_eq!(
            s.execute_end().unwrap_err(),
            Stop::Refused("run failed: boom".into())
        );
        // An `H` after the first line is part of the answer, not skipped.
        let (port, _h) = peer(vec![("ARCHIVE\n/\n".len(), b"Y\nH\n/\n".to_vec())]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        assert_eq!(
            s.simple(&["ARCHIVE", END]).unwrap().lines,
            vec!["H".to_string()]
        );
    }

    #[test]
    fn putfile_reads_both_acknowledgements() {
        let c = Cancel::new();
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.txt");
        std::fs::write(&f, "abc").unwrap();
        let req = "PUTFILE\nsub/a.txt\n3\n/\n".len();
        // Without the second acknowledgement the daemon closes: an error,
        // never a silent success.
        let (port, _h) = peer(vec![(req, b"Y\n/\n".to_vec()), (3, Vec::new())]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        assert!(matches!(
            s.put_file("sub/a.txt", &f).unwrap_err(),
            Stop::Lost(_)
        ));
        let (port, h) = peer(vec![(req, b"Y\n/\n".to_vec()), (3, b"Y\n/\n".to_vec())]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        s.put_file("sub/a.txt", &f).unwrap();
        assert_eq!(
            String::from_utf8(h.join().unwrap()).unwrap(),
            "PUTFILE\nsub/a.txt\n3\n/\nabc"
        );
    }

    #[test]
    fn getfile_syncs_and_needs_every_byte() {
        let c = Cancel::new();
        let script = |payload: &[u8]| {
            vec![
                ("ARCHIVE\n/\n".len(), b"Y\n/\n".to_vec()),
                ("GETFILE\n/\n".len(), b"Y\n/\n10\n".to_vec()),
                ("S\n".len(), payload.to_vec()),
            ]
        };
        let (port, h) = peer(script(b"0123456789"));
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        assert_eq!(s.archive().unwrap(), b"0123456789");
        assert!(String::from_utf8(h.join().unwrap())
            .unwrap()
            .ends_with("GETFILE\n/\nS\n"));
        let (port, _h) = peer(script(b"01234"));
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        let e = s.archive().unwrap_err();
        assert!(e.to_string().contains("after 5 of 10 bytes"), "{e}");
    }

    #[test]
    fn deadline_and_cancel_bound_every_read() {
        let c = Cancel::new();
        let (port, _h) = peer_then(
            vec![("EXECUTE\nbash\n/\n".len(), b"Y\n/\nH\nH\n".to_vec())],
            true,
        );
        let deadline = Some(Instant::now() + Duration::from_millis(500));
        let mut s = Session::connect("127.0.0.1", port, deadline, &c).unwrap();
        s.execute("bash").unwrap();
        let t = Instant::now();
        assert_eq!(s.execute_end().unwrap_err(), Stop::Timeout);
        assert!(t.elapsed() < Duration::from_secs(2));

        let (port, _h) = peer_then(vec![("EXECUTE\nbash\n/\n".len(), b"Y\n/\n".to_vec())], true);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        s.execute("bash").unwrap();
        c.kill_running();
        assert_eq!(s.execute_end().unwrap_err(), Stop::Interrupted);
        // Closing requests still go out after Ctrl+C.
        s.closing(Duration::from_millis(300));
        assert!(matches!(
            s.unreserve().unwrap_err(),
            Stop::Timeout | Stop::Lost(_)
        ));
    }

    #[test]
    fn odd_answers_are_protocol_errors() {
        let c = Cancel::new();
        let (port, _h) = peer(vec![(
            "NEWCASE\n/\n1\nUSERNAME\nme\n".len(),
            b"maybe\n/\n".to_vec(),
        )]);
        let mut s = Session::connect("127.0.0.1", port, None, &c).unwrap();
        let e = s.new_case("me").unwrap_err();
        assert!(matches!(e, Stop::Protocol(_)), "{e:?}");
    }
}
