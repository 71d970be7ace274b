//! `slurm://` at scale, through the real binary and a real single-node
//! SLURM cluster (`.ci/services/slurm.sh start`, which sets the site limit
//! `MaxArraySize=50`): packed mode (`?array=1&pack=…`: a few pack tasks
//! running `fz worker` over a queue on the shared filesystem) and array
//! mode under a site limit. Without `FZ_TEST_SLURM` the tests print why
//! and return, unless `CI` is set (see `common::slurm::slurm`).

mod common;
use common::slurm::{jobs_left, slurm};
use common::{json_rows, Sandbox};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A one-variable model whose output `r` is what `calc.sh` wrote.
const MODEL: &str = r##"{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}"##;

/// Writes `input.txt` (`x=${x}`) and `calc.sh`, which runs `extra` (a
/// bash line) and then writes `result = <x>`.
fn study(sb: &Sandbox, extra: &str) {
    sb.write("input.txt", "x=${x}\n");
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\nx=$(cut -d= -f2 \"$1\")\n{extra}\necho \"result = $x\" > output.txt\n"
        ),
    );
}

/// `{"x": [0, …, n-1]}`.
fn grid(n: usize) -> String {
    let xs: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    format!(r#"{{"x":[{}]}}"#, xs.join(","))
}

/// fzr over `n` cases with the calculator `uri` listed `k` times (info
/// level logs on stderr), into `results`.
fn fzr(sb: &Sandbox, n: usize, uri: &str, k: usize, results: &str) -> Command {
    let mut cmd = Command::new(sb.bin.join("fzr"));
    cmd.current_dir(sb.path())
        .env("FZ_LOG_LEVEL", "INFO")
        .args(["input.txt", "-m", MODEL, "-v", &grid(n), "-f", "json"])
        .args(["-r", results])
        .stdin(Stdio::null());
    for _ in 0..k {
        cmd.args(["-c", uri]);
    }
    cmd
}

/// Starts `cmd` with its output captured.
fn spawn(mut cmd: Command) -> std::process::Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// x → (r, status) of each row.
fn table(rows: &[serde_json::Value]) -> BTreeMap<i64, (String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["x"].as_i64().unwrap_or(-1),
                (r["r"].to_string(), r["status"].to_string()),
            )
        })
        .collect()
}

/// The spool and submission directories left in the sandbox.
fn leftovers(sb: &Sandbox) -> Vec<String> {
    let mut left = Vec::new();
    for dir in [sb.path().to_path_buf(), sb.path().join(".results.fz-work")] {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".fz-") {
                left.push(name);
            }
        }
    }
    left
}

#[test]
fn two_thousand_packed_cases_give_the_same_table_as_sh() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    study(&sb, "");
    let n = 2000;
    let uri = "slurm://:debug/bash calc.sh?array=1&pack=auto";
    let child = spawn(fzr(&sb, n, uri, 4, "results"));
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", tail(&err));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), n);
    // The same study through sh:// on a tenth of the grid (the whole of
    // it would double the test's time), and the rule it follows for all.
    let got = table(&rows);
    let reference = fzr(&sb, n / 10, "sh://bash calc.sh", 4, "local")
        .output()
        .unwrap();
    assert_eq!(reference.status.code(), Some(0));
    let expected = table(&json_rows(&reference.stdout));
    assert_eq!(expected.len(), n / 10);
    for (x, row) in &expected {
        assert_eq!(got.get(x), Some(row), "x={x}");
    }
    for x in 0..n as i64 {
        assert_eq!(got[&x], (x.to_string(), "\"done\"".to_string()));
    }
    // A handful of pack tasks, not one job per case: each submission is
    // logged; the first one fills the four slots, each task running while
    // cases wait (their time is not known yet).
    let packs: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("SLURM pack tasks"))
        .collect();
    assert!(
        !packs.is_empty() && packs.len() <= 10,
        "few submissions: {packs:?}"
    );
    assert!(
        packs[0].contains("as 4 SLURM pack tasks")
            && packs[0].contains("each until the queue is empty, 4 tasks at a time"),
        "{packs:?}"
    );
    assert_eq!(jobs_left(pid), Vec::<String>::new());
    assert_eq!(leftovers(&sb), Vec::<String>::new(), "spool removed");
}

