//! The report's plots, drawn with `plotters` into SVG strings: x–y plots
//! (scatter or lines, several series, log axes for values spanning more
//! than two decades), heat maps of two-axis grids, and the attempt
//! timeline. Plots downsample what they are given so that a page stays
//! small; they know nothing of results directories or HTML pages.
//! Text is escaped by plotters' SVG backend.

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// At most this many points are drawn in one x–y plot (all series).
pub const MAX_POINTS: usize = 2000;
/// At most this many bars are drawn in a timeline.
pub const MAX_BARS: usize = 3000;
/// Size of one x–y plot or heat map, in pixels.
const SIZE: (u32, u32) = (480, 340);

/// Series colours (colour-blind friendly).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

/// One named series of points.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The legend text (empty: no legend entry).
    pub name: String,
    /// The points (x, y).
    pub points: Vec<(f64, f64)>,
}

/// An x–y plot.
#[derive(Debug, Clone, Default)]
pub struct XyPlot {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// The series.
    pub series: Vec<Series>,
    /// Join the points of each series with lines (sorted by x).
    pub lines: bool,
    /// Points to highlight (drawn larger, in black), e.g. a Pareto front.
    pub highlight: Vec<(f64, f64)>,
}

/// A heat map of a grid: one cell per (x, y) value pair.
#[derive(Debug, Clone, Default)]
pub struct HeatMap {
    /// Title above the map.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// The distinct x values, sorted.
    pub xs: Vec<f64>,
    /// The distinct y values, sorted.
    pub ys: Vec<f64>,
    /// The cells: (index in `xs`, index in `ys`, value).
    pub cells: Vec<(usize, usize, f64)>,
}

/// One attempt in the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The row (calculator slot) it ran on.
    pub lane: usize,
    /// Start, seconds from the first start.
    pub start: f64,
    /// End, seconds from the first start.
    pub end: f64,
    /// Outcome (`done`, `failed`, `timeout`, `interrupted`, …).
    pub status: String,
}

fn plot_error(title: &str, e: impl std::fmt::Display) -> Error {
    Error::Value(format!("plot '{title}': {e}"))
}

/// A number as a short tick label.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.to_string()
        }
    }
}

/// An axis: whether it is logarithmic, and its range (in log10 when so).
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Axis {
    /// Log when all values are positive and span more than two decades.
    fn of(values: impl Iterator<Item = f64> + Clone) -> Axis {
        let (lo, hi) = values
            .clone()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
        let log = lo > 0.0 && hi / lo > 100.0;
        let (lo, hi) = if log {
            (lo.log10(), hi.log10())
        } else {
            (lo, hi)
        };
        let (lo, hi) = if !lo.is_finite() {
            (0.0, 1.0)
        } else if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
            (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0))
        } else {
            let pad = (hi - lo) * 0.05;
            (lo - pad, hi + pad)
        };
        Axis { log, lo, hi }
    }

    fn map(&self, v: f64) -> f64 {
        if self.log {
            v.log10()
        } else {
            v
        }
    }

    fn label(&self, v: f64) -> String {
        tick(if self.log { 10f64.powf(v) } else { v })
    }

    fn describe(&self, label: &str) -> String {
        if self.log {
            format!("{label} (log scale)")
        } else {
            label.to_string()
        }
    }
}

/// Every `k`-th element, so that at most `max` are kept (first and last kept).
pub fn downsample<T: Clone>(items: &[T], max: usize) -> Vec<T> {
    if items.len() <= max || max < 2 {
        return items.to_vec();
    }
    let step = (items.len() - 1) as f64 / (max - 1) as f64;
    (0..max)
        .map(|i| items[((i as f64 * step).round() as usize).min(items.len() - 1)].clone())
        .collect()
}

