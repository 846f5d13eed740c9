//! The export names of an npm adaptor, for the compiler's auto-imports, read the way
//! OpenFn's CLI reads them: from the package's type definitions (`types` in package.json,
//! then `Adaptor.d.ts` or `adaptor.d.ts` beside it), never by running the package.
//!
//! From each file: exported functions, variables and classes, `export * as ns`, and
//! `export { a, b }` names (re-exports included); not types, not `default`. Names keep
//! their first position (the index file's first, then Adaptor.d.ts's), which is the order
//! OpenFn's compiler lists them in an import. A package without type definitions gives no
//! names: the compiler then imports every undeclared name (OpenFn's "unknown exports" mode).

use oxc::allocator::Allocator;
use oxc::ast::ast::{Declaration, ImportOrExportKind, ModuleExportName, Statement};
use oxc::parser::Parser;
use oxc::span::SourceType;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use crate::packages::package_json::PackageJson;

/// The adaptor's export names (cached per package.json file and its modification time).
pub fn package_exports(package_dir: &Path) -> Arc<Vec<String>> {
    type Cache = Mutex<HashMap<PathBuf, (Option<SystemTime>, Arc<Vec<String>>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let stamp = std::fs::metadata(package_dir.join("package.json"))
        .and_then(|m| m.modified())
        .ok();
    if let Some((seen, names)) = cache.lock().ok().and_then(|c| c.get(package_dir).cloned())
        && seen == stamp
    {
        return names;
    }
    let names = Arc::new(read_exports(package_dir));
    if let Ok(mut cache) = cache.lock() {
        cache.insert(package_dir.to_path_buf(), (stamp, names.clone()));
    }
    names
}

fn read_exports(package_dir: &Path) -> Vec<String> {
    let Ok(Some(package)) = PackageJson::read(package_dir) else {
        return Vec::new();
    };
    let Some(types) = package.types else {
        return Vec::new();
    };
    let index = package_dir.join(&types);
    let mut names = Vec::new();
    let mut add = |found: Vec<String>| {
        for name in found {
            if name != "default" && !names.contains(&name) {
                names.push(name);
            }
        }
    };
    if let Ok(text) = std::fs::read_to_string(&index) {
        add(declared_exports(&text));
    }
    let types_dir = index.parent().unwrap_or(package_dir);
    for file in ["adaptor.d.ts", "Adaptor.d.ts"] {
        let path = types_dir.join(file);
        // On a case-insensitive file system both spellings are one file.
        if path == index || !path.is_file() {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&path) {
            add(declared_exports(&text));
            break;
        }
    }
    names
}

/// The value exports one type definition file declares, in order.
pub fn declared_exports(source: &str) -> Vec<String> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, SourceType::d_ts()).parse();
    let mut names = Vec::new();
    for statement in &parsed.program.body {
        match statement {
            Statement::ExportDeclaration(export) => match &export.declaration {
                Declaration::VariableDeclaration(variables) => {
                    for declarator in &variables.declarations {
                        for id in declarator.id.get_binding_identifiers() {
                            names.push(id.name.to_string());
                        }
                    }
                }
                Declaration::FunctionDeclaration(function) => {
                    if let Some(id) = &function.id {
                        names.push(id.name.to_string());
                    }
                }
                Declaration::ClassDeclaration(class) => {
                    if let Some(id) = &class.id {
                        names.push(id.name.to_string());
                    }
                }
                Declaration::TSNamespaceDeclaration(namespace) => {
                    names.push(namespace.id.name.to_string());
                }
                _ => {}
            },
            Statement::ExportNamedDeclaration(export)
                if export.export_kind == ImportOrExportKind::Value =>
            {
                for specifier in &export.specifiers {
                    if specifier.export_kind == ImportOrExportKind::Value {
                        names.push(export_name(&specifier.exported));
                    }
                }
            }
            Statement::ExportFromDeclaration(export)
                if export.export_kind == ImportOrExportKind::Value =>
            {
                for specifier in &export.specifiers {
                    if specifier.export_kind == ImportOrExportKind::Value {
                        names.push(export_name(&specifier.exported));
                    }
                }
            }
            Statement::ExportAllDeclaration(export)
                if export.export_kind == ImportOrExportKind::Value =>
            {
                if let Some(exported) = &export.exported {
                    names.push(export_name(exported));
                }
            }
            _ => {}
        }
    }
    names
}

fn export_name(name: &ModuleExportName<'_>) -> String {
    match name {
        ModuleExportName::IdentifierName(id) => id.name.to_string(),
        ModuleExportName::IdentifierReference(id) => id.name.to_string(),
        ModuleExportName::StringLiteral(s) => s.value.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn reads_value_exports_in_order() {
        let index = r#"export default Adaptor;
export * from "./Adaptor.js";
export * as fhir from "./fhir.js";
export * as http from "./http.js";
import * as Adaptor from "./Adaptor.js";
import * as metadata from './metadata';
export { metadata };
export type { Thing } from './thing';
"#;
        assert_eq!(declared_exports(index), ["fhir", "http", "metadata"]);
        let adaptor = r#"/** docs */
export function execute(...operations: any[]): Operation;
export declare function get(path: string, options?: GetOptions): Operation;
export const map: any;
export type GetOptions = { a: string };
export interface Thing { x: number }
export { alterState, fn, type State } from "@openfn/language-common";
"#;
        assert_eq!(
            declared_exports(adaptor),
            ["execute", "get", "map", "alterState", "fn"]
        );
    }

    #[test]
    fn index_names_come_first_and_default_is_dropped() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        std::fs::create_dir_all(dir.join("types")).unwrap();
        std::fs::write(
            dir.join("package.json"),
            r#"{"name":"@openfn/language-x","types":"types/index.d.ts"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("types/index.d.ts"),
            "export default A;\nexport * as http from './http';\nexport * from './Adaptor';",
        )
        .unwrap();
        std::fs::write(
            dir.join("types/Adaptor.d.ts"),
            "export function get(): any;\nexport function http(): any;\nexport { fn } from 'x';",
        )
        .unwrap();
        assert_eq!(*package_exports(dir), ["http", "get", "fn"]);
        let bare = tempfile::tempdir().unwrap();
        std::fs::write(bare.path().join("package.json"), r#"{"name":"x"}"#).unwrap();
        assert!(package_exports(bare.path()).is_empty());
    }
}
