//! Which Node built-ins an installed adaptor's code needs that bolt cannot provide
//! (processes, UDP…: [`crate::engine::node::builtin`]), and which socket-driver packages it
//! loads (pg, tedious…: [`crate::engine::node::refused_package`]).
//!
//! The scan follows the module graph from the adaptor's entry point (package.json
//! `exports` for `import`, else `module`, else `main`) through relative and bare imports
//! inside the install root, as Node would resolve them, and parses each file reached with
//! oxc. How strict it is:
//! - ESM `import … from`, `import "x"` and `export … from` always count: they load eagerly.
//! - `require("x")` with a string literal counts when it runs as the module loads: at the
//!   top level, in blocks and conditions, in functions called on the spot (IIFEs, the UMD
//!   wrapper), but not inside other functions, and not inside `try` (code that requires a
//!   module lazily, or guards it, uses it for an optional feature: an HTTP adaptor whose
//!   CSV dependency requires `fs` in one function is not blocked).
//! - Dynamic `import()` and `require(variable)` never count.
//! - Packages bolt serves itself ([`crate::engine::node::replacement`], e.g. undici) are not
//!   followed: their own imports never run.
//!
//! What it misses is caught at load time, where the loader refuses the module by name.
//!
//! The answer depends on bolt's tables of built-ins and replacements, which grow with
//! bolt: the manifest keeps how each bare specifier was classified ([`Findings::specifiers`])
//! so a newer bolt can tell a stale scan ([`is_stale`]) and scan again.

use crate::engine::node::{self, Builtin};
use oxc::allocator::Allocator;
use oxc::ast::ast::{
    ArrowFunctionExpression, CallExpression, ExportAllDeclaration, ExportFromDeclaration,
    Expression, Function, ImportDeclaration, TryStatement,
};
use oxc::ast_visit::{Visit, walk};
use oxc::semantic::ScopeFlags;
use oxc::span::SourceType;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Files larger than this are not parsed (minified bundles of that size are data).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// A bound on the walk, far above any adaptor's tree.
const MAX_FILES: usize = 50_000;

/// Unsupported built-ins reached from the adaptor.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Findings {
    /// Module name (without `node:`) → the first file (relative to the install root) that
    /// imports it.
    pub unsupported: BTreeMap<String, String>,
    /// Every bare specifier met → how bolt's tables classified it ([`classify`]).
    pub specifiers: BTreeMap<String, String>,
    pub files_scanned: usize,
}

/// How bolt's tables classify a bare specifier: `unsupported`, `provided` (a Node
/// built-in bolt has), `replaced` (an npm package bolt serves itself) or `package`.
pub fn classify(specifier: &str) -> &'static str {
    match node::builtin(specifier) {
        Some(Builtin::Unsupported { .. }) => "unsupported",
        Some(Builtin::Provided(_)) => "provided",
        None if node::replacement(split_bare(specifier).0).is_some() => "replaced",
        None => "package",
    }
}

/// Whether a scan recorded with `specifiers` would come out differently with this bolt's
/// tables (no record at all counts as stale).
pub fn is_stale(specifiers: &BTreeMap<String, String>) -> bool {
    specifiers.is_empty() || specifiers.iter().any(|(s, was)| classify(s) != was)
}

