//! `slurm://` calculators driven through the real binary against a real
//! single-node SLURM cluster (`.ci/services/slurm.sh start` sets it up and
//! prints `FZ_TEST_SLURM=1`), in srun mode and in job-array mode.
//!
//! Without `FZ_TEST_SLURM` every test prints why and returns, unless `CI`
//! is set: then it fails, since CI must exercise the real cluster. Jobs
//! are told apart by their names, `fz-<pid of the fz process>-…`, so the
//! tests running in parallel never look at each other's jobs.

mod common;
use common::slurm::{home_of, jobs_left, jobs_left_now, slurm, ssh_login};
use common::{json_rows, perfectgas, success_rows, Sandbox};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GRID: &str = r#"{"T_celsius": [0, 20, 40], "V_L": [1, 2.5], "n_mol": 1}"#;

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

/// Runs fzr on the perfect-gas study with these calculators.
fn run_study(sb: &Sandbox, grid: &str, calcs: &[&str], results: &str) -> std::process::Output {
    let mut cmd = sb.cmd("fzr");
    cmd.args([
        "input.txt",
        "-m",
        "perfectgas",
        "-v",
        grid,
        "-f",
        "json",
        "-r",
        results,
    ]);
    for c in calcs {
        cmd.args(["-c", c]);
    }
    cmd.output().unwrap()
}

/// Asserts that `out`, the perfect-gas study of `grid` through `uri`,
/// succeeded with the table the same study gives over `sh://`; its rows.
fn assert_same_table_as_sh(
    sb: &Sandbox,
    grid: &str,
    out: &std::process::Output,
    uri: &str,
) -> Vec<serde_json::Value> {
    let rows = success_rows(out);
    let reference = run_study(sb, grid, &["sh://bash PerfectGazPressure.sh"], "local");
    assert_eq!(table(&rows), table(&json_rows(&reference.stdout)));
    // One entry, or the same listed several times (`uri#1`, `uri#2`).
    assert!(rows
        .iter()
        .all(|r| r["calculator"] == uri || common::is_slot_of(&r["calculator"], uri)));
    rows
}

/// One perfect-gas case through `uri` with a single attempt, into `bad/`.
fn run_one_case(sb: &Sandbox, uri: &str) -> std::process::Output {
    let one = r#"{"T_celsius": 0, "V_L": 1, "n_mol": 1}"#;
    let mut cmd = sb.cmd("fzr");
    cmd.args([
        "input.txt",
        "-m",
        "perfectgas",
        "-v",
        one,
        "-f",
        "json",
        "-r",
        "bad",
    ])
    .args(["-c", uri])
    .env("FZ_MAX_RETRIES", "1");
    cmd.output().unwrap()
}

/// The entries of `~/.fz/tmp` of `user` (the test sshd runs here) whose
/// name contains `fz-<pid>-` (the array directories of that fz run) or
/// `mark` (case directories).
fn remote_leftovers(user: &str, pid: u32, mark: &str) -> Vec<String> {
    let tmp = home_of(user).join(".fz/tmp");
    let run = format!("fz-{pid}-");
    std::fs::read_dir(&tmp)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&run) || n.contains(mark))
        .collect()
}

#[test]
fn perfect_gas_through_srun_and_job_arrays_gives_the_same_table_as_sh() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    perfectgas(&sb);
    let out = run_study(&sb, GRID, &["sh://bash PerfectGazPressure.sh"], "by_sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference = json_rows(&out.stdout);
    assert_eq!(reference.len(), 6);
    assert!(reference
        .iter()
        .all(|r| r["status"] == "done" && r["pressure"].is_number()));

    // srun mode, relative script (made absolute against the launch dir).
    let srun = "slurm://:debug/bash PerfectGazPressure.sh";
    let out = run_study(&sb, GRID, &[srun, srun], "by_srun");
    let rows = success_rows(&out);
    assert_eq!(table(&rows), table(&reference));
    for r in &rows {
        assert!(common::is_slot_of(&r["calculator"], srun), "{r}");
        assert!(
            r["command"]
                .as_str()
                .unwrap()
                .starts_with("srun --partition=debug bash /"),
            "{r}"
        );
    }
    let log = sb.read("by_srun/T_celsius=0,V_L=1,n_mol=1/log.txt");
    assert!(log.contains("SLURM partition: debug"), "{log}");
    assert!(log.contains("SLURM job name: fz-"), "{log}");

    // Array mode on the other partition: one sbatch for the six cases.
    let array = "slurm://:compute/bash PerfectGazPressure.sh?array=1";
    let mut cmd = sb.cmd("fzr");
    cmd.args([
        "input.txt",
        "-m",
        "perfectgas",
        "-v",
        GRID,
        "-f",
        "json",
        "-r",
        "by_array",
    ])
    .args(["-c", array, "-c", array])
    .env("FZ_LOG_LEVEL", "INFO");
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let rows = json_rows(&out.stdout);
    assert_eq!(table(&rows), table(&reference));
    assert!(rows
        .iter()
        .all(|r| common::is_slot_of(&r["calculator"], array)));
    assert_eq!(
        err.matches("Submitting ").count(),
        1,
        "one submission for all cases: {err}"
    );
    assert!(
        err.contains("Submitting 6 cases as SLURM job array")
            && err.contains("at most 2 at a time"),
        "{err}"
    );
    let log = sb.read("by_array/T_celsius=40,V_L=2.5,n_mol=1/log.txt");
    assert!(log.contains("SLURM partition: compute"), "{log}");
    assert!(
        regex::Regex::new(r"SLURM array task: \d+_\d")
            .unwrap()
            .is_match(&log),
        "{log}"
    );
    // The submission directory was removed with the work directories.
    assert!(!sb.path().join("by_array/.fz/work").exists());
}

