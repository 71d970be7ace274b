//! `fzr` / `fz run` driven through the real binary with real calculator
//! scripts: concurrency (from timestamps the scripts log), retries,
//! timeouts, atomic case directories and summary files.

mod common;
use common::{json_rows, success_rows, wait_for_lines, Sandbox};
use predicates::prelude::*;
use std::time::Duration;

/// A calculator script that logs `<name> <start ns> <end ns>` to log_path
/// and writes `result = <x>` to output.txt.
fn logging_calc(sb: &Sandbox, file: &str, name: &str, sleep: &str) {
    let log = sb.path().join("timeline.log");
    sb.write(
        file,
        &format!(
            "#!/bin/bash\nstart=$(date +%s%N)\nsleep {sleep}\nx=$(grep -o 'x=[0-9.]*' \"$1\" | cut -d= -f2)\necho \"result = $x\" > output.txt\necho \"{name} $start $(date +%s%N)\" >> {}\n",
            log.display()
        ),
    );
}

/// Highest number of intervals open at the same time.
fn peak_concurrency(timeline: &str) -> usize {
    let mut events: Vec<(u128, i32)> = Vec::new();
    for line in timeline.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (s, e): (u128, u128) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        events.push((s, 1));
        events.push((e, -1));
    }
    common::peak_overlap(events)
}

/// A model reading `result = <r>` from output.txt.
const MODEL_R: &str = r#"{"output":{"r":"grep result output.txt | cut -d= -f2"}}"#;

#[test]
fn three_calculators_run_three_cases_at_once() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    logging_calc(&sb, "calc.sh", "c", "0.4");
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":[1,2,3,4,5,6]}"#, "-f", "json"])
        .args([
            "-c",
            "sh://bash calc.sh",
            "-c",
            "sh://bash calc.sh",
            "-c",
            "sh://bash calc.sh",
        ])
        .output()
        .unwrap();
    let rows = success_rows(&out);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r["status"] == "done"));
    // Three identical entries: three slots, told apart in the table.
    let mut slots: Vec<&str> = rows
        .iter()
        .map(|r| r["calculator"].as_str().unwrap())
        .collect();
    slots.sort();
    slots.dedup();
    assert!(
        slots.iter().all(|c| [
            "sh://bash calc.sh#1",
            "sh://bash calc.sh#2",
            "sh://bash calc.sh#3"
        ]
        .contains(c)),
        "{slots:?}"
    );
    assert_eq!(peak_concurrency(&sb.read("timeline.log")), 3);
}

#[test]
fn fz_max_workers_caps_concurrency() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    logging_calc(&sb, "calc.sh", "c", "0.4");
    sb.cmd("fz")
        .args(["run", "input.txt", "-v", r#"{"x":[1,2,3,4]}"#])
        .args([
            "-c",
            "sh://bash calc.sh",
            "-c",
            "sh://bash calc.sh",
            "-c",
            "sh://bash calc.sh",
        ])
        .env("FZ_MAX_WORKERS", "2")
        .assert()
        .success();
    assert_eq!(peak_concurrency(&sb.read("timeline.log")), 2);
}

#[test]
fn cases_spread_over_distinct_calculators() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    for n in ["a", "b", "c"] {
        logging_calc(&sb, &format!("{n}.sh"), n, "0.3");
    }
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":[1,2,3]}"#, "-f", "json"])
        .args([
            "-c",
            "sh://bash a.sh",
            "-c",
            "sh://bash b.sh",
            "-c",
            "sh://bash c.sh",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut used: Vec<String> = json_rows(&out.stdout)
        .iter()
        .map(|r| r["calculator"].as_str().unwrap().to_string())
        .collect();
    used.sort();
    assert_eq!(used, ["sh://bash a.sh", "sh://bash b.sh", "sh://bash c.sh"]);
    let mut names: Vec<String> = sb
        .read("timeline.log")
        .lines()
        .map(|l| l[..1].to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn a_failure_retries_on_the_backup_calculator() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "may_fail.sh",
        "#!/bin/bash\necho 'no licence' >&2\nexit 3\n",
    );
    sb.write("backup.sh", "#!/bin/bash\necho 'result = 1' > output.txt\n");
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-f", "json"])
        .args(["-c", "sh://bash may_fail.sh", "-c", "sh://bash backup.sh"])
        .env("FZ_MAX_RETRIES", "3")
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "done");
    assert_eq!(rows[0]["calculator"], "sh://bash backup.sh");
    assert_eq!(rows[0]["attempts"], 2);
    let history = sb.read("results/x=1/history.txt");
    assert!(
        history.contains("may_fail.sh") && history.contains("exit code 3"),
        "{history}"
    );
    assert_eq!(sb.read("results/x=1/output.txt"), "result = 1\n");
}

#[test]
fn every_attempt_failing_gives_failed_and_exit_1() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("bad.sh", "#!/bin/bash\necho 'disk full' >&2\nexit 2\n");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":1}"#,
            "-f",
            "json",
            "-c",
            "sh://bash bad.sh",
        ])
        .env("FZ_MAX_RETRIES", "3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "no case done → exit 1");
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["exit_code"], 2);
    assert_eq!(rows[0]["attempts"], 3);
    let err = rows[0]["error"].as_str().unwrap();
    assert!(
        err.contains("exit code 2") && err.contains("disk full"),
        "{err}"
    );
}

