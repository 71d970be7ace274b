//! The plots of `fzd`'s `results_<i>.html`: the objective per evaluation,
//! the objective against each input variable, and for several objectives
//! the Pareto front of the first two (both minimised). Takes the
//! cumulative points and objectives; returns an HTML fragment of inline
//! SVG and writes nothing.

use super::html::escape;
use super::plots::{self, Series, XyPlot};
use crate::algorithms::{Objective, Point};

/// The plots section (a `<h2>` and inline SVG), empty when no evaluation
/// has a value. `names` are the objectives' names, in order.
pub fn design_plots(x: &[Point], y: &[Objective], names: &[String]) -> String {
    let valid: Vec<(&Point, Vec<f64>)> = x
        .iter()
        .zip(y)
        .filter_map(|(p, o)| Some((p, o.values()?)))
        .filter(|(_, v)| !v.is_empty() && v.iter().all(|f| f.is_finite()))
        .collect();
    if valid.is_empty() {
        return String::new();
    }
    let first = names.first().map_or("objective", String::as_str);
    let mut out = String::from("<h2>Plots</h2>\n<div class=\"plots\">\n");
    let per_eval: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .enumerate()
        .filter_map(|(k, (_, o))| Some(((k + 1) as f64, o.first()?)))
        .filter(|p| p.1.is_finite())
        .collect();
    push(
        &mut out,
        plots::xy_svg(&XyPlot {
            title: format!("{first} per evaluation"),
            x_label: "evaluation".into(),
            y_label: first.into(),
            series: vec![Series {
                name: String::new(),
                points: per_eval,
            }],
            lines: true,
            highlight: Vec::new(),
        }),
    );
    let variables: Vec<&String> = x.first().map(|p| p.keys().collect()).unwrap_or_default();
    for var in variables {
        let points = valid
            .iter()
            .filter_map(|(p, v)| Some((*p.get(var)?, v[0])))
            .collect();
        push(
            &mut out,
            plots::xy_svg(&XyPlot {
                title: format!("{first} vs {var}"),
                x_label: var.clone(),
                y_label: first.into(),
                series: vec![Series {
                    name: String::new(),
                    points,
                }],
                ..XyPlot::default()
            }),
        );
    }
    if names.len() >= 2 {
        let pts: Vec<(f64, f64)> = valid
            .iter()
            .filter(|(_, v)| v.len() >= 2)
            .map(|(_, v)| (v[0], v[1]))
            .collect();
        push(
            &mut out,
            plots::xy_svg(&XyPlot {
                title: "Pareto front".into(),
                x_label: names[0].clone(),
                y_label: names[1].clone(),
                highlight: pareto_front(&pts),
                series: vec![Series {
                    name: "evaluations".into(),
                    points: pts,
                }],
                lines: false,
            }),
        );
    }
    out.push_str("</div>\n");
    out
}

fn push(out: &mut String, svg: crate::error::Result<String>) {
    match svg {
        Ok(svg) => out.push_str(&svg),
        Err(e) => out.push_str(&format!("<p>{}</p>", escape(&e.to_string()))),
    }
    out.push('\n');
}

/// The points no other point dominates (both coordinates minimised),
/// sorted by the first.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut front: Vec<(f64, f64)> = Vec::new();
    for p in sorted {
        let dominated = matches!(front.last(), Some(last) if p.1 >= last.1);
        if !dominated {
            front.push(p);
        }
    }
    front
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f64) -> Point {
        [("x".to_string(), x)].into_iter().collect()
    }

    #[test]
    fn single_objective_plots() {
        let x = vec![point(1.0), point(2.0), point(3.0)];
        let y = vec![
            Objective::Single(4.0),
            Objective::Missing,
            Objective::Single(1.0),
        ];
        let html = design_plots(&x, &y, &["f<x>".to_string()]);
        assert_eq!(html.matches("<svg").count(), 2, "per evaluation, vs x");
        assert!(html.contains("f&lt;x&gt; per evaluation"));
        assert!(html.contains("f&lt;x&gt; vs x"));
        assert!(!html.contains("Pareto"));
        assert_eq!(design_plots(&x[..1], &y[1..2], &[]), "");
    }

    #[test]
    fn pareto_front_of_two_objectives() {
        let pts = [(1.0, 5.0), (2.0, 2.0), (3.0, 3.0), (4.0, 1.0), (2.0, 4.0)];
        assert_eq!(pareto_front(&pts), [(1.0, 5.0), (2.0, 2.0), (4.0, 1.0)]);
        let x: Vec<Point> = (0..5).map(|k| point(k as f64)).collect();
        let y: Vec<Objective> = pts
            .iter()
            .map(|p| Objective::Multi(vec![p.0, p.1]))
            .collect();
        let html = design_plots(&x, &y, &["a".to_string(), "b".to_string()]);
        assert_eq!(html.matches("<svg").count(), 3);
        assert!(html.contains(">\nPareto front\n<"));
        // The three front points are circled in black.
        assert_eq!(
            html.matches("r=\"5\" opacity=\"1\" fill=\"none\" stroke=\"#000000\"")
                .count(),
            3
        );
    }
}
