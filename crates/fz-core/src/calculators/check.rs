//! `fzl --check` for calculators: is a calculator definition (or URI)
//! usable, without running a case?
//!
//! This module owns the checks and their one-line messages: required keys
//! and their types, URI syntax and scheme, the program and the scripts an
//! `sh://` (or `ssh://`) command names (relative to the project directory,
//! where `fzr` runs them from), whether an `ssh://` host accepts a TCP
//! connection within [`CONNECT_TIMEOUT`], and whether a Funz daemon
//! offering a `funz://` code announces itself on its UDP port. It starts no calculation and no
//! login: the only process it may start is `ssh -G` (which reads the ssh
//! configuration and connects nowhere) to learn the real host and port of
//! an alias from `~/.ssh/config`. Messages never show a password.

use super::alias::uri_of;
use super::resolve::SCHEMES;
use super::uri::{self, redact};
use crate::model::json_type;
use serde_json::{Map, Value as Json};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a TCP connection to an `ssh://` host may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// File name endings that make a command word a script the command needs.
const SCRIPT_SUFFIXES: &[&str] = &[
    ".sh", ".bash", ".zsh", ".ksh", ".csh", ".py", ".R", ".r", ".pl", ".rb", ".jl", ".m", ".lua",
    ".tcl", ".jar", ".js",
];

/// bash builtins and keywords a command may start with (not on `PATH`).
const BUILTINS: &[&str] = &[
    ".", ":", "[", "[[", "alias", "builtin", "cd", "command", "echo", "eval", "exec", "exit",
    "export", "false", "for", "if", "printf", "pwd", "read", "set", "source", "test", "time",
    "true", "type", "ulimit", "umask", "unset", "wait", "while", "until", "case", "{", "(", "!",
];

/// Where checked commands are looked for.
#[derive(Debug, Clone)]
pub struct CheckContext {
    /// The project directory (`fzr` makes command paths absolute against it).
    pub project: PathBuf,
    /// The home directory, to hint at scripts that live under `~` instead.
    pub home: Option<PathBuf>,
    /// Files every case directory holds (input files, `input_static`
    /// names), relative: a command may name them although the project
    /// directory has none (empty for `fzl --check`).
    pub case_files: Vec<String>,
}

/// Problems of a calculator definition read from an alias file (empty when
/// it passes). `def` is the file's JSON.
pub fn check_definition(def: &Json, ctx: &CheckContext) -> Vec<String> {
    let Json::Object(map) = def else {
        return vec![format!(
            "a calculator alias must be a JSON object {{\"uri\": …, \"models\": …}}, got {}",
            json_type(def)
        )];
    };
    let mut problems = Vec::new();
    match (map.get("uri"), map.get("command")) {
        (Some(Json::String(_)), _) => {}
        (Some(other), _) => {
            problems.push(format!("'uri' must be a string, got {}", json_type(other)))
        }
        (None, Some(Json::String(_))) => {}
        (None, _) => problems.push("missing key 'uri' (e.g. \"uri\": \"sh://\")".to_string()),
    }
    let mut model_ids: Vec<Option<String>> = Vec::new();
    match map.get("models") {
        None | Some(Json::Null) => model_ids.push(None),
        Some(Json::Object(m)) => {
            for (id, command) in m {
                if command.is_string() {
                    model_ids.push(Some(id.clone()));
                } else {
                    problems.push(format!(
                        "'models'.'{id}' must be a command string, got {}",
                        json_type(command)
                    ));
                }
            }
            if m.is_empty() {
                model_ids.push(None);
            }
        }
        Some(Json::Array(list)) => {
            if let Some(bad) = list.iter().find(|v| !v.is_string()) {
                problems.push(format!(
                    "'models' must list model ids (strings), found {}",
                    json_type(bad)
                ));
            }
            model_ids.push(None);
        }
        Some(other) => problems.push(format!(
            "'models' must be a map {{model id: command}} or a list of model ids, got {}",
            json_type(other)
        )),
    }
    if !problems.is_empty() {
        return problems;
    }
    // One URI per model command (or the bare URI): each must work.
    let mut uris: Vec<String> = Vec::new();
    for id in &model_ids {
        if let Some(u) = uri_of(map, id.as_deref()) {
            if !uris.contains(&u) {
                uris.push(u);
            }
        }
    }
    let has_commands = matches!(map.get("models"), Some(Json::Object(m)) if !m.is_empty());
    for u in &uris {
        problems.extend(check_uri_inner(u, ctx, has_commands));
    }
    dedup(problems)
}

