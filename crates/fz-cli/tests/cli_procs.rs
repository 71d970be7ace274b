//! Process control through the real binary: no process a calculator
//! started outlives its case, whether it detached itself (`setsid`, double
//! fork) and the case ends by timeout, SIGTERM to fz or a double Ctrl+C;
//! formula and output workers die with fz even on `kill -9`; failures that
//! cannot change are not retried; `?ok_exit=` accepts other exit codes.

mod common;
use common::{json_rows, Sandbox};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s[s.rfind(')').unwrap_or(0) + 1..]
            .split_whitespace()
            .next()
            .unwrap_or("");
        state != "Z" && state != "X"
    })
}

/// The live processes whose command line contains `mark`.
fn marked(mark: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(mark) && alive(pid) {
            found.push(pid);
        }
    }
    found
}

/// Waits until `check` holds (at most `limit`).
fn wait_until(limit: Duration, check: impl Fn() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// A unique marker for the command lines of one test's processes.
fn new_mark(name: &str) -> String {
    format!("fzmark-{name}-{}", std::process::id())
}

/// A calculator script leaving a `setsid` child and a double-forked
/// grandchild (both marked), then running `rest`.
fn detaching(sb: &Sandbox, mark: &str, rest: &str) {
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\n\
             setsid bash -c 'sleep 300; : {mark}' &\n\
             ( bash -c 'sleep 300; : {mark}' & )\n\
             {rest}\n"
        ),
    );
    sb.write("input.txt", "x=$x\n");
}

/// `fzr` on two cases with `sh://bash calc.sh`, started in the background.
fn spawn_fzr(sb: &Sandbox, extra: &[&str]) -> Child {
    Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        .env("FZ_MAX_RETRIES", "1")
        .args(["input.txt", "-v", r#"{"x":[1,2]}"#, "-f", "json"])
        .args(["-c", "sh://bash calc.sh", "-c", "sh://bash calc.sh"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, sig) };
}

#[test]
fn detached_descendants_die_at_the_timeout() {
    let sb = Sandbox::new();
    let mark = new_mark("timeout");
    detaching(&sb, &mark, "sleep 300");
    let out = spawn_fzr(&sb, &["--timeout", "2"])
        .wait_with_output()
        .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "timeout"), "{rows:?}");
    assert!(
        wait_until(Duration::from_secs(3), || marked(&mark).is_empty()),
        "survivors: {:?}",
        marked(&mark)
    );
}

#[test]
fn detached_descendants_die_after_sigterm() {
    let sb = Sandbox::new();
    let mark = new_mark("sigterm");
    // The cases end by themselves after SIGTERM (it lets them finish).
    detaching(&sb, &mark, "sleep 2");
    let child = spawn_fzr(&sb, &[]);
    assert!(wait_until(Duration::from_secs(20), || marked(&mark).len() >= 4));
    signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_until(Duration::from_secs(3), || marked(&mark).is_empty()),
        "survivors: {:?}",
        marked(&mark)
    );
}

#[test]
fn detached_descendants_die_after_a_double_ctrl_c() {
    let sb = Sandbox::new();
    let mark = new_mark("sigint");
    detaching(&sb, &mark, "sleep 300");
    let child = spawn_fzr(&sb, &[]);
    assert!(wait_until(Duration::from_secs(20), || marked(&mark).len() >= 4));
    for _ in 0..2 {
        signal(&child, libc::SIGINT);
        std::thread::sleep(Duration::from_millis(150));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let rows = json_rows(&out.stdout);
    assert!(
        rows.iter().all(|r| r["status"] == "interrupted"),
        "{rows:?}"
    );
    assert!(
        wait_until(Duration::from_secs(3), || marked(&mark).is_empty()),
        "survivors: {:?}",
        marked(&mark)
    );
}

/// The children of `pid` whose command line contains `needle`.
fn children_of(pid: i32, needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok());
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if ppid == Some(pid) && String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(child);
        }
    }
    found
}

/// Starts `program args` in the sandbox, waits for its python worker,
/// kills the program with SIGKILL and checks that the worker goes too.
fn worker_dies_with(sb: &Sandbox, program: &str, args: &[&str]) {
    let mut child = Command::new(sb.bin.join(program))
        .current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        .env("FZ_FORMULA_TIMEOUT", "600")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let fz = child.id() as i32;
    assert!(
        wait_until(Duration::from_secs(30), || !children_of(fz, "python")
            .is_empty()),
        "no python worker under {program}"
    );
    let workers = children_of(fz, "python");
    // Let the worker start its (endless) work.
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, libc::SIGKILL);
    let _ = child.wait();
    assert!(
        wait_until(Duration::from_secs(5), || !workers
            .iter()
            .any(|&w| alive(w))),
        "{program}'s worker {workers:?} outlived kill -9"
    );
}

#[test]
fn a_formula_worker_dies_with_fz_on_kill_9() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x\ny=@{__import__('time').sleep(300) or $x}\n");
    let model = r##"{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#"}"##;
    worker_dies_with(
        &sb,
        "fzc",
        &["in.txt", "-v", r#"{"x":1}"#, "-m", model, "-o", "out"],
    );
}

#[test]
fn an_output_worker_dies_with_fz_on_kill_9() {
    let sb = Sandbox::new();
    sb.write("results/x=1/out.txt", "1\n");
    let model = r#"{"output":{"t":"python://__import__('time').sleep(300)"}}"#;
    worker_dies_with(&sb, "fzo", &["results", "-m", model]);
}

#[test]
fn a_missing_script_is_tried_once() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    // The pre-flight stops a run whose command names a missing script; one
    // that goes missing behind a wrapper is found when the case runs.
    sb.write("wrap.sh", "#!/bin/bash\nexec bash missing.sh\n");
    let t0 = Instant::now();
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-f", "json"])
        .args(["-c", "sh://bash wrap.sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["attempts"], 1, "{rows:?}");
    let error = rows[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("Script or file not found: 'missing.sh'"),
        "{error}"
    );
    assert!(t0.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_deterministic_failure_moves_to_another_calculator() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("good.sh", "#!/bin/bash\necho ok\n");
    sb.write("wrap.sh", "#!/bin/bash\nexec bash missing.sh\n");
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-f", "json"])
        .args(["-c", "sh://bash wrap.sh", "-c", "sh://bash good.sh"])
        .output()
        .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "done", "{rows:?}");
    assert_eq!(rows[0]["attempts"], 2);
}

#[test]
fn ok_exit_accepts_listed_exit_codes() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("one.sh", "#!/bin/bash\necho result=7\nexit 1\n");
    let run = |uri: &str| {
        let out = sb
            .cmd("fzr")
            .args(["input.txt", "-v", r#"{"x":1}"#, "-f", "json", "-c", uri])
            .env("FZ_MAX_RETRIES", "1")
            .output()
            .unwrap();
        (out.status.code(), json_rows(&out.stdout))
    };
    let (code, rows) = run("sh://bash one.sh?ok_exit=0,1");
    assert_eq!(code, Some(0), "{rows:?}");
    assert_eq!(rows[0]["status"], "done");
    assert_eq!(rows[0]["exit_code"], 1);
    let (code, rows) = run("sh://bash one.sh?ok_exit=0,2");
    assert_eq!(code, Some(1));
    assert_eq!(rows[0]["status"], "failed");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":1}"#,
            "-c",
            "sh://bash one.sh?ok_exit=a",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ok_exit must be a comma-separated list of exit codes, got 'a'"),
        "{err}"
    );
}
