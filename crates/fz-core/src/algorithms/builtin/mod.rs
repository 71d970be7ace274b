//! Native built-in algorithms: no file to install, no Python needed.
//! (Filled in by the built-in algorithms work.)

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
pub const BUILTINS: &[BuiltinInfo] = &[];

/// The built-in named `name` with `options`, or `None` when there is none
/// of that name.
pub fn create(name: &str, options: &Options) -> Option<Result<Box<dyn Algorithm>>> {
    let _ = (name, options);
    None
}
