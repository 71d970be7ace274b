//! `nsga2`: multi-objective minimisation by NSGA-II (fast non-dominated
//! sorting, crowding distance, binary tournament, SBX crossover,
//! polynomial mutation, (μ+λ) selection). One generation per iteration.
//! Owns the population; writes no file (the front goes into the analysis).

use super::common::{bad_option, positive_f64, SeededRng};
use super::common::{fmt_g, need_ranges, py_dict, require_objective, usize_at_least};
use crate::algorithms::{json_number, Algorithm, Analysis, Objective, ObjectiveSpec, Options};
use crate::algorithms::{Point, Ranges};
use crate::error::Result;

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    ("pop_size", "24", "population size (points per generation)"),
    (
        "generations",
        "15",
        "generations, the first included (evaluations = pop_size × generations)",
    ),
    ("seed", "42", "seed of the random stream"),
    ("eta_cx", "15", "distribution index of SBX crossover"),
    ("eta_mut", "20", "distribution index of polynomial mutation"),
    ("p_cx", "0.9", "probability of crossover of a pair"),
];

/// Objective vectors of one population, and the derived rank and crowding.
type Vectors = Vec<Vec<f64>>;

/// NSGA-II.
pub(crate) struct Nsga2 {
    pop_size: usize,
    generations: usize,
    eta_cx: f64,
    eta_mut: f64,
    p_cx: f64,
    rng: SeededRng,
    names: Vec<String>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    pop_x: Vectors,
    pop_f: Vectors,
    pending: Vectors,
    generation: usize,
    evaluations: usize,
}

impl Nsga2 {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<Self> {
        let p_cx = options.f64("p_cx", 0.9)?;
        if !(0.0..=1.0).contains(&p_cx) {
            return Err(bad_option(
                options,
                "p_cx",
                "between 0 and 1",
                &p_cx.to_string(),
            ));
        }
        Ok(Nsga2 {
            pop_size: usize_at_least(options, "pop_size", 24, 2)?,
            generations: usize_at_least(options, "generations", 15, 1)?,
            eta_cx: positive_f64(options, "eta_cx", 15.0)?,
            eta_mut: positive_f64(options, "eta_mut", 20.0)?,
            p_cx,
            rng: SeededRng::new(options.u64("seed", 42)?),
            names: Vec::new(),
            lo: Vec::new(),
            hi: Vec::new(),
            pop_x: Vec::new(),
            pop_f: Vec::new(),
            pending: Vec::new(),
            generation: 0,
            evaluations: 0,
        })
    }

    fn point(&self, v: &[f64]) -> Point {
        self.names.iter().cloned().zip(v.iter().copied()).collect()
    }

    /// The objective vectors of the pending points; a failure (or a
    /// non-finite component) becomes a vector of +∞, dominated by all.
    fn pending_vectors(&self, x: &[Point], y: &[Objective]) -> Result<Vectors> {
        let raw = self
            .pending
            .iter()
            .map(|p| {
                let o = require_objective("nsga2", &self.point(p), x, y)?;
                Ok(o.values().filter(|v| v.iter().all(|f| f.is_finite())))
            })
            .collect::<Result<Vec<Option<Vec<f64>>>>>()?;
        let n_obj = raw
            .iter()
            .flatten()
            .chain(&self.pop_f)
            .map(Vec::len)
            .next()
            .unwrap_or(1);
        Ok(raw
            .into_iter()
            .map(|v| v.unwrap_or_else(|| vec![f64::INFINITY; n_obj]))
            .collect())
    }

    /// (μ+λ): parents and children, filled front by front, the last front
    /// cut by decreasing crowding distance.
    fn select(&mut self, children_x: Vectors, children_f: Vectors) {
        let all_x: Vectors = self.pop_x.drain(..).chain(children_x).collect();
        let all_f: Vectors = self.pop_f.drain(..).chain(children_f).collect();
        let mut keep: Vec<usize> = Vec::new();
        for front in fronts(&all_f) {
            if keep.len() + front.len() <= self.pop_size {
                keep.extend(front);
                continue;
            }
            let cd = crowding(&front.iter().map(|i| all_f[*i].clone()).collect::<Vec<_>>());
            let mut ranked: Vec<(usize, f64)> = front.into_iter().zip(cd).collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let room = self.pop_size - keep.len();
            keep.extend(ranked.into_iter().take(room).map(|r| r.0));
            break;
        }
        self.pop_x = keep.iter().map(|i| all_x[*i].clone()).collect();
        self.pop_f = keep.iter().map(|i| all_f[*i].clone()).collect();
    }