#[test]
fn timeout_kills_the_whole_process_tree() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let pidfile = sb.path().join("grandchild.pid");
    sb.write(
        "slow.sh",
        &format!(
            "#!/bin/bash\nsleep 300 &\necho $! > {}\nsleep 300\n",
            pidfile.display()
        ),
    );
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":1}"#,
            "-f",
            "json",
            "-c",
            "sh://bash slow.sh",
            "--timeout",
            "1",
        ])
        .env("FZ_MAX_RETRIES", "1")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "timeout");
    assert!(
        rows[0]["error"]
            .as_str()
            .unwrap()
            .contains("timed out after 1"),
        "{:?}",
        rows[0]
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Checked through /proc: the grandchild must be gone (or a zombie).
    std::thread::sleep(Duration::from_millis(200));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false);
    assert!(!alive, "grandchild sleep {pid} survived the timeout");
}

#[test]
fn case_directories_appear_only_complete() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\necho start > partial.txt\nsleep 0.3\necho 'result = 1' > output.txt\n",
    );
    let mut child = std::process::Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2,3,4,5,6]}"#,
            "-m",
            MODEL_R,
            "-c",
            "sh://bash calc.sh",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let results = sb.path().join("results");
    let mut seen = 0;
    let mut read_during_run = false;
    for _ in 0..200 {
        // `fzo 'results/*'` during the run reads exactly the finished cases.
        let count_cases = || {
            std::fs::read_dir(&results).map_or(0, |d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("x="))
                    .count()
            })
        };
        let before = count_cases();
        if !read_during_run && before > 0 && before < 6 {
            let out = sb
                .cmd("fzo")
                .args(["results/*", "-m", MODEL_R, "-f", "json"])
                .output()
                .unwrap();
            let after = count_cases();
            let rows = json_rows(&out.stdout);
            assert!(
                (before..=after).contains(&rows.len()),
                "{before} <= {} <= {after}",
                rows.len()
            );
            assert!(
                rows.iter().all(|r| r["r"] == 1),
                "only complete cases: {rows:?}"
            );
            read_during_run = after < 6;
        }
        if let Ok(entries) = std::fs::read_dir(&results) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !e.path().is_dir() {
                    continue;
                }
                // Every directory, hidden ones included, is a finished
                // case: os.listdir counts exactly the completed cases.
                assert!(name.starts_with("x="), "{name} during the run");
                seen += 1;
                for f in [
                    "output.txt",
                    "info.txt",
                    "history.txt",
                    "log.txt",
                    ".fz_hash",
                    "input.txt",
                ] {
                    assert!(e.path().join(f).exists(), "{name} listed without {f}");
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
    assert!(seen > 0);
    assert!(read_during_run, "fzo ran while cases were still running");
    assert_eq!(
        sb.ls("results")
            .iter()
            .filter(|n| n.starts_with("x="))
            .count(),
        6
    );
    assert!(
        !sb.path().join(".results.fz-work").exists(),
        "work area removed at the end"
    );
    let dirs: Vec<String> = sb
        .ls("results")
        .into_iter()
        .filter(|n| results.join(n).is_dir())
        .collect();
    assert_eq!(dirs.len(), 6, "only cases are directories: {dirs:?}");
}

