//! Cache layer: content hashes of compiled cases (`.fz_hash`), the
//! results-directory index, the lookup of earlier results and the
//! `fz cache` maintenance views. Must not compile templates or run cases.

pub mod hashfile;
pub mod index;
pub mod lookup;
pub mod maintenance;
