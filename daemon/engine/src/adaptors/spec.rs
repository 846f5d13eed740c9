//! How users name adaptors, parsed once: `openmrs`, `openmrs@5.5.0`,
//! `@openfn/language-openmrs@5.5.0`, `language-openmrs@latest`, and the OpenFn CLI's local
//! form `@openfn/language-openmrs=/path/to/package`.
//!
//! A short name (no scope, no `language-` prefix needed) means an OpenFn adaptor
//! (`@openfn/language-<name>`); any other scoped npm name (`@myorg/adaptor-x`) is taken as
//! it is, so private adaptors published under another scope work too.

use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// Which version of a package a spec asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionWanted {
    /// An exact version, e.g. `5.5.0` (what a deployed job pins).
    Exact(String),
    /// `latest`, or no version at all: the registry's latest when installing, the newest
    /// installed version when running.
    Latest,
}

/// An adaptor as a job, a project file or a command line names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdaptorSpec {
    /// The full npm package name, e.g. `@openfn/language-openmrs`.
    pub name: String,
    pub version: VersionWanted,
    /// `NAME=/path`: a package directory on disk, used as it is and never installed.
    pub local_path: Option<PathBuf>,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SpecError {
    #[error(
        "empty adaptor name: name an adaptor such as `http`, `openmrs@5.5.0` or `@openfn/language-dhis2@latest`"
    )]
    Empty,
    #[error("adaptor {spec:?}: {reason}")]
    Invalid { spec: String, reason: String },
}

/// The npm scope OpenFn publishes its adaptors under.
pub const OPENFN_SCOPE: &str = "@openfn/";
const LANGUAGE_PREFIX: &str = "language-";

impl AdaptorSpec {
    /// Parses any of the spellings in the module docs.
    pub fn parse(spec: &str) -> Result<AdaptorSpec, SpecError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(SpecError::Empty);
        }
        let invalid = |reason: &str| SpecError::Invalid {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (named, local_path) = match spec.split_once('=') {
            Some((_, "")) => return Err(invalid("nothing after `=`: give a package directory")),
            Some((name, path)) => (name.trim(), Some(PathBuf::from(path.trim()))),
            None => (spec, None),
        };
        let (name, version) = split_version(named);
        let name = full_name(name).map_err(|reason| invalid(&reason))?;
        let version = match version {
            None | Some("latest") => VersionWanted::Latest,
            Some("") => return Err(invalid("nothing after `@`: give a version or `latest`")),
            Some(v) if is_plain_version(v) => VersionWanted::Exact(v.to_string()),
            Some(v) => {
                return Err(invalid(&format!(
                    "{v:?} is not a version: pin an exact version such as 5.5.0, or say `latest`"
                )));
            }
        };
        if local_path.is_some() && version != VersionWanted::Latest {
            return Err(invalid(
                "a local package (`NAME=/path`) takes no version: the directory's package.json has it",
            ));
        }
        Ok(AdaptorSpec {
            name,
            version,
            local_path,
        })
    }

    /// The exact version asked for, if any.
    pub fn exact_version(&self) -> Option<&str> {
        match &self.version {
            VersionWanted::Exact(v) => Some(v),
            VersionWanted::Latest => None,
        }
    }

    /// `openmrs` for `@openfn/language-openmrs`; other packages keep their full name.
    pub fn short_name(&self) -> &str {
        short_name(&self.name)
    }
}

impl fmt::Display for AdaptorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.local_path, &self.version) {
            (Some(path), _) => write!(f, "{}={}", self.name, path.display()),
            (None, VersionWanted::Exact(v)) => write!(f, "{}@{v}", self.name),
            (None, VersionWanted::Latest) => write!(f, "{}@latest", self.name),
        }
    }
}

/// `openmrs` for `@openfn/language-openmrs`; other packages keep their full name.
pub fn short_name(full: &str) -> &str {
    full.strip_prefix(OPENFN_SCOPE)
        .and_then(|rest| rest.strip_prefix(LANGUAGE_PREFIX))
        .unwrap_or(full)
}

