//! `ssh://` calculators driven through the real binary against a real
//! OpenSSH server on 127.0.0.1 (`.ci/services/sshd.sh start` sets it up and
//! prints the `FZ_TEST_SSH_*` variables read here).
//!
//! Without `FZ_TEST_SSH_PORT` every test prints why and returns, unless
//! `CI` is set: then it fails, since CI must exercise the real server.
//! The server runs on this machine, so "remote" processes are visible to
//! the local `pgrep` too; the checks still go through ssh as a user would.

mod common;
use common::{json_rows, perfectgas, success_rows, Sandbox};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The test server.
struct Server {
    port: String,
    user: String,
}

/// The server, or `None` (with the reason printed) when it is not
/// configured outside CI.
fn server() -> Option<Server> {
    match std::env::var("FZ_TEST_SSH_PORT") {
        Ok(port) if !port.trim().is_empty() => Some(Server {
            port: port.trim().to_string(),
            user: std::env::var("FZ_TEST_SSH_USER").unwrap_or_else(|_| "root".to_string()),
        }),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "CI is set but FZ_TEST_SSH_PORT is not: start the test server with \
                     'eval \"$(bash .ci/services/sshd.sh start)\"'"
                );
            }
            eprintln!(
                "skipped: FZ_TEST_SSH_PORT is not set (run 'eval \"$(bash \
                 .ci/services/sshd.sh start)\"' to test ssh:// against a real sshd)"
            );
            None
        }
    }
}

impl Server {
    /// `ssh://user@127.0.0.1:port/<command>`.
    fn uri(&self, command: &str) -> String {
        format!("ssh://{}@127.0.0.1:{}/{command}", self.user, self.port)
    }

    /// Runs `command` on the server as the key user (plain ssh, no fz).
    fn ssh(&self, command: &str) -> std::process::Output {
        Command::new("ssh")
            .args(["-p", &self.port, "-o", "BatchMode=yes", "-l", &self.user])
            .args(["127.0.0.1", command])
            .stdin(Stdio::null())
            .output()
            .expect("ssh")
    }

    /// Whether a process whose command line contains `marker` runs on the
    /// server, waiting up to 10 s for it to go away.
    fn process_left(&self, marker: &str) -> bool {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            // The pattern is split so that pgrep does not match the shell
            // running this very check.
            let (a, b) = marker.split_at(marker.len() / 2);
            let out = self.ssh(&format!("pgrep -af '{a}''{b}' || true"));
            let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if found.is_empty() {
                return false;
            }
            if Instant::now() > until {
                eprintln!("still running: {found}");
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Remote directories whose name contains `marker`, under the key
    /// user's `~/.fz/tmp`.
    fn remote_dirs(&self, marker: &str) -> String {
        let out = self.ssh(&format!(
            "ls -a ~/.fz/tmp 2>/dev/null | grep -F -- '{marker}' || true"
        ));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// A token no other test (or earlier run) uses.
fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}{:09}", std::process::id(), nanos)
}

#[test]
fn perfect_gas_over_ssh_gives_the_same_table_as_sh() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    perfectgas(&sb);
    let grid = r#"{"T_celsius": [0, 20, 40], "V_L": [1, 2.5], "n_mol": 1}"#;
    let run = |uri: &str, dir: &str| {
        let out = sb
            .cmd("fzr")
            .args(["input.txt", "-m", "perfectgas", "-v", grid, "-f", "json"])
            .args(["-r", dir, "-c", uri, "-c", uri])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{uri}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_rows(&out.stdout)
    };
    let local = run("sh://bash PerfectGazPressure.sh", "res_sh");
    let remote = run(&srv.uri("bash PerfectGazPressure.sh"), "res_ssh");
    assert_eq!(local.len(), 6);
    let strip = |rows: &[serde_json::Value]| -> Vec<serde_json::Value> {
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                let o = r.as_object_mut().unwrap();
                for k in ["path", "calculator", "command"] {
                    o.remove(k);
                }
                r
            })
            .collect()
    };
    assert_eq!(strip(&local), strip(&remote));
    assert!(remote.iter().all(|r| r["status"] == "done"));
    assert!(remote[0]["pressure"].as_f64().unwrap() > 2.0e6);
    // Listed twice: two slots, told apart.
    assert!(common::is_slot_of(
        &remote[0]["calculator"],
        &srv.uri("bash PerfectGazPressure.sh")
    ));
    // The script was sent for the run, not fetched back into the results.
    let case = "res_ssh/T_celsius=0,V_L=1,n_mol=1";
    assert!(!sb.path().join(case).join("PerfectGazPressure.sh").exists());
    assert!(sb
        .read(&format!("{case}/out.txt"))
        .starts_with("pressure = "));
    let log = sb.read(&format!("{case}/log.txt"));
    assert!(
        log.contains("Remote directory: ") && log.contains("~/.fz/tmp/fz_T_celsius=0"),
        "{log}"
    );
}

