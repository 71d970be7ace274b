//! `funz://` calculators driven through the real binary against real Java
//! Funz daemons (`.ci/services/funz.sh start` runs two on the UDP port
//! `FZ_TEST_FUNZ_UDP_PORT` and a secure one on
//! `FZ_TEST_FUNZ_SECURE_UDP_PORT`, and gives the jars in
//! `FZ_TEST_FUNZ_CLASSPATH` for daemons of a test's own).
//!
//! Without `FZ_TEST_FUNZ_UDP_PORT` every test prints why and returns,
//! unless `CI` is set: then it fails, since CI must exercise the real
//! daemons. The tests take turns (one lock): a UDP port is listened on by
//! one fz process at a time.

mod common;
use common::{json_rows, peak_overlap, perfectgas, success_rows, Sandbox};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The daemons of `.ci/services/funz.sh`.
struct Daemons {
    port: u16,
    secure_port: u16,
    classpath: String,
    dir: PathBuf,
}

static TURN: Mutex<()> = Mutex::new(());

/// The daemons, when started; `None` (reason printed) outside CI.
fn daemons() -> Option<Daemons> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let Some(port) = var("FZ_TEST_FUNZ_UDP_PORT") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI is set but FZ_TEST_FUNZ_UDP_PORT is not: start the Funz daemons with \
                 'eval \"$(bash .ci/services/funz.sh start)\"'"
            );
        }
        eprintln!(
            "skipped: FZ_TEST_FUNZ_UDP_PORT is not set (run 'eval \"$(bash \
             .ci/services/funz.sh start)\"' to test funz:// against real Funz daemons)"
        );
        return None;
    };
    let need = |name: &str| var(name).unwrap_or_else(|| panic!("{name} is not set"));
    Some(Daemons {
        port: port.parse().expect("FZ_TEST_FUNZ_UDP_PORT"),
        secure_port: need("FZ_TEST_FUNZ_SECURE_UDP_PORT")
            .parse()
            .expect("FZ_TEST_FUNZ_SECURE_UDP_PORT"),
        classpath: need("FZ_TEST_FUNZ_CLASSPATH"),
        dir: PathBuf::from(need("FZ_TEST_FUNZ_DIR")),
    })
}

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// A UDP port nobody listens on right now.
fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    s.local_addr().unwrap().port()
}

const GRID: &str = r#"{"T_celsius": [0, 20, 40], "V_L": [1, 2.5], "n_mol": 1}"#;

/// The perfect-gas example, its input made runnable by the daemons'
/// `bash` code (which runs `bash input.txt`): the input's `key=value`
/// lines are shell assignments, and a last line runs the example's script
/// on it. `sh://bash PerfectGazPressure.sh` ignores that line.
fn runnable_perfectgas(sb: &Sandbox) {
    perfectgas(sb);
    let script = sb.path().join("PerfectGazPressure.sh");
    let mut input = sb.read("input.txt");
    input.push_str(&format!("bash '{}' input.txt\n", script.display()));
    sb.write("input.txt", &input);
}

/// `(T, V, pressure, status)` of each row.
fn table(rows: &[serde_json::Value]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["T_celsius"].to_string(),
                r["V_L"].to_string(),
                r["pressure"].to_string(),
                r["status"].to_string(),
            )
        })
        .collect()
}

/// fzr on `input` with the variables `vars` and model `model` (an alias
/// or inline JSON), into `results`.
fn fzr(
    sb: &Sandbox,
    input: &str,
    model: &str,
    vars: &str,
    calcs: &[&str],
    results: &str,
) -> assert_cmd::Command {
    let mut cmd = sb.cmd("fzr");
    cmd.args([input, "-m", model, "-v", vars, "-f", "json", "-r", results]);
    for c in calcs {
        cmd.args(["-c", c]);
    }
    cmd
}

/// A model reading `result = …` from `output.txt`.
const RESULT_MODEL: &str = r#"{"varprefix": "$", "delim": "{}", "output": {"result": "grep 'result = ' output.txt | awk '{print $3}'"}}"#;