/// Starts fzr on `n` cases that sleep, with these calculators.
fn start_sleepers(sb: &Sandbox, var: &str, n: usize, calcs: &[&str]) -> std::process::Child {
    sb.write("input.txt", &format!("{var}=${var}\n"));
    let started = sb.path().join("started.log");
    sb.write(
        "slow.sh",
        &format!(
            "#!/bin/bash\necho \"$SLURM_JOB_ID\" >> {}\nsleep 120\n",
            started.display()
        ),
    );
    let xs: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let mut cmd = Command::new(sb.bin.join("fzr"));
    cmd.current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        // Packed mode on the test login node (this machine): this build,
        // not a copy of it.
        .env("FZ_WORKER_REMOTE", sb.bin.join("fz"))
        .args([
            "input.txt",
            "-v",
            &format!(r#"{{"{var}":[{}]}}"#, xs.join(",")),
            "-f",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for c in calcs {
        cmd.args(["-c", c]);
    }
    cmd.spawn().unwrap()
}

/// Waits until `n` cases wrote their line to `started.log`.
fn wait_started(sb: &Sandbox, n: usize) {
    let path = sb.path().join("started.log");
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if std::fs::read_to_string(&path).is_ok_and(|s| s.lines().count() >= n) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{n} cases never started");
}

fn double_interrupt(child: std::process::Child) -> std::process::Output {
    for _ in 0..2 {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn ctrl_c_cancels_the_srun_jobs() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    let uri = "slurm://:debug/bash slow.sh";
    let child = start_sleepers(&sb, "x", 3, &[uri, uri]);
    let pid = child.id();
    wait_started(&sb, 2);
    assert_eq!(jobs_left_now(pid).len(), 2, "two srun jobs running");
    let t0 = Instant::now();
    let out = double_interrupt(child);
    assert_eq!(out.status.code(), Some(130));
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "the run ends promptly"
    );
    let rows = json_rows(&out.stdout);
    assert!(
        rows.iter().all(|r| r["status"] == "interrupted"),
        "{rows:?}"
    );
    assert_eq!(
        jobs_left(pid),
        Vec::<String>::new(),
        "no job of ours is left"
    );
}

#[test]
fn ctrl_c_cancels_the_job_array() {
    if !slurm() {
        return;
    }
    ctrl_c_cancels_array_tasks("slurm://:debug/bash slow.sh?array=1", true, "x");
}

#[test]
fn ctrl_c_cancels_the_pack_tasks() {
    if !slurm() {
        return;
    }
    // Two pack tasks run a case each; the four others wait in fz's
    // queue on the shared filesystem, never in SLURM's.
    ctrl_c_cancels_array_tasks("slurm://:debug/bash slow.sh?array=1&pack=auto", false, "x");
}

#[test]
fn ctrl_c_cancels_the_job_array_on_a_login_node() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = ssh_login() else {
        return;
    };
    let uri = format!("slurm://{user}@127.0.0.1:{port}:debug/bash slow.sh?array=1");
    // Cases reach the queue as their upload ends: the late ones may wait
    // in fz's queue rather than SLURM's.
    // A variable of its own: the remote case directories it names are
    // this test's only, whatever else runs on the login node meanwhile.
    let pid = ctrl_c_cancels_array_tasks(&uri, false, "array_ctrl_c");
    // The case directories sent there are removed too.
    let left = remote_leftovers(&user, pid, "fz_array_ctrl_c=");
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn ctrl_c_cancels_the_pack_tasks_on_a_login_node() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = ssh_login() else {
        return;
    };
    let uri = format!("slurm://{user}@127.0.0.1:{port}:debug/bash slow.sh?array=1&pack=auto");
    let pid = ctrl_c_cancels_array_tasks(&uri, false, "pack_ctrl_c");
    // The spool on the login node is removed (the case directories are
    // checked by the tests of cli_slurm_scale.rs, which can tell theirs
    // from the other tests' by their log.txt).
    let left = remote_leftovers(&user, pid, &format!("fz-{pid}-"));
    assert!(left.is_empty(), "{left:?}");
}

/// Six 120 s cases, two tasks at a time, then a double Ctrl+C: every case
/// is interrupted, none of the waiting tasks started, no job is left.
/// `pending_in_slurm`: some tasks must be waiting in SLURM's queue when
/// Ctrl+C comes. `var`: the variable, hence the case directories' names.
/// Returns the pid of the fz run.
fn ctrl_c_cancels_array_tasks(uri: &str, pending_in_slurm: bool, var: &str) -> u32 {
    let sb = Sandbox::new();
    let child = start_sleepers(&sb, var, 6, &[uri, uri]);
    let pid = child.id();
    wait_started(&sb, 2);
    let queued = jobs_left_now(pid);
    if pending_in_slurm {
        assert!(queued.iter().any(|j| j.contains("PENDING")), "{queued:?}");
    }
    let running = queued.iter().filter(|j| j.contains("RUNNING")).count();
    assert!(
        running <= 2,
        "two entries: at most two tasks at once {queued:?}"
    );
    let out = double_interrupt(child);
    assert_eq!(out.status.code(), Some(130));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter().all(|r| r["status"] == "interrupted"),
        "{rows:?}"
    );
    assert_eq!(
        jobs_left(pid),
        Vec::<String>::new(),
        "no task of ours is left"
    );
    assert_eq!(
        sb.read("started.log").lines().count(),
        2,
        "the waiting tasks never started"
    );
    pid
}

#[test]
fn a_timeout_cancels_the_job_in_every_mode() {
    if !slurm() {
        return;
    }
    let mut uris: Vec<String> = [
        "slurm://:debug/bash slow.sh?timeout=2",
        "slurm://:debug/bash slow.sh?timeout=2&array=1",
        "slurm://:debug/bash slow.sh?timeout=2&array=1&pack=auto",
    ]
    .map(String::from)
    .to_vec();
    if let Some((user, port)) = ssh_login() {
        uris.push(format!(
            "slurm://{user}@127.0.0.1:{port}:debug/bash slow.sh?timeout=2&array=1&pack=auto"
        ));
    }
    for uri in &uris {
        let uri = uri.as_str();
        let sb = Sandbox::new();
        let child = start_sleepers(&sb, "x", 2, &[uri, uri]);
        let pid = child.id();
        let t0 = Instant::now();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{uri}: no case done");
        assert!(t0.elapsed() < Duration::from_secs(60), "{uri}");
        let rows = json_rows(&out.stdout);
        assert_eq!(rows.len(), 2, "{uri}");
        for r in &rows {
            assert_eq!(r["status"], "timeout", "{uri}: {r}");
            assert_eq!(
                r["error"], "SLURM job timed out after 2 seconds on partition 'debug'",
                "{uri}"
            );
        }
        assert_eq!(
            jobs_left(pid),
            Vec::<String>::new(),
            "{uri}: no job of ours is left"
        );
    }
}

#[test]
fn a_failing_array_task_is_retried_on_the_next_calculator() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    // Fails inside a SLURM job array task, works elsewhere.
    sb.write(
        "calc.sh",
        "#!/bin/bash\nif [[ -n $SLURM_ARRAY_TASK_ID && $(cat input.txt) == x=2 ]]; then\n  \
         echo 'licence server unreachable' >&2; exit 3\nfi\necho \"result = $(cut -d= -f2 input.txt)\" > output.txt\n",
    );
    let array = "slurm://:debug/bash calc.sh?array=1";
    let backup = "sh://bash calc.sh";
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":[1,2,3]}"#, "-f", "json"])
        .args(["-c", array, "-c", backup])
        .env("FZ_MAX_RETRIES", "2")
        .output()
        .unwrap();
    let rows = success_rows(&out);
    let got: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["calculator"].as_str().unwrap(),
                r["attempts"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [(array, 1), (backup, 2), (array, 1)]);
    assert!(rows.iter().all(|r| r["status"] == "done"));
    let history = sb.read("results/x=2/history.txt");
    assert!(
        history.contains("exit code 3") && history.contains("licence server unreachable"),
        "{history}"
    );
    assert_eq!(sb.read("results/x=2/output.txt"), "result = 2\n");
}

