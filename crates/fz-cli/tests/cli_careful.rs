//! Mistakes a careful user expects to be caught (issue 14), through the
//! real binary: misspelled model keys and `--strict`, broken `-v` lists
//! and ranges, calculator URIs and inputs that went wrong quietly, the
//! small details (`-V`, `-f table` digits, `fzo` order, completions, man
//! page) and the end-of-run summary with its exit status.

mod common;
use common::{json_rows, Sandbox};

/// stderr of a finished command, as text.
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `prog args` in the sandbox, asserts it exits 1, returns stderr.
fn fails(sb: &Sandbox, prog: &str, args: &[&str]) -> String {
    let out = sb.cmd(prog).args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{prog} {args:?}: {}",
        stderr(&out)
    );
    stderr(&out)
}

/// A study whose calculator exits 3 for x=2 and writes `r = <x>` else.
fn study(sb: &Sandbox) {
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\nx=$(cut -d= -f2 \"$1\")\nif [ \"$x\" = 2 ]; then echo 'solver diverged' >&2; exit 3; fi\necho \"r = $x\" > out.txt\n",
    );
    sb.write("model.json", r#"{"output": {"r": "cut -d= -f2 out.txt"}}"#);
}

// ---- item 1: misspelled model keys, --strict

#[test]
fn a_misspelled_model_key_is_warned_once_and_strict_makes_it_an_error() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let model = r#"{"outptu": {"r": "echo 1"}}"#;
    let out = sb
        .cmd("fzc")
        .args(["input.txt", "-m", model, "-v", "x=1", "-o", "out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let warning = "Model key 'outptu' is not a model key and is ignored: did you mean 'output'?";
    assert_eq!(err.matches(warning).count(), 1, "{err}");

    for strict in [&["--strict"][..], &[][..]] {
        let mut cmd = sb.cmd("fzc");
        cmd.args(["input.txt", "-m", model, "-v", "x=1", "-o", "out2"]);
        cmd.args(strict);
        if strict.is_empty() {
            cmd.env("FZ_STRICT", "1");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(&out).trim_end(),
            format!("fzc: error: inline model: {warning} (strict mode: warnings are errors)")
        );
    }
    // fzo and fzi read the model too.
    let out = sb
        .cmd("fzo")
        .args(["out", "-m", model, "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("did you mean 'output'?"));
}

#[test]
fn fzl_check_fails_on_a_misspelled_model_key() {
    let sb = Sandbox::new();
    sb.write(".fz/models/m.json", r#"{"id": "m", "varprefx": "%"}"#);
    let err = fails(&sb, "fzl", &["--check"]);
    assert!(
        err.contains(
            "Model key 'varprefx' is not a model key and is ignored: did you mean 'varprefix'?"
        ),
        "{err}"
    );
    sb.write(".fz/models/m.json", r#"{"id": "m", "varprefix": "%"}"#);
    let out = sb.cmd("fzl").args(["--check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

// ---- item 3: -v compact syntax

#[test]
fn a_broken_list_is_an_error_showing_the_accepted_forms() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    for bad in ["x=1;2", "x=[1;2", "x=1..3"] {
        let err = fails(&sb, "fzc", &["input.txt", "-v", bad, "-o", "out"]);
        assert!(
            err.starts_with(&format!(
                "fzc: error: input_variables: '{bad}' looks like a broken list or range; accepted forms: x=1 (one value), x=[1,2,3] or x=[1;2;3] (a list), x=0:10"
            )),
            "{err}"
        );
        assert!(!sb.path().join("out").exists(), "{bad}: nothing compiled");
    }
}

#[test]
fn ranges_give_one_case_per_value_and_are_in_the_help() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let out = sb
        .cmd("fzc")
        .args(["input.txt", "-v", "x=0:1:0.25", "-o", "out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        sb.ls("out"),
        ["x=0.0", "x=0.25", "x=0.5", "x=0.75", "x=1.0"]
    );
    let out = sb
        .cmd("fzc")
        .args(["input.txt", "-v", "x=8:10", "-o", "out2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.ls("out2"), ["x=10", "x=8", "x=9"]);
    let help = sb.cmd("fzr").arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(
            "c=0:10 (integers 0 to 10, both ends included), d=0:1:0.25 (start:stop:step)"
        ),
        "{help}"
    );
}

// ---- item 12: calculator URIs and other inputs

#[test]
fn an_unknown_query_key_is_an_error_listing_the_known_ones() {
    let sb = Sandbox::new();
    study(&sb);
    let run = ["input.txt", "-m", "model.json", "-v", "x=1", "-c"];
    let err = fails(
        &sb,
        "fzr",
        &[&run[..], &["sh://bash calc.sh?timeout=5&pack=auto"]].concat(),
    );
    assert_eq!(
        err.trim_end(),
        "fzr: error: Invalid calculator URI 'sh://bash calc.sh?timeout=5&pack=auto': unknown query key 'pack' in '?timeout=5&pack=auto'; known query keys: timeout, ok_exit, array, time, mem, cpus, account, qos, partition, keep. Write a '?' that belongs to the command after a space, in quotes or as %3F"
    );
    assert!(!sb.path().join("results").exists());
    let err = fails(
        &sb,
        "fzr",
        &[&run[..], &["sh://bash calc.sh?timeout=5&out/x"]].concat(),
    );
    assert!(
        err.contains("query '?timeout=5&out/x' is not key=value pairs separated by '&'"),
        "{err}"
    );
}

#[test]
fn empty_calculator_static_input_and_null_design_are_named() {
    let sb = Sandbox::new();
    study(&sb);
    let err = fails(
        &sb,
        "fzr",
        &["input.txt", "-m", "model.json", "-v", "x=1", "-c", ""],
    );
    assert!(
        err.starts_with("fzr: error: calculator '' is empty: give a URI (sh://bash calc.sh)"),
        "{err}"
    );
    let err = fails(
        &sb,
        "fzc",
        &["input.txt", "-v", "x=1", "--input_static", "input.txt"],
    );
    assert_eq!(
        err.trim_end(),
        "fzc: error: input_static entry 'input.txt' is the input file itself: the input is compiled for each case, input_static lists the other files copied unchanged"
    );
    let err = fails(&sb, "fzc", &["input.txt", "-v", "null"]);
    assert!(
        err.starts_with(
            "fzc: error: input_variables: 'null' is not a design: give name=value pairs"
        ),
        "{err}"
    );
}

// ---- item 10: details

#[test]
fn dash_capital_v_prints_the_version_for_every_command() {
    let sb = Sandbox::new();
    let version = env!("CARGO_PKG_VERSION");
    for (prog, args) in [
        ("fz", &["-V"][..]),
        ("fz", &["run", "-V"][..]),
        ("fzi", &["-V"][..]),
        ("fzr", &["-V"][..]),
        ("fzl", &["-V"][..]),
        ("fzd", &["-V"][..]),
        ("fz", &["cache", "list", "-V"][..]),
    ] {
        let out = sb.cmd(prog).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{prog} {args:?}");
        let shown = if prog == "fz" { "fz" } else { prog };
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{shown} {version} (funz-fz 1.2 compatible)\n")
        );
    }
}

#[test]
fn table_format_keeps_every_digit() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write("calc.sh", "#!/bin/bash\necho 'r = 1.03e-05' > out.txt\n");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            "x=1",
            "-f",
            "table",
            "-c",
            "sh://bash calc.sh",
        ])
        .args(["-m", r#"{"output": {"r": "cut -d= -f2 out.txt"}}"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(" 1.03e-05 "), "{table}");
    assert!(!table.contains("0.000010"), "{table}");
}

#[test]
fn fzo_sorts_cases_by_value_and_fzr_shows_exit_code_and_numbered_slots() {
    let sb = Sandbox::new();
    for r in [10000, 470, 2200, 1000] {
        sb.write(&format!("res/R={r}/out.txt"), &format!("v = {r}\n"));
        sb.write(&format!("res/R={r}/.fz_hash"), "");
    }
    let out = sb
        .cmd("fzo")
        .args([
            "res",
            "-f",
            "json",
            "-m",
            r#"{"output": {"v": "cut -d= -f2 out.txt"}}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let order: Vec<i64> = json_rows(&out.stdout)
        .iter()
        .map(|r| r["R"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [470, 1000, 2200, 10000]);

    study(&sb);
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-m",
            "model.json",
            "-v",
            "x=[1,3]",
            "-f",
            "json",
        ])
        .args(["-c", "sh://bash calc.sh", "-c", "sh://bash calc.sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = json_rows(&out.stdout);
    assert!(rows.iter().all(|r| r.get("exit_code").is_some()));
    let mut calcs: Vec<String> = rows
        .iter()
        .map(|r| r["calculator"].as_str().unwrap().to_string())
        .collect();
    calcs.sort();
    calcs.dedup();
    assert!(
        calcs
            .iter()
            .all(|c| c == "sh://bash calc.sh#1" || c == "sh://bash calc.sh#2"),
        "{calcs:?}"
    );
}

#[test]
fn completions_and_man_page() {
    let sb = Sandbox::new();
    for (shell, needle) in [
        ("bash", "_fz()"),
        ("zsh", "#compdef fz"),
        ("fish", "complete -c fz"),
    ] {
        let out = sb.cmd("fz").args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(needle), "{shell}: {script}");
        assert!(script.contains("input_variables"), "{shell}");
    }
    let out = sb.cmd("fz").args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = sb.cmd("fz").arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains(".TH fz 1"), "{page}");
    assert!(page.contains("completions"), "{page}");
}

// ---- item 5: end-of-run summary and exit status

#[test]
fn a_run_with_a_failed_case_exits_1_with_a_summary_line() {
    let sb = Sandbox::new();
    study(&sb);
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "model.json", "-v", "x=[1,2,3]"])
        .args(["-c", "sh://bash calc.sh", "-f", "json", "--no-progress"])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json_rows(&out.stdout).len(), 3, "the table is printed");
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    let re = regex::Regex::new(
        r"^3 cases: 2 done, 1 failed in \d+\.\d s; not done: x=2 \(failed, exit 3: solver diverged\); see fz report results$",
    )
    .unwrap();
    assert!(re.is_match(last), "{err}");

    // Every case done (two from cache): exit 0, the summary counts them.
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-m",
            "model.json",
            "-v",
            "x=[1,3]",
            "-r",
            "again",
        ])
        .args([
            "-c",
            "cache://results",
            "-c",
            "sh://bash calc.sh",
            "--no-progress",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let re = regex::Regex::new(r"(?m)^2 cases: 0 done, 2 from cache in \d+\.\d s$").unwrap();
    assert!(re.is_match(&err), "{err}");

    // -q: no summary, same exit status.
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-m",
            "model.json",
            "-v",
            "x=2",
            "-r",
            "q",
            "-q",
        ])
        .args(["-c", "sh://bash calc.sh"])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("1 case:"), "{}", stderr(&out));
}
