//! The `fz` binary (and its multicall names fzi, fzc, fzo, fzr, fzd, fzl).
fn main() {
    println!("fz {}", fz_core::VERSION);
}
