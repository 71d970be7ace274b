//! The user-facing operations (`fzi`, `fzc`, …) composed from the layers.
//! Thin: argument checks and orchestration only.

pub mod case_writer;
pub mod compile;
pub mod design;
pub mod events;
pub mod input;
pub mod list;
pub mod output;
pub mod preflight;
pub mod run;

/// Test helpers shared by the operations' tests.
#[cfg(test)]
pub(crate) mod testutil {
    /// The entry names of `dir`, sorted.
    pub fn names(dir: &std::path::Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }
}
