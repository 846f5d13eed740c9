//! Node's built-in modules and web globals, as npm adaptors and their dependencies expect
//! them, implemented over bolt's host (QuickJS + Rust). The sandbox does not widen: these
//! modules reach no process, environment, file system or network beyond the HTTP host
//! functions jobs already have.
//!
//! The module loader asks [`builtin`] what a bare specifier (`events`, `node:events`) is:
//! a module bolt provides (by its name in the precompiled bundle), or one bolt refuses with
//! a message naming the adaptor and the module. [`replacement`] names npm packages that
//! bolt serves itself instead of loading the installed copy (`undici`, whose sockets
//! QuickJS can't have, maps onto the Rust HTTP client).

/// What bolt does with a Node built-in module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Provided: load the bundle module of this name.
    Provided(&'static str),
    /// Not available in bolt's sandbox; `why` completes "needs Node's `x`, which …".
    Unsupported { why: &'static str },
}

/// The Node built-ins bolt provides, by the name adaptors import, and their bundle module.
const PROVIDED: &[(&str, &str)] = &[];

/// Built-ins bolt refuses, and why (shown at deploy and at load).
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "net",
        "opens raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "tls",
        "opens raw TLS sockets, which bolt's sandbox does not allow",
    ),
    (
        "dgram",
        "opens UDP sockets, which bolt's sandbox does not allow",
    ),
    (
        "dns",
        "resolves names itself, which bolt's sandbox does not allow",
    ),
    (
        "child_process",
        "starts processes, which bolt's sandbox does not allow",
    ),
    (
        "cluster",
        "starts processes, which bolt's sandbox does not allow",
    ),
    (
        "worker_threads",
        "starts threads, which bolt's sandbox does not allow",
    ),
    (
        "fs",
        "reads and writes files, which bolt's sandbox does not allow",
    ),
    (
        "fs/promises",
        "reads and writes files, which bolt's sandbox does not allow",
    ),
    (
        "http2",
        "opens raw HTTP/2 sessions, which bolt's sandbox does not allow",
    ),
    ("inspector", "is a debugger interface bolt does not have"),
    ("v8", "is V8-specific; bolt runs QuickJS"),
    (
        "vm",
        "compiles code in new contexts, which bolt's sandbox does not allow",
    ),
];

/// npm packages bolt serves itself, by package name, and the bundle module that replaces them.
const REPLACEMENTS: &[(&str, &str)] = &[];

/// What `specifier` (with or without `node:`) is, or `None` when it is not a Node built-in.
pub fn builtin(specifier: &str) -> Option<Builtin> {
    let name = specifier.strip_prefix("node:").unwrap_or(specifier);
    if let Some((_, module)) = PROVIDED.iter().find(|(n, _)| *n == name) {
        return Some(Builtin::Provided(module));
    }
    UNSUPPORTED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| Builtin::Unsupported { why })
        .or_else(|| {
            specifier
                .starts_with("node:")
                .then_some(Builtin::Unsupported {
                    why: "is not one of the Node built-ins bolt provides",
                })
        })
}

/// The bundle module bolt serves in place of the npm package `package`, if any.
pub fn replacement(package: &str) -> Option<&'static str> {
    REPLACEMENTS
        .iter()
        .find(|(n, _)| *n == package)
        .map(|(_, module)| *module)
}

/// Every built-in bolt provides (for docs, `bolt adaptor list`, deploy checks).
pub fn provided() -> impl Iterator<Item = &'static str> {
    PROVIDED.iter().map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_sockets_processes_and_files() {
        for name in ["net", "node:tls", "child_process", "fs", "node:fs/promises"] {
            assert!(
                matches!(builtin(name), Some(Builtin::Unsupported { .. })),
                "{name}"
            );
        }
        assert!(matches!(
            builtin("node:not-a-module"),
            Some(Builtin::Unsupported { .. })
        ));
        assert_eq!(builtin("lodash"), None);
    }
}
