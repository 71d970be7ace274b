//! Configuration read from the environment at call time (never cached at start-up).
