//! A package tree: the folder an adaptor and its dependencies were installed into, inside
//! which its modules resolve.

use crate::adaptors::installed::InstalledAdaptor;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageTree {
    /// The tree's folder, with symlinks resolved.
    pub root: PathBuf,
    /// Bounded (an installed adaptor): nothing outside `root` is ever loaded. Unbounded (a
    /// local package given to `bolt execute`): resolution walks up like Node's.
    pub bounded: bool,
    /// The adaptor the tree holds, `name@version`, for messages.
    pub label: String,
    /// Changes when the tree is installed again (cached resolutions are then dropped).
    pub generation: String,
    /// Whether compiled bytecode may be kept on disk under `root` (installed trees only:
    /// bolt never writes into a user's own package folder).
    pub disk_cache: bool,
}

impl PackageTree {
    /// An installed adaptor's tree.
    pub fn installed(adaptor: &InstalledAdaptor) -> std::io::Result<PackageTree> {
        let label = format!("{}@{}", adaptor.manifest.name, adaptor.manifest.version);
        let mut tree = Self::bounded(&adaptor.root, &label, &adaptor.manifest.installed_at)?;
        tree.disk_cache = true;
        Ok(tree)
    }

    /// A bounded tree at `root` (no disk cache).
    pub fn bounded(root: &Path, label: &str, generation: &str) -> std::io::Result<PackageTree> {
        Ok(PackageTree {
            root: std::fs::canonicalize(root)?,
            bounded: true,
            label: label.to_string(),
            generation: generation.to_string(),
            disk_cache: false,
        })
    }

    /// A local package directory (`-a NAME=/path`), used as it is.
    pub fn local(package_dir: &Path, label: &str) -> std::io::Result<PackageTree> {
        Ok(PackageTree {
            root: std::fs::canonicalize(package_dir)?,
            bounded: false,
            label: label.to_string(),
            generation: String::new(),
            disk_cache: false,
        })
    }

    /// Whether a module file belongs to this tree.
    pub fn contains(&self, path: &Path) -> bool {
        !self.bounded || path.starts_with(&self.root)
    }
}