    /// `pop_size` children by tournament, crossover and mutation.
    fn reproduce(&mut self) -> Vectors {
        let (rank, cd) = rank_and_crowding(&self.pop_f);
        let mut children = Vec::with_capacity(self.pop_size);
        while children.len() < self.pop_size {
            let a = self.tournament(&rank, &cd);
            let b = self.tournament(&rank, &cd);
            let (mut c1, mut c2) = self.crossover(&self.pop_x[a].clone(), &self.pop_x[b].clone());
            self.mutate(&mut c1);
            self.mutate(&mut c2);
            children.push(c1);
            if children.len() < self.pop_size {
                children.push(c2);
            }
        }
        children
    }

    /// Binary tournament: lower rank wins, then larger crowding distance.
    fn tournament(&mut self, rank: &[usize], cd: &[f64]) -> usize {
        let (i, j) = (self.rng.below(rank.len()), self.rng.below(rank.len()));
        if rank[j] < rank[i] || (rank[j] == rank[i] && cd[j] > cd[i]) {
            j
        } else {
            i
        }
    }

    /// Simulated binary crossover (each variable with probability ½).
    fn crossover(&mut self, p1: &[f64], p2: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (mut c1, mut c2) = (p1.to_vec(), p2.to_vec());
        if self.rng.uniform() > self.p_cx {
            return (c1, c2);
        }
        for i in 0..p1.len() {
            if self.rng.uniform() > 0.5 || (p1[i] - p2[i]).abs() < 1e-12 {
                continue;
            }
            let u = self.rng.uniform();
            let e = 1.0 / (self.eta_cx + 1.0);
            let beta = if u <= 0.5 {
                (2.0 * u).powf(e)
            } else {
                (1.0 / (2.0 * (1.0 - u))).powf(e)
            };
            c1[i] = 0.5 * ((1.0 + beta) * p1[i] + (1.0 - beta) * p2[i]);
            c2[i] = 0.5 * ((1.0 - beta) * p1[i] + (1.0 + beta) * p2[i]);
        }
        self.clip(&mut c1);
        self.clip(&mut c2);
        (c1, c2)
    }

    /// Polynomial mutation, each variable with probability 1/n, the step
    /// scaled by its range.
    fn mutate(&mut self, x: &mut [f64]) {
        let n = x.len() as f64;
        let e = 1.0 / (self.eta_mut + 1.0);
        for (i, xi) in x.iter_mut().enumerate() {
            if self.rng.uniform() >= 1.0 / n {
                continue;
            }
            let u = self.rng.uniform();
            let delta = if u < 0.5 {
                (2.0 * u).powf(e) - 1.0
            } else {
                1.0 - (2.0 * (1.0 - u)).powf(e)
            };
            *xi += delta * (self.hi[i] - self.lo[i]);
        }
        self.clip(x);
    }

    fn clip(&self, x: &mut [f64]) {
        for (i, v) in x.iter_mut().enumerate() {
            *v = v.clamp(self.lo[i], self.hi[i]);
        }
    }

    /// The finite points of the first front of the population.
    fn pareto(&self) -> Vec<usize> {
        fronts(&self.pop_f)
            .into_iter()
            .next()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| self.pop_f[*i].iter().all(|v| v.is_finite()))
            .collect()
    }
}

/// Whether `a` Pareto-dominates `b` (minimisation).
fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

/// Fast non-dominated sorting: the indices of each front, best first.
fn fronts(f: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let n = f.len();
    let mut dominated_by: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut count = vec![0usize; n];
    for i in 0..n {
        for j in 0..n {
            if dominates(&f[i], &f[j]) {
                dominated_by[i].push(j);
            } else if dominates(&f[j], &f[i]) {
                count[i] += 1;
            }
        }
    }
    let mut current: Vec<usize> = (0..n).filter(|i| count[*i] == 0).collect();
    let mut out = Vec::new();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominated_by[i] {
                count[j] -= 1;
                if count[j] == 0 {
                    next.push(j);
                }
            }
        }
        out.push(std::mem::replace(&mut current, next));
    }
    out
}

