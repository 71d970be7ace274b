//! Algorithm plugin files (`.py`, `.R`) hosted out of process.
//! (Filled in by the plugin-hosting work.)
