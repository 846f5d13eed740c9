//! Which adaptor exports the job uses (OpenFn's `add-imports` transform): every identifier
//! not declared anywhere around it ("dangling"), skipping property names, object keys,
//! shorthand values and anything inside a top-level `const x = { ... }` literal.

use std::collections::HashSet;

use oxc::ast::AstKind;
use oxc::ast::ast::{Declaration, Program, PropertyKey, Statement};
use oxc::semantic::NodeId;
use oxc::span::{GetSpan, Span};

use super::ExportModules;
use super::lazy_state::LazyState;
use super::promises::Promises;
use super::scopes::{Scopes, UnboundCatch};
use super::tree::Tree;

/// Names OpenFn never imports in "unknown exports" mode. OpenFn joins them into one
/// unanchored alternation, so the first must start a name, the last end it, and the
/// others may appear anywhere in it.
const GLOBALS: &[&str] = &[
    "AggregateError",
    "Array",
    "ArrayBuffer",
    "AsyncFuction",
    "AsyncGenerator",
    "atob",
    "Atomics",
    "BigInt",
    "BigInt64Array",
    "BigUint64Array",
    "Blob",
    "Boolean",
    "btoa",
    "Buffer",
    "clearInterval",
    "clearTimeout",
    "console",
    "DataView",
    "Date",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "Error",
    "eval",
    "EvalError",
    "Event",
    "exports",
    "FinalizationRegistry",
    "Float32Array",
    "Float64Array",
    "Function",
    "Generator",
    "global",
    "Infinity",
    "Int16Array",
    "Int32Array",
    "Int8Array",
    "isFinite",
    "isNaN",
    "JSON",
    "Map",
    "Math",
    "module",
    "Number",
    "Object",
    "parseFloat",
    "parseInt",
    "process",
    "Promise",
    "Proxy",
    "RangeError",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "require",
    "Set",
    "setInterval",
    "setTimeout",
    "SharedArrayBuffer",
    "state",
    "String",
    "Symbol",
    "TypedArray",
    "Uint16Array",
    "Uint32Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "URIError",
    "URL",
    "WeakMap",
    "WeakRef",
    "WeakSet",
];

/// The names to import from the adaptor, in `exports` order. With no known exports, every
/// dangling identifier except OpenFn's globals.
pub(crate) fn used_exports(
    dangling: &HashSet<String>,
    exports: &[String],
    ignore: &[String],
) -> Vec<String> {
    let dangling: HashSet<&String> = dangling.iter().filter(|n| !ignore.contains(n)).collect();
    if exports.is_empty() {
        let mut names: Vec<String> = dangling
            .iter()
            .filter(|name| !matches_globals(name))
            .map(|name| (*name).clone())
            .collect();
        names.sort();
        return names;
    }
    let mut seen = HashSet::new();
    exports
        .iter()
        .filter(|e| dangling.contains(e) && seen.insert(e.as_str()))
        .cloned()
        .collect()
}

/// The two header lines that import the used adaptor names and re-export the adaptor for
/// the runtime (which reads the job namespace's `execute`). OpenFn's form without
/// `modules`: `import { a, b } from "adaptor";` / `export * from "adaptor";`. With
/// `modules`, each name comes from the module that provides it (all imports on the first
/// line, so the source map's line offset stays the same) and only `execute` is
/// re-exported — by `export *` when the job exports its own `execute`, which must win.
pub(crate) fn header(
    adaptor: &str,
    names: &[String],
    modules: Option<&ExportModules>,
    job_exports_execute: bool,
) -> String {
    let Some(modules) = modules else {
        return format!(
            "import {{ {} }} from \"{adaptor}\";\nexport * from \"{adaptor}\";\n",
            names.join(", ")
        );
    };
    let imports = import_statements(adaptor, names, Some(modules));
    let execute = &modules.execute;
    let reexport = if job_exports_execute {
        format!("export * from \"{execute}\";")
    } else {
        format!("export {{ execute }} from \"{execute}\";")
    };
    format!("{}\n{reexport}\n", imports.join(" "))
}

