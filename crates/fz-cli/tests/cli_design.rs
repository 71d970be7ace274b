//! `fzd` / `fz design` through the real binary, with `sh://` calculators
//! computing closed-form functions (each invocation logged, so a point run
//! twice would show).

mod common;
use common::{wait_for_lines, Sandbox};

/// An input with x (and y, z), a calculator computing `formula` (awk, over
/// x and y; awk rather than python3 so that a case costs milliseconds) into
/// output.txt and logging x,y to calls.log, and a model reading `f`.
fn study(formula: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write("input.txt", "x = $x\ny = ${y~0}\nz = $z\n");
    let log = sb.path().join("calls.log");
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\nx=$(awk '/^x/ {{print $3}}' input.txt)\ny=$(awk '/^y/ {{print $3}}' input.txt)\n\
             echo \"$x,$y\" >> {}\nawk -v x=\"$x\" -v y=\"$y\" \
             'BEGIN {{ v = ({formula}); if (v == \"\") print \"f =\"; else printf \"f = %.17g\\n\", v }}' > output.txt\n",
            log.display()
        ),
    );
    sb.write(
        "model.json",
        r#"{"varprefix": "$", "delim": "{}", "output": {"f": "grep 'f =' output.txt | awk '{print $3}'"}}"#,
    );
    sb
}

/// Runs `fzd` (or `fz design` when `args` starts with `design`) on the
/// study with `args`, adding `-e f` and one `sh://` calculator unless
/// `args` gives an objective or calculators.
fn fzd(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let (mut cmd, extra) = match args.split_first() {
        Some((&"design", rest)) => (sb.cmd("fz"), rest),
        _ => (sb.cmd("fzd"), args),
    };
    if extra.len() < args.len() {
        cmd.arg("design");
    }
    cmd.args(["-i", "input.txt", "-m", "model.json"]);
    if !extra.contains(&"-e") {
        cmd.args(["-e", "f"]);
    }
    if !extra.contains(&"-c") {
        cmd.args(["-c", "sh://bash calc.sh"]);
    }
    cmd.args(extra).output().unwrap()
}

