//! Input templates: parsing variables, formulas and context lines,
//! compiling them per case, and evaluating formulas in interpreter workers.

pub mod interp;
pub mod literal;
pub mod numfmt;
pub mod parse;
