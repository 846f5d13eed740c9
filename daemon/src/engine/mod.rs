//! The OpenFn-compatible job engine: compiles job code like OpenFn's compiler, runs it in
//! embedded QuickJS with OpenFn's sandbox and state rules, with language-common and
//! language-http built in. Knows nothing of SQLite, sockets or HTTP servers.

pub mod adaptors;
pub mod compiler;
pub mod runtime;
