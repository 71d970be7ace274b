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
        &[&run[..], &["sh://bash calc.sh?timeout=5&chunk=auto"]].concat(),
    );
    assert_eq!(
        err.trim_end(),
        "fzr: error: Invalid calculator URI 'sh://bash calc.sh?timeout=5&chunk=auto': unknown query key 'chunk' in '?timeout=5&chunk=auto'; known query keys: timeout, ok_exit, array, pack, time, mem, cpus, account, qos, partition, keep. Write a '?' that belongs to the command after a space, in quotes or as %3F"
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

// ---- item 2: undefined and unused variables

#[test]
fn undefined_and_unused_variables_are_named_before_anything_runs() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\nw=$w\nd=${d~3.5}\nagain=$w\n");
    let args = ["input.txt", "-v", r#"{"x":1,"X":2}"#, "-o"];
    let out = sb.cmd("fzc").args(args).arg("out").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let undefined = "input.txt:2: variable 'w' has no value and no default: '$w' stays as written in the compiled input (give it with -v w=… or write ${w~default})";
    let unused =
        "input variable 'X' is not used by any input file and is ignored: did you mean 'x'?";
    assert_eq!(err.matches(undefined).count(), 1, "{err}");
    assert_eq!(err.matches(unused).count(), 1, "{err}");
    // A default is what it is for: no warning, an info line.
    assert!(!err.contains("'d'"), "{err}");
    let out = sb
        .cmd("fzc")
        .args(args)
        .args(["out1", "--verbose"])
        .output()
        .unwrap();
    assert!(
        stderr(&out)
            .contains("Variable 'd' not found in input_variables, using default value: '3.5'"),
        "{}",
        stderr(&out)
    );
    // Strict: the first one is an error, nothing is compiled.
    let err = fails(&sb, "fzc", &[&args[..], &["out2", "--strict"]].concat());
    assert_eq!(
        err.trim_end(),
        format!("fzc: error: {undefined} (strict mode: warnings are errors)")
    );
    assert!(!sb.path().join("out2").exists());
    // fzr says it too, before the run.
    sb.write("calc.sh", "#!/bin/bash\necho ran >> runs.log\n");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-v",
            "x=1",
            "-c",
            "sh://bash calc.sh",
            "--strict",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(undefined), "{}", stderr(&out));
    assert!(!sb.path().join("results").exists(), "nothing ran");
}

// ---- item 4: formula failures

#[test]
fn a_case_whose_formula_fails_is_not_run() {
    let sb = Sandbox::new();
    sb.write(
        "input.txt",
        "x=$x\nr=@{1/($x-2)} @{2/($x-2)}\na=$(Vamp~1)\nb=@{0.1*$Vamp}\n",
    );
    sb.write(
        "calc.sh",
        "#!/bin/bash\necho ran >> ../../runs.log\necho 'r = 1' > out.txt\n",
    );
    let model = r#"{"output": {"r": "cut -d= -f2 out.txt"}}"#;
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", model, "-v", "x=[1,2,3]", "-f", "json"])
        .args(["-c", "sh://bash calc.sh", "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows = json_rows(&out.stdout);
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["done", "error", "done"]);
    let error = rows[1]["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "Formula failed, case not run: input.txt:2: formula '1/(2-2)' failed: ZeroDivisionError"
        ),
        "{error}"
    );
    assert_eq!(sb.read("runs.log").lines().count(), 2, "x=2 never ran");
    // The default given elsewhere fills $Vamp in the formula.
    assert!(sb.read("results/x=1/input.txt").contains("b=0.1\n"));
    // fzc: every case compiled, exit 1 naming the failed one.
    let err = fails(
        &sb,
        "fzc",
        &["input.txt", "-m", model, "-v", "x=[1,2,3]", "-o", "out"],
    );
    assert!(
        err.contains(
            "fzc: error: formulas failed in 1 of 3 case(s): x=2 (their inputs keep the formulas as written"
        ),
        "{err}"
    );
    assert!(sb
        .read("out/x=2/input.txt")
        .contains("r=@{1/(2-2)} @{2/(2-2)}"));
    assert!(!err.contains("SyntaxError"), "{err}");
    // Two failing formulas on a line, two failing cases: counted as cases.
    let err = fails(
        &sb,
        "fzc",
        &["input.txt", "-m", model, "-v", "x=[2,2.0]", "-o", "out2"],
    );
    assert!(
        err.contains("input.txt:2: the formula failed in 2 cases"),
        "{err}"
    );
}

// ---- item 6: pre-flight