/// Problems of one calculator URI (as given to `fzl -c` or `fzr -c`).
pub fn check_uri(uri: &str, ctx: &CheckContext) -> Vec<String> {
    dedup(check_uri_inner(uri, ctx, false))
}

/// Problems `fzr` refuses to start with: what [`check_uri`] finds without
/// the network (the program of a local command on `PATH`, the scripts a
/// command names). SSH hosts, SLURM partitions and Funz daemons are left
/// to the run; a URI that does not parse is the calculator builder's
/// error, not this check's.
pub fn check_before_run(text: &str, ctx: &CheckContext) -> Vec<String> {
    let Ok(parsed) = uri::parse(text) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    match parsed.scheme.as_str() {
        "sh" if !parsed.body.trim().is_empty() => {
            check_command(parsed.body.trim(), true, ctx, &mut problems)
        }
        "ssh" => {
            if let Ok((_, command)) =
                super::ssh::target::parse_body(&parsed.body, None, &redact(text))
            {
                if !command.is_empty() {
                    check_command(&command, false, ctx, &mut problems);
                }
            }
        }
        "slurm" => {
            if let Ok(target) = super::slurm::target::SlurmTarget::parse(&parsed, None) {
                let local = target.login.is_none();
                check_command(&target.script, local, ctx, &mut problems);
            }
        }
        _ => {}
    }
    dedup(problems)
}

fn dedup(mut problems: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    problems.retain(|p| {
        let new = !seen.contains(p);
        seen.push(p.clone());
        new
    });
    problems
}

/// `has_model_commands`: the bare URI of a definition whose models give
/// the commands, so an empty `sh://` is expected there.
fn check_uri_inner(text: &str, ctx: &CheckContext, has_model_commands: bool) -> Vec<String> {
    let shown = redact(text);
    let parsed = match uri::parse(text) {
        Ok(p) => p,
        Err(e) => return vec![e.to_string()],
    };
    if !SCHEMES.contains(&parsed.scheme.as_str()) {
        return vec![format!(
            "unsupported calculator scheme '{}' in '{shown}' (supported: {})",
            parsed.scheme,
            SCHEMES.join(", ")
        )];
    }
    let mut problems = Vec::new();
    match parsed.scheme.as_str() {
        "sh" => {
            let command = parsed.body.trim();
            if command.is_empty() {
                if !has_model_commands {
                    problems.push(format!(
                        "'{shown}' has no command: each case would run its input file itself"
                    ));
                }
            } else {
                check_command(command, true, ctx, &mut problems);
            }
        }
        "ssh" => match super::ssh::target::parse_body(&parsed.body, None, &shown) {
            Err(e) => problems.push(e.to_string()),
            Ok((target, command)) => {
                if !command.is_empty() {
                    check_command(&command, false, ctx, &mut problems);
                }
                if let Err(why) = reachable(&target.host, target.port) {
                    problems.push(format!("ssh host {} unreachable: {why}", target.display()));
                }
            }
        },
        "slurm" => check_slurm(&parsed, has_model_commands, ctx, &mut problems),
        "funz" => problems.extend(super::funz::check(&parsed, has_model_commands)),
        // cache:// has no deeper check yet.
        _ => {}
    }
    problems
}

