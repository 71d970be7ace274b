//! Helpers of the tests that drive a real SLURM cluster
//! (`.ci/services/slurm.sh start` sets it up and prints `FZ_TEST_SLURM=1`):
//! whether it is there, and which jobs of an fz run it still lists (jobs
//! are told apart by their names, `fz-<pid of the fz process>-…`).

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether the cluster is there; `false` (reason printed) outside CI.
pub fn slurm() -> bool {
    if std::env::var("FZ_TEST_SLURM").is_ok_and(|v| v.trim() == "1") {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but FZ_TEST_SLURM is not: start the test cluster with \
             'eval \"$(bash .ci/services/slurm.sh start)\"'"
        );
    }
    eprintln!(
        "skipped: FZ_TEST_SLURM is not set (run 'eval \"$(bash .ci/services/slurm.sh \
         start)\"' to test slurm:// against a real SLURM cluster)"
    );
    false
}

/// Names of the queued or running jobs of the fz process `pid`, waiting
/// up to 10 s for them to leave the queue.
pub fn jobs_left(pid: u32) -> Vec<String> {
    let prefix = format!("fz-{pid}-");
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let out = Command::new("squeue")
            .args(["-h", "-o", "%j %i %T"])
            .output()
            .expect("squeue");
        assert!(out.status.success(), "squeue: {:?}", out);
        let mine: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(str::to_string)
            .collect();
        if mine.is_empty() || Instant::now() > until {
            return mine;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The jobs of `pid` in the queue right now.
pub fn jobs_left_now(pid: u32) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["-h", "-r", "-o", "%j %i %T"])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(&format!("fz-{pid}-")))
        .map(str::to_string)
        .collect()
}

/// The ssh port and user of the test sshd (None: skip, or panic on CI).
pub fn ssh_login() -> Option<(String, String)> {
    let Ok(port) = std::env::var("FZ_TEST_SSH_PORT") else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but FZ_TEST_SSH_PORT is not (.ci/services/sshd.sh start)");
        }
        eprintln!("skipped: FZ_TEST_SSH_PORT is not set");
        return None;
    };
    let user = std::env::var("FZ_TEST_SSH_USER").unwrap_or_else(|_| "root".to_string());
    Some((user, port))
}

/// The home directory of a local user (the test sshd runs here).
pub fn home_of(user: &str) -> std::path::PathBuf {
    let out = Command::new("getent")
        .args(["passwd", user])
        .output()
        .expect("getent");
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    std::path::PathBuf::from(line.trim().split(':').nth(5).expect("home field"))
}