#[test]
fn arrays_submitted_later_share_the_slots_of_the_entries() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let log = sb.path().join("times.log");
    let marks = sb.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    // x=1 and x=2 fail at once on their first attempt: their retries come
    // back as a second array while the first one still runs.
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\nx=$(cut -d= -f2 input.txt)\necho \"+ $(date +%s.%N)\" >> {log}\n\
             if [[ $x -le 2 && ! -e {marks}/$x ]]; then touch {marks}/$x; \
             echo \"- $(date +%s.%N)\" >> {log}; exit 1; fi\n\
             sleep 2\necho \"result = $x\" > output.txt\necho \"- $(date +%s.%N)\" >> {log}\n",
            log = log.display(),
            marks = marks.display()
        ),
    );
    let uri = "slurm://:debug/bash calc.sh?array=1";
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":[1,2,3,4,5,6]}"#, "-f", "json"])
        .args(["-c", uri, "-c", uri])
        .env("FZ_MAX_RETRIES", "2")
        .env("FZ_LOG_LEVEL", "DEBUG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let rows = json_rows(&out.stdout);
    assert!(rows.iter().all(|r| r["status"] == "done"), "{rows:?}");
    // Never more than the two entries' worth of cases at once.
    let events: Vec<(f64, i32)> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let (sign, t) = l.split_once(' ').unwrap();
            (t.parse().unwrap(), if sign == "+" { 1 } else { -1 })
        })
        .collect();
    assert_eq!(common::peak_overlap(events), 2, "{stderr}");
}

