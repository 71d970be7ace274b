//! The seed document's snippets (`/work/shared/seed-parallel-and-caching.md`,
//! kept in sync with tests/python/test_seed_*.py) as `fzr`/`fzo`/`fz cache`
//! commands through the real binary. One test per snippet that has a
//! command-line equivalent (named after its section); Python-only ones
//! (`get_config()`, `os.cpu_count()`/`psutil` arithmetic, which only build
//! a list of `-c` options) are covered by the Python tests.
//!
//! How often each calculator really ran, and how many ran at once, comes
//! from the scripts' own log (`calls.log`), never from fz's table. ssh://
//! and SLURM snippets run against the test services (`FZ_TEST_SSH_PORT`,
//! `FZ_TEST_SLURM`): skipped without them, failing when `CI` is set.

mod common;
use common::Sandbox;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MODEL: &str = r##"{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"result":"grep result output.txt | awk '{print $3}'"}}"##;

/// Every variable the snippets use, with defaults.
const INPUT: &str = "temp=${temp~0}\npressure=${pressure~1}\nparam=${param~0}\nmesh=${mesh~0}\n";

/// A project with the seed template and a logging `calc.sh`.
fn project() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("input.txt", INPUT);
    calc(&sb, "calc.sh", "0", 0, &[]);
    sb
}

/// Writes an executable calculator script `name` that logs `start|end|fail
/// <name> <case> <time>` in calls.log (case = basename of its directory),
/// sleeps `sleep` (a shell word), exits 3 for the cases in `fail_for`, else
/// writes `result = temp*pressure + param + mesh + offset`.
fn calc(sb: &Sandbox, name: &str, sleep: &str, offset: i64, fail_for: &[&str]) {
    let log = sb.path().join("calls.log");
    let log = log.display();
    let fails = if fail_for.is_empty() {
        "false".to_string()
    } else {
        fail_for
            .iter()
            .map(|c| format!("[ \"$case\" = \"{c}\" ]"))
            .collect::<Vec<_>>()
            .join(" || ")
    };
    let path = sb.write(
        name,
        &format!(
            "#!/bin/bash\ncase=$(basename \"$PWD\")\n\
             echo \"start {name} $case $(date +%s.%N)\" >> {log}\n\
             f=\"${{1:-input.txt}}\"\nv() {{ grep \"^$1=\" \"$f\" | cut -d= -f2; }}\n\
             sleep {sleep}\n\
             if {fails}; then echo \"fail {name} $case $(date +%s.%N)\" >> {log}; exit 3; fi\n\
             echo \"result = $(( $(v temp) * $(v pressure) + $(v param) + $(v mesh) + {offset} ))\" > output.txt\n\
             echo \"end {name} $case $(date +%s.%N)\" >> {log}\n"
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// (script, case) of the logged events of `kind` (and of `script`).
fn calls(sb: &Sandbox, kind: &str, script: Option<&str>) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(sb.path().join("calls.log")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() == 4 && f[0] == kind && script.is_none_or(|s| s == f[1]))
                .then(|| (f[1].to_string(), f[2].to_string()))
        })
        .collect()
}

/// Sorted case names of the logged events of `kind`.
fn cases(sb: &Sandbox, kind: &str, script: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = calls(sb, kind, script).into_iter().map(|c| c.1).collect();
    v.sort();
    v
}

fn names(prefix: &str, values: impl IntoIterator<Item = i64>) -> Vec<String> {
    let mut v: Vec<String> = values
        .into_iter()
        .map(|x| format!("{prefix}={x}"))
        .collect();
    v.sort();
    v
}

/// Most runs in progress at once, from calls.log.
fn max_concurrency(sb: &Sandbox) -> usize {
    let text = std::fs::read_to_string(sb.path().join("calls.log")).unwrap_or_default();
    let events: Vec<(f64, i32)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let t: f64 = f[3].parse().expect("time");
            (t, if f[0] == "start" { 1 } else { -1 })
        })
        .collect();
    common::peak_overlap(events)
}

fn clear_calls(sb: &Sandbox) {
    std::fs::remove_file(sb.path().join("calls.log")).expect("calls.log");
}

/// What one `fzr` (or `fzo`) invocation gave.
struct Out {
    code: Option<i32>,
    rows: Vec<Value>,
    stderr: String,
}

