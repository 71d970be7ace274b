//! Student's t distribution: cumulative probability and quantile, for the
//! confidence interval of `montecarlo_uniform`. Built on the log-gamma
//! function (Lanczos) and the regularised incomplete beta function
//! (continued fraction, modified Lentz); the quantile is found by
//! bracketing and bisection. Owns no algorithm state.

/// Lanczos coefficients (g = 7, n = 9), accurate to ~1e-15 for x ≥ 0.5.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0.
fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = LANCZOS[1..]
        .iter()
        .enumerate()
        .fold(LANCZOS[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// The continued fraction of I_x(a, b), valid for x < (a+1)/(a+b+2).
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..1000 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function I_x(a, b), a, b > 0.
pub(crate) fn inc_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// P(T > t) for t ≥ 0 and `df` degrees of freedom.
fn upper_tail(t: f64, df: f64) -> f64 {
    0.5 * inc_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// The cumulative probability P(T ≤ t) with `df` > 0 degrees of freedom
/// (the quantile's inverse, for its tests).
#[cfg(test)]
fn t_cdf(t: f64, df: f64) -> f64 {
    if t >= 0.0 {
        1.0 - upper_tail(t, df)
    } else {
        upper_tail(-t, df)
    }
}

/// The quantile t such that P(T ≤ t) = p, for 0 < p < 1 and `df` > 0.
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let tail = 1.0 - p;
    if tail >= 0.5 {
        return 0.0;
    }
    // upper_tail decreases in t: bracket the root, then bisect.
    let (mut lo, mut hi) = (0.0, 1.0);
    while upper_tail(hi, df) > tail && hi < 1e300 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if upper_tail(mid, df) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_tables() {
        // (p, df, t) from standard Student-t tables (scipy.stats.t.ppf).
        let table = [
            (0.95, 9.0, 1.833_113),
            (0.975, 4.0, 2.776_445),
            (0.975, 1.0, 12.706_205),
            (0.995, 2.0, 9.924_843),
            (0.95, 29.0, 1.699_127),
            (0.9, 99.0, 1.290_161),
            (0.975, 1e7, 1.959_964),
        ];
        for (p, df, want) in table {
            let got = t_quantile(p, df);
            assert!(
                (got - want).abs() < 2e-6,
                "t({p}, {df}) = {got}, want {want}"
            );
            assert!((t_quantile(1.0 - p, df) + want).abs() < 2e-6);
        }
        assert_eq!(t_quantile(0.5, 3.0), 0.0);
    }

    #[test]
    fn cdf_is_symmetric_and_inverts_the_quantile() {
        for df in [1.0, 2.5, 10.0, 200.0] {
            assert!((t_cdf(0.0, df) - 0.5).abs() < 1e-15);
            for t in [0.1, 1.0, 3.0, 20.0] {
                assert!((t_cdf(t, df) + t_cdf(-t, df) - 1.0).abs() < 1e-14);
                // Inverting a probability within 1e-6 of 1 is ill-conditioned.
                if t_cdf(t, df) < 1.0 - 1e-6 {
                    assert!((t_quantile(t_cdf(t, df), df) - t).abs() < 1e-8 * t);
                }
            }
        }
        // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π.
        let cauchy = 0.5 + 2f64.atan() / std::f64::consts::PI;
        assert!((t_cdf(2.0, 1.0) - cauchy).abs() < 1e-14);
    }

    #[test]
    fn incomplete_beta_closed_forms() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; ln Γ(5) = ln 24.
        assert!((inc_beta(0.3, 1.0, 1.0) - 0.3).abs() < 1e-14);
        assert!((inc_beta(0.7, 3.0, 1.0) - 0.343).abs() < 1e-14);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
    }
}
