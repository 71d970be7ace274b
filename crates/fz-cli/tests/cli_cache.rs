//! `cache://` calculators through the real binary: how many times the
//! calculator really ran is counted by the script itself (a line per run
//! in `runs.log`), never inferred from our table.

mod common;
use common::Sandbox;

const OUT: &str = "r=grep result output.txt | cut -d= -f2";

/// A calculator that logs each run and writes `result = x*10`; it fails
/// (exit 2, no output) when x is in `fail_for`.
fn calc(sb: &Sandbox, file: &str, fail_for: &[i64]) {
    let runs = sb.path().join("runs.log");
    let fails: Vec<String> = fail_for
        .iter()
        .map(|f| format!("[ \"$x\" = {f} ] && exit 2"))
        .collect();
    sb.write(
        file,
        &format!(
            "#!/bin/bash\nx=$(grep -o 'x=[0-9]*' \"$1\" | cut -d= -f2)\necho \"{file} $x\" >> {}\n{}\necho \"result = $((x * 10))\" > output.txt\n",
            runs.display(),
            fails.join("\n")
        ),
    );
}

fn runs(sb: &Sandbox) -> usize {
    std::fs::read_to_string(sb.path().join("runs.log")).map_or(0, |s| s.lines().count())
}

fn rows(sb: &Sandbox, args: &[&str]) -> Vec<serde_json::Value> {
    let out = sb
        .cmd("fzr")
        .args(args)
        .args(["-f", "json", "--output-cmd", OUT])
        .output()
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn grid(n: i64) -> String {
    serde_json::json!({ "x": (0..n).collect::<Vec<_>>() }).to_string()
}

#[test]
fn resume_runs_only_what_is_missing() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    // The first run "dies" on half the cases: they fail without output.
    let odd: Vec<i64> = (0..20).filter(|x| x % 2 == 1).collect();
    calc(&sb, "slow_calc.sh", &odd);
    let first = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(20),
            "-c",
            "sh://bash slow_calc.sh",
            "-r",
            "run1",
        ],
    );
    assert_eq!(first.iter().filter(|r| r["status"] == "done").count(), 10);
    calc(&sb, "slow_calc.sh", &[]);
    let before = runs(&sb);
    let second = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(20),
            "-c",
            "cache://run1",
            "-c",
            "sh://bash slow_calc.sh",
            "-r",
            "run1_resumed",
        ],
    );
    assert_eq!(runs(&sb) - before, 10, "only the 10 failed cases run again");
    assert_eq!(second.len(), 20);
    assert!(second.iter().all(|r| r["status"] == "done"));
    for r in &second {
        let x = r["x"].as_i64().unwrap();
        assert_eq!(r["r"], x * 10);
        let want = if x % 2 == 0 {
            "cache://run1"
        } else {
            "sh://bash slow_calc.sh"
        };
        assert_eq!(r["calculator"], want, "{r}");
    }
    let hit = second.iter().find(|r| r["x"] == 0).unwrap();
    assert_eq!(hit["command"], "cache hit from run1/x=0");
    let history = sb.read("run1_resumed/x=0/history.txt");
    assert!(history.contains("Cache hit from"), "{history}");
    let log = sb.read("run1_resumed/x=0/log.txt");
    assert!(
        log.starts_with("Command: ") && log.contains("Cache hit from"),
        "{log}"
    );
}

#[test]
fn expanding_a_study_runs_only_new_cases() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x t=$t p=$p\n");
    calc(&sb, "calc.sh", &[]);
    let small = r#"{"t":[100,200,300],"p":[1,10,100],"x":1}"#;
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            small,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "study1",
        ],
    );
    assert_eq!(runs(&sb), 9);
    let big = r#"{"t":[100,200,300,400,500],"p":[1,10,100,1000,10000],"x":1}"#;
    let out = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            big,
            "-c",
            "cache://study1",
            "-c",
            "sh://bash calc.sh",
            "-r",
            "study2",
        ],
    );
    assert_eq!(runs(&sb), 9 + 16);
    assert_eq!(
        out.iter()
            .filter(|r| r["calculator"] == "cache://study1")
            .count(),
        9
    );
    // Without cache:// everything is recomputed (selective recalculation).
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            small,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "study3",
        ],
    );
    assert_eq!(runs(&sb), 25 + 9);
}

