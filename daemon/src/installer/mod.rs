//! Installs OpenFn adaptors (any npm package, really) from an npm registry or from files,
//! into the layout [`crate::engine::adaptors::installed`] describes. boltd runs it for
//! `bolt adaptor add` and deploy; `bolt` runs it directly when boltd is not running. The
//! same lock keeps the two from interleaving.
//!
//! One install: read the files given, take the lock, resolve the adaptor's tree
//! ([`resolve`]), download every tarball and check it against the registry's integrity
//! ([`tarball`]), unpack them into a staging folder, scan for Node built-ins bolt cannot
//! provide ([`scan`]), write the manifest last and rename the folder into place
//! ([`transaction`]). No package code ever runs at install: install scripts are ignored.

pub mod bundle;
pub mod deploy;
mod error;
mod fetch;
mod files;
pub mod packument;
pub mod pins;
pub mod registry;
pub mod resolve;
pub mod scan;
mod sources;
pub mod tarball;
mod transaction;
pub mod versions;

use crate::engine::adaptors::installed::{
    CommonSource, InstalledAdaptor, InstalledAdaptors, InstalledPackage, MANIFEST_FILE, Manifest,
};
use crate::engine::adaptors::spec::{AdaptorSpec, VersionWanted};
use bolt_shared::adaptors::{
    AdaptorAddReport, AdaptorCommon, AdaptorInfo, CommonKind, InstallProgress,
};
pub use error::InstallError;
use fetch::{TarballCache, fetch_one};
use registry::{FetchError, Registry};
use resolve::{COMMON, Resolution, ResolveError};
use sources::{LocalPackages, PickError, Sources};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Where progress goes (a terminal, JSON lines, socket frames).
pub type Report<'a> = &'a (dyn Fn(InstallProgress) + Send + Sync);

/// How many tarballs download at once.
const PARALLEL_DOWNLOADS: usize = 8;

/// What `bolt adaptor add` asks for.
#[derive(Debug, Clone, Default)]
pub struct AddRequest {
    pub specs: Vec<AdaptorSpec>,
    /// `npm pack` tarballs and bundles, read before the registry is asked.
    pub files: Vec<PathBuf>,
    /// Reinstall versions already installed.
    pub force: bool,
}

/// What `bolt adaptor bundle` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BundleSummary {
    pub path: String,
    pub adaptors: Vec<String>,
    pub packages: usize,
    pub bytes: u64,
}

/// The installer of one data dir, against one registry.
pub struct Installer {
    adaptors: InstalledAdaptors,
    registry: Registry,
}

impl Installer {
    pub fn new(adaptors: InstalledAdaptors, registry_url: &str) -> Result<Installer, InstallError> {
        let registry = Registry::new(registry_url).map_err(InstallError::Spec)?;
        Ok(Installer { adaptors, registry })
    }

    pub fn adaptors(&self) -> &InstalledAdaptors {
        &self.adaptors
    }

    pub fn registry_url(&self) -> &str {
        self.registry.url()
    }

    /// The version the registry's `latest` tag names.
    pub async fn latest(&self, name: &str) -> Result<String, InstallError> {
        let sources = Sources::new(Some(self.registry.clone()), LocalPackages::default());
        let meta = sources
            .pick(name, "latest")
            .await
            .map_err(|error| self.pick_error(name, "latest", &[], error))?;
        Ok(meta.version.clone())
    }