#[test]
fn directory_inputs_with_subdirectories_round_trip() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    let var = format!("d{}", unique());
    sb.write("model/input.txt", &format!("x = ${var}\n"));
    sb.write("model/data/nested/factor.txt", "3\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\nx=$(sed -n 's/x = //p' input.txt)\nf=$(cat data/nested/factor.txt)\n\
         mkdir -p res/sub\necho \"r = $((x * f))\" > res/sub/out.dat\n",
    );
    let model = r#"{"varprefix": "$", "output": {"r": "sed -n 's/r = //p' res/sub/out.dat"}}"#;
    let out = sb
        .cmd("fzr")
        .args([
            "model",
            "-m",
            model,
            "-v",
            &format!(r#"{{"{var}": [2, 5]}}"#),
        ])
        .args(["-f", "json", "-c", &srv.uri("bash calc.sh")])
        .output()
        .unwrap();
    let rows = success_rows(&out);
    let r: Vec<_> = rows.iter().map(|r| r["r"].clone()).collect();
    assert_eq!(r, [serde_json::json!(6), serde_json::json!(15)], "{rows:?}");
    let case = format!("results/{var}=2");
    assert_eq!(sb.read(&format!("{case}/res/sub/out.dat")), "r = 6\n");
    assert_eq!(sb.read(&format!("{case}/data/nested/factor.txt")), "3\n");
    assert_eq!(srv.remote_dirs(&var), "", "remote directories are removed");
}

