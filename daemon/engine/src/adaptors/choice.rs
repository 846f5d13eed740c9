//! Which code runs for the adaptor a step names: bolt's built-in common/http, an installed
//! npm package, or a local package directory.
//!
//! The rules:
//! - an installed exact version always runs as named (`common@3.3.4` too, when installed);
//! - common 3.x / http 7.x that aren't installed run bolt's built-ins (the fast path), as
//!   does an unpinned `common`/`http`;
//! - another major of common/http that isn't installed (`common@2.1.1`, `http@6.5.1`) runs the
//!   built-in with a note, which the run logs first, saying how to install the real one;
//! - any other adaptor must be installed (`@latest` or no version: the newest installed);
//!   otherwise the step fails with the exact `bolt adaptor add` command;
//! - `NAME=/path` runs that package directory, where the caller allows it (`bolt execute`).

use super::installed::{InstalledAdaptor, InstalledAdaptors};
use super::package_exports::package_exports;
use super::spec::{AdaptorSpec, SpecError, VersionWanted};
use super::{AdaptorModule, all};
use crate::packages::package_json::PackageJson;
use crate::packages::tree::PackageTree;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// Where adaptors come from besides bolt's built-ins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdaptorSources {
    /// The data dir's installed adaptors.
    pub installed: Option<InstalledAdaptors>,
    /// Whether `NAME=/path` (a package directory on this machine) may be used. Only
    /// `bolt execute` allows it; boltd runs installed adaptors only.
    pub allow_local: bool,
}

impl AdaptorSources {
    pub fn installed(installed: InstalledAdaptors) -> Self {
        AdaptorSources {
            installed: Some(installed),
            allow_local: false,
        }
    }
}

/// What runs for one adaptor of a step.
#[derive(Debug, Clone)]
pub enum AdaptorUse {
    BuiltIn {
        module: &'static AdaptorModule,
        /// Why the built-in runs in place of the version asked for (logged first in the run).
        note: Option<String>,
    },
    Package(Arc<PackageAdaptor>),
}

/// An npm adaptor package, installed or local.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageAdaptor {
    /// The npm name jobs import, e.g. `@openfn/language-openmrs`.
    pub name: String,
    pub version: String,
    /// The package's own directory (its package.json).
    pub dir: PathBuf,
    pub tree: Arc<PackageTree>,
    /// Export names from its type definitions (see `package_exports`).
    pub exports: Arc<Vec<String>>,
}

impl AdaptorUse {
    /// The module specifier compiled jobs import.
    pub fn specifier(&self) -> &str {
        match self {
            AdaptorUse::BuiltIn { module, .. } => module.specifier,
            AdaptorUse::Package(package) => &package.name,
        }
    }

    /// `@openfn/language-openmrs to version 5.5.0`, for the run's log.
    pub fn describe(&self) -> String {
        match self {
            AdaptorUse::BuiltIn { module, .. } => {
                format!("{} to version {}", module.specifier, module.version)
            }
            AdaptorUse::Package(package) => {
                format!("{} to version {}", package.name, package.version)
            }
        }
    }

    /// Identifies the code that runs (for caches of compiled jobs).
    pub fn identity(&self) -> String {
        match self {
            AdaptorUse::BuiltIn { module, .. } => module.specifier.to_string(),
            AdaptorUse::Package(package) => format!(
                "{}@{} {} {}",
                package.name,
                package.version,
                package.dir.display(),
                package.tree.generation
            ),
        }
    }

    pub fn note(&self) -> Option<&str> {
        match self {
            AdaptorUse::BuiltIn { note, .. } => note.as_deref(),
            AdaptorUse::Package(_) => None,
        }
    }
}

/// Why a step's adaptor can't run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdaptorError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("adaptor {spec} is not installed: install it with `bolt adaptor add {install}`")]
    NotInstalled { spec: String, install: String },
    #[error(
        "adaptor {spec} names a package directory, which only `bolt execute` can use; install the adaptor with `bolt adaptor add` instead"
    )]
    LocalNotAllowed { spec: String },
    #[error("adaptor {spec}: {path} is not a package directory ({reason})")]
    LocalMissing {
        spec: String,
        path: String,
        reason: String,
    },
    #[error(
        "adaptor {spec} is installed at {root} but its package is unreadable ({reason}); reinstall it with `bolt adaptor add {install}`"
    )]
    Broken {
        spec: String,
        root: String,
        reason: String,
        install: String,
    },
}

