//! The model's `success` key through the real binary: with `"outputs"`, a
//! case whose command exits non-zero but whose outputs all have a value is
//! `done` (its history and log.txt say the exit code was ignored), and a
//! case that exits 0 with an output missing is `failed`, retried, and
//! named in the error; `fzr` exits 0 only when every case is done.

mod common;
use common::{json_rows, Sandbox};

const OUTPUTS_DECIDE: &str = r#"{"output": {"r": "cat r.txt"}, "success": "outputs"}"#;

/// A project: `one.sh` writes `r.txt` and exits 1, `lazy.sh` exits 0
/// without writing it, `good.sh` writes it and exits 0.
fn project() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "one.sh",
        "#!/bin/bash\ncut -d= -f2 input.txt > r.txt\nexit 1\n",
    );
    sb.write("lazy.sh", "#!/bin/bash\necho nothing\n");
    sb.write("good.sh", "#!/bin/bash\ncut -d= -f2 input.txt > r.txt\n");
    sb
}

/// `fzr` on `x=1,2` with the model `model` and calculators `calcs`, two
/// attempts per case, into `results`: exit code, rows, stderr.
fn fzr(
    sb: &Sandbox,
    model: &str,
    calcs: &[&str],
    results: &str,
) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let mut cmd = sb.cmd("fzr");
    cmd.args(["input.txt", "-v", "x=[1,2]", "-f", "json", "-r", results])
        .args(["-m", model])
        .env("FZ_MAX_RETRIES", "2");
    for c in calcs {
        cmd.args(["-c", c]);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), json_rows(&out.stdout), err)
}

/// Every row is `done` on calculator `calc`.
fn assert_all_done_on(rows: &[serde_json::Value], calc: &str) {
    assert!(
        rows.iter()
            .all(|r| r["status"] == "done" && r["calculator"] == calc),
        "{rows:?}"
    );
}

