//! UDP discovery of Funz daemons (spec §7.2, fixed): one listener per UDP
//! port for a whole run, a registry of the daemons heard there, and the
//! choice of a daemon for one attempt.
//!
//! A daemon sends a datagram to its configured port every 5 s (name, TCP
//! port, start time, OS, activity, codes). The registry keeps the latest
//! one per (source address, TCP port). A slot of the run *claims* a daemon
//! that offers its code, is not claimed by another slot and was not seen
//! refusing a reservation since its last datagram; the claim ends when
//! the attempt does. This module owns the listener thread, the registry
//! and the claims; it never opens a TCP connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// Default wait for a daemon on a silent port (`FZ_FUNZ_DISCOVERY_TIMEOUT`
/// overrides it, in seconds).
pub const DEFAULT_DISCOVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// A daemon not heard for this long is gone (daemons announce every 5 s).
pub const STALE_AFTER: Duration = Duration::from_secs(15);

/// How often waiting threads look at the cancellation flag.
const POLL: Duration = Duration::from_millis(100);

/// The discovery wait of this run: `FZ_FUNZ_DISCOVERY_TIMEOUT` seconds
/// when it is a positive number, else [`DEFAULT_DISCOVERY_TIMEOUT`].
pub fn discovery_timeout() -> Duration {
    crate::config::setting("FZ_FUNZ_DISCOVERY_TIMEOUT")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(DEFAULT_DISCOVERY_TIMEOUT)
}

/// One daemon's announcement.
#[derive(Debug, Clone, PartialEq)]
pub struct Announce {
    /// Calculator name (`calc-5555`).
    pub name: String,
    /// TCP port it takes sessions on.
    pub tcp_port: u16,
    /// `<os name> <os version>`.
    pub os: String,
    /// `idle…`, `already reserved by …`, `running <code>`, `unavailable…`.
    pub activity: String,
    /// The codes it runs.
    pub codes: Vec<String>,
}

/// Parses a datagram (ASCII lines: name, TCP port, start time, OS,
/// activity, N, then N code names); `None` when malformed.
pub fn parse_datagram(bytes: &[u8]) -> Option<Announce> {
    let text = std::str::from_utf8(bytes).ok()?;
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    if lines.len() < 6 {
        return None;
    }
    let tcp_port = lines[1].trim().parse::<u16>().ok().filter(|p| *p > 0)?;
    let n: usize = lines[5].trim().parse().ok()?;
    let codes = lines.get(6..6 + n)?;
    Some(Announce {
        name: lines[0].to_string(),
        tcp_port,
        os: lines[3].to_string(),
        activity: lines[4].to_string(),
        codes: codes.iter().map(|c| c.trim().to_string()).collect(),
    })
}

/// A daemon the registry knows.
#[derive(Debug, Clone)]
struct Daemon {
    info: Announce,
    addr: IpAddr,
    heard: Instant,
    claimed: bool,
    /// When it refused a reservation (skipped until heard again).
    refused: Option<Instant>,
    /// When a connection to it failed (skipped until heard again).
    dead: Option<Instant>,
}

impl Daemon {
    /// Heard recently, and not found unreachable since.
    fn alive(&self, now: Instant) -> bool {
        now.duration_since(self.heard) < STALE_AFTER && self.dead.is_none_or(|t| self.heard > t)
    }
    /// Alive, and not seen refusing a reservation since its last datagram.
    fn usable(&self, now: Instant) -> bool {
        self.alive(now) && self.refused.is_none_or(|t| self.heard > t)
    }
    fn offers(&self, code: &str) -> bool {
        self.info.codes.iter().any(|c| c == code)
    }
    fn describe(&self) -> String {
        format!(
            "{} at {} offering {}",
            self.info.name,
            self.addr,
            if self.info.codes.is_empty() {
                "no code".to_string()
            } else {
                self.info.codes.join(", ")
            }
        )
    }
}

/// Where a daemon is and what it said.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonInfo {
    /// Its announcement.
    pub announce: Announce,
    /// The source address of its datagrams.
    pub addr: IpAddr,
}

type Key = (IpAddr, u16);

#[derive(Debug, Default)]
struct State {
    daemons: HashMap<Key, Daemon>,
}