/// `slurm://`: the URI's grammar and options, the script as for `sh://`
/// (local mode) or `ssh://` (remote mode), and then where SLURM answers:
/// locally `sinfo` must list the partition; remotely the SSH host:port
/// must accept a connection (the partition is not looked up there).
fn check_slurm(
    parsed: &uri::CalculatorUri,
    has_model_commands: bool,
    ctx: &CheckContext,
    problems: &mut Vec<String>,
) {
    use super::slurm::host::{CommandHost, LocalHost};
    use super::slurm::target::SlurmTarget;
    // A bare alias URI (`slurm://:debug`) gets its commands from the
    // models: check it with a stand-in script.
    let mut with_script = parsed.clone();
    let no_script = parsed
        .body
        .split_once('/')
        .is_none_or(|(_, script)| script.trim().is_empty());
    if no_script && has_model_commands {
        with_script.body = format!("{}/true", parsed.body.trim_end_matches('/'));
    }
    let target = match SlurmTarget::parse(&with_script, None) {
        Ok(t) => t,
        Err(e) => return problems.push(e.to_string()),
    };
    let local = target.login.is_none();
    if !(no_script && has_model_commands) {
        check_command(&target.script, local, ctx, problems);
    }
    match &target.login {
        Some(login) => {
            if let Err(why) = reachable(&login.host, login.port) {
                problems.push(format!("ssh host {} unreachable: {why}", login.display()));
            }
        }
        None => {
            let args = ["-h", "-o", "%P", "-p", target.partition.as_str()].map(String::from);
            match LocalHost.exec("sinfo", &args, Duration::from_secs(10)) {
                Err(e) => problems.push(e),
                Ok(out) if !out.ok() => problems.push(format!(
                    "sinfo failed (is the SLURM controller running?): {}",
                    out.stderr
                )),
                Ok(out) if out.stdout.trim().is_empty() => problems.push(format!(
                    "SLURM partition '{}' does not exist ('sinfo' lists the partitions)",
                    target.partition
                )),
                Ok(_) => {}
            }
        }
    }
}

/// Checks the program (local commands only) and the scripts a command
/// names. `local`: the command runs here (`sh://`), so its program must be
/// found and absolute script paths must exist; for a remote command only
/// relative scripts are checked (they are sent from the project).
///
/// In each simple command (`a && b | c`), the program is checked, and the
/// first word that looks like a script (`run.sh`, `./tool`) when the
/// program is not one itself: that is what runs; later words are its
/// arguments (`bash run.sh ./data.sh out/next.sh` checks `run.sh` only).
/// Only the first program is looked up on `PATH` (an earlier command may
/// change `PATH` or define a function), and relative paths are not
/// checked after a `cd`.
fn check_command(command: &str, local: bool, ctx: &CheckContext, problems: &mut Vec<String>) {
    let Some(segments) = super::sh::words::command_segments(command) else {
        problems.push(format!("unbalanced quotes in command '{command}'"));
        return;
    };
    let mut moved = false;
    for (k, segment) in segments.iter().enumerate() {
        let mut words = segment
            .iter()
            .copied()
            .skip_while(|w| is_assignment(w))
            .map(plain);
        let Some(program) = words.next() else {
            continue;
        };
        let at = CheckAt { local, moved, ctx };
        check_program(program, k == 0, &at, problems);
        if !looks_like_script(program) && !program.contains('/') {
            if let Some(script) = words.find(|w| looks_like_script(w)) {
                if is_literal(script) && !script.starts_with('-') {
                    at.file(script, "script", problems);
                }
            }
        }
        moved |= matches!(program, "cd" | "pushd" | "popd");
    }
}

/// Where a command's files are looked for: here or remotely, and whether
/// an earlier `cd` makes relative paths unknowable.
struct CheckAt<'a> {
    local: bool,
    moved: bool,
    ctx: &'a CheckContext,
}