/// Scans the adaptor at `package_dir` inside the install root `root`.
pub fn scan(root: &Path, package_dir: &Path) -> Findings {
    let root = &canonical(root);
    let package_dir = &canonical(package_dir);
    let mut findings = Findings::default();
    let entry = package_entry(package_dir, ".", Mode::Import)
        .or_else(|| package_entry(package_dir, ".", Mode::Require));
    let Some(entry) = entry else {
        return findings;
    };
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut queue = vec![entry];
    while let Some(file) = queue.pop() {
        if findings.files_scanned >= MAX_FILES {
            break;
        }
        // Symlinks inside packages may point anywhere in the tree, never out of it.
        let file = canonical(&file);
        if !file.starts_with(root) || !seen.insert(file.clone()) {
            continue;
        }
        let Some(imports) = imports_of(&file) else {
            continue;
        };
        findings.files_scanned += 1;
        let dir = file.parent().unwrap_or(root).to_path_buf();
        for (specifier, mode) in imports {
            let relative = specifier.starts_with('.') || specifier.starts_with('/');
            if !relative && !specifier.contains("://") {
                findings
                    .specifiers
                    .entry(specifier.clone())
                    .or_insert_with(|| classify(&specifier).to_string());
            }
            match target(root, &dir, &specifier, mode) {
                Target::File(next) => queue.push(next),
                Target::Unsupported(name) => {
                    let importer = file.strip_prefix(root).unwrap_or(&file);
                    findings
                        .unsupported
                        .entry(name)
                        .or_insert_with(|| importer.display().to_string());
                }
                Target::Ignore => {}
            }
        }
    }
    findings
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Import,
    Require,
}

impl Mode {
    fn conditions(self) -> &'static [&'static str] {
        match self {
            Mode::Import => &["import", "node", "default"],
            Mode::Require => &["require", "node", "default"],
        }
    }
}

enum Target {
    File(PathBuf),
    Unsupported(String),
    Ignore,
}

fn target(root: &Path, dir: &Path, specifier: &str, mode: Mode) -> Target {
    if specifier.starts_with('.') {
        return resolve_file(&dir.join(specifier)).map_or(Target::Ignore, Target::File);
    }
    if specifier.starts_with('/') || specifier.contains("://") {
        return Target::Ignore;
    }
    match node::builtin(specifier) {
        Some(Builtin::Unsupported { .. }) => {
            let name = specifier.strip_prefix("node:").unwrap_or(specifier);
            return Target::Unsupported(name.to_string());
        }
        Some(Builtin::Provided(_)) => return Target::Ignore,
        None => {}
    }
    let (package, subpath) = split_bare(specifier);
    if node::replacement(package).is_some() {
        return Target::Ignore;
    }
    // Socket drivers: `net`/`tls` load in bolt (other packages require them for paths
    // adaptors never take), so the driver package itself is what can't work.
    if node::refused_package(package).is_some() {
        return Target::Unsupported(package.to_string());
    }
    let Some(package_dir) = find_package(root, dir, package) else {
        return Target::Ignore;
    };
    let subpath = if subpath.is_empty() {
        ".".to_string()
    } else {
        format!("./{subpath}")
    };
    package_entry(&package_dir, &subpath, mode).map_or(Target::Ignore, Target::File)
}

/// `@scope/name/sub/path` → (`@scope/name`, `sub/path`).
fn split_bare(specifier: &str) -> (&str, &str) {
    let parts = if specifier.starts_with('@') { 2 } else { 1 };
    let mut end = 0;
    for (i, part) in specifier.split('/').enumerate() {
        if i >= parts {
            break;
        }
        end += part.len() + usize::from(i > 0);
    }
    let end = end.min(specifier.len());
    (
        &specifier[..end],
        specifier.get(end + 1..).unwrap_or_default(),
    )
}

/// `node_modules/<package>` in `dir` or a folder above it, up to the install root.
fn find_package(root: &Path, dir: &Path, package: &str) -> Option<PathBuf> {
    let mut at = Some(dir);
    while let Some(d) = at {
        let candidate = d.join("node_modules").join(package);
        if candidate.join("package.json").is_file() {
            return Some(candidate);
        }
        if d == root {
            break;
        }
        at = d.parent().filter(|p| p.starts_with(root));
    }
    None
}