#[test]
fn summary_csv_equals_the_printed_table() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\necho ok\n");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2]}"#,
            "-f",
            "csv",
            "-c",
            "sh://bash calc.sh",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let summary = sb.read("results/summary.csv");
    assert_eq!(
        printed,
        format!("{summary}\n"),
        "the CLI prints a blank line after the CSV"
    );
    let json: serde_json::Value = serde_json::from_str(&sb.read("results/summary.json")).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert!(summary.starts_with("x,path,calculator,status,error,command,exit_code,attempts\n1,results/x=1,sh://bash calc.sh,done,,"), "{summary}");
}

#[test]
fn results_dir_is_moved_aside_and_bad_calculators_are_refused() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\ntrue\n");
    for _ in 0..2 {
        sb.cmd("fzr")
            .args([
                "input.txt",
                "-v",
                r#"{"x":1}"#,
                "-c",
                "sh://bash calc.sh",
                "-r",
                "res",
            ])
            .assert()
            .success();
    }
    assert_eq!(
        sb.ls(".").iter().filter(|n| n.starts_with("res_")).count(),
        1
    );
    sb.cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-c", "docker://x"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "Unsupported calculator scheme: 'docker'",
        ));
    sb.cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-c", "sh://true"])
        .env("FZ_MAX_RETRIES", "many")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "FZ_MAX_RETRIES must be a non-negative integer, got 'many'",
        ));
}

#[test]
fn missing_outputs_are_reported_or_retried_on_request() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("lazy.sh", "#!/bin/bash\ntrue\n");
    sb.write("good.sh", "#!/bin/bash\necho 'result = 7' > output.txt\n");
    let args = [
        "input.txt",
        "-v",
        r#"{"x":1}"#,
        "-f",
        "json",
        "-c",
        "sh://bash lazy.sh",
        "-c",
        "sh://bash good.sh",
        "--output-cmd",
        "r=grep result output.txt | cut -d= -f2",
    ];
    // Default (as upstream): done, with the missing output in `error`.
    let out = sb.cmd("fzr").args(args).output().unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "done");
    assert_eq!(rows[0]["calculator"], "sh://bash lazy.sh");
    assert_eq!(rows[0]["r"], serde_json::Value::Null);
    assert!(
        rows[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("Missing output: Output 'r'"),
        "{:?}",
        rows[0]
    );
    // FZ_MISSING_OUTPUT_FAILS=1: the empty run is a failure, retried on the next calculator.
    let out = sb
        .cmd("fzr")
        .args(args)
        .env("FZ_MISSING_OUTPUT_FAILS", "1")
        .output()
        .unwrap();
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "done");
    assert_eq!(rows[0]["calculator"], "sh://bash good.sh");
    assert_eq!(rows[0]["r"], 7);
    assert_eq!(rows[0]["attempts"], 2);
    assert_eq!(rows[0]["error"], serde_json::Value::Null);
}

