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
//!
//! An ES module of a package that runs on bolt's built-in language-common gets its named
//! imports from `@openfn/language-common` pointed at the built-in's sub-modules
//! ([`route_common_imports`]): the built-in is split so that a step loads only the parts
//! its code uses, and an adaptor importing `fn` and `each` should not load lodash and the
//! JSON-schema validator with them.

use oxc::span::SourceType;

/// Bump when the wrapping changes: cached bytecode made with another version is ignored.
pub const SOURCE_FORMAT: u32 = 3;

const CJS_PARAMS: &str = "exports, require, module, __filename, __dirname";

/// The source of an ES module whose default export is the CommonJS module function; the
/// module globals it reads come from `bolt:node/globals` (see [`free_module_globals`]).
pub fn cjs_as_module(source: &str) -> String {
    let source = without_hashbang(source);
    let globals = free_module_globals(&source, SourceType::cjs());
    format!(
        "{}export default function ({CJS_PARAMS}) {{{source}\n}}",
        globals_import(&globals)
    )
}

/// A script evaluating to the CommonJS module function — or, when the file reads module
/// globals (returned), to a function taking an object holding them and returning it
/// (scripts can't import).
pub fn cjs_as_script(source: &str) -> (String, Vec<&'static str>) {
    let source = without_hashbang(source);
    let globals = free_module_globals(&source, SourceType::cjs());
    if globals.is_empty() {
        return (format!("(function ({CJS_PARAMS}) {{{source}\n}})"), globals);
    }
    let script = format!(
        "(function ({{ {} }}) {{ return function ({CJS_PARAMS}) {{{source}\n}} }})",
        globals.join(", ")
    );
    (script, globals)
}

/// An ES module's source, ready to compile: the module globals it reads are imported from
/// `bolt:node/globals` on its first line (line numbers stay the file's own).
pub fn esm(source: &str) -> String {
    let source = without_hashbang(source);
    let globals = free_module_globals(&source, SourceType::mjs());
    format!("{}{source}", globals_import(&globals))
}

/// `import` declarations (all on one line) binding `globals`, each from the smallest bundle
/// module that has it ([`crate::node::global_source`]).
fn globals_import(globals: &[&str]) -> String {
    let mut by_module: Vec<(&str, Vec<String>)> = Vec::new();
    for name in globals {
        let (module, export) = crate::node::global_source(name);
        let binding = if export.is_empty() || export == *name {
            name.to_string()
        } else {
            format!("{export} as {name}")
        };
        match by_module.iter_mut().find(|(m, _)| *m == module) {
            Some((_, bindings)) => bindings.push(binding),
            None => by_module.push((module, vec![binding])),
        }
    }
    by_module
        .iter()
        .map(|(module, bindings)| {
            format!("import {{ {} }} from \"{module}\"; ", bindings.join(", "))
        })
        .collect()
}

/// The names of Node's module globals (`URL`, `fetch`, `process`, `Buffer`…:
/// [`crate::node::MODULE_GLOBALS`]) that `source` reads without declaring them.
/// They are never put on the job's global object (jobs must see what they see under
/// OpenFn), so each npm module gets them bound in its own scope. A file oxc cannot parse
/// gets every global it mentions as a word (QuickJS will report its syntax error).
pub fn free_module_globals(source: &str, source_type: SourceType) -> Vec<&'static str> {
    use oxc::allocator::Allocator;
    use oxc::semantic::SemanticBuilder;
    let globals = crate::node::MODULE_GLOBALS;
    if !globals.iter().any(|name| source.contains(name)) {
        return Vec::new();
    }
    let allocator = Allocator::default();
    let parsed = oxc::parser::Parser::new(&allocator, source, source_type).parse();
    if parsed.panicked || parsed.diagnostics.errors().next().is_some() {
        return globals
            .iter()
            .copied()
            .filter(|name| mentions_word(source, name))
            .collect();
    }
    let semantic = SemanticBuilder::new().build(&parsed.program).semantic;
    let unresolved = semantic.scoping().root_unresolved_references();
    globals
        .iter()
        .copied()
        .filter(|name| unresolved.contains_key(*name))
        .collect()
}

fn mentions_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_word)
            && !text[at + word.len()..].chars().next().is_some_and(is_word)
    })
}

/// How a routed import names a built-in module (the resolver maps it to that module).
pub const BUILT_IN_PREFIX: &str = "bolt-built-in:";