/// `name@version` → (`name`, `Some(version)`); the scope's leading `@` is not a separator.
fn split_version(spec: &str) -> (&str, Option<&str>) {
    match spec.get(1..).and_then(|rest| rest.rfind('@')) {
        Some(at) => (&spec[..at + 1], Some(&spec[at + 2..])),
        None => (spec, None),
    }
}

/// The full npm name for a short or full spelling.
fn full_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("no package name before the version".into());
    }
    let full = if name.starts_with('@') {
        name.to_string()
    } else {
        let short = name.strip_prefix(LANGUAGE_PREFIX).unwrap_or(name);
        format!("{OPENFN_SCOPE}{LANGUAGE_PREFIX}{short}")
    };
    let Some((scope, package)) = full[1..].split_once('/') else {
        return Err(format!(
            "{full:?} has a scope but no package name (expected @scope/name)"
        ));
    };
    let valid = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
    };
    if !valid(scope) || !valid(package) {
        return Err(format!(
            "{full:?} is not an npm package name (lower-case letters, digits, `-`, `.`, `_`)"
        ));
    }
    Ok(full)
}

/// An exact semver version (`5.5.0`, `1.0.0-rc.12`, `2.0.0+build`), not a range.
fn is_plain_version(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-+.".contains(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn parse(s: &str) -> AdaptorSpec {
        AdaptorSpec::parse(s).unwrap()
    }

    #[test]
    fn every_openfn_cli_spelling_names_the_same_package() {
        for s in [
            "openmrs@5.5.0",
            "language-openmrs@5.5.0",
            "@openfn/language-openmrs@5.5.0",
            " openmrs@5.5.0 ",
        ] {
            let spec = parse(s);
            assert_eq!(spec.name, "@openfn/language-openmrs", "{s}");
            assert_eq!(spec.exact_version(), Some("5.5.0"), "{s}");
            assert_eq!(spec.short_name(), "openmrs");
        }
        for s in ["openmrs", "openmrs@latest", "@openfn/language-openmrs"] {
            assert_eq!(parse(s).version, VersionWanted::Latest, "{s}");
        }
        assert_eq!(
            parse("http@1.0.0-rc.12").exact_version(),
            Some("1.0.0-rc.12")
        );
    }

    #[test]
    fn a_local_package_directory() {
        let spec = parse("@openfn/language-openmrs=/tmp/pkg");
        assert_eq!(spec.name, "@openfn/language-openmrs");
        assert_eq!(spec.local_path, Some(PathBuf::from("/tmp/pkg")));
        assert_eq!(spec.to_string(), "@openfn/language-openmrs=/tmp/pkg");
        assert!(AdaptorSpec::parse("openmrs@5.5.0=/tmp/pkg").is_err());
        assert!(AdaptorSpec::parse("openmrs=").is_err());
    }

    #[test]
    fn other_scopes_are_kept() {
        let spec = parse("@myorg/adaptor-x@1.2.3");
        assert_eq!(spec.name, "@myorg/adaptor-x");
        assert_eq!(spec.short_name(), "@myorg/adaptor-x");
        assert_eq!(spec.to_string(), "@myorg/adaptor-x@1.2.3");
    }

    #[test]
    fn mistakes_are_explained() {
        assert_eq!(AdaptorSpec::parse("  "), Err(SpecError::Empty));
        for (s, says) in [
            ("openmrs@^5", "not a version"),
            ("openmrs@5.5", "not a version"),
            ("openmrs@", "nothing after `@`"),
            ("@openfn", "no package name"),
            ("@openfn/Language-X", "not an npm package name"),
            ("../etc@1.0.0", "not an npm package name"),
        ] {
            let message = AdaptorSpec::parse(s).unwrap_err().to_string();
            assert!(message.contains(says), "{s}: {message}");
        }
    }
}
