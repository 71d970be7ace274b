//! A miniature design loop and helpers for the built-ins' unit tests
//! (test builds only).

use crate::algorithms::{Algorithm, Objective, ObjectiveSpec, Options, Point, Ranges};

/// Options of `owner` from a JSON object literal.
pub(crate) fn opts(owner: &str, json: serde_json::Value) -> Options {
    match json {
        serde_json::Value::Object(m) => Options::new(owner, m),
        _ => panic!("test options must be a JSON object"),
    }
}

/// Ranges from (name, min, max) triples.
pub(crate) fn ranges(vars: &[(&str, f64, f64)]) -> Ranges {
    vars.iter()
        .map(|(n, a, b)| (n.to_string(), (*a, *b)))
        .collect()
}

/// What a driven design produced.
pub(crate) struct Run {
    pub x: Vec<Point>,
    pub y: Vec<Objective>,
    /// Batches evaluated (the loop's iterations).
    pub batches: usize,
}

/// Runs `alg` to its end the way the design loop does: initial design,
/// evaluate every point with `f`, next design, … until an empty batch.
/// Panics past `max_batches` (a design that does not terminate).
pub(crate) fn drive(
    alg: &mut dyn Algorithm,
    ranges: &Ranges,
    f: &dyn Fn(&Point) -> Objective,
    max_batches: usize,
) -> Run {
    let spec = ObjectiveSpec {
        expressions: vec!["output".into()],
        multi: false,
    };
    let mut run = Run {
        x: Vec::new(),
        y: Vec::new(),
        batches: 0,
    };
    let mut batch = alg.initial_design(ranges, &spec).expect("initial design");
    while !batch.is_empty() {
        run.batches += 1;
        assert!(
            run.batches <= max_batches,
            "no end after {max_batches} batches"
        );
        for p in batch {
            run.y.push(f(&p));
            run.x.push(p);
        }
        batch = alg.next_design(&run.x, &run.y).expect("next design");
    }
    run
}

/// The points of a one-shot design (checked to come in one batch).
pub(crate) fn one_shot(alg: &mut dyn Algorithm, ranges: &Ranges) -> Vec<Point> {
    let f = |p: &Point| Objective::Single(p.values().sum());
    let run = drive(alg, ranges, &f, 2);
    assert_eq!(run.batches, 1, "a one-shot design proposes one batch");
    run.x
}

/// Whether every point lies within `ranges`.
pub(crate) fn within(x: &[Point], ranges: &Ranges) -> bool {
    x.iter().all(|p| {
        ranges
            .iter()
            .all(|(n, (a, b))| p.get(n).is_some_and(|v| *v >= *a && *v <= *b))
    })
}
