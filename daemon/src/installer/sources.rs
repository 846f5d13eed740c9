//! Where packages come from: the given files first (`npm pack` tarballs, bundles), then the
//! registry, when there is one. Registry metadata is fetched once per package name and
//! shared by every adaptor of one command.

use super::packument::{Packument, VersionMeta};
use super::registry::{FetchError, Registry};
use super::versions::{self, Wanted};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Packages read from files, with their tarballs.
#[derive(Debug, Default, Clone)]
pub struct LocalPackages {
    packuments: HashMap<String, Packument>,
    tarballs: HashMap<String, Arc<Vec<u8>>>,
    /// `(name, range)` → why the registry could not provide it when a bundle was made.
    unavailable: HashMap<(String, String), String>,
    /// Where each package was read from (`file:openmrs.tgz`), by `name@version`.
    origins: HashMap<String, String>,
}

impl LocalPackages {
    pub fn add(&mut self, meta: VersionMeta, tarball: Arc<Vec<u8>>, origin: String) {
        let id = meta.id();
        let packument = self
            .packuments
            .entry(meta.name.clone())
            .or_insert_with(|| Packument {
                name: meta.name.clone(),
                ..Packument::default()
            });
        // `latest` among files means the newest version given.
        let newer = packument.dist_tags.get("latest").is_none_or(|latest| {
            crate::engine::adaptors::installed::compare_versions(&meta.version, latest).is_gt()
        });
        if newer {
            packument
                .dist_tags
                .insert("latest".into(), meta.version.clone());
        }
        packument.versions.insert(meta.version.clone(), meta);
        self.tarballs.insert(id.clone(), tarball);
        self.origins.insert(id, origin);
    }

    pub fn add_unavailable(&mut self, name: String, range: String, why: String) {
        self.unavailable.insert((name, range), why);
    }

    pub fn is_empty(&self) -> bool {
        self.packuments.is_empty()
    }

    /// Every package read, as `VersionMeta`s.
    pub fn all(&self) -> impl Iterator<Item = &VersionMeta> {
        self.packuments.values().flat_map(|p| p.versions.values())
    }

    pub fn tarball(&self, id: &str) -> Option<Arc<Vec<u8>>> {
        self.tarballs.get(id).cloned()
    }

    pub fn origin(&self, id: &str) -> Option<&str> {
        self.origins.get(id).map(String::as_str)
    }
}

/// Why no version could be picked.
#[derive(Debug, Clone, PartialEq)]
pub enum PickError {
    /// The spec is not something a registry serves (or not readable).
    BadSpec(String),
    /// The registry has no such package.
    UnknownPackage {
        registry: String,
    },
    /// The registry (or the files) have the package, but no version matching.
    NoVersion {
        registry: Option<String>,
        nearest: Vec<String>,
        /// A reason recorded in a bundle, in place of a list of versions.
        note: Option<String>,
    },
    /// Not in the files, and no registry to ask (`--from-file` without a registry).
    NotInFiles {
        registry_error: Option<FetchError>,
    },
    Fetch(FetchError),
}

pub struct Sources {
    registry: Option<Registry>,
    local: LocalPackages,
    fetched: Mutex<HashMap<String, Result<Arc<Packument>, FetchError>>>,
    /// Set once the registry was found unreachable: no more waiting on it in this command.
    offline: Mutex<Option<FetchError>>,
}

impl Sources {
    pub fn new(registry: Option<Registry>, local: LocalPackages) -> Sources {
        Sources {
            registry,
            local,
            fetched: Mutex::new(HashMap::new()),
            offline: Mutex::new(None),
        }
    }

    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    pub fn local(&self) -> &LocalPackages {
        &self.local
    }

    /// The registry's document for `name` (fetched once; failures are remembered too).
    pub async fn packument(&self, name: &str) -> Result<Arc<Packument>, FetchError> {
        if let Some(known) = lock(&self.fetched).get(name) {
            return known.clone();
        }
        let Some(registry) = &self.registry else {
            return Err(FetchError::Unreachable {
                url: String::new(),
                detail: "no registry".into(),
            });
        };
        if let Some(error) = lock(&self.offline).clone() {
            return Err(error);
        }
        let result = registry.packument(name).await.map(Arc::new);
        if let Err(error @ FetchError::Unreachable { .. }) = &result {
            *lock(&self.offline) = Some(error.clone());
        }
        lock(&self.fetched).insert(name.to_string(), result.clone());
        result
    }