impl CheckAt<'_> {
    fn file(&self, word: &str, what: &str, problems: &mut Vec<String>) {
        if !(self.moved && Path::new(word).is_relative()) {
            check_file(word, self.local, what, self.ctx, problems);
        }
    }
}

/// A program given as a path must exist; the first program of a local
/// command must be a builtin, on `PATH` or a project file.
fn check_program(program: &str, first: bool, at: &CheckAt, problems: &mut Vec<String>) {
    if !is_literal(program) {
        // `$TOOL`, quoted or globbed words: known only at run time.
    } else if program.contains('/') {
        at.file(program, "program", problems);
    } else if first
        && at.local
        && !BUILTINS.contains(&program)
        && !on_path(program)
        // `sh://calc.sh`: a word naming a project file is made absolute.
        && !at.ctx.project.join(program).is_file()
    {
        problems.push(format!("program '{program}' not found on PATH"));
    }
}

/// `NAME=value` before a command.
fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A word quoted whole (`"folder with spaces/run.sh"`) names what its
/// inside says; other quoted words are known only at run time.
fn plain(w: &str) -> &str {
    super::sh::words::unquoted(w)
        .filter(|inner| !inner.is_empty())
        .unwrap_or(w)
}

/// A word that names a script to run (`run.sh`, `./tool`).
fn looks_like_script(word: &str) -> bool {
    SCRIPT_SUFFIXES.iter().any(|s| word.ends_with(s)) || word.starts_with("./")
}

/// Whether a word (unquoted already when it was quoted whole) is taken
/// literally (no quotes, expansions, globs or `~`). Spaces can only come
/// from quoting and are literal.
fn is_literal(word: &str) -> bool {
    !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_control() || "'\"\\$`*?[]{}~=".contains(c))
}

fn check_file(word: &str, local: bool, what: &str, ctx: &CheckContext, problems: &mut Vec<String>) {
    let path = Path::new(word);
    if path.is_absolute() {
        if local && !path.exists() {
            problems.push(format!("{what} '{word}' not found"));
        }
        return;
    }
    let in_case = |f: &String| Path::new(f) == path.strip_prefix(".").unwrap_or(path);
    if ctx.project.join(path).exists() || ctx.case_files.iter().any(in_case) {
        return;
    }
    let hint = match &ctx.home {
        Some(home) if home != &ctx.project && home.join(path).exists() => format!(
            " (it exists under {}, but commands run from the project directory)",
            home.display()
        ),
        _ => String::new(),
    };
    problems.push(format!(
        "{what} '{word}' not found in {}{hint}",
        ctx.project.display()
    ));
}

/// Whether `program` is an executable file in `FZ_SHELL_PATH` or `PATH`.
pub(crate) fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let path = crate::config::shell_search_path().or_else(|| std::env::var_os("PATH"));
    let Some(path) = path else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Whether `host:port` (after `~/.ssh/config`, when ssh is installed;
/// port 22 when neither the URI nor the configuration gives one) accepts a
/// TCP connection within [`CONNECT_TIMEOUT`]; the error says why not.
fn reachable(host: &str, port: Option<u16>) -> Result<(), String> {
    let (real_host, real_port) =
        ssh_config_target(host, port).unwrap_or((host.to_string(), port.unwrap_or(22)));
    let addrs: Vec<_> = (real_host.as_str(), real_port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{real_host}': {e}"))?
        .collect();
    let mut last = format!("no address for '{real_host}'");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!(
                    "no answer from {addr} within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )
            }
            Err(e) => last = format!("TCP connection to {addr} failed: {e}"),
        }
    }
    Err(last)
}

