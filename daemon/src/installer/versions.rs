//! Which version of a package a dependency spec gets, by npm's rules (npm-pick-manifest):
//! a dist-tag names one version; for a semver range, the `latest` tag's version when it
//! satisfies the range (and is neither deprecated nor made for a newer Node), else the
//! highest satisfying version, preferring versions that are not deprecated, then versions
//! whose `engines.node` accepts [`NODE_VERSION`]. Ranges are node-semver's (`^1.2.3`,
//! `~1.2`, `>=1 <2`, `1.x`, `*`, `||`, hyphen ranges, pre-releases only when the range
//! names one on the same version).

use super::packument::{Packument, VersionMeta};
use nodejs_semver::{Range, Version};

/// The Node version bolt installs for, as npm would under it: the Node adaptors are built
/// and tested on, and whose APIs bolt's sandbox follows. A dependency whose newest release
/// needs a newer Node gets its newest release that doesn't, as npm picks under Node 20.
pub const NODE_VERSION: &str = "20.20.2";

/// Whether a version's `engines.node` accepts [`NODE_VERSION`] (no engines: yes).
fn engine_ok(meta: &VersionMeta) -> bool {
    let Some(range) = meta.node_engine() else {
        return true;
    };
    match (Range::parse(range), Version::parse(NODE_VERSION)) {
        (Ok(range), Ok(node)) => range.satisfies_with_prerelease(&node, true),
        // npm ignores engines it cannot read.
        _ => true,
    }
}

/// What a dependency spec (the value in package.json's `dependencies`) asks for.
#[derive(Debug, Clone)]
pub enum Wanted {
    Range(Range),
    /// A dist-tag such as `latest` or `next`.
    Tag(String),
}

/// A spec bolt cannot install from a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecKind {
    /// A semver range or a dist-tag: the registry.
    Registry,
    /// `npm:other@range`: another package under this name.
    Alias { package: String, spec: String },
    /// git, a URL, a local path, a workspace: not from a registry.
    NotRegistry,
}

/// Classifies a dependency spec the way npm-package-arg does, for the cases adaptors meet.
pub fn classify(spec: &str) -> SpecKind {
    let spec = spec.trim();
    if let Some(rest) = spec.strip_prefix("npm:") {
        let (package, range) = match rest.get(1..).and_then(|r| r.find('@')) {
            Some(at) => (&rest[..at + 1], &rest[at + 2..]),
            None => (rest, "*"),
        };
        return SpecKind::Alias {
            package: package.to_string(),
            spec: range.to_string(),
        };
    }
    let not_registry = ["git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:"]
        .iter()
        .any(|prefix| spec.starts_with(prefix))
        || ["file:", "link:", "workspace:", "portal:", "patch:"]
            .iter()
            .any(|prefix| spec.starts_with(prefix))
        || spec.contains("://")
        || spec.starts_with('.')
        || spec.starts_with('/')
        || spec.starts_with('~') && spec.contains('/')
        // `user/repo` is a GitHub shorthand; no range contains a slash.
        || (spec.contains('/') && Range::parse(spec).is_err());
    if not_registry {
        SpecKind::NotRegistry
    } else {
        SpecKind::Registry
    }
}

/// Reads a registry spec: a range (an empty spec means any version), else a dist-tag.
pub fn wanted(spec: &str) -> Result<Wanted, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Ok(Wanted::Range(Range::any()));
    }
    match Range::parse(spec) {
        Ok(range) => Ok(Wanted::Range(range)),
        Err(_) if is_tag(spec) => Ok(Wanted::Tag(spec.to_string())),
        Err(_) => Err(format!("{spec:?} is neither a semver range nor a dist-tag")),
    }
}

fn is_tag(spec: &str) -> bool {
    spec.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !spec.starts_with(|c: char| c.is_ascii_digit() || c == 'v')
}