#[test]
fn summary_csv_is_readable_by_pandas() {
    let has_pandas = std::process::Command::new("python3")
        .args(["-c", "import pandas"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pandas {
        eprintln!("SKIPPED summary_csv_is_readable_by_pandas: pandas is not importable by python3 (.ci/install provides it)");
        return;
    }
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x s=$s\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\necho \"result = $RANDOM\" > output.txt\n",
    );
    sb.cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2,3],"s":"a, \"b\""}"#,
            "-c",
            "sh://bash calc.sh",
        ])
        .args(["--output-cmd", "r=grep result output.txt | cut -d= -f2"])
        .assert()
        .success();
    let script = "import pandas as pd, json\n\
        df = pd.read_csv('results/summary.csv')\n\
        js = json.load(open('results/summary.json'))\n\
        assert list(df['x']) == [1, 2, 3], df\n\
        assert list(df['s']) == ['a, \"b\"'] * 3, df\n\
        assert list(df['status']) == ['done'] * 3\n\
        assert list(df['r']) == [row['r'] for row in js]\n\
        assert list(df.columns) == list(js[0].keys()), (list(df.columns), list(js[0].keys()))\n\
        print('ok')";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .current_dir(sb.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn library_and_cli_give_the_same_table() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\necho \"result = $(cut -d= -f2 \"$1\")\" > output.txt\n",
    );
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2]}"#,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "cli",
            "-f",
            "json",
        ])
        .args(["--output-cmd", "r=grep result output.txt | cut -d= -f2"])
        .output()
        .unwrap();
    let cli = json_rows(&out.stdout);

    let model = fz_core::model::model_from_json(
        serde_json::json!({"output": {"r": "grep result output.txt | cut -d= -f2"}}),
        "test",
    )
    .unwrap();
    let lookup = fz_core::model::Lookup {
        cwd: sb.path().to_path_buf(),
        home: None,
    };
    let design = fz_core::design::from_text(r#"{"x":[1,2]}"#, sb.path()).unwrap();
    let options = fz_core::ops::run::RunOptions {
        results_dir: sb.path().join("lib"),
        calculators: vec!["sh://bash calc.sh".into()],
        ..Default::default()
    };
    let report = fz_core::ops::run::fzr(
        &sb.path().join("input.txt"),
        Some(&design),
        &model,
        &options,
        &lookup,
    )
    .unwrap();
    let lib: serde_json::Value = serde_json::from_str(&fz_core::format::render_table(
        &report.table,
        fz_core::format::Format::Json,
    ))
    .unwrap();
    let normalise = |rows: &[serde_json::Value], dir: &str| -> Vec<serde_json::Value> {
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                let p = r["path"].as_str().unwrap().replacen(dir, "RES", 1);
                r["path"] = serde_json::Value::String(p);
                r
            })
            .collect()
    };
    assert_eq!(
        normalise(&cli, "cli"),
        normalise(lib.as_array().unwrap(), "lib")
    );
    assert_eq!(cli[1]["r"], 2);
}

