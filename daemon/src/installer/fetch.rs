//! Getting each package's tarball (from the files given or the registry) and checking it
//! against its integrity before anything is unpacked.

use super::registry::FetchError;
use super::sources::Sources;
use super::{InstallError, packument, tarball};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Tarballs already fetched in this command, by `name@version` (several adaptors share
/// dependencies).
#[derive(Clone, Default)]
pub(super) struct TarballCache(Arc<Mutex<HashMap<String, Arc<Vec<u8>>>>>);

impl TarballCache {
    fn get(&self, id: &str) -> Option<Arc<Vec<u8>>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn put(&self, id: String, bytes: Arc<Vec<u8>>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, bytes);
    }
}

/// One package's tarball, checked against its integrity.
pub(super) async fn fetch_one(
    sources: &Sources,
    cache: &TarballCache,
    meta: &packument::VersionMeta,
) -> Result<Arc<Vec<u8>>, InstallError> {
    let id = meta.id();
    if let Some(bytes) = cache.get(&id) {
        return Ok(bytes);
    }
    let bytes = match sources.local().tarball(&id) {
        Some(bytes) => bytes,
        None => {
            let Some(registry) = sources.registry() else {
                return Err(InstallError::Other(format!(
                    "{id} is not in the given files"
                )));
            };
            let url = &meta.dist.tarball;
            let bytes = registry
                .tarball(url, &mut |_| {})
                .await
                .map_err(|error| match error {
                    FetchError::Unreachable { url, detail } => {
                        InstallError::Unreachable { url, detail }
                    }
                    other => InstallError::BadPackage {
                        package: id.clone(),
                        detail: format!("cannot download its tarball: {other}"),
                    },
                })?;
            Arc::new(bytes)
        }
    };
    let dist = &meta.dist;
    tarball::check_integrity(&bytes, dist.integrity.as_deref(), dist.shasum.as_deref()).map_err(
        |error| match error {
            tarball::IntegrityError::Mismatch { expected, actual } => InstallError::Integrity {
                package: id.clone(),
                url: dist.tarball.clone(),
                expected,
                actual,
            },
            tarball::IntegrityError::Unusable(why) => InstallError::BadPackage {
                package: id.clone(),
                detail: why,
            },
        },
    )?;
    cache.put(id, bytes.clone());
    Ok(bytes)
}