/// Whether `version` satisfies `wanted` (a tag matches only its own version).
pub fn satisfies(wanted: &Wanted, version: &str, packument: Option<&Packument>) -> bool {
    match wanted {
        Wanted::Range(range) => Version::parse(version).is_ok_and(|v| range.satisfies(&v)),
        Wanted::Tag(tag) => packument
            .and_then(|p| p.dist_tags.get(tag))
            .is_some_and(|tagged| tagged == version),
    }
}

/// The version npm would pick for `wanted` among `packument`'s versions.
pub fn pick<'p>(packument: &'p Packument, wanted: &Wanted) -> Option<&'p VersionMeta> {
    match wanted {
        Wanted::Tag(tag) => packument
            .dist_tags
            .get(tag)
            .and_then(|v| packument.versions.get(v)),
        Wanted::Range(range) => {
            if let Some(latest) = packument
                .dist_tags
                .get("latest")
                .and_then(|v| packument.versions.get_key_value(v))
                && Version::parse(latest.0).is_ok_and(|v| range.satisfies(&v))
                && !latest.1.is_deprecated()
                && engine_ok(latest.1)
            {
                return Some(latest.1);
            }
            let mut candidates: Vec<(Version, &VersionMeta)> = packument
                .versions
                .iter()
                .filter_map(|(text, meta)| Some((Version::parse(text).ok()?, meta)))
                .filter(|(version, _)| range.satisfies(version))
                .collect();
            // npm-pick-manifest's order: not deprecated, then engines fit, then newest.
            candidates.sort_by(|a, b| {
                (!b.1.is_deprecated())
                    .cmp(&!a.1.is_deprecated())
                    .then_with(|| engine_ok(b.1).cmp(&engine_ok(a.1)))
                    .then_with(|| b.0.cmp(&a.0))
            });
            candidates.first().map(|(_, meta)| *meta)
        }
    }
}

/// Up to six published versions closest to what was asked for, oldest first, for errors
/// ("the registry has no openmrs 5.5.9; nearest: 5.5.0, 5.6.0 …").
pub fn nearest(packument: &Packument, asked: &str) -> Vec<String> {
    let mut all: Vec<Version> = packument
        .versions
        .keys()
        .filter_map(|v| Version::parse(v).ok())
        .collect();
    all.sort();
    let target = Version::parse(asked.trim().trim_start_matches(['=', 'v', '^', '~']))
        .ok()
        .or_else(|| {
            Range::parse(asked)
                .ok()
                .and_then(|range| range.min_version())
        });
    let at = match target {
        Some(target) => all.partition_point(|v| *v < target),
        None => all.len(),
    };
    let start = at.saturating_sub(3);
    let end = (start + 6).min(all.len());
    let start = end.saturating_sub(6);
    all[start..end].iter().map(ToString::to_string).collect()
}