#[test]
fn cache_then_slurm_then_sh() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    perfectgas(&sb);
    let first = r#"{"T_celsius": [0, 20], "V_L": [1], "n_mol": 1}"#;
    let out = run_study(&sb, first, &["sh://bash PerfectGazPressure.sh"], "earlier");
    assert!(out.status.success());
    let all = r#"{"T_celsius": [0, 20, 40, 60], "V_L": [1], "n_mol": 1}"#;
    let slurm_uri = "slurm://:compute/bash PerfectGazPressure.sh?array=1";
    let out = run_study(
        &sb,
        all,
        &[
            "cache://earlier",
            slurm_uri,
            "sh://bash PerfectGazPressure.sh",
        ],
        "mixed",
    );
    let rows = success_rows(&out);
    let calcs: Vec<&str> = rows
        .iter()
        .map(|r| r["calculator"].as_str().unwrap())
        .collect();
    assert_eq!(
        calcs,
        ["cache://earlier", "cache://earlier", slurm_uri, slurm_uri]
    );
    let reference = run_study(&sb, all, &["sh://bash PerfectGazPressure.sh"], "reference");
    assert_eq!(table(&rows), table(&json_rows(&reference.stdout)));
}

/// The case `x=1` of `input.txt` through `uri` with a single attempt,
/// which must fail (exit 1): the rows.
fn one_failing_x_case(sb: &Sandbox, uri: &str) -> Vec<serde_json::Value> {
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-f", "json", "-c", uri])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{uri}");
    json_rows(&out.stdout)
}

#[test]
fn a_bad_partition_is_a_clear_error() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    for uri in [
        "slurm://:nosuchpart/true",
        "slurm://:nosuchpart/true?array=1",
    ] {
        let rows = one_failing_x_case(&sb, uri);
        assert_eq!(rows[0]["status"], "failed");
        assert_eq!(
            rows[0]["error"],
            "SLURM partition 'nosuchpart' does not exist (srun/sbatch: invalid partition \
             name); 'sinfo' lists the partitions",
            "{uri}"
        );
    }
    // A URI without a partition is refused before anything runs.
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":1}"#,
            "-r",
            "never",
            "-c",
            "slurm://compute/true",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("slurm://:partition/script"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!sb.path().join("never").exists(), "nothing ran");
}