#[test]
fn first_interrupt_lets_running_cases_finish_and_starts_no_more() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let started = sb.path().join("started.log");
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\necho go >> {}\nsleep 1\necho 'result = 1' > output.txt\n",
            started.display()
        ),
    );
    let child = std::process::Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .args(["input.txt", "-v", r#"{"x":[1,2,3,4,5,6]}"#, "-f", "json"])
        .args(["-c", "sh://bash calc.sh", "-c", "sh://bash calc.sh"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lines(&started, 2);
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let rows = json_rows(&out.stdout);
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "done",
            "done",
            "interrupted",
            "interrupted",
            "interrupted",
            "interrupted"
        ]
    );
    assert_eq!(
        sb.read("started.log").lines().count(),
        2,
        "no case started after the interrupt"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("Interrupt received"), "{err}");
    assert!(
        err.contains("2 of 6 cases done") && err.contains("-c cache://_"),
        "{err}"
    );
    let cases: Vec<String> = sb
        .ls("results")
        .into_iter()
        .filter(|n| n.starts_with("x="))
        .collect();
    assert_eq!(
        cases,
        ["x=1", "x=2"],
        "only finished cases are in the results"
    );
    assert!(!sb.path().join(".results.fz-work").exists());
    assert!(sb.read("results/summary.csv").contains("interrupted"));
    // The printed resume command works: the 4 missing cases run, 2 come from the cache.
    let resume = format!(
        "{} -c cache://_",
        "fzr input.txt -v '{\"x\":[1,2,3,4,5,6]}' -f json -c 'sh://bash calc.sh'"
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &resume])
        .current_dir(sb.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                sb.bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    let rows = success_rows(&out);
    assert!(rows.iter().all(|r| r["status"] == "done"));
    assert_eq!(
        rows.iter()
            .filter(|r| r["calculator"] == "cache://_")
            .count(),
        2
    );
    assert_eq!(sb.read("started.log").lines().count(), 6);
}

#[test]
fn second_interrupt_kills_running_cases() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let pids = sb.path().join("pids.log");
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\nsleep 300 &\necho $! >> {}\nwait\n",
            pids.display()
        ),
    );
    let child = std::process::Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2,3]}"#,
            "-f",
            "json",
            "-c",
            "sh://bash calc.sh",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lines(&pids, 1);
    let t0 = std::time::Instant::now();
    for _ in 0..2 {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(150));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "the run ends promptly"
    );
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["status"], "interrupted");
    assert_eq!(rows[0]["attempts"], 1, "a killed attempt is not retried");
    let pid: i32 = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let alive =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    assert!(!alive, "the running case's sleep {pid} was killed");
    assert_eq!(
        sb.ls("results")
            .iter()
            .filter(|n| n.starts_with("x="))
            .count(),
        1,
        "the killed case is stored, complete, as interrupted"
    );
    assert!(sb
        .read("results/x=1/info.txt")
        .starts_with("state=interrupted"));
}

#[test]
fn journal_report_and_progress_lines() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "flaky.sh",
        "#!/bin/bash\ngrep -q 'x=2' input.txt && exit 4\necho ok\n",
    );
    sb.write("good.sh", "#!/bin/bash\necho ok\n");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2,3]}"#,
            "-c",
            "sh://bash flaky.sh",
            "-c",
            "sh://bash good.sh",
        ])
        .env("FZ_MAX_WORKERS", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("📊 Progress: 3/3 cases completed (100.0%)"),
        "{err}"
    );
    let journal = sb.read("results/fz_journal.tsv");
    let lines: Vec<Vec<&str>> = journal
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(lines.len(), 4, "3 cases, one retried: {journal}");
    let x2: Vec<&Vec<&str>> = lines.iter().filter(|l| l[0] == "x=2").collect();
    assert_eq!(
        (x2[0][1], x2[0][2], x2[0][6], x2[0][7]),
        ("1", "sh://bash flaky.sh", "4", "failed")
    );
    assert_eq!(
        (x2[1][1], x2[1][2], x2[1][7]),
        ("2", "sh://bash good.sh", "done")
    );
    let report = sb.cmd("fz").args(["report", "results"]).output().unwrap();
    let text = String::from_utf8(report.stdout).unwrap();
    assert!(
        text.starts_with("cases: 3, done: 3\nattempts: 4\n"),
        "{text}"
    );
    assert!(
        text.contains("sh://bash flaky.sh: 3 attempts, 2 done"),
        "{text}"
    );
    // FZ_PROGRESS=0 silences the progress lines.
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,3]}"#,
            "-c",
            "sh://bash good.sh",
            "-r",
            "quiet",
        ])
        .env("FZ_PROGRESS", "0")
        .output()
        .unwrap();
    // Only the end-of-run summary is left.
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("2 cases: 2 done in "), "{err}");
}

#[test]
fn verbose_and_quiet_flags() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\necho ok\n");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2]}"#,
            "-c",
            "sh://bash calc.sh",
            "--verbose",
            "--verbose",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("case 0: attempt 1 on sh://bash calc.sh in "),
        "{err}"
    );
    assert!(err.contains("case x=1: done on sh://bash calc.sh"), "{err}");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2]}"#,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "q",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "the table is still printed");
}

