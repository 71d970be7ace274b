//! `fz install` / `fz uninstall` / `fz list models|algorithms|calculators`
//! through the real binary, against a local HTTP server (127.0.0.1, port
//! chosen by the OS) serving zips built here: every source form, GitHub's
//! `main` → `master` fallback, `--global`, reinstall, uninstall of exactly
//! the recorded files, zip-slip and zip-bomb archives, download errors,
//! and a study run with the installed model and calculator.

mod common;
use common::{success_rows, Sandbox};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use zip::write::SimpleFileOptions;

/// A file server on 127.0.0.1: path → bytes, 404 for anything else; it
/// records the paths asked for.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(files: HashMap<String, Vec<u8>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Skip the headers.
                let mut h = String::new();
                while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(path.clone());
                let _ = match files.get(&path) {
                    Some(body) => write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .and_then(|()| stream.write_all(body)),
                    None => write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
                    ),
                };
            }
        });
        Server { port, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A zip of `(name, content, unix mode)` entries.
fn zip_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, mode) in entries {
        w.start_file(*name, SimpleFileOptions::default().unix_permissions(*mode))
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const MODEL: &str = r##"{"id": "PerfectGas", "varprefix": "$", "formulaprefix": "@", "delim": "{}",
 "commentline": "#", "output": {"pressure": "grep 'pressure = ' output.txt | awk '{print $3}'"}}"##;
const ALIAS: &str =
    r#"{"uri": "sh://", "models": {"PerfectGas": "bash .fz/calculators/PerfectGas.sh"}}"#;
/// The wrapper script: pressure = 2 * x of the case's input.
const SCRIPT: &str = "#!/bin/bash\nx=$(grep -o 'x=[0-9.]*' \"$1\" | cut -d= -f2)\necho \"pressure = $((x * 2))\" > output.txt\n";

/// A model repository in GitHub's layout (`<top>/...`): a model, its
/// calculator alias, a wrapper script (not executable in the zip), and a
/// stray `examples/model.json` that must not be installed.
fn model_repo(top: &str) -> Vec<u8> {
    zip_of(&[
        (
            &format!("{top}/.fz/models/PerfectGas.json"),
            MODEL.as_bytes(),
            0o644,
        ),
        (
            &format!("{top}/.fz/calculators/localhost_PerfectGas.json"),
            ALIAS.as_bytes(),
            0o644,
        ),
        (
            &format!("{top}/.fz/calculators/PerfectGas.sh"),
            SCRIPT.as_bytes(),
            0o644,
        ),
        (
            &format!("{top}/examples/model.json"),
            br#"{"id": "Example"}"#,
            0o644,
        ),
        (&format!("{top}/README.md"), b"# fz-pgas", 0o644),
    ])
}

