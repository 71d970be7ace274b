//! Which fz binary the pack tasks run: locally ([`local_worker`]: the
//! same path on the shared filesystem) or on a login node
//! ([`remote_worker`]: `FZ_WORKER_REMOTE`, else an fz on the login PATH
//! that has the worker, else this fz binary copied once to
//! `~/.fz/bin/fz-<version>-<hash>` when the login node runs the same OS
//! and architecture).
//!
//! This module owns finding and shipping the binary; it runs no case and
//! knows nothing of SLURM.

use crate::calculators::ssh::session::{RemoteDir, Session, Upload};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest wait for the look-up on the login node (and the check of a
/// copied binary).
const LIMIT: Duration = Duration::from_secs(60);

/// Longest wait for copying the binary.
const COPY_LIMIT: Duration = Duration::from_secs(600);

/// `$1` the name of the copied binary: prints `os`, `arch`, `path` (an fz
/// in PATH whose worker answers) and `have` (the copy is there already).
const PROBE_SCRIPT: &str = r#"printf 'os %s\narch %s\n' "$(uname -s)" "$(uname -m)"
p=$(command -v fz 2>/dev/null) && "$p" worker --help >/dev/null 2>&1 && printf 'path %s\n' "$p"
[ -x "$HOME/.fz/bin/$1" ] && echo have
exit 0"#;

/// `$1` the upload directory, `$2` the file in it, `$3` the final name:
/// moves the binary to `~/.fz/bin/$3` (atomically) and checks it runs.
const INSTALL_SCRIPT: &str = r#"src="$HOME/$1/$2"; bin="$HOME/.fz/bin"; dest="$bin/$3"
mkdir -p "$bin" && chmod 755 "$src" && mv -f "$src" "$dest.$$" && mv -f "$dest.$$" "$dest"; rc=$?
rm -rf "$HOME/$1"
[ $rc = 0 ] || exit $rc
"$dest" worker --help >/dev/null"#;

/// The fz binary the tasks run locally: `FZ_WORKER`, else this executable
/// when it is fz, else `fz` next to the Python interpreter that loaded
/// the fz module (pip installs the command there), else `fz` in PATH.
pub fn local_worker() -> Result<PathBuf, String> {
    if let Some(w) = std::env::var_os("FZ_WORKER").filter(|w| !w.is_empty()) {
        return Ok(PathBuf::from(w));
    }
    own_binary().ok_or_else(|| {
        "Packed mode needs the fz binary on the compute nodes: set FZ_WORKER to its path \
         (or put fz in PATH)"
            .to_string()
    })
}

/// Where pip put the `fz` command of the module (set by the Python
/// module when imported).
static SCRIPTS_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Records the directory holding the `fz` command installed with the
/// Python module (its `scripts` path): the worker is looked for there when
/// fz runs inside Python and that directory is not in PATH.
pub fn set_scripts_dir(dir: &Path) {
    let _ = SCRIPTS_DIR.set(dir.to_path_buf());
}

/// This executable when it is fz, else `fz` in the Python scripts
/// directory, else `fz` in PATH.
fn own_binary() -> Option<PathBuf> {
    if let Ok(exe) = std::env::current_exe() {
        let stem = exe.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem.starts_with("fz") {
            return Some(exe);
        }
    }
    let scripts = SCRIPTS_DIR.get().map(|d| d.join("fz"));
    scripts.filter(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|d| d.join("fz"))
            .find(|p| p.is_file())
    })
}

/// The fz binary the tasks run on the login node of `session` (absolute
/// path there); see the module documentation. `Err`: one line saying
/// to set `FZ_WORKER_REMOTE`.
pub fn remote_worker(session: &Session) -> Result<String, String> {
    if let Some(w) = std::env::var("FZ_WORKER_REMOTE")
        .ok()
        .filter(|w| !w.trim().is_empty())
    {
        crate::log::info(&format!(
            "Pack tasks on {} run {w} (FZ_WORKER_REMOTE)",
            session.target().display()
        ));
        return Ok(w);
    }
    let login = session.target().display();
    let local = own_binary()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .filter(|p| is_native(p));
    let name = match &local {
        Some(p) => copy_name(p)?,
        None => String::new(),
    };
    let out = session
        .exec(PROBE_SCRIPT, &[&name], Some(LIMIT), None)
        .map_err(|e| e.to_string())?;
    let probe = Probe::parse(&String::from_utf8_lossy(&out.stdout));
    if let Some(path) = probe.path {
        crate::log::info(&format!("Pack tasks on {login} run {path} (in its PATH)"));
        return Ok(path);
    }
    let Some(local) = local else {
        return Err(format!(
            "Packed mode on {login} needs the fz binary there: no fz in its PATH and no fz \
             binary here to copy; set FZ_WORKER_REMOTE to its path on {login}"
        ));
    };
    let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
    if !probe.matches(os, arch) {
        return Err(format!(
            "Packed mode on {login} needs the fz binary there: no fz in its PATH, and this \
             fz is built for {os}/{arch}, not {}/{}; set FZ_WORKER_REMOTE to its path on {login}",
            probe.os, probe.arch
        ));
    }
    let home = session.home().map_err(|e| e.to_string())?;
    let dest = format!("{home}/.fz/bin/{name}");
    if !probe.have {
        copy(session, &local, &name)?;
        crate::log::info(&format!(
            "Copied {} to {login}:{dest} for the pack tasks",
            local.display()
        ));
    }
    Ok(dest)
}