    /// Installs what `request` names; each adaptor version is installed completely or not
    /// at all.
    pub async fn add(
        &self,
        request: AddRequest,
        report: Report<'_>,
    ) -> Result<AdaptorAddReport, InstallError> {
        // Bundles can be large and every tarball in them is hashed: off the async threads.
        let paths = request.files.clone();
        let files = tokio::task::spawn_blocking(move || files::read(&paths))
            .await
            .map_err(|e| InstallError::Other(format!("reading the files stopped: {e}")))??;
        let mut roots: Vec<(String, VersionWanted)> = Vec::new();
        for spec in &request.specs {
            if let Some(path) = &spec.local_path {
                return Err(InstallError::Spec(format!(
                    "{spec} names a package directory ({}): `bolt execute -a {spec}` uses it in place, there is nothing to install",
                    path.display()
                )));
            }
            roots.push((spec.name.clone(), spec.version.clone()));
        }
        if roots.is_empty() {
            roots = files
                .roots
                .iter()
                .map(|(name, version)| (name.clone(), VersionWanted::Exact(version.clone())))
                .collect();
        }
        if roots.is_empty() {
            return Err(InstallError::Spec(
                "name an adaptor to install (e.g. `bolt adaptor add openmrs@5.5.0`) or give files with --from-file".into(),
            ));
        }
        let sources = Arc::new(Sources::new(Some(self.registry.clone()), files.local));
        let lock = transaction::lock(&self.adaptors, report).await?;
        let cache = TarballCache::default();
        let mut outcome = AdaptorAddReport::default();
        // Every tree is resolved before anything is downloaded: a misspelt name or a
        // version that doesn't exist stops the command before it installs anything.
        let mut resolved = Vec::new();
        for (name, wanted) in roots {
            if let VersionWanted::Exact(version) = &wanted
                && !request.force
                && let Some(installed) = self.adaptors.find(&name, version)
            {
                outcome.already_installed.push(info(&installed));
                continue;
            }
            let spec_text = match &wanted {
                VersionWanted::Exact(version) => version.clone(),
                VersionWanted::Latest => "latest".to_string(),
            };
            report(InstallProgress::Resolving {
                adaptor: format!("{name}@{spec_text}"),
            });
            let resolution = self.resolve(&sources, &name, &spec_text).await?;
            let Some(top) = resolution.tree.top(&name) else {
                return Err(InstallError::Other(format!("{name} was not resolved")));
            };
            let version = resolution.tree.nodes[top].meta.version.clone();
            if !request.force
                && let Some(installed) = self.adaptors.find(&name, &version)
            {
                outcome.already_installed.push(info(&installed));
                continue;
            }
            resolved.push((resolution, top));
        }
        for (resolution, top) in resolved {
            outcome.warnings.extend(resolution.warnings.iter().cloned());
            for warning in &resolution.warnings {
                report(InstallProgress::Warning {
                    message: warning.clone(),
                });
            }
            let installed = self
                .install_tree(&lock, &sources, &cache, &resolution, top, report)
                .await?;
            outcome.installed.push(info(&installed));
        }
        Ok(outcome)
    }

    /// Removes `name@version`; `None` when it is not installed.
    pub async fn remove(
        &self,
        name: &str,
        version: &str,
        report: Report<'_>,
    ) -> Result<Option<InstalledAdaptor>, InstallError> {
        let lock = transaction::lock(&self.adaptors, report).await?;
        let Some(installed) = self.adaptors.find(name, version) else {
            return Ok(None);
        };
        lock.remove(&installed.root)?;
        Ok(Some(installed))
    }

    /// Writes one file holding `specs` and their whole trees, for `add --from-file` on a
    /// machine without a connection. Installs nothing.
    pub async fn bundle(
        &self,
        specs: &[AdaptorSpec],
        out: &Path,
        report: Report<'_>,
    ) -> Result<BundleSummary, InstallError> {
        if specs.is_empty() {
            return Err(InstallError::Spec(
                "name the adaptors to bundle, e.g. `bolt adaptor bundle openmrs@5.5.0 -o openmrs.bundle`".into(),
            ));
        }
        let sources = Arc::new(Sources::new(
            Some(self.registry.clone()),
            LocalPackages::default(),
        ));
        let cache = TarballCache::default();
        let mut index = bundle::BundleIndex {
            format: bundle::FORMAT.into(),
            format_version: bundle::FORMAT_VERSION,
            created_at: chrono::Utc::now().to_rfc3339(),
            registry: self.registry.url().to_string(),
            adaptors: Vec::new(),
            packages: Vec::new(),
            unavailable: Vec::new(),
        };
        let mut members: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
        for spec in specs {
            if spec.local_path.is_some() {
                return Err(InstallError::Spec(format!(
                    "{spec} is a package directory: bundle it from the registry by name and version"
                )));
            }
            let spec_text = spec.exact_version().unwrap_or("latest").to_string();
            report(InstallProgress::Resolving {
                adaptor: format!("{}@{spec_text}", spec.name),
            });
            let resolution = self.resolve(&sources, &spec.name, &spec_text).await?;
            let Some(top) = resolution.tree.top(&spec.name) else {
                return Err(InstallError::Other(format!(
                    "{} was not resolved",
                    spec.name
                )));
            };
            let adaptor = resolution.tree.nodes[top].meta.id();
            let fetched = self
                .fetch_all(&sources, &cache, &resolution, &adaptor, report)
                .await?;
            for (meta, bytes) in fetched {
                let file = bundle::member_name(&meta);
                if members.insert(file.clone(), bytes).is_none() {
                    index.packages.push(bundle::BundlePackage {
                        file,
                        meta: (*meta).clone(),
                    });
                }
            }
            for fallback in &resolution.common_fallbacks {
                let entry = bundle::Unavailable {
                    name: COMMON.into(),
                    range: fallback.wanted.clone(),
                    note: fallback.note.clone(),
                };
                if !index.unavailable.contains(&entry) {
                    index.unavailable.push(entry);
                }
            }
            index.adaptors.push(adaptor);
        }
        let bytes = bundle::write(out, &index, &members)
            .map_err(|e| InstallError::io(format!("cannot write {}", out.display()), e))?;
        Ok(BundleSummary {
            path: out.display().to_string(),
            adaptors: index.adaptors,
            packages: index.packages.len(),
            bytes,
        })
    }