/// Crowding distances within one front (boundaries +∞; an objective with
/// no finite spread adds nothing).
fn crowding(f: &[Vec<f64>]) -> Vec<f64> {
    let n = f.len();
    let mut d = vec![0.0; n];
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    for m in 0..f[0].len() {
        let column: Vec<f64> = f.iter().map(|v| v[m]).collect();
        add_crowding(&column, &mut d);
    }
    d
}

/// Adds one objective's share of the crowding distances `d`.
fn add_crowding(values: &[f64], d: &mut [f64]) {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
    let (first, last) = (order[0], order[n - 1]);
    d[first] = f64::INFINITY;
    d[last] = f64::INFINITY;
    let span = values[last] - values[first];
    if !(span.is_finite() && span > 0.0) {
        return;
    }
    for k in 1..n - 1 {
        d[order[k]] += (values[order[k + 1]] - values[order[k - 1]]) / span;
    }
}

/// Each member's front number and crowding distance within its front.
fn rank_and_crowding(f: &[Vec<f64>]) -> (Vec<usize>, Vec<f64>) {
    let mut rank = vec![0; f.len()];
    let mut cd = vec![0.0; f.len()];
    for (r, front) in fronts(f).into_iter().enumerate() {
        let d = crowding(&front.iter().map(|i| f[*i].clone()).collect::<Vec<_>>());
        for (k, i) in front.into_iter().enumerate() {
            rank[i] = r;
            cd[i] = d[k];
        }
    }
    (rank, cd)
}

impl Algorithm for Nsga2 {
    fn initial_design(&mut self, ranges: &Ranges, _: &ObjectiveSpec) -> Result<Vec<Point>> {
        need_ranges("nsga2", ranges)?;
        self.names = ranges.keys().cloned().collect();
        self.lo = ranges.values().map(|r| r.0).collect();
        self.hi = ranges.values().map(|r| r.1).collect();
        (self.pop_x, self.pop_f, self.generation, self.evaluations) = (vec![], vec![], 0, 0);
        self.pending = (0..self.pop_size)
            .map(|_| {
                (0..self.lo.len())
                    .map(|i| self.rng.uniform_in(self.lo[i], self.hi[i]))
                    .collect()
            })
            .collect();
        Ok(self.pending.iter().map(|p| self.point(p)).collect())
    }