impl Out {
    fn col(&self, name: &str) -> Vec<Value> {
        self.rows.iter().map(|r| r[name].clone()).collect()
    }
    fn ints(&self, name: &str) -> Vec<i64> {
        self.rows
            .iter()
            .map(|r| {
                r[name]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{name} in {r}\n{}", self.stderr))
            })
            .collect()
    }
    fn strs(&self, name: &str) -> Vec<String> {
        self.col(name)
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn parse(out: std::process::Output) -> Out {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rows = serde_json::from_slice::<Value>(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)))
        .as_array()
        .cloned()
        .unwrap_or_default();
    Out {
        code: out.status.code(),
        rows,
        stderr,
    }
}

/// `fzr input -m MODEL -v VARS <args> -f json` with `env`.
fn fzr(sb: &Sandbox, input: &str, vars: &str, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = sb.cmd("fzr");
    c.args([input, "-m", MODEL, "-v", vars])
        .args(args)
        .args(["-f", "json", "--no-progress"]);
    for (k, v) in env {
        c.env(k, v);
    }
    parse(c.output().expect("fzr"))
}

/// `fzr` started in the background (stdout, stderr piped).
fn spawn_fzr(sb: &Sandbox, vars: &str, args: &[&str]) -> std::process::Child {
    Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        .env_remove("FZ_LOG_LEVEL")
        .args(["input.txt", "-m", MODEL, "-v", vars])
        .args(args)
        .args(["-f", "json", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fzr")
}

fn sigint(child: &std::process::Child) {
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
}

/// Waits until `ready()` holds, failing if the child ends first.
fn wait_until(child: &mut std::process::Child, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "fzr ended before {what}"
        );
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the cases of `vars` with `script` into `run1/`, each run taking
/// `delay` seconds, and sends `sigints` Ctrl+C once `started` runs began:
/// the interrupted run's table. Later runs of `script` are instant.
fn interrupted_run1(
    sb: &Sandbox,
    script: &str,
    vars: &str,
    delay: &str,
    started: usize,
    sigints: usize,
) -> Out {
    let delay_file = sb.path().join("delay");
    calc(
        sb,
        script,
        &format!("$(cat {} 2>/dev/null || echo 0)", delay_file.display()),
        0,
        &[],
    );
    std::fs::write(&delay_file, delay).expect("delay");
    let calculator = format!("sh://bash {script}");
    let mut child = spawn_fzr(sb, vars, &["-c", &calculator, "-r", "run1"]);
    wait_until(&mut child, &format!("{started} runs"), || {
        calls(sb, "start", None).len() >= started
    });
    for i in 0..sigints {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
        sigint(&child);
    }
    let first = parse(child.wait_with_output().expect("fzr"));
    assert_eq!(first.code, Some(130), "{}", first.stderr);
    std::fs::remove_file(&delay_file).expect("delay");
    first
}

/// Resumes [`interrupted_run1`]'s study with `-c cache://run1 -c sh://bash
/// <script>` into `run1_resumed/`: the table and its cache hits.
fn resume_run1(sb: &Sandbox, script: &str, vars: &str) -> (Out, usize) {
    let calculator = format!("sh://bash {script}");
    let out = fzr(
        sb,
        "input.txt",
        vars,
        &[
            "-c",
            "cache://run1",
            "-c",
            &calculator,
            "-r",
            "run1_resumed",
        ],
        &[],
    );
    let hits = out
        .strs("calculator")
        .iter()
        .filter(|c| *c == "cache://run1")
        .count();
    (out, hits)
}

fn grid(name: &str, values: impl IntoIterator<Item = i64>) -> String {
    serde_json::json!({ name: values.into_iter().collect::<Vec<_>>() }).to_string()
}

/// The value of a service variable; None (test skipped, reason printed)
/// without it, a failure under CI.
fn service(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set but CI is: {what} must be running for this test")
        }
        _ => {
            eprintln!("skipped: {var} not set, {what} is not available");
            None
        }
    }
}

/// An ssh:// URI running `command` on the test sshd as the current user.
fn ssh_uri(command: &str) -> Option<String> {
    let port = service("FZ_TEST_SSH_PORT", "the test sshd")?;
    let user = Command::new("id").arg("-un").output().expect("id -un");
    let user = String::from_utf8_lossy(&user.stdout).trim().to_string();
    Some(format!("ssh://{user}@127.0.0.1:{port}/{command}"))
}

