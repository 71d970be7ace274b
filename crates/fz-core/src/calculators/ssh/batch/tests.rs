use super::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Barrier;
use std::time::Duration;

// ---------------------------------------------------------------------------
// Group commit

#[test]
fn concurrent_callers_share_few_batches_and_each_gets_its_own_result() {
    let batcher: Batcher<u32, Result<u32, String>> = Batcher::new(8, u64::MAX);
    let sizes = Mutex::new(Vec::new());
    let start = Barrier::new(40);
    let results: Vec<(u32, Result<u32, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40u32)
            .map(|i| {
                let (batcher, sizes, start) = (&batcher, &sizes, &start);
                s.spawn(move || {
                    start.wait();
                    let r = batcher.submit(
                        i,
                        1,
                        |items: Vec<u32>| {
                            sizes.lock().unwrap().push(items.len());
                            std::thread::sleep(Duration::from_millis(30));
                            items
                                .into_iter()
                                .map(|i| {
                                    if i % 7 == 3 {
                                        Err(format!("case {i} failed"))
                                    } else {
                                        Ok(i * 10)
                                    }
                                })
                                .collect()
                        },
                        || Err("lost".to_string()),
                    );
                    (i, r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, r) in results {
        if i % 7 == 3 {
            assert_eq!(r, Err(format!("case {i} failed")));
        } else {
            assert_eq!(r, Ok(i * 10));
        }
    }
    let sizes = sizes.into_inner().unwrap();
    assert_eq!(sizes.iter().sum::<usize>(), 40);
    assert!(sizes.iter().all(|n| *n <= 8), "{sizes:?}");
    // 40 callers arriving together: the first batch goes at once, the
    // others fill batches of 8 while it runs.
    assert!(sizes.len() <= 10, "{sizes:?}");
}

#[test]
fn an_idle_batcher_runs_a_lone_item_at_once_in_the_callers_thread() {
    let batcher: Batcher<&str, String> = Batcher::new(4, 10);
    let me = std::thread::current().id();
    let r = batcher.submit(
        "a",
        100,
        |items| {
            assert_eq!(std::thread::current().id(), me);
            items.iter().map(|s| s.to_uppercase()).collect()
        },
        || "lost".to_string(),
    );
    assert_eq!(r, "A");
    // A short answer: the item without a result is told so.
    let r = batcher.submit("b", 1, |_| Vec::new(), || "lost".to_string());
    assert_eq!(r, "lost");
}

#[test]
fn batches_respect_the_count_and_weight_bounds() {
    let batcher: Batcher<u64, ()> = Batcher::new(3, 10);
    let mut line = batcher.lock();
    for (id, w) in [6u64, 3, 6, 20, 1, 1, 1, 1].into_iter().enumerate() {
        line.waiting.push_back((id as u64, w, w));
    }
    let mut batches = Vec::new();
    while !line.waiting.is_empty() {
        batches.push(batcher.take(&mut line).1);
    }
    assert_eq!(
        batches,
        vec![vec![6, 3], vec![6], vec![20], vec![1, 1, 1], vec![1]]
    );
}

#[test]
fn a_batch_that_panics_fails_its_items_and_frees_the_line() {
    let batcher: Batcher<u32, Result<u32, String>> = Batcher::new(4, u64::MAX);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        batcher.submit(1, 1, |_| panic!("boom"), || Err("lost".to_string()))
    }));
    assert!(panicked.is_err());
    let r = batcher.submit(
        2,
        1,
        |items| items.into_iter().map(Ok).collect(),
        || Err("lost".to_string()),
    );
    assert_eq!(r, Ok(2));
}

// ---------------------------------------------------------------------------
// Upload

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// Runs a remote script locally with `home` as `$HOME`, `input` on stdin.
fn run_script(script: &str, home: &Path, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("fz-ssh")
        .args(args)
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn one_archive_sends_every_case_to_its_place_with_modes_links_and_extra_files() {
    let local = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let (a, b, c, d) = (
        local.path().join("x=1"),
        local.path().join("x=2"),
        local.path().join("x=3"),
        local.path().join("x=4"),
    );
    write(&a.join("input.txt"), "x=1\n", 0o644);
    write(&a.join("run.sh"), "#!/bin/sh\n", 0o755);
    write(&a.join("sub/deep/data.txt"), "deep\n", 0o600);
    std::fs::create_dir_all(a.join("empty")).unwrap();
    std::os::unix::fs::symlink("input.txt", a.join("link")).unwrap();
    write(&b.join("input.txt"), "x=2\n", 0o644);
    write(&c.join("input.txt"), "x=3\n", 0o644);
    write(&d.join("new.txt"), "new\n", 0o644);
    let launch = local.path().join("launch");
    write(&launch.join("scripts/calc.sh"), "echo calc\n", 0o755);
    // Case 3's place cannot be created (its parent is a file); case 4's
    // place exists already (merged into).
    write(&home.path().join("blocker"), "", 0o644);
    write(&home.path().join(".fz/tmp/d4/old.txt"), "old\n", 0o644);
    let extra = vec!["scripts/calc.sh".to_string()];
    let job = |dir: &Path, extra: &[String], remote: &str| {
        let upload = Upload {
            dir,
            extra_base: &launch,
            extra_files: extra,
        };
        UploadJob::new(&upload, &RemoteDir::at(remote)).unwrap()
    };
    let jobs = vec![
        job(&a, &extra, ".fz/tmp/d1"),
        job(&b, &[], ".fz/tmp/d2"),
        job(&c, &[], "blocker/d3"),
        job(&d, &[], ".fz/tmp/d4"),
    ];
    assert_eq!(jobs[0].bytes, 4 + 10 + 5 + 9 + 10);
    let mut archive = Vec::new();
    let failed = write_upload(&mut archive, &jobs).unwrap();
    assert_eq!(failed, vec![None; 4]);
    let args = [
        ".fz/tmp/up1",
        ".fz/tmp/d1",
        ".fz/tmp/d2",
        "blocker/d3",
        ".fz/tmp/d4",
    ];
    let out = run_script(UNPACK_BATCH_SCRIPT, home.path(), &args, &archive);
    assert!(out.status.success(), "{out:?}");
    let said = parse_unpacked(&String::from_utf8_lossy(&out.stdout), 4);
    assert_eq!(said[0], Some(Ok(())));
    assert_eq!(said[1], Some(Ok(())));
    assert!(
        matches!(&said[2], Some(Err(why)) if !why.is_empty()),
        "{said:?}"
    );
    assert_eq!(said[3], Some(Ok(())));
    let d1 = home.path().join(".fz/tmp/d1");
    assert_eq!(
        std::fs::read_to_string(d1.join("input.txt")).unwrap(),
        "x=1\n"
    );
    assert_eq!(mode(&d1.join("run.sh")), 0o755);
    assert_eq!(mode(&d1.join("sub/deep/data.txt")), 0o600);
    assert!(d1.join("empty").is_dir());
    assert_eq!(
        std::fs::read_link(d1.join("link")).unwrap(),
        Path::new("input.txt")
    );
    assert_eq!(mode(&d1.join("scripts/calc.sh")), 0o755);
    assert_eq!(
        std::fs::read_to_string(home.path().join(".fz/tmp/d2/input.txt")).unwrap(),
        "x=2\n"
    );
    let d4 = home.path().join(".fz/tmp/d4");
    assert!(d4.join("old.txt").exists() && d4.join("new.txt").exists());
    // The staging directory is gone.
    assert!(!home.path().join(".fz/tmp/up1").exists());
}

#[test]
fn a_local_file_gone_before_sending_fails_its_case_only() {
    let local = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    write(&local.path().join("a/gone.txt"), "x", 0o644);
    write(&local.path().join("b/kept.txt"), "y", 0o644);
    let job = |name: &str, remote: &str| {
        let dir = local.path().join(name);
        let upload = Upload {
            dir: &dir,
            extra_base: local.path(),
            extra_files: &[],
        };
        UploadJob::new(&upload, &RemoteDir::at(remote)).unwrap()
    };
    let jobs = vec![job("a", ".fz/tmp/a"), job("b", ".fz/tmp/b")];
    std::fs::remove_file(local.path().join("a/gone.txt")).unwrap();
    let mut archive = Vec::new();
    let failed = write_upload(&mut archive, &jobs).unwrap();
    assert!(
        failed[0].as_deref().is_some_and(|e| e.contains("gone.txt")),
        "{failed:?}"
    );
    assert_eq!(failed[1], None);
    let out = run_script(
        UNPACK_BATCH_SCRIPT,
        home.path(),
        &[".fz/tmp/up", ".fz/tmp/a", ".fz/tmp/b"],
        &archive,
    );
    let said = parse_unpacked(&String::from_utf8_lossy(&out.stdout), 2);
    assert_eq!(said[1], Some(Ok(())));
    assert_eq!(
        std::fs::read_to_string(home.path().join(".fz/tmp/b/kept.txt")).unwrap(),
        "y"
    );
}

#[test]
fn extra_files_must_be_plain_relative_paths() {
    let local = tempfile::tempdir().unwrap();
    for bad in ["../x", "/etc/passwd", "."] {
        let extra = vec![bad.to_string()];
        let upload = Upload {
            dir: local.path(),
            extra_base: local.path(),
            extra_files: &extra,
        };
        let e = UploadJob::new(&upload, &RemoteDir::at("r")).unwrap_err();
        assert!(e.contains(bad), "{e}");
    }
}

#[test]
fn unpack_answers_are_read_per_case() {
    let said = parse_unpacked("ok 0\nfail 2 mkdir: cannot create\nnoise\nok 9\nok x\n", 3);
    assert_eq!(
        said,
        vec![Some(Ok(())), None, Some(Err("mkdir: cannot create".into()))]
    );
}

// ---------------------------------------------------------------------------
// Download

fn fetch_job(remote: &str, local: Option<&Path>, exclude: &[&str], remove: bool) -> FetchJob {
    FetchJob {
        remote: RemoteDir::at(remote),
        local: local.map(Path::to_path_buf),
        exclude: exclude.iter().map(|s| s.to_string()).collect(),
        remove,
    }
}

#[test]
fn one_stream_brings_every_case_back_to_its_own_directory() {
    let home = tempfile::tempdir().unwrap();
    let local = tempfile::tempdir().unwrap();
    let r = |n: &str| home.path().join(".fz/tmp").join(n);
    write(&r("r1/out.txt"), "out 1\n", 0o644);
    write(&r("r1/log.txt"), "remote log\n", 0o644);
    write(&r("r1/calc.sh"), "sent\n", 0o755);
    write(&r("r1/scripts/post.py"), "sent\n", 0o644);
    write(&r("r1/scripts/kept.txt"), "kept\n", 0o644);
    write(&r("r1/bin/tool"), "#!/bin/sh\n", 0o755);
    write(&r("r1.pid"), "1", 0o644);
    std::os::unix::fs::symlink("bin/tool", r("r1/tool")).unwrap();
    write(&r("r2/out.txt"), "out 2\n", 0o644);
    write(&r("r2.pid"), "2", 0o644);
    write(&r("r3/out.txt"), "interrupted\n", 0o644);
    let (l1, l2, l4) = (
        local.path().join("x=1"),
        local.path().join("x=2"),
        local.path().join("x=4"),
    );
    for l in [&l1, &l2, &l4] {
        std::fs::create_dir_all(l).unwrap();
    }
    write(&l1.join("log.txt"), "local log\n", 0o644);
    let jobs = vec![
        fetch_job(
            ".fz/tmp/r1",
            Some(&l1),
            &["log.txt", "calc.sh", "scripts/post.py"],
            true,
        ),
        fetch_job(".fz/tmp/r2", Some(&l2), &["log.txt"], false),
        fetch_job(".fz/tmp/r3", None, &[], true),
        fetch_job(".fz/tmp/missing", Some(&l4), &[], true),
    ];
    let args: Vec<String> = jobs
        .iter()
        .flat_map(|j| [j.remote.relative().to_string(), j.how().to_string()])
        .collect();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(PACK_BATCH_SCRIPT)
        .arg("fz-ssh")
        .args(&args)
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = drain(child.stderr.take());
    let (said, broken) = read_fetched(child.stdout.take().unwrap(), &jobs);
    assert!(child.wait().unwrap().success());
    let err = String::from_utf8(err.join().unwrap()).unwrap();
    assert_eq!(broken, None);
    let ok = Some(Fetched {
        code: 0,
        local_error: None,
    });
    assert_eq!(said[..3], [ok.clone(), ok.clone(), ok]);
    assert_eq!(said[3].as_ref().map(|f| f.code), Some(125));
    let messages = case_messages(&err);
    assert!(messages[&3].contains("no such directory"), "{err}");
    // The same files as a plain tar: excluded ones left out (the local
    // log.txt untouched), modes and links kept.
    assert_eq!(
        std::fs::read_to_string(l1.join("out.txt")).unwrap(),
        "out 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(l1.join("log.txt")).unwrap(),
        "local log\n"
    );
    assert!(!l1.join("calc.sh").exists() && !l1.join("scripts/post.py").exists());
    assert!(l1.join("scripts/kept.txt").exists());
    assert_eq!(mode(&l1.join("bin/tool")), 0o755);
    assert_eq!(
        std::fs::read_link(l1.join("tool")).unwrap(),
        Path::new("bin/tool")
    );
    assert_eq!(
        std::fs::read_to_string(l2.join("out.txt")).unwrap(),
        "out 2\n"
    );
    // Removed unless kept; the pid files go in any case.
    assert!(!r("r1").exists() && !r("r1.pid").exists());
    assert!(r("r2/out.txt").exists() && !r("r2.pid").exists());
    assert!(!r("r3").exists());
    assert_eq!(std::fs::read_dir(&l4).unwrap().count(), 0);
}

/// One raw tar entry (no path checks, unlike the tar crate's builder).
fn raw_entry(out: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
}

fn marker(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(format!("{text:<511}\n").as_bytes());
}

#[test]
fn a_hostile_stream_is_refused_case_by_case_and_writes_nothing_outside() {
    use tar::EntryType::{Link, Regular, Symlink};
    let root = tempfile::tempdir().unwrap();
    let outside = root.path().join("outside");
    let abs = root.path().join("abs.txt");
    let hostile: Vec<(String, tar::EntryType, String)> = vec![
        ("./../x.txt".into(), Regular, String::new()),
        ("../outside".into(), Regular, String::new()),
        (abs.display().to_string(), Regular, String::new()),
        ("./evil".into(), Symlink, "../../outside".into()),
        ("./sub/evil".into(), Symlink, "../..".into()),
        ("./etc".into(), Symlink, "/etc".into()),
        ("./hard".into(), Link, "../outside".into()),
        ("./hard".into(), Link, abs.display().to_string()),
    ];
    let n = hostile.len() + 1;
    let locals: Vec<PathBuf> = (0..n)
        .map(|i| {
            let d = root.path().join("cases").join(format!("c{i}"));
            std::fs::create_dir_all(&d).unwrap();
            d
        })
        .collect();
    let mut stream = Vec::new();
    for (i, (name, kind, link)) in hostile.iter().enumerate() {
        marker(&mut stream, &format!("fz-case {i}"));
        raw_entry(&mut stream, "./", tar::EntryType::Directory, "", b"");
        raw_entry(&mut stream, name, *kind, link, b"pwned\n");
        // After a refused entry the rest of the case is left out, the
        // stream staying in step.
        raw_entry(&mut stream, "./after.txt", Regular, "", b"after\n");
        stream.extend_from_slice(&[0; 2 * BLOCK]);
        marker(&mut stream, &format!("fz-end {i} 0"));
    }
    let last = n - 1;
    marker(&mut stream, &format!("fz-case {last}"));
    raw_entry(&mut stream, "./good.txt", Regular, "", b"good\n");
    raw_entry(&mut stream, "./sub/", tar::EntryType::Directory, "", b"");
    raw_entry(&mut stream, "./in", Symlink, "sub/../good.txt", b"");
    stream.extend_from_slice(&[0; 10 * BLOCK]);
    marker(&mut stream, &format!("fz-end {last} 0"));
    let jobs: Vec<FetchJob> = locals
        .iter()
        .enumerate()
        .map(|(i, l)| fetch_job(&format!(".fz/tmp/c{i}"), Some(l), &[], true))
        .collect();
    let (said, broken) = read_fetched(&stream[..], &jobs);
    assert_eq!(broken, None);
    for (i, s) in said.iter().enumerate().take(last) {
        let e = s.as_ref().and_then(|f| f.local_error.clone());
        assert!(
            e.as_deref().is_some_and(|e| e.contains("refused")),
            "{:?}: {s:?}",
            hostile[i]
        );
        assert!(!locals[i].join("after.txt").exists());
    }
    assert_eq!(
        said[last],
        Some(Fetched {
            code: 0,
            local_error: None
        })
    );
    assert_eq!(
        std::fs::read_to_string(locals[last].join("in")).unwrap(),
        "good\n"
    );
    // Nothing landed outside the case directories.
    assert!(!outside.exists() && !abs.exists());
    assert!(!root.path().join("x.txt").exists());
    assert!(!root.path().join("cases/x.txt").exists());
    for l in &locals[..last] {
        for e in std::fs::read_dir(l).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            assert!(!meta.file_type().is_symlink(), "{:?}", e.path());
        }
    }
}

#[test]
fn a_broken_stream_stops_and_leaves_the_rest_unanswered() {
    let local = tempfile::tempdir().unwrap();
    let jobs = vec![
        fetch_job("a", Some(local.path()), &[], true),
        fetch_job("b", Some(local.path()), &[], true),
    ];
    let mut stream = Vec::new();
    marker(&mut stream, "fz-end 0 0");
    stream.extend_from_slice(&[b'x'; BLOCK]);
    marker(&mut stream, "fz-end 1 0");
    let (said, broken) = read_fetched(&stream[..], &jobs);
    // Case 0 said it succeeded without sending its archive.
    assert!(said[0].as_ref().is_some_and(|f| f.local_error.is_some()));
    assert_eq!(said[1], None);
    assert!(broken.is_some_and(|b| b.contains("unexpected")));
    // A cut stream: unanswered too.
    let mut cut = Vec::new();
    marker(&mut cut, "fz-case 0");
    raw_entry(&mut cut, "./f", tar::EntryType::Regular, "", &[b'a'; 2000]);
    cut.truncate(cut.len() - 700);
    let (said, broken) = read_fetched(&cut[..], &jobs);
    assert!(broken.is_some(), "{said:?}");
    assert!(said[1].is_none());
}

#[test]
fn links_and_paths_are_judged_by_name() {
    let inside = |rel: &str, target: &str| symlink_stays_inside(Path::new(rel), Path::new(target));
    assert!(inside("a", "b"));
    assert!(inside("sub/a", "../b"));
    assert!(inside("sub/a", "./x/../../b"));
    assert!(!inside("a", "../b"));
    assert!(!inside("sub/a", "../../b"));
    assert!(!inside("a", "/etc"));
    assert_eq!(
        plain_relative(Path::new("./a/./b")),
        Some(PathBuf::from("a/b"))
    );
    assert_eq!(plain_relative(Path::new("a/../b")), None);
    assert_eq!(plain_relative(Path::new("/a")), None);
    let ex = ["log.txt".to_string(), "./scripts/post.py".to_string()];
    assert!(excluded(Path::new("log.txt"), &ex));
    assert!(excluded(Path::new("scripts/post.py"), &ex));
    assert!(!excluded(Path::new("sub/log.txt"), &ex));
    assert!(!excluded(Path::new("log.txt.bak"), &ex));
    assert!(!excluded(Path::new("scripts/other.py"), &ex));
}

#[test]
fn the_transfer_summary_counts_directories_and_commands() {
    let c = Counts::default();
    assert_eq!(c.summary("u@h"), None);
    c.sent.store(200, Ordering::Relaxed);
    c.sends.store(12, Ordering::Relaxed);
    c.fetched.store(200, Ordering::Relaxed);
    c.fetches.store(15, Ordering::Relaxed);
    assert_eq!(
        c.summary("u@h").unwrap(),
        "SSH transfers with u@h: 200 case directories sent in 12 transfers, 200 fetched back \
         or removed in 15 transfers"
    );
}