    /// Fetches the documents of `names` concurrently (a cache warm-up: errors show later).
    pub async fn prefetch(self: &Arc<Self>, names: Vec<String>) {
        let missing: Vec<String> = {
            let fetched = lock(&self.fetched);
            names
                .into_iter()
                .filter(|name| !fetched.contains_key(name))
                .collect()
        };
        if missing.is_empty() || self.registry.is_none() {
            return;
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(16));
        let mut tasks = tokio::task::JoinSet::new();
        for name in missing {
            let sources = self.clone();
            let limit = limit.clone();
            tasks.spawn(async move {
                let _permit = limit.acquire().await;
                let _ = sources.packument(&name).await;
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Whether `name`'s document must come from the registry for `spec` (the files don't
    /// have a matching version).
    pub fn needs_registry(&self, name: &str, spec: &str) -> bool {
        let Ok(wanted) = versions::wanted(spec) else {
            return false;
        };
        self.local
            .packuments
            .get(name)
            .and_then(|p| versions::pick(p, &wanted))
            .is_none()
    }

    /// The version of `name` that `spec` gets: from the files when they have one, else
    /// from the registry by npm's rules.
    pub async fn pick(&self, name: &str, spec: &str) -> Result<Arc<VersionMeta>, PickError> {
        let wanted = versions::wanted(spec).map_err(PickError::BadSpec)?;
        if let Some(meta) = self
            .local
            .packuments
            .get(name)
            .and_then(|p| versions::pick(p, &wanted))
        {
            return Ok(Arc::new(meta.clone()));
        }
        if let Some(why) = self
            .local
            .unavailable
            .get(&(name.to_string(), spec.to_string()))
        {
            return Err(PickError::NoVersion {
                registry: None,
                nearest: Vec::new(),
                note: Some(why.clone()),
            });
        }
        let Some(registry) = &self.registry else {
            if self.local.packuments.contains_key(name) {
                return Err(self.no_version_in_files(name, spec));
            }
            return Err(PickError::NotInFiles {
                registry_error: None,
            });
        };
        let packument = match self.packument(name).await {
            Ok(packument) => packument,
            Err(FetchError::NotFound { .. }) if self.local.packuments.contains_key(name) => {
                return Err(self.no_version_in_files(name, spec));
            }
            Err(FetchError::NotFound { .. }) => {
                return Err(PickError::UnknownPackage {
                    registry: registry.url().to_string(),
                });
            }
            Err(error) if !self.local.is_empty() => {
                return Err(PickError::NotInFiles {
                    registry_error: Some(error),
                });
            }
            Err(error) => return Err(PickError::Fetch(error)),
        };
        versions::pick(&packument, &wanted)
            .map(|meta| {
                // The document was asked for by this name: what a version says of itself
                // must not move it elsewhere on disk.
                let mut meta = meta.clone();
                meta.name = name.to_string();
                Arc::new(meta)
            })
            .ok_or_else(|| PickError::NoVersion {
                registry: Some(registry.url().to_string()),
                nearest: versions::nearest(&packument, spec),
                note: None,
            })
    }

    fn no_version_in_files(&self, name: &str, spec: &str) -> PickError {
        let nearest = self
            .local
            .packuments
            .get(name)
            .map(|p| versions::nearest(p, spec))
            .unwrap_or_default();
        PickError::NoVersion {
            registry: None,
            nearest,
            note: None,
        }
    }

    /// Whether `version` of `name` satisfies `spec` (tags are looked up in the cache).
    pub fn satisfies(&self, name: &str, spec: &str, version: &str) -> bool {
        let Ok(wanted) = versions::wanted(spec) else {
            return false;
        };
        if let Wanted::Tag(_) = wanted {
            let fetched = lock(&self.fetched);
            let packument = fetched
                .get(name)
                .and_then(|r| r.as_ref().ok())
                .map(|p| p.as_ref())
                .or_else(|| self.local.packuments.get(name));
            return packument.is_none_or(|p| versions::satisfies(&wanted, version, Some(p)));
        }
        versions::satisfies(&wanted, version, None)
    }
}

/// A poisoned lock only means another task panicked mid-update of a cache: the data is
/// still a valid cache.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