    /// Scans an installed adaptor again when its scan is stale (this bolt's tables of
    /// built-ins classify an import differently), updating its manifest.
    pub async fn rescan(
        &self,
        adaptor: InstalledAdaptor,
        report: Report<'_>,
    ) -> Result<InstalledAdaptor, InstallError> {
        if !scan::is_stale(&adaptor.manifest.scanned_specifiers) {
            return Ok(adaptor);
        }
        let root = adaptor.root.clone();
        let package_dir = adaptor.package_dir();
        let findings = tokio::task::spawn_blocking(move || scan::scan(&root, &package_dir))
            .await
            .map_err(|e| InstallError::Other(format!("the scan stopped: {e}")))?;
        let unsupported: Vec<String> = findings.unsupported.keys().cloned().collect();
        let _lock = transaction::lock(&self.adaptors, report).await?;
        if !adaptor.root.join(MANIFEST_FILE).is_file() {
            return Ok(adaptor); // removed meanwhile
        }
        let mut manifest = adaptor.manifest.clone();
        manifest.unsupported_builtins = unsupported;
        manifest.unsupported_importers = findings.unsupported;
        manifest.scanned_specifiers = findings.specifiers;
        let text =
            serde_json::to_vec_pretty(&manifest).map_err(|e| InstallError::Other(e.to_string()))?;
        let temp = adaptor.root.join(format!(".{MANIFEST_FILE}.new"));
        std::fs::write(&temp, text)
            .and_then(|()| std::fs::rename(&temp, adaptor.root.join(MANIFEST_FILE)))
            .map_err(|e| {
                InstallError::io(format!("cannot update {}", adaptor.root.display()), e)
            })?;
        Ok(InstalledAdaptor {
            root: adaptor.root,
            manifest,
        })
    }

    /// Rescans every installed adaptor whose scan is stale (boltd does this at start, so
    /// the manifests the loader reads follow this bolt's tables). Returns how many changed.
    pub async fn refresh_stale(&self, report: Report<'_>) -> usize {
        let mut refreshed = 0;
        for adaptor in self.adaptors.list() {
            if !scan::is_stale(&adaptor.manifest.scanned_specifiers) {
                continue;
            }
            let label = format!("{}@{}", adaptor.manifest.name, adaptor.manifest.version);
            match self.rescan(adaptor, report).await {
                Ok(_) => refreshed += 1,
                Err(error) => {
                    tracing::warn!(adaptor = %label, %error, "cannot rescan an installed adaptor")
                }
            }
        }
        refreshed
    }

    async fn resolve(
        &self,
        sources: &Arc<Sources>,
        name: &str,
        spec: &str,
    ) -> Result<Resolution, InstallError> {
        resolve::resolve(
            sources,
            &[(name.to_string(), spec.to_string())],
            built_in_common_version(),
        )
        .await
        .map_err(|error| self.resolve_error(name, spec, *error))
    }

    fn resolve_error(&self, adaptor: &str, spec: &str, error: ResolveError) -> InstallError {
        if error.chain.is_empty() {
            return self.pick_error(adaptor, spec, &[], error.error);
        }
        self.pick_error(&error.package, &error.spec, &error.chain, error.error)
    }

    fn pick_error(
        &self,
        package: &str,
        spec: &str,
        chain: &[String],
        error: PickError,
    ) -> InstallError {
        if let PickError::Fetch(FetchError::Unreachable { url, detail }) = &error {
            return self.unreachable(url, detail);
        }
        if !chain.is_empty() {
            return InstallError::Dependency {
                needed_by: chain.join(" → "),
                package: package.to_string(),
                spec: spec.to_string(),
                detail: resolve::describe(package, spec, &error),
            };
        }
        match error {
            PickError::UnknownPackage { registry } => InstallError::UnknownAdaptor {
                name: package.to_string(),
                registry,
            },
            PickError::NoVersion {
                registry, nearest, ..
            } => InstallError::NoSuchVersion {
                name: package.to_string(),
                wanted: spec.to_string(),
                place: registry
                    .map(|r| format!("the registry {r}"))
                    .unwrap_or_else(|| "the given files".into()),
                nearest,
            },
            PickError::Fetch(fetch) => {
                InstallError::Other(format!("cannot read {package} from the registry: {fetch}"))
            }
            other => InstallError::Spec(resolve::describe(package, spec, &other)),
        }
    }