/// Rewrites `import { a, b as c } from "@openfn/language-common"` declarations so that each
/// name comes from the built-in sub-module that defines it (`module_of`; `None` for a name
/// the built-in doesn't export, which leaves that declaration alone). Lines don't move: a
/// rewritten declaration keeps its line breaks.
pub fn route_common_imports(
    source: &str,
    module_of: impl Fn(&str) -> Option<&'static str>,
) -> Option<String> {
    use oxc::allocator::Allocator;
    use oxc::ast::ast::{
        ImportDeclarationSpecifier, ImportOrExportKind, ModuleExportName, Statement,
    };
    const COMMON: &str = "@openfn/language-common";
    if !source.contains(COMMON) {
        return None;
    }
    let allocator = Allocator::default();
    let parsed = oxc::parser::Parser::new(&allocator, source, SourceType::mjs()).parse();
    if parsed.panicked || parsed.diagnostics.errors().next().is_some() {
        return None;
    }
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    'declarations: for statement in &parsed.program.body {
        let Statement::ImportDeclaration(import) = statement else {
            continue;
        };
        if import.source.value != COMMON
            || import.with_clause.is_some()
            || import.phase.is_some()
            || import.import_kind != ImportOrExportKind::Value
        {
            continue;
        }
        let Some(specifiers) = &import.specifiers else {
            continue;
        };
        let mut groups: Vec<(&'static str, Vec<String>)> = Vec::new();
        for specifier in specifiers {
            let ImportDeclarationSpecifier::ImportSpecifier(named) = specifier else {
                continue 'declarations;
            };
            let imported = match &named.imported {
                ModuleExportName::IdentifierName(id) => id.name.as_str(),
                ModuleExportName::IdentifierReference(id) => id.name.as_str(),
                ModuleExportName::StringLiteral(_) => continue 'declarations,
            };
            let Some(module) = module_of(imported) else {
                continue 'declarations;
            };
            let local = named.local.name.as_str();
            let binding = if local == imported {
                imported.to_string()
            } else {
                format!("{imported} as {local}")
            };
            match groups.iter_mut().find(|(m, _)| *m == module) {
                Some((_, names)) => names.push(binding),
                None => groups.push((module, vec![binding])),
            }
        }
        if groups.is_empty() {
            continue;
        }
        let (start, end) = (import.span.start as usize, import.span.end as usize);
        let mut text: String = groups
            .iter()
            .map(|(module, names)| {
                format!(
                    "import {{ {} }} from \"{BUILT_IN_PREFIX}{module}\";",
                    names.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        text.push_str(&"\n".repeat(source[start..end].matches('\n').count()));
        edits.push((start, end, text));
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len());
    let mut position = 0;
    for (start, end, text) in edits {
        out.push_str(&source[position..start]);
        out.push_str(&text);
        position = end;
    }
    out.push_str(&source[position..]);
    Some(out)
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
        assert!(is_strict(
            "/* license */\n// more\n'use strict'\nmodule.exports = 1"
        ));
        assert!(is_strict("#!/usr/bin/env node\n\"use strict\";"));
        assert!(is_strict("\u{feff}\"use strict\";"));
        assert!(is_strict("'format cjs';\n'use strict';"));
        assert!(!is_strict("var x = 'use strict';"));
        assert!(!is_strict("module.exports = 1;\n'use strict';"));
        assert!(!is_strict("'use strict' + x;"));
        assert!(!is_strict(""));
    }

    #[test]
    fn imports_of_the_built_in_common_go_to_its_sub_modules() {
        let module_of = |name: &str| match name {
            "fn" | "execute" => Some("@openfn/language-common/core"),
            "each" => Some("@openfn/language-common/data"),
            _ => None,
        };
        let source = "import {\n  execute as commonExecute,\n  fn,\n  each\n} from \"@openfn/language-common\";\nimport { x } from 'other';\nconst y = 1;\n";
        let routed = route_common_imports(source, module_of).unwrap();
        assert_eq!(
            routed,
            "import { execute as commonExecute, fn } from \"bolt-built-in:@openfn/language-common/core\"; import { each } from \"bolt-built-in:@openfn/language-common/data\";\n\n\n\n\nimport { x } from 'other';\nconst y = 1;\n"
        );
        // A name the built-in lacks, a namespace import, or no import of common: untouched.
        assert!(
            route_common_imports("import { nope } from '@openfn/language-common';", module_of)
                .is_none()
        );
        assert!(
            route_common_imports("import * as c from '@openfn/language-common';", module_of)
                .is_none()
        );
        assert!(
            route_common_imports(
                "import { fn } from '@openfn/language-common/util';",
                module_of
            )
            .is_none()
        );
        assert!(route_common_imports("export const a = 1;", module_of).is_none());
    }

    #[test]
    fn wrappers_keep_line_numbers() {
        let (wrapped, globals) = cjs_as_script("#!/bin/node\nmodule.exports = 1;");
        assert!(globals.is_empty());
        assert_eq!(
            wrapped,
            "(function (exports, require, module, __filename, __dirname) {///bin/node\nmodule.exports = 1;\n})"
        );
        assert_eq!(wrapped.lines().count(), 3);
        assert!(cjs_as_module("\"use strict\";").starts_with("export default function ("));
    }

    #[test]
    fn module_globals_a_file_reads_are_bound_on_its_first_line() {
        let code = esm("const u = new URL(x);\nexport const f = () => fetch(u);\n");
        assert!(
            code.starts_with("import { URL } from \"bolt:node/internal/url\"; import { fetch } from \"bolt:node/globals\"; const u"),
            "{code}"
        );
        assert_eq!(code.lines().count(), 2);
        // Declared or shadowed names are the module's own.
        let own = "import { URL } from 'url';\nclass Buffer {}\nfunction f(process) { return process; }\n";
        assert_eq!(esm(own), own);
        // Only names read as free variables: properties and strings don't count.
        assert_eq!(esm("a.URL = 'fetch';"), "a.URL = 'fetch';");
        let (script, globals) = cjs_as_script("module.exports = Buffer.from('x');");
        assert_eq!(globals, ["Buffer"]);
        assert!(
            script.starts_with("(function ({ Buffer }) { return function (exports, require"),
            "{script}"
        );
        assert!(
            cjs_as_module("'use strict'; setTimeout(f);")
                .starts_with("import { setTimeout } from \"node:timers\"; export default")
        );
        assert_eq!(
            free_module_globals(
                "typeof process !== 'undefined' && globalThis.x",
                SourceType::cjs()
            ),
            ["globalThis", "process"]
        );
    }
}