#[test]
fn array_mode_splits_a_study_under_max_array_size() {
    if !slurm() {
        return;
    }
    let limit = max_array_size();
    assert_eq!(
        limit, 50,
        "the test cluster sets MaxArraySize=50 (.ci/services/slurm.sh)"
    );
    let sb = Sandbox::new();
    study(&sb, "");
    let n = 500;
    let uri = "slurm://:debug/bash calc.sh?array=1";
    let out = fzr(&sb, n, uri, 4, "results").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", tail(&err));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), n);
    assert!(rows.iter().all(|r| r["status"] == "done"));
    assert!(
        err.contains("SLURM site limit MaxArraySize=50: job arrays of at most 50 tasks"),
        "the limit is named at info level: {}",
        tail(&err)
    );
    let sizes: Vec<usize> = err
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("Submitting ")?;
            let (n, rest) = rest.split_once(' ')?;
            rest.starts_with("cases as SLURM job array")
                .then(|| n.parse().ok())?
        })
        .collect();
    assert!(sizes.len() >= 10, "several arrays: {sizes:?}");
    assert!(sizes.iter().all(|&s| s <= 50), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), n);
}

#[test]
fn a_pack_task_killed_mid_run_has_its_unfinished_cases_rerun() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    let runs = sb.path().join("runs.log");
    // Each case logs its start, then takes half a second.
    study(
        &sb,
        &format!("echo \"$x\" >> {}\nsleep 0.5", runs.display()),
    );
    let n = 12;
    // One slot: one pack task runs the cases one after another.
    let uri = "slurm://:debug/bash calc.sh?array=1&pack=auto";
    let child = spawn(fzr(&sb, n, uri, 1, "results"));
    let pid = child.id();
    let started = |k: usize| std::fs::read_to_string(&runs).is_ok_and(|s| s.lines().count() >= k);
    let until = Instant::now() + Duration::from_secs(60);
    while !started(4) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let job = our_jobs(pid).into_iter().next().expect("a pack task runs");
    let before = std::fs::read_to_string(&runs).unwrap();
    let st = Command::new("scancel").arg(&job).status().unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", tail(&err));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), n);
    assert!(rows.iter().all(|r| r["status"] == "done"), "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r["r"].as_i64() == r["x"].as_i64() && r["r"].is_i64()));
    // The cases that ended before the kill ran once; the one running
    // when the task was killed ran again; all ran.
    let count = |log: &str, x: &str| log.lines().filter(|l| *l == x).count();
    let after = std::fs::read_to_string(&runs).unwrap();
    let killed: Vec<&str> = before.lines().collect();
    let (finished, running) = killed.split_at(killed.len() - 1);
    for x in finished {
        assert_eq!(
            count(&after, x),
            1,
            "case {x} finished before the kill: kept"
        );
    }
    assert_eq!(count(&after, running[0]), 2, "killed while running: re-run");
    for x in 0..n {
        assert!(count(&after, &x.to_string()) >= 1, "case {x} ran");
    }
    assert!(
        err.lines()
            .filter(|l| l.contains("SLURM pack tasks"))
            .count()
            >= 2,
        "a new pack task took the rest: {}",
        tail(&err)
    );
    assert_eq!(jobs_left(pid), Vec::<String>::new());
}