/// The file `subpath` (`.` or `./x`) of a package names, by its `exports`, else its
/// `module`/`main` fields, else the path itself.
fn package_entry(package_dir: &Path, subpath: &str, mode: Mode) -> Option<PathBuf> {
    let manifest: Value = std::fs::read_to_string(package_dir.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    if let Some(exports) = manifest.get("exports").filter(|e| !e.is_null()) {
        let target = exports_target(exports, subpath, mode.conditions())?;
        return resolve_file(&package_dir.join(target));
    }
    if subpath == "." {
        let fields: &[&str] = match mode {
            Mode::Import => &["module", "main"],
            Mode::Require => &["main"],
        };
        for field in fields {
            if let Some(main) = manifest.get(*field).and_then(Value::as_str)
                && let Some(file) = resolve_file(&package_dir.join(main))
            {
                return Some(file);
            }
        }
        return resolve_file(&package_dir.join("index.js"));
    }
    resolve_file(&package_dir.join(subpath))
}

/// Node's `exports` lookup: exact subpaths, then the longest `*` pattern.
fn exports_target(exports: &Value, subpath: &str, conditions: &[&str]) -> Option<String> {
    let is_map = exports
        .as_object()
        .is_some_and(|map| map.keys().any(|k| k.starts_with('.')));
    if !is_map {
        return (subpath == ".")
            .then(|| conditional(exports, conditions))
            .flatten();
    }
    let map = exports.as_object()?;
    if let Some(value) = map.get(subpath) {
        return conditional(value, conditions);
    }
    let mut best: Option<(&str, &str, &Value)> = None;
    for (key, value) in map {
        let Some((prefix, suffix)) = key.split_once('*') else {
            continue;
        };
        if subpath.starts_with(prefix)
            && subpath.ends_with(suffix)
            && subpath.len() >= prefix.len() + suffix.len()
            && best.is_none_or(|(p, _, _)| prefix.len() > p.len())
        {
            best = Some((prefix, suffix, value));
        }
    }
    let (prefix, suffix, value) = best?;
    let star = &subpath[prefix.len()..subpath.len() - suffix.len()];
    conditional(value, conditions).map(|t| t.replace('*', star))
}

fn conditional(value: &Value, conditions: &[&str]) -> Option<String> {
    match value {
        Value::String(target) => Some(target.clone()),
        Value::Array(options) => options.iter().find_map(|v| conditional(v, conditions)),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| conditions.contains(&k.as_str()))
            .find_map(|(_, v)| conditional(v, conditions)),
        _ => None,
    }
}

/// A file, with the extensions and index files Node (and OpenFn's runtime hook) try.
fn resolve_file(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    for ext in ["js", "cjs", "mjs", "json"] {
        let mut with = path.as_os_str().to_owned();
        with.push(format!(".{ext}"));
        let with = PathBuf::from(with);
        if with.is_file() {
            return Some(with);
        }
    }
    if path.is_dir() {
        let main = std::fs::read_to_string(path.join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|m| m.get("main").and_then(Value::as_str).map(String::from));
        if let Some(main) = main {
            let main = path.join(main);
            if main.is_file() {
                return Some(main);
            }
            for index in ["index.js", "index.cjs"] {
                if main.join(index).is_file() {
                    return Some(main.join(index));
                }
            }
        }
        for index in ["index.js", "index.cjs", "index.mjs", "index.json"] {
            if path.join(index).is_file() {
                return Some(path.join(index));
            }
        }
    }
    None
}

/// The eager imports of one file (`None` when it is not JavaScript bolt can read).
fn imports_of(file: &Path) -> Option<Vec<(String, Mode)>> {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let source_type = match ext {
        "mjs" => SourceType::mjs(),
        "cjs" => SourceType::cjs(),
        "js" => SourceType::unambiguous(),
        _ => return None,
    };
    if std::fs::metadata(file).ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    Some(eager_imports(&text, source_type))
}

fn eager_imports(text: &str, source_type: SourceType) -> Vec<(String, Mode)> {
    let allocator = Allocator::default();
    let parsed = oxc::parser::Parser::new(&allocator, text, source_type).parse();
    if parsed.panicked {
        return Vec::new();
    }
    let mut collector = Collector::default();
    collector.visit_program(&parsed.program);
    collector.found
}

