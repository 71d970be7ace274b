//! Designs of experiments: a map of axes (Cartesian product) or a table of cases.