/// The names a module exports by name, as OpenFn's `getExports` lists them for a workflow's
/// globals: `export const a`, `export function f`, `export class C`, `export { a, b as c }`
/// (also with `from`); not `export default`, `export *` or destructured declarations.
pub(crate) fn export_names(program: &Program<'_>) -> Vec<String> {
    let mut names = Vec::new();
    for statement in &program.body {
        match statement {
            Statement::ExportNamedDeclaration(export) => {
                names.extend(
                    export
                        .specifiers
                        .iter()
                        .map(|s| s.exported.name().to_string()),
                );
            }
            Statement::ExportFromDeclaration(export) => {
                names.extend(
                    export
                        .specifiers
                        .iter()
                        .map(|s| s.exported.name().to_string()),
                );
            }
            Statement::ExportDeclaration(export) => match &export.declaration {
                Declaration::VariableDeclaration(variables) => {
                    names.extend(
                        variables
                            .declarations
                            .iter()
                            .filter_map(|d| d.id.get_identifier_name().map(|n| n.to_string())),
                    );
                }
                other => names.extend(other.id().map(|id| id.name.to_string())),
            },
            _ => {}
        }
    }
    names
}

/// `import { … } from "…";` statements for `names`: one for the adaptor, or one per module
/// that provides them when the adaptor is split into modules.
fn import_statements(
    adaptor: &str,
    names: &[String],
    modules: Option<&ExportModules>,
) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for name in names {
        let module = modules
            .and_then(|m| m.by_name.get(name))
            .map_or(adaptor, String::as_str);
        match groups.iter_mut().find(|(m, _)| *m == module) {
            Some((_, group)) => group.push(name),
            None => groups.push((module, vec![name])),
        }
    }
    groups
        .iter()
        .map(|(module, group)| format!("import {{ {} }} from \"{module}\";", group.join(", ")))
        .collect()
}

/// The header for a step with several adaptors (OpenFn's `-a a -a b`): each adaptor that
/// provides a used name is imported and star-re-exported, the adaptor listed last first (as
/// OpenFn inserts each one at the top). A name several adaptors export is imported from
/// the first listed only (OpenFn would import it twice, which no module can link). When
/// more than one adaptor defines `execute`, the star exports make it ambiguous and the
/// runtime falls back to its default, as in OpenFn.
pub(crate) fn multi_header(
    adaptors: &[&super::AdaptorImports],
    dangling: &HashSet<String>,
    ignore: &[String],
) -> Option<String> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut parts: Vec<(Vec<String>, String)> = Vec::new();
    for adaptor in adaptors {
        let names: Vec<String> = used_exports(dangling, &adaptor.exports, ignore)
            .into_iter()
            .filter(|name| taken.insert(name.clone()))
            .collect();
        if names.is_empty() {
            continue;
        }
        let modules = adaptor.export_modules.as_ref();
        let reexported = modules.map_or(adaptor.specifier.as_str(), |m| m.execute.as_str());
        parts.push((
            import_statements(&adaptor.specifier, &names, modules),
            format!("export * from \"{reexported}\";"),
        ));
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    let imports: Vec<String> = parts.iter().flat_map(|(i, _)| i.clone()).collect();
    let exports: Vec<String> = parts.into_iter().map(|(_, e)| e).collect();
    Some(format!("{}\n{}\n", imports.join(" "), exports.join(" ")))
}

/// Whether the module itself exports `name` (declared or listed in an export clause).
pub(crate) fn exports_name(program: &Program<'_>, name: &str) -> bool {
    program.body.iter().any(|statement| match statement {
        Statement::ExportNamedDeclaration(export) => {
            export.specifiers.iter().any(|s| s.exported.name() == name)
        }
        Statement::ExportFromDeclaration(export) => {
            export.specifiers.iter().any(|s| s.exported.name() == name)
        }
        Statement::ExportAllDeclaration(export) => {
            export.exported.as_ref().is_some_and(|e| e.name() == name)
        }
        Statement::ExportDeclaration(export) => match &export.declaration {
            Declaration::VariableDeclaration(variables) => variables.declarations.iter().any(|d| {
                d.id.get_binding_identifiers()
                    .iter()
                    .any(|id| id.name == name)
            }),
            other => other.id().is_some_and(|id| id.name == name),
        },
        _ => false,
    })
}

fn matches_globals(name: &str) -> bool {
    let last = GLOBALS.len() - 1;
    GLOBALS.iter().enumerate().any(|(i, global)| match i {
        0 => name.starts_with(global),
        i if i == last => name.ends_with(global),
        _ => name.contains(global),
    })
}