#[test]
fn tiers_in_order_failed_entries_are_not_hits() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    // Tier 1 holds a failed x=1; tier 2 (an archive glob) a done one.
    calc(&sb, "calc.sh", &[1]);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            r#"{"x":[1]}"#,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "latest_run",
        ],
    );
    calc(&sb, "calc.sh", &[]);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            r#"{"x":[1,2]}"#,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "archive/2024-05",
        ],
    );
    // x=4 only two levels down the archive: found by `archive/*/*`.
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            r#"{"x":[4]}"#,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "archive/2022/q4",
        ],
    );
    // A cached case whose output file is gone is not a hit either.
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            r#"{"x":[3]}"#,
            "-c",
            "sh://bash calc.sh",
            "-r",
            "archive/2023-01",
        ],
    );
    std::fs::remove_file(sb.path().join("archive/2023-01/x=3/output.txt")).unwrap();
    let before = runs(&sb);
    let out = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            r#"{"x":[1,2,3,4]}"#,
            "-c",
            "cache://latest_run",
            "-c",
            "cache://archive/2024-*",
            "-c",
            "cache://archive/*",
            "-c",
            "cache://archive/*/*",
            "-c",
            "cache://does_not_exist",
            "-c",
            "sh://bash calc.sh",
            "-r",
            "now",
        ],
    );
    assert_eq!(
        out[0]["calculator"], "cache://archive/2024-*",
        "the failed entry of tier 1 is skipped"
    );
    assert_eq!(out[1]["calculator"], "cache://archive/2024-*");
    assert_eq!(
        out[2]["calculator"], "sh://bash calc.sh",
        "truncated cache entry recomputed"
    );
    assert_eq!(out[3]["calculator"], "cache://archive/*/*");
    assert_eq!(out[3]["r"], 40);
    assert_eq!(runs(&sb) - before, 1);
    assert_eq!(sb.read("now/x=3/output.txt"), "result = 30\n");
    assert_eq!(out[2]["r"], 30);
}

#[test]
fn cache_first_then_parallel_workers() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    calc(&sb, "calc.sh", &[]);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(4),
            "-c",
            "sh://bash calc.sh",
            "-r",
            "previous_run",
        ],
    );
    let out = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(12),
            "-c",
            "cache://previous_run",
            "-c",
            "sh://bash calc.sh",
            "-c",
            "sh://bash calc.sh",
            "-c",
            "sh://bash calc.sh",
            "-c",
            "sh://bash calc.sh",
        ],
    );
    assert_eq!(
        out.iter()
            .filter(|r| r["calculator"] == "cache://previous_run")
            .count(),
        4
    );
    assert_eq!(runs(&sb), 4 + 8);
    assert!(out.iter().all(|r| r["status"] == "done"));
    // Only cache calculators and every case cached: nothing runs at all.
    let again = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(4),
            "-c",
            "cache://previous_run",
            "-r",
            "only_cache",
        ],
    );
    assert!(again.iter().all(|r| r["status"] == "done"));
    assert_eq!(runs(&sb), 12);
}

#[test]
fn fz_cache_lists_and_verifies() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    calc(&sb, "calc.sh", &[2]);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(3),
            "-c",
            "sh://bash calc.sh",
            "-r",
            "res",
        ],
    );
    let out = sb
        .cmd("fz")
        .args(["cache", "list", "res", "-f", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["done", "done", "failed"]);
    assert_eq!(list[0]["path"], "res/x=0");
    assert_eq!(list[0]["files"], 1);
    // The seed's "keep only .fz_hash files" clean-up makes entries unusable.
    std::fs::remove_file(sb.path().join("res/x=1/input.txt")).unwrap();
    let out = sb
        .cmd("fz")
        .args(["cache", "verify", "res", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an unusable entry → exit 1");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["usable"], true);
    assert_eq!(v[1]["usable"], false);
    assert_eq!(v[1]["problem"], "missing input.txt");
    assert_eq!(v[2]["problem"], "recorded failed, not done");
    // And a run really does not take them as hits.
    calc(&sb, "calc.sh", &[]);
    let before = runs(&sb);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(3),
            "-c",
            "cache://res",
            "-c",
            "sh://bash calc.sh",
            "-r",
            "again",
        ],
    );
    assert_eq!(
        runs(&sb) - before,
        2,
        "x=1 (files gone) and x=2 (failed) rerun"
    );
    sb.cmd("fz")
        .args(["cache", "verify", "missing_dir"])
        .assert()
        .code(1);
}