fn calls(sb: &Sandbox) -> Vec<String> {
    std::fs::read_to_string(sb.path().join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The X and Y files of the last iteration, as (x, f) pairs.
fn xy(sb: &Sandbox, dir: &str, i: usize) -> Vec<(Vec<f64>, Option<f64>)> {
    let x = sb.read(&format!("{dir}/X_{i}.csv"));
    let y = sb.read(&format!("{dir}/Y_{i}.csv"));
    x.lines()
        .skip(1)
        .zip(y.lines().skip(1))
        .map(|(xs, ys)| {
            let point = xs.split(',').map(|v| v.parse().unwrap()).collect();
            (point, ys.parse().ok())
        })
        .collect()
}

#[test]
fn brent_finds_the_minimum_and_no_point_runs_twice() {
    let sb = study("(x - 0.3) ^ 2 + 1");
    let brent = ["-a", "brent", "-v", r#"{"x": "[0;1]", "z": "5"}"#];
    let out = fzd(
        &sb,
        &[&brent[..], &["-o", r#"{"tol": 1e-7}"#, "-r", "ana"]].concat(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("{}\nbrent completed: ", "=".repeat(60))),
        "{stdout}"
    );
    let iterations = sb
        .ls("ana")
        .iter()
        .filter(|n| n.starts_with("iter"))
        .count();
    let points = xy(&sb, "ana", iterations);
    let best = points
        .iter()
        .filter_map(|(p, f)| f.map(|f| (p[0], f)))
        .fold(
            (f64::NAN, f64::INFINITY),
            |b, (x, f)| if f < b.1 { (x, f) } else { b },
        );
    assert!((best.0 - 0.3).abs() < 1e-5, "best x {best:?}");
    assert!(points.iter().all(|(p, _)| p[1] == 5.0), "fixed z merged");
    let ran = calls(&sb);
    let mut unique = ran.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ran.len(), unique.len(), "a point ran twice: {ran:?}");
    assert_eq!(ran.len(), points.len());
    for name in [
        "X_1.csv",
        "Y_1.csv",
        "results_1.html",
        "iter001/case_0/output.txt",
    ] {
        assert!(sb.path().join("ana").join(name).exists(), "{name}");
    }
    assert!(
        !sb.ls(".").iter().any(|n| n.starts_with("ana_")),
        "no leftover dirs"
    );

    // The same study again: the earlier analysis dir is moved aside and
    // answers every point from its cache.
    let again = fzd(
        &sb,
        &[
            &["design"],
            &brent[..],
            &["-o", r#"{"tol": 1e-7}"#, "-r", "ana"],
        ]
        .concat(),
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(calls(&sb).len(), ran.len(), "nothing ran again");
    assert_eq!(
        sb.ls(".").iter().filter(|n| n.starts_with("ana_")).count(),
        1
    );
}

#[test]
fn bfgs_minimises_rosenbrock_with_parallel_calculators() {
    let sb = study("(1 - x) ^ 2 + 100 * (y - x ^ 2) ^ 2");
    let calc = "sh://bash calc.sh";
    let out = fzd(
        &sb,
        &[
            "-a",
            "bfgs",
            "-v",
            r#"{"x": "[-2;2]", "y": "[-2;2]", "z": "0"}"#,
            "-e",
            "f",
            "-c",
            calc,
            "-c",
            calc,
            "-c",
            calc,
            "-r",
            "ana",
            "--no-progress",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let iterations = sb
        .ls("ana")
        .iter()
        .filter(|n| n.starts_with("iter"))
        .count();
    let best = xy(&sb, "ana", iterations)
        .into_iter()
        .filter_map(|(p, f)| f.map(|f| (p, f)))
        .fold(
            (vec![], f64::INFINITY),
            |b, (p, f)| if f < b.1 { (p, f) } else { b },
        );
    assert!(
        (best.0[0] - 1.0).abs() < 1e-3 && (best.0[1] - 1.0).abs() < 1e-3,
        "best {best:?} after {iterations} iterations"
    );
}

#[test]
fn failed_points_are_missing_and_bad_input_is_one_line() {
    // f is missing for x > 0.5: those points are NA, the others valid.
    let sb = study("(x <= 0.5 ? (x - 0.3) ^ 2 : \"\")");
    let out = fzd(
        &sb,
        &[
            "-a",
            "lhs",
            "-v",
            r#"{"x": "[0;1]", "z": "1"}"#,
            "-e",
            "f * 2",
            "-o",
            r#"{"nvalues": 10, "seed": 3}"#,
            "-r",
            "ana",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let points = xy(&sb, "ana", 1);
    assert_eq!(points.len(), 10);
    for (p, f) in &points {
        assert_eq!(f.is_some(), p[0] <= 0.5, "{p:?} -> {f:?}");
    }
    assert_eq!(sb.read("ana/Y_1.csv").lines().next(), Some("output"));

    let bad = |vars: &str, extra: &[&str], code: i32, fragment: &str| {
        let out = fzd(&sb, &[&["-v", vars], extra].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(fragment), "{fragment:?} not in {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    };
    bad(
        r#"{"x": "[1;0]"}"#,
        &["-a", "brent"],
        1,
        "Invalid range for variable 'x': min (1.0) must be < max (0.0)",
    );
    bad(
        r#"{"x": "abc"}"#,
        &["-a", "brent"],
        1,
        "Invalid format for variable 'x': 'abc'",
    );
    bad(r#"{"x": "[0;1]"}"#, &[], 2, "--algorithm (-a) is required");
    bad(
        r#"{"x": "[0;1]"}"#,
        &["-a", "brent", "-o", "{oops"],
        1,
        "algorithm options",
    );
    bad(r#"{"x": "[0;1]"}"#, &["-a", "nosuchalgo"], 1, "nosuchalgo");
    bad(
        r#"{"x": "[0;1]"}"#,
        &["-a", "brent", "-o", r#"{"tol": "small"}"#],
        1,
        "option 'tol'",
    );
    // A misspelt option is not silently ignored.
    let vars = r#"{"x": "[0;1]", "z": "1"}"#;
    let out = fzd(
        &sb,
        &[
            "-a",
            "lhs",
            "-v",
            vars,
            "-o",
            r#"{"nvalue": 3}"#,
            "-r",
            "typo",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("algorithm 'lhs' has no option(s) nvalue (ignored); its options: nvalues"),
        "{err}"
    );
}

#[test]
fn ctrl_c_stops_after_the_running_iteration() {
    let sb = study("x");
    let started = sb.path().join("started.log");
    sb.write(
        "slow.sh",
        &format!(
            "#!/bin/bash\necho go >> {}\nsleep 1\nbash {}/calc.sh\n",
            started.display(),
            sb.path().display()
        ),
    );
    let child = std::process::Command::new(sb.bin.join("fzd"))
        .current_dir(sb.path())
        .args([
            "-i",
            "input.txt",
            "-m",
            "model.json",
            "-e",
            "f",
            "-a",
            "montecarlo_uniform",
        ])
        .args(["-v", r#"{"x": "[0;1]", "z": "1"}"#])
        .args(["-c", "sh://bash slow.sh", "-c", "sh://bash slow.sh"])
        .args([
            "-o",
            r#"{"batch_sample_size": 2, "target_confidence_range": 1e-9}"#,
            "-r",
            "ana",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lines(&started, 2);
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("fzd interrupted after 1 iteration"), "{err}");
    assert_eq!(
        calls(&sb).len(),
        2,
        "the running case finished, no new one started"
    );
    assert!(sb.path().join("ana/X_1.csv").is_file());
    assert!(!sb.path().join("ana/iter002").exists());
}

/// A plugin written here proposes the same point twice in a batch and
/// again in the next batch: it runs once.
#[test]
fn plugin_duplicates_run_once_by_name_and_by_path() {
    let sb = study("x + y");
    sb.write(
        ".fz/algorithms/repeat.py",
        "#title: proposes duplicates\n#options: rounds=2\n\
         class Repeat:\n    def __init__(self, **options):\n        self.rounds = int(options['rounds'])\n\
         \x20   def get_initial_design(self, input_vars, output_vars):\n\
         \x20       return [{'x': 0.5}, {'x': 0.5}, {'x': 0.25}]\n\
         \x20   def get_next_design(self, X, Y):\n        self.rounds -= 1\n\
         \x20       if self.rounds <= 0:\n            return []\n\
         \x20       assert Y[0] == Y[1] == 0.5 and Y[2] == 0.25, Y\n\
         \x20       return [{'x': 0.25}, {'x': 0.75}]\n\
         \x20   def get_analysis(self, X, Y):\n        return {'text': 'points=%d' % len(X), 'data': {'n': len(X)}}\n",
    );
    sb.write(
        "algos/repeat_r.R",
        "#options: rounds=1\n\
         RepeatR <- function(...) { structure(list(), class = 'RepeatR') }\n\
         get_initial_design.RepeatR <- function(obj, input_vars, output_vars) list(list(x = 0.5), list(x = 0.5))\n\
         get_next_design.RepeatR <- function(obj, X, Y) list()\n\
         get_analysis.RepeatR <- function(obj, X, Y) list(text = paste0('n=', length(X)))\n",
    );
    let run = |algo: &str, dir: &str| {
        let vars = r#"{"x": "[0;1]", "z": "1"}"#;
        let out = fzd(&sb, &["-a", algo, "-v", vars, "-r", dir, "--no-progress"]);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let stdout = run("repeat", "ana");
    assert!(
        stdout.contains("repeat completed: 2 iterations, 5 evaluations (5 valid)"),
        "{stdout}"
    );
    assert!(stdout.contains("points=5"), "{stdout}");
    assert_eq!(
        calls(&sb).len(),
        3,
        "0.5, 0.25 and 0.75 once each: {:?}",
        calls(&sb)
    );
    let stdout = run("algos/repeat_r.R", "ana_r");
    assert!(
        stdout.contains("completed: 1 iterations, 2 evaluations (2 valid)"),
        "{stdout}"
    );
    assert_eq!(
        calls(&sb).len(),
        4,
        "0.5 ran once more (a new analysis dir)"
    );
}

/// A model warning is given once per design, not once per iteration.
#[test]
fn model_warnings_once_per_design() {
    let sb = study("(x - 0.3) ^ 2 + 1");
    sb.write(
        "model.json",
        r#"{"varprefix": "$", "delim": "{}", "outptu": {},
            "output": {"f": "grep 'f =' output.txt | awk '{print $3}'"}}"#,
    );
    let out = fzd(
        &sb,
        &[
            "-a",
            "brent",
            "-v",
            r#"{"x": "[0;1]", "z": "5"}"#,
            "-r",
            "ana",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        sb.ls("ana")
            .iter()
            .filter(|n| n.starts_with("iter"))
            .count()
            > 2
    );
    assert_eq!(err.matches("did you mean 'output'?").count(), 1, "{err}");
}

#[test]
fn report_keeps_a_design_page_linking_each_iteration_case_report() {
    let sb = study("(x - 0.3) ^ 2 + 1");
    let out = fzd(
        &sb,
        &[
            "-a",
            "randomsampling",
            "-v",
            r#"{"x": "[0;1]", "z": "5"}"#,
            "-o",
            r#"{"nvalues": 3, "seed": 1}"#,
            "-r",
            "ana",
            "--report",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let page_path = sb.path().join("ana/report.html");
    assert!(
        stderr.contains(&format!("report: {}", page_path.display())),
        "the page is named on stderr: {stderr}"
    );
    let page = sb.read("ana/report.html");
    assert!(page.contains("Finished after 1 iteration(s): 3 evaluations, 3 valid."));
    assert!(!page.contains("http-equiv=\"refresh\""), "final page");
    assert!(page.contains("href=\"iter001/report.html\">iteration 1</a>"));
    assert!(page.contains("<svg"), "objective plots");
    let cases = sb.read("ana/iter001/report.html");
    assert!(
        cases.contains("done: 3"),
        "the iteration's case report: {cases}"
    );
    // A page elsewhere: -report FILE.
    let out = fzd(
        &sb,
        &[
            "-a",
            "lhs",
            "-v",
            r#"{"x": "[0;1]", "z": "5"}"#,
            "-o",
            r#"{"nvalues": 4}"#,
            "-r",
            "ana2",
            "--report",
            "pages/design.html",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sb.read("pages/design.html").contains("href=\"file://"),
        "absolute links to the iteration outside the page dir"
    );
}

#[test]
fn objective_mistakes_are_told_before_anything_runs() {
    let sb = study("(x - 0.3) ^ 2");
    sb.write("ana/kept.txt", "an earlier design");
    let vars = r#"{"x": "[0;1]"}"#;
    let run = |extra: &[&str]| {
        let out = fzd(&sb, &[&["-v", vars, "-r", "ana"], extra].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A syntax error stops fzd before the analysis directory is touched.
    let (code, err) = run(&["-a", "brent", "-e", "f * (2"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("output_expression 'f * (2' is not a Python expression: '(' was never closed"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(calls(&sb).is_empty(), "nothing ran");
    assert_eq!(sb.read("ana/kept.txt"), "an earlier design");

    // A name no row holds is named before the run, with the closest column;
    // under --strict it is an error and nothing runs.
    let lhs = ["-a", "lhs", "-o", r#"{"nvalues": 3}"#];
    let (code, err) = run(&[&lhs[..], &["-e", "mean([X for k in range(2)])", "--strict"]].concat());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("output_expression 'mean([X for k in range(2)])' uses 'X', which is not a column of the results (outputs and variables: f, x)"),
        "{err}"
    );
    assert!(err.contains("did you mean 'x'?"), "{err}");
    assert!(calls(&sb).is_empty(), "nothing ran under --strict");
    assert_eq!(sb.read("ana/kept.txt"), "an earlier design");
    let (code, err) = run(&[&lhs[..], &["-e", "fx * 2"]].concat());
    assert_eq!(code, Some(1), "no valid result: {err}");
    assert!(err.contains("uses 'fx', which is not a column"), "{err}");
    // ... and the end of the design says that no point got an objective,
    // with the first reason, at the default level.
    assert!(
        err.contains("3 of 3 evaluated point(s) got no objective (0 case(s) not done, 3 objective(s) not computable); the first: Failed to evaluate output expression 'fx * 2'"),
        "{err}"
    );
    assert_eq!(calls(&sb).len(), 3);

    // Known names, functions and comprehension variables are not reported.
    let (code, err) = run(&[&lhs[..], &["-e", "sqrt(sum(v for v in [f, x])) + pi"]].concat());
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("not a column"), "{err}");
    assert!(!err.contains("got no objective"), "{err}");
}

#[test]
fn a_set_up_error_is_told_once_and_runs_no_case() {
    // The pre-flight refuses every batch (as upstream, the loop goes on
    // with missing objectives): said once at the default level, no case
    // started in any iteration, no empty iteration directory left.
    let sb = study("(x - 0.3) ^ 2");
    let out = fzd(
        &sb,
        &[
            "-a",
            "brent",
            "-v",
            r#"{"x": "[0;1]"}"#,
            "-r",
            "ana",
            "-c",
            "sh://bash missing.sh",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "no valid result: {err}");
    assert!(
        err.contains("Error evaluating batch: calculator 'sh://bash missing.sh': script 'missing.sh' not found"),
        "{err}"
    );
    assert_eq!(err.matches("Error evaluating batch").count(), 1, "{err}");
    assert!(
        err.contains("25 of 25 evaluated point(s) got no objective (25 case(s) not done, 0 objective(s) not computable)"),
        "{err}"
    );
    assert!(calls(&sb).is_empty());
    let dirs: Vec<String> = std::fs::read_dir(sb.path().join("ana"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(dirs.is_empty(), "{dirs:?}");
    assert!(sb.path().join("ana/Y_25.csv").exists());
}