#[test]
fn perfect_gas_over_funz_gives_the_same_table_as_sh() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    runnable_perfectgas(&sb);
    let uri = format!("funz://:{}/bash", d.port);
    let reference = success_rows(
        &fzr(
            &sb,
            "input.txt",
            "perfectgas",
            GRID,
            &["sh://bash PerfectGazPressure.sh"],
            "by_sh",
        )
        .output()
        .unwrap(),
    );
    assert_eq!(reference.len(), 6);
    assert!(reference.iter().all(|r| r["pressure"].is_number()));
    let rows = success_rows(
        &fzr(
            &sb,
            "input.txt",
            "perfectgas",
            GRID,
            &[&uri, &uri],
            "by_funz",
        )
        .output()
        .unwrap(),
    );
    assert_eq!(table(&rows), table(&reference));
    for r in &rows {
        assert!(common::is_slot_of(&r["calculator"], &uri), "{r}");
        assert_eq!(r["command"], "bash");
        assert_eq!(r["attempts"], 1);
    }
    let case = "by_funz/T_celsius=0,V_L=1,n_mol=1";
    let log = sb.read(&format!("{case}/log.txt"));
    assert!(log.contains("Funz calculator: calc-a"), "{log}");
    assert!(log.contains(&format!("Funz UDP port: {}", d.port)), "{log}");
    assert!(log.contains("Command: bash input.txt"), "{log}");
    assert!(sb.read(&format!("{case}/out.txt")).contains("pressure = "));
    assert!(sb.path().join(case).join("err.txt").is_file());
    // The journal's host column names the daemon that ran each attempt.
    let journal = sb.read("by_funz/fz_journal.tsv");
    let hosts: Vec<&str> = journal
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(8))
        .collect();
    assert_eq!(hosts.len(), 6, "{journal}");
    assert!(
        hosts
            .iter()
            .all(|h| h.starts_with("calc-a") && h.contains("127.0.0.1")),
        "{journal}"
    );
}

#[test]
fn two_daemons_on_one_port_run_two_cases_at_once() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    let times = sb.path().join("times.log");
    sb.write(
        "input.txt",
        &format!(
            "x=${{x}}\necho \"$(date +%s.%N) 1\" >> '{t}'\nsleep 2\necho \"$(date +%s.%N) -1\" >> '{t}'\n\
             echo \"result = $x\" > output.txt\n",
            t = times.display()
        ),
    );
    let uri = format!("funz://:{}/bash", d.port);
    let rows = success_rows(
        &fzr(
            &sb,
            "input.txt",
            RESULT_MODEL,
            r#"{"x": [1, 2]}"#,
            &[&uri, &uri],
            "res",
        )
        .output()
        .unwrap(),
    );
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "done"), "{rows:?}");
    assert_eq!(
        (rows[0]["result"].clone(), rows[1]["result"].clone()),
        (1.into(), 2.into())
    );
    let events: Vec<(f64, i32)> = std::fs::read_to_string(&times)
        .unwrap()
        .lines()
        .map(|l| {
            let (t, d) = l.split_once(' ').unwrap();
            (t.parse().unwrap(), d.parse().unwrap())
        })
        .collect();
    assert_eq!(events.len(), 4);
    assert_eq!(peak_overlap(events), 2, "the two cases ran at once");
    let names: Vec<String> = ["x=1", "x=2"]
        .iter()
        .map(|c| {
            let log = sb.read(&format!("res/{c}/log.txt"));
            log.lines()
                .find_map(|l| l.strip_prefix("Funz calculator: "))
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_ne!(names[0], names[1], "one case per daemon");
}

#[test]
fn a_case_with_a_subdirectory_input_round_trips() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    // The directory's files go up in sorted order: a_run.sh first, which
    // the daemon's bash code runs.
    sb.write(
        "model/a_run.sh",
        "x=${x}\nread v < data/deep/values.txt\nmkdir -p res/deeper\n\
         echo \"result = $((x * v))\" > output.txt\necho made > res/deeper/file.txt\n",
    );
    sb.write("model/data/deep/values.txt", "7\n");
    let uri = format!("funz://:{}/bash", d.port);
    let rows = success_rows(
        &fzr(&sb, "model", RESULT_MODEL, r#"{"x": [3]}"#, &[&uri], "res")
            .output()
            .unwrap(),
    );
    assert_eq!(rows[0]["result"], 21, "{rows:?}");
    let case = sb.path().join("res/x=3");
    assert_eq!(sb.read("res/x=3/res/deeper/file.txt"), "made\n");
    assert_eq!(sb.read("res/x=3/data/deep/values.txt"), "7\n");
    assert!(case.join("a_run.sh").is_file());
}

/// The processes whose working directory is under `dir`.
fn processes_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) else {
            continue;
        };
        if cwd.starts_with(dir) {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            found.push(format!(
                "{} {}",
                e.file_name().to_string_lossy(),
                String::from_utf8_lossy(&cmd).replace('\0', " ")
            ));
        }
    }
    found
}

fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// A case input for the daemons' bash code: case 1 records its PID in
/// `pid_file` and runs 30 s (one-second sleeps), the others end at once.
fn slow_first_case(sb: &Sandbox, pid_file: &Path) {
    sb.write(
        "input.txt",
        &format!(
            "x=${{x}}\nif [ \"$x\" = 1 ]; then echo $$ > '{}'; for i in $(seq 30); do sleep 1; done; fi\n\
             echo \"result = $x\" > output.txt\n",
            pid_file.display()
        ),
    );
}

/// The name of the daemon in a case's `log.txt`.
fn daemon_of(sb: &Sandbox, case: &str) -> String {
    sb.read(&format!("{case}/log.txt"))
        .lines()
        .find_map(|l| l.strip_prefix("Funz calculator: "))
        .unwrap_or("?")
        .split(' ')
        .next()
        .unwrap_or("?")
        .to_string()
}

#[test]
fn a_timeout_kills_the_case_on_the_daemon_which_takes_the_next_case() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    // A daemon of our own, alone on its port: the next case can only go
    // to it.
    let own_port = free_udp_port();
    let own_dir = sb.path().join("own-daemon");
    let mut own = own_daemon(&d, "calc-alone", &own_dir, own_port);
    let pid_file = sb.path().join("case.pid");
    slow_first_case(&sb, &pid_file);
    let uri = format!("funz://:{own_port}/bash?timeout=3");
    let t0 = Instant::now();
    let out = fzr(
        &sb,
        "input.txt",
        RESULT_MODEL,
        r#"{"x": [1, 2]}"#,
        &[&uri],
        "res",
    )
    .env("FZ_MAX_RETRIES", "1")
    .output()
    .unwrap();
    let rows = json_rows(&out.stdout);
    let _ = own.kill();
    let _ = own.wait();
    assert_eq!(rows[0]["status"], "timeout", "{rows:?}");
    let error = rows[0]["error"].as_str().unwrap();
    assert!(error.contains("timed out after 3 seconds"), "{error}");
    assert!(error.contains("calc-alone"), "{error}");
    assert_eq!(rows[1]["status"], "done", "{rows:?}");
    assert_eq!(rows[1]["result"], 2);
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    // The case's shell is gone on the daemon (its last `sleep 1` ends
    // within a second).
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !alive(&pid),
        "the case's process {pid} survived the timeout"
    );
    assert_eq!(
        processes_under(&own_dir.join("spool")),
        Vec::<String>::new()
    );
    assert_eq!(daemon_of(&sb, "res/x=2"), "calc-alone");
}