    /// The registry's own URL when `url` is one of its documents (what users configure).
    fn unreachable(&self, url: &str, detail: &str) -> InstallError {
        let base = self.registry.url();
        InstallError::Unreachable {
            url: if url.starts_with(base) || url.is_empty() {
                base.to_string()
            } else {
                url.to_string()
            },
            detail: detail.to_string(),
        }
    }

    /// Downloads (or takes from the files) and checks every package of a tree.
    async fn fetch_all(
        &self,
        sources: &Arc<Sources>,
        cache: &TarballCache,
        resolution: &Resolution,
        adaptor: &str,
        report: Report<'_>,
    ) -> Result<Vec<(Arc<packument::VersionMeta>, Arc<Vec<u8>>)>, InstallError> {
        let mut unique: Vec<Arc<packument::VersionMeta>> = Vec::new();
        for (_, node) in resolution.tree.packages() {
            if !unique.iter().any(|m| m.id() == node.meta.id()) {
                unique.push(node.meta.clone());
            }
        }
        let total = unique.len() as u64;
        report(InstallProgress::Resolved {
            adaptor: adaptor.to_string(),
            packages: resolution.tree.nodes.len() as u64 - 1,
            to_fetch: total,
        });
        let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL_DOWNLOADS));
        let mut tasks = tokio::task::JoinSet::new();
        for meta in unique {
            let sources = sources.clone();
            let cache = cache.clone();
            let limit = limit.clone();
            tasks.spawn(async move {
                let _permit = limit.acquire().await;
                let bytes = fetch_one(&sources, &cache, &meta).await;
                (meta, bytes)
            });
        }
        let mut fetched = Vec::new();
        let mut done_bytes = 0;
        while let Some(joined) = tasks.join_next().await {
            let (meta, bytes) =
                joined.map_err(|e| InstallError::Other(format!("a download stopped: {e}")))?;
            let bytes = bytes?;
            done_bytes += bytes.len() as u64;
            report(InstallProgress::Fetched {
                adaptor: adaptor.to_string(),
                package: meta.id(),
                bytes: bytes.len() as u64,
                done: fetched.len() as u64 + 1,
                total,
                done_bytes,
            });
            fetched.push((meta, bytes));
        }
        Ok(fetched)
    }

    async fn install_tree(
        &self,
        lock: &transaction::Lock,
        sources: &Arc<Sources>,
        cache: &TarballCache,
        resolution: &Resolution,
        top: usize,
        report: Report<'_>,
    ) -> Result<InstalledAdaptor, InstallError> {
        let started = Instant::now();
        let tree = &resolution.tree;
        let adaptor = tree.nodes[top].meta.clone();
        let fetched = self
            .fetch_all(sources, cache, resolution, &adaptor.id(), report)
            .await?;
        let bytes_by_id: HashMap<String, Arc<Vec<u8>>> = fetched
            .iter()
            .map(|(meta, bytes)| (meta.id(), bytes.clone()))
            .collect();
        let downloaded: u64 = fetched.iter().map(|(_, b)| b.len() as u64).sum();
        let staging = lock.stage(&adaptor.name, &adaptor.version)?;
        let jobs: Vec<(PathBuf, String, Arc<Vec<u8>>)> = tree
            .packages()
            .map(|(index, node)| {
                let id = node.meta.id();
                let bytes = bytes_by_id.get(&id).cloned().unwrap_or_default();
                (staging.dir().join(tree.path(index)), id, bytes)
            })
            .collect();
        let root = staging.dir().to_path_buf();
        let package_dir = root.join("node_modules").join(&adaptor.name);
        report(InstallProgress::Unpacking {
            adaptor: adaptor.id(),
            packages: jobs.len() as u64,
        });
        let findings =
            tokio::task::spawn_blocking(move || -> Result<scan::Findings, InstallError> {
                for (dest, id, bytes) in jobs {
                    tarball::unpack(&bytes, &dest, tarball::Limits::default()).map_err(|e| {
                        InstallError::BadPackage {
                            package: id,
                            detail: e.to_string(),
                        }
                    })?;
                }
                Ok(scan::scan(&root, &package_dir))
            })
            .await
            .map_err(|e| InstallError::Other(format!("unpacking stopped: {e}")))??;
        let manifest = Manifest {
            name: adaptor.name.clone(),
            version: adaptor.version.clone(),
            integrity: adaptor.dist.integrity.clone().unwrap_or_default(),
            source: sources
                .local()
                .origin(&adaptor.id())
                .map(String::from)
                .unwrap_or_else(|| self.registry.url().to_string()),
            installed_at: chrono::Utc::now().to_rfc3339(),
            packages: std::iter::once(top)
                .chain(tree.packages().map(|(i, _)| i).filter(|i| *i != top))
                .map(|i| InstalledPackage {
                    name: tree.nodes[i].meta.name.clone(),
                    version: tree.nodes[i].meta.version.clone(),
                    path: tree.path(i).display().to_string(),
                    integrity: tree.nodes[i]
                        .meta
                        .dist
                        .integrity
                        .clone()
                        .unwrap_or_default(),
                })
                .collect(),
            common: common_source(resolution, top),
            unsupported_builtins: findings.unsupported.keys().cloned().collect(),
            unsupported_importers: findings.unsupported,
            scanned_specifiers: findings.specifiers,
        };
        let text =
            serde_json::to_vec_pretty(&manifest).map_err(|e| InstallError::Other(e.to_string()))?;
        let destination = staging.commit(MANIFEST_FILE, &text)?;
        report(InstallProgress::Installed {
            adaptor: adaptor.id(),
            packages: manifest.packages.len() as u64,
            bytes: downloaded,
            millis: started.elapsed().as_millis() as u64,
        });
        Ok(InstalledAdaptor {
            root: destination,
            manifest,
        })
    }
}