/// The daemons heard on one UDP port, fed by a listener thread that lives
/// as long as the registry.
#[derive(Debug)]
pub struct Registry {
    port: u16,
    started: Instant,
    state: Mutex<State>,
    changed: Condvar,
    /// Why the port could not be listened on.
    bind_error: Option<String>,
}

/// Which daemons an attempt accepts.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    /// The code it must offer.
    pub code: &'a str,
    /// The addresses of the URI's host (`None`: any source).
    pub hosts: Option<&'a [IpAddr]>,
}

impl Wanted<'_> {
    fn accepts_host(&self, d: &Daemon) -> bool {
        self.hosts.is_none_or(|h| h.contains(&d.addr))
    }
}

/// A daemon reserved for one attempt by this run; released on drop.
#[derive(Debug)]
pub struct Claim {
    registry: Arc<Registry>,
    key: Key,
    /// The daemon, as last heard when claimed.
    pub daemon: DaemonInfo,
}

impl Claim {
    /// The daemon refused the reservation: skip it until its next datagram.
    pub fn refused(&self) {
        self.registry
            .update(&self.key, |d| d.refused = Some(Instant::now()));
    }
    /// The daemon could not be reached or the connection broke: skip it
    /// until it is heard again.
    pub fn dead(&self) {
        self.registry
            .update(&self.key, |d| d.dead = Some(Instant::now()));
    }
    /// The daemon was released cleanly: it is idle now, whatever its last
    /// datagram (sent while it worked for us) said.
    pub fn idle(&self) {
        self.registry
            .update(&self.key, |d| d.info.activity = "idle".to_string());
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.registry.update(&self.key, |d| d.claimed = false);
    }
}

impl Registry {
    /// Starts listening on UDP `0.0.0.0:port`. A port that cannot be bound
    /// gives a registry that reports why on every claim.
    pub fn listen(port: u16) -> Arc<Registry> {
        let mut guard = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        let live = guard.get_or_insert_with(HashMap::new);
        if let Some(r) = live.get(&port).and_then(Weak::upgrade) {
            return r;
        }
        let socket = bind(port);
        let bind_error = socket.as_ref().err().map(|e| {
            format!(
                "UDP discovery failed: cannot listen on UDP port {port}: {e} (is another fz run \
                 or Funz client listening there?)"
            )
        });
        let registry = Arc::new(Registry {
            port,
            started: Instant::now(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            bind_error,
        });
        if let Ok(socket) = socket {
            let weak = Arc::downgrade(&registry);
            let spawned = std::thread::Builder::new()
                .name(format!("funz-udp-{port}"))
                .spawn(move || listen_loop(socket, weak));
            if let Err(e) = spawned {
                crate::log::warn(&format!("Could not start the Funz listener: {e}"));
            }
            live.insert(port, Arc::downgrade(&registry));
        }
        registry
    }

    /// The UDP port listened on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, key: &Key, f: impl FnOnce(&mut Daemon)) {
        if let Some(d) = self.lock().daemons.get_mut(key) {
            f(d);
        }
        self.changed.notify_all();
    }

