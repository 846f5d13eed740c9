//! `--from-file` inputs: `npm pack` tarballs and bolt bundles, read into packages the
//! resolver picks from before it asks any registry.

use super::bundle;
use super::packument::VersionMeta;
use super::sources::LocalPackages;
use super::tarball::{self, check_integrity};
use super::{InstallError, versions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the files hold.
#[derive(Debug, Default)]
pub struct Read {
    pub local: LocalPackages,
    /// The adaptors to install when none are named: every bundle's adaptors, and each
    /// tarball that no other given package depends on.
    pub roots: Vec<(String, String)>,
}

pub fn read(paths: &[PathBuf]) -> Result<Read, InstallError> {
    let mut read = Read::default();
    let mut loose: Vec<VersionMeta> = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).map_err(|e| InstallError::BadFile {
            path: path.display().to_string(),
            detail: format!("cannot read it: {e}"),
        })?;
        let label = file_label(path);
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let meta = tarball_meta(&bytes, path)?;
            loose.push(meta.clone());
            read.local.add(meta, Arc::new(bytes), label);
        } else if bundle::is_bundle(&bytes) {
            read_bundle(&bytes, path, &label, &mut read)?;
        } else {
            return Err(InstallError::BadFile {
                path: path.display().to_string(),
                detail: "it is neither an npm package tarball (`npm pack` writes those) nor a bundle written by `bolt adaptor bundle`".into(),
            });
        }
    }
    for meta in &loose {
        let needed = read.local.all().any(|other| {
            other.id() != meta.id()
                && other
                    .dependencies
                    .iter()
                    .chain(&other.optional_dependencies)
                    .chain(&other.peer_dependencies)
                    .any(|(name, spec)| {
                        name == &meta.name
                            && versions::wanted(spec)
                                .is_ok_and(|w| versions::satisfies(&w, &meta.version, None))
                    })
        });
        if !needed {
            read.roots.push((meta.name.clone(), meta.version.clone()));
        }
    }
    if read.roots.is_empty() {
        // Every tarball is someone's dependency (a cycle): install them all.
        read.roots = loose
            .iter()
            .map(|m| (m.name.clone(), m.version.clone()))
            .collect();
    }
    read.roots.sort();
    read.roots.dedup();
    Ok(read)
}

/// `file:NAME` as manifests record the source of an offline install.
fn file_label(path: &Path) -> String {
    format!(
        "file:{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string())
    )
}

/// The package a `npm pack` tarball holds, its integrity computed from the file.
fn tarball_meta(bytes: &[u8], path: &Path) -> Result<VersionMeta, InstallError> {
    let bad = |detail: String| InstallError::BadFile {
        path: path.display().to_string(),
        detail,
    };
    let manifest = tarball::read_package_json(bytes).map_err(|e| bad(e.to_string()))?;
    let mut meta: VersionMeta = serde_json::from_value(manifest).map_err(|e| {
        bad(format!(
            "its package.json has no usable name and version: {e}"
        ))
    })?;
    if !super::resolve::valid_package_name(&meta.name)
        || !super::resolve::valid_version(&meta.version)
    {
        return Err(bad(format!(
            "its package.json names {:?} version {:?}: an npm package needs both",
            meta.name, meta.version
        )));
    }
    meta.deprecated = serde_json::Value::Null;
    meta.dist.integrity = Some(tarball::sha512_sri(bytes));
    meta.dist.shasum = None;
    meta.dist.tarball = file_label(path);
    Ok(meta)
}

fn read_bundle(
    bytes: &[u8],
    path: &Path,
    label: &str,
    read: &mut Read,
) -> Result<(), InstallError> {
    let (index, mut files) = bundle::read(bytes).map_err(|detail| InstallError::BadFile {
        path: path.display().to_string(),
        detail: format!("not a usable bundle: {detail}"),
    })?;
    for package in index.packages {
        let id = package.meta.id();
        if !super::resolve::valid_package_name(&package.meta.name)
            || !super::resolve::valid_version(&package.meta.version)
        {
            return Err(InstallError::BadFile {
                path: path.display().to_string(),
                detail: format!(
                    "the bundle lists a package named {id:?}, which is not a valid npm name and version"
                ),
            });
        }
        let data = files
            .remove(&package.file)
            .ok_or_else(|| InstallError::BadFile {
                path: path.display().to_string(),
                detail: format!("the bundle lists {id} but does not hold {}", package.file),
            })?;
        let dist = &package.meta.dist;
        check_integrity(&data, dist.integrity.as_deref(), dist.shasum.as_deref()).map_err(
            |error| match error {
                tarball::IntegrityError::Mismatch { expected, actual } => InstallError::Integrity {
                    package: id.clone(),
                    url: format!("{} in {}", package.file, path.display()),
                    expected,
                    actual,
                },
                other => InstallError::BadFile {
                    path: path.display().to_string(),
                    detail: format!("{id}: {other}"),
                },
            },
        )?;
        read.local
            .add(package.meta, Arc::new(data), label.to_string());
    }
    for missing in index.unavailable {
        read.local
            .add_unavailable(missing.name, missing.range, missing.note);
    }
    for adaptor in index.adaptors {
        if let Some(at) = adaptor.get(1..).and_then(|rest| rest.find('@')) {
            read.roots
                .push((adaptor[..at + 1].to_string(), adaptor[at + 2..].to_string()));
        }
    }
    Ok(())
}