/// Draws an x–y plot.
pub fn xy_svg(p: &XyPlot) -> Result<String> {
    let total: usize = p
        .series
        .iter()
        .map(|s| s.points.len())
        .sum::<usize>()
        .max(1);
    let series: Vec<Series> = p
        .series
        .iter()
        .map(|s| {
            let mut pts = s.points.clone();
            if p.lines {
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            let keep = (MAX_POINTS * s.points.len() / total).max(2);
            Series {
                name: s.name.clone(),
                points: downsample(&pts, keep),
            }
        })
        .collect();
    let all = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .chain(p.highlight.iter().copied())
    };
    let xa = Axis::of(all().map(|q| q.0));
    let ya = Axis::of(all().map(|q| q.1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw_xy(&root, p, &series, &xa, &ya).map_err(|e| plot_error(&p.title, e))?;
        root.present().map_err(|e| plot_error(&p.title, e))?;
    }
    Ok(svg)
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw_xy(
    root: &DrawingArea<SVGBackend, Shift>,
    p: &XyPlot,
    series: &[Series],
    xa: &Axis,
    ya: &Axis,
) -> DrawResult {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(&p.title, ("sans-serif", 17))
        .margin(8)
        .x_label_area_size(38)
        .y_label_area_size(62)
        .build_cartesian_2d(xa.lo..xa.hi, ya.lo..ya.hi)?;
    let xl = |v: &f64| xa.label(*v);
    let yl = |v: &f64| ya.label(*v);
    chart
        .configure_mesh()
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .x_desc(xa.describe(&p.x_label))
        .y_desc(ya.describe(&p.y_label))
        .x_label_formatter(&xl)
        .y_label_formatter(&yl)
        .x_labels(6)
        .y_labels(6)
        .max_light_lines(1)
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    for (k, s) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|&(x, y)| (xa.map(x), ya.map(y)))
            .collect();
        if p.lines {
            chart.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?;
        }
        let drawn = chart.draw_series(
            pts.iter()
                .map(|&q| Circle::new(q, if p.lines { 3 } else { 2 }, color.filled())),
        )?;
        if !s.name.is_empty() {
            drawn
                .label(&s.name)
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
        }
    }
    if !p.highlight.is_empty() {
        let pts: Vec<(f64, f64)> = p
            .highlight
            .iter()
            .map(|&(x, y)| (xa.map(x), ya.map(y)))
            .collect();
        chart
            .draw_series(
                pts.iter()
                    .map(|&q| Circle::new(q, 5, BLACK.stroke_width(2))),
            )?
            .label("Pareto front")
            .legend(|(x, y)| Circle::new((x + 8, y), 4, BLACK.stroke_width(2)));
    }
    if series.iter().any(|s| !s.name.is_empty()) || !p.highlight.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 13))
            .draw()?;
    }
    Ok(())
}

/// A colour for `t` in [0, 1], from dark blue through green to yellow.
fn ramp(t: f64) -> RGBColor {
    let stops = [
        (68.0, 1.0, 84.0),
        (33.0, 145.0, 140.0),
        (253.0, 231.0, 37.0),
    ];
    let t = t.clamp(0.0, 1.0) * 2.0;
    let (i, f) = if t >= 2.0 {
        (1, 1.0)
    } else {
        (t as usize, t.fract())
    };
    let (a, b) = (stops[i], stops[i + 1]);
    let mix = |u: f64, v: f64| (u + (v - u) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Draws a heat map (with a colour scale from the minimum to the maximum).
pub fn heatmap_svg(h: &HeatMap) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0 + 100, SIZE.1)).into_drawing_area();
        draw_heatmap(&root, h).map_err(|e| plot_error(&h.title, e))?;
        root.present().map_err(|e| plot_error(&h.title, e))?;
    }
    Ok(svg)
}