#[test]
fn a_terminal_gets_a_progress_bar_a_pipe_gets_lines() {
    // `script` (util-linux, essential on Debian) gives the command a
    // pseudo-terminal; missing, it is a broken machine, not a skip.
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\nsleep 0.2\n");
    let fzr = sb.bin.join("fzr");
    let cmd = format!(
        "{} input.txt -v '{{\"x\":[1,2,3,4]}}' -c 'sh://bash calc.sh' -f csv",
        fzr.display()
    );
    // `script` gives the command a pseudo-terminal.
    let out = std::process::Command::new("script")
        .args(["-q", "-c", &cmd, "/dev/null"])
        .current_dir(sb.path())
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env("HOME", sb.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("4/4 (100.0%)") && text.contains('█'),
        "{text}"
    );
    assert!(
        text.contains("done 4 · failed 0 · cached 0"),
        "counts on the bar: {text}"
    );
    let eta = regex::Regex::new(r"- ETA: \d+s").unwrap();
    assert!(eta.is_match(&text), "an ETA in seconds: {text}");
    assert!(
        !text.contains("📊 Progress"),
        "no plain lines on a terminal"
    );
    // Under CI (or in a pipe) the plain lines, never the bar.
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[5,6]}"#,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "piped",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("📊 Progress: 2/2 cases completed (100.0%)") && !err.contains('█'),
        "{err}"
    );
}

#[test]
fn resume_reuses_the_results_directory_in_place() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let runs = sb.path().join("runs.log");
    let calc = |fail: bool| {
        format!(
            "#!/bin/bash\necho run >> {}\n{}echo \"result = 1\" > output.txt\n",
            runs.display(),
            if fail {
                "grep -q 'x=2' input.txt && exit 3\n"
            } else {
                ""
            }
        )
    };
    sb.write("calc.sh", &calc(true));
    let args = [
        "input.txt",
        "-v",
        r#"{"x":[1,2,3]}"#,
        "-c",
        "sh://bash calc.sh",
        "-f",
        "json",
        "--output-cmd",
        "r=grep result output.txt | cut -d= -f2",
    ];
    let first = json_rows(
        &sb.cmd("fzr")
            .args(args)
            .env("FZ_MAX_RETRIES", "1")
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(first[1]["status"], "failed");
    let kept_mtime = std::fs::metadata(sb.path().join("results/x=1/output.txt"))
        .unwrap()
        .modified()
        .unwrap();
    sb.write("calc.sh", &calc(false));
    let out = sb.cmd("fzr").args(args).arg("--resume").output().unwrap();
    let rows = success_rows(&out);
    assert!(rows.iter().all(|r| r["status"] == "done"), "{rows:?}");
    assert_eq!(rows[0]["command"], "kept from the resumed run");
    assert_eq!(rows[1]["calculator"], "sh://bash calc.sh");
    assert_eq!(
        std::fs::read_to_string(&runs).unwrap().lines().count(),
        3 + 1,
        "only x=2 ran again"
    );
    assert!(
        sb.ls(".").iter().all(|n| !n.starts_with("results_")),
        "nothing moved aside"
    );
    let mtime = std::fs::metadata(sb.path().join("results/x=1/output.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(mtime, kept_mtime, "finished cases are left untouched");
    assert!(
        sb.path().join("results/.fz_replaced/x=2/err.txt").exists(),
        "the failed attempt is kept aside"
    );
    let journal = sb.read("results/fz_journal.tsv");
    assert_eq!(
        journal.lines().filter(|l| l.starts_with("case\t")).count(),
        1,
        "one header"
    );
}

#[test]
fn map_outputs_become_columns() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\necho '{\"a\": 1, \"b\": {\"c\": 2}}' > out.json\n",
    );
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1]}"#,
            "-c",
            "sh://bash calc.sh",
            "-f",
            "json",
        ])
        .args(["--output-cmd", "d=cat out.json"])
        .output()
        .unwrap();
    let rows = json_rows(&out.stdout);
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.last().map(|k| k.as_str()), Some("d_b_c"), "{keys:?}");
    assert_eq!(rows[0]["d_a"], 1);
    assert_eq!(rows[0]["d_b_c"], 2);
    assert!(rows[0].get("d").is_none());
}