    /// Records a datagram from `from`.
    pub fn heard(&self, from: SocketAddr, bytes: &[u8]) {
        let Some(info) = parse_datagram(bytes) else {
            crate::log::debug(&format!(
                "Funz: ignored a malformed datagram from {from} on UDP port {}",
                self.port
            ));
            return;
        };
        let key = (from.ip(), info.tcp_port);
        let mut state = self.lock();
        let now = Instant::now();
        match state.daemons.get_mut(&key) {
            Some(d) => {
                d.info = info;
                d.heard = now;
            }
            None => {
                crate::log::debug(&format!(
                    "Funz: heard {} ({}:{}) on UDP port {}",
                    info.name,
                    from.ip(),
                    info.tcp_port,
                    self.port
                ));
                state.daemons.insert(
                    key,
                    Daemon {
                        info,
                        addr: from.ip(),
                        heard: now,
                        claimed: false,
                        refused: None,
                        dead: None,
                    },
                );
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    /// The daemons heard recently (for `fzl --check`), by name.
    pub fn heard_daemons(&self) -> Vec<DaemonInfo> {
        let now = Instant::now();
        let mut v: Vec<DaemonInfo> = self
            .lock()
            .daemons
            .values()
            .filter(|d| now.duration_since(d.heard) < STALE_AFTER)
            .map(|d| DaemonInfo {
                announce: d.info.clone(),
                addr: d.addr,
            })
            .collect();
        v.sort_by(|a, b| a.announce.name.cmp(&b.announce.name));
        v
    }

    /// Waits until a daemon offering the code is heard, or `timeout` from
    /// now passes; for `fzl --check`.
    pub fn wait_for(&self, wanted: &Wanted, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let found = state
                .daemons
                .values()
                .any(|d| d.usable(now) && d.offers(wanted.code) && wanted.accepts_host(d));
            if found || now >= until || self.bind_error.is_some() {
                return found;
            }
            state = self
                .changed
                .wait_timeout(state, (until - now).min(POLL))
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Claims a daemon for one attempt: the first usable, unclaimed daemon
    /// offering the code (an idle one first), waiting while none is free.
    /// The wait ends with an error when no usable daemon offering the code
    /// has been heard and the listener has listened for `timeout`; it lasts
    /// while such daemons exist but are busy (queueing behind them).
    /// `Ok(None)`: `cancelled()` became true.
    pub fn claim(
        self: &Arc<Self>,
        wanted: &Wanted,
        timeout: Duration,
        cancelled: impl Fn() -> bool,
    ) -> Result<Option<Claim>, String> {
        if let Some(e) = &self.bind_error {
            return Err(e.clone());
        }
        let deadline = self.started + timeout;
        let mut state = self.lock();
        loop {
            if cancelled() {
                return Ok(None);
            }
            let now = Instant::now();
            let picked = pick(&state, wanted, now).and_then(|k| state.daemons.get_mut(&k));
            if let Some(d) = picked {
                d.claimed = true;
                let daemon = DaemonInfo {
                    announce: d.info.clone(),
                    addr: d.addr,
                };
                return Ok(Some(Claim {
                    registry: Arc::clone(self),
                    key: (d.addr, d.info.tcp_port),
                    daemon,
                }));
            }
            // Busy daemons (ours or another client's) free up: wait for them.
            let waiting_is_worth = state
                .daemons
                .values()
                .any(|d| d.alive(now) && d.offers(wanted.code) && wanted.accepts_host(d));
            if !waiting_is_worth && now >= deadline {
                return Err(self.nothing_found(&state, wanted, timeout));
            }
            state = self
                .changed
                .wait_timeout(state, POLL)
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Why no daemon can be claimed for `wanted` now (after a wait of
    /// `timeout`), for `fzl --check`.
    pub fn missing(&self, wanted: &Wanted, timeout: Duration) -> String {
        match &self.bind_error {
            Some(e) => e.clone(),
            None => self.nothing_found(&self.lock(), wanted, timeout),
        }
    }

    /// The message when no daemon can be claimed. Its first words are
    /// upstream's, which users (and the retry loop of upstream) know.
    fn nothing_found(&self, state: &State, wanted: &Wanted, timeout: Duration) -> String {
        let now = Instant::now();
        let heard: Vec<&Daemon> = state
            .daemons
            .values()
            .filter(|d| now.duration_since(d.heard) < STALE_AFTER)
            .collect();
        let secs = super::super::sh::format_seconds(timeout);
        if heard.is_empty() {
            return format!(
                "No calculator found on UDP port {}: no Funz daemon announced itself within {secs} s \
                 (FZ_FUNZ_DISCOVERY_TIMEOUT)",
                self.port
            );
        }
        let mut seen: Vec<String> = heard.iter().map(|d| d.describe()).collect();
        seen.sort();
        let from_host: Vec<&&Daemon> = heard.iter().filter(|d| wanted.accepts_host(d)).collect();
        if from_host.is_empty() {
            format!(
                "No calculator found on UDP port {} from the URI's host (heard: {})",
                self.port,
                seen.join("; ")
            )
        } else if !from_host.iter().any(|d| d.offers(wanted.code)) {
            format!(
                "No calculator found on UDP port {} offering code '{}' (heard: {})",
                self.port,
                wanted.code,
                seen.join("; ")
            )
        } else {
            format!(
                "No calculator found on UDP port {}: the daemons offering code '{}' stopped \
                 answering (heard: {})",
                self.port,
                wanted.code,
                seen.join("; ")
            )
        }
    }
}

/// The daemon to claim: usable, unclaimed, from the right host, offering
/// the code and not unavailable; idle ones first, then by name (stable
/// choice).
fn pick(state: &State, wanted: &Wanted, now: Instant) -> Option<Key> {
    let mut candidates: Vec<(&Key, &Daemon)> = state
        .daemons
        .iter()
        .filter(|(_, d)| {
            !d.claimed
                && d.usable(now)
                && d.offers(wanted.code)
                && wanted.accepts_host(d)
                && !d
                    .info
                    .activity
                    .to_ascii_lowercase()
                    .starts_with("unavailable")
        })
        .collect();
    candidates.sort_by_key(|(_, d)| {
        (
            !d.info.activity.to_ascii_lowercase().starts_with("idle"),
            d.info.name.clone(),
            d.addr,
        )
    });
    candidates.first().map(|(k, _)| **k)
}

/// The registries alive in this process, by port: a port is listened on
/// once, however many runs or checks use it at the same time.
static LIVE: Mutex<Option<HashMap<u16, Weak<Registry>>>> = Mutex::new(None);

/// Binds UDP `0.0.0.0:port` without address reuse. A port still held by
/// the listener of a registry just dropped (its thread lets go within
/// [`LINGER`]) is tried again until then.
fn bind(port: u16) -> std::io::Result<UdpSocket> {
    let until = Instant::now() + LINGER * 3;
    loop {
        match UdpSocket::bind(("0.0.0.0", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(LINGER))?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// How long a listener may keep its port after its registry is dropped.
const LINGER: Duration = Duration::from_millis(200);

/// Receives datagrams until the registry is dropped.
fn listen_loop(socket: UdpSocket, registry: Weak<Registry>) {
    let mut buf = [0u8; 4096];
    loop {
        let got = socket.recv_from(&mut buf);
        let Some(registry) = registry.upgrade() else {
            return;
        };
        match got {
            Ok((n, from)) => registry.heard(from, &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                crate::log::warn(&format!("Funz listener on UDP port {}: {e}", registry.port));
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// The registries of one run, one per UDP port, shared by every `funz://`
/// calculator built for it. Dropping the last holder stops the listeners.
#[derive(Debug, Default)]
pub struct Registries {
    ports: Mutex<HashMap<u16, Arc<Registry>>>,
}

impl Registries {
    /// No listener yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry of `port`, listening from the first request on.
    pub fn get(&self, port: u16) -> Arc<Registry> {
        let mut map = self.ports.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(port).or_insert_with(|| Registry::listen(port)))
    }
}

/// The addresses of `host` (`None`: any address).
pub fn resolve_host(host: Option<&str>) -> Result<Option<Vec<IpAddr>>, String> {
    let Some(host) = host else {
        return Ok(None);
    };
    let addrs: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("Cannot resolve Funz host '{host}': {e}"))?
        .map(|a| a.ip())
        .collect();
    Ok(Some(addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATAGRAM: &[u8] = b"calc-5555\n43613\n1796173333869\nLinux 6.1\nidle\n2\nbash\nsh\n";

    #[test]
    fn datagrams() {
        let a = parse_datagram(DATAGRAM).unwrap();
        assert_eq!(a.name, "calc-5555");
        assert_eq!(a.tcp_port, 43613);
        assert_eq!(a.activity, "idle");
        assert_eq!(a.codes, ["bash", "sh"]);
        for bad in [
            &b"calc\n1\n2\n"[..],
            b"calc\nx\n0\nLinux\nidle\n1\nbash\n",
            b"calc\n1\n0\nLinux\nidle\nmany\nbash\n",
            b"calc\n1\n0\nLinux\nidle\n3\nbash\n",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_datagram(bad), None, "{bad:?}");
        }
    }

    fn from(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    /// A registry fed by hand (a port nobody sends to).
    fn registry() -> Arc<Registry> {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        Registry::listen(port)
    }

    #[test]
    fn claims_are_exclusive_and_released_on_drop() {
        let r = registry();
        r.heard(from("127.0.0.1"), DATAGRAM);
        r.heard(
            from("127.0.0.2"),
            b"calc-b\n4000\n0\nLinux\nrunning bash\n1\nbash\n",
        );
        let w = Wanted {
            code: "bash",
            hosts: None,
        };
        let t = Duration::from_millis(300);
        let a = r.claim(&w, t, || false).unwrap().unwrap();
        assert_eq!(a.daemon.announce.name, "calc-5555", "idle first");
        let b = r.claim(&w, t, || false).unwrap().unwrap();
        assert_eq!(b.daemon.announce.name, "calc-b");
        // Both claimed: a third claim waits; cancelling ends the wait.
        let started = Instant::now();
        let stop_at = started + Duration::from_millis(400);
        assert!(r
            .claim(&w, t, || Instant::now() > stop_at)
            .unwrap()
            .is_none());
        assert!(started.elapsed() >= Duration::from_millis(400));
        drop(a);
        let again = r.claim(&w, t, || false).unwrap().unwrap();
        assert_eq!(again.daemon.announce.name, "calc-5555");
        // A refusing daemon is skipped until it is heard again, and waited
        // for meanwhile (it is busy, not gone), even past the timeout.
        again.refused();
        drop(again);
        drop(b);
        let c = r.claim(&w, t, || false).unwrap().unwrap();
        assert_eq!(c.daemon.announce.name, "calc-b");
        let waited = Instant::now();
        let until = waited + Duration::from_millis(500);
        assert!(r.claim(&w, t, || Instant::now() > until).unwrap().is_none());
        assert!(waited.elapsed() >= Duration::from_millis(500));
        drop(c);
        r.heard(from("127.0.0.1"), DATAGRAM);
        let d = r.claim(&w, t, || false).unwrap().unwrap();
        assert_eq!(d.daemon.announce.name, "calc-5555");
    }

    #[test]
    fn silence_code_and_host_give_clear_errors_after_the_timeout() {
        let r = registry();
        let w = Wanted {
            code: "bash",
            hosts: None,
        };
        let t = Duration::from_millis(200);
        let e = r.claim(&w, t, || false).unwrap_err();
        assert!(
            e.starts_with(&format!("No calculator found on UDP port {}", r.port())),
            "{e}"
        );
        assert!(e.contains("FZ_FUNZ_DISCOVERY_TIMEOUT"), "{e}");
        // Once the listener has waited that long, later claims fail at once.
        let quick = Instant::now();
        assert!(r.claim(&w, t, || false).is_err());
        assert!(quick.elapsed() < Duration::from_millis(150));

        r.heard(from("127.0.0.1"), DATAGRAM);
        let e = r
            .claim(
                &Wanted {
                    code: "R",
                    hosts: None,
                },
                t,
                || false,
            )
            .unwrap_err();
        assert!(e.contains("offering code 'R'"), "{e}");
        assert!(
            e.contains("calc-5555 at 127.0.0.1 offering bash, sh"),
            "{e}"
        );
        let other: [IpAddr; 1] = ["10.9.9.9".parse().unwrap()];
        let e = r
            .claim(
                &Wanted {
                    code: "bash",
                    hosts: Some(&other),
                },
                t,
                || false,
            )
            .unwrap_err();
        assert!(e.contains("from the URI's host"), "{e}");
        // A dead daemon is skipped until heard again.
        let c = r.claim(&w, t, || false).unwrap().unwrap();
        c.dead();
        drop(c);
        let e = r.claim(&w, t, || false).unwrap_err();
        assert!(e.contains("stopped answering"), "{e}");
    }

    #[test]
    fn the_listener_hears_datagrams_and_a_busy_port_is_an_error() {
        let r = registry();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(DATAGRAM, ("127.0.0.1", r.port())).unwrap();
        let w = Wanted {
            code: "sh",
            hosts: None,
        };
        assert!(r.wait_for(&w, Duration::from_secs(5)));
        let heard = r.heard_daemons();
        assert_eq!(heard.len(), 1);
        assert_eq!(heard[0].addr, "127.0.0.1".parse::<IpAddr>().unwrap());
        // One listener per port in a process: asking again shares it.
        assert!(Arc::ptr_eq(&Registry::listen(r.port()), &r));
        // A port another program holds is a clear error.
        let foreign = UdpSocket::bind("0.0.0.0:0").unwrap();
        let taken = Registry::listen(foreign.local_addr().unwrap().port());
        let e = taken
            .claim(&w, Duration::from_secs(1), || false)
            .unwrap_err();
        assert!(
            e.starts_with("UDP discovery failed: cannot listen on UDP port"),
            "{e}"
        );
    }

    #[test]
    fn a_port_is_listened_on_again_right_after_its_registry_is_dropped() {
        let r = registry();
        let port = r.port();
        drop(r);
        let again = Registry::listen(port);
        assert!(again.bind_error.is_none(), "{:?}", again.bind_error);
    }
}