#[test]
fn outputs_present_make_a_non_zero_exit_done() {
    let sb = project();
    let (code, rows, err) = fzr(&sb, OUTPUTS_DECIDE, &["sh://bash one.sh"], "accepted");
    assert_eq!(code, Some(0), "{err}");
    for (row, x) in rows.iter().zip([1, 2]) {
        assert_eq!(row["status"], "done", "{row}");
        assert_eq!(row["r"], x, "{row}");
        assert_eq!(row["exit_code"], 1, "the real exit code is kept: {row}");
        assert_eq!(row["attempts"], 1, "{row}");
        assert_eq!(row["error"], serde_json::Value::Null, "{row}");
    }
    let history = sb.read("accepted/x=1/history.txt");
    assert!(
        history.contains("] done (exit code 1)\n")
            && history.contains(
                "] Note: exit code 1 ignored: every output has a value (model \"success\": \"outputs\")\n"
            ),
        "{history}"
    );
    let log = sb.read("accepted/x=1/log.txt");
    assert!(
        log.contains("Status: failed\n")
            && log.contains(
                "\nStatus after reading outputs: done (exit code 1 ignored: every output has a value"
            ),
        "{log}"
    );
    // The same from a model file: under the default rule, exit 1 fails.
    sb.write("exit.json", r#"{"output": {"r": "cat r.txt"}}"#);
    let (code, rows, _) = fzr(&sb, "exit.json", &["sh://bash one.sh"], "refused");
    assert_eq!(code, Some(1));
    assert!(rows
        .iter()
        .all(|r| r["status"] == "failed" && r["error"] == "Command failed with exit code 1"));
}

#[test]
fn a_missing_output_fails_a_zero_exit_and_is_retried() {
    let sb = project();
    // An alias file, as a user keeps models.
    sb.write(".fz/models/strict.json", OUTPUTS_DECIDE);
    let (code, rows, err) = fzr(&sb, "strict", &["sh://bash lazy.sh"], "missing");
    assert_eq!(code, Some(1), "{err}");
    for row in &rows {
        assert_eq!(row["status"], "failed", "{row}");
        assert_eq!(row["attempts"], 2, "retried like any failure: {row}");
        assert_eq!(row["exit_code"], 0, "{row}");
        let error = row["error"].as_str().unwrap();
        assert!(
            error.starts_with("Missing output: Output 'r': command failed (exit code 1)")
                && error.contains("r.txt: No such file or directory"),
            "{error}"
        );
    }
    let log = sb.read("missing/x=1/log.txt");
    assert!(
        log.contains("Status: done\n")
            && log.contains("\nStatus after reading outputs: failed (Missing output: Output 'r'"),
        "{log}"
    );
    assert!(
        err.contains("not done: x=1 (failed, exit 0: Missing output: Output 'r'"),
        "the end-of-run line names them: {err}"
    );
    // The retry goes to the next calculator, where the output appears.
    let (code, rows, err) = fzr(
        &sb,
        "strict",
        &["sh://bash lazy.sh", "sh://bash good.sh"],
        "retried",
    );
    assert_eq!(code, Some(0), "{err}");
    // Two slots: a case that started on lazy.sh failed there first (at
    // least one did: good.sh takes one case at a time).
    assert_all_done_on(&rows, "sh://bash good.sh");
    let retried: Vec<_> = rows.iter().filter(|r| r["attempts"] == 2).collect();
    assert!(!retried.is_empty(), "{rows:?}");
    let history = sb.read(&format!(
        "{}/history.txt",
        retried[0]["path"].as_str().unwrap()
    ));
    assert!(
        history.contains("] Error: Missing output: Output 'r'"),
        "{history}"
    );

    // Without the key (as upstream): done, the missing output in `error`.
    let (code, rows, _) = fzr(
        &sb,
        r#"{"output": {"r": "cat r.txt"}}"#,
        &["sh://bash lazy.sh"],
        "upstream",
    );
    assert_eq!(code, Some(0));
    assert_eq!(rows[0]["status"], "done");
    assert!(rows[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("Missing output: Output 'r'"));
}

#[test]
fn an_accepted_case_is_a_cache_hit_and_a_failed_one_is_not() {
    let sb = project();
    let (code, _, err) = fzr(&sb, OUTPUTS_DECIDE, &["sh://bash one.sh"], "first");
    assert_eq!(code, Some(0), "{err}");
    // A calculator that would fail: every case must come from the cache.
    let (code, rows, err) = fzr(
        &sb,
        OUTPUTS_DECIDE,
        &["cache://first", "sh://bash lazy.sh"],
        "second",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_all_done_on(&rows, "cache://first");
    // Cases that failed for a missing output are run again.
    let (_, _, _) = fzr(&sb, OUTPUTS_DECIDE, &["sh://bash lazy.sh"], "empty");
    let (code, rows, err) = fzr(
        &sb,
        OUTPUTS_DECIDE,
        &["cache://empty", "sh://bash good.sh"],
        "third",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        rows.iter()
            .all(|r| r["calculator"] == "sh://bash good.sh" && r["r"].is_number()),
        "{rows:?}"
    );
}

#[test]
fn bad_success_values_are_clear_errors() {
    let sb = project();
    let run = |model: &str| {
        let out = sb
            .cmd("fzr")
            .args(["input.txt", "-v", "x=1", "-r", "never", "-m", model])
            .args(["-c", "sh://bash one.sh"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(r#"{"output": {"r": "cat r.txt"}, "success": "output"}"#);
    assert_ne!(code, Some(0));
    assert!(
        err.contains(
            "Model 'success' must be \"exit\" (the exit code decides, default) or \"outputs\" \
             (every output has a value), got \"output\""
        ),
        "{err}"
    );
    let (code, err) = run(r#"{"success": "outputs"}"#);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("Model 'success' is \"outputs\" but the model has no 'output'"),
        "{err}"
    );
    assert!(!sb.path().join("never").exists(), "nothing ran");
    // A near miss of the key is named.
    let (_, err) = run(r#"{"output": {"r": "cat r.txt"}, "sucess": "outputs"}"#);
    assert!(err.contains("did you mean 'success'?"), "{err}");
    // `fzl --check` finds both in installed models.
    sb.write(".fz/models/hollow.json", r#"{"success": "outputs"}"#);
    sb.write(
        ".fz/models/typo.json",
        r#"{"output": {"r": "cat r"}, "success": "output"}"#,
    );
    let out = sb
        .cmd("fzl")
        .args(["--check", "-a", "none", "-c", "none"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("hollow.json: Model 'success' is \"outputs\" but the model has no 'output'")
            && err.contains("typo.json: Model 'success' must be \"exit\""),
        "{err}"
    );
    // `fz help model` documents the key.
    let out = sb.cmd("fz").args(["help", "model"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.lines()
            .any(|l| l.trim_start().starts_with("success") && l.contains("\"outputs\"")),
        "{help}"
    );
}