    fn next_design(&mut self, x: &[Point], y: &[Objective]) -> Result<Vec<Point>> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let new_f = self.pending_vectors(x, y)?;
        let new_x = std::mem::take(&mut self.pending);
        self.evaluations += new_x.len();
        if self.pop_x.is_empty() {
            (self.pop_x, self.pop_f) = (new_x, new_f);
        } else {
            self.select(new_x, new_f);
        }
        self.generation += 1;
        if self.generation < self.generations {
            self.pending = self.reproduce();
        }
        Ok(self.pending.iter().map(|p| self.point(p)).collect())
    }

    fn analysis(&mut self, _: &[Point], _: &[Objective]) -> Result<Option<Analysis>> {
        let front = self.pareto();
        let mut lines = vec![format!(
            "NSGA-II: {} generations, {} evaluations, Pareto front: {} points",
            self.generation,
            self.evaluations,
            front.len()
        )];
        for &i in front.iter().take(10) {
            let objs: Vec<String> = self.pop_f[i].iter().map(|v| fmt_g(*v, 4)).collect();
            lines.push(format!(
                "  {} -> [{}]",
                py_dict(&self.point(&self.pop_x[i])),
                objs.join(", ")
            ));
        }
        let rows = |v: &Vectors| -> serde_json::Value {
            front
                .iter()
                .map(|i| v[*i].iter().map(|x| json_number(*x)).collect::<Vec<_>>())
                .collect::<Vec<_>>()
                .into()
        };
        let mut data = serde_json::Map::new();
        data.insert("pareto_X".into(), rows(&self.pop_x));
        data.insert("pareto_F".into(), rows(&self.pop_f));
        Ok(Some(Analysis {
            text: Some(lines.join("\n")),
            html: None,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drive, opts, within};
    use super::*;

    fn alg(json: serde_json::Value) -> Nsga2 {
        Nsga2::new(&opts("nsga2", json)).expect("valid options")
    }

    /// ZDT1: f1 = x1, f2 = g·(1 − √(x1/g)), g = 1 + 9·mean(x2..xn);
    /// the true front is g = 1: f2 = 1 − √f1.
    fn zdt1(p: &Point) -> Objective {
        let x: Vec<f64> = p.values().copied().collect();
        let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / (x.len() - 1) as f64;
        Objective::Multi(vec![x[0], g * (1.0 - (x[0] / g).sqrt())])
    }

    fn zdt1_ranges(n: usize) -> Ranges {
        (1..=n).map(|i| (format!("x{i}"), (0.0, 1.0))).collect()
    }

    /// Mean vertical gap of a front above the true ZDT1 front (≥ 0 always).
    fn mean_gap(front: &serde_json::Value) -> f64 {
        let f = front.as_array().expect("list");
        let gaps: Vec<f64> = f
            .iter()
            .map(|p| {
                let (f1, f2) = (p[0].as_f64().unwrap_or(0.0), p[1].as_f64().unwrap_or(0.0));
                f2 - (1.0 - f1.sqrt())
            })
            .collect();
        gaps.iter().sum::<f64>() / gaps.len() as f64
    }

    #[test]
    fn defaults_run_pop_size_times_generations() {
        let r = zdt1_ranges(3);
        let mut a = alg(serde_json::json!({}));
        let run = drive(&mut a, &r, &zdt1, 20);
        assert_eq!((run.batches, run.x.len()), (15, 360));
        assert!(within(&run.x, &r));
        let an = a.analysis(&run.x, &run.y).expect("ok").expect("some");
        let text = an.text.expect("text");
        assert!(text.starts_with("NSGA-II: 15 generations, 360 evaluations, Pareto front: "));
        assert!(!an.data["pareto_F"].as_array().expect("list").is_empty());
        eprintln!(
            "nsga2 zdt1 defaults: mean gap {:.4}",
            mean_gap(&an.data["pareto_F"])
        );
    }

    #[test]
    fn zdt1_front_approaches_the_true_front() {
        // 5 variables, 40 × 60 = 2400 evaluations. A random point has a gap
        // g − 1 ≈ 4.5 on average; the tolerance 0.02 is 2% of the front's
        // f2 range [0; 1] (observed: 0.006).
        let r = zdt1_ranges(5);
        let mut a = alg(serde_json::json!({"pop_size": 40, "generations": 60}));
        let run = drive(&mut a, &r, &zdt1, 100);
        let an = a.analysis(&run.x, &run.y).expect("ok").expect("some");
        let f = &an.data["pareto_F"];
        let gap = mean_gap(f);
        eprintln!(
            "nsga2 zdt1: {} points, mean gap {gap:.4}",
            f.as_array().map_or(0, Vec::len)
        );
        assert!(gap < 0.02, "mean gap {gap}");
        let f1: Vec<f64> = f
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|p| p[0].as_f64())
            .collect();
        let (lo, hi) = f1
            .iter()
            .fold((1.0f64, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
        assert!(lo < 0.1 && hi > 0.9, "front spans f1 from {lo} to {hi}");
    }

    #[test]
    fn same_seed_same_points_and_failures_are_dominated() {
        let r = zdt1_ranges(2);
        let failing = |p: &Point| {
            if p["x1"] > 0.8 {
                Objective::Missing
            } else {
                zdt1(p)
            }
        };
        let o = serde_json::json!({"pop_size": 10, "generations": 4, "seed": 7});
        let mut a = alg(o.clone());
        let first = drive(&mut a, &r, &failing, 10);
        let second = drive(&mut alg(o), &r, &failing, 10);
        assert_eq!(first.x, second.x);
        let an = a.analysis(&first.x, &first.y).expect("ok").expect("some");
        let px = an.data["pareto_X"].as_array().expect("list").clone();
        assert!(px.iter().all(|p| p[0].as_f64().is_some_and(|v| v <= 0.8)));
    }

    #[test]
    fn sorting_and_crowding_on_a_small_case() {
        let f = vec![
            vec![1.0, 4.0],
            vec![2.0, 2.0],
            vec![3.0, 3.0],
            vec![4.0, 1.0],
            vec![5.0, 5.0],
        ];
        assert_eq!(fronts(&f), vec![vec![0, 1, 3], vec![2], vec![4]]);
        let cd = crowding(&[vec![1.0, 4.0], vec![2.0, 2.0], vec![4.0, 1.0]]);
        assert!(cd[0].is_infinite() && cd[2].is_infinite());
        assert!((cd[1] - (3.0 / 3.0 + 3.0 / 3.0)).abs() < 1e-12);
    }
}
