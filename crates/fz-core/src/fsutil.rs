//! Filesystem helpers shared by the layers: unique directory renames, atomic writes, path-safe names.
