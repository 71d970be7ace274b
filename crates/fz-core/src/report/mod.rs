//! `fz report --html`: one self-contained HTML page about a results
//! directory (header, plots of each numeric output against each variable,
//! heat maps of two-axis grids, the attempt timeline, the failures and the
//! sortable table), and the plots of `fzd`'s `results_<i>.html`.
//!
//! [`data`] reads a results directory, [`plots`] draws SVG with
//! `plotters`, [`html`] holds the page's building blocks, [`page`] puts a
//! study's page together, [`live`] rewrites it during a run and
//! [`design`] draws the fzd plots. This module reads
//! results and writes only the page it is asked for; it never runs cases.

pub mod data;
pub mod design;
pub mod html;
pub mod live;
pub mod page;
pub mod plots;

use crate::error::{Error, Result};
use crate::results::write_atomic;
use std::path::{Path, PathBuf};

/// The default name of the page, in the results directory.
pub const DEFAULT_NAME: &str = "report.html";

/// Writes the page of `results_dir` to `out` (default
/// `results_dir/report.html`; missing parent directories are created)
/// atomically, and returns its path.
pub fn write_html(results_dir: &Path, out: Option<&Path>) -> Result<PathBuf> {
    let out = out.map_or_else(|| results_dir.join(DEFAULT_NAME), Path::to_path_buf);
    let study = data::Study::read(results_dir)?;
    let page_dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&page_dir).map_err(|e| Error::io(&page_dir, e))?;
    let html = page::render(&study, &absolute(&page_dir), None);
    write_atomic(&out, html.as_bytes())?;
    Ok(out)
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