/// `fz-<version>-<12 hex of the binary's MD5>`: a new build gets a new
/// name, the same build is copied once.
fn copy_name(binary: &Path) -> Result<String, String> {
    let hash = crate::cache::hashfile::md5_file(binary).map_err(|e| e.to_string())?;
    Ok(format!(
        "fz-{}-{}",
        env!("CARGO_PKG_VERSION"),
        &hash[..hash.len().min(12)]
    ))
}

/// Whether `path` is a compiled program (ELF or Mach-O), not a script
/// (the `fz` command pip installs is a Python script).
fn is_native(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head));
    read.is_ok()
        && (head == *b"\x7fELF"
            || [0xcefa_edfe_u32, 0xcffa_edfe, 0xfeed_face, 0xfeed_facf]
                .contains(&u32::from_be_bytes(head)))
}

/// Sends `binary` to `~/.fz/bin/<name>` on the login node.
fn copy(session: &Session, binary: &Path, name: &str) -> Result<(), String> {
    let login = session.target().display();
    let (Some(base), Some(file)) = (binary.parent(), binary.file_name()) else {
        return Err(format!("{} is not a file", binary.display()));
    };
    let empty =
        tempfile::tempdir().map_err(|e| format!("Could not create a temporary directory: {e}"))?;
    let file = file.to_string_lossy().into_owned();
    let files = [file.clone()];
    let remote = RemoteDir::unique("fz-bin");
    let upload = Upload {
        dir: empty.path(),
        extra_base: base,
        extra_files: &files,
    };
    let sent = session.upload_dir(&upload, &remote).map_err(|e| {
        format!("Could not copy the fz binary to {login} ({e}); set FZ_WORKER_REMOTE")
    });
    let installed = sent.and_then(|()| {
        let out = session
            .exec(
                INSTALL_SCRIPT,
                &[remote.relative(), &file, name],
                Some(COPY_LIMIT),
                None,
            )
            .map_err(|e| e.to_string())?;
        if out.code == 0 {
            Ok(())
        } else {
            Err(format!(
                "The fz binary copied to {login}:~/.fz/bin/{name} does not run there ({}); \
                 set FZ_WORKER_REMOTE to an fz binary built for {login}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    });
    if installed.is_err() {
        let _ = session.remove_dir(&remote);
    }
    installed
}

/// What [`PROBE_SCRIPT`] printed.
#[derive(Debug, Default, PartialEq)]
struct Probe {
    os: String,
    arch: String,
    path: Option<String>,
    have: bool,
}

impl Probe {
    fn parse(text: &str) -> Probe {
        let mut p = Probe::default();
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("os", v)) => p.os = v.trim().to_string(),
                Some(("arch", v)) => p.arch = v.trim().to_string(),
                Some(("path", v)) if v.starts_with('/') => p.path = Some(v.trim().to_string()),
                _ if line.trim() == "have" => p.have = true,
                _ => {}
            }
        }
        p
    }

    /// Whether the login node runs `os`/`arch` (Rust's names).
    fn matches(&self, os: &str, arch: &str) -> bool {
        let norm = |a: &str| match a.to_ascii_lowercase().as_str() {
            "arm64" => "aarch64".to_string(),
            "amd64" => "x86_64".to_string(),
            other => other.to_string(),
        };
        let os_of = |o: &str| match o.to_ascii_lowercase().as_str() {
            "darwin" => "macos".to_string(),
            other => other.to_string(),
        };
        os_of(&self.os) == os_of(os) && norm(&self.arch) == norm(arch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_says_os_arch_path_and_copy() {
        let p = Probe::parse("os Linux\narch x86_64\npath /opt/fz/bin/fz\nhave\n");
        assert_eq!(p.path.as_deref(), Some("/opt/fz/bin/fz"));
        assert!(p.have);
        assert!(p.matches("linux", "x86_64"));
        assert!(!p.matches("macos", "x86_64"));
        assert!(!p.matches("linux", "aarch64"));
        let p = Probe::parse("os Darwin\narch arm64\n");
        assert!(p.matches("macos", "aarch64"));
        assert_eq!((p.path, p.have), (None, false));
        // The script itself, run here: this machine's names, no copy.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(PROBE_SCRIPT)
            .arg("fz-ssh")
            .arg("fz-0-none")
            .output()
            .unwrap();
        let p = Probe::parse(&String::from_utf8_lossy(&out.stdout));
        assert!(
            p.matches(std::env::consts::OS, std::env::consts::ARCH),
            "{p:?}"
        );
        assert!(!p.have);
    }

    #[test]
    fn only_compiled_programs_are_copied() {
        let d = tempfile::tempdir().unwrap();
        let script = d.path().join("fz");
        std::fs::write(&script, "#!/usr/bin/python3\nimport fz\n").unwrap();
        assert!(!is_native(&script));
        let exe = std::env::current_exe().unwrap();
        assert!(is_native(&exe));
        let name = copy_name(&exe).unwrap();
        assert!(
            name.starts_with(&format!("fz-{}-", env!("CARGO_PKG_VERSION")))
                && name.len() == "fz-".len() + env!("CARGO_PKG_VERSION").len() + 13,
            "{name}"
        );
    }
}