fn draw_heatmap(root: &DrawingArea<SVGBackend, Shift>, h: &HeatMap) -> DrawResult {
    root.fill(&WHITE)?;
    let (map_area, scale_area) = root.split_horizontally(SIZE.0 + 10);
    let (lo, hi) = h
        .cells
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), c| {
            (l.min(c.2), u.max(c.2))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut chart = ChartBuilder::on(&map_area)
        .caption(&h.title, ("sans-serif", 17))
        .margin(8)
        .x_label_area_size(38)
        .y_label_area_size(62)
        .build_cartesian_2d(0.0..h.xs.len() as f64, 0.0..h.ys.len() as f64)?;
    let label_of = |values: &[f64], v: f64| {
        let i = v.floor() as usize;
        if (v - v.floor() - 0.5).abs() < 1e-9 && i < values.len() {
            tick(values[i])
        } else {
            String::new()
        }
    };
    let xl = |v: &f64| label_of(&h.xs, *v);
    let yl = |v: &f64| label_of(&h.ys, *v);
    chart
        .configure_mesh()
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .disable_mesh()
        .x_desc(&h.x_label)
        .y_desc(&h.y_label)
        .x_labels(h.xs.len() * 2 + 1)
        .y_labels(h.ys.len() * 2 + 1)
        .x_label_formatter(&xl)
        .y_label_formatter(&yl)
        .draw()?;
    chart.draw_series(h.cells.iter().map(|&(i, j, v)| {
        let (x, y) = (i as f64, j as f64);
        Rectangle::new([(x, y), (x + 1.0, y + 1.0)], ramp((v - lo) / span).filled())
    }))?;
    let mut scale = ChartBuilder::on(&scale_area)
        .margin_top(30)
        .margin_bottom(46)
        .margin_right(6)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0, lo..lo + span)?;
    let sl = |v: &f64| tick(*v);
    scale
        .configure_mesh()
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .disable_mesh()
        .disable_x_axis()
        .y_labels(5)
        .y_label_formatter(&sl)
        .draw()?;
    let steps = 40;
    scale.draw_series((0..steps).map(|k| {
        let a = lo + span * k as f64 / steps as f64;
        let b = lo + span * (k + 1) as f64 / steps as f64;
        Rectangle::new([(0.0, a), (1.0, b)], ramp(k as f64 / steps as f64).filled())
    }))?;
    Ok(())
}

/// The colour of an attempt's outcome.
pub fn status_color(status: &str) -> RGBColor {
    match status {
        "done" => RGBColor(0, 158, 115),
        "failed" | "error" => RGBColor(213, 50, 30),
        "timeout" => RGBColor(230, 159, 0),
        "interrupted" => RGBColor(120, 120, 120),
        _ => RGBColor(86, 180, 233),
    }
}

/// Draws the attempt timeline: one row per lane, one bar per attempt.
pub fn timeline_svg(lanes: &[String], bars: &[Bar]) -> Result<String> {
    let bars = downsample(bars, MAX_BARS);
    let height = (110 + 26 * lanes.len().max(1)).min(900) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (980, height)).into_drawing_area();
        draw_timeline(&root, lanes, &bars).map_err(|e| plot_error("timeline", e))?;
        root.present().map_err(|e| plot_error("timeline", e))?;
    }
    Ok(svg)
}

