//! `fzl` / `fz list` and calculator/model aliases, through the real binary:
//! discovery in the project and in a fake HOME, name globs, `--check`
//! failures (exit 1, one line per problem naming the file), the three
//! formats, and the model compatibility errors of `fzr`.

mod common;
use common::Sandbox;
use std::net::TcpListener;

fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A port on 127.0.0.1 that nobody listens on (bound, then closed).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

/// The perfect-gas layout of a model repository: a model alias, a
/// calculator alias for it and the script it names, in the project; plus
/// a model and an ssh calculator in HOME.
fn installed(sb: &Sandbox) {
    sb.write(
        ".fz/models/perfectgas.json",
        r#"{"id": "PerfectGas", "output": {"p": "grep p= out.txt | cut -d= -f2"}}"#,
    );
    sb.write(
        ".fz/calculators/localhost_PerfectGas.json",
        r#"{"uri": "sh://", "models": {"PerfectGas": "bash .fz/calculators/PerfectGas.sh"}}"#,
    );
    sb.write(
        ".fz/calculators/PerfectGas.sh",
        "#!/bin/bash\necho p=1 > out.txt\n",
    );
    sb.write(
        "home/.fz/models/perfectgas_v2.json",
        r#"{"id": "PerfectGasV2"}"#,
    );
    sb.write("home/.fz/models/mc.json", r#"{"id": "MC"}"#);
    sb.write(
        "home/.fz/calculators/cluster.json",
        r#"{"uri": "ssh://me@hpc.invalid", "models": ["MC"]}"#,
    );
}

#[test]
fn lists_project_then_home_with_names_paths_and_support() {
    let sb = Sandbox::new();
    installed(&sb);
    // Same name in both places: the project file wins.
    sb.write("home/.fz/models/perfectgas.json", r#"{"id": "Shadowed"}"#);
    let out = sb.cmd("fzl").args(["-f", "json"]).assert().success();
    let j = json_of(&out.get_output().stdout);
    let models: Vec<&str> = j["models"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(models, ["perfectgas", "mc", "perfectgas_v2"]);
    let pg = &j["models"]["perfectgas"];
    assert_eq!(
        pg["path"],
        sb.path()
            .join(".fz/models/perfectgas.json")
            .display()
            .to_string()
    );
    assert_eq!(pg["scope"], "project");
    assert_eq!(pg["id"], "PerfectGas");
    assert_eq!(
        pg["properties"]["output"]["p"],
        "grep p= out.txt | cut -d= -f2"
    );
    assert_eq!(
        pg["supported_calculators"],
        serde_json::json!(["localhost_PerfectGas"])
    );
    assert_eq!(pg["check_status"], "not_checked");
    assert_eq!(j["models"]["mc"]["scope"], "home");
    assert_eq!(
        j["models"]["mc"]["supported_calculators"],
        serde_json::json!(["cluster"])
    );
    assert_eq!(
        j["models"]["perfectgas_v2"]["supported_calculators"],
        serde_json::json!([])
    );
    let cluster = &j["calculators"]["cluster"];
    assert_eq!(
        cluster["path"],
        sb.path()
            .join("home/.fz/calculators/cluster.json")
            .display()
            .to_string()
    );
    assert_eq!(cluster["uri"], "ssh://me@hpc.invalid");
    assert_eq!(cluster["supports_models"], serde_json::json!(["MC"]));
    assert_eq!(
        j["calculators"]["localhost_PerfectGas"]["commands"]["PerfectGas"],
        "bash .fz/calculators/PerfectGas.sh"
    );

    // `fz list` is the same command.
    let fz = sb.cmd("fz").args(["list", "-f", "json"]).assert().success();
    assert_eq!(fz.get_output().stdout, out.get_output().stdout);
}

#[test]
fn globs_select_models_and_calculators_by_name() {
    let sb = Sandbox::new();
    installed(&sb);
    let out = sb
        .cmd("fzl")
        .args(["--models", "perfect*", "--calculators", "*", "-f", "json"])
        .assert()
        .success();
    let j = json_of(&out.get_output().stdout);
    let models: Vec<&String> = j["models"].as_object().unwrap().keys().collect();
    assert_eq!(models, ["perfectgas", "perfectgas_v2"]);
    assert_eq!(j["calculators"].as_object().unwrap().len(), 2);
    let out = sb
        .cmd("fzl")
        .args(["-m", "mc", "-c", "clu*", "-f", "json"])
        .assert()
        .success();
    let j = json_of(&out.get_output().stdout);
    let calcs: Vec<&String> = j["calculators"].as_object().unwrap().keys().collect();
    assert_eq!(calcs, ["cluster"]);
    assert_eq!(
        j["models"]["mc"]["supported_calculators"],
        serde_json::json!(["cluster"])
    );
    // Nothing matching: empty sections, not the pattern itself.
    let out = sb
        .cmd("fzl")
        .args(["-m", "nothing*", "-c", "ssh*", "-a", "nothing*"])
        .assert()
        .success();
    assert_eq!(
        text(&out.get_output().stdout),
        "# Models and Calculators\n\n## Models\n\nNo models found matching pattern.\n\n## Calculators\n\nNo calculators found matching pattern.\n\n## Algorithms\n\nNo algorithms found matching pattern.\n"
    );
}

#[test]
fn markdown_and_table_formats() {
    let sb = Sandbox::new();
    sb.write(".fz/models/pg.json", r#"{"id": "PG"}"#);
    sb.write(
        ".fz/calculators/local.json",
        r#"{"uri": "sh://", "models": {"PG": "bash calc.sh"}}"#,
    );
    sb.write("calc.sh", "true\n");
    let root = sb.path().display().to_string();
    let out = sb
        .cmd("fzl")
        .args(["--check", "-a", "none"])
        .assert()
        .success();
    assert_eq!(
        text(&out.get_output().stdout),
        format!(
            "# Models and Calculators\n\n## Models\n\n### pg ✓\n- **Path**: `{root}/.fz/models/pg.json`\n- **Id**: `PG`\n- **Supported Calculators**: 1\n  - `local`\n\n## Calculators\n\n### local ✓\n- **Path**: `{root}/.fz/calculators/local.json`\n- **URI**: `sh://`\n- **Supports Models**: `PG`\n- **Commands**:\n  - `PG`: `bash calc.sh`\n\n## Algorithms\n\nNo algorithms found matching pattern.\n"
        )
    );
    assert_eq!(text(&out.get_output().stderr), "");
    let out = sb
        .cmd("fz")
        .args(["list", "-f", "table", "--algorithms", "none"])
        .assert()
        .success();
    assert_eq!(
        text(&out.get_output().stdout),
        format!(
            "\n=== MODELS ===\n\nModel: pg\n  Path: {root}/.fz/models/pg.json\n  Id: PG\n  Supported Calculators: 1\n    - local\n\n=== CALCULATORS ===\n\nCalculator: local\n  Path: {root}/.fz/calculators/local.json\n  URI: sh://\n  Supports Models: PG\n  Commands:\n    PG: bash calc.sh\n\n=== ALGORITHMS ===\n\nNo algorithms found matching pattern.\n"
        )
    );
    let out = sb.cmd("fzl").args(["-f", "csv"]).assert().code(2);
    assert!(
        text(&out.get_output().stderr).starts_with("fzl: error: invalid value 'csv'"),
        "{}",
        text(&out.get_output().stderr)
    );
    let out = sb.cmd("fzl").arg("--version").assert().success();
    assert!(text(&out.get_output().stdout).starts_with("fzl "));
}

#[test]
fn check_failures_exit_1_with_one_line_per_problem_naming_the_file() {
    let sb = Sandbox::new();
    let port = closed_port();
    let bad_json = sb.write(".fz/calculators/bad.json", "{\"uri\": \"sh://\",");
    let no_uri = sb.write(
        ".fz/calculators/nouri.json",
        r#"{"models": {"PG": "bash calc.sh"}}"#,
    );
    let no_script = sb.write(
        ".fz/calculators/noscript.json",
        r#"{"uri": "sh://", "models": {"PG": "bash .fz/calculators/missing.sh"}}"#,
    );
    let down = sb.write(
        "home/.fz/calculators/down.json",
        &format!(r#"{{"uri": "ssh://me:s3cret@127.0.0.1:{port}", "models": {{"PG": "bash /opt/pg.sh"}}}}"#),
    );
    let bad_model = sb.write(
        "home/.fz/models/badmodel.json",
        r#"{"id": "X", "output": "cat x"}"#,
    );
    sb.write(".fz/models/pg.json", r#"{"id": "PG"}"#);
    let out = sb
        .cmd("fzl")
        .args(["--check", "-f", "json"])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    assert_eq!(
        lines[0],
        format!(
            "fzl: check failed: {}: Model 'output' must be a dictionary, got str",
            bad_model.display()
        )
    );
    assert!(
        lines[1].starts_with(&format!(
            "fzl: check failed: {}: invalid JSON:",
            bad_json.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        lines[2],
        format!(
            "fzl: check failed: {}: script '.fz/calculators/missing.sh' not found in {}",
            no_script.display(),
            sb.path().display()
        )
    );
    assert_eq!(
        lines[3],
        format!(
            "fzl: check failed: {}: missing key 'uri' (e.g. \"uri\": \"sh://\")",
            no_uri.display()
        )
    );
    assert!(
        lines[4].starts_with(&format!(
            "fzl: check failed: {}: ssh host me:***@127.0.0.1:{port} unreachable: TCP connection to 127.0.0.1:{port} failed:",
            down.display()
        )),
        "{stderr}"
    );
    let stdout = text(&out.get_output().stdout);
    assert!(!stdout.contains("s3cret") && !stderr.contains("s3cret"));
    let j = json_of(&out.get_output().stdout);
    assert_eq!(j["models"]["pg"]["check_status"], "passed");
    assert_eq!(j["models"]["badmodel"]["check_status"], "failed");
    assert_eq!(j["calculators"]["bad"]["check_status"], "failed");
    assert_eq!(j["calculators"]["down"]["check_status"], "failed");
    // Without --check the same files list fine (the broken one is skipped
    // with a warning) and the exit status is 0.
    let out = sb.cmd("fzl").args(["-f", "json"]).assert().success();
    let j = json_of(&out.get_output().stdout);
    assert!(j["calculators"].get("bad").is_none());
    assert_eq!(j["calculators"]["down"]["check_status"], "not_checked");
}

#[test]
fn check_passes_for_a_listening_ssh_port_and_a_uri_can_be_checked_directly() {
    let sb = Sandbox::new();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    sb.write(
        ".fz/calculators/up.json",
        &format!(r#"{{"uri": "ssh://me@127.0.0.1:{port}"}}"#),
    );
    let out = sb
        .cmd("fzl")
        .args(["--check", "-m", "none"])
        .assert()
        .success();
    assert!(text(&out.get_output().stdout).contains("### up ✓"));
    let out = sb
        .cmd("fzl")
        .args([
            "--check",
            "-c",
            &format!("ssh://127.0.0.1:{}/true", closed_port()),
        ])
        .assert()
        .code(1);
    assert!(
        text(&out.get_output().stderr)
            .starts_with("fzl: check failed: calculator 'ssh://127.0.0.1:"),
        "{}",
        text(&out.get_output().stderr)
    );
    drop(listener);
}

/// An input whose calculator writes `p=<x>` and a model reading it.
fn study(sb: &Sandbox) {
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "calc.sh",
        "#!/bin/bash\nx=$(grep -o 'x=[0-9]*' \"$1\" | cut -d= -f2)\necho p=$x > out.txt\n",
    );
}

#[test]
fn fzr_refuses_an_explicit_alias_that_does_not_support_the_model() {
    let sb = Sandbox::new();
    study(&sb);
    sb.write(
        ".fz/models/pg.json",
        r#"{"id": "PG", "output": {"p": "grep p= out.txt | cut -d= -f2"}}"#,
    );
    let alias = sb.write(
        ".fz/calculators/other.json",
        r#"{"uri": "sh://", "models": {"MC": "bash calc.sh", "Cathare": "bash c.sh"}}"#,
    );
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "pg", "-v", r#"{"x":[1]}"#, "-c", "other"])
        .assert()
        .code(1);
    assert_eq!(
        text(&out.get_output().stderr),
        format!(
            "fzr: error: calculator alias 'other' ({}) does not support model 'PG' (its \"models\" list: MC, Cathare)\n",
            alias.display()
        )
    );
    assert!(!sb.path().join("results").exists(), "nothing ran");
}

#[test]
fn fzr_discovery_fails_when_no_alias_supports_the_model_and_uses_home_aliases() {
    let sb = Sandbox::new();
    study(&sb);
    // The model alias is found in HOME.
    sb.write(
        "home/.fz/models/pg.json",
        r#"{"id": "PG", "output": {"p": "grep p= out.txt | cut -d= -f2"}}"#,
    );
    let other = sb.write(
        "home/.fz/calculators/other.json",
        r#"{"uri": "sh://", "models": {"MC": "bash calc.sh"}}"#,
    );
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "pg", "-v", r#"{"x":[1]}"#])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    assert_eq!(
        stderr,
        format!(
            "fzr: error: no calculator alias matching '*' supports model 'PG': {} supports MC; name a calculator with -c/calculators= or add 'PG' to an alias's \"models\"\n",
            other.display()
        )
    );
    // A home alias supporting the model is found and used.
    sb.write(
        "home/.fz/calculators/pg_local.json",
        r#"{"uri": "sh://", "models": {"PG": "bash calc.sh"}}"#,
    );
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-m",
            "pg",
            "-v",
            r#"{"x":[1,2]}"#,
            "-f",
            "json",
        ])
        .assert()
        .success();
    let rows = json_of(&out.get_output().stdout);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["p"], 1);
    assert_eq!(rows[1]["p"], 2);
    assert_eq!(rows[0]["calculator"], "sh://bash calc.sh");
    // A project model alias of the same name shadows the home one.
    sb.write(
        ".fz/models/pg.json",
        r#"{"id": "PG", "output": {"q": "grep p= out.txt | cut -d= -f2"}}"#,
    );
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-m",
            "pg",
            "-v",
            r#"{"x":[3]}"#,
            "-f",
            "json",
            "-r",
            "r2",
        ])
        .assert()
        .success();
    let rows = json_of(&out.get_output().stdout);
    assert_eq!(rows[0]["q"], 3);
    assert!(rows[0].get("p").is_none());
}

/// Whether the OpenSSH client is installed; under CI it must be.
fn have_ssh_client() -> bool {
    let found = std::process::Command::new("ssh")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("CI is set but the ssh client is missing (see .ci/install)");
    }
    found
}

#[test]
fn check_follows_host_aliases_of_the_ssh_configuration() {
    if !have_ssh_client() {
        eprintln!("skipped: no ssh client");
        return;
    }
    let sb = Sandbox::new();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let config = sb.write(
        "ssh_config",
        &format!("Host up\n  HostName 127.0.0.1\n  Port {port}\nHost down\n  HostName 127.0.0.1\n  Port {}\n", closed_port()),
    );
    sb.write(".fz/calculators/up.json", r#"{"uri": "ssh://me@up"}"#);
    let down = sb.write(".fz/calculators/down.json", r#"{"uri": "ssh://me@down"}"#);
    let out = sb
        .cmd("fzl")
        .env("FZ_SSH_OPTIONS", format!("-F {}", config.display()))
        .args(["--check", "-f", "json"])
        .assert()
        .code(1);
    let j = json_of(&out.get_output().stdout);
    assert_eq!(j["calculators"]["up"]["check_status"], "passed", "{j}");
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.starts_with(&format!(
            "fzl: check failed: {}: ssh host me@down unreachable: TCP connection to 127.0.0.1:",
            down.display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    drop(listener);
}

#[test]
fn a_broken_project_alias_is_an_error_not_a_fallback_to_home() {
    let sb = Sandbox::new();
    study(&sb);
    sb.write("home/.fz/models/pg.json", r#"{"id": "PG"}"#);
    let broken = sb.write(".fz/models/pg.json", "{\"id\": ");
    let out = sb
        .cmd("fzi")
        .args(["input.txt", "-m", "pg"])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.starts_with(&format!("fzi: error: {}: invalid JSON", broken.display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    sb.write(
        "home/.fz/calculators/c.json",
        r#"{"uri": "sh://bash calc.sh"}"#,
    );
    let broken = sb.write(".fz/calculators/c.json", "[");
    let out = sb
        .cmd("fzr")
        .args([
            "input.txt",
            "-m",
            r#"{"id":"PG"}"#,
            "-v",
            r#"{"x":[1]}"#,
            "-c",
            "c",
        ])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.starts_with(&format!("fzr: error: {}: invalid JSON", broken.display())),
        "{stderr}"
    );
}

#[test]
fn check_looks_into_jq_yq_and_xpath_output_specs() {
    let sb = Sandbox::new();
    let model = sb.write(
        ".fz/models/outs.json",
        r#"{"id": "O", "output": {
            "ok": "jq://'.a | length' r.json",
            "shell": "grep x y | awk '{print $2}'",
            "py": "python://grep(r'x=(\\d+)', 'log')",
            "bad": "jq://'.[' r.json",
            "nofile": "yq://.a",
            "undefined": "jq://'nosuchfn(1)' r.json"
        }}"#,
    );
    let out = sb
        .cmd("fzl")
        .args(["--check", "-m", "outs"])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    let shown = model.display();
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            format!("fzl: check failed: {shown}: output 'bad': invalid jq filter '.['"),
            format!(
                "fzl: check failed: {shown}: output 'nofile': Invalid 'yq://' output spec: \
                 expected a filter followed by a file, got 'yq://.a'"
            ),
            format!(
                "fzl: check failed: {shown}: output 'undefined': invalid jq filter \
                 'nosuchfn(1)': undefined nosuchfn"
            ),
        ],
        "{stderr}"
    );
    // xpath:// needs xmllint: with an empty PATH the check says so.
    sb.write(
        ".fz/models/x.json",
        r#"{"id": "X", "output": {"p": "xpath://'//p/text()' o.xml"}}"#,
    );
    let out = sb
        .cmd("fzl")
        .args(["--check", "-m", "x"])
        .env("PATH", "")
        .assert()
        .code(1);
    assert!(
        text(&out.get_output().stderr)
            .contains("output 'p': xpath:// outputs need 'xmllint' on PATH"),
        "{}",
        text(&out.get_output().stderr)
    );
}

/// Algorithm plugin files: one valid Python plugin in the project (hiding
/// a home file of the same name), an R plugin in HOME, a broken plugin.
fn algorithm_plugins(sb: &Sandbox) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let sampler = sb.write(
        ".fz/algorithms/sampler.py",
        "#title: Fixed sampler\n#author: Tests\n#options: n=3;seed=1\n#require: json\nclass Sampler:\n    def __init__(self, **o):\n        self.n = int(o['n'])\n    def get_initial_design(self, i, o):\n        return [{'x': 0.5}] * self.n\n    def get_next_design(self, X, Y):\n        return []\n    def get_analysis(self, X, Y):\n        return {}\n",
    );
    sb.write(
        "home/.fz/algorithms/sampler.py",
        "# shadowed by the project file\n",
    );
    let mc = sb.write(
        "home/.fz/algorithms/mc.R",
        "#options: size=5\nMc <- function(...) structure(list(), class = \"Mc\")\nget_initial_design.Mc <- function(obj, i, o) list()\nget_next_design.Mc <- function(obj, X, Y) list()\nget_analysis.Mc <- function(obj, X, Y) list()\n",
    );
    let broken = sb.write(
        ".fz/algorithms/broken.py",
        "class Broken:\n    def get_initial_design(self, i, o):\n        return []\n    def get_next_design(self, X, Y):\n        return []\n",
    );
    (sampler, mc, broken)
}

#[test]
fn algorithms_are_listed_with_their_header_and_checked() {
    let sb = Sandbox::new();
    let (sampler, mc, broken) = algorithm_plugins(&sb);
    let out = sb
        .cmd("fzl")
        .args(["-m", "none", "-c", "none", "-f", "json"])
        .assert()
        .success();
    let j = json_of(&out.get_output().stdout);
    let names: Vec<&str> = j["algorithms"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        &names[..3],
        ["broken", "sampler", "mc"],
        "plugin files, project first"
    );
    assert!(names[3..]
        .iter()
        .all(|n| !["broken", "sampler", "mc"].contains(n)));
    let s = &j["algorithms"]["sampler"];
    assert_eq!(s["path"], sampler.display().to_string());
    assert_eq!(
        (
            s["type"].as_str(),
            s["scope"].as_str(),
            s["language"].as_str()
        ),
        (Some("plugin"), Some("project"), Some("python"))
    );
    assert_eq!(s["summary"], "Fixed sampler");
    assert_eq!(s["options"], serde_json::json!({"n": "3", "seed": "1"}));
    assert_eq!(s["require"], serde_json::json!(["json"]));
    assert_eq!(s["metadata"], serde_json::json!({"author": "Tests"}));
    assert_eq!(s["check_status"], "not_checked");
    let m = &j["algorithms"]["mc"];
    assert_eq!(m["path"], mc.display().to_string());
    assert_eq!(
        (m["scope"].as_str(), m["language"].as_str()),
        (Some("home"), Some("R"))
    );

    // A selection that loads fine passes the check, in both languages.
    let out = sb
        .cmd("fzl")
        .args(["-m", "none", "-c", "none", "-a", "samp*,mc", "--check"])
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    assert!(
        stdout.contains(&format!(
            "## Algorithms\n\n### sampler ✓\n- **Type**: plugin (python)\n- **Path**: `{}`\n- **Summary**: Fixed sampler\n- **Options**:\n  - `n` = `3`\n  - `seed` = `1`\n- **Requires**: `json`\n\n### mc ✓\n- **Type**: plugin (R)\n",
            sampler.display()
        )),
        "{stdout}"
    );
    assert_eq!(text(&out.get_output().stderr), "");

    // A broken plugin fails the check: one line naming the file and the
    // missing method, exit 1.
    let out = sb
        .cmd("fzl")
        .args([
            "-m", "none", "-c", "none", "-a", "broken", "--check", "-f", "table",
        ])
        .assert()
        .code(1);
    assert_eq!(
        text(&out.get_output().stderr),
        format!(
            "fzl: check failed: {}: No valid algorithm class found (class Broken lacks get_analysis). \
             Algorithm class must have methods: get_initial_design, get_next_design, get_analysis\n",
            broken.display()
        )
    );
    assert!(
        text(&out.get_output().stdout)
            .contains("=== ALGORITHMS ===\n\nAlgorithm: broken ✗\n  Type: plugin (python)\n"),
        "{}",
        text(&out.get_output().stdout)
    );
}
