//! Algorithm plugin files (`.py`, `.R`) hosted out of process, and what
//! `-a <algorithm>` resolves to (design-of-experiments §5).
//!
//! * [`resolve`] says what a name means (plugin file in `./.fz/algorithms`,
//!   then `~/.fz/algorithms`, then a built-in, then a path), [`discover`]
//!   lists plugin files for `fzl`;
//! * [`Header`] reads a file's `#options` / `#require` / other metadata;
//! * [`PluginAlgorithm`] runs a file in a Python or `Rscript` host process
//!   through a JSON-lines protocol, [`check`] validates one for
//!   `fzl --check`;
//! * [`load`] puts it together for the design loop.
//!
//! This module never installs packages (`#require` is checked and reported)
//! and never writes files; it does not evaluate points nor implement the
//! built-ins ([`crate::algorithms::builtin`]).

mod algorithm;
mod header;
mod host;
mod resolve;
mod wire;

pub use algorithm::{check, PluginAlgorithm};
pub use header::Header;
pub use host::default_executable;
pub use resolve::{discover, is_plugin_name, resolve, Language, PluginFile, Resolution};

use crate::algorithms::{builtin, Algorithm, Options};
use crate::error::{Error, Result};
use crate::model::Lookup;
use serde_json::{Map, Value as Json};

/// The algorithm `spec` names (see [`resolve`]) with the user's `options`:
/// a plugin file started in its interpreter ([`default_executable`]: the
/// one formulas use) in `lookup.cwd`, or a built-in. Errors are one line
/// naming the file or the name.
pub fn load(
    spec: &str,
    options: &Map<String, Json>,
    lookup: &Lookup,
) -> Result<Box<dyn Algorithm>> {
    match resolve(spec, lookup)? {
        Resolution::Plugin(file) => {
            let exe = default_executable(file.language);
            let algorithm = PluginAlgorithm::start(&file, options, &exe, &lookup.cwd)?;
            Ok(Box::new(algorithm))
        }
        Resolution::Builtin(info) => {
            let options = Options::new(info.name, options.clone());
            let unknown = builtin::unknown_options(info.name, &options);
            if !unknown.is_empty() {
                crate::log::notice(&format!(
                    "algorithm '{}' has no option(s) {} (ignored); its options: {}",
                    info.name,
                    unknown.join(", "),
                    info.options
                        .iter()
                        .map(|o| o.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            builtin::create(info.name, &options).unwrap_or_else(|| {
                Err(Error::Value(format!(
                    "built-in algorithm '{}' is listed but not available",
                    info.name
                )))
            })
        }
    }
}

#[cfg(test)]
mod tests;