#[test]
fn a_code_the_daemons_do_not_offer_is_a_clear_error() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    sb.write("input.txt", "x=${x}\n");
    let uri = format!("funz://:{}/R", d.port);
    let out = fzr(
        &sb,
        "input.txt",
        RESULT_MODEL,
        r#"{"x": [1]}"#,
        &[&uri],
        "res",
    )
    .env("FZ_FUNZ_DISCOVERY_TIMEOUT", "4")
    .env("FZ_MAX_RETRIES", "2")
    .output()
    .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "failed");
    let error = rows[0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!(
            "No calculator found on UDP port {} offering code 'R'",
            d.port
        )),
        "{error}"
    );
    assert!(
        error.contains("calc-a1 at 127.0.0.1 offering bash, sh"),
        "{error}"
    );
}

#[test]
fn a_silent_port_fails_the_cases_after_the_discovery_timeout() {
    if daemons().is_none() {
        return;
    }
    let _turn = turn();
    let sb = Sandbox::new();
    sb.write("input.txt", "x=${x}\n");
    let port = free_udp_port();
    let uri = format!("funz://:{port}/bash");
    let t0 = Instant::now();
    let out = fzr(
        &sb,
        "input.txt",
        RESULT_MODEL,
        r#"{"x": [1, 2, 3]}"#,
        &[&uri],
        "res",
    )
    .env("FZ_FUNZ_DISCOVERY_TIMEOUT", "2")
    .output()
    .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert_eq!(r["status"], "failed");
        let e = r["error"].as_str().unwrap();
        assert!(
            e.starts_with(&format!("No calculator found on UDP port {port}")),
            "{e}"
        );
    }
    // fzl --check says the same.
    let out = sb
        .cmd("fzl")
        .args(["-c", &uri, "--check"])
        .env("FZ_FUNZ_DISCOVERY_TIMEOUT", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("No calculator found on UDP port {port}")),
        "{err}"
    );
    let good = format!("funz://:{}/bash", daemons().unwrap().port);
    let out = sb
        .cmd("fzl")
        .args(["-c", &good, "--check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_secure_daemon_is_refused_with_a_clear_error() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    sb.write("input.txt", "x=${x}\n");
    let uri = format!("funz://:{}/bash", d.secure_port);
    let out = fzr(
        &sb,
        "input.txt",
        RESULT_MODEL,
        r#"{"x": [1]}"#,
        &[&uri],
        "res",
    )
    .env("FZ_MAX_RETRIES", "1")
    .output()
    .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "failed");
    let e = rows[0]["error"].as_str().unwrap();
    assert!(
        e.contains("calc-secure") && e.contains("secure mode"),
        "{e}"
    );
}

/// Waits until the daemon `name` announces itself as idle on `port`.
fn wait_idle(port: u16, name: &str, within: Duration) -> Result<(), String> {
    let s = UdpSocket::bind(("0.0.0.0", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let until = Instant::now() + within;
    let mut last = String::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let lines: Vec<&str> = text.lines().collect();
            if lines.first() == Some(&name) {
                if lines.get(4).is_some_and(|a| a.starts_with("idle")) {
                    return Ok(());
                }
                last = lines.get(4).unwrap_or(&"").to_string();
            }
        }
    }
    Err(format!("{name} still says '{last}'"))
}

