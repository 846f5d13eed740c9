//! Installed npm adaptors as `bolt adaptor …` and deploy report them, and the progress
//! events an install sends while it downloads (over the socket when boltd installs).

use serde::{Deserialize, Serialize};

/// One installed adaptor version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdaptorInfo {
    /// Full npm name, e.g. `@openfn/language-openmrs`.
    pub name: String,
    pub version: String,
    /// How `@openfn/language-common` reaches this adaptor.
    pub common: AdaptorCommon,
    /// Packages in its tree, the adaptor included.
    pub packages: usize,
    /// The registry it came from, or `file:NAME` for an offline install.
    pub source: String,
    /// RFC 3339.
    pub installed_at: String,
    /// The adaptor tarball's integrity (`sha512-…`).
    pub integrity: String,
    /// Node built-ins its code needs that bolt cannot provide: jobs using it are refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported_builtins: Vec<String>,
    /// The install root on disk.
    pub path: String,
}

impl AdaptorInfo {
    /// `@openfn/language-openmrs@5.5.0`.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Which language-common an adaptor gets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdaptorCommon {
    /// `installed` (in the adaptor's own tree) or `built_in` (bolt's).
    pub source: CommonKind,
    /// The version it gets.
    pub version: String,
    /// The version range the adaptor asked for, when bolt's built-in stands in for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<String>,
    /// Why the built-in stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CommonKind {
    Installed,
    BuiltIn,
}

/// The answer to `bolt adaptor add`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AdaptorAddReport {
    /// Installed by this request.
    pub installed: Vec<AdaptorInfo>,
    /// Asked for but already installed (left as they were).
    pub already_installed: Vec<AdaptorInfo>,
    pub warnings: Vec<String>,
}

/// What deploy did about one adaptor its jobs name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeployAdaptor {
    /// As the project file writes it (`openmrs@latest`).
    pub adaptor: String,
    /// The exact version jobs will run (`@openfn/language-openmrs@5.5.0`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    pub status: DeployAdaptorStatus,
    /// `workflow / job` of every job naming it.
    pub jobs: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeployAdaptorStatus {
    /// Served by bolt's built-in common 3.x / http 7.x: nothing to install.
    BuiltIn,
    /// Installed before this deploy.
    Installed,
    /// Installed by this deploy.
    InstalledNow,
    /// Not installed (`--no-install`, dry run, or the registry was unreachable): the
    /// warnings say what runs meanwhile and how to install it.
    Missing,
}

/// Progress of an install, as it happens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InstallProgress {
    /// Another install holds the adaptors lock; this one waits for it.
    Waiting { lock: String },
    /// Reading the registry's metadata for an adaptor's dependency tree.
    Resolving { adaptor: String },
    /// The tree is known: `packages` in it, `to_fetch` of them still to download.
    Resolved {
        adaptor: String,
        packages: u64,
        to_fetch: u64,
    },
    /// One package tarball downloaded and checked.
    Fetched {
        adaptor: String,
        package: String,
        bytes: u64,
        done: u64,
        total: u64,
        done_bytes: u64,
    },
    /// Everything is downloaded; the packages are being unpacked and scanned.
    Unpacking { adaptor: String, packages: u64 },
    /// An adaptor version is in place.
    Installed {
        adaptor: String,
        packages: u64,
        bytes: u64,
        millis: u64,
    },
    /// Something the user should know that does not stop the install.
    Warning { message: String },
}