/// An algorithm repository without `.fz/algorithms`: one top-level
/// algorithm among packaging, test, docs and helper files.
fn algorithm_repo() -> Vec<u8> {
    zip_of(&[
        ("fz-brent-main/brent.py", b"class Brent:\n    pass\n", 0o644),
        ("fz-brent-main/setup.py", b"", 0o644),
        ("fz-brent-main/test_brent.py", b"", 0o644),
        ("fz-brent-main/docs/conf.py", b"", 0o644),
        ("fz-brent-main/helpers/util.py", b"", 0o644),
    ])
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `fz ARGS` in `dir` (below the sandbox) with the GitHub base pointed at
/// the server and no proxy.
fn fz(sb: &Sandbox, dir: &str, server: &Server, args: &[&str]) -> std::process::Output {
    let cwd = sb.path().join(dir);
    std::fs::create_dir_all(&cwd).unwrap();
    let mut c = sb.cmd("fz");
    c.current_dir(&cwd)
        .env("FZ_GITHUB_ARCHIVE_BASE", server.url("/gh"))
        .args(args);
    for v in [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    c.output().unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "stderr: {}", stderr(o));
    stdout(o)
}

fn served(files: &[(&str, Vec<u8>)]) -> Server {
    Server::start(
        files
            .iter()
            .map(|(p, b)| (p.to_string(), b.clone()))
            .collect(),
    )
}

#[test]
fn every_source_form_installs_the_model_and_records_it() {
    let zip = model_repo("fz-pgas-main");
    let server = served(&[
        ("/gh/Funz/fz-pgas/archive/refs/heads/main.zip", zip.clone()),
        ("/gh/me/fz-pgas/archive/refs/heads/master.zip", zip.clone()),
        ("/gh/me/fz-pgas/archive/v1.zip", zip.clone()),
        ("/files/pgas.zip", zip.clone()),
        ("/files/plain", zip.clone()),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.path().join("pgas.zip"), &zip).unwrap();
    // A checkout: the same files as a directory.
    for (rel, text) in [
        (".fz/models/PerfectGas.json", MODEL),
        (".fz/calculators/localhost_PerfectGas.json", ALIAS),
        (".fz/calculators/PerfectGas.sh", SCRIPT),
    ] {
        sb.write(&format!("checkout/{rel}"), text);
    }
    let plain_url = server.url("/files/plain");
    let zip_url = server.url("/files/pgas.zip");
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("pgas", Some("main")),
        ("fz-pgas", Some("main")),
        ("Funz/fz-pgas", Some("main")),
        ("https://github.com/Funz/fz-pgas", Some("main")),
        ("https://github.com/Funz/fz-pgas.git", Some("main")),
        ("me/fz-pgas", Some("master")),
        ("me/fz-pgas@v1", Some("v1")),
        (&zip_url, None),
        (&plain_url, None),
        ("../pgas.zip", None),
        ("../checkout", None),
    ];
    for (i, (source, reference)) in cases.iter().enumerate() {
        let dir = format!("p{i}");
        let out = ok(&fz(&sb, &dir, &server, &["install", "model", source]));
        assert!(
            out.starts_with(
                "Successfully installed model 'PerfectGas'\n  Installed 2 additional files from .fz subdirectories\n"
            ),
            "{source}: {out}"
        );
        let fzdir = sb.path().join(&dir).join(".fz");
        assert_eq!(
            tree(&fzdir),
            [
                "calculators/PerfectGas.sh",
                "calculators/localhost_PerfectGas.json",
                "installed.json",
                "models/PerfectGas.json"
            ],
            "{source}: the stray examples/model.json is not installed"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(fzdir.join("calculators/PerfectGas.sh"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o755, "{source}: script made executable");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fzdir.join("installed.json")).unwrap())
                .unwrap();
        let entry = &manifest["installs"][0];
        assert_eq!(entry["source"], *source);
        assert_eq!(entry["kind"], "model");
        assert_eq!(entry["names"], serde_json::json!(["PerfectGas"]));
        assert_eq!(entry["ref"].as_str(), *reference, "{source}");
        assert_eq!(
            entry["files"],
            serde_json::json!([
                "models/PerfectGas.json",
                "calculators/PerfectGas.sh",
                "calculators/localhost_PerfectGas.json"
            ])
        );
        assert!(entry["date"].as_str().unwrap().ends_with('Z'));
        if *source == "../checkout" {
            assert!(entry["sha256"].is_null());
            assert!(!out.contains("SHA-256"));
        } else {
            assert_eq!(entry["sha256"].as_str(), Some(sha256(&zip).as_str()));
            assert!(
                out.contains(&format!("  SHA-256: {}\n", sha256(&zip))),
                "{out}"
            );
        }
    }
    let asked = server.requests();
    let main_then_master = [
        "/gh/me/fz-pgas/archive/refs/heads/main.zip",
        "/gh/me/fz-pgas/archive/refs/heads/master.zip",
    ];
    assert!(
        asked.windows(2).any(|w| w == main_then_master),
        "main tried before master: {asked:?}"
    );
}

#[test]
fn global_installs_go_to_the_private_home_and_project_entries_shadow_them() {
    let server = served(&[(
        "/gh/Funz/fz-pgas/archive/refs/heads/main.zip",
        model_repo("fz-pgas-main"),
    )]);
    let sb = Sandbox::new();
    let out = ok(&fz(
        &sb,
        "p",
        &server,
        &["install", "model", "pgas", "--global"],
    ));
    assert!(
        out.starts_with("Successfully installed model 'PerfectGas'"),
        "{out}"
    );
    let home = sb.path().join("home/.fz");
    assert!(home.join("models/PerfectGas.json").is_file());
    assert!(home.join("calculators/PerfectGas.sh").is_file());
    assert!(!sb.path().join("p/.fz").exists(), "nothing in the project");

    let list = |args: &[&str]| -> serde_json::Value {
        serde_json::from_str(&ok(&fz(&sb, "p", &server, args))).unwrap()
    };
    let j = list(&["list", "models", "-f", "json"]);
    assert_eq!(j["models"]["PerfectGas"]["scope"], "home");
    assert_eq!(j.as_object().unwrap().len(), 1, "models only");
    ok(&fz(&sb, "p", &server, &["install", "model", "pgas"]));
    let j = list(&["list", "models", "-f", "json"]);
    assert_eq!(j["models"]["PerfectGas"]["scope"], "project");
    assert_eq!(
        j["models"]["PerfectGas"]["path"],
        sb.path()
            .join("p/.fz/models/PerfectGas.json")
            .display()
            .to_string()
    );
    let j = list(&["list", "models", "--global", "-f", "json"]);
    assert_eq!(j["models"]["PerfectGas"]["scope"], "home");
    let j = list(&["list", "calculators", "--global", "-f", "json"]);
    assert_eq!(
        j["calculators"]["localhost_PerfectGas"]["path"],
        home.join("calculators/localhost_PerfectGas.json")
            .display()
            .to_string()
    );
    let md = ok(&fz(&sb, "p", &server, &["list", "models"]));
    assert!(
        md.starts_with("# Models\n\n### PerfectGas\n- **Path**: `"),
        "{md}"
    );

    let out = ok(&fz(
        &sb,
        "p",
        &server,
        &["uninstall", "model", "PerfectGas", "--global"],
    ));
    assert_eq!(
        out,
        "Successfully uninstalled model 'PerfectGas' from ~/.fz/models/\n  Removed 3 files\n"
    );
    assert_eq!(tree(&home), ["installed.json"]);
    assert!(
        sb.path().join("p/.fz/models/PerfectGas.json").is_file(),
        "project kept"
    );
}

#[test]
fn reinstall_then_uninstall_removes_exactly_the_recorded_files() {
    let sb = Sandbox::new();
    let v1 = model_repo("fz-pgas-main");
    std::fs::write(sb.path().join("v1.zip"), &v1).unwrap();
    // Version 2 has a helper script more.
    let v2 = zip_of(&[
        (
            "fz-pgas-main/.fz/models/PerfectGas.json",
            MODEL.as_bytes(),
            0o644,
        ),
        (
            "fz-pgas-main/.fz/calculators/localhost_PerfectGas.json",
            ALIAS.as_bytes(),
            0o644,
        ),
        (
            "fz-pgas-main/.fz/calculators/PerfectGas.sh",
            SCRIPT.as_bytes(),
            0o755,
        ),
        (
            "fz-pgas-main/.fz/calculators/lib/common.sh",
            b"true\n",
            0o644,
        ),
    ]);
    std::fs::write(sb.path().join("v2.zip"), &v2).unwrap();
    let server = served(&[]);
    sb.write("p/.fz/calculators/mine.json", r#"{"uri": "sh://"}"#);
    ok(&fz(&sb, "p", &server, &["install", "model", "../v1.zip"]));
    let out = ok(&fz(&sb, "p", &server, &["install", "model", "../v2.zip"]));
    assert!(out.contains("Installed 3 additional files"), "{out}");
    let fzdir = sb.path().join("p/.fz");
    assert!(fzdir.join("calculators/lib/common.sh").is_file());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fzdir.join("installed.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["installs"].as_array().unwrap().len(),
        1,
        "replaced, not added"
    );
    assert_eq!(
        manifest["installs"][0]["sha256"].as_str(),
        Some(sha256(&v2).as_str())
    );

    let out = ok(&fz(
        &sb,
        "p",
        &server,
        &["uninstall", "model", "PerfectGas"],
    ));
    assert_eq!(
        out,
        "Successfully uninstalled model 'PerfectGas' from ./.fz/models/\n  Removed 4 files\n"
    );
    assert_eq!(tree(&fzdir), ["calculators/mine.json", "installed.json"]);
    assert!(!fzdir.join("calculators/lib").exists());

    let again = fz(&sb, "p", &server, &["uninstall", "model", "PerfectGas"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        "fz: error: Model 'PerfectGas' not found in ./.fz/models/\n"
    );
}

#[test]
fn a_file_of_another_plugin_is_never_silently_replaced() {
    let sb = Sandbox::new();
    let server = served(&[]);
    std::fs::write(sb.path().join("pgas.zip"), model_repo("fz-pgas-main")).unwrap();
    let other = zip_of(&[
        (
            "fz-other-main/.fz/models/Other.json",
            br#"{"id": "Other"}"#,
            0o644,
        ),
        (
            "fz-other-main/.fz/calculators/PerfectGas.sh",
            b"echo other\n",
            0o644,
        ),
    ]);
    std::fs::write(sb.path().join("other.zip"), other).unwrap();
    ok(&fz(&sb, "p", &server, &["install", "model", "../pgas.zip"]));
    let out = fz(&sb, "p", &server, &["install", "model", "../other.zip"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "fz: error: '.fz/calculators/PerfectGas.sh' of '../other.zip' would replace {} (installed from '../pgas.zip'); uninstall or remove it first\n",
            sb.path().join("p/.fz/calculators/PerfectGas.sh").display()
        )
    );
    assert!(
        !sb.path().join("p/.fz/models/Other.json").exists(),
        "nothing written"
    );
    assert_eq!(sb.read("p/.fz/calculators/PerfectGas.sh"), SCRIPT);
}

#[test]
fn zip_slip_and_zip_bomb_archives_are_refused_with_nothing_written() {
    let sb = Sandbox::new();
    let slip = zip_of(&[
        ("fz-x-main/.fz/models/X.json", br#"{"id": "X"}"#, 0o644),
        ("fz-x-main/../../evil.sh", b"echo pwned\n", 0o755),
    ]);
    // 20 entries of 16 MiB of zeros (320 MiB, over the 256 MiB cap) that
    // compress to a few hundred KiB: compressed once, copied raw.
    let bomb = {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_level(Some(6));
        w.start_file("fz-b-main/.fz/models/B.json", options)
            .unwrap();
        w.write_all(br#"{"id": "B"}"#).unwrap();
        w.start_file("fz-b-main/data/zero0", options).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..16 {
            w.write_all(&chunk).unwrap();
        }
        let bytes = w.finish().unwrap().into_inner();
        let mut r = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.raw_copy_file(r.by_index(0).unwrap()).unwrap();
        for i in 0..20 {
            w.raw_copy_file_rename(r.by_index(1).unwrap(), format!("fz-b-main/data/zero{i}"))
                .unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    assert!(
        bomb.len() < 2 << 20,
        "a small archive: {} bytes",
        bomb.len()
    );
    let server = served(&[("/slip.zip", slip.clone()), ("/bomb.zip", bomb.clone())]);
    std::fs::write(sb.path().join("slip.zip"), &slip).unwrap();
    let slip_url = server.url("/slip.zip");
    let bomb_url = server.url("/bomb.zip");
    for source in [slip_url.as_str(), "../slip.zip"] {
        let out = fz(&sb, "p", &server, &["install", "model", source]);
        assert_eq!(out.status.code(), Some(1), "{source}");
        let err = stderr(&out);
        assert!(
            err.contains(": entry 'fz-x-main/../../evil.sh' would be written outside the target directory; archive refused\n"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let out = fz(&sb, "p", &server, &["install", "algorithm", &bomb_url]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(": expands to more than 256 MiB at entry 'fz-b-main/data/zero15' (zip bomb?); archive refused\n"),
        "{err}"
    );
    assert!(
        !sb.path().join("p/.fz").exists(),
        "nothing written in the project"
    );
    assert!(!sb.path().join("evil.sh").exists() && !sb.path().join("p/evil.sh").exists());
}

#[test]
fn download_errors_are_one_line_naming_the_url() {
    let sb = Sandbox::new();
    let server = served(&[]);
    let missing = server.url("/nothere.zip");
    let out = fz(&sb, "p", &server, &["install", "model", &missing]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("fz: error: cannot download {missing}: HTTP 404 Not Found\n")
    );
    let out = fz(&sb, "p", &server, &["install", "algorithm", "nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "fz: error: cannot download {}, {}: HTTP 404 Not Found (no branch 'main' nor 'master')\n",
            server.url("/gh/Funz/fz-nothing/archive/refs/heads/main.zip"),
            server.url("/gh/Funz/fz-nothing/archive/refs/heads/master.zip")
        )
    );
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}/x.zip", l.local_addr().unwrap().port())
    };
    let out = fz(&sb, "p", &server, &["install", "model", &closed]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("fz: error: cannot download {closed}: connection refused\n")
    );
    let out = fz(&sb, "p", &server, &["install", "model", "missing.zip"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "fz: error: install: no such file or directory: {}\n",
            sb.path().join("p/missing.zip").display()
        )
    );
    let out = fz(&sb, "p", &server, &["install"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!sb.path().join("p/.fz").exists());
}

#[test]
fn algorithms_install_list_and_uninstall() {
    let with_fz = zip_of(&[
        ("fz-mc-main/.fz/algorithms/montecarlo.R", b"# R\n", 0o644),
        ("fz-mc-main/.fz/algorithms/montecarlo.py", b"# py\n", 0o644),
        ("fz-mc-main/other.py", b"", 0o644),
    ]);
    let server = served(&[
        (
            "/gh/Funz/fz-brent/archive/refs/heads/main.zip",
            algorithm_repo(),
        ),
        ("/mc.zip", with_fz),
    ]);
    let sb = Sandbox::new();
    let out = ok(&fz(&sb, "p", &server, &["install", "algorithm", "brent"]));
    assert!(
        out.starts_with("Successfully installed algorithm 'brent'\n  From: "),
        "{out}"
    );
    let out = ok(&fz(
        &sb,
        "p",
        &server,
        &["install", "algorithm", &server.url("/mc.zip"), "--global"],
    ));
    assert!(
        out.starts_with("Successfully installed algorithm 'montecarlo'\n  Installed 2 files\n"),
        "{out}"
    );
    let fzdir = sb.path().join("p/.fz");
    assert_eq!(tree(&fzdir), ["algorithms/brent.py", "installed.json"]);
    assert_eq!(
        tree(&sb.path().join("home/.fz/algorithms")),
        ["montecarlo.R", "montecarlo.py"]
    );
    let j: serde_json::Value = serde_json::from_str(&ok(&fz(
        &sb,
        "p",
        &server,
        &["list", "algorithms", "-f", "json"],
    )))
    .unwrap();
    assert_eq!(j["algorithms"]["brent"]["scope"], "project");
    assert_eq!(j["algorithms"]["brent"]["type"], "Python");
    assert_eq!(j["algorithms"]["montecarlo"]["scope"], "home");
    let table = ok(&fz(
        &sb,
        "p",
        &server,
        &["list", "algorithms", "--global", "-f", "table"],
    ));
    assert!(
        table.starts_with("\n=== ALGORITHMS ===\n\nAlgorithm: montecarlo\n"),
        "{table}"
    );
    assert!(!table.contains("brent"));

    let out = ok(&fz(
        &sb,
        "p",
        &server,
        &["uninstall", "algorithm", "montecarlo", "--global"],
    ));
    assert_eq!(
        out,
        "Successfully uninstalled algorithm 'montecarlo' from ~/.fz/algorithms/\n  Removed 2 files\n"
    );
    let out = ok(&fz(&sb, "p", &server, &["uninstall", "algorithm", "brent"]));
    assert_eq!(
        out,
        "Successfully uninstalled algorithm 'brent' from ./.fz/algorithms/\n"
    );
    assert_eq!(tree(&fzdir), ["installed.json"]);
    let out = fz(&sb, "p", &server, &["uninstall", "algorithm", "brent"]);
    assert_eq!(
        stderr(&out),
        "fz: error: Algorithm 'brent' not found in ./.fz/algorithms/\n"
    );
}

#[test]
fn an_installed_model_and_its_calculator_run_a_study() {
    let server = served(&[(
        "/gh/Funz/fz-pgas/archive/refs/heads/main.zip",
        model_repo("fz-pgas-main"),
    )]);
    let sb = Sandbox::new();
    ok(&fz(&sb, "study", &server, &["install", "model", "pgas"]));
    sb.write("study/input.txt", "x=${x}\n");
    let out = sb
        .cmd("fzr")
        .current_dir(sb.path().join("study"))
        .args([
            "input.txt",
            "-m",
            "PerfectGas",
            "-v",
            r#"{"x": [1, 2, 3]}"#,
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    let rows = success_rows(&out);
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["x"].to_string(),
                r["pressure"].to_string(),
                r["calculator"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let calc = "sh://bash .fz/calculators/PerfectGas.sh".to_string();
    assert_eq!(
        got,
        [
            ("1".into(), "2".into(), calc.clone()),
            ("2".into(), "4".into(), calc.clone()),
            ("3".into(), "6".into(), calc)
        ]
    );
    assert!(sb.path().join("study/results/x=3/output.txt").is_file());
}

/// An algorithm installed from a repository is found by name by `fzd`, in
/// the project and, once installed with `--global`, from another directory.
#[test]
fn an_installed_algorithm_runs_under_fzd_by_name() {
    let plugin = br#"#options: n=3
class Halving:
    def __init__(self, **options):
        self.n = int(options['n'])
    def get_initial_design(self, input_vars, output_vars):
        lo, hi = input_vars['x']
        return [{'x': lo + (hi - lo) / 2 ** k} for k in range(1, self.n + 1)]
    def get_next_design(self, X, Y):
        return []
    def get_analysis(self, X, Y):
        return {'text': 'best=%g' % min(Y), 'data': {'best': min(Y)}}
"#;
    let repo = zip_of(&[("fz-halving-main/.fz/algorithms/halving.py", plugin, 0o644)]);
    let server = served(&[("/gh/Funz/fz-halving/archive/refs/heads/main.zip", repo)]);
    let sb = Sandbox::new();
    let study = |dir: &str| {
        sb.write(&format!("{dir}/input.txt"), "x = $x\n");
        sb.write(
            &format!("{dir}/model.json"),
            r#"{"varprefix": "$", "output": {"x2": "awk '{print $3 * 2}' input.txt"}}"#,
        );
        sb.cmd("fzd")
            .current_dir(sb.path().join(dir))
            .args([
                "-i",
                "input.txt",
                "-m",
                "model.json",
                "-e",
                "x2",
                "-a",
                "halving",
            ])
            .args([
                "-v",
                r#"{"x": "[0;8]"}"#,
                "-c",
                "sh://true",
                "--no-progress",
            ])
            .output()
            .unwrap()
    };
    ok(&fz(&sb, "p", &server, &["install", "algorithm", "halving"]));
    let out = study("p");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("halving completed: 1 iterations, 3 evaluations (3 valid)"),
        "{text}"
    );
    assert!(
        text.contains("best=2"),
        "x = 1 (x2 = 2) is the smallest: {text}"
    );
    let elsewhere = study("q");
    assert_eq!(elsewhere.status.code(), Some(1), "not installed for q");
    assert!(
        stderr(&elsewhere).contains("Algorithm file not found"),
        "{}",
        stderr(&elsewhere)
    );
    ok(&fz(
        &sb,
        "p",
        &server,
        &["install", "algorithm", "halving", "--global"],
    ));
    assert_eq!(study("q").status.code(), Some(0));
}