fn interrupt_twice(child: &Child) {
    for _ in 0..2 {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn ctrl_c_kills_the_case_and_leaves_no_reservation_behind() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    let pid_file = sb.path().join("case.pid");
    slow_first_case(&sb, &pid_file);
    let uri = format!("funz://:{}/bash", d.port);
    let child = Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .args([
            "input.txt",
            "-m",
            RESULT_MODEL,
            "-v",
            r#"{"x": [1]}"#,
            "-f",
            "json",
        ])
        .args(["-r", "res", "-c", &uri])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while !pid_file.exists() {
        assert!(Instant::now() < until, "the case never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    interrupt_twice(&child);
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "interrupted", "{rows:?}");
    let name = daemon_of(&sb, "res/x=1");
    assert!(name.starts_with("calc-a"), "{name}");
    wait_idle(d.port, &name, Duration::from_secs(12)).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(!alive(&pid), "the case's process {pid} survived Ctrl+C");
    for name in ["calc-a1", "calc-a2"] {
        let spool = d.dir.join(name).join("spool");
        assert_eq!(processes_under(&spool), Vec::<String>::new());
    }
}

/// A daemon of the test's own, `name`, on `port` (code bash), in `dir`
/// (its spool in `dir/spool`).
fn own_daemon(d: &Daemons, name: &str, dir: &Path, port: u16) -> Child {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("calculator.xml"),
        format!(
            "<CALCULATOR name=\"{name}\" spool=\"{}/spool\" PING_PERIOD=\"1\">\
             <HOST name=\"127.0.0.1\" port=\"{port}\"/><CODE name=\"bash\" command=\"/bin/bash\"/>\
             </CALCULATOR>",
            dir.display()
        ),
    )
    .unwrap();
    Command::new("java")
        .current_dir(dir)
        .args(["-Dapp.home=.", "-classpath", &d.classpath])
        .arg("org.funz.calculator.Calculator")
        .arg(format!("file:{}/calculator.xml", dir.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("java")
}

#[test]
fn a_daemon_killed_mid_case_moves_the_case_to_another_calculator() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    let own_port = free_udp_port();
    let mut doomed = own_daemon(&d, "calc-doomed", &sb.path().join("own-daemon"), own_port);
    let started = sb.path().join("started.log");
    sb.write(
        "input.txt",
        &format!(
            "x=${{x}}\necho \"$$ $PWD\" >> '{}'\nsleep 4\necho \"result = $x\" > output.txt\n",
            started.display()
        ),
    );
    let doomed_uri = format!("funz://:{own_port}/bash");
    let backup = format!("funz://:{}/bash", d.port);
    let child = Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .args([
            "input.txt",
            "-m",
            RESULT_MODEL,
            "-v",
            r#"{"x": [5]}"#,
            "-f",
            "json",
        ])
        .args(["-r", "res", "-c", &doomed_uri, "-c", &backup])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(40);
    while !started.exists() {
        assert!(
            Instant::now() < until,
            "the case never started on the doomed daemon"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let out = child.wait_with_output().unwrap();
    let rows = success_rows(&out);
    assert_eq!(rows[0]["status"], "done", "{rows:?}");
    assert_eq!(rows[0]["result"], 5);
    assert_eq!(rows[0]["attempts"], 2);
    assert!(daemon_of(&sb, "res/x=5").starts_with("calc-a"));
    let journal = sb.read("res/fz_journal.tsv");
    let first = journal.lines().nth(1).unwrap();
    assert!(
        first.contains(&doomed_uri) && first.contains("failed"),
        "{journal}"
    );
    assert!(first.contains("calc-doomed"), "{journal}");
    // The orphaned script of the killed daemon: ours to stop.
    let line = std::fs::read_to_string(&started).unwrap();
    let pid = line.split(' ').next().unwrap();
    if alive(pid) {
        // SAFETY: a process this test started (through its own daemon).
        unsafe { libc::kill(pid.parse().unwrap(), libc::SIGKILL) };
    }
}

#[test]
fn funz_servers_lists_the_daemons_heard_on_the_port() {
    let Some(d) = daemons() else { return };
    let _turn = turn();
    let sb = Sandbox::new();
    let port = d.port.to_string();
    let out = sb
        .cmd("fz")
        .args(["funz-servers", &port, "-d", "6", "-f", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_rows(&out.stdout);
    let mut names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["calc-a1", "calc-a2"], "{rows:?}");
    for r in &rows {
        assert_eq!(r["host"], "127.0.0.1");
        assert_eq!(r["codes"], "bash,sh");
        assert!(r["tcp_port"].as_u64().unwrap() > 0);
    }
    // --code: stops at the first idle daemon offering it.
    let t = Instant::now();
    let out = sb
        .cmd("fz")
        .args(["funz-servers", &port, "-d", "30", "--code", "sh"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    // A code nobody offers: exit 1 and a line saying so.
    let out = sb
        .cmd("fz")
        .args(["funz-servers", &port, "-d", "3", "--code", "R"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!(
        "no Funz daemon idle and offering 'R' heard on UDP port {port} in 3 s"
    )));
}