fn visible_cases(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

// --- Parallel Execution ------------------------------------------------------

#[test]
fn basic_parallel_execution_sequential() {
    let sb = project();
    calc(&sb, "calc.sh", "0.2", 0, &[]);
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", [100, 200, 300, 400, 500]),
        &["-c", "sh://bash calc.sh", "-r", "results"],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.ints("result"), [100, 200, 300, 400, 500]);
    assert_eq!(
        cases(&sb, "end", None),
        names("temp", [100, 200, 300, 400, 500])
    );
    assert_eq!(max_concurrency(&sb), 1);
}

#[test]
fn basic_parallel_execution_parallel() {
    let sb = project();
    calc(&sb, "calc.sh", "1", 0, &[]);
    let c = "sh://bash calc.sh";
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", [100, 200, 300, 400, 500]),
        &["-c", c, "-c", c, "-c", c, "-r", "results"],
        &[],
    );
    assert_eq!(out.ints("result"), [100, 200, 300, 400, 500]);
    assert_eq!(calls(&sb, "end", None).len(), 5);
    assert_eq!(max_concurrency(&sb), 3);
}

#[test]
fn basic_parallel_execution_concise_notation() {
    let sb = project();
    calc(&sb, "calc.sh", "1", 0, &[]);
    let c = "sh://bash calc.sh";
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 1..=6),
        &["-c", c, "-c", c, "-c", c, "-c", c],
        &[],
    );
    assert_eq!(out.ints("result"), [1, 2, 3, 4, 5, 6]);
    assert!(sb.path().join("results/temp=1").is_dir(), "default -r");
    assert_eq!(calls(&sb, "end", None).len(), 6);
    assert_eq!(max_concurrency(&sb), 4);
}

#[test]
fn load_balancing() {
    // 10 cases on `sh://calc.sh` × 3 (the script itself, executable): all
    // run, 3 at a time, so every slot was used.
    let sb = project();
    calc(&sb, "calc.sh", "0.5", 0, &[]);
    let c = "sh://calc.sh";
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 0..10),
        &["-c", c, "-c", c, "-c", c],
        &[],
    );
    assert_eq!(out.ints("result"), (0..10).collect::<Vec<_>>());
    assert_eq!(cases(&sb, "end", None), names("temp", 0..10));
    assert_eq!(max_concurrency(&sb), 3);
}

#[test]
fn controlling_parallelism_method_1_number_of_calculators() {
    let sb = project();
    calc(&sb, "calc.sh", "1", 0, &[]);
    let mut args = vec![];
    for _ in 0..8 {
        args.extend(["-c", "sh://bash calc.sh"]);
    }
    let out = fzr(&sb, "input.txt", &grid("temp", 0..8), &args, &[]);
    assert_eq!(out.ints("result"), (0..8).collect::<Vec<_>>());
    assert_eq!(calls(&sb, "end", None).len(), 8);
    assert_eq!(max_concurrency(&sb), 8);
}

#[test]
fn controlling_parallelism_method_2_environment_variable() {
    // export FZ_MAX_WORKERS=8: with 10 slots, 8 cases at once.
    let sb = project();
    calc(&sb, "calc.sh", "1", 0, &[]);
    let mut args = vec![];
    for _ in 0..10 {
        args.extend(["-c", "sh://bash calc.sh"]);
    }
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 0..10),
        &args,
        &[("FZ_MAX_WORKERS", "8")],
    );
    assert_eq!(out.ints("result"), (0..10).collect::<Vec<_>>());
    assert_eq!(calls(&sb, "end", None).len(), 10);
    assert_eq!(max_concurrency(&sb), 8);
}

// --- Caching Strategies --------------------------------------------------------

#[test]
fn strategy_1_resume_interrupted_runs() {
    let sb = project();
    let vars = grid("param", 0..100);
    let first = interrupted_run1(&sb, "slow_calc.sh", &vars, "0.1", 10, 1);
    let done = first.strs("status").iter().filter(|s| *s == "done").count();
    assert!((10..100).contains(&done), "{done}");
    assert_eq!(calls(&sb, "end", None).len(), done);
    assert_eq!(calls(&sb, "start", None).len(), done);
    assert!(first.stderr.contains("-c cache://_"), "{}", first.stderr);

    let (out, hits) = resume_run1(&sb, "slow_calc.sh", &vars);
    assert_eq!(out.code, Some(0));
    assert_eq!(out.ints("result"), (0..100).collect::<Vec<_>>());
    assert_eq!(hits, done);
    assert_eq!(
        cases(&sb, "end", None),
        names("param", 0..100),
        "each case ran once"
    );
}

