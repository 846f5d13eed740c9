//! The built-in adaptors (language-common, language-http) and their Rust host functions.
