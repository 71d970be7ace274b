//! `fzd --report`: one page about the whole design, rewritten as it goes.
//!
//! The page says which iteration runs, links each iteration's own case
//! report (`iterNNN/report.html`, the `fzr --report` page of that batch,
//! live while the batch runs) and shows the sections of the last
//! `results_<i>.html` (plots of the objectives, the algorithm's analysis).
//! It reloads itself until the design ends. This module only writes
//! pages: it never changes what the loop evaluates, and a page that
//! cannot be written is a notice, not an error.

use super::files::{results_body, Evaluations};
use crate::algorithms::Objective;
use crate::log;
use crate::ops::run::final_report;
use crate::report::html::{escape, href, page_end, page_start};
use crate::report::live::{LiveReport, PERIOD_S};
use crate::results::write_atomic;
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};

/// The page of a running design.
pub struct DesignPage {
    out: PathBuf,
    algorithm: String,
    /// The sections of the last finished iteration.
    body: String,
    /// Iterations whose case report exists: (i, page).
    iterations: Vec<(usize, PathBuf)>,
    /// The live case report of the running iteration (file model).
    live: Option<(usize, PathBuf, LiveReport)>,
}

impl DesignPage {
    /// A page at `out` for a design run by `algorithm`.
    pub fn new(out: PathBuf, algorithm: &str) -> DesignPage {
        DesignPage {
            out,
            algorithm: algorithm.to_string(),
            body: String::new(),
            iterations: Vec::new(),
            live: None,
        }
    }

    /// Iteration `i` starts: the page says so, and a batch that writes
    /// case directories into `iter_dir` gets its live case report there.
    pub fn iteration_started(&mut self, i: usize, iter_dir: &Path, writes_cases: bool) {
        if writes_cases {
            let page = iter_dir.join(crate::report::DEFAULT_NAME);
            self.live = Some((
                i,
                iter_dir.to_path_buf(),
                LiveReport::start(iter_dir, &page),
            ));
        }
        self.write(&format!("Running iteration {i}…"), Some(PERIOD_S));
    }

    /// Iteration `i` is evaluated and its files written: its case report
    /// becomes final and the page shows its sections.
    pub fn iteration_finished(
        &mut self,
        i: usize,
        evals: Evaluations,
        tmp: Option<&Map<String, Json>>,
        current: Option<&Map<String, Json>>,
    ) {
        if let Some((k, dir, live)) = self.live.take() {
            if let Some(page) = final_report(&dir, &live.finish()) {
                self.iterations.push((k, page));
            }
        }
        self.body = results_body(i, evals, tmp, current);
        self.write(
            &format!("Iteration {i} done: {} evaluations so far.", evals.y.len()),
            Some(PERIOD_S),
        );
    }

    /// The design ended (`status` says how); the page stops reloading.
    /// Returns the page's path when it was written.
    pub fn finish(mut self, status: &str) -> Option<PathBuf> {
        if let Some((_, dir, live)) = self.live.take() {
            let _ = final_report(&dir, &live.finish());
        }
        self.write(status, None).then(|| self.out.clone())
    }

    /// Writes the page; false (with a notice) when it could not be.
    fn write(&self, status: &str, refresh: Option<u32>) -> bool {
        let html = self.render(status, refresh);
        if let Some(parent) = self.out.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        match write_atomic(&self.out, html.as_bytes()) {
            Ok(()) => true,
            Err(e) => {
                log::notice(&format!(
                    "could not write the report {}: {e}",
                    self.out.display()
                ));
                false
            }
        }
    }

    fn render(&self, status: &str, refresh: Option<u32>) -> String {
        let title = format!("fzd {}", self.algorithm);
        let mut html = page_start(&title, refresh);
        html.push_str(&format!(
            "<h1>{}</h1>\n<p class=\"status\">{}</p>\n",
            escape(&title),
            escape(status)
        ));
        let page_dir = self.out.parent().unwrap_or(Path::new("."));
        let mut links: Vec<String> = self
            .iterations
            .iter()
            .map(|(i, page)| link(page_dir, page, &format!("iteration {i}")))
            .collect();
        if let Some((i, dir, _)) = &self.live {
            let page = dir.join(crate::report::DEFAULT_NAME);
            links.push(link(page_dir, &page, &format!("iteration {i} (running)")));
        }
        if !links.is_empty() {
            html.push_str(&format!("<p>Cases: {}</p>\n", links.join(" · ")));
        }
        html.push_str(&self.body);
        html.push_str(&page_end(false));
        html
    }
}

fn link(page_dir: &Path, page: &Path, label: &str) -> String {
    format!("<a href=\"{}\">{}</a>", href(page_dir, page), escape(label))
}

/// How a design ended, for its page.
pub fn end_status(iterations: usize, y: &[Objective], interrupted: bool) -> String {
    let valid = y.iter().filter(|o| o.is_valid()).count();
    let how = if interrupted {
        "Interrupted"
    } else {
        "Finished"
    };
    format!(
        "{how} after {iterations} iteration(s): {} evaluations, {valid} valid.",
        y.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::Point;

    fn point(x: f64) -> Point {
        [("x".to_string(), x)].into_iter().collect()
    }

    #[test]
    fn reloads_while_running_and_not_once_finished() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("analysis/report.html");
        let mut page = DesignPage::new(out.clone(), "brent<&>");
        page.iteration_started(1, &d.path().join("analysis/iter001"), false);
        let running = std::fs::read_to_string(&out).unwrap();
        assert!(running.contains("http-equiv=\"refresh\""));
        assert!(running.contains("Running iteration 1"));
        assert!(running.contains("fzd brent&lt;&amp;&gt;"), "title escaped");
        let x = vec![point(0.5), point(1.5)];
        let y = vec![Objective::Single(1.0), Objective::Missing];
        let names = vec!["y".to_string()];
        let evals = Evaluations {
            x: &x,
            y: &y,
            names: &names,
        };
        page.iteration_finished(1, evals, None, None);
        let after = std::fs::read_to_string(&out).unwrap();
        assert!(after.contains("Iteration 1 done: 2 evaluations"));
        assert!(after.contains("Valid samples: 1"));
        assert!(after.contains("<svg"), "plots of the objective");
        let written = page.finish(&end_status(1, &y, false));
        assert_eq!(written.as_deref(), Some(out.as_path()));
        let last = std::fs::read_to_string(&out).unwrap();
        assert!(!last.contains("http-equiv=\"refresh\""));
        assert!(last.contains("Finished after 1 iteration(s): 2 evaluations, 1 valid."));
    }

    #[test]
    fn links_the_case_report_of_each_finished_iteration() {
        let d = tempfile::tempdir().unwrap();
        let iter = d.path().join("iter001");
        std::fs::create_dir_all(&iter).unwrap();
        std::fs::write(
            iter.join("summary.json"),
            r#"[{"x":1,"y":2,"path":"1","status":"done"}]"#,
        )
        .unwrap();
        let out = d.path().join("report.html");
        let mut page = DesignPage::new(out.clone(), "lhs");
        page.iteration_started(1, &iter, true);
        assert!(std::fs::read_to_string(&out)
            .unwrap()
            .contains("href=\"iter001/report.html\">iteration 1 (running)"));
        let (x, y, names) = (vec![point(1.0)], vec![Objective::Single(2.0)], vec![]);
        let evals = Evaluations {
            x: &x,
            y: &y,
            names: &names,
        };
        page.iteration_finished(1, evals, None, None);
        assert!(iter.join("report.html").is_file(), "final case report");
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(html.contains("href=\"iter001/report.html\">iteration 1</a>"));
        assert!(!html.contains("(running)"));
    }
}