#[test]
fn a_first_ctrl_c_lets_running_cases_finish_and_leaves_no_job() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    let runs = sb.path().join("runs.log");
    study(&sb, &format!("echo \"$x\" >> {}\nsleep 3", runs.display()));
    let uri = "slurm://:debug/bash calc.sh?array=1&pack=auto";
    let child = spawn(fzr(&sb, 6, uri, 2, "results"));
    let pid = child.id();
    let until = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&runs).is_ok_and(|s| s.lines().count() >= 2) {
        assert!(Instant::now() < until, "two cases never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let rows = json_rows(&out.stdout);
    let status = |s: &str| rows.iter().filter(|r| r["status"] == s).count();
    assert_eq!(status("done"), 2, "the running cases finished: {rows:?}");
    assert_eq!(status("done") + status("interrupted"), rows.len());
    assert_eq!(
        std::fs::read_to_string(&runs).unwrap().lines().count(),
        2,
        "no new case was handed out"
    );
    assert_eq!(jobs_left(pid), Vec::<String>::new());
    assert_eq!(leftovers(&sb), Vec::<String>::new());
}

/// `MaxArraySize` of the cluster.
fn max_array_size() -> usize {
    let out = Command::new("scontrol")
        .args(["show", "config"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "MaxArraySize").then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// Ids (`<job>_<index>`) of the tasks of the fz process `pid` in the
/// queue.
fn our_jobs(pid: u32) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["-h", "-r", "-o", "%j %i"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, id) = l.split_once(' ')?;
            name.starts_with(&format!("fz-{pid}-"))
                .then(|| id.trim().to_string())
        })
        .collect()
}

/// The last lines of a log, for assertion messages.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

// ---------------------------------------------------------------------------
// Packed mode through a login node (the test sshd on this machine, as
// `FZ_TEST_SSH_USER`): the spool and the case directories go to
// `~/.fz/tmp` there, the worker is found or copied there.

/// The packed URI through the test login node.
fn login_uri(user: &str, port: &str, query: &str) -> String {
    format!("slurm://{user}@127.0.0.1:{port}:debug/bash calc.sh?array=1&{query}")
}

/// What the fz run `pid` left in `~/.fz/tmp` of `user`: its spool
/// (named `fz-<pid>-…`) and the remote directories the `log.txt` files
/// under `results` name.
fn remote_leftovers(user: &str, pid: u32, results: &std::path::Path) -> Vec<String> {
    let tmp = common::slurm::home_of(user).join(".fz/tmp");
    let mut left: Vec<String> = std::fs::read_dir(&tmp)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&format!("fz-{pid}-")))
        .collect();
    let mut named = 0;
    for case in std::fs::read_dir(results).into_iter().flatten().flatten() {
        let log = std::fs::read_to_string(case.path().join("log.txt")).unwrap_or_default();
        for line in log.lines() {
            if let Some((_, dir)) = line.split_once("Remote directory: ") {
                named += 1;
                let name = dir.rsplit('/').next().unwrap_or("");
                if tmp.join(name).exists() {
                    left.push(name.to_string());
                }
            }
        }
    }
    assert!(named > 0, "the log.txt files name their remote directories");
    left
}

