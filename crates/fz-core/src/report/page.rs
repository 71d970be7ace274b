//! The page of one results directory: header, output plots, heat maps,
//! timeline, failures and table, in that order. Reads a [`Study`], writes
//! nothing.

use super::data::{cell_text, Study};
use super::html::{self, escape};
use super::plots::{self, Bar, HeatMap, Series, XyPlot};
use std::collections::BTreeMap;
use std::path::Path;

/// A variable with at most this many distinct values is a grid axis.
const MAX_AXIS_VALUES: usize = 30;
/// A second axis gives one series per value when it has at most this many.
const MAX_SERIES: usize = 8;
/// At most this many output–variable plots in a page.
const MAX_PLOTS: usize = 60;

/// Renders the page of `study`; links are relative to `page_dir` (the
/// directory the page is written to) when they can be; `refresh` seconds
/// makes the page reload itself.
pub fn render(study: &Study, page_dir: &Path, refresh: Option<u32>) -> String {
    let dir = std::fs::canonicalize(&study.dir).unwrap_or_else(|_| study.dir.clone());
    let title = format!("fz report: {}", study.dir.display());
    let mut out = html::page_start(&title, refresh);
    out.push_str(&format!("<h1>{}</h1>\n", escape(&title)));
    out.push_str(&header(study));
    out.push_str(&output_plots(study));
    out.push_str(&timeline(study));
    out.push_str(&failures(study, &dir, page_dir));
    out.push_str("<h2 id=\"table\">Table</h2>\n");
    let link_col = study.column("path");
    let cells = |r: usize| {
        study.rows[r]
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let text = escape(&cell_text(v));
                if Some(c) == link_col {
                    let target = dir.join(study.case_name(r));
                    format!(
                        "<a href=\"{}\">{text}</a>",
                        escape(&html::href(page_dir, &target))
                    )
                } else {
                    text
                }
            })
            .collect()
    };
    let csv = html::href(page_dir, &dir.join("summary.csv"));
    out.push_str(&html::data_table(
        &study.columns,
        study.rows.len(),
        cells,
        &csv,
    ));
    out.push_str(&html::page_end(true));
    out
}

fn header(study: &Study) -> String {
    let mut pairs = vec![(
        "results".to_string(),
        escape(&study.dir.display().to_string()),
    )];
    let counts = study.status_counts();
    let counts_html: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("<span class=\"{}\">{}: {n}</span>", escape(s), escape(s)))
        .collect();
    pairs.push((
        "cases".into(),
        format!("{} ({})", study.rows.len(), counts_html.join(", ")),
    ));
    let distinct = |col: &str| {
        let mut seen: Vec<String> = (0..study.rows.len()).map(|r| study.text(r, col)).collect();
        seen.sort();
        seen.dedup();
        seen.retain(|s| !s.is_empty());
        seen.iter()
            .map(|s| escape(s))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    pairs.push(("variables".into(), escape(&study.variables.join(", "))));
    pairs.push(("outputs".into(), escape(&study.outputs.join(", "))));
    pairs.push(("commands".into(), distinct("command")));
    pairs.push(("calculators".into(), distinct("calculator")));
    pairs.extend(times(study));
    format!(
        "<h2 id=\"summary\">Summary</h2>\n{}",
        html::key_values(&pairs)
    )
}