#[test]
fn events_file_follows_the_run_and_no_progress_silences_it() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\ngrep -q 'x=2' input.txt && exit 3\necho result=1 > output.txt\n",
    );
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1,2,3]}"#,
            "-m",
            r#"{"output":{"r":"grep result output.txt | cut -d= -f2"}}"#,
            "-c",
            "sh://bash calc.sh",
            "--events",
            "events.jsonl",
            "--no-progress",
        ])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    // x=2 failed: exit 1 (upstream: 0), and the only line on stderr is
    // the end-of-run summary naming it (no progress line).
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "--no-progress: {err}");
    assert!(
        err.starts_with("3 cases: 2 done, 1 failed in ")
            && err
                .trim_end()
                .ends_with("s; not done: x=2 (failed, exit 3); see fz report results"),
        "{err}"
    );
    let events: Vec<serde_json::Value> = sb
        .read("events.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert_eq!(kinds.last(), Some(&"complete"));
    assert_eq!(kinds.iter().filter(|k| **k == "case_start").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "progress").count(), 3);
    let finished: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "case_complete")
        .collect();
    assert_eq!(finished.len(), 3);
    let x2 = finished.iter().find(|e| e["values"]["x"] == 2).unwrap();
    assert_eq!(x2["status"], "failed");
    let x3 = finished.iter().find(|e| e["values"]["x"] == 3).unwrap();
    assert_eq!(
        (&x3["status"], &x3["row"]["r"]),
        (&serde_json::json!("done"), &serde_json::json!(1))
    );
    let last = events.last().unwrap();
    assert_eq!(
        (last["total"].as_u64(), last["done"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(last["interrupted"], false);

    // A file that cannot be opened is refused before anything runs.
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            r#"{"x":[1]}"#,
            "-c",
            "sh://bash calc.sh",
            "--events",
            "no/such/dir/events.jsonl",
            "-r",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--events: cannot open") && err.contains("no/such/dir/events.jsonl"),
        "{err}"
    );
    assert!(!sb.path().join("never").exists());
}

#[test]
fn fz_shell_path_tools_win_for_commands_and_outputs() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "tools/mytool",
        "#!/bin/bash\necho \"result = $(( $(cut -d= -f2 input.txt) * 2 ))\" > output.txt\n",
    );
    let grep_log = sb.path().join("grep.log");
    sb.write(
        "tools/grep",
        &format!(
            "#!/bin/bash\necho used >> {}\nexec /usr/bin/grep \"$@\"\n",
            grep_log.display()
        ),
    );
    for tool in ["tools/mytool", "tools/grep"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(sb.path().join(tool), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let args = [
        "input.txt",
        "-v",
        r#"{"x":[1,2]}"#,
        "-m",
        r#"{"output":{"r":"grep result output.txt | cut -d= -f2"}}"#,
        "-c",
        "sh://mytool",
        "-f",
        "json",
    ];
    let out = sb
        .cmd("fzr")
        .args(args)
        .env("FZ_SHELL_PATH", sb.path().join("tools"))
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    let rows = success_rows(&out);
    let r: Vec<&serde_json::Value> = rows.iter().map(|row| &row["r"]).collect();
    assert_eq!(r, [&serde_json::json!(2), &serde_json::json!(4)]);
    assert_eq!(
        std::fs::read_to_string(&grep_log).unwrap().lines().count(),
        2,
        "the output extractor used the grep of FZ_SHELL_PATH"
    );
    // Without it the tool is not found: the run is refused before it
    // compiles anything.
    let out = sb
        .cmd("fzr")
        .args(args)
        .args(["-r", "without"])
        .env_remove("FZ_SHELL_PATH")
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("calculator 'sh://mytool': program 'mytool' not found on PATH"),
        "{err}"
    );
    assert!(!sb.path().join("without").exists());
}
