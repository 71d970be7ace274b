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
            r#"{"x":[1,2,3]}"#,
            "-c",
            "cache://latest_run",
            "-c",
            "cache://archive/2024-*",
            "-c",
            "cache://archive/*",
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
