//! npm package metadata ("packuments"): what the registry serves for a package name, in
//! the abbreviated form (`application/vnd.npm.install-v1+json`) that has everything an
//! install needs. The same shape describes packages read from `npm pack` tarballs and
//! bundles, so every source resolves alike.
//!
//! Registries hold years of hand-made metadata: fields of an unexpected type are read
//! leniently (a dependency whose range is not a string is dropped) rather than failing the
//! whole document.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Every published version of one package.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Packument {
    pub name: String,
    #[serde(rename = "dist-tags", default, deserialize_with = "lenient_map")]
    pub dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub versions: BTreeMap<String, VersionMeta>,
}

/// One version's manifest: the fields of its package.json an install reads, plus `dist`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionMeta {
    pub name: String,
    pub version: String,
    #[serde(default, deserialize_with = "lenient_map")]
    pub dependencies: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient_map")]
    pub optional_dependencies: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient_map")]
    pub peer_dependencies: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient_value")]
    pub peer_dependencies_meta: Value,
    /// `true` (every dependency), a list of names, or absent. npm accepts both spellings.
    #[serde(
        default,
        alias = "bundledDependencies",
        deserialize_with = "lenient_value"
    )]
    pub bundle_dependencies: Value,
    #[serde(default, deserialize_with = "lenient_list")]
    pub os: Vec<String>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub cpu: Vec<String>,
    #[serde(default, deserialize_with = "lenient_value")]
    pub deprecated: Value,
    /// `{"node": ">=20"}`: npm prefers versions whose engines fit the Node it runs on.
    #[serde(
        default,
        deserialize_with = "lenient_value",
        skip_serializing_if = "Value::is_null"
    )]
    pub engines: Value,
    #[serde(default)]
    pub dist: Dist,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dist {
    #[serde(default)]
    pub tarball: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shasum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpacked_size: Option<u64>,
}

impl VersionMeta {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    pub fn is_deprecated(&self) -> bool {
        match &self.deprecated {
            Value::String(text) => !text.is_empty(),
            Value::Bool(flag) => *flag,
            _ => false,
        }
    }

    /// Whether the tarball carries its own copy of dependency `name` (npm never fetches those).
    pub fn bundles(&self, name: &str) -> bool {
        match &self.bundle_dependencies {
            Value::Bool(all) => *all,
            Value::Array(names) => names.iter().any(|n| n.as_str() == Some(name)),
            _ => false,
        }
    }

    /// A peer dependency marked `optional` in `peerDependenciesMeta`.
    pub fn peer_is_optional(&self, name: &str) -> bool {
        self.peer_dependencies_meta
            .get(name)
            .and_then(|meta| meta.get("optional"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The `engines.node` range, if any.
    pub fn node_engine(&self) -> Option<&str> {
        self.engines.get("node").and_then(Value::as_str)
    }

    /// npm's `os`/`cpu` filters against this machine (`!linux` excludes, `linux` includes).
    pub fn fits_platform(&self) -> bool {
        fits(&self.os, node_platform()) && fits(&self.cpu, node_arch())
    }
}

fn fits(filter: &[String], here: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let excluded = filter.iter().any(|f| f.strip_prefix('!') == Some(here));
    let includes: Vec<&String> = filter.iter().filter(|f| !f.starts_with('!')).collect();
    !excluded && (includes.is_empty() || includes.iter().any(|f| f.as_str() == here))
}

/// `process.platform` as Node names it.
fn node_platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    }
}

/// `process.arch` as Node names it.
fn node_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    }
}

fn lenient_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    Ok(Value::deserialize(deserializer).unwrap_or(Value::Null))
}

fn lenient_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let Value::Object(map) = value else {
        return Ok(BTreeMap::new());
    };
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_string())))
        .collect())
}

fn lenient_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(one) => vec![one],
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn reads_odd_registry_documents() {
        let doc = r#"{
            "name": "x",
            "dist-tags": {"latest": "1.0.0", "weird": 3},
            "versions": {"1.0.0": {
                "name": "x", "version": "1.0.0",
                "dependencies": {"a": "^1", "b": {"bad": true}},
                "bundledDependencies": ["c"],
                "os": "linux",
                "deprecated": "use y",
                "peerDependenciesMeta": {"p": {"optional": true}},
                "dist": {"tarball": "https://r/x.tgz", "shasum": "ab"}
            }}
        }"#;
        let packument: Packument = serde_json::from_str(doc).unwrap();
        assert_eq!(packument.dist_tags.len(), 1);
        let meta = &packument.versions["1.0.0"];
        assert_eq!(meta.dependencies.len(), 1);
        assert!(meta.bundles("c") && !meta.bundles("a"));
        assert!(meta.is_deprecated());
        assert!(meta.peer_is_optional("p"));
        assert_eq!(meta.os, ["linux"]);
    }

    #[test]
    fn platform_filters_follow_npm() {
        let here = node_platform();
        assert!(fits(&[], here));
        assert!(fits(&[here.to_string()], here));
        assert!(!fits(&[format!("!{here}")], here));
        assert!(fits(&["!beos".to_string()], here));
        assert!(!fits(&["beos".to_string()], here));
    }
}