/// Decides what runs for `spec` (any spelling `AdaptorSpec` parses).
pub fn choose(spec: &str, sources: &AdaptorSources) -> Result<AdaptorUse, AdaptorError> {
    let parsed = AdaptorSpec::parse(spec)?;
    if let Some(path) = &parsed.local_path {
        if !sources.allow_local {
            return Err(AdaptorError::LocalNotAllowed {
                spec: parsed.to_string(),
            });
        }
        return local_package(&parsed, path).map(AdaptorUse::Package);
    }
    let built_in = all().iter().find(|a| a.specifier == parsed.name);
    let installed = sources.installed.as_ref();
    if let (Some(version), Some(installed)) = (parsed.exact_version(), installed)
        && let Some(package) = find_installed(installed, &parsed, version)
    {
        return package.map(AdaptorUse::Package);
    }
    if let Some(module) = built_in {
        let note = match parsed.exact_version() {
            Some(version) if major(version) != major(module.version) => Some(format!(
                "{name}@{version} is not installed: running bolt's built-in {name} {built} instead, \
                 whose API differs from {major}.x; install the version the job names with \
                 `bolt adaptor add {name}@{version}`",
                name = module.specifier,
                built = module.version,
                major = major(version),
            )),
            _ => None,
        };
        return Ok(AdaptorUse::BuiltIn { module, note });
    }
    if parsed.version == VersionWanted::Latest
        && let Some(package) = installed.and_then(|i| newest_installed(i, &parsed))
    {
        return package.map(AdaptorUse::Package);
    }
    Err(AdaptorError::NotInstalled {
        spec: parsed.to_string(),
        install: match parsed.exact_version() {
            Some(version) => format!("{}@{version}", parsed.name),
            None => parsed.name.clone(),
        },
    })
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// An installed exact version (`None`: not installed), remembered per manifest file and its
/// modification time: a step's adaptor is looked up on every run, and this costs one `stat`.
fn find_installed(
    installed: &InstalledAdaptors,
    spec: &AdaptorSpec,
    version: &str,
) -> Option<Result<Arc<PackageAdaptor>, AdaptorError>> {
    type Cache = Mutex<HashMap<PathBuf, (SystemTime, Arc<PackageAdaptor>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let root = installed.install_root(&spec.name, version);
    let manifest = root.join(super::installed::MANIFEST_FILE);
    let stamp = std::fs::metadata(&manifest)
        .and_then(|m| m.modified())
        .ok()?;
    if let Some((seen, package)) = cache.lock().ok().and_then(|c| c.get(&root).cloned())
        && seen == stamp
    {
        return Some(Ok(package));
    }
    let found = installed.find(&spec.name, version)?;
    let package = installed_package(spec, &found);
    if let (Ok(package), Ok(mut cache)) = (&package, cache.lock()) {
        cache.insert(root, (stamp, package.clone()));
    }
    Some(package)
}

/// The newest completely installed version of `name`: versions are read from the install
/// folders' names (no manifest parsing for the older ones), newest first, and the first
/// whose manifest is in place wins.
fn newest_installed(
    installed: &InstalledAdaptors,
    spec: &AdaptorSpec,
) -> Option<Result<Arc<PackageAdaptor>, AdaptorError>> {
    let sample = installed.install_root(&spec.name, "0");
    let folder = sample.parent()?;
    let prefix = sample.file_name()?.to_str()?.strip_suffix('0')?.to_string();
    let mut versions: Vec<String> = std::fs::read_dir(folder)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            name.to_str()?.strip_prefix(&prefix).map(String::from)
        })
        .collect();
    versions.sort_by(|a, b| super::installed::compare_versions(b, a));
    versions
        .iter()
        .find_map(|version| find_installed(installed, spec, version))
}

fn installed_package(
    spec: &AdaptorSpec,
    found: &InstalledAdaptor,
) -> Result<Arc<PackageAdaptor>, AdaptorError> {
    let broken = |reason: String| AdaptorError::Broken {
        spec: spec.to_string(),
        root: found.root.display().to_string(),
        reason,
        install: format!("{}@{}", found.manifest.name, found.manifest.version),
    };
    let tree = PackageTree::installed(found).map_err(|e| broken(e.to_string()))?;
    let dir = tree.root.join("node_modules").join(&found.manifest.name);
    if !dir.join("package.json").is_file() {
        return Err(broken(format!("{} has no package.json", dir.display())));
    }
    Ok(Arc::new(PackageAdaptor {
        name: found.manifest.name.clone(),
        version: found.manifest.version.clone(),
        exports: package_exports(&dir),
        dir,
        tree: Arc::new(tree),
    }))
}