#[test]
fn a_failing_job_names_its_cause() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\nnosuchprogram_xyz\n");
    for uri in [
        "slurm://:debug/bash calc.sh",
        "slurm://:debug/bash calc.sh?array=1",
    ] {
        let rows = one_failing_x_case(&sb, uri);
        assert_eq!(rows[0]["exit_code"], 127, "{uri}");
        let err = rows[0]["error"].as_str().unwrap();
        assert!(
            err.starts_with("Command not found locally: 'nosuchprogram_xyz'"),
            "{uri}: {err}"
        );
        assert!(!err.contains("srun: error"), "{uri}: {err}");
    }
}

/// `?ok_exit=0,1` on `base` (a `slurm://` URI running `one.sh`, which
/// writes its result and exits 1): `done` with the real exit code and the
/// value; without it `failed` and retried (exit 1 is an ordinary failure).
fn assert_ok_exit_counts(sb: &Sandbox, base: &str) {
    let run = |uri: &str, results: &str| {
        sb.cmd("fzr")
            .args(["input.txt", "-v", r#"{"k":5}"#, "-f", "json", "-r", results])
            .args(["-m", r#"{"output": {"r": "cat r.txt"}}"#, "-c", uri])
            .env("FZ_MAX_RETRIES", "2")
            .output()
            .unwrap()
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let with = format!("{base}{sep}ok_exit=0,1");
    let out = run(&with, "accepted");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{with}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_rows(&out.stdout);
    assert_eq!(
        (&rows[0]["status"], &rows[0]["exit_code"], &rows[0]["r"]),
        (&"done".into(), &1.into(), &5.into()),
        "{with}: {:?}",
        rows[0]
    );
    assert_eq!(rows[0]["attempts"], 1, "{with}");
    let out = run(base, "refused");
    assert_eq!(out.status.code(), Some(1), "{base}");
    let rows = json_rows(&out.stdout);
    assert_eq!(
        (
            &rows[0]["status"],
            &rows[0]["exit_code"],
            &rows[0]["attempts"]
        ),
        (&"failed".into(), &1.into(), &2.into()),
        "{base}: {:?}",
        rows[0]
    );
    assert_eq!(
        rows[0]["error"], "Command failed with exit code 1",
        "{base}: {:?}",
        rows[0]
    );
}

#[test]
fn ok_exit_counts_listed_exit_codes_as_success_in_every_mode() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    // `k`, not `x`: the case directories on the login node must not look
    // like those other tests look for (`fz_x=…`).
    sb.write("input.txt", "k=$k\n");
    sb.write(
        "one.sh",
        "#!/bin/bash\ncut -d= -f2 input.txt > r.txt\nexit 1\n",
    );
    for base in [
        "slurm://:debug/bash one.sh",
        "slurm://:debug/bash one.sh?array=1",
        "slurm://:debug/bash one.sh?pack=2",
    ] {
        assert_ok_exit_counts(&sb, base);
    }
    // Through a login node: the srun line runs over ssh, the array is
    // submitted there.
    if let Some((user, port)) = ssh_login() {
        for query in ["", "?array=1"] {
            let base = format!("slurm://{user}@127.0.0.1:{port}:debug/bash one.sh{query}");
            assert_ok_exit_counts(&sb, &base);
        }
    }
}

#[test]
fn remote_srun_through_ssh() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = ssh_login() else {
        return;
    };
    let sb = Sandbox::new();
    perfectgas(&sb);
    let uri = format!("slurm://{user}@127.0.0.1:{port}:debug/bash PerfectGazPressure.sh");
    let out = run_study(&sb, GRID, &[&uri], "remote");
    assert_same_table_as_sh(&sb, GRID, &out, &uri);
    let log = sb.read("remote/T_celsius=0,V_L=1,n_mol=1/log.txt");
    assert!(
        log.contains("SLURM partition: debug") && log.contains("Remote directory"),
        "{log}"
    );
    // A bad partition on the remote side is classified too.
    let bad = format!("slurm://{user}@127.0.0.1:{port}:nosuchpart/true");
    let out = run_one_case(&sb, &bad);
    assert_eq!(out.status.code(), Some(1));
    let rows = json_rows(&out.stdout);
    assert!(
        rows[0]["error"]
            .as_str()
            .unwrap()
            .contains("partition 'nosuchpart' does not exist"),
        "{:?}",
        rows[0]
    );
}

#[test]
fn job_array_on_a_login_node_through_ssh() {
    if !slurm() {
        return;
    }
    let Some((user, port)) = ssh_login() else {
        return;
    };
    let sb = Sandbox::new();
    perfectgas(&sb);
    let grid = r#"{"T_celsius": [0, 20, 40], "V_L": [1, 2.5], "n_mol": 2}"#;
    let uri = format!("slurm://{user}@127.0.0.1:{port}:debug/bash PerfectGazPressure.sh?array=1");
    // A plain Command, spawned: its pid names the jobs and remote
    // directories of this run.
    let child = Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        .args([
            "input.txt",
            "-m",
            "perfectgas",
            "-v",
            grid,
            "-f",
            "json",
            "-r",
            "remote",
        ])
        .args(["-c", &uri, "-c", &uri])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_same_table_as_sh(&sb, grid, &out, &uri);
    // The files the task wrote on the login node came back.
    let case = "remote/T_celsius=20,V_L=2.5,n_mol=2";
    assert!(sb.read(&format!("{case}/out.txt")).contains("pressure = "));
    let log = sb.read(&format!("{case}/log.txt"));
    assert!(
        log.contains("SLURM array task: ") && log.contains("Remote directory: "),
        "{log}"
    );
    // Nothing of this run is left on the login node: neither the array's
    // directory nor those of the cases (n_mol=2 is this test's only).
    let left = remote_leftovers(&user, pid, "n_mol=2");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(jobs_left(pid), Vec::<String>::new());

    // A failing task: its stderr comes back and names the cause.
    sb.write("fail.sh", "echo 'boom: no licence' >&2\nexit 3\n");
    let bad = format!("slurm://{user}@127.0.0.1:{port}:debug/bash fail.sh?array=1");
    let out = run_one_case(&sb, &bad);
    assert_eq!(out.status.code(), Some(1));
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "failed", "{:?}", rows[0]);
    assert_eq!(rows[0]["exit_code"], 3, "{:?}", rows[0]);
    assert!(
        rows[0]["error"]
            .as_str()
            .unwrap()
            .contains("boom: no licence"),
        "{:?}",
        rows[0]
    );
}

#[test]
fn fzl_check_looks_up_the_partition() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    sb.write("calc.sh", "true\n");
    let out = sb
        .cmd("fzl")
        .args(["--check", "-c", "slurm://:debug/bash calc.sh?array=1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sb
        .cmd("fzl")
        .args(["--check", "-c", "slurm://:nosuchpart/bash calc.sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SLURM partition 'nosuchpart' does not exist"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // An alias whose models give the commands: the bare URI is checked.
    sb.write(
        ".fz/calculators/cluster.json",
        r#"{"uri": "slurm://:compute", "models": {"m": "bash calc.sh"}}"#,
    );
    let out = sb.cmd("fzl").args(["--check"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("### cluster ✓"));
}

#[test]
fn no_mode_shows_fz_hash_to_the_job() {
    if !slurm() {
        return;
    }
    let sb = Sandbox::new();
    // Case directories named after a variable of this test only: other
    // tests look for leftovers of theirs on the remote side.
    sb.write("input.txt", "x=$nohash\n");
    sb.write(
        "list.sh",
        "#!/bin/bash\nls -A > listing.txt\necho \"result = 1\" > output.txt\n",
    );
    let model = r#"{"output":{"r":"grep result output.txt | cut -d= -f2"}}"#;
    let mut uris = vec![
        "slurm://:debug/bash list.sh".to_string(),
        "slurm://:compute/bash list.sh?array=1".to_string(),
        "slurm://:debug/bash list.sh?array=1&pack=auto".to_string(),
    ];
    if let Some((user, port)) = ssh_login() {
        uris.push(format!(
            "slurm://{user}@127.0.0.1:{port}:debug/bash list.sh"
        ));
        uris.push(format!(
            "slurm://{user}@127.0.0.1:{port}:debug/bash list.sh?array=1"
        ));
    }
    for (k, uri) in uris.iter().enumerate() {
        let results = format!("res{k}");
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
            .args(["-r", &results, "-c", uri])
            .output()
            .unwrap();
        let rows = success_rows(&out);
        assert!(rows.iter().all(|r| r["r"] == 1), "{uri}: {rows:?}");
        let seen = sb.read(&format!("{results}/nohash=1/listing.txt"));
        assert!(
            seen.lines().any(|l| l == "input.txt") && !seen.lines().any(|l| l == ".fz_hash"),
            "{uri}: {seen}"
        );
        // md5 of "x=1\n": the case lands with the hash fzc writes.
        assert_eq!(
            sb.read(&format!("{results}/nohash=1/.fz_hash")),
            "f968f33f844c98de1d3b4fe70f2e1a0f  input.txt\n",
            "{uri}"
        );
    }
}
