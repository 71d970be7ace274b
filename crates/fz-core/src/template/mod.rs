//! Input templates: parsing variables, formulas and context lines,
//! compiling them per case, and evaluating formulas in interpreter workers.

pub mod check;
pub mod compile;
pub mod input;
pub mod interp;
pub mod literal;
pub mod numfmt;
pub mod parse;
pub mod static_objects;