#[test]
fn strategy_2_expand_parameter_space() {
    let sb = project();
    let first = fzr(
        &sb,
        "input.txt",
        r#"{"temp": [100, 200, 300], "pressure": [1, 10, 100]}"#,
        &["-c", "sh://bash calc.sh", "-r", "study1"],
        &[],
    );
    assert_eq!(first.rows.len(), 9);
    assert_eq!(calls(&sb, "end", None).len(), 9);
    clear_calls(&sb);
    let out = fzr(
        &sb,
        "input.txt",
        r#"{"temp": [100, 200, 300, 400, 500], "pressure": [1, 10, 100, 1000, 10000]}"#,
        &[
            "-c",
            "cache://study1",
            "-c",
            "sh://bash calc.sh",
            "-r",
            "study2",
        ],
        &[],
    );
    assert_eq!(out.rows.len(), 25);
    for r in &out.rows {
        assert_eq!(
            r["result"].as_i64(),
            Some(r["temp"].as_i64().unwrap() * r["pressure"].as_i64().unwrap())
        );
        let old = [100, 200, 300].contains(&r["temp"].as_i64().unwrap())
            && [1, 10, 100].contains(&r["pressure"].as_i64().unwrap());
        assert_eq!(r["calculator"] == "cache://study1", old, "{r}");
    }
    let ran = cases(&sb, "end", None);
    assert_eq!(ran.len(), 16);
    assert!(ran.iter().all(|c| !c.starts_with("temp=100,pressure=1,")));
}

#[test]
fn strategy_3_compare_multiple_methods() {
    let sb = project();
    calc(&sb, "fast.sh", "0", 0, &[]);
    calc(&sb, "accurate.sh", "0", 1, &[]);
    let vars = r#"{"temp": [100, 200], "pressure": [1, 10]}"#;
    // Positional results directory after -c, trailing slash as in the seed.
    fzr(
        &sb,
        "input.txt",
        vars,
        &["-c", "sh://fast.sh", "-r", "results_fast/"],
        &[],
    );
    fzr(
        &sb,
        "input.txt",
        vars,
        &["-c", "sh://accurate.sh", "-r", "results_accurate/"],
        &[],
    );
    assert_eq!(calls(&sb, "end", Some("fast.sh")).len(), 4);
    assert_eq!(calls(&sb, "end", Some("accurate.sh")).len(), 4);
    let fast = sb.read("results_fast/summary.csv");
    let accurate = sb.read("results_accurate/summary.csv");
    assert!(fast.starts_with("temp,pressure,result,"), "{fast}");
    let col = |csv: &str| -> Vec<String> {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(
        col(&fast),
        ["100,1,100", "100,10,1000", "200,1,200", "200,10,2000"]
    );
    assert_eq!(
        col(&accurate),
        ["100,1,101", "100,10,1001", "200,1,201", "200,10,2001"]
    );
}

fn study(sb: &Sandbox, dir: &str, temps: &[i64]) {
    let out = fzr(
        sb,
        "input.txt",
        &grid("temp", temps.iter().copied()),
        &["-c", "sh://bash calc.sh", "-r", dir],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn strategy_4_multi_tier_caching() {
    let sb = project();
    study(&sb, "latest_run", &[1, 2]);
    study(&sb, "archive/2024-03", &[3]);
    study(&sb, "archive/2019/study", &[4]);
    clear_calls(&sb);
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 1..=5),
        &[
            "-c",
            "cache://latest_run",
            "-c",
            "cache://archive/2024-*",
            "-c",
            "cache://archive/*/*",
            "-c",
            "sh://bash calc.sh",
        ],
        &[],
    );
    assert_eq!(out.ints("result"), [1, 2, 3, 4, 5]);
    assert_eq!(
        out.strs("calculator"),
        [
            "cache://latest_run",
            "cache://latest_run",
            "cache://archive/2024-*",
            "cache://archive/*/*",
            "sh://bash calc.sh"
        ]
    );
    assert_eq!(cases(&sb, "end", None), ["temp=5"]);
}

#[test]
fn strategy_5_selective_recalculation() {
    let sb = project();
    calc(&sb, "calc_v2.sh", "0", 1000, &[]);
    let vars = grid("temp", 1..=3);
    fzr(
        &sb,
        "input.txt",
        &vars,
        &["-c", "sh://bash calc.sh", "-r", "run1/"],
        &[],
    );
    let v2 = fzr(
        &sb,
        "input.txt",
        &vars,
        &["-c", "sh://bash calc_v2.sh", "-r", "run2/"],
        &[],
    );
    let v3 = fzr(
        &sb,
        "input.txt",
        &vars,
        &["-c", "sh://bash calc.sh", "-r", "run3/"],
        &[],
    );
    assert_eq!(v2.ints("result"), [1001, 1002, 1003]);
    assert_eq!(v3.ints("result"), [1, 2, 3]);
    assert_eq!(calls(&sb, "end", Some("calc.sh")).len(), 6);
    assert_eq!(calls(&sb, "end", Some("calc_v2.sh")).len(), 3);
}

// --- Combining Parallel and Cache ----------------------------------------------

#[test]
fn pattern_1_parallel_with_cache_fallback() {
    let sb = project();
    study(&sb, "previous_run", &[1, 2, 3]);
    clear_calls(&sb);
    calc(&sb, "calc.sh", "1", 0, &[]);
    let c = "sh://bash calc.sh";
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 1..=10),
        &[
            "-c",
            "cache://previous_run",
            "-c",
            c,
            "-c",
            c,
            "-c",
            c,
            "-c",
            c,
        ],
        &[],
    );
    assert_eq!(out.ints("result"), (1..=10).collect::<Vec<_>>());
    assert_eq!(
        out.strs("calculator")
            .iter()
            .filter(|c| *c == "cache://previous_run")
            .count(),
        3
    );
    assert_eq!(cases(&sb, "end", None), names("temp", 4..=10));
    assert_eq!(max_concurrency(&sb), 4);
}