#[test]
fn keep_leaves_the_remote_directory() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    let var = format!("k{}", unique());
    sb.write("input.txt", &format!("x = ${var}\n"));
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            &format!(r#"{{"{var}": 1}}"#),
            "-f",
            "json",
        ])
        .args(["-c", &srv.uri(r#"sh -c 'cp "$0" copy.txt'?keep=1"#)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Remote directory kept"), "{err}");
    let dirs = srv.remote_dirs(&var);
    assert_eq!(dirs.lines().count(), 1, "{dirs}");
    let listing = srv.ssh(&format!("cat ~/.fz/tmp/{}/copy.txt", dirs.trim()));
    assert_eq!(String::from_utf8_lossy(&listing.stdout), "x = 1\n");
    srv.ssh(&format!("rm -rf ~/.fz/tmp/{}", dirs.trim()));
}

#[test]
fn ten_megabytes_of_output_do_not_hang() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    sb.write("input.txt", "x = $x\n");
    sb.write(
        "big.sh",
        "#!/bin/bash\nhead -c 10000000 /dev/zero | tr '\\0' a\nhead -c 3000000 /dev/zero | tr '\\0' e >&2\necho 'result = 1' > output.txt\n",
    );
    let t0 = Instant::now();
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x": 1}"#, "-f", "json"])
        .args(["-c", &srv.uri("bash big.sh?timeout=120")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
    assert_eq!(json_rows(&out.stdout)[0]["status"], "done");
    let len = |f: &str| {
        std::fs::metadata(sb.path().join("results/x=1").join(f))
            .unwrap()
            .len()
    };
    assert_eq!(len("out.txt"), 10_000_000);
    assert_eq!(len("err.txt"), 3_000_000);
}

/// A script that starts a long `sleep` whose command line carries
/// `marker`, records that it started in `started`, and waits.
fn sleeper(sb: &Sandbox, marker: &str, started: &Path) {
    sb.write(
        "sleeper.sh",
        &format!(
            "#!/bin/bash\nsleep 3{marker} &\necho up >> {}\nwait\n",
            started.display()
        ),
    );
}

#[test]
fn timeout_kills_the_remote_process_tree() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    let marker = unique();
    let started = sb.path().join("started.log");
    sleeper(&sb, &marker, &started);
    sb.write("input.txt", "x = $x\n");
    let t0 = Instant::now();
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x": 1}"#, "-f", "json"])
        .args(["-c", &srv.uri("bash sleeper.sh?timeout=2")])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "timeout");
    let err = rows[0]["error"].as_str().unwrap();
    assert!(err.contains("timed out after 2 seconds"), "{err}");
    assert!(started.exists(), "the remote script had started");
    assert!(
        !srv.process_left(&format!("sleep 3{marker}")),
        "the remote sleep survived the timeout"
    );
}

#[test]
fn second_ctrl_c_kills_the_remote_process_tree() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    let marker = unique();
    let started = sb.path().join("started.log");
    sleeper(&sb, &marker, &started);
    let var = format!("c{marker}");
    sb.write("input.txt", &format!("x = ${var}\n"));
    let child = Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .args([
            "input.txt",
            "-v",
            &format!(r#"{{"{var}": [1, 2]}}"#),
            "-f",
            "json",
        ])
        .args(["-c", &srv.uri("bash sleeper.sh")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < until, "the remote script never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let t0 = Instant::now();
    for _ in 0..2 {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(150));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "interrupted");
    assert_eq!(rows[0]["attempts"], 1);
    assert!(
        !srv.process_left(&format!("sleep 3{marker}")),
        "the remote sleep survived Ctrl+C"
    );
    assert_eq!(srv.remote_dirs(&var), "", "the remote directory is removed");
}

#[test]
fn a_command_leaving_a_detached_process_ends_when_it_exits() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    let marker = unique();
    sb.write(
        "bg.sh",
        &format!("#!/bin/bash\nnohup sleep 3{marker} &\nsetsid nohup sleep 4{marker} &\necho ok\n"),
    );
    sb.write("input.txt", "x = $x\n");
    let t0 = Instant::now();
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x": 1}"#, "-f", "json"])
        .args(["-c", &srv.uri("bash bg.sh?timeout=60")])
        .output()
        .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(
        rows[0]["status"],
        "done",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows[0]["attempts"], 1);
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    assert_eq!(sb.read("results/x=1/out.txt"), "ok\n");
    for n in [3, 4] {
        assert!(
            !srv.process_left(&format!("sleep {n}{marker}")),
            "the detached sleep {n} was left running"
        );
    }
}

#[test]
fn timeout_kills_remote_processes_that_left_the_tree() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    let marker = unique();
    sb.write(
        "detach.sh",
        &format!(
            "#!/bin/bash\nsetsid sleep 3{marker} &\n( sleep 4{marker} & )\necho up\nsleep 300\n"
        ),
    );
    sb.write("input.txt", "x = $x\n");
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x": 1}"#, "-f", "json"])
        .args(["-c", &srv.uri("bash detach.sh?timeout=2")])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(
        rows[0]["status"],
        "timeout",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sb.read("results/x=1/out.txt"),
        "up\n",
        "output fetched after a timeout"
    );
    for n in [3, 4] {
        assert!(
            !srv.process_left(&format!("sleep {n}{marker}")),
            "the remote sleep {n} survived the timeout"
        );
    }
}

