//! Model resolution (inline JSON, `.json` file, alias) and validation; every key alias is resolved here, once.