#[test]
fn pattern_2_mixed_remote_and_local_with_cache() {
    let sb = project();
    let dir = sb.path().display().to_string();
    let Some(fast) = ssh_uri(&format!("bash {dir}/fast.sh")) else {
        return;
    };
    let Some(robust) = ssh_uri(&format!("bash {dir}/robust.sh")) else {
        return;
    };
    for s in ["fast.sh", "local.sh", "robust.sh"] {
        calc(&sb, s, "1", 0, &[]);
    }
    study(&sb, "archive/old", &[1]);
    clear_calls(&sb);
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 1..=8),
        &[
            "-c",
            "cache://archive/*",
            "-c",
            &fast,
            "-c",
            &fast,
            "-c",
            "sh://bash local.sh",
            "-c",
            &robust,
        ],
        &[],
    );
    assert_eq!(
        out.ints("result"),
        (1..=8).collect::<Vec<_>>(),
        "{}",
        out.stderr
    );
    assert_eq!(out.strs("calculator")[0], "cache://archive/*");
    assert_eq!(calls(&sb, "end", None).len(), 7);
    assert_eq!(max_concurrency(&sb), 4);
}

#[test]
fn pattern_3_staged_execution() {
    let sb = project();
    sb.write("input_detailed.txt", &format!("detailed=1\n{INPUT}"));
    calc(&sb, "quick.sh", "0", 0, &[]);
    calc(&sb, "detailed.sh", "0", 10000, &[]);
    fzr(
        &sb,
        "input_detailed.txt",
        &grid("param", [991, 992]),
        &["-c", "sh://bash detailed.sh", "-r", "stage2_previous"],
        &[],
    );
    clear_calls(&sb);
    let quick = fzr(
        &sb,
        "input.txt",
        &grid("param", 0..1000),
        &[
            "-c",
            "sh://bash quick.sh",
            "-c",
            "sh://bash quick.sh",
            "-r",
            "stage1_quick",
        ],
        &[],
    );
    assert_eq!(calls(&sb, "end", Some("quick.sh")).len(), 1000);
    let threshold = 990;
    let interesting: Vec<i64> = quick
        .rows
        .iter()
        .filter(|r| r["result"].as_i64().unwrap_or(0) > threshold)
        .map(|r| r["param"].as_i64().expect("param"))
        .collect();
    assert_eq!(interesting, (991..1000).collect::<Vec<_>>());
    let detailed = fzr(
        &sb,
        "input_detailed.txt",
        &grid("param", interesting),
        &[
            "-c",
            "cache://stage2_previous",
            "-c",
            "sh://bash detailed.sh",
            "-c",
            "sh://bash detailed.sh",
            "-r",
            "stage2_detailed",
        ],
        &[],
    );
    assert_eq!(
        detailed.ints("result"),
        (991..1000).map(|p| p + 10000).collect::<Vec<_>>()
    );
    assert_eq!(
        cases(&sb, "end", Some("detailed.sh")),
        names("param", 993..1000)
    );
}