#[test]
fn a_case_truncated_mid_copy_is_not_a_hit() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    calc(&sb, "calc.sh", &[]);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(2),
            "-c",
            "sh://bash calc.sh",
            "-r",
            "copy",
        ],
    );
    // As if a copy of the results had stopped halfway through x=0's input.
    std::fs::write(sb.path().join("copy/x=0/input.txt"), "x=").unwrap();
    let before = runs(&sb);
    let out = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(2),
            "-c",
            "cache://copy",
            "-c",
            "sh://bash calc.sh",
            "-r",
            "again",
        ],
    );
    assert_eq!(runs(&sb) - before, 1);
    assert_eq!(out[0]["calculator"], "sh://bash calc.sh");
    assert_eq!(out[1]["calculator"], "cache://copy");
    assert_eq!(
        sb.read("again/x=0/input.txt"),
        "x=0\n",
        "recompiled, not copied"
    );
}

/// `(x, r, calculator)` of every row.
fn summary(out: &[serde_json::Value]) -> Vec<(i64, i64, String)> {
    out.iter()
        .map(|r| {
            (
                r["x"].as_i64().unwrap(),
                r["r"].as_i64().unwrap_or(-1),
                r["calculator"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_results_index_never_gives_a_wrong_hit() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    calc(&sb, "calc.sh", &[]);
    let run = |vars: &str, cache: &str, res: &str| {
        rows(
            &sb,
            &[
                "input.txt",
                "-v",
                vars,
                "-c",
                cache,
                "-c",
                "sh://bash calc.sh",
                "-r",
                res,
            ],
        )
    };
    let x0to4 = r#"{"x":[0,1,2,3,4]}"#;
    run(x0to4, "cache://nothing", "res");
    run(r#"{"x":[11,12]}"#, "cache://nothing", "other");
    assert_eq!(runs(&sb), 7);
    let index = sb.read("res/.fz_cache_index.tsv");
    assert!(index.starts_with("# fz cache index 1\t"), "{index}");
    let names: Vec<&str> = index
        .lines()
        .skip(1)
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["x=0", "x=1", "x=2", "x=3", "x=4"], "{index}");
    let dirs: Vec<String> = sb
        .ls("res")
        .into_iter()
        .filter(|n| sb.path().join("res").join(n).is_dir())
        .collect();
    assert_eq!(
        dirs,
        ["x=0", "x=1", "x=2", "x=3", "x=4"],
        "only cases are directories"
    );

    // Damage: x=0 deleted, x=1 replaced by other's x=11 (its index line
    // now names a case with other inputs), the index torn mid-line.
    std::fs::remove_dir_all(sb.path().join("res/x=0")).unwrap();
    std::fs::remove_dir_all(sb.path().join("res/x=1")).unwrap();
    std::fs::rename(sb.path().join("other/x=11"), sb.path().join("res/x=1")).unwrap();
    let cut = index.len() - 10;
    std::fs::write(sb.path().join("res/.fz_cache_index.tsv"), &index[..cut]).unwrap();
    let out = run(r#"{"x":[0,1,2,3,4,11]}"#, "cache://res", "again1");
    assert_eq!(runs(&sb) - 7, 2, "x=0 (deleted) and x=1 (replaced) rerun");
    let c = "cache://res".to_string();
    let s = "sh://bash calc.sh".to_string();
    assert_eq!(
        summary(&out),
        [
            (0, 0, s.clone()),
            (1, 10, s.clone()),
            (2, 20, c.clone()),
            (3, 30, c.clone()),
            (4, 40, c.clone()),
            (11, 110, c.clone()),
        ]
    );
    assert_eq!(
        out[5]["command"], "cache hit from res/x=1",
        "found under its real inputs"
    );
    // The scan rewrote the index: complete lines for what is there now.
    let rebuilt = sb.read("res/.fz_cache_index.tsv");
    assert_eq!(rebuilt.lines().count(), 1 + 4, "{rebuilt}");
    assert!(rebuilt.ends_with('\n'));

    // An index copied in from another results directory with the same
    // case names but other inputs.
    run(r#"{"x":[2,3]}"#, "cache://nothing", "swapped_src");
    let before = runs(&sb);
    // "swapped": x=2 holds the case x=3 and x=3 the case x=2 (the same
    // files, moved), with the index of the directory they came from.
    std::fs::create_dir_all(sb.path().join("swapped")).unwrap();
    std::fs::rename(
        sb.path().join("swapped_src/x=2"),
        sb.path().join("swapped/x=3"),
    )
    .unwrap();
    std::fs::rename(
        sb.path().join("swapped_src/x=3"),
        sb.path().join("swapped/x=2"),
    )
    .unwrap();
    std::fs::copy(
        sb.path().join("swapped_src/.fz_cache_index.tsv"),
        sb.path().join("swapped/.fz_cache_index.tsv"),
    )
    .unwrap();
    let out = run(r#"{"x":[2,3]}"#, "cache://swapped", "again2");
    assert_eq!(runs(&sb), before, "both found, under their real inputs");
    assert_eq!(
        summary(&out),
        [
            (2, 20, "cache://swapped".to_string()),
            (3, 30, "cache://swapped".to_string())
        ]
    );
    assert_eq!(out[0]["command"], "cache hit from swapped/x=3");

    // Without any index (a directory written by funz-fz, or copied by
    // hand without the index), the scan finds everything.
    std::fs::remove_file(sb.path().join("res/.fz_cache_index.tsv")).unwrap();
    let before = runs(&sb);
    let out = run(x0to4, "cache://res", "again3");
    assert_eq!(runs(&sb) - before, 2, "x=0 is gone, x=1 holds x=11");
    assert_eq!(out[4].get("r").unwrap(), 40);
}

/// Waits (at most 10 s) until `path` has `n` lines.
fn wait_for_lines(path: &std::path::Path, n: usize) {
    for _ in 0..1000 {
        if std::fs::read_to_string(path).is_ok_and(|s| s.lines().count() >= n) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} never reached {n} lines", path.display());
}

#[test]
fn ctrl_c_after_50_of_100_then_resume_runs_50() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let log = sb.path().join("runs.log");
    let release = sb.path().join("release");
    // The 50th case (x=49) holds until the test has pressed Ctrl+C.
    sb.write(
        "slow_calc.sh",
        &format!(
            "#!/bin/bash\nx=$(grep -o 'x=[0-9]*' \"$1\" | cut -d= -f2)\necho \"slow_calc $x\" >> {}\nif [ \"$x\" = 49 ]; then while [ ! -f {} ]; do sleep 0.02; done; fi\necho \"result = $((x * 10))\" > output.txt\n",
            log.display(),
            release.display()
        ),
    );
    let child = std::process::Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .args(["input.txt", "-v", &grid(100), "-f", "json"])
        .args([
            "--output-cmd",
            OUT,
            "-c",
            "sh://bash slow_calc.sh",
            "-r",
            "run1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lines(&log, 50);
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::write(&release, "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = first.as_array().unwrap();
    assert_eq!(first.iter().filter(|r| r["status"] == "done").count(), 50);
    assert_eq!(
        first
            .iter()
            .filter(|r| r["status"] == "interrupted")
            .count(),
        50
    );
    assert_eq!(runs(&sb), 50);
    // The seed's resume: the same study with the interrupted run as cache.
    let second = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(100),
            "-c",
            "cache://run1",
            "-c",
            "sh://bash slow_calc.sh",
            "-r",
            "run1_resumed",
        ],
    );
    assert_eq!(runs(&sb), 100, "exactly the 50 missing cases ran");
    assert_eq!(second.len(), 100);
    for r in &second {
        let x = r["x"].as_i64().unwrap();
        assert_eq!(r["status"], "done");
        assert_eq!(r["r"], x * 10);
        let want = if x < 50 {
            "cache://run1"
        } else {
            "sh://bash slow_calc.sh"
        };
        assert_eq!(r["calculator"], want, "{r}");
    }
}

#[test]
fn cache_hits_come_first_then_four_workers_run_at_once() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    calc(&sb, "calc.sh", &[]);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(4),
            "-c",
            "sh://bash calc.sh",
            "-r",
            "previous_run",
        ],
    );
    assert_eq!(runs(&sb), 4);
    let timeline = sb.path().join("timeline.log");
    sb.write(
        "slow.sh",
        &format!(
            "#!/bin/bash\nstart=$(date +%s%N)\nsleep 0.4\nx=$(grep -o 'x=[0-9]*' \"$1\" | cut -d= -f2)\necho \"result = $((x * 10))\" > output.txt\necho \"$start $(date +%s%N)\" >> {}\n",
            timeline.display()
        ),
    );
    let slow = "sh://bash slow.sh";
    let out = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(12),
            "-c",
            "cache://previous_run",
            "-c",
            slow,
            "-c",
            slow,
            "-c",
            slow,
            "-c",
            slow,
            "-r",
            "now",
        ],
    );
    let text = sb.read("timeline.log");
    let spans: Vec<(u128, u128)> = text
        .lines()
        .map(|l| {
            let (a, b) = l.split_once(' ').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    assert_eq!(spans.len(), 8, "only the 8 uncached cases ran");
    let events: Vec<(u128, i32)> = spans.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    assert_eq!(
        common::peak_overlap(events),
        4,
        "four calculators ran four cases at once"
    );
    for r in &out {
        let x = r["x"].as_i64().unwrap();
        assert_eq!(r["r"], x * 10);
        let calc = r["calculator"].as_str().unwrap();
        if x < 4 {
            assert_eq!(calc, "cache://previous_run");
        } else {
            // Four identical entries: the slots are told apart.
            let slot = calc.strip_prefix(&format!("{slow}#")).unwrap_or("?");
            assert!(["1", "2", "3", "4"].contains(&slot), "{calc}");
        }
    }
    // Every cache hit was journaled before the first calculator started.
    let journal = sb.read("now/fz_journal.tsv");
    let first_start = spans.iter().map(|s| s.0).min().unwrap() as f64 / 1e9;
    let hits: Vec<f64> = journal
        .lines()
        .skip(1)
        .filter(|l| l.split('\t').nth(1) == Some("0"))
        .map(|l| l.split('\t').nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(hits.len(), 4, "{journal}");
    assert!(
        hits.iter().all(|&end| end <= first_start),
        "{hits:?} vs {first_start}"
    );
}

#[test]
fn staged_execution_reuses_detailed_runs() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("input_detailed.txt", "x=$x\nmesh=fine\n");
    calc(&sb, "quick.sh", &[]);
    calc(&sb, "detailed.sh", &[]);
    let count = |script: &str| {
        std::fs::read_to_string(sb.path().join("runs.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(script))
            .count()
    };
    // Stage 1: quick screening of 20 cases on two workers.
    let quick = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(20),
            "-c",
            "sh://bash quick.sh",
            "-c",
            "sh://bash quick.sh",
            "-r",
            "stage1_quick",
        ],
    );
    assert_eq!(count("quick.sh"), 20);
    let interesting = |threshold: i64| -> Vec<i64> {
        quick
            .iter()
            .filter(|r| r["r"].as_i64().unwrap() > threshold)
            .map(|r| r["x"].as_i64().unwrap())
            .collect()
    };
    // Stage 2: detailed runs of the interesting cases (r > 150: x = 16..19).
    let stage2 = |params: &[i64], res: &str| {
        rows(
            &sb,
            &[
                "input_detailed.txt",
                "-v",
                &serde_json::json!({ "x": params }).to_string(),
                "-c",
                "cache://stage2_previous",
                "-c",
                "cache://stage1_quick",
                "-c",
                "sh://bash detailed.sh",
                "-c",
                "sh://bash detailed.sh",
                "-r",
                res,
            ],
        )
    };
    let first = stage2(&interesting(150), "stage2_previous");
    assert_eq!(first.len(), 4);
    assert_eq!(count("detailed.sh"), 4);
    // The quick results (another input file) were never taken for detailed
    // ones. A wider threshold later (r > 100: x = 11..19): the 4 detailed
    // cases already computed come from the cache, only 5 new ones run.
    let second = stage2(&interesting(100), "stage2_detailed");
    assert_eq!(count("detailed.sh"), 4 + 5);
    assert_eq!(count("quick.sh"), 20);
    assert_eq!(
        second
            .iter()
            .filter(|r| r["calculator"] == "cache://stage2_previous")
            .count(),
        4
    );
    assert!(second.iter().all(|r| r["status"] == "done"));
}

#[test]
fn keeping_only_fz_hash_files_empties_the_cache_and_verify_says_so() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    calc(&sb, "calc.sh", &[]);
    rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(3),
            "-c",
            "sh://bash calc.sh",
            "-r",
            "results",
        ],
    );
    // The seed's clean-up: find results/ -type f ! -name '.fz_hash' -delete
    let status = std::process::Command::new("find")
        .args([
            "results/", "-type", "f", "!", "-name", ".fz_hash", "-delete",
        ])
        .current_dir(sb.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = sb
        .cmd("fz")
        .args(["cache", "verify", "results", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 3, "the entries are still listed");
    for e in v {
        assert_eq!(e["usable"], false, "{e}");
        assert_eq!(
            e["problem"],
            "missing input.txt; no info.txt state (never run, or only .fz_hash kept)"
        );
    }
    let before = runs(&sb);
    let again = rows(
        &sb,
        &[
            "input.txt",
            "-v",
            &grid(3),
            "-c",
            "cache://results",
            "-c",
            "sh://bash calc.sh",
            "-r",
            "again",
        ],
    );
    assert_eq!(runs(&sb) - before, 3, "nothing left to reuse");
    assert!(again.iter().all(|r| r["calculator"] == "sh://bash calc.sh"));
}
