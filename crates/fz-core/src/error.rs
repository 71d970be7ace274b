//! The library's error type. Every variant names the file, key or value at
//! fault so that the edges (CLI, Python) can print it as one line.

use std::path::PathBuf;

/// Errors returned by the fz core library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model could not be resolved or is invalid.
    #[error("{0}")]
    Model(String),
    /// An argument has the wrong type (Python `TypeError` at the edge).
    #[error("{0}")]
    Type(String),
    /// An argument has a bad value (Python `ValueError` at the edge).
    #[error("{0}")]
    Value(String),
    /// A path the user named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A formula interpreter could not be started or died.
    #[error("{0}")]
    Interpreter(String),
    /// A results or analysis directory is in use by another run.
    #[error("{0}")]
    Busy(String),
    /// A design has more cases than `FZ_MAX_CASES` allows (a command-line
    /// mistake at the CLI, exit 2; `ValueError` in Python).
    #[error("{0}")]
    TooManyCases(String),
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory the operation was about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the core library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
