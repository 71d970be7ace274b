//! Native built-in algorithms: no file to install, no Python needed. One
//! file per algorithm; `common` holds what several share. This module owns
//! the list of built-ins and their construction from options; it must not
//! evaluate points nor write files (the design loop does). See
//! `docs/algorithms.md` for what each does and its options.

mod common;
mod student_t;
#[cfg(test)]
mod testing;

mod bfgs;
mod brent;
mod lhs;
mod montecarlo_uniform;
mod nsga2;
mod one_shot;
mod randomsampling;
mod sobol;
mod sobol_directions;

use super::{Algorithm, Options};
use crate::error::Result;

/// A built-in algorithm's name, summary and documented options.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinInfo {
    /// Name given to `-a`.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// (option, default, meaning).
    pub options: &'static [(&'static str, &'static str, &'static str)],
}

/// Every built-in, in listing order.
pub const BUILTINS: &[BuiltinInfo] = &[
    BuiltinInfo {
        name: "randomsampling",
        summary: "uniform random points over the ranges, one batch",
        options: randomsampling::OPTIONS,
    },
    BuiltinInfo {
        name: "montecarlo_uniform",
        summary:
            "uniform batches until the Student-t confidence interval of the mean is narrow enough",
        options: montecarlo_uniform::OPTIONS,
    },
    BuiltinInfo {
        name: "brent",
        summary: "Brent's method: 1-D minimisation, golden section with parabolic steps",
        options: brent::OPTIONS,
    },
    BuiltinInfo {
        name: "bfgs",
        summary: "bounded quasi-Newton (projected BFGS), finite-difference gradients in one batch",
        options: bfgs::OPTIONS,
    },
    BuiltinInfo {
        name: "nsga2",
        summary: "NSGA-II multi-objective minimisation (one generation per iteration)",
        options: nsga2::OPTIONS,
    },
    BuiltinInfo {
        name: "lhs",
        summary: "Latin hypercube: each of nvalues strata of every variable holds one point",
        options: lhs::OPTIONS,
    },
    BuiltinInfo {
        name: "sobol",
        summary: "Sobol' low-discrepancy sequence (Joe-Kuo directions), one batch",
        options: sobol::OPTIONS,
    },
];

/// The built-in named `name` with `options`, or `None` when there is none
/// of that name. A bad option value is an [`crate::Error::Value`] naming
/// the option and the algorithm.
pub fn create(name: &str, options: &Options) -> Option<Result<Box<dyn Algorithm>>> {
    fn boxed<A: Algorithm + 'static>(a: Result<A>) -> Result<Box<dyn Algorithm>> {
        a.map(|a| Box::new(a) as Box<dyn Algorithm>)
    }
    Some(match name {
        "randomsampling" => boxed(randomsampling::RandomSampling::new(options)),
        "montecarlo_uniform" => boxed(montecarlo_uniform::MonteCarloUniform::new(options)),
        "brent" => boxed(brent::Brent::new(options)),
        "bfgs" => boxed(bfgs::Bfgs::new(options)),
        "nsga2" => boxed(nsga2::Nsga2::new(options)),
        "lhs" => boxed(lhs::Lhs::new(options)),
        "sobol" => boxed(sobol::Sobol::new(options)),
        _ => return None,
    })
}

/// The options set in `options` that the built-in `name` does not know
/// (for the caller's warning; the built-ins ignore them). Empty when
/// `name` is no built-in.
pub fn unknown_options<'a>(name: &str, options: &'a Options) -> Vec<&'a str> {
    BUILTINS
        .iter()
        .find(|b| b.name == name)
        .map(|b| {
            let known: Vec<&str> = b.options.iter().map(|o| o.0).collect();
            options.unknown(&known)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::testing::opts;
    use super::*;

    #[test]
    fn every_listed_builtin_is_created_with_its_defaults() {
        for b in BUILTINS {
            let defaults = Options::new(b.name, Default::default())
                .with_defaults(b.options.iter().map(|(n, d, _)| (*n, *d)));
            assert!(
                matches!(create(b.name, &defaults), Some(Ok(_))),
                "{}",
                b.name
            );
            assert!(unknown_options(b.name, &defaults).is_empty(), "{}", b.name);
        }
        assert!(create("nonesuch", &Options::default()).is_none());
    }

    #[test]
    fn unknown_option_names_are_reported() {
        let o = opts("brent", serde_json::json!({"tol": 1e-3, "tolerance": 1}));
        assert_eq!(unknown_options("brent", &o), vec!["tolerance"]);
    }

    #[test]
    fn bad_values_are_one_line_errors_naming_option_and_algorithm() {
        let o = opts("brent", serde_json::json!({"max_iter": "many"}));
        let e = match create("brent", &o) {
            Some(Err(e)) => e.to_string(),
            _ => String::new(),
        };
        assert!(
            e.contains("'max_iter'") && e.contains("'brent'") && !e.contains('\n'),
            "{e}"
        );
    }
}