/// The host name and port ssh would connect to for `host` (resolving
/// `Host` aliases of `~/.ssh/config`), from `ssh -G` with the program and
/// options fz's ssh calculator uses (`FZ_SSH_PROGRAM`, `FZ_SSH_OPTIONS`);
/// `None` when ssh is not installed or says nothing useful.
fn ssh_config_target(host: &str, port: Option<u16>) -> Option<(String, u16)> {
    let settings = super::ssh::session::SshSettings::from_env();
    let out = std::process::Command::new(&settings.program)
        .arg("-G")
        .args(&settings.extra_options)
        // A port given on the command line would hide the configuration's.
        .args(
            port.map(|p| ["-p".to_string(), p.to_string()])
                .into_iter()
                .flatten(),
        )
        .arg(host)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
    };
    let real_host = value("hostname ").filter(|h| !h.is_empty())?;
    let real_port = value("port ")
        .and_then(|p| p.parse().ok())
        .or(port)
        .unwrap_or(22);
    Some((real_host, real_port))
}

/// A definition's `models` map as (model id, command) pairs, for listings.
pub fn model_commands(def: &Map<String, Json>) -> Vec<(String, String)> {
    match def.get("models") {
        Some(Json::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|c| (k.clone(), c.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn ctx(dir: &Path) -> CheckContext {
        CheckContext {
            project: dir.to_path_buf(),
            home: None,
            case_files: Vec::new(),
        }
    }

    fn json(text: &str) -> Json {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn keys_and_types() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(d.path());
        assert_eq!(
            check_definition(&json(r#"{"models": {"m": "bash x.sh"}}"#), &c),
            ["missing key 'uri' (e.g. \"uri\": \"sh://\")"]
        );
        assert_eq!(
            check_definition(&json(r#"{"uri": 3}"#), &c),
            ["'uri' must be a string, got int"]
        );
        assert_eq!(
            check_definition(&json(r#"[1]"#), &c),
            ["a calculator alias must be a JSON object {\"uri\": …, \"models\": …}, got list"]
        );
        assert_eq!(
            check_definition(&json(r#"{"uri": "sh://", "models": "m"}"#), &c),
            ["'models' must be a map {model id: command} or a list of model ids, got str"]
        );
        assert_eq!(
            check_definition(&json(r#"{"uri": "sh://", "models": {"m": 1}}"#), &c),
            ["'models'.'m' must be a command string, got int"]
        );
        assert_eq!(
            check_definition(&json(r#"{"uri": "docker://x"}"#), &c),
            ["unsupported calculator scheme 'docker' in 'docker://x' (supported: sh, ssh, cache, slurm, funz)"]
        );
        assert_eq!(
            check_definition(&json(r#"{"uri": "sh://"}"#), &c),
            ["'sh://' has no command: each case would run its input file itself"]
        );
        assert!(check_definition(&json(r#"{"command": "sh://true"}"#), &c).is_empty());
    }

    #[test]
    fn a_project_file_or_a_case_file_is_found_before_a_run() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("calc.sh"), "true").unwrap();
        let mut c = ctx(d.path());
        // `sh://calc.sh` runs the project's file (made absolute).
        assert!(check_before_run("sh://calc.sh", &c).is_empty());
        assert_eq!(
            check_before_run("sh://bash run.sh", &c),
            [format!(
                "script 'run.sh' not found in {}",
                d.path().display()
            )]
        );
        c.case_files = vec!["run.sh".into()];
        assert!(check_before_run("sh://bash ./run.sh", &c).is_empty());
        // Hosts are not contacted before a run.
        assert!(check_before_run("ssh://nobody@127.0.0.1:1/bash calc.sh", &c).is_empty());
    }

    #[test]
    fn a_script_quoted_whole_is_checked_by_its_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("folder with spaces")).unwrap();
        std::fs::write(d.path().join("folder with spaces/run.sh"), "true").unwrap();
        let c = ctx(d.path());
        assert!(check_before_run(r#"sh://bash "folder with spaces/run.sh""#, &c).is_empty());
        assert!(check_before_run("sh://bash 'folder with spaces/run.sh'", &c).is_empty());
        assert_eq!(
            check_before_run(r#"sh://bash "folder with spaces/gone.sh""#, &c),
            [format!(
                "script 'folder with spaces/gone.sh' not found in {}",
                d.path().display()
            )]
        );
        // Known only when the shell expands it: not checked.
        assert!(check_before_run(r#"sh://bash "$HOME/gone.sh""#, &c).is_empty());
    }

    #[test]
    fn only_the_script_that_runs_is_checked() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("multi.sh"), "true").unwrap();
        let c = ctx(d.path());
        let root = d.path().display();
        // Later words are the script's arguments, whatever they look like.
        assert!(check_before_run("sh://bash ./multi.sh ./helper.sh sub/gone.sh", &c).is_empty());
        assert!(check_before_run("sh://./multi.sh data.sh", &c).is_empty());
        // Each command of a line runs its own script or program.
        assert_eq!(
            check_before_run("sh://echo 'test' && ./gone.sh", &c),
            [format!("program './gone.sh' not found in {root}")]
        );
        assert_eq!(
            check_before_run("sh://bash multi.sh | timeout 5 python3 gone.py", &c),
            [format!("script 'gone.py' not found in {root}")]
        );
        // After a cd, relative paths are not known before the run.
        assert!(check_before_run("sh://cd sub && bash ./run.sh", &c).is_empty());
    }

    #[test]
    fn programs_and_scripts_must_exist() {
        let d = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".fz/calculators")).unwrap();
        std::fs::write(d.path().join(".fz/calculators/ok.sh"), "true").unwrap();
        std::fs::write(home.path().join("away.sh"), "true").unwrap();
        let c = CheckContext {
            project: d.path().to_path_buf(),
            home: Some(home.path().to_path_buf()),
            case_files: Vec::new(),
        };
        let def = json(
            r#"{"uri": "sh://", "models": {"a": "bash .fz/calculators/ok.sh", "b": "bash missing.sh --x 1", "c": "FOO=1 no_such_program_fz input", "d": "bash away.sh", "e": "cd /tmp && echo $HOME > out.txt", "f": "bash 'quoted.sh'"}}"#,
        );
        let root = d.path().display();
        assert_eq!(
            check_definition(&def, &c),
            [
                format!("script 'missing.sh' not found in {root}"),
                "program 'no_such_program_fz' not found on PATH".to_string(),
                format!(
                    "script 'away.sh' not found in {root} (it exists under {}, but commands run from the project directory)",
                    home.path().display()
                ),
                format!("script 'quoted.sh' not found in {root}"),
            ]
        );
        assert_eq!(
            check_uri("sh:///no/such/fz/prog x", &c),
            ["program '/no/such/fz/prog' not found"]
        );
        assert_eq!(
            check_uri("sh://bash 'unclosed", &c),
            ["unbalanced quotes in command 'bash 'unclosed'"]
        );
    }

    #[test]
    fn ssh_hosts_must_accept_a_connection() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(d.path());
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = open.local_addr().unwrap().port();
        assert!(check_uri(&format!("ssh://u@127.0.0.1:{port}/bash /opt/run.sh"), &c).is_empty());
        // A port nobody listens on: bind, note it, close.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let problems = check_uri(&format!("ssh://u:secret@127.0.0.1:{closed_port}/x"), &c);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(&format!(
                "ssh host u:***@127.0.0.1:{closed_port} unreachable: TCP connection to 127.0.0.1:{closed_port} failed:"
            )),
            "{problems:?}"
        );
        assert!(!problems[0].contains("secret"));
        // A relative script of a remote command is sent from the project.
        let problems = check_uri(&format!("ssh://127.0.0.1:{port}/bash run.sh"), &c);
        assert_eq!(
            problems,
            [format!(
                "script 'run.sh' not found in {}",
                d.path().display()
            )]
        );
    }
}