/// Is `version` the major a built-in stands for (`3.3.5` for common 3.3.4)?
pub fn same_major(version: &str, other: &str) -> bool {
    match (Version::parse(version), Version::parse(other)) {
        (Ok(a), Ok(b)) => a.major() == b.major(),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::installer::packument::Dist;

    fn packument(versions: &[&str], latest: &str) -> Packument {
        let mut p = Packument {
            name: "x".into(),
            ..Packument::default()
        };
        p.dist_tags.insert("latest".into(), latest.into());
        for v in versions {
            p.versions.insert(
                v.to_string(),
                VersionMeta {
                    name: "x".into(),
                    version: v.to_string(),
                    dist: Dist::default(),
                    ..VersionMeta::default()
                },
            );
        }
        p
    }

    fn picked(p: &Packument, spec: &str) -> Option<String> {
        pick(p, &wanted(spec).unwrap()).map(|m| m.version.clone())
    }

    #[test]
    fn picks_like_npm() {
        let p = packument(
            &[
                "1.0.0",
                "1.2.3",
                "1.2.9",
                "1.3.0",
                "1.9.0",
                "2.0.0-beta.1",
                "2.0.0",
                "2.1.0",
                "3.0.0-rc.1",
            ],
            "2.0.0",
        );
        for (spec, expect) in [
            ("^1.2.3", Some("1.9.0")),
            ("~1.2", Some("1.2.9")),
            ("~1.2.3", Some("1.2.9")),
            (">=1 <2", Some("1.9.0")),
            ("1.x", Some("1.9.0")),
            ("1.2.x", Some("1.2.9")),
            // The latest tag wins when it satisfies, even over a higher version.
            ("*", Some("2.0.0")),
            ("", Some("2.0.0")),
            (">=2", Some("2.0.0")),
            ("^2.0.1", Some("2.1.0")),
            ("1.0.0 - 1.2.5", Some("1.2.3")),
            ("^1.0.0 || ^2.1.0", Some("2.1.0")),
            ("1.3.0", Some("1.3.0")),
            ("=1.3.0", Some("1.3.0")),
            // Pre-releases only when the range names one on the same version.
            ("^3.0.0", None),
            ("^3.0.0-rc.0", Some("3.0.0-rc.1")),
            (">=2.0.0-beta.0 <2.0.0", Some("2.0.0-beta.1")),
            ("latest", Some("2.0.0")),
            ("^4", None),
            ("nightly", None),
        ] {
            assert_eq!(picked(&p, spec).as_deref(), expect, "{spec}");
        }
    }

    #[test]
    fn deprecated_versions_are_avoided_when_another_fits() {
        let mut p = packument(&["1.0.0", "1.1.0"], "0.0.0");
        p.versions.get_mut("1.1.0").unwrap().deprecated = "broken".into();
        assert_eq!(picked(&p, "^1").as_deref(), Some("1.0.0"));
        assert_eq!(picked(&p, "1.1.0").as_deref(), Some("1.1.0"));
    }

    #[test]
    fn versions_for_a_newer_node_give_way_like_npm_under_node_20() {
        let mut p = packument(&["1.10.2", "1.11.2", "2.0.0"], "1.11.2");
        p.versions.get_mut("1.11.2").unwrap().engines = serde_json::json!({"node": ">=22.0.0"});
        p.versions.get_mut("1.10.2").unwrap().engines = serde_json::json!({"node": ">=20.0.0"});
        assert_eq!(picked(&p, "^1.10.0").as_deref(), Some("1.10.2"));
        // When nothing fits the engine, the newest still wins (npm installs it with a warning).
        assert_eq!(picked(&p, "~1.11.0").as_deref(), Some("1.11.2"));
        assert_eq!(picked(&p, "1.11.2").as_deref(), Some("1.11.2"));
    }

    #[test]
    fn classifies_specs() {
        assert_eq!(classify("^1.2.3"), SpecKind::Registry);
        assert_eq!(classify("latest"), SpecKind::Registry);
        assert_eq!(
            classify("npm:@openfn/language-common@3.3.4"),
            SpecKind::Alias {
                package: "@openfn/language-common".into(),
                spec: "3.3.4".into()
            }
        );
        assert_eq!(
            classify("npm:lodash"),
            SpecKind::Alias {
                package: "lodash".into(),
                spec: "*".into()
            }
        );
        for spec in [
            "github:a/b",
            "a/b",
            "git+https://x/y.git",
            "https://x/y.tgz",
            "file:../x",
            "./x",
        ] {
            assert_eq!(classify(spec), SpecKind::NotRegistry, "{spec}");
        }
    }

    #[test]
    fn nearest_versions_surround_the_missing_one() {
        let p = packument(
            &[
                "3.2.0", "3.2.1", "3.3.0", "3.3.4", "3.3.6", "3.4.0", "3.5.0", "4.0.0",
            ],
            "4.0.0",
        );
        assert_eq!(
            nearest(&p, "3.3.5"),
            ["3.2.1", "3.3.0", "3.3.4", "3.3.6", "3.4.0", "3.5.0"]
        );
        assert_eq!(nearest(&p, "0.1.0").len(), 6);
        assert_eq!(
            nearest(&p, "9.0.0").last().map(String::as_str),
            Some("4.0.0")
        );
    }
}
