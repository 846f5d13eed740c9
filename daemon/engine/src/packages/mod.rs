//! npm packages at run time: what the engine needs to load an installed adaptor's published
//! code, unchanged, into QuickJS.
//!
//! - [`tree`]: the folder an adaptor was installed into; modules never resolve outside it.
//! - [`resolve`]: Node's resolution (package.json `exports`/`imports`/`main`, `node_modules`,
//!   built-in modules) inside a tree; [`exports_map`] matches `exports`/`imports` maps.
//! - [`package_json`]: the package.json fields resolution reads.
//! - [`source`]: how a file becomes something QuickJS compiles (ES modules as they are,
//!   CommonJS wrapped in a function).
//! - [`bytecode`]: compiled modules cached in memory and on disk, so a step costs about what
//!   a built-in adaptor's does.
//!
//! The QuickJS side (resolver, loader, `require`) is in `runtime::loader` and
//! `runtime::packages`.

pub mod bytecode;
pub mod exports_map;
pub mod package_json;
pub mod resolve;
pub mod source;
pub mod tree;
