//! `fzr --report`: the page rewritten by a thread of its own while a run
//! goes on (at most every few seconds, from the `summary.json` the run
//! keeps up to date), reloading itself in the browser; the last write,
//! when the run ends, no longer reloads. Never touches the run itself.

use super::data::Study;
use super::page;
use crate::results::write_atomic;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// Seconds between rewrites (and the page's reload period).
pub const PERIOD_S: u32 = 3;

/// A page being rewritten during a run.
#[derive(Debug)]
pub struct LiveReport {
    out: PathBuf,
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl LiveReport {
    /// Starts rewriting the page of `results_dir` to `out` every
    /// [`PERIOD_S`] seconds.
    pub fn start(results_dir: &Path, out: &Path) -> LiveReport {
        let (stop, stopped) = channel::<()>();
        let (dir, page_out) = (results_dir.to_path_buf(), out.to_path_buf());
        let thread = std::thread::spawn(move || loop {
            match stopped.recv_timeout(Duration::from_secs(PERIOD_S.into())) {
                Err(RecvTimeoutError::Timeout) => write(&dir, &page_out, Some(PERIOD_S)),
                _ => return,
            }
        });
        LiveReport {
            out: out.to_path_buf(),
            stop,
            thread,
        }
    }

    /// Stops the rewrites and returns the page's path; the caller writes
    /// the final page (without reload) with [`super::write_html`].
    pub fn finish(self) -> PathBuf {
        let _ = self.stop.send(());
        let _ = self.thread.join();
        self.out
    }
}

/// One rewrite; a results directory without rows yet is skipped, and a
/// failure is a warning (the run goes on).
fn write(dir: &Path, out: &Path, refresh: Option<u32>) {
    let Ok(study) = Study::read(dir) else {
        return;
    };
    let page_dir = out.parent().unwrap_or(Path::new("."));
    let _ = std::fs::create_dir_all(page_dir);
    let html = page::render(&study, page_dir, refresh);
    if let Err(e) = write_atomic(out, html.as_bytes()) {
        crate::log::warn(&format!(
            "could not write the report {}: {e}",
            out.display()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_with_reload_then_stops() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("summary.json"),
            r#"[{"x":1,"y":2,"path":"x=1","status":"done"}]"#,
        )
        .unwrap();
        let out = d.path().join("live/report.html");
        let live = LiveReport::start(d.path(), &out);
        std::thread::sleep(Duration::from_millis(u64::from(PERIOD_S) * 1000 + 800));
        let page = std::fs::read_to_string(&out).unwrap();
        assert!(
            page.contains("http-equiv=\"refresh\""),
            "reloads while running"
        );
        assert_eq!(live.finish(), out);
        crate::report::write_html(d.path(), Some(&out)).unwrap();
        let page = std::fs::read_to_string(&out).unwrap();
        assert!(
            !page.contains("http-equiv=\"refresh\""),
            "final page does not reload"
        );
    }
}
