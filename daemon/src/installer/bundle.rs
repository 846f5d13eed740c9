//! Offline bundles: one file holding adaptors and their whole resolved trees, written on a
//! connected machine (`bolt adaptor bundle`) and installed on one without a connection
//! (`bolt adaptor add --from-file BUNDLE`).
//!
//! A bundle is a plain tar archive: first `bolt-bundle.json` (the [`BundleIndex`]), then
//! each package's original registry tarball under `packages/`. The index keeps each
//! package's registry metadata, with the `dist.integrity` its tarball was checked against
//! when it was downloaded; reading a bundle checks every tarball against it again.

use super::packument::VersionMeta;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

pub const INDEX_FILE: &str = "bolt-bundle.json";
pub const FORMAT: &str = "bolt-adaptor-bundle";
pub const FORMAT_VERSION: u32 = 1;
/// A bundle's index is small; a larger one is not a bundle bolt wrote.
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleIndex {
    pub format: String,
    pub format_version: u32,
    /// RFC 3339.
    pub created_at: String,
    /// The registry the packages came from.
    pub registry: String,
    /// The adaptors it was made for, `name@version`.
    pub adaptors: Vec<String>,
    pub packages: Vec<BundlePackage>,
    /// Dependencies the registry could not provide (language-common versions it does not
    /// serve), so an offline install says the same as an online one would.
    #[serde(default)]
    pub unavailable: Vec<Unavailable>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundlePackage {
    /// The tarball's path inside the bundle.
    pub file: String,
    pub meta: VersionMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unavailable {
    pub name: String,
    pub range: String,
    pub note: String,
}

/// The tarball's file name inside a bundle.
pub fn member_name(meta: &VersionMeta) -> String {
    format!(
        "packages/{}-{}.tgz",
        meta.name.replace('/', "+"),
        meta.version
    )
}

/// Writes a bundle to `path` (through a temporary file, so a failure leaves no partial
/// bundle behind).
pub fn write(
    path: &Path,
    index: &BundleIndex,
    tarballs: &HashMap<String, std::sync::Arc<Vec<u8>>>,
) -> std::io::Result<u64> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(dir)?;
    let mut builder = tar::Builder::new(std::io::BufWriter::new(temp.as_file()));
    let index_bytes = serde_json::to_vec_pretty(index).map_err(std::io::Error::other)?;
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let mut append = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(now);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, bytes)
    };
    append(INDEX_FILE, &index_bytes)?;
    for package in &index.packages {
        let bytes = tarballs.get(&package.file).ok_or_else(|| {
            std::io::Error::other(format!("no tarball for {}", package.meta.id()))
        })?;
        append(&package.file, bytes)?;
    }
    let mut out = builder.into_inner()?;
    out.flush()?;
    drop(out);
    temp.as_file().sync_all()?;
    let size = temp.as_file().metadata()?.len();
    temp.persist(path).map_err(|e| e.error)?;
    Ok(size)
}

/// Whether `bytes` look like a bundle (a tar whose first entry is the index).
pub fn is_bundle(bytes: &[u8]) -> bool {
    let mut archive = tar::Archive::new(bytes);
    let Ok(mut entries) = archive.entries() else {
        return false;
    };
    entries
        .next()
        .and_then(Result::ok)
        .and_then(|entry| entry.path().ok().map(|p| p == Path::new(INDEX_FILE)))
        .unwrap_or(false)
}

/// The index and every tarball of a bundle (not yet checked against their integrity).
pub fn read(bytes: &[u8]) -> Result<(BundleIndex, HashMap<String, Vec<u8>>), String> {
    let mut archive = tar::Archive::new(bytes);
    let mut index: Option<BundleIndex> = None;
    let mut files = HashMap::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let name = entry
            .path()
            .map_err(|e| e.to_string())?
            .display()
            .to_string();
        if name == INDEX_FILE {
            let mut text = Vec::new();
            (&mut entry)
                .take(MAX_INDEX_BYTES)
                .read_to_end(&mut text)
                .map_err(|e| e.to_string())?;
            let parsed: BundleIndex = serde_json::from_slice(&text)
                .map_err(|e| format!("its {INDEX_FILE} is not readable: {e}"))?;
            if parsed.format != FORMAT || parsed.format_version > FORMAT_VERSION {
                return Err(format!(
                    "it is a {} bundle of version {}, which this bolt does not read (it reads {FORMAT} {FORMAT_VERSION})",
                    parsed.format, parsed.format_version
                ));
            }
            index = Some(parsed);
            continue;
        }
        let size = entry.header().size().map_err(|e| e.to_string())?;
        if size > super::registry::MAX_TARBALL_BYTES {
            return Err(format!("{name} is too large"));
        }
        let mut data = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(size)
            .read_to_end(&mut data)
            .map_err(|e| e.to_string())?;
        files.insert(name, data);
    }
    let index = index.ok_or_else(|| format!("it has no {INDEX_FILE}"))?;
    Ok((index, files))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn round_trips() {
        let temp = tempfile::tempdir().unwrap();
        let meta = VersionMeta {
            name: "@openfn/language-x".into(),
            version: "1.0.0".into(),
            ..VersionMeta::default()
        };
        let file = member_name(&meta);
        assert_eq!(file, "packages/@openfn+language-x-1.0.0.tgz");
        let index = BundleIndex {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            created_at: "2026-12-04T00:00:00Z".into(),
            registry: "https://registry.npmjs.org/".into(),
            adaptors: vec![meta.id()],
            packages: vec![BundlePackage {
                file: file.clone(),
                meta,
            }],
            unavailable: vec![Unavailable {
                name: "@openfn/language-common".into(),
                range: "3.3.5".into(),
                note: "not served".into(),
            }],
        };
        let tarballs = HashMap::from([(file.clone(), Arc::new(b"tgz bytes".to_vec()))]);
        let path = temp.path().join("x.bundle");
        write(&path, &index, &tarballs).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(is_bundle(&bytes));
        let (back, files) = read(&bytes).unwrap();
        assert_eq!(back, index);
        assert_eq!(files[&file], b"tgz bytes");
        assert!(!is_bundle(b"\x1f\x8b not a tar"));
        // Only the bundle is left in the folder: no temporary file.
        assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 1);
    }
}