/// Every file under `dir` (recursively) whose content contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
            {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

#[test]
fn password_login_works_and_the_password_appears_nowhere() {
    let Some(srv) = server() else { return };
    let (Ok(user), Ok(password)) = (
        std::env::var("FZ_TEST_SSH_PASSWORD_USER"),
        std::env::var("FZ_TEST_SSH_PASSWORD"),
    ) else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but FZ_TEST_SSH_PASSWORD_USER/FZ_TEST_SSH_PASSWORD are not");
        }
        eprintln!("skipped: no password user (FZ_TEST_SSH_PASSWORD_USER)");
        return;
    };
    let sb = Sandbox::new();
    sb.write("input.txt", "x = $x\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\nwhoami > who.txt\necho \"result = 1\" > output.txt\n",
    );
    let good = format!(
        "ssh://{user}:{password}@127.0.0.1:{}/bash calc.sh",
        srv.port
    );
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x": [1, 2]}"#,
            "-f",
            "json",
            "-c",
            &good,
        ])
        .env("FZ_LOG_LEVEL", "INFO")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stderr}");
    let rows = json_rows(&out.stdout);
    assert!(rows.iter().all(|r| r["status"] == "done"), "{rows:?}");
    assert_eq!(
        rows[0]["calculator"],
        format!("ssh://{user}:***@127.0.0.1:{}/bash calc.sh", srv.port)
    );
    assert_eq!(sb.read("results/x=1/who.txt").trim(), user);

    // A wrong password: a clear failure, and no password either.
    let wrong = format!("wrong{}", unique());
    let bad = format!("ssh://{user}:{wrong}@127.0.0.1:{}/bash calc.sh", srv.port);
    let out2 = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x": 1}"#, "-f", "json", "-c", &bad])
        .args(["-r", "results_bad"])
        .env("FZ_LOG_LEVEL", "DEBUG")
        .output()
        .unwrap();
    assert_eq!(out2.status.code(), Some(1));
    let rows2 = json_rows(&out2.stdout);
    assert_eq!(rows2[0]["status"], "failed");
    let err = rows2[0]["error"].as_str().unwrap();
    assert!(err.contains("SSH authentication failed"), "{err}");

    for secret in [password.as_str(), wrong.as_str()] {
        for (name, text) in [
            ("stdout", &stdout),
            ("stderr", &stderr),
            (
                "stdout (wrong password)",
                &String::from_utf8_lossy(&out2.stdout).into_owned(),
            ),
            (
                "stderr (wrong password)",
                &String::from_utf8_lossy(&out2.stderr).into_owned(),
            ),
        ] {
            assert!(!text.contains(secret), "password printed on {name}: {text}");
        }
        let hits = files_containing(sb.path(), secret);
        assert!(hits.is_empty(), "password written to {hits:?}");
    }
    // The files that carry the calculator do show it, redacted.
    assert!(sb.read("results/fz_journal.tsv").contains(":***@"));
    assert!(sb.read("results/x=1/log.txt").contains(":***@"));
}

#[test]
fn unknown_host_keys_are_refused_unless_accepted_explicitly() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    sb.write("input.txt", "x = $x\n");
    let known = sb.path().join("scratch_known_hosts");
    let options = format!(
        "-o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null",
        known.display()
    );
    let run = |accept: bool, dir: &str| {
        let mut cmd = sb.cmd("fzr");
        cmd.args(["input.txt", "-v", r#"{"x": 1}"#, "-f", "json", "-r", dir])
            .args(["-c", &srv.uri("echo 'result = 1' > output.txt")])
            .env("FZ_SSH_OPTIONS", &options)
            .env_remove("FZ_SSH_AUTO_ACCEPT_HOSTKEYS");
        if accept {
            cmd.env("FZ_SSH_AUTO_ACCEPT_HOSTKEYS", "1");
        }
        cmd.output().unwrap()
    };
    let out = run(false, "refused");
    assert_eq!(out.status.code(), Some(1));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "failed");
    let err = rows[0]["error"].as_str().unwrap();
    assert!(
        err.contains("host key")
            && err.contains("FZ_SSH_AUTO_ACCEPT_HOSTKEYS=1")
            && !err.contains('\n'),
        "{err}"
    );
    assert!(std::fs::read_to_string(&known)
        .unwrap_or_default()
        .is_empty());

    let out = run(true, "accepted");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_rows(&out.stdout)[0]["status"], "done");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("accepted the new host key"),
        "never a silent accept: {stderr}"
    );
    // Recorded (the name may be hashed: ask ssh-keygen).
    let found = Command::new("ssh-keygen")
        .args(["-F", &format!("[127.0.0.1]:{}", srv.port), "-f"])
        .arg(&known)
        .output()
        .unwrap();
    assert!(
        found.status.success() && !found.stdout.is_empty(),
        "key not recorded in {}",
        known.display()
    );
}