// --- Retry Mechanism -----------------------------------------------------------

#[test]
fn retry_mechanism_basic_retry() {
    let sb = project();
    calc(&sb, "may_fail.sh", "0", 0, &["temp=1", "temp=2"]);
    calc(&sb, "backup.sh", "0", 0, &["temp=1"]);
    let args = ["-c", "sh://bash may_fail.sh", "-c", "sh://bash backup.sh"];
    let env = [("FZ_MAX_RETRIES", "3")];
    let out = fzr(&sb, "input.txt", &grid("temp", [1]), &args, &env);
    let order: Vec<String> = calls(&sb, "start", None).into_iter().map(|c| c.0).collect();
    assert_eq!(order, ["may_fail.sh", "backup.sh", "may_fail.sh"]);
    assert_eq!(out.strs("status"), ["failed"]);
    assert_eq!(out.ints("attempts"), [3]);
    assert_eq!(out.code, Some(1), "no case done");
    clear_calls(&sb);
    let out = fzr(&sb, "input.txt", &grid("temp", [2]), &args, &env);
    let order: Vec<String> = calls(&sb, "start", None).into_iter().map(|c| c.0).collect();
    assert_eq!(order, ["may_fail.sh", "backup.sh"]);
    assert_eq!(out.ints("result"), [2]);
    assert_eq!(out.strs("calculator"), ["sh://bash backup.sh"]);
}

#[test]
fn retry_mechanism_retry_with_different_methods() {
    let sb = project();
    let Some(hpc) = ssh_uri(&format!("bash {}/hpc.sh", sb.path().display())) else {
        return;
    };
    calc(&sb, "fast_method.sh", "0", 0, &["temp=2", "temp=3"]);
    calc(&sb, "robust_method.sh", "0", 0, &["temp=3"]);
    calc(&sb, "hpc.sh", "0", 0, &[]);
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 1..=3),
        &[
            "-c",
            "sh://bash fast_method.sh",
            "-c",
            "sh://bash robust_method.sh",
            "-c",
            &hpc,
        ],
        &[("FZ_MAX_RETRIES", "5")],
    );
    assert_eq!(out.ints("result"), [1, 2, 3], "{}", out.stderr);
    assert_eq!(out.strs("calculator")[2], hpc);
    assert_eq!(calls(&sb, "end", None).len(), 3);
    assert!(calls(&sb, "fail", None).len() <= 3);
}

// --- Interrupt Handling --------------------------------------------------------

#[test]
fn interrupt_handling_graceful_shutdown() {
    let sb = project();
    calc(&sb, "calc.sh", "0.3", 0, &[]);
    let c = "sh://bash calc.sh";
    let mut child = spawn_fzr(
        &sb,
        &grid("param", 0..1000),
        &["-c", c, "-c", c, "-c", c, "-c", c, "-r", "results"],
    );
    wait_until(&mut child, "8 runs", || {
        calls(&sb, "start", None).len() >= 8
    });
    let before = calls(&sb, "start", None).len();
    let sent = Instant::now();
    sigint(&child);
    let out = parse(child.wait_with_output().expect("fzr"));
    assert!(sent.elapsed() < Duration::from_secs(5));
    assert_eq!(out.code, Some(130));
    assert!(out.stderr.contains("Interrupt received"), "{}", out.stderr);
    let (starts, ends) = (cases(&sb, "start", None), cases(&sb, "end", None));
    assert_eq!(starts, ends, "running cases finished");
    assert!(starts.len() <= before + 4, "no new case started");
    let statuses = out.strs("status");
    assert_eq!(statuses.iter().filter(|s| *s == "done").count(), ends.len());
    assert_eq!(
        statuses.iter().filter(|s| *s == "interrupted").count(),
        1000 - ends.len()
    );
    assert_eq!(visible_cases(&sb.path().join("results")), ends);
}

#[test]
fn interrupt_handling_resume_after_interrupt() {
    let sb = project();
    let vars = grid("temp", 0..20);
    // The second Ctrl+C kills the running case.
    interrupted_run1(&sb, "calc.sh", &vars, "0.3", 4, 2);
    let (out, hits) = resume_run1(&sb, "calc.sh", &vars);
    assert_eq!(out.ints("result"), (0..20).collect::<Vec<_>>());
    assert!(hits >= 3, "{hits}");
    assert_eq!(
        cases(&sb, "end", None),
        names("temp", 0..20),
        "each case ended once"
    );
}

