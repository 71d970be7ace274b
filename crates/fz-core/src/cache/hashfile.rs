//! `.fz_hash` files: MD5 of every compiled input file of a case.