fn draw_timeline(
    root: &DrawingArea<SVGBackend, Shift>,
    lanes: &[String],
    bars: &[Bar],
) -> DrawResult {
    root.fill(&WHITE)?;
    let end = bars.iter().map(|b| b.end).fold(0.0, f64::max).max(1e-3);
    let n = lanes.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(220)
        .build_cartesian_2d(0.0..end * 1.02, 0.0..n as f64)?;
    let yl = |v: &f64| {
        let i = v.floor() as usize;
        if (v - v.floor() - 0.5).abs() < 1e-9 && i < lanes.len() {
            lanes[n - 1 - i].clone()
        } else {
            String::new()
        }
    };
    let xl = |v: &f64| tick(*v);
    chart
        .configure_mesh()
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .disable_y_mesh()
        .max_light_lines(1)
        .x_desc("seconds since the first attempt started")
        .y_labels((2 * n + 1).min(81))
        .y_label_formatter(&yl)
        .x_label_formatter(&xl)
        .draw()?;
    chart.draw_series(bars.iter().map(|b| {
        let row = (n - 1 - b.lane.min(n - 1)) as f64;
        let end = if b.end > b.start {
            b.end
        } else {
            b.start + end * 1e-3
        };
        Rectangle::new(
            [(b.start, row + 0.15), (end, row + 0.85)],
            status_color(&b.status).filled(),
        )
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `svg` has a `<text>` element reading `t`.
    pub(crate) fn has_text(svg: &str, t: &str) -> bool {
        svg.contains(&format!(">\n{t}\n</text>"))
    }

    fn series(name: &str, pts: &[(f64, f64)]) -> Series {
        Series {
            name: name.into(),
            points: pts.to_vec(),
        }
    }

    #[test]
    fn scatter_has_points_axes_and_escaped_labels() {
        let svg = xy_svg(&XyPlot {
            title: "p <b>&".into(),
            x_label: "x".into(),
            y_label: "pressure".into(),
            series: vec![series("", &[(1.0, 2.0), (2.0, 3.0), (3.0, 1.0)])],
            ..XyPlot::default()
        })
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(has_text(&svg, "pressure") && has_text(&svg, "x"), "{svg}");
        assert!(has_text(&svg, "p &lt;b&gt;&amp;"), "title escaped");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("<line") || svg.contains("<polyline"), "axes");
    }

    #[test]
    fn lines_have_one_polyline_and_legend_per_series() {
        let svg = xy_svg(&XyPlot {
            title: "t".into(),
            series: vec![
                series("V=1", &[(2.0, 1.0), (1.0, 2.0)]),
                series("V=2", &[(1.0, 3.0), (2.0, 4.0)]),
            ],
            lines: true,
            ..XyPlot::default()
        })
        .unwrap();
        let line = |c: &str| {
            format!("<polyline fill=\"none\" opacity=\"1\" stroke=\"{c}\" stroke-width=\"2\"")
        };
        assert_eq!(svg.matches(&line("#0072B2")).count(), 1, "{svg}");
        assert_eq!(svg.matches(&line("#D55E00")).count(), 1);
        assert!(has_text(&svg, "V=1") && has_text(&svg, "V=2"));
    }

    #[test]
    fn wide_ranges_get_log_axes_and_big_series_are_downsampled() {
        let pts: Vec<(f64, f64)> = (1..=10_000).map(|i| (i as f64, 1.0)).collect();
        let svg = xy_svg(&XyPlot {
            title: "t".into(),
            x_label: "n".into(),
            series: vec![series("", &pts)],
            ..XyPlot::default()
        })
        .unwrap();
        assert!(svg.contains("n (log scale)"));
        assert_eq!(svg.matches("<circle").count(), MAX_POINTS);
        assert!(
            has_text(&svg, "1000") || has_text(&svg, "1.00e4"),
            "real values on log ticks: {svg}"
        );
    }

    #[test]
    fn heatmap_has_a_cell_per_grid_point_and_a_scale() {
        let h = HeatMap {
            title: "h".into(),
            x_label: "a".into(),
            y_label: "b".into(),
            xs: vec![1.0, 2.0, 3.0],
            ys: vec![10.0, 20.0],
            cells: (0..3)
                .flat_map(|i| (0..2).map(move |j| (i, j, (i + j) as f64)))
                .collect(),
        };
        let svg = heatmap_svg(&h).unwrap();
        // 6 cells + 40 scale steps (+ backgrounds).
        assert!(svg.matches("<rect").count() >= 46, "{svg}");
        assert!(has_text(&svg, "20") && has_text(&svg, "3"), "axis values");
    }

    #[test]
    fn timeline_colours_bars_by_outcome() {
        let bars = vec![
            Bar {
                lane: 0,
                start: 0.0,
                end: 1.0,
                status: "done".into(),
            },
            Bar {
                lane: 1,
                start: 0.5,
                end: 2.0,
                status: "failed".into(),
            },
        ];
        let svg = timeline_svg(&["sh://a #1".into(), "sh://<a> #2".into()], &bars).unwrap();
        assert!(
            svg.contains("#009E73") || svg.contains("rgb(0,158,115)"),
            "{svg}"
        );
        assert!(svg.contains("#D5321E") || svg.contains("rgb(213,50,30)"));
        assert!(has_text(&svg, "sh://&lt;a&gt; #2"));
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(1e6), "1.00e6");
        assert_eq!(tick(-0.0), "0");
    }
}
