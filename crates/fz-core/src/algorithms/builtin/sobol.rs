//! `sobol`: the first `nvalues` points of the Sobol' sequence (Joe–Kuo
//! direction numbers, Gray-code order, 32 bits), scaled to the ranges, one
//! batch; up to 100 variables. Optional random digital shift (seeded).
//! Owns only this design; the direction numbers are in `sobol_directions`.

use super::common::{bad_option, usize_at_least, SeededRng};
use super::one_shot::{OneShot, Sampler};
use super::sobol_directions::DIRECTIONS;
use crate::algorithms::{Options, Point, Ranges};
use crate::error::{Error, Result};

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    ("nvalues", "10", "number of points"),
    (
        "skip",
        "1",
        "points of the sequence skipped first (1 skips the all-minimum corner; 0 keeps it, then any 2^k points are balanced)",
    ),
    (
        "scramble",
        "false",
        "true: XOR each variable with a random 32-bit shift (seeded)",
    ),
    ("seed", "42", "seed of the shift when scramble=true"),
];

/// Bits of each coordinate (and so at most 2^32 points).
const BITS: u32 = 32;

/// Sobol' sequence sampling.
pub(crate) struct Sobol {
    nvalues: usize,
    skip: u64,
    scramble: bool,
    rng: SeededRng,
}

impl Sobol {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<OneShot<Self>> {
        let nvalues = usize_at_least(options, "nvalues", 10, 1)?;
        let skip = options.u64("skip", 1)?;
        if skip.saturating_add(nvalues as u64) > 1u64 << BITS {
            return Err(bad_option(
                options,
                "skip",
                "such that skip + nvalues ≤ 2^32",
                &skip.to_string(),
            ));
        }
        Ok(OneShot(Sobol {
            nvalues,
            skip,
            scramble: options.bool("scramble", false)?,
            rng: SeededRng::new(options.u64("seed", 42)?),
        }))
    }
}

/// The 32 direction numbers V_1…V_32 of dimension `dim` (0-based).
fn directions(dim: usize) -> Vec<u32> {
    if dim == 0 {
        return (1..=BITS).map(|k| 1u32 << (BITS - k)).collect();
    }
    let (poly, init) = DIRECTIONS[dim - 1];
    let s = init.len();
    let mut m: Vec<u32> = init.to_vec();
    for k in s..BITS as usize {
        // m_k = m_{k−s} ⊕ 2^s·m_{k−s} ⊕ ⊕_j 2^j·a_j·m_{k−j}, a_j the
        // polynomial's inner coefficients.
        let mut v = m[k - s] ^ (m[k - s] << s);
        for j in 1..s {
            if (poly >> (s - j)) & 1 == 1 {
                v ^= m[k - j] << j;
            }
        }
        m.push(v);
    }
    m.iter()
        .enumerate()
        .map(|(k, mk)| mk << (BITS as usize - 1 - k))
        .collect()
}

/// Coordinate `index` of the sequence (Gray-code order) for directions `v`.
fn coordinate(v: &[u32], index: u64) -> u32 {
    let gray = index ^ (index >> 1);
    (0..BITS as usize)
        .filter(|b| (gray >> b) & 1 == 1)
        .fold(0u32, |acc, b| acc ^ v[b])
}

impl Sampler for Sobol {
    const NAME: &'static str = "sobol";
    const TITLE: &'static str = "Sobol Sampling Results:";

    fn points(&mut self, ranges: &Ranges) -> Result<Vec<Point>> {
        let max = DIRECTIONS.len() + 1;
        if ranges.len() > max {
            return Err(Error::Value(format!(
                "algorithm 'sobol' supports at most {max} variables, got {}",
                ranges.len()
            )));
        }
        let mut points = vec![Point::new(); self.nvalues];
        for (dim, (name, &(lo, hi))) in ranges.iter().enumerate() {
            let v = directions(dim);
            let shift = if self.scramble {
                self.rng.next_u32()
            } else {
                0
            };
            for (j, p) in points.iter_mut().enumerate() {
                let bits = coordinate(&v, self.skip + j as u64) ^ shift;
                let u = f64::from(bits) / (1u64 << BITS) as f64;
                p.insert(name.clone(), lo + u * (hi - lo));
            }
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{one_shot, opts, ranges, within};
    use super::*;
    use crate::algorithms::{Algorithm, ObjectiveSpec};

    fn unit(n: usize) -> Ranges {
        (1..=n).map(|i| (format!("x{i}"), (0.0, 1.0))).collect()
    }

    fn run(json: serde_json::Value, r: &Ranges) -> Vec<Point> {
        one_shot(
            &mut Sobol::new(&opts("sobol", json)).expect("valid options"),
            r,
        )
    }

    fn column(x: &[Point], name: &str) -> Vec<f64> {
        x.iter().map(|p| p[name]).collect()
    }

    #[test]
    fn first_points_match_the_known_sequence() {
        // scipy.stats.qmc.Sobol(scramble=False), which uses the same
        // Joe–Kuo numbers, without its leading all-zero point.
        let x = run(serde_json::json!({"nvalues": 7}), &unit(100));
        let want = [
            ("x1", [0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125]),
            ("x2", [0.5, 0.25, 0.75, 0.375, 0.875, 0.125, 0.625]),
            ("x50", [0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125]),
            ("x100", [0.5, 0.75, 0.25, 0.875, 0.375, 0.125, 0.625]),
        ];
        for (name, values) in want {
            assert_eq!(column(&x, name), values, "{name}");
        }
        let x = run(serde_json::json!({"nvalues": 16, "skip": 0}), &unit(100));
        assert_eq!(column(&x, "x1")[8..12], [0.1875, 0.6875, 0.9375, 0.4375]);
        assert_eq!(column(&x, "x99")[8..12], [0.5625, 0.0625, 0.8125, 0.3125]);
        assert_eq!(column(&x, "x100")[12..16], [0.0625, 0.5625, 0.8125, 0.3125]);
    }

    #[test]
    fn power_of_two_points_from_zero_fill_every_stratum_once() {
        let r = ranges(&[("a", -1.0, 1.0), ("b", 0.0, 10.0), ("c", 5.0, 6.0)]);
        let n = 64;
        let x = run(serde_json::json!({"nvalues": n, "skip": 0}), &r);
        assert!(within(&x, &r));
        for (name, (lo, hi)) in &r {
            let mut hits = vec![0; n];
            for v in column(&x, name) {
                hits[((v - lo) / (hi - lo) * n as f64) as usize] += 1;
            }
            assert!(hits.iter().all(|h| *h == 1), "{name}");
        }
    }

    #[test]
    fn scramble_is_seeded_and_stays_in_bounds() {
        let r = ranges(&[("a", 2.0, 3.0), ("b", -4.0, -3.0)]);
        let o = serde_json::json!({"nvalues": 32, "scramble": true, "seed": 9});
        let a = run(o.clone(), &r);
        assert_eq!(a, run(o, &r));
        assert!(within(&a, &r));
        assert_ne!(a, run(serde_json::json!({"nvalues": 32}), &r));
    }

    #[test]
    fn too_many_variables_is_a_clear_error() {
        let mut a = Sobol::new(&opts("sobol", serde_json::json!({}))).expect("valid");
        let spec = ObjectiveSpec {
            expressions: vec!["out".into()],
            multi: false,
        };
        let e = a
            .initial_design(&unit(101), &spec)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("algorithm 'sobol' supports at most 100 variables, got 101")
        );
    }
}