/// How the adaptor at `top` gets language-common.
fn common_source(resolution: &Resolution, top: usize) -> CommonSource {
    let tree = &resolution.tree;
    if tree.nodes[top].meta.name == COMMON {
        return CommonSource::Installed {
            version: tree.nodes[top].meta.version.clone(),
        };
    }
    match tree.edge_target(top, COMMON) {
        Some(Some(common)) => CommonSource::Installed {
            version: tree.nodes[common].meta.version.clone(),
        },
        Some(None) => {
            let fallback = resolution.common_fallbacks.iter().find(|f| f.from == top);
            CommonSource::BuiltIn {
                wanted: fallback.map(|f| f.wanted.clone()),
                note: fallback.map(|f| f.note.clone()),
            }
        }
        None => CommonSource::BuiltIn {
            wanted: None,
            note: Some(format!(
                "the adaptor does not depend on {COMMON}; bolt's built-in common {} serves any import of it",
                built_in_common_version()
            )),
        },
    }
}

/// At boltd's start: rescans installed adaptors whose scan an older bolt made, so their
/// manifests follow this bolt's tables of Node built-ins.
pub async fn refresh_at_start(daemon: Arc<crate::daemon::Daemon>) {
    let adaptors = InstalledAdaptors::in_data_dir(&daemon.data_dir);
    if adaptors.list().is_empty() {
        return;
    }
    let Ok(installer) = Installer::new(adaptors, &daemon.config.adaptor_registry()) else {
        return;
    };
    let refreshed = installer.refresh_stale(&|_| {}).await;
    if refreshed > 0 {
        tracing::info!(
            refreshed,
            "rescanned installed adaptors for this bolt's Node built-ins"
        );
    }
}

/// The version of bolt's built-in language-common.
pub fn built_in_common_version() -> &'static str {
    crate::engine::adaptors::resolve("common")
        .map(|adaptor| adaptor.version)
        .unwrap_or("3")
}

/// An installed adaptor as `bolt adaptor list` shows it.
pub fn info(adaptor: &InstalledAdaptor) -> AdaptorInfo {
    let manifest = &adaptor.manifest;
    let common = match &manifest.common {
        CommonSource::Installed { version } => AdaptorCommon {
            source: CommonKind::Installed,
            version: version.clone(),
            wanted: None,
            note: None,
        },
        CommonSource::BuiltIn { wanted, note } => AdaptorCommon {
            source: CommonKind::BuiltIn,
            version: built_in_common_version().to_string(),
            wanted: wanted.clone(),
            note: note.clone(),
        },
    };
    AdaptorInfo {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        common,
        packages: manifest.packages.len(),
        source: manifest.source.clone(),
        installed_at: manifest.installed_at.clone(),
        integrity: manifest.integrity.clone(),
        unsupported_builtins: manifest.unsupported_builtins.clone(),
        path: adaptor.root.display().to_string(),
    }
}