#[test]
fn packed_study_through_a_login_node_gives_the_same_table_as_sh() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = common::slurm::ssh_login() else {
        return;
    };
    let sb = Sandbox::new();
    study(&sb, "");
    // The case directories go up and come back in grouped ssh commands,
    // each running the login shell's start files: a modest study.
    let n = 60;
    // No FZ_WORKER_REMOTE and no fz in the login PATH: this binary is
    // copied to ~/.fz/bin there (once per build).
    let uri = login_uri(&user, &port, "pack=10");
    let mut cmd = fzr(&sb, n, &uri, 4, "results");
    cmd.env_remove("FZ_WORKER_REMOTE");
    let child = spawn(cmd);
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", tail(&err));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), n);
    let reference = fzr(&sb, n, "sh://bash calc.sh", 4, "local")
        .output()
        .unwrap();
    assert_eq!(reference.status.code(), Some(0));
    assert_eq!(table(&rows), table(&json_rows(&reference.stdout)));
    assert!(rows.iter().all(|r| r["status"] == "done"), "{rows:?}");
    // The files written on the login node came back; log.txt says where
    // the case ran.
    let case = sb.path().join("results/x=7");
    assert_eq!(
        std::fs::read_to_string(case.join("output.txt")).unwrap(),
        "result = 7\n"
    );
    let log = std::fs::read_to_string(case.join("log.txt")).unwrap();
    assert!(
        log.contains("Remote directory: ") && log.contains("SLURM array task: "),
        "{log}"
    );
    // pack=10: six packs, four tasks at a time, in few submissions.
    let packs: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("SLURM pack tasks"))
        .collect();
    assert!(
        !packs.is_empty() && packs.len() <= 10,
        "few submissions: {packs:?}"
    );
    assert!(
        packs
            .iter()
            .all(|l| l.contains("at most 10 cases per task")),
        "{packs:?}"
    );
    // The worker is this build, under ~/.fz/bin of the login node (the
    // log names it when this run copied it; an earlier run of the same
    // build may have); removed afterwards, so that test runs do not pile
    // up copies.
    let fz = assert_cmd::cargo::cargo_bin("fz");
    let same = |p: &std::path::Path| std::fs::read(p).ok() == std::fs::read(&fz).ok();
    let copy = std::fs::read_dir(common::slurm::home_of(&user).join(".fz/bin"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with(&format!("fz-{}-", env!("CARGO_PKG_VERSION"))) && same(p)
        });
    let copy = copy.unwrap_or_else(|| panic!("fz copied to ~/.fz/bin: {}", tail(&err)));
    assert!(
        !err.contains("Copied ") || err.contains(&copy.display().to_string()),
        "{}",
        tail(&err)
    );
    std::fs::remove_file(&copy).unwrap();
    assert_eq!(jobs_left(pid), Vec::<String>::new());
    assert_eq!(
        remote_leftovers(&user, pid, &sb.path().join("results")),
        Vec::<String>::new()
    );
    assert_eq!(leftovers(&sb), Vec::<String>::new());
}

/// What the transfer summary the login session logs when it closes
/// says: directories sent, upload commands, directories fetched back or
/// removed, download commands.
fn transfers(err: &str) -> Option<[usize; 4]> {
    let line = err.lines().find(|l| l.contains("SSH transfers with "))?;
    let numbers: Vec<usize> = line
        .rsplit(": ")
        .next()?
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    numbers.try_into().ok()
}

#[test]
fn login_node_transfers_are_grouped_in_array_and_packed_modes() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = common::slurm::ssh_login() else {
        return;
    };
    let sb = Sandbox::new();
    study(&sb, "");
    let n = 40;
    let reference = fzr(&sb, n, "sh://bash calc.sh", 4, "local")
        .output()
        .unwrap();
    assert_eq!(reference.status.code(), Some(0));
    let expected = table(&json_rows(&reference.stdout));
    assert_eq!(expected.len(), n);
    let array = format!("slurm://{user}@127.0.0.1:{port}:debug/bash calc.sh?array=1");
    let packed = login_uri(&user, &port, "pack=10");
    for (label, uri) in [("array", array), ("packed", packed)] {
        let mut cmd = fzr(&sb, n, &uri, 4, label);
        cmd.env("FZ_WORKER_REMOTE", sb.bin.join("fz"));
        let child = spawn(cmd);
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{label}: {}", tail(&err));
        let rows = json_rows(&out.stdout);
        assert_eq!(table(&rows), expected, "{label}");
        // Every directory went up and came back, in far fewer ssh
        // commands than two per case.
        let [sent, sends, fetched, fetches] = transfers(&err)
            .unwrap_or_else(|| panic!("{label}: no transfer summary: {}", tail(&err)));
        eprintln!("{label}: {sent} sent in {sends} commands, {fetched} back in {fetches}");
        assert_eq!((sent, fetched), (n, n), "{label}");
        // The cases are handed out together: their uploads go in a
        // couple of commands; downloads follow the tasks' ends.
        assert!(
            sends <= n / 8 && sends + fetches < n,
            "{label}: {sends} uploads and {fetches} downloads for {n} cases"
        );
        let case = sb.path().join(label).join("x=7");
        assert_eq!(
            std::fs::read_to_string(case.join("output.txt")).unwrap(),
            "result = 7\n"
        );
        assert!(
            !case.join("calc.sh").exists(),
            "the sent script stays there"
        );
        assert_eq!(jobs_left(pid), Vec::<String>::new());
        assert_eq!(
            remote_leftovers(&user, pid, &sb.path().join(label)),
            Vec::<String>::new(),
            "{label}"
        );
    }
}

