//! Defects found by trying fz as a hostile user would (issue 13), each
//! driven through the real binary: concurrent runs on one results
//! directory, outputs clashing with columns, values read back by `fzo`,
//! passwords in URIs, interrupts, results-directory edge cases.

mod common;
use common::{json_rows, Sandbox};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A model reading `result = <r>` from output.txt.
const MODEL_R: &str = r#"{"output":{"r":"grep result output.txt | cut -d= -f2"}}"#;

/// A calculator echoing `x` as the result once `release` exists (at most
/// 30 s), so a run holds its results directory until the test lets go.
fn held_calc(sb: &Sandbox) {
    let release = sb.path().join("release");
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\nfor i in $(seq 300); do [ -e {} ] && break; sleep 0.1; done\n\
             x=$(grep -o 'x=[0-9]*' \"$1\" | cut -d= -f2)\necho \"result = $x\" > output.txt\n",
            release.display()
        ),
    );
}

fn spawn(sb: &Sandbox, program: &str, args: &[&str]) -> Child {
    Command::new(sb.bin.join(program))
        .current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Waits until one of `children` has exited; returns its position.
fn first_exit(children: &mut [Child]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        for (i, c) in children.iter_mut().enumerate() {
            if c.try_wait().expect("try_wait").is_some() {
                return i;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no run ended within 60 s");
}

/// The `(x, r, status)` of every row of a summary.json.
fn summary_rows(path: &Path) -> Vec<(i64, i64, String)> {
    let text = std::fs::read_to_string(path).expect("summary.json");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    rows.iter()
        .map(|r| {
            (
                r["x"].as_i64().unwrap_or(-1),
                r["r"].as_i64().unwrap_or(-1),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn two_runs_on_one_results_directory_one_is_refused() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    held_calc(&sb);
    let mut wrong = 0;
    for trial in 0..20 {
        let _ = std::fs::remove_file(sb.path().join("release"));
        // Values new in every trial, so a resumed run always has cases to
        // run and holds the directory until released.
        let base = 10 * trial;
        let expected = [
            vec![base + 1, base + 2, base + 3],
            vec![base + 4, base + 5, base + 6],
        ];
        let designs: Vec<String> = expected
            .iter()
            .map(|v| serde_json::json!({ "x": v }).to_string())
            .collect();
        let resume = trial % 2 == 1;
        let mut children: Vec<Child> = designs
            .iter()
            .map(|d| {
                let mut args = vec!["input.txt", "-v", d, "-m", MODEL_R, "-f", "json"];
                args.extend(["-c", "sh://bash calc.sh", "-r", "results"]);
                if resume {
                    args.push("--resume");
                }
                spawn(&sb, "fzr", &args)
            })
            .collect();
        first_exit(&mut children);
        if trial == 0 {
            // Readers keep working while the winner holds the directory.
            sb.cmd("fz").args(["report", "results"]).assert().success();
        }
        std::fs::write(sb.path().join("release"), "").unwrap();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait"))
            .collect();
        // A resumed run may find all its cases done and end first: tell
        // the refused run by its exit and message, not by who ended first.
        let is_refused = |o: &std::process::Output| {
            let err = String::from_utf8_lossy(&o.stderr);
            o.status.code() == Some(1)
                && err.contains("results directory 'results' is in use by fz (pid ")
                && err.contains("); wait for it or choose another -r")
        };
        let refusals: Vec<usize> = (0..2).filter(|&i| is_refused(&outs[i])).collect();
        assert_eq!(refusals.len(), 1, "trial {trial}: exactly one refused");
        let winner = 1 - refusals[0];
        assert_eq!(
            outs[winner].status.code(),
            Some(0),
            "trial {trial}: {}",
            String::from_utf8_lossy(&outs[winner].stderr)
        );
        let expected = &expected[winner];
        let rows = summary_rows(&sb.path().join("results/summary.json"));
        let printed = json_rows(&outs[winner].stdout);
        for (x, r, status) in &rows {
            if !expected.contains(x) || r != x || status != "done" {
                wrong += 1;
            }
        }
        assert_eq!(rows.len(), 3, "trial {trial}: {rows:?}");
        assert_eq!(printed.len(), 3, "trial {trial}");
        assert!(!sb.path().join(".results.fz-work").exists());
        assert!(!sb.path().join(".results.fz-lock").exists());
    }
    assert_eq!(wrong, 0, "wrong rows");
}

#[test]
fn two_designs_on_one_analysis_directory_one_is_refused() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    held_calc(&sb);
    let args = [
        "input.txt",
        "-v",
        r#"{"x":"[0;9]"}"#,
        "-m",
        MODEL_R,
        "-c",
        "sh://bash calc.sh",
        "-a",
        "randomsampling",
        "-o",
        r#"{"nvalues":2,"seed":1}"#,
        "-r",
        "analysis",
    ];
    let mut children = vec![spawn(&sb, "fzd", &args), spawn(&sb, "fzd", &args)];
    let loser = first_exit(&mut children);
    std::fs::write(sb.path().join("release"), "").unwrap();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let err = String::from_utf8_lossy(&outs[loser].stderr);
    assert_eq!(outs[loser].status.code(), Some(1), "{err}");
    assert!(
        err.contains("analysis directory 'analysis' is in use by fz (pid "),
        "{err}"
    );
    let winner = &outs[1 - loser];
    assert!(
        winner.status.success(),
        "{}",
        String::from_utf8_lossy(&winner.stderr)
    );
    assert!(sb.path().join("analysis/iter001").is_dir());
    assert!(!sb.path().join(".analysis.fz-lock").exists());
}

#[test]
fn a_lock_left_by_a_killed_run_is_taken_over() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    held_calc(&sb);
    let mut child = spawn(
        &sb,
        "fzr",
        &["input.txt", "-v", r#"{"x":1}"#, "-c", "sh://bash calc.sh"],
    );
    let lock = sb.path().join(".results.fz-lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("pid=")) {
        assert!(Instant::now() < deadline, "no lock file");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(lock.exists(), "kill -9 leaves the lock file");
    std::fs::write(sb.path().join("release"), "").unwrap();
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-m", MODEL_R])
        .args(["-c", "sh://bash calc.sh", "-f", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("taking over the lock of results directory 'results' left by fz (pid "),
        "{err}"
    );
    assert_eq!(json_rows(&out.stdout)[0]["r"], 1);
}

#[test]
fn an_output_named_like_a_variable_or_a_column_is_refused() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    for (output, clash) in [
        ("status", "the table column 'status'"),
        ("path", "the table column 'path'"),
        ("attempts", "the table column 'attempts'"),
        ("x", "the variable 'x'"),
    ] {
        let model = format!(r#"{{"output":{{"{output}":"echo 1"}}}}"#);
        let out = sb
            .cmd("fzr")
            .args(["input.txt", "-v", r#"{"x":[1,2]}"#, "-m", &model])
            .args(["-c", "sh://true", "-r", "res"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{output}: {err}");
        assert!(
            err.contains(&format!("output '{output}' has the name of {clash}")),
            "{output}: {err}"
        );
        assert!(!sb.path().join("res").exists(), "nothing written");
    }
}

#[test]
fn fzo_reads_the_exact_values_back() {
    let sb = Sandbox::new();
    sb.write("input.txt", "s=$s\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\necho \"result = $(wc -c < \"$1\")\" > output.txt\n",
    );
    let long = "v".repeat(300);
    let design = format!(r#"{{"s":["a=1,b=2","{long}"]}}"#);
    sb.cmd("fzr")
        .args(["input.txt", "-v", &design, "-m", MODEL_R])
        .args(["-c", "sh://bash calc.sh", "-r", "res"])
        .assert()
        .success();
    let out = sb
        .cmd("fzo")
        .args(["res/*", "-m", MODEL_R, "-f", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows = json_rows(&out.stdout);
    let mut values: Vec<String> = rows
        .iter()
        .map(|r| r["s"].as_str().unwrap_or("<missing>").to_string())
        .collect();
    values.sort();
    assert_eq!(values, ["a=1,b=2".to_string(), long]);
    assert!(rows.iter().all(|r| r.get("b").is_none()), "{rows:?}");
}

#[test]
fn a_password_in_a_calculator_uri_is_never_shown() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    // The script exists (the pre-flight checks it): the run fails later,
    // at the connection.
    sb.write("calc.sh", "#!/bin/bash\ntrue\n");
    let secret = "S3cretPw";
    for uri in [
        format!("ssh://fzuser:{secret}@127.0.0.1:1/bash calc.sh"),
        format!("slurm://fzuser:{secret}@127.0.0.1:1:part/bash calc.sh"),
    ] {
        let out = sb
            .cmd("fzr")
            .args(["input.txt", "-v", r#"{"x":[1]}"#, "-m", MODEL_R])
            .args(["-c", &uri, "--events", "events.jsonl", "-r", "res"])
            .env("FZ_LOG_LEVEL", "DEBUG")
            .env("FZ_MAX_RETRIES", "1")
            .output()
            .unwrap();
        let streams = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!streams.contains(secret), "{uri}: {streams}");
        let events = sb.read("events.jsonl");
        assert!(events.contains("fzuser:***@127.0.0.1"), "{events}");
        assert_no_secret(sb.path(), secret);
    }
}

/// Fails if any file under `dir` holds `secret`.
fn assert_no_secret(dir: &Path, secret: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == ".bin") {
            continue;
        }
        if path.is_dir() {
            assert_no_secret(&path, secret);
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{} holds the password",
                path.display()
            );
        }
    }
}

#[test]
fn no_retry_starts_after_the_first_interrupt() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let started = sb.path().join("started.log");
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\necho go >> {}\nsleep 1\nexit 3\n",
            started.display()
        ),
    );
    let mut child = spawn(
        &sb,
        "fzr",
        &["input.txt", "-v", r#"{"x":1}"#, "-c", "sh://bash calc.sh"],
    );
    common::wait_for_lines(&started, 1);
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let begin = Instant::now();
    let deadline = begin + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "fzr did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        sb.read("started.log").lines().count(),
        1,
        "no attempt after the interrupt"
    );
    assert!(
        begin.elapsed() < Duration::from_secs(5),
        "{:?}",
        begin.elapsed()
    );
}

#[test]
fn results_directory_edge_cases_are_refused() {
    let sb = Sandbox::new();
    // Runs start in `w/sub`, so `..` is a directory of the sandbox.
    let cwd = sb.path().join("w/sub");
    sb.write("w/sub/in/input.txt", "x=$x\n");
    sb.write("w/sub/keep.txt", "mine\n");
    for (dir, why) in [
        (
            "nonexist/..",
            "results directory '.' is the current directory",
        ),
        (".", "results directory '.' is the current directory"),
        (
            "in",
            "results directory 'in' contains the input 'in/input.txt'",
        ),
        ("..", "is an ancestor of the current directory"),
    ] {
        let out = sb
            .cmd("fzr")
            .current_dir(&cwd)
            .args(["in/input.txt", "-v", r#"{"x":[1]}"#, "-c", "sh://true"])
            .args(["-r", dir])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{dir}: {err}");
        assert!(err.contains(why), "{dir}: {err}");
        assert!(err.contains("choose another -r"), "{dir}: {err}");
    }
    assert_eq!(sb.read("w/sub/keep.txt"), "mine\n");
    assert_eq!(sb.read("w/sub/in/input.txt"), "x=$x\n");
    assert_eq!(sb.ls("w"), ["sub"]);
    assert_eq!(sb.ls("w/sub"), ["in", "keep.txt"]);
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[test]
fn a_fifo_as_input_hash_or_cache_index_never_blocks() {
    let sb = Sandbox::new();
    mkfifo(&sb.path().join("pipe.txt"));
    let out = sb
        .cmd("fzi")
        .args(["pipe.txt", "-m", MODEL_R])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pipe.txt' is not a regular file or a directory"),
        "{err}"
    );

    // A cache directory whose case `.fz_hash` and index are FIFOs: skipped.
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\necho 'result = 7' > output.txt\n");
    std::fs::create_dir_all(sb.path().join("old/x=1")).unwrap();
    mkfifo(&sb.path().join("old/x=1/.fz_hash"));
    mkfifo(&sb.path().join("old/.fz_cache_index.tsv"));
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", r#"{"x":1}"#, "-m", MODEL_R, "-f", "json"])
        .args(["-c", "cache://old", "-c", "sh://bash calc.sh"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["r"], 7);
    assert_eq!(rows[0]["calculator"], "sh://bash calc.sh");
}

#[test]
fn a_formula_that_never_ends_is_stopped_at_fz_formula_timeout() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x\ny=@{__import__('time').sleep(600) or $x}\n");
    let model = r##"{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#"}"##;
    let started = Instant::now();
    let out = sb
        .cmd("fzc")
        .args(["in.txt", "-v", r#"{"x":1}"#, "-m", model, "-o", "out"])
        .env("FZ_FORMULA_TIMEOUT", "2")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(started.elapsed() < Duration::from_secs(60), "{err}");
    assert!(
        err.contains("did not finish the formulas within 2 s (FZ_FORMULA_TIMEOUT per case)"),
        "{err}"
    );
}

#[test]
fn a_file_where_the_results_directory_goes_is_named_and_kept() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\necho 'result = 1' > output.txt\n");
    sb.write("results", "my notes");
    for (program, flag) in [("fzr", "-r"), ("fzc", "-o")] {
        let mut cmd = sb.cmd(program);
        cmd.args(["input.txt", "-v", "x=1", flag, "results"]);
        if program == "fzr" {
            cmd.args(["-m", MODEL_R, "-c", "sh://bash calc.sh"]);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{program}: {err}");
        assert!(
            err.contains("output directory '")
                && err.contains("results' exists and is not a directory: give another name"),
            "{program}: {err}"
        );
        assert_eq!(sb.read("results"), "my notes");
    }
    let stray: Vec<String> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("results") || n.ends_with("fz-lock"))
        .collect();
    assert_eq!(stray, ["results"]);
}
