//! The fields of a package.json that module resolution reads.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// How `.js` files of a package are read (the `type` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsKind {
    CommonJs,
    Module,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PackageJson {
    /// The directory holding this package.json.
    pub dir: PathBuf,
    pub name: Option<String>,
    pub version: Option<String>,
    pub kind: JsKind,
    pub main: Option<String>,
    /// Bundlers' ESM entry; Node ignores it (see `resolve`).
    pub module: Option<String>,
    pub exports: Option<Value>,
    pub imports: Option<Value>,
    /// Where the type definitions are (`types` or `typings`).
    pub types: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PackageJsonError {
    pub path: PathBuf,
    pub message: String,
}

impl PackageJson {
    /// Reads `<dir>/package.json`; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<PackageJson>, PackageJsonError> {
        let path = dir.join("package.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => return Ok(None),
            Err(e) => {
                return Err(PackageJsonError {
                    path,
                    message: format!("could not read it: {e}"),
                });
            }
        };
        Self::parse(dir, &text).map(Some)
    }

    pub fn parse(dir: &Path, text: &str) -> Result<PackageJson, PackageJsonError> {
        let value: Value = serde_json::from_str(text).map_err(|e| PackageJsonError {
            path: dir.join("package.json"),
            message: format!("not valid JSON: {e}"),
        })?;
        let text_field = |key: &str| value.get(key).and_then(Value::as_str).map(String::from);
        let non_null = |key: &str| value.get(key).filter(|v| !v.is_null()).cloned();
        Ok(PackageJson {
            dir: dir.to_path_buf(),
            name: text_field("name"),
            version: text_field("version"),
            kind: if value.get("type").and_then(Value::as_str) == Some("module") {
                JsKind::Module
            } else {
                JsKind::CommonJs
            },
            main: text_field("main").filter(|m| !m.is_empty()),
            module: text_field("module").filter(|m| !m.is_empty()),
            exports: non_null("exports"),
            imports: non_null("imports"),
            types: text_field("types").or_else(|| text_field("typings")),
        })
    }

    /// `name@version`, or the directory when the package has no name.
    pub fn label(&self) -> String {
        match (&self.name, &self.version) {
            (Some(name), Some(version)) => format!("{name}@{version}"),
            (Some(name), None) => name.clone(),
            _ => self.dir.display().to_string(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn reads_the_resolution_fields() {
        let text = r#"{"name":"@openfn/language-openmrs","version":"5.5.0","type":"module",
            "main":"dist/index.cjs","exports":{".":{"import":"./dist/index.js"}},"types":"types/index.d.ts"}"#;
        let package = PackageJson::parse(Path::new("/x"), text).unwrap();
        assert_eq!(package.kind, JsKind::Module);
        assert_eq!(package.main.as_deref(), Some("dist/index.cjs"));
        assert_eq!(package.label(), "@openfn/language-openmrs@5.5.0");
        assert!(package.exports.is_some() && package.imports.is_none());
        let plain = PackageJson::parse(Path::new("/y"), r#"{"main":""}"#).unwrap();
        assert_eq!(plain.kind, JsKind::CommonJs);
        assert_eq!(plain.main, None);
        assert!(PackageJson::parse(Path::new("/z"), "{").is_err());
    }
}