/// Start, end, wall, busy and per-case times from the journal.
fn times(study: &Study) -> Vec<(String, String)> {
    let j = &study.journal;
    if j.is_empty() {
        return vec![(
            "times".into(),
            "no journal (fz_journal.tsv) in the results directory".into(),
        )];
    }
    let start = j.iter().map(|l| l.start).fold(f64::INFINITY, f64::min);
    let end = j.iter().map(|l| l.end).fold(f64::NEG_INFINITY, f64::max);
    let mut per_case: BTreeMap<&str, f64> = BTreeMap::new();
    for l in j {
        *per_case.entry(&l.case).or_default() += (l.end - l.start).max(0.0);
    }
    let mut t: Vec<f64> = per_case.values().copied().collect();
    t.sort_by(f64::total_cmp);
    let busy: f64 = t.iter().sum();
    let stamp = |s: f64| {
        chrono::DateTime::from_timestamp(s.floor() as i64, 0)
            .map(|d| {
                d.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let pick = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize];
    vec![
        ("start".into(), stamp(start)),
        ("end".into(), stamp(end)),
        (
            "time".into(),
            format!(
                "{:.2} s wall, {busy:.2} s busy in {} attempts",
                (end - start).max(0.0),
                j.iter().filter(|l| l.attempt > 0).count()
            ),
        ),
        (
            "per case".into(),
            format!(
                "min {:.2} s, median {:.2} s, max {:.2} s",
                pick(0.0),
                pick(0.5),
                pick(1.0)
            ),
        ),
    ]
}

/// A numeric variable: its values per row and its sorted distinct values.
struct Var {
    name: String,
    values: Vec<Option<f64>>,
    distinct: Vec<f64>,
}

impl Var {
    fn is_axis(&self, rows: usize) -> bool {
        self.distinct.len() <= MAX_AXIS_VALUES && self.distinct.len() < rows
    }
}

fn numeric_vars(study: &Study) -> Vec<Var> {
    study
        .variables
        .iter()
        .map(|name| {
            let values = study.numbers(name);
            let mut distinct: Vec<f64> = values.iter().flatten().copied().collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            Var {
                name: name.clone(),
                values,
                distinct,
            }
        })
        .filter(|v| v.distinct.len() >= 2)
        .collect()
}

fn output_plots(study: &Study) -> String {
    let vars = numeric_vars(study);
    let n = study.rows.len();
    let mut out = String::from("<h2 id=\"plots\">Outputs</h2>\n");
    let mut budget = MAX_PLOTS;
    let mut any = false;
    for o in &study.outputs {
        let y = study.numbers(o);
        if y.iter().all(Option::is_none) || vars.is_empty() {
            continue;
        }
        any = true;
        out.push_str(&format!("<h3>{}</h3>\n<div class=\"plots\">\n", escape(o)));
        for x in &vars {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let second = vars
                .iter()
                .filter(|v| v.name != x.name && v.distinct.len() <= MAX_SERIES)
                .min_by_key(|v| v.distinct.len());
            let mut plot = xy_plot(o, &y, x, second, n);
            (plot.x_label, plot.y_label) = (study.label(&x.name), study.label(o));
            push_svg(&mut out, plots::xy_svg(&plot));
        }
        let axes: Vec<&Var> = vars.iter().filter(|v| v.is_axis(n)).collect();
        if let [a, b, ..] = axes[..] {
            if let Some(mut h) = heat_map(o, &y, a, b) {
                (h.x_label, h.y_label) = (study.label(&a.name), study.label(&b.name));
                push_svg(&mut out, plots::heatmap_svg(&h));
            }
        }
        out.push_str("</div>\n");
    }
    if !any {
        out.push_str("<p class=\"note\">No numeric output varies with a numeric variable.</p>\n");
    }
    out
}

fn push_svg(out: &mut String, svg: crate::error::Result<String>) {
    match svg {
        Ok(svg) => out.push_str(&svg),
        Err(e) => out.push_str(&format!("<p class=\"note\">{}</p>", escape(&e.to_string()))),
    }
    out.push('\n');
}

/// `o` against `x`: lines when `x` is a grid axis and each (x, series)
/// pair is one row, one series per value of `second`.
fn xy_plot(o: &str, y: &[Option<f64>], x: &Var, second: Option<&Var>, n: usize) -> XyPlot {
    let mut groups: BTreeMap<Option<u64>, Vec<(f64, f64)>> = BTreeMap::new();
    for (r, yv) in y.iter().enumerate().take(n) {
        if let (Some(xv), Some(yv)) = (x.values[r], *yv) {
            let key = second.and_then(|s| s.values[r]).map(f64::to_bits);
            groups.entry(key).or_default().push((xv, yv));
        }
    }
    let unique = groups.values().all(|pts| {
        let mut xs: Vec<u64> = pts.iter().map(|p| p.0.to_bits()).collect();
        xs.sort_unstable();
        xs.windows(2).all(|w| w[0] != w[1])
    });
    let mut series: Vec<(f64, Series)> = groups
        .into_iter()
        .map(|(k, points)| {
            let v = k.map_or(f64::NAN, f64::from_bits);
            let name = match (second, k) {
                (Some(s), Some(_)) => format!("{} = {}", s.name, plots::tick(v)),
                _ => String::new(),
            };
            (v, Series { name, points })
        })
        .collect();
    series.sort_by(|a, b| a.0.total_cmp(&b.0));
    XyPlot {
        title: format!("{o} vs {}", x.name),
        x_label: x.name.clone(),
        y_label: o.to_string(),
        series: series.into_iter().map(|s| s.1).collect(),
        lines: x.is_axis(n) && unique,
        highlight: Vec::new(),
    }
}

/// The heat map of `o` over the grid of `a` × `b`, when each cell is one row.
fn heat_map(o: &str, y: &[Option<f64>], a: &Var, b: &Var) -> Option<HeatMap> {
    let mut cells = BTreeMap::new();
    for (r, yv) in y.iter().enumerate() {
        let (Some(xa), Some(xb), Some(v)) = (a.values[r], b.values[r], yv) else {
            continue;
        };
        let i = a.distinct.iter().position(|d| *d == xa)?;
        let j = b.distinct.iter().position(|d| *d == xb)?;
        if cells.insert((i, j), *v).is_some() {
            return None;
        }
    }
    Some(HeatMap {
        title: format!("{o} over {} × {}", a.name, b.name),
        x_label: a.name.clone(),
        y_label: b.name.clone(),
        xs: a.distinct.clone(),
        ys: b.distinct.clone(),
        cells: cells.into_iter().map(|((i, j), v)| (i, j, v)).collect(),
    })
}

/// The timeline: attempts of each calculator packed into as few rows
/// (slots) as never overlap, one bar per attempt.
fn timeline(study: &Study) -> String {
    let mut out = String::from("<h2 id=\"timeline\">Attempts</h2>\n");
    if study.journal.is_empty() {
        out.push_str("<p class=\"note\">No journal (fz_journal.tsv): no timeline.</p>\n");
        return out;
    }
    let (lanes, bars) = lanes_and_bars(study);
    out.push_str("<p class=\"legend\">");
    for s in ["done", "failed", "timeout", "interrupted"] {
        let c = plots::status_color(s);
        out.push_str(&format!(
            "<span style=\"background:rgb({},{},{})\">{s}</span>",
            c.0, c.1, c.2
        ));
    }
    out.push_str("</p>\n");
    push_svg(&mut out, plots::timeline_svg(&lanes, &bars));
    out
}

fn lanes_and_bars(study: &Study) -> (Vec<String>, Vec<Bar>) {
    let t0 = study
        .journal
        .iter()
        .map(|l| l.start)
        .fold(f64::INFINITY, f64::min);
    let mut order: Vec<usize> = (0..study.journal.len()).collect();
    order.sort_by(|&a, &b| study.journal[a].start.total_cmp(&study.journal[b].start));
    // Per calculator, the end of the last attempt of each of its lanes.
    let mut free: BTreeMap<&str, Vec<(usize, f64)>> = BTreeMap::new();
    let mut names: Vec<(String, usize)> = Vec::new();
    let mut bars = Vec::with_capacity(order.len());
    for k in order {
        let l = &study.journal[k];
        let slots = free.entry(&l.calculator).or_default();
        let lane = match slots.iter_mut().find(|(_, end)| *end <= l.start + 1e-3) {
            Some(slot) => {
                slot.1 = l.end;
                slot.0
            }
            None => {
                let lane = names.len();
                names.push((l.calculator.clone(), slots.len() + 1));
                slots.push((lane, l.end));
                lane
            }
        };
        bars.push(Bar {
            lane,
            start: l.start - t0,
            end: l.end - t0,
            status: l.status.clone(),
        });
    }
    let lanes = names
        .into_iter()
        .map(|(c, k)| {
            if free.get(c.as_str()).is_some_and(|s| s.len() > 1) {
                format!("{c} #{k}")
            } else {
                c
            }
        })
        .collect();
    (lanes, bars)
}

fn failures(study: &Study, dir: &Path, page_dir: &Path) -> String {
    let mut out = format!(
        "<h2 id=\"failures\">Failures ({})</h2>\n",
        study.failures.len()
    );
    if study.failures.is_empty() {
        out.push_str("<p>Every case is done.</p>\n");
        return out;
    }
    for f in study.failures.iter().take(html::MAX_TABLE_ROWS / 10) {
        let link = html::href(page_dir, &dir.join(&f.case));
        out.push_str(&format!(
            "<h3><a href=\"{}\">{}</a> <span class=\"{}\">{}</span></h3>\n<p>{}</p>\n",
            escape(&link),
            escape(&f.case),
            escape(&f.status),
            escape(&f.status),
            escape(&f.error)
        ));
        if !f.err_tail.is_empty() {
            out.push_str(&format!("<pre>{}</pre>\n", escape(&f.err_tail)));
        }
    }
    if study.failures.len() > html::MAX_TABLE_ROWS / 10 {
        out.push_str(&format!(
            "<p class=\"note\">{} more failures: see the table.</p>\n",
            study.failures.len() - html::MAX_TABLE_ROWS / 10
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grid_study() -> (tempfile::TempDir, Study) {
        let d = tempfile::tempdir().unwrap();
        let mut rows = Vec::new();
        for t in [0, 20, 40] {
            for v in [1.0, 2.5] {
                let name = format!("T={t},V={v}");
                let (status, p) = if t == 40 && v == 2.5 {
                    ("failed", json!("<script>alert(1)</script>"))
                } else {
                    ("done", json!(t as f64 / v + 1.0))
                };
                rows.push(
                    json!({"T": t, "V": v, "p": p, "path": format!("results/{name}"),
                    "calculator": "sh://bash calc.sh", "status": status,
                    "error": if status == "done" { json!(null) } else { json!("exit <2>") }}),
                );
                std::fs::create_dir(d.path().join(&name)).unwrap();
                std::fs::write(d.path().join(&name).join("err.txt"), "line\n<oops>\n").unwrap();
            }
        }
        std::fs::write(d.path().join("summary.json"), json!(rows).to_string()).unwrap();
        std::fs::write(
            d.path().join("fz_journal.tsv"),
            "case\tattempt\tcalculator\tstart\tend\tduration_s\texit_code\tstatus\thost\terror\n\
             T=0,V=1\t1\tsh://c\t100.0\t101.0\t1\t0\tdone\th\t\n\
             T=0,V=2.5\t1\tsh://c\t100.5\t102.0\t1.5\t0\tdone\th\t\n\
             T=20,V=1\t1\tsh://c\t101.0\t103.0\t2\t2\tfailed\th\tx\n",
        )
        .unwrap();
        let s = Study::read(d.path()).unwrap();
        (d, s)
    }

    #[test]
    fn page_has_every_section_and_escapes_values() {
        let (d, s) = grid_study();
        assert_eq!(s.variables, ["T", "V"]);
        let page = render(&s, d.path(), None);
        for id in ["summary", "plots", "timeline", "failures", "table"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(page.matches("<script>").count(), 1, "only the table script");
        assert!(page.contains("<pre>line\n&lt;oops&gt;</pre>"));
        assert!(page.contains("href=\"T%3D40%2CV%3D2.5\""), "failure linked");
        // p vs T (lines, a series per V), p vs V, heat map T × V.
        assert_eq!(page.matches("<svg").count(), 4, "3 output plots + timeline");
        assert!(page.contains("V = 2.5") && page.contains("p over T × V"));
        assert!(page.contains("done: 5") && page.contains("failed: 1"));
        assert!(page.contains("per case") && page.contains("min 1.00 s"));
        // Nothing to fetch: no src attribute, no CSS url(), no remote link.
        assert!(!page.contains("src=") && !page.contains("url("));
        assert!(!page.contains("href=\"http") && !page.contains("@import"));
    }

    #[test]
    fn overlapping_attempts_of_one_calculator_get_two_slots() {
        let (_d, s) = grid_study();
        let (lanes, bars) = lanes_and_bars(&s);
        assert_eq!(lanes, ["sh://c #1", "sh://c #2"]);
        assert_eq!(bars.iter().map(|b| b.lane).collect::<Vec<_>>(), [0, 1, 0]);
        assert_eq!(bars[0].start, 0.0);
    }
}