// --- Performance Optimization ----------------------------------------------

#[test]
fn profile_to_find_bottlenecks() {
    let sb = project();
    let c = "sh://bash calc.sh";
    let out = fzr(
        &sb,
        "input.txt",
        &grid("temp", 1..=3),
        &["-c", c, "-c", c],
        &[("FZ_LOG_LEVEL", "DEBUG")],
    );
    assert_eq!(out.ints("result"), [1, 2, 3]);
    assert_eq!(calls(&sb, "end", None).len(), 3);
    let dir = sb.path().display();
    let err = &out.stderr;
    assert!(err.contains("Running 3 cases on 2 calculator(s)"), "{err}");
    for t in 1..=3 {
        assert!(
            err.contains(&format!(
                "in {dir}/.results.fz-work/temp={t} (time limit 3600 s)"
            )),
            "{err}"
        );
    }
    assert_eq!(
        err.matches(&format!("Running command: bash {dir}/calc.sh input.txt"))
            .count(),
        3
    );
    assert_eq!(err.matches("attempt 1 done (exit code 0) in ").count(), 3);
}

#[test]
fn optimize_calculator_count() {
    let sb = project();
    calc(&sb, "calc.sh", "0.03", 0, &[]);
    let mut timings = vec![];
    for n in [1, 2, 4, 8, 16] {
        let mut args = vec![];
        for _ in 0..n {
            args.extend(["-c", "sh://bash calc.sh"]);
        }
        let dir = format!("benchmark_{n}_workers");
        args.extend(["-r", dir.as_str()]);
        let start = Instant::now();
        let out = fzr(&sb, "input.txt", &grid("param", 0..100), &args, &[]);
        timings.push(start.elapsed());
        assert_eq!(out.rows.len(), 100);
        assert_eq!(sb.read(&format!("{dir}/summary.csv")).lines().count(), 101);
    }
    assert_eq!(calls(&sb, "end", None).len(), 500);
    // Speed is measured in bench/, not asserted here: only that more
    // calculators did run cases at once, never more than listed.
    let peak = max_concurrency(&sb);
    assert!((2..=16).contains(&peak), "peak {peak}, timings {timings:?}");
}

#[test]
fn use_fast_calculators_first() {
    let sb = project();
    let Some(slow) = ssh_uri(&format!("bash {}/slow.sh", sb.path().display())) else {
        return;
    };
    for s in ["fast.sh", "medium.sh", "slow.sh"] {
        calc(&sb, s, "0", 0, &[]);
    }
    fzr(
        &sb,
        "input.txt",
        &grid("temp", [1]),
        &["-c", "sh://bash fast.sh", "-r", "previous"],
        &[],
    );
    clear_calls(&sb);
    let good = fzr(
        &sb,
        "input.txt",
        &grid("temp", [1, 2]),
        &[
            "-c",
            "cache://previous",
            "-c",
            "sh://bash fast.sh",
            "-c",
            "sh://bash medium.sh",
            "-c",
            &slow,
            "-r",
            "good",
        ],
        &[],
    );
    assert_eq!(
        good.strs("calculator"),
        ["cache://previous", "sh://bash fast.sh"]
    );
    assert_eq!(
        calls(&sb, "end", None),
        [("fast.sh".into(), "temp=2".into())]
    );
    let bad = fzr(
        &sb,
        "input.txt",
        &grid("temp", [1, 2]),
        &["-c", &slow, "-c", "sh://bash fast.sh", "-r", "bad"],
        &[],
    );
    assert_eq!(bad.ints("result"), [1, 2], "{}", bad.stderr);
    // Both cases start at once: the first takes the first slot (the slow one).
    let mut used = bad.strs("calculator");
    used.sort();
    let mut expected = vec![slow.clone(), "sh://bash fast.sh".to_string()];
    expected.sort();
    assert_eq!(used, expected);
    assert_eq!(calls(&sb, "end", Some("slow.sh")).len(), 1);
}