#[test]
fn a_pack_task_killed_on_a_login_node_has_its_unfinished_cases_rerun() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = common::slurm::ssh_login() else {
        return;
    };
    let sb = Sandbox::new();
    // The login node is this machine: the cases log their start here.
    let runs = sb.path().join("runs.log");
    study(
        &sb,
        &format!("echo \"$x\" >> {}\nsleep 0.5", runs.display()),
    );
    let n = 12;
    let uri = login_uri(&user, &port, "pack=auto");
    let mut cmd = fzr(&sb, n, &uri, 1, "results");
    // A worker named by the user (the same machine: this build).
    cmd.env("FZ_WORKER_REMOTE", sb.bin.join("fz"));
    let child = spawn(cmd);
    let pid = child.id();
    let started = |k: usize| std::fs::read_to_string(&runs).is_ok_and(|s| s.lines().count() >= k);
    let until = Instant::now() + Duration::from_secs(60);
    while !started(4) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let job = our_jobs(pid).into_iter().next().expect("a pack task runs");
    let before = std::fs::read_to_string(&runs).unwrap();
    let st = Command::new("scancel").arg(&job).status().unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", tail(&err));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), n);
    assert!(rows.iter().all(|r| r["status"] == "done"), "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r["r"].as_i64() == r["x"].as_i64() && r["r"].is_i64()));
    let count = |log: &str, x: &str| log.lines().filter(|l| *l == x).count();
    let after = std::fs::read_to_string(&runs).unwrap();
    let killed: Vec<&str> = before.lines().collect();
    let (finished, running) = killed.split_at(killed.len() - 1);
    for x in finished {
        assert_eq!(count(&after, x), 1, "case {x} finished before the kill");
    }
    assert_eq!(count(&after, running[0]), 2, "killed while running: re-run");
    assert!(
        err.contains(&format!(
            "run {} (FZ_WORKER_REMOTE)",
            sb.bin.join("fz").display()
        )) && !err.contains("Copied "),
        "FZ_WORKER_REMOTE is used, nothing copied: {}",
        tail(&err)
    );
    assert_eq!(jobs_left(pid), Vec::<String>::new());
    assert_eq!(
        remote_leftovers(&user, pid, &sb.path().join("results")),
        Vec::<String>::new()
    );
}

#[test]
fn a_first_ctrl_c_through_a_login_node_lets_running_cases_finish() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = common::slurm::ssh_login() else {
        return;
    };
    let sb = Sandbox::new();
    let runs = sb.path().join("runs.log");
    study(&sb, &format!("echo \"$x\" >> {}\nsleep 3", runs.display()));
    let uri = login_uri(&user, &port, "pack=auto");
    let mut cmd = fzr(&sb, 6, &uri, 2, "results");
    cmd.env("FZ_WORKER_REMOTE", sb.bin.join("fz"));
    let child = spawn(cmd);
    let pid = child.id();
    let until = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&runs).is_ok_and(|s| s.lines().count() >= 2) {
        assert!(Instant::now() < until, "two cases never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let rows = json_rows(&out.stdout);
    let status = |s: &str| rows.iter().filter(|r| r["status"] == s).count();
    assert_eq!(status("done"), 2, "the running cases finished: {rows:?}");
    assert_eq!(status("done") + status("interrupted"), rows.len());
    // The two finished cases came back from the login node.
    let done: Vec<&serde_json::Value> = rows.iter().filter(|r| r["status"] == "done").collect();
    assert!(done.iter().all(|r| r["r"].as_i64() == r["x"].as_i64()));
    assert_eq!(
        std::fs::read_to_string(&runs).unwrap().lines().count(),
        2,
        "no new case was handed out"
    );
    assert_eq!(jobs_left(pid), Vec::<String>::new());
    assert_eq!(
        remote_leftovers(&user, pid, &sb.path().join("results")),
        Vec::<String>::new()
    );
}
