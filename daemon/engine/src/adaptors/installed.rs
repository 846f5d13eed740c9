//! Adaptor packages installed from npm, as they lie on disk. The installer writes this
//! layout; the engine only reads it.
//!
//! ```text
//! <data_dir>/adaptors/                          InstalledAdaptors::root (0700)
//!   @openfn/language-openmrs@5.5.0/             one install root per adaptor version
//!     node_modules/@openfn/language-openmrs/    the adaptor package (its package.json, dist/…)
//!     node_modules/<dependency>/                its dependency tree, laid out as npm does
//!                                               (hoisted; nested node_modules on conflicts)
//!     bolt-adaptor.json                         the manifest, written last: an install root
//!                                               without it is incomplete and never used
//! ```
//!
//! An install root is self-contained: module resolution from any file inside it walks up
//! `node_modules` folders and stops at the root, so two versions of an adaptor (and of its
//! dependencies) live side by side and never see each other. When an adaptor's tree has no
//! `@openfn/language-common`, the loader gives it bolt's built-in common
//! ([`Manifest::common`] says which and why).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::spec::{AdaptorSpec, VersionWanted};

/// The manifest's file name inside an install root.
pub const MANIFEST_FILE: &str = "bolt-adaptor.json";

/// What was installed, from where, and how language-common is provided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Full npm name, e.g. `@openfn/language-openmrs`.
    pub name: String,
    pub version: String,
    /// The tarball's `dist.integrity` (`sha512-…`), checked when it was installed.
    pub integrity: String,
    /// A registry URL, or `file:NAME.tgz` for an offline install.
    pub source: String,
    /// RFC 3339.
    pub installed_at: String,
    /// Every package in the tree (the adaptor first), where it lies under the root.
    pub packages: Vec<InstalledPackage>,
    /// How `@openfn/language-common` reaches this adaptor.
    pub common: CommonSource,
    /// Node built-ins the adaptor's code needs that bolt cannot provide (`net`, `tls`…);
    /// such an adaptor is installed but fails at deploy and load, naming them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported_builtins: Vec<String>,
    /// For each of `unsupported_builtins`, the first file (relative to the install root)
    /// that imports it, for error messages.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub unsupported_importers: std::collections::BTreeMap<String, String>,
    /// How the install-time scan classified each bare import it met (`net` →
    /// `unsupported`, `undici` → `replaced`…): a newer bolt whose tables say otherwise
    /// scans the adaptor again (`installer::scan::is_stale`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scanned_specifiers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledPackage {
    pub name: String,
    pub version: String,
    /// Relative to the install root, e.g. `node_modules/lodash`.
    pub path: String,
    pub integrity: String,
}

/// Where an adaptor's `@openfn/language-common` comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommonSource {
    /// The version the adaptor depends on, installed in its tree.
    Installed { version: String },
    /// bolt's built-in common; `note` says why (e.g. the registry has no 3.3.5), and
    /// `wanted` is the version range the adaptor asked for, if it depends on common at all.
    BuiltIn {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wanted: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

/// One complete install root.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledAdaptor {
    pub root: PathBuf,
    pub manifest: Manifest,
}

impl InstalledAdaptor {
    /// The adaptor package's own directory (where its package.json is).
    pub fn package_dir(&self) -> PathBuf {
        self.root.join("node_modules").join(&self.manifest.name)
    }
}

/// The adaptors folder of a data dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledAdaptors {
    root: PathBuf,
}

impl InstalledAdaptors {
    /// The folder itself need not exist (then nothing is installed).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        InstalledAdaptors { root: root.into() }
    }

    /// `<data_dir>/adaptors`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join("adaptors"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `name@version` is (or would be) installed.
    pub fn install_root(&self, name: &str, version: &str) -> PathBuf {
        self.root.join(format!("{name}@{version}"))
    }

    /// `name@version` if it is completely installed.
    pub fn find(&self, name: &str, version: &str) -> Option<InstalledAdaptor> {
        read_install(&self.install_root(name, version))
            .filter(|a| a.manifest.name == name && a.manifest.version == version)
    }

    /// Every complete install of `name`, newest version first.
    pub fn versions(&self, name: &str) -> Vec<InstalledAdaptor> {
        let mut found: Vec<InstalledAdaptor> = self
            .list()
            .into_iter()
            .filter(|a| a.manifest.name == name)
            .collect();
        found.sort_by(|a, b| compare_versions(&b.manifest.version, &a.manifest.version));
        found
    }

    /// What a spec means on this machine: the exact version, or the newest installed for
    /// `latest`. `None` when it is not installed (or names a local directory).
    pub fn resolve(&self, spec: &AdaptorSpec) -> Option<InstalledAdaptor> {
        if spec.local_path.is_some() {
            return None;
        }
        match &spec.version {
            VersionWanted::Exact(version) => self.find(&spec.name, version),
            VersionWanted::Latest => self.versions(&spec.name).into_iter().next(),
        }
    }

    /// Every complete install, by name then newest version first.
    pub fn list(&self) -> Vec<InstalledAdaptor> {
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return found;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            if file_name.starts_with('.') {
                continue; // the installer's staging and lock files
            }
            if file_name.starts_with('@') {
                // A scope folder: `@openfn/language-x@1.0.0`.
                for inner in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                    found.extend(read_install(&inner.path()));
                }
            } else {
                found.extend(read_install(&path));
            }
        }
        found.sort_by(|a, b| {
            a.manifest
                .name
                .cmp(&b.manifest.name)
                .then_with(|| compare_versions(&b.manifest.version, &a.manifest.version))
        });
        found
    }
}