/// Every dangling identifier of the compiled program.
pub(crate) fn dangling_identifiers(
    tree: &Tree<'_, '_>,
    scopes: &Scopes<'_, '_, '_>,
    lazy: &LazyState,
    promises: &Promises,
) -> Result<HashSet<String>, UnboundCatch> {
    let mut dangling = HashSet::new();
    for (id, kind) in tree.all() {
        let (name, span) = match kind {
            AstKind::IdentifierReference(r) if r.name == "$" && lazy.renamed.contains(&r.span) => {
                ("state", r.span)
            }
            AstKind::IdentifierReference(r) => (r.name.as_str(), r.span),
            AstKind::BindingIdentifier(b) => (b.name.as_str(), b.span),
            AstKind::IdentifierName(n) => (n.name.as_str(), n.span),
            AstKind::LabelIdentifier(l) => (l.name.as_str(), l.span),
            _ => continue,
        };
        if name == "undefined" || name == "NaN" || is_skipped(tree, id, name, span) {
            continue;
        }
        // Parameters of the arrows the compiler adds.
        if (name == "state" && lazy.inside_wrap(span))
            || (name == "p"
                && promises
                    .tails
                    .iter()
                    .any(|t| t.start <= span.start && span.end <= t.end))
        {
            continue;
        }
        if tree.in_top_level_object_literal(id) || scopes.is_declared(id, name, false)? {
            continue;
        }
        if !dangling.contains(name) {
            dangling.insert(name.to_string());
        }
    }
    Ok(dangling)
}

/// Positions OpenFn never treats as a variable use.
fn is_skipped(tree: &Tree<'_, '_>, id: NodeId, name: &str, span: Span) -> bool {
    let Some(parent) = tree.parent(id) else {
        return false;
    };
    match tree.kind(parent) {
        AstKind::ImportSpecifier(_) => true,
        AstKind::StaticMemberExpression(m) => {
            m.property.span == span || is_in_computed_property(tree, parent)
        }
        AstKind::ComputedMemberExpression(m) => {
            m.expression.span() == span || is_in_computed_property(tree, parent)
        }
        AstKind::PrivateFieldExpression(_) => is_in_computed_property(tree, parent),
        AstKind::ObjectProperty(p) => key_name(&p.key) == Some(name),
        AstKind::BindingProperty(p) => key_name(&p.key) == Some(name),
        AstKind::AssignmentTargetPropertyProperty(p) => key_name(&p.name) == Some(name),
        AstKind::AssignmentTargetPropertyIdentifier(p) => p.init.is_none(),
        _ => false,
    }
}

/// Whether the member chain containing `member` (as its object side) is itself the
/// computed property of an outer member expression: `x[a.b]` skips `a`.
fn is_in_computed_property(tree: &Tree<'_, '_>, member: NodeId) -> bool {
    let mut target = member;
    while let Some(parent) = tree.parent(target) {
        match tree.kind(parent) {
            AstKind::ComputedMemberExpression(m) => {
                if m.expression.span() == tree.span(target) {
                    return true;
                }
            }
            AstKind::StaticMemberExpression(_) | AstKind::PrivateFieldExpression(_) => {}
            _ => return false,
        }
        target = parent;
    }
    false
}

fn key_name<'a>(key: &'a PropertyKey<'a>) -> Option<&'a str> {
    match key {
        PropertyKey::StaticIdentifier(id) => Some(id.name.as_str()),
        PropertyKey::Identifier(id) => Some(id.name.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_exports_mode_skips_globals_like_openfn() {
        let dangling: HashSet<String> = [
            "fn",
            "console",
            "myState",
            "WeakSetX",
            "AggregateErrorish",
            "xWeakSet",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        // Substring matches: "WeakSetX" contains "Set"; matching is case-sensitive.
        assert_eq!(used_exports(&dangling, &[], &[]), vec!["fn", "myState"]);
    }

    #[test]
    fn known_exports_keep_export_order() {
        let dangling: HashSet<String> = ["fnIf", "fn", "other"]
            .into_iter()
            .map(String::from)
            .collect();
        let exports: Vec<String> = ["fn", "each", "fnIf"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(used_exports(&dangling, &exports, &[]), vec!["fn", "fnIf"]);
    }
}
