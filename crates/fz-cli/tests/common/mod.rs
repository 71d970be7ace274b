//! Helpers shared by the CLI integration tests: run the real binary under
//! its multicall names, in a scratch directory.

#![allow(dead_code)]

pub mod slurm;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A scratch directory with the `fz` binary linked under every program name.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join(".bin");
        std::fs::create_dir(&bin).expect("bin dir");
        let fz = assert_cmd::cargo::cargo_bin("fz");
        for name in ["fz", "fzi", "fzc", "fzo", "fzr", "fzd", "fzl"] {
            std::os::unix::fs::symlink(&fz, bin.join(name)).expect("symlink");
        }
        Sandbox { dir, bin }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command for program `name` (fz, fzi, fzc, …) run in the sandbox,
    /// with a clean fz environment and HOME inside the sandbox.
    pub fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(self.bin.join(name));
        c.current_dir(self.path());
        c.env("HOME", self.path().join("home"));
        for var in [
            "FZ_LOG_LEVEL",
            "FZ_INTERPRETER",
            "FZ_PYTHON",
            "FZ_RSCRIPT",
            "FZ_CASE_NAMING",
        ] {
            c.env_remove(var);
        }
        c
    }

    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, content).expect("write");
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Sorted entries of a directory (names).
    pub fn ls(&self, rel: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path().join(rel))
            .unwrap_or_else(|e| panic!("ls {rel}: {e}"))
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Whether a `calculator` cell names one of the slots of `uri` listed
/// several times (`uri#1`, `uri#2`, …).
pub fn is_slot_of(cell: &serde_json::Value, uri: &str) -> bool {
    cell.as_str()
        .and_then(|c| c.strip_prefix(uri))
        .and_then(|k| k.strip_prefix('#'))
        .is_some_and(|k| k.parse::<usize>().is_ok_and(|k| k >= 1))
}

/// The rows of a `-f json` table printed on stdout.
pub fn json_rows(out: &[u8]) -> Vec<serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The rows of a run that must have succeeded (its stderr is shown when
/// it did not).
pub fn success_rows(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_rows(&out.stdout)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The perfect-gas example (input, script, model alias) in a sandbox.
pub fn perfectgas(sb: &Sandbox) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/perfectgas");
    for f in ["input.txt", "PerfectGazPressure.sh"] {
        std::fs::copy(example.join(f), sb.path().join(f)).unwrap();
    }
    copy_dir(&example.join(".fz/models"), &sb.path().join(".fz/models"));
}

/// The most intervals open at once, given their starts `(t, 1)` and ends
/// `(t, -1)` in any order; at equal times an end comes before a start.
pub fn peak_overlap<T: PartialOrd>(mut events: Vec<(T, i32)>) -> usize {
    events.sort_by(|a, b| a.partial_cmp(b).expect("comparable times"));
    let (mut open, mut peak) = (0i32, 0i32);
    for (_, d) in events {
        open += d;
        peak = peak.max(open);
    }
    peak as usize
}

/// Waits (at most 5 s) until the file at `path` has `n` lines.
pub fn wait_for_lines(path: &Path, n: usize) {
    for _ in 0..500 {
        if std::fs::read_to_string(path).is_ok_and(|s| s.lines().count() >= n) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} never reached {n} lines", path.display());
}