#[derive(Default)]
struct Collector {
    found: Vec<(String, Mode)>,
    /// Inside a function that isn't called on the spot, or a `try`: not eager.
    lazy: u32,
    /// Functions about to be visited as the callee of a call (IIFEs), by address.
    called: Vec<usize>,
}

fn address<T>(node: &T) -> usize {
    node as *const T as usize
}

/// The function a call invokes directly: `(function () {})()`, `(() => {})()`,
/// `(function () {}).call(this)`.
fn called_function(callee: &Expression) -> Option<usize> {
    match callee.without_parentheses() {
        Expression::FunctionExpression(f) => Some(address(&**f)),
        Expression::ArrowFunctionExpression(f) => Some(address(&**f)),
        Expression::StaticMemberExpression(member)
            if matches!(member.property.name.as_str(), "call" | "apply") =>
        {
            match member.object.without_parentheses() {
                Expression::FunctionExpression(f) => Some(address(&**f)),
                _ => None,
            }
        }
        _ => None,
    }
}

impl<'a> Visit<'a> for Collector {
    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        self.found.push((it.source.value.to_string(), Mode::Import));
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.found.push((it.source.value.to_string(), Mode::Import));
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        self.found.push((it.source.value.to_string(), Mode::Import));
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        if self.lazy == 0
            && let Some(literal) = it.common_js_require()
        {
            self.found.push((literal.value.to_string(), Mode::Require));
        }
        if self.lazy == 0
            && let Some(function) = called_function(&it.callee)
        {
            self.called.push(function);
        }
        walk::walk_call_expression(self, it);
    }

    fn visit_function(&mut self, it: &Function<'a>, flags: ScopeFlags) {
        let eager = self.called.last() == Some(&address(it));
        if eager {
            self.called.pop();
        } else {
            self.lazy += 1;
        }
        walk::walk_function(self, it, flags);
        if !eager {
            self.lazy -= 1;
        }
    }

    fn visit_arrow_function_expression(&mut self, it: &ArrowFunctionExpression<'a>) {
        let eager = self.called.last() == Some(&address(it));
        if eager {
            self.called.pop();
        } else {
            self.lazy += 1;
        }
        walk::walk_arrow_function_expression(self, it);
        if !eager {
            self.lazy -= 1;
        }
    }

    fn visit_try_statement(&mut self, it: &TryStatement<'a>) {
        self.lazy += 1;
        walk::walk_try_statement(self, it);
        self.lazy -= 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn names(text: &str, source_type: SourceType) -> Vec<String> {
        eager_imports(text, source_type)
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }

    #[test]
    fn eager_imports_count_lazy_requires_do_not() {
        let esm = r#"
            import a from "a";
            import "b";
            export * from "c";
            export { x } from "d";
            const lazy = () => import("e");
        "#;
        assert_eq!(names(esm, SourceType::mjs()), ["a", "b", "c", "d"]);
        let cjs = r#"
            const net = require("net");
            var _x = _interop(require("x"));
            if (process.env.X) { require("conditional"); }
            function later() { return require("fs"); }
            const arrow = () => require("child_process");
            try { require("optional-native"); } catch (e) {}
            (function () { require("iife"); })();
            (function (root, factory) { module.exports = factory(require("umd")); })(this, function (u) { require("inner"); });
            (function () { require("called"); }).call(this);
            const dynamic = require(name);
        "#;
        assert_eq!(
            names(cjs, SourceType::cjs()),
            ["net", "x", "conditional", "iife", "umd", "called"]
        );
    }

    #[test]
    fn bare_specifiers_split_into_package_and_subpath() {
        assert_eq!(split_bare("lodash"), ("lodash", ""));
        assert_eq!(split_bare("lodash/set"), ("lodash", "set"));
        assert_eq!(
            split_bare("@openfn/language-common/util"),
            ("@openfn/language-common", "util")
        );
        assert_eq!(split_bare("@scope/x"), ("@scope/x", ""));
    }

    #[test]
    fn exports_maps_pick_the_right_condition() {
        let exports = serde_json::json!({
            ".": {"import": {"types": "./t.d.ts", "default": "./dist/index.js"}, "require": "./dist/index.cjs"},
            "./util": {"import": "./dist/util.js", "require": "./dist/util.cjs"},
            "./lib/*": "./dist/lib/*.js",
            "./package.json": "./package.json"
        });
        let import = Mode::Import.conditions();
        let require = Mode::Require.conditions();
        assert_eq!(
            exports_target(&exports, ".", import).unwrap(),
            "./dist/index.js"
        );
        assert_eq!(
            exports_target(&exports, ".", require).unwrap(),
            "./dist/index.cjs"
        );
        assert_eq!(
            exports_target(&exports, "./util", import).unwrap(),
            "./dist/util.js"
        );
        assert_eq!(
            exports_target(&exports, "./lib/a/b", import).unwrap(),
            "./dist/lib/a/b.js"
        );
        assert_eq!(exports_target(&exports, "./nope", import), None);
        let sugar = serde_json::json!({"import": "./m.js", "default": "./c.js"});
        assert_eq!(exports_target(&sugar, ".", require).unwrap(), "./c.js");
        assert_eq!(
            exports_target(&serde_json::json!("./x.js"), ".", import).unwrap(),
            "./x.js"
        );
    }

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn follows_the_graph_from_the_entry_and_names_the_importer() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        write(
            root,
            "node_modules/@openfn/language-db/package.json",
            r#"{"name":"@openfn/language-db","exports":{".":{"import":"./dist/index.js","require":"./dist/index.cjs"}}}"#,
        );
        write(
            root,
            "node_modules/@openfn/language-db/dist/index.js",
            "import { connect } from './client.js'; import 'csv';",
        );
        write(
            root,
            "node_modules/@openfn/language-db/dist/index.cjs",
            "require('child_process');",
        );
        write(
            root,
            "node_modules/@openfn/language-db/dist/client.js",
            "import { Connection } from 'driver'; import { Pool } from 'pg'; export const connect = 1;",
        );
        write(
            root,
            "node_modules/driver/package.json",
            r#"{"name":"driver","main":"lib/index.js"}"#,
        );
        write(
            root,
            "node_modules/driver/lib/index.js",
            "const net = require('net'); const cp = require('node:child_process'); module.exports = require('./conn');",
        );
        write(
            root,
            "node_modules/driver/lib/conn.js",
            "function read() { return require('fs'); }",
        );
        write(
            root,
            "node_modules/csv/package.json",
            r#"{"name":"csv","main":"index.js"}"#,
        );
        write(
            root,
            "node_modules/csv/index.js",
            "exports.file = function (p) { return require('fs').readFileSync(p); };",
        );
        // Not reached from the entry: never scanned.
        write(root, "node_modules/unused/index.js", "require('dgram');");
        let findings = scan(root, &root.join("node_modules/@openfn/language-db"));
        // `net` loads in bolt (it throws only when used); `pg` is refused by name.
        assert_eq!(
            findings.unsupported.keys().collect::<Vec<_>>(),
            ["child_process", "pg"]
        );
        assert_eq!(
            findings.unsupported["child_process"],
            "node_modules/driver/lib/index.js"
        );
        assert_eq!(
            findings.unsupported["pg"],
            "node_modules/@openfn/language-db/dist/client.js"
        );
        assert_eq!(findings.files_scanned, 5);
        assert_eq!(findings.specifiers["node:child_process"], "unsupported");
        assert_eq!(findings.specifiers["net"], "provided");
        assert_eq!(findings.specifiers["driver"], "package");
        assert!(!is_stale(&findings.specifiers));
        let mut changed = findings.specifiers.clone();
        changed.insert("net".into(), "unsupported".into());
        assert!(is_stale(&changed));
        assert!(is_stale(&BTreeMap::new()));
    }
}