#[test]
fn unreachable_host_fails_fast_with_a_clear_error() {
    let Some(_srv) = server() else { return };
    let sb = Sandbox::new();
    sb.write("input.txt", "x = $x\n");
    // Port 1 on loopback: nothing listens there.
    let t0 = Instant::now();
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x": [1, 2]}"#, "-f", "json"])
        .args(["-c", "ssh://nobody@127.0.0.1:1/true"])
        .env("FZ_MAX_RETRIES", "2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "exit code as other failures");
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    let rows = json_rows(&out.stdout);
    for r in &rows {
        assert_eq!(r["status"], "failed");
        let err = r["error"].as_str().unwrap();
        assert!(
            err.starts_with("SSH connection error: cannot reach nobody@127.0.0.1:1")
                && err.contains("Connection refused")
                && !err.contains('\n'),
            "{err}"
        );
    }
    assert!(sb.read("results/x=1/log.txt").contains("Status: failed"));
}

#[test]
fn the_master_connection_is_closed_at_the_end_of_the_run() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    sb.write("input.txt", "x = $x\n");
    // A private TMPDIR: the control directory (and its master) are ours.
    let tmp = sb.path().join("t");
    std::fs::create_dir(&tmp).unwrap();
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x": [1, 2, 3]}"#, "-f", "json"])
        .args(["-c", &srv.uri("echo 'result = 1' > output.txt")])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_rows(&out.stdout).len(), 3);
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "control directory left: {left:?}");
    let pg = Command::new("pgrep")
        .args(["-f", &format!("ControlPath={}", tmp.display())])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&pg.stdout).trim().is_empty(),
        "a master ssh still runs"
    );
}

#[test]
fn the_remote_working_directory_holds_no_fz_hash() {
    let Some(srv) = server() else { return };
    let sb = Sandbox::new();
    // Case directories named after a variable of this test only: other
    // tests look for leftovers of theirs on the remote side.
    sb.write("input.txt", "x=$nohash\n");
    sb.write(
        "list.sh",
        "#!/bin/bash\nls -A > listing.txt\necho \"result = 1\" > output.txt\n",
    );
    let model = r#"{"output":{"r":"grep result output.txt | cut -d= -f2"}}"#;
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-m",
            model,
            "-v",
            r#"{"nohash":[1,2]}"#,
            "-f",
            "json",
        ])
        .args(["-c", &srv.uri("bash list.sh")])
        .output()
        .unwrap();
    let rows = success_rows(&out);
    assert!(rows.iter().all(|r| r["r"] == 1), "{rows:?}");
    // What the upload sent: the compiled input and the script, no hash.
    let seen = sb.read("results/nohash=1/listing.txt");
    assert!(
        seen.lines().any(|l| l == "input.txt") && !seen.lines().any(|l| l == ".fz_hash"),
        "{seen}"
    );
    // md5 of "x=1\n": the case lands with the hash fzc writes.
    assert_eq!(
        sb.read("results/nohash=1/.fz_hash"),
        "f968f33f844c98de1d3b4fe70f2e1a0f  input.txt\n"
    );
}