#[test]
fn a_calculator_that_cannot_start_stops_the_run_before_compiling() {
    let sb = Sandbox::new();
    study(&sb);
    let root = sb.path().canonicalize().unwrap();
    let run = ["input.txt", "-m", "model.json", "-v", "x=[1,3]", "-c"];
    let err = fails(&sb, "fzr", &[&run[..], &["sh://bash missing.sh"]].concat());
    assert_eq!(
        err.trim_end(),
        format!(
            "fzr: error: calculator 'sh://bash missing.sh': script 'missing.sh' not found in {} (checked before compiling, as fzl --check does)",
            root.display()
        )
    );
    assert!(!err.contains("'bash'"), "{err}");
    assert!(!sb.path().join("results").exists(), "nothing compiled");
    let err = fails(
        &sb,
        "fzr",
        &[&run[..], &["sh://no_such_program_fz calc.sh"]].concat(),
    );
    assert!(
        err.contains("program 'no_such_program_fz' not found on PATH"),
        "{err}"
    );
    // Without -c each case runs its input file itself: said when it cannot.
    let err = fails(&sb, "fzr", &["input.txt", "-m", "model.json", "-v", "x=1"]);
    assert!(
        err.contains(
            "calculator 'sh://' has no command, so each case would run its input file 'input.txt' itself (the legacy convention when no calculator is given), but 'input.txt' is not executable"
        ),
        "{err}"
    );
    // An executable input that fails says it ran itself.
    sb.write("run_me.txt", "#!/bin/bash\nexit 3\n# x=$x\n");
    std::fs::set_permissions(
        sb.path().join("run_me.txt"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = sb
        .cmd("fzr")
        .args(["run_me.txt", "-v", "x=1", "-f", "json", "-r", "own"])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = json_rows(&out.stdout)[0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("(no calculator command: the case ran its input file './run_me.txt' itself, the legacy convention when no calculator is given; give one with -c)"),
        "{error}"
    );
    // A script among the input files is found in the case directory.
    sb.write("in/input.txt", "x=$x\n");
    sb.write("in/run.sh", "#!/bin/bash\necho \"r = 7\" > out.txt\n");
    let out = sb
        .cmd("fzr")
        .args([
            "in",
            "-m",
            "model.json",
            "-v",
            "x=1",
            "-c",
            "sh://bash run.sh",
        ])
        .args(["-f", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_rows(&out.stdout)[0]["r"], 7);
}

// ---- item 9: progress after Ctrl+C

#[test]
fn progress_after_an_interrupt_counts_interrupted_cases_apart() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let started = sb.path().join("started.log");
    sb.write(
        "calc.sh",
        &format!("#!/bin/bash\necho go >> {}\nsleep 20\n", started.display()),
    );
    let child = std::process::Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        .args(["input.txt", "-v", "x=[1,2,3,4]", "-c", "sh://bash calc.sh"])
        .env("FZ_PROGRESS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for_lines(&started, 1);
    // Twice: the first lets the running case finish, the second kills it.
    for _ in 0..2 {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("📊 Progress: 0/4 cases completed (0.0%), interrupted 4"),
        "{err}"
    );
    assert!(!err.contains("100.0%"), "{err}");
    assert!(
        !err.contains("failed"),
        "killed cases are not failed: {err}"
    );
}

// ---- item 8: moving the results directory aside is announced

#[test]
fn an_existing_results_directory_moved_aside_is_announced() {
    let sb = Sandbox::new();
    study(&sb);
    let run = [
        "input.txt",
        "-m",
        "model.json",
        "-v",
        "x=1",
        "-c",
        "sh://bash calc.sh",
    ];
    let out = sb.cmd("fzr").args(run).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("exists: moved to"));
    let out = sb.cmd("fzr").args(run).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let re = regex::Regex::new(
        r"(?m)^results/ exists: moved to results_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d/$",
    )
    .unwrap();
    assert!(re.is_match(&stderr(&out)), "{}", stderr(&out));
    let out = sb.cmd("fzr").args(run).arg("-q").output().unwrap();
    assert!(!stderr(&out).contains("exists"), "quiet: {}", stderr(&out));
}

// ---- item 10: examples in every --help, fz help model

#[test]
fn every_command_help_has_an_example_and_help_model_lists_the_keys() {
    let sb = Sandbox::new();
    let commands: &[(&str, &[&str])] = &[
        ("fz", &["--help"]),
        ("fzi", &["--help"]),
        ("fzc", &["--help"]),
        ("fzo", &["--help"]),
        ("fzr", &["--help"]),
        ("fzd", &["--help"]),
        ("fzl", &["--help"]),
        ("fz", &["cache", "--help"]),
        ("fz", &["cache", "list", "--help"]),
        ("fz", &["cache", "verify", "--help"]),
        ("fz", &["report", "--help"]),
        ("fz", &["install", "--help"]),
        ("fz", &["install", "model", "--help"]),
        ("fz", &["uninstall", "--help"]),
        ("fz", &["completions", "--help"]),
        ("fz", &["man", "--help"]),
        ("fz", &["help", "--help"]),
        ("fz", &["help", "run"]),
    ];
    for (prog, args) in commands {
        let out = sb.cmd(prog).args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{prog} {args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Example"), "{prog} {args:?}: {text}");
    }
    let out = sb.cmd("fz").args(["help", "model"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "  output         output name → shell command printing its value, run in each case directory",
        "  varprefix      variable prefix, default '$' (aliases: var_prefix, var_char, varchar)",
    ] {
        assert!(text.contains(line), "{text}");
    }
    let out = sb.cmd("fz").args(["help", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no help on 'nope'"),
        "{}",
        stderr(&out)
    );
}

// ---- item 12: a dead interpreter names the formulas

#[test]
fn a_dead_formula_interpreter_names_the_formula_and_file() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\nr=@{__import__('os')._exit(3)}\n");
    let err = fails(&sb, "fzc", &["input.txt", "-v", "x=1", "-o", "out"]);
    assert!(err.contains("formula interpreter"), "{err}");
    assert!(
        err.contains("[while evaluating the formulas input.txt:2 @{__import__('os')._exit(3)}]"),
        "{err}"
    );
}

#[test]
fn an_axis_without_values_is_named_and_strict_refuses_it() {
    let sb = Sandbox::new();
    study(&sb);
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "model.json", "-c", "sh://bash calc.sh"])
        .args(["-v", r#"{"x": []}"#])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("input_variables: 'x' has no values (an empty list): the design has no case"),
        "{err}"
    );
    let err = fails(
        &sb,
        "fzr",
        &[
            "input.txt",
            "-m",
            "model.json",
            "-c",
            "sh://bash calc.sh",
            "-v",
            r#"{"x": []}"#,
            "--strict",
            "-r",
            "strict",
        ],
    );
    assert!(
        err.contains("'x' has no values (an empty list): the design has no case (strict mode"),
        "{err}"
    );
    assert!(!sb.path().join("strict").exists(), "nothing written");
}
