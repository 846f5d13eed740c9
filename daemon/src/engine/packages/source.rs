//! How a package file becomes code QuickJS compiles.
//!
//! ES modules are compiled as they are. A CommonJS file becomes the function Node wraps it
//! in, `(exports, require, module, __filename, __dirname)`, with its source on the same
//! first line so line numbers in stack traces stay the file's own:
//! - when the file starts with a `"use strict"` directive (what TypeScript, Babel and esbuild
//!   emit), the function is the default export of a small ES module: modules are strict
//!   anyway, so nothing changes meaning, and modules can be cached as bytecode;
//! - otherwise it is a script evaluated to the function, keeping sloppy-mode semantics
//!   (`this` in plain calls, Annex B functions in blocks…) that old packages such as lodash
//!   may rely on. Scripts are parsed in every context that loads them.

/// Bump when the wrapping changes: cached bytecode made with another version is ignored.
pub const SOURCE_FORMAT: u32 = 1;

const CJS_PARAMS: &str = "exports, require, module, __filename, __dirname";

/// The source of an ES module whose default export is the CommonJS module function.
pub fn cjs_as_module(source: &str) -> String {
    format!(
        "export default function ({CJS_PARAMS}) {{{}\n}}",
        without_hashbang(source)
    )
}

/// A script evaluating to the CommonJS module function.
pub fn cjs_as_script(source: &str) -> String {
    format!(
        "(function ({CJS_PARAMS}) {{{}\n}})",
        without_hashbang(source)
    )
}

/// An ES module's source, ready to compile.
pub fn esm(source: &str) -> String {
    without_hashbang(source).into_owned()
}

/// Drops a byte order mark and turns a `#!` line into a comment (same line count).
fn without_hashbang(source: &str) -> std::borrow::Cow<'_, str> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    match source.strip_prefix("#!") {
        Some(rest) => format!("//{rest}").into(),
        None => source.into(),
    }
}

/// Whether the file's directive prologue says `"use strict"`.
pub fn is_strict(source: &str) -> bool {
    let mut rest = without_hashbang(source).into_owned();
    loop {
        let trimmed = skip_comments(&rest);
        let Some(quote) = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return false;
        };
        let body = &trimmed[1..];
        let Some(end) = body.find(quote) else {
            return false;
        };
        let directive = &body[..end];
        // A directive is a whole statement: `;`, a line break or the end follows it.
        let after = skip_spaces(&body[end + 1..]);
        let next = match after.strip_prefix(';') {
            Some(next) => next,
            None if after.is_empty() || after.starts_with(['\n', '\r']) => after,
            None => return false,
        };
        if directive == "use strict" {
            return true;
        }
        // Another directive ("use asm", "format cjs"…): look at the next statement.
        rest = next.to_string();
    }
}

fn skip_spaces(text: &str) -> &str {
    text.trim_start_matches([' ', '\t'])
}

fn skip_comments(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_start();
        if let Some(rest) = trimmed.strip_prefix("//") {
            text = rest.find('\n').map_or("", |at| &rest[at..]);
        } else if let Some(rest) = trimmed.strip_prefix("/*") {
            text = rest.find("*/").map_or("", |at| &rest[at + 2..]);
        } else {
            return trimmed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_directives_are_found_after_comments() {
        assert!(is_strict("\"use strict\";\nexports.a = 1;"));
        assert!(is_strict("/* license */\n// more\n'use strict'\nmodule.exports = 1"));
        assert!(is_strict("#!/usr/bin/env node\n\"use strict\";"));
        assert!(is_strict("\u{feff}\"use strict\";"));
        assert!(is_strict("'format cjs';\n'use strict';"));
        assert!(!is_strict("var x = 'use strict';"));
        assert!(!is_strict("module.exports = 1;\n'use strict';"));
        assert!(!is_strict("'use strict' + x;"));
        assert!(!is_strict(""));
    }

    #[test]
    fn wrappers_keep_line_numbers() {
        let wrapped = cjs_as_script("#!/bin/node\nmodule.exports = 1;");
        assert_eq!(
            wrapped,
            "(function (exports, require, module, __filename, __dirname) {///bin/node\nmodule.exports = 1;\n})"
        );
        assert_eq!(wrapped.lines().count(), 3);
        assert!(cjs_as_module("\"use strict\";").starts_with("export default function ("));
    }
}
