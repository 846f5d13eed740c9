//! What can go wrong installing an adaptor, each said so a user knows what to do.

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Spec(String),
    #[error(
        "the registry {registry} has no package named {name}: check the adaptor's name (short names such as `dhis2` mean @openfn/language-dhis2)"
    )]
    UnknownAdaptor { name: String, registry: String },
    #[error("{place} has no {name} version {wanted}{}", nearest_list(.nearest))]
    NoSuchVersion {
        name: String,
        wanted: String,
        place: String,
        nearest: Vec<String>,
    },
    #[error(
        "cannot reach the npm registry at {url} ({detail}): check the network and the registry setting (`[adaptors] registry` in bolt.toml, or npm_config_registry), or install offline with `bolt adaptor add --from-file PKG.tgz…` (a bundle from `bolt adaptor bundle` on a connected machine)"
    )]
    Unreachable { url: String, detail: String },
    #[error("{needed_by} needs {package}@{spec}, which cannot be installed: {detail}")]
    Dependency {
        needed_by: String,
        package: String,
        spec: String,
        detail: String,
    },
    #[error(
        "{package} failed its integrity check ({url}): expected {expected}, got {actual}; nothing was installed"
    )]
    Integrity {
        package: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{package}: {detail}; nothing was installed")]
    BadPackage { package: String, detail: String },
    #[error("{path}: {detail}")]
    BadFile { path: String, detail: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    NotInstalled(String),
    #[error("{0}")]
    Other(String),
}

fn nearest_list(nearest: &[String]) -> String {
    if nearest.is_empty() {
        String::new()
    } else {
        format!("; nearest versions: {}", nearest.join(", "))
    }
}

impl InstallError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        InstallError::Io {
            what: what.into(),
            source,
        }
    }

    /// The registry could not be reached (deploy warns and goes on instead of failing).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, InstallError::Unreachable { .. })
    }
}