fn local_package(
    spec: &AdaptorSpec,
    path: &std::path::Path,
) -> Result<Arc<PackageAdaptor>, AdaptorError> {
    let missing = |reason: String| AdaptorError::LocalMissing {
        spec: spec.to_string(),
        path: path.display().to_string(),
        reason,
    };
    let package = PackageJson::read(path)
        .map_err(|e| missing(e.to_string()))?
        .ok_or_else(|| missing("it has no package.json".into()))?;
    let version = package.version.clone().unwrap_or_else(|| "local".into());
    let label = format!("{}@{version}", spec.name);
    let tree = PackageTree::local(path, &label).map_err(|e| missing(e.to_string()))?;
    let dir = tree.root.clone();
    Ok(Arc::new(PackageAdaptor {
        name: spec.name.clone(),
        version,
        exports: package_exports(&dir),
        dir,
        tree: Arc::new(tree),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::adaptors::installed::{CommonSource, MANIFEST_FILE, Manifest};
    use std::path::Path;

    fn install(root: &Path, name: &str, version: &str) {
        let adaptors = InstalledAdaptors::new(root);
        let dir = adaptors.install_root(name, version);
        let package = dir.join("node_modules").join(name);
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(
            package.join("package.json"),
            format!(r#"{{"name":"{name}","version":"{version}"}}"#),
        )
        .unwrap();
        let manifest = Manifest {
            name: name.into(),
            version: version.into(),
            integrity: "sha512-x".into(),
            source: "test".into(),
            installed_at: "2026-12-04T00:00:00Z".into(),
            packages: vec![],
            common: CommonSource::BuiltIn {
                wanted: None,
                note: None,
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

    fn version_of(choice: &AdaptorUse) -> String {
        match choice {
            AdaptorUse::BuiltIn { module, .. } => format!("built-in {}", module.version),
            AdaptorUse::Package(p) => p.version.clone(),
        }
    }

    #[test]
    fn version_rules() {
        let temp = tempfile::tempdir().unwrap();
        install(temp.path(), "@openfn/language-common", "2.1.1");
        install(temp.path(), "@openfn/language-openmrs", "5.5.0");
        install(temp.path(), "@openfn/language-openmrs", "5.10.0");
        let sources = AdaptorSources::installed(InstalledAdaptors::new(temp.path()));
        let choose = |spec: &str| choose(spec, &sources);

        assert_eq!(version_of(&choose("common@2.1.1").unwrap()), "2.1.1");
        let fast = choose("common@3.2.1").unwrap();
        assert_eq!(version_of(&fast), "built-in 3.3.4");
        assert_eq!(fast.note(), None);
        assert_eq!(version_of(&choose("common").unwrap()), "built-in 3.3.4");

        let other_major = choose("@openfn/language-http@6.5.1").unwrap();
        assert_eq!(version_of(&other_major), "built-in 7.2.10");
        let note = other_major.note().unwrap();
        assert!(
            note.contains("@openfn/language-http@6.5.1 is not installed"),
            "{note}"
        );
        assert!(
            note.contains("`bolt adaptor add @openfn/language-http@6.5.1`"),
            "{note}"
        );

        assert_eq!(version_of(&choose("openmrs@5.5.0").unwrap()), "5.5.0");
        assert_eq!(version_of(&choose("openmrs@latest").unwrap()), "5.10.0");
        assert_eq!(version_of(&choose("openmrs").unwrap()), "5.10.0");
        let error = choose("openmrs@5.6.0").unwrap_err().to_string();
        assert_eq!(
            error,
            "adaptor @openfn/language-openmrs@5.6.0 is not installed: install it with `bolt adaptor add @openfn/language-openmrs@5.6.0`"
        );
        let error = choose("dhis2").unwrap_err().to_string();
        assert!(
            error.ends_with("`bolt adaptor add @openfn/language-dhis2`"),
            "{error}"
        );
        assert!(
            choose("openmrs@^5")
                .unwrap_err()
                .to_string()
                .contains("not a version")
        );
    }

    #[test]
    fn local_packages_only_where_allowed() {
        let temp = tempfile::tempdir().unwrap();
        std::fs::write(
            temp.path().join("package.json"),
            r#"{"name":"@openfn/language-x","version":"0.1.0"}"#,
        )
        .unwrap();
        let spec = format!("@openfn/language-x={}", temp.path().display());
        let error = choose(&spec, &AdaptorSources::default()).unwrap_err();
        assert!(matches!(error, AdaptorError::LocalNotAllowed { .. }));
        let sources = AdaptorSources {
            installed: None,
            allow_local: true,
        };
        let AdaptorUse::Package(package) = choose(&spec, &sources).unwrap() else {
            panic!("not a package");
        };
        assert_eq!(package.version, "0.1.0");
        assert!(!package.tree.bounded);
        let missing = format!("x={}", temp.path().join("nope").display());
        assert!(matches!(
            choose(&missing, &sources),
            Err(AdaptorError::LocalMissing { .. })
        ));
    }
}
