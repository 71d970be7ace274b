//! `fz funz-servers` and the Python `fz.discover_funz_servers`: listen on
//! one UDP port for a while and list every Funz daemon heard there (the
//! latest announcement per host and daemon name, in the order first
//! heard: a Funz 1.16 daemon announces a new TCP port in each datagram, so
//! upstream's key, host and TCP port, lists one daemon many times).
//!
//! This module only listens: it never connects to a daemon nor reserves
//! one, and it owns no state beyond one call. Parsing is the registry's
//! ([`super::discovery::parse_datagram`]), so a run and a survey read
//! datagrams the same way.

use super::discovery::{parse_datagram, Announce};
use crate::format::Table;
use crate::Value;
use std::net::{IpAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A daemon heard during a survey.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    /// The address its datagrams came from.
    pub host: IpAddr,
    /// Its latest announcement.
    pub announce: Announce,
}

impl Heard {
    /// Whether it said it is free (`idle…`, any case), as upstream.
    pub fn idle(&self) -> bool {
        self.announce.activity.to_lowercase().starts_with("idle")
    }

    /// Whether it is idle and offers `code`.
    pub fn can_run(&self, code: &str) -> bool {
        self.idle() && self.announce.codes.iter().any(|c| c == code)
    }

    /// Upstream's dict: `host`, `tcp_port`, `name`, `os`, `activity`,
    /// `idle`, `codes`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "host": self.host.to_string(),
            "tcp_port": self.announce.tcp_port,
            "name": self.announce.name,
            "os": self.announce.os,
            "activity": self.announce.activity,
            "idle": self.idle(),
            "codes": self.announce.codes,
        })
    }
}

/// The daemons heard as a table (one row each, upstream's keys as
/// columns).
pub fn table(heard: &[Heard]) -> Table {
    let columns = [
        "host", "tcp_port", "name", "os", "activity", "idle", "codes",
    ];
    let rows = heard
        .iter()
        .map(|h| {
            let a = &h.announce;
            vec![
                Value::Str(h.host.to_string()),
                Value::Int(a.tcp_port.into()),
                Value::Str(a.name.clone()),
                Value::Str(a.os.clone()),
                Value::Str(a.activity.clone()),
                Value::Bool(h.idle()),
                Value::Str(a.codes.join(",")),
            ]
        })
        .collect();
    Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// How often a survey wakes up to ask `keep_going` (Ctrl+C in Python).
const TICK: Duration = Duration::from_millis(100);

/// Listens on UDP `0.0.0.0:port` for `duration` and returns every daemon
/// heard. `stop_when` sees each newly heard daemon and ends the survey
/// early by returning true; `keep_going` is asked every 100 ms and ends it
/// when false. A port that cannot be bound is an error naming it.
pub fn survey(
    port: u16,
    duration: Duration,
    mut stop_when: impl FnMut(&Heard) -> bool,
    mut keep_going: impl FnMut() -> bool,
) -> std::io::Result<Vec<Heard>> {
    let socket = UdpSocket::bind(("0.0.0.0", port)).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot listen on UDP port {port}: {e}"))
    })?;
    let deadline = Instant::now() + duration;
    let mut heard: Vec<Heard> = Vec::new();
    let mut buf = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if left.is_zero() || !keep_going() {
            break;
        }
        socket.set_read_timeout(Some(left.min(TICK)))?;
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if is_timeout(&e) => continue,
            Err(e) => return Err(e),
        };
        let Some(announce) = parse_datagram(&buf[..n]) else {
            continue;
        };
        let new = Heard {
            host: from.ip(),
            announce,
        };
        if record(&mut heard, new.clone()) && stop_when(&new) {
            break;
        }
    }
    Ok(heard)
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Keeps the latest announcement per (host, name); true when the daemon
/// was not heard before.
fn record(heard: &mut Vec<Heard>, new: Heard) -> bool {
    let same = |h: &&mut Heard| h.host == new.host && h.announce.name == new.announce.name;
    match heard.iter_mut().find(same) {
        Some(old) => {
            *old = new;
            false
        }
        None => {
            heard.push(new);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_udp_port() -> u16 {
        UdpSocket::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn announce(port: u16, name: &str, tcp: u16, activity: &str) {
        let s = UdpSocket::bind(("127.0.0.1", 0)).unwrap();
        let text = format!("{name}\n{tcp}\n0\nLinux 6\n{activity}\n2\nR\nbash\n");
        s.send_to(text.as_bytes(), ("127.0.0.1", port)).unwrap();
    }

    #[test]
    fn lists_each_daemon_once_with_its_latest_announcement() {
        let port = free_udp_port();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            announce(port, "a", 5555, "idle");
            announce(port, "b", 5556, "already reserved by x");
            announce(port, "a", 5557, "running bash");
            let s = UdpSocket::bind(("127.0.0.1", 0)).unwrap();
            s.send_to(b"garbage", ("127.0.0.1", port)).unwrap();
        });
        let got = survey(port, Duration::from_millis(700), |_| false, || true).unwrap();
        sender.join().unwrap();
        let names: Vec<(&str, u16, bool)> = got
            .iter()
            .map(|h| (h.announce.name.as_str(), h.announce.tcp_port, h.idle()))
            .collect();
        assert_eq!(names, [("a", 5557, false), ("b", 5556, false)]);
        assert_eq!(got[0].announce.activity, "running bash");
        assert_eq!(got[0].announce.codes, ["R", "bash"]);
        let t = table(&got);
        assert_eq!(t.columns[..3], ["host", "tcp_port", "name"]);
        assert_eq!(t.rows[1][1], Value::Int(5556));
        assert_eq!(got[1].to_json()["host"], "127.0.0.1");
        assert_eq!(got[1].to_json()["codes"], serde_json::json!(["R", "bash"]));
    }

    #[test]
    fn stop_when_ends_the_survey_early_and_keep_going_too() {
        let port = free_udp_port();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            announce(port, "a", 5555, "Idle");
        });
        let t = Instant::now();
        let got = survey(port, Duration::from_secs(20), Heard::idle, || true).unwrap();
        sender.join().unwrap();
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(got[0].idle(), "idle in any case, as upstream");
        let t = Instant::now();
        let mut asked = 0;
        let none = survey(
            port,
            Duration::from_secs(20),
            |_| false,
            || {
                asked += 1;
                asked < 3
            },
        )
        .unwrap();
        assert!(none.is_empty() && t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_port_in_use_is_an_error_naming_it() {
        let held = UdpSocket::bind(("0.0.0.0", 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let e = survey(port, Duration::from_millis(10), |_| false, || true).unwrap_err();
        assert!(e.to_string().contains(&format!("UDP port {port}")), "{e}");
    }
}