fn read_install(root: &Path) -> Option<InstalledAdaptor> {
    let text = std::fs::read_to_string(root.join(MANIFEST_FILE)).ok()?;
    let manifest: Manifest = serde_json::from_str(&text).ok()?;
    Some(InstalledAdaptor {
        root: root.to_path_buf(),
        manifest,
    })
}

/// Orders `major.minor.patch[-pre]` versions numerically; a pre-release sorts before its
/// release. Anything unparsable sorts first.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(v: &str) -> (Vec<u64>, bool, String) {
        let (core, pre) = match v.split_once('-') {
            Some((core, pre)) => (core, pre.to_string()),
            None => (v.split('+').next().unwrap_or(v), String::new()),
        };
        let numbers = core.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        (numbers, pre.is_empty(), pre)
    }
    key(a).cmp(&key(b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn install(root: &Path, name: &str, version: &str) {
        let adaptors = InstalledAdaptors::new(root);
        let dir = adaptors.install_root(name, version);
        std::fs::create_dir_all(dir.join("node_modules").join(name)).unwrap();
        let manifest = Manifest {
            name: name.into(),
            version: version.into(),
            integrity: "sha512-x".into(),
            source: "https://registry.npmjs.org/".into(),
            installed_at: "2026-12-04T00:00:00Z".into(),
            packages: vec![],
            common: CommonSource::BuiltIn {
                wanted: Some("3.3.5".into()),
                note: Some("the registry has no 3.3.5".into()),
            },
            unsupported_builtins: vec![],
            unsupported_importers: Default::default(),
            scanned_specifiers: Default::default(),
        };
        std::fs::write(
            dir.join(MANIFEST_FILE),
            serde_json::to_string(&manifest).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn finds_complete_installs_and_the_newest_for_latest() {
        let temp = tempfile::tempdir().unwrap();
        install(temp.path(), "@openfn/language-openmrs", "5.5.0");
        install(temp.path(), "@openfn/language-openmrs", "5.10.1");
        install(temp.path(), "@openfn/language-fhir", "5.0.15");
        // Incomplete: no manifest.
        std::fs::create_dir_all(temp.path().join("@openfn/language-dhis2@5.0.1")).unwrap();
        let adaptors = InstalledAdaptors::new(temp.path());
        let names: Vec<String> = adaptors
            .list()
            .iter()
            .map(|a| format!("{}@{}", a.manifest.name, a.manifest.version))
            .collect();
        assert_eq!(
            names,
            [
                "@openfn/language-fhir@5.0.15",
                "@openfn/language-openmrs@5.10.1",
                "@openfn/language-openmrs@5.5.0"
            ]
        );
        let latest = adaptors
            .resolve(&AdaptorSpec::parse("openmrs").unwrap())
            .unwrap();
        assert_eq!(latest.manifest.version, "5.10.1");
        let exact = adaptors
            .resolve(&AdaptorSpec::parse("openmrs@5.5.0").unwrap())
            .unwrap();
        assert!(
            exact
                .package_dir()
                .ends_with("node_modules/@openfn/language-openmrs")
        );
        assert!(
            adaptors
                .resolve(&AdaptorSpec::parse("dhis2@5.0.1").unwrap())
                .is_none()
        );
        assert!(
            InstalledAdaptors::new(temp.path().join("none"))
                .list()
                .is_empty()
        );
    }

    #[test]
    fn versions_order_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("5.10.0", "5.9.9"), Greater);
        assert_eq!(compare_versions("1.0.0-rc.12", "1.0.0"), Less);
        assert_eq!(compare_versions("2.1.1", "2.1.1"), Equal);
    }
}
