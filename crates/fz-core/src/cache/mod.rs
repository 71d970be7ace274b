//! Cache layer: content hashes of compiled cases (`.fz_hash`) and, later,
//! the lookup of earlier results. Must not compile templates or run cases.

pub mod hashfile;
pub mod lookup;
pub mod maintenance;
