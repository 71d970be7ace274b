//! Formula interpreter workers (python3, Rscript): one persistent process per compile.