#[test]
fn batch_similar_cases() {
    if service("FZ_TEST_SLURM", "the test SLURM cluster").is_none() {
        return;
    }
    let sb = project();
    let Some(heavy) = ssh_uri(&format!(
        "sbatch --wait --partition=debug {}/heavy.sh",
        sb.path().display()
    )) else {
        return;
    };
    calc(&sb, "heavy.sh", "0", 0, &[]);
    let mut args = vec![];
    for _ in 0..8 {
        args.extend(["-c", "sh://bash calc.sh"]);
    }
    args.extend(["-r", "results_light"]);
    let light = fzr(&sb, "input.txt", &grid("mesh", [10, 20, 30]), &args, &[]);
    let heavy = fzr(
        &sb,
        "input.txt",
        &grid("mesh", [1000, 2000, 3000]),
        &["-c", &heavy, "-r", "results_heavy"],
        &[],
    );
    assert_eq!(light.ints("result"), [10, 20, 30]);
    assert_eq!(heavy.ints("result"), [1000, 2000, 3000], "{}", heavy.stderr);
    assert_eq!(calls(&sb, "end", Some("calc.sh")).len(), 3);
    assert_eq!(calls(&sb, "end", Some("heavy.sh")).len(), 3);
}

#[test]
fn clean_old_caches() {
    let sb = project();
    study(&sb, "results", &[1, 2, 3]);
    let touch = Command::new("touch")
        .args(["-d", "40 days ago", "results/temp=1"])
        .current_dir(sb.path())
        .status()
        .expect("touch");
    assert!(touch.success());
    Command::new("bash")
        .arg("-c")
        .arg(
            "find results/ -type d -mtime +30 -exec rm -rf {} \\;\n\
             find results/ -type f ! -name '.fz_hash' -delete\n",
        )
        .current_dir(sb.path())
        .output()
        .expect("bash");
    assert_eq!(sb.ls("results"), ["temp=2", "temp=3"]);
    assert_eq!(sb.ls("results/temp=2"), [".fz_hash"]);
    let verify = sb
        .cmd("fz")
        .args(["cache", "verify", "results", "-f", "json"])
        .output()
        .expect("fz cache verify");
    assert_eq!(verify.status.code(), Some(1));
    let entries: Value = serde_json::from_slice(&verify.stdout).expect("json");
    let entries = entries.as_array().expect("list");
    assert_eq!(entries.len(), 2);
    for e in entries {
        assert_eq!(e["usable"], false, "{e}");
        assert!(
            e["problem"]
                .as_str()
                .unwrap_or_default()
                .contains("only .fz_hash kept"),
            "{e}"
        );
    }
    clear_calls(&sb);
    let again = fzr(
        &sb,
        "input.txt",
        &grid("temp", 1..=3),
        &[
            "-c",
            "cache://results",
            "-c",
            "sh://bash calc.sh",
            "-r",
            "again",
        ],
        &[],
    );
    assert_eq!(again.strs("calculator"), ["sh://bash calc.sh"; 3]);
    assert_eq!(calls(&sb, "end", None).len(), 3);
}

// --- Monitoring Progress -----------------------------------------------------

#[test]
fn monitoring_progress_check_results_and_analyze_partial_results() {
    // "In one terminal" fzr runs; "in another", `ls results` and `fzo
    // 'results/*'` see the finished cases only.
    let sb = project();
    calc(&sb, "calc.sh", "0.4", 0, &[]);
    let c = "sh://bash calc.sh";
    let mut child = spawn_fzr(
        &sb,
        &grid("temp", 1..=12),
        &["-c", c, "-c", c, "-r", "results/"],
    );
    let results = sb.path().join("results");
    wait_until(&mut child, "3 finished cases", || {
        visible_cases(&results).len() >= 3
    });
    let listed = visible_cases(&results);
    let partial = parse(
        sb.cmd("fzo")
            .args(["results/*", "-m", MODEL, "-f", "json"])
            .output()
            .expect("fzo"),
    );
    let ended = cases(&sb, "end", None);
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "still running"
    );
    assert!(
        listed.iter().all(|c| ended.contains(c)),
        "{listed:?} {ended:?}"
    );
    assert!(partial.rows.len() >= listed.len() && partial.rows.len() < 12);
    for r in &partial.rows {
        assert_eq!(r["result"], r["temp"], "{r}");
        let path = r["path"].as_str().unwrap_or_default();
        assert!(ended.iter().any(|c| path.ends_with(c.as_str())), "{path}");
    }
    let out = parse(child.wait_with_output().expect("fzr"));
    assert_eq!(out.strs("status"), ["done"; 12]);
}
