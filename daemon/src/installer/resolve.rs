//! The dependency tree of one adaptor, laid out as npm (v7+) lays out `node_modules`.
//!
//! The install root is a virtual project whose one dependency is the adaptor. Packages are
//! visited breadth first, each package's dependencies in name order. A dependency already
//! reachable from the package (walking up `node_modules` folders, as Node resolves) with
//! a version that satisfies the range is reused. Otherwise the version is picked (npm's
//! rules, [`super::versions`]) and placed as high as it can go: the shallowest folder on
//! the way to the root below any conflicting version of the same name, where it does not
//! change what an already-placed package resolves to (unless that package's range accepts
//! it too). The result satisfies every edge by Node's resolution rules.
//!
//! - `devDependencies` are never installed; `optionalDependencies` are installed when they
//!   can be (a version that does not exist, or an `os`/`cpu` that does not fit, skips it);
//!   `bundleDependencies` come inside their parent's tarball.
//! - `peerDependencies` are installed as npm 7+ does: resolved from the parent's folder,
//!   so the peer sits beside the package that needs it; optional peers
//!   (`peerDependenciesMeta`) are not installed. A peer that conflicts with what is there
//!   is nested under its package, with a warning.
//! - `@openfn/language-common`: when the version a package asks for cannot be had (the
//!   registry does not serve it, or offline files lack it), the edge is dropped and the
//!   loader gives that package bolt's built-in common. No other common version is then
//!   placed where the package would find it.

use super::packument::VersionMeta;
use super::sources::{PickError, Sources};
use super::versions::{SpecKind, classify};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

pub const COMMON: &str = "@openfn/language-common";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Prod,
    Optional,
    Peer,
}

/// One package folder in the tree (index 0 is the install root itself, no package).
#[derive(Debug, Clone)]
pub struct Node {
    /// Its folder name under the parent's `node_modules` (an alias's name, for `npm:` specs).
    pub folder: String,
    pub meta: Arc<VersionMeta>,
    pub parent: Option<usize>,
    pub children: BTreeMap<String, usize>,
    /// The package whose dependency first placed it (for "needed by" chains).
    pub via: Option<usize>,
}

#[derive(Debug, Clone)]
struct Edge {
    from: usize,
    /// The folder name looked up (the dependency's key in package.json).
    folder: String,
    /// The real package and range (they differ from folder/spec for `npm:` aliases).
    package: String,
    spec: String,
    kind: EdgeKind,
    to: Option<usize>,
    /// A language-common edge the built-in stands in for: nothing may shadow it.
    built_in: bool,
}

#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: Vec<Node>,
    edges: Vec<Edge>,
}

/// Where bolt's built-in common stands in for a version a package asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonFallback {
    /// The package that asked (a node index).
    pub from: usize,
    pub wanted: String,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct Resolution {
    pub tree: Tree,
    pub common_fallbacks: Vec<CommonFallback>,
    pub warnings: Vec<String>,
}

/// A dependency that could not be resolved, with the chain of packages that needed it.
#[derive(Debug, Clone)]
pub struct ResolveError {
    pub package: String,
    pub spec: String,
    /// `name@version` from the adaptor down to the package that asked (empty for the adaptor).
    pub chain: Vec<String>,
    pub error: PickError,
}

impl Tree {
    /// The folder of node `index`, relative to the install root.
    pub fn path(&self, index: usize) -> PathBuf {
        let mut parts = Vec::new();
        let mut at = Some(index);
        while let Some(i) = at {
            if self.nodes[i].parent.is_some() {
                parts.push(self.nodes[i].folder.as_str());
            }
            at = self.nodes[i].parent;
        }
        let mut path = PathBuf::new();
        for part in parts.iter().rev() {
            path.push("node_modules");
            path.push(part);
        }
        path
    }

    /// Every package node (the root excluded), in placement order.
    pub fn packages(&self) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes.iter().enumerate().skip(1)
    }

    /// The node directly under the root's `node_modules` named `folder`.
    pub fn top(&self, folder: &str) -> Option<usize> {
        self.nodes[0].children.get(folder).copied()
    }

    /// What `require(folder)` from inside node `from` finds, walking up as Node does.
    pub fn lookup(&self, from: usize, folder: &str) -> Option<usize> {
        let mut at = Some(from);
        while let Some(i) = at {
            if let Some(found) = self.nodes[i].children.get(folder) {
                return Some(*found);
            }
            at = self.nodes[i].parent;
        }
        None
    }

    /// Where node `from`'s dependency edge named `folder` went: `Some(Some(node))`,
    /// `Some(None)` when it was dropped (built-in common, skipped optional), `None` when
    /// `from` has no such dependency.
    pub fn edge_target(&self, from: usize, folder: &str) -> Option<Option<usize>> {
        self.edges
            .iter()
            .find(|e| e.from == from && e.folder == folder)
            .map(|e| e.to)
    }

    fn chain_up(&self, start: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            chain.push(i);
            at = self.nodes[i].parent;
        }
        chain
    }

    fn is_within(&self, node: usize, ancestor: usize) -> bool {
        let mut at = Some(node);
        while let Some(i) = at {
            if i == ancestor {
                return true;
            }
            at = self.nodes[i].parent;
        }
        false
    }

    /// Where an edge's lookup starts: the package itself, or its parent for a peer.
    fn start_of(&self, edge: &Edge) -> usize {
        match edge.kind {
            EdgeKind::Peer => self.nodes[edge.from].parent.unwrap_or(edge.from),
            _ => edge.from,
        }
    }

    /// `name@version` of each package from the adaptor down to `node`, by who needed whom.
    fn id_chain(&self, node: usize) -> Vec<String> {
        let mut ids = Vec::new();
        let mut at = Some(node);
        while let Some(i) = at.filter(|i| *i != 0) {
            ids.push(self.nodes[i].meta.id());
            at = self.nodes[i].via;
        }
        ids.reverse();
        ids
    }
}

/// The dependencies of one package as npm installs them: name, spec, kind, name-ordered.
fn dependencies_of(meta: &VersionMeta) -> Vec<(String, String, EdgeKind)> {
    let mut deps: BTreeMap<&str, (&str, EdgeKind)> = BTreeMap::new();
    for (name, spec) in &meta.peer_dependencies {
        if !meta.peer_is_optional(name) {
            deps.insert(name, (spec, EdgeKind::Peer));
        }
    }
    for (name, spec) in &meta.dependencies {
        deps.insert(name, (spec, EdgeKind::Prod));
    }
    for (name, spec) in &meta.optional_dependencies {
        deps.insert(name, (spec, EdgeKind::Optional));
    }
    deps.into_iter()
        .filter(|(name, _)| !meta.bundles(name))
        .map(|(name, (spec, kind))| (name.to_string(), spec.to_string(), kind))
        .collect()
}

struct Resolver<'s> {
    sources: &'s Arc<Sources>,
    tree: Tree,
    fallbacks: Vec<CommonFallback>,
    warnings: Vec<String>,
    queue: VecDeque<usize>,
    built_in_common: String,
}

/// Resolves the tree of `roots` (`(name, spec)` pairs the install root depends on).
pub async fn resolve(
    sources: &Arc<Sources>,
    roots: &[(String, String)],
    built_in_common: &str,
) -> Result<Resolution, Box<ResolveError>> {
    let root_meta = VersionMeta {
        dependencies: roots.iter().cloned().collect(),
        ..VersionMeta::default()
    };
    let mut resolver = Resolver {
        sources,
        tree: Tree {
            nodes: vec![Node {
                folder: String::new(),
                meta: Arc::new(root_meta),
                parent: None,
                children: BTreeMap::new(),
                via: None,
            }],
            edges: Vec::new(),
        },
        fallbacks: Vec::new(),
        warnings: Vec::new(),
        queue: VecDeque::from([0]),
        built_in_common: built_in_common.to_string(),
    };
    while !resolver.queue.is_empty() {
        let wave: Vec<usize> = resolver.queue.drain(..).collect();
        resolver.prefetch(&wave).await;
        for node in wave {
            for (folder, spec, kind) in dependencies_of(&resolver.tree.nodes[node].meta) {
                resolver.edge(node, folder, spec, kind).await?;
            }
        }
    }
    Ok(Resolution {
        tree: resolver.tree,
        common_fallbacks: resolver.fallbacks,
        warnings: resolver.warnings,
    })
}

impl Resolver<'_> {
    /// Asks the registry for every document the wave will need, all at once.
    async fn prefetch(&self, wave: &[usize]) {
        let mut names = Vec::new();
        for node in wave {
            for (folder, spec, _) in dependencies_of(&self.tree.nodes[*node].meta) {
                let (package, spec) = match classify(&spec) {
                    SpecKind::Registry => (folder, spec),
                    SpecKind::Alias { package, spec } => (package, spec),
                    SpecKind::NotRegistry => continue,
                };
                let reachable = self.tree.lookup(*node, &package).is_some_and(|found| {
                    let meta = &self.tree.nodes[found].meta;
                    meta.name == package && self.sources.satisfies(&package, &spec, &meta.version)
                });
                if !reachable && self.sources.needs_registry(&package, &spec) {
                    names.push(package);
                }
            }
        }
        names.sort();
        names.dedup();
        self.sources.prefetch(names).await;
    }

    async fn edge(
        &mut self,
        from: usize,
        folder: String,
        spec: String,
        kind: EdgeKind,
    ) -> Result<(), Box<ResolveError>> {
        // Names become folders: a package naming a dependency `../../x` must not write there.
        if !valid_package_name(&folder) {
            let error = PickError::BadSpec(format!("{folder:?} is not a valid npm package name"));
            return self.skip_or_fail(from, folder, spec, kind, error);
        }
        let (package, range) = match classify(&spec) {
            SpecKind::Registry => (folder.clone(), spec.clone()),
            SpecKind::Alias { package, .. } if !valid_package_name(&package) => {
                let error =
                    PickError::BadSpec(format!("{package:?} is not a valid npm package name"));
                return self.skip_or_fail(from, folder, spec, kind, error);
            }
            SpecKind::Alias { package, spec } => (package, spec),
            SpecKind::NotRegistry => {
                let error = PickError::BadSpec(format!(
                    "{spec:?} is a git, URL or local dependency, which bolt does not install (only registry versions)"
                ));
                return self.skip_or_fail(from, folder, spec, kind, error);
            }
        };
        let start = match kind {
            EdgeKind::Peer => self.tree.nodes[from].parent.unwrap_or(from),
            _ => from,
        };
        let chain = self.tree.chain_up(start);
        let mut limit = chain.len();
        for (level, at) in chain.iter().enumerate() {
            if let Some(&existing) = self.tree.nodes[*at].children.get(&folder) {
                let meta = &self.tree.nodes[existing].meta;
                if meta.name == package && self.sources.satisfies(&package, &range, &meta.version) {
                    self.record(from, &folder, &package, &range, kind, Some(existing));
                    return Ok(());
                }
                limit = level;
                break;
            }
        }
        let meta = match self.sources.pick(&package, &range).await {
            Ok(meta) => meta,
            Err(error) => {
                let unavailable = matches!(
                    error,
                    PickError::NoVersion { .. }
                        | PickError::NotInFiles { .. }
                        | PickError::UnknownPackage { .. }
                );
                if package == COMMON && unavailable {
                    let note = self.common_note(&range, &error);
                    self.fallbacks.push(CommonFallback {
                        from,
                        wanted: range.clone(),
                        note,
                    });
                    self.tree.edges.push(Edge {
                        from,
                        folder,
                        package,
                        spec: range,
                        kind,
                        to: None,
                        built_in: true,
                    });
                    return Ok(());
                }
                return self.skip_or_fail(from, folder, range, kind, error);
            }
        };
        if !valid_version(&meta.version) {
            let error = PickError::BadSpec(format!(
                "the registry gives {package} the version {:?}, which is not a semver version",
                meta.version
            ));
            return self.skip_or_fail(from, folder, range, kind, error);
        }
        if kind == EdgeKind::Optional && !meta.fits_platform() {
            self.record(from, &folder, &package, &range, kind, None);
            return Ok(());
        }
        let placed = chain[..limit]
            .iter()
            .rev()
            .find(|at| self.can_place(**at, &folder, &package, &meta.version))
            .copied();
        let parent = match placed {
            Some(at) => at,
            None => {
                if kind == EdgeKind::Peer {
                    self.warnings.push(format!(
                        "peer dependency conflict: {} wants {package}@{range}, which conflicts with the version beside it; it gets its own copy",
                        self.tree.nodes[from].meta.id()
                    ));
                }
                from
            }
        };
        let index = self.tree.nodes.len();
        self.tree.nodes.push(Node {
            folder: folder.clone(),
            meta,
            parent: Some(parent),
            children: BTreeMap::new(),
            via: Some(from),
        });
        self.tree.nodes[parent]
            .children
            .insert(folder.clone(), index);
        // Packages below `parent` that found this name higher up now find the new one
        // (can_place checked their ranges accept it).
        let tree = &self.tree;
        let repoint: Vec<usize> = tree
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.folder == folder && tree.is_within(tree.start_of(e), parent))
            .filter(|(_, e)| {
                e.to.and_then(|t| tree.nodes[t].parent)
                    .is_some_and(|p| p != parent && tree.is_within(parent, p))
            })
            .map(|(i, _)| i)
            .collect();
        for i in repoint {
            self.tree.edges[i].to = Some(index);
        }
        self.record(from, &folder, &package, &range, kind, Some(index));
        self.queue.push_back(index);
        Ok(())
    }

    /// Placing `package@version` as `folder` under `at` must not change what a package
    /// already placed below `at` resolves to, unless its range accepts this version too.
    fn can_place(&self, at: usize, folder: &str, package: &str, version: &str) -> bool {
        let tree = &self.tree;
        tree.edges
            .iter()
            .filter(|e| e.folder == folder && tree.is_within(tree.start_of(e), at))
            .all(|e| match e.to {
                Some(target) => {
                    let above = tree.nodes[target]
                        .parent
                        .is_some_and(|p| p != at && tree.is_within(at, p));
                    !above
                        || (e.package == package
                            && self.sources.satisfies(package, &e.spec, version))
                }
                None => !e.built_in,
            })
    }

    fn record(
        &mut self,
        from: usize,
        folder: &str,
        package: &str,
        spec: &str,
        kind: EdgeKind,
        to: Option<usize>,
    ) {
        self.tree.edges.push(Edge {
            from,
            folder: folder.to_string(),
            package: package.to_string(),
            spec: spec.to_string(),
            kind,
            to,
            built_in: false,
        });
    }

    fn skip_or_fail(
        &mut self,
        from: usize,
        folder: String,
        spec: String,
        kind: EdgeKind,
        error: PickError,
    ) -> Result<(), Box<ResolveError>> {
        if kind == EdgeKind::Optional {
            self.warnings.push(format!(
                "skipped the optional dependency {folder}@{spec} of {}: {}",
                self.tree.nodes[from].meta.id(),
                describe(&folder, &spec, &error)
            ));
            self.record(from, &folder, &folder, &spec, kind, None);
            return Ok(());
        }
        Err(Box::new(ResolveError {
            package: folder,
            spec,
            chain: self.tree.id_chain(from),
            error,
        }))
    }

    fn common_note(&self, range: &str, error: &PickError) -> String {
        let built_in = format!("bolt's built-in common {} stands in", self.built_in_common);
        match error {
            PickError::NoVersion {
                note: Some(note), ..
            } => note.clone(),
            PickError::NoVersion {
                registry: Some(registry),
                nearest,
                ..
            } => format!(
                "the registry {registry} has no {COMMON} matching {range} (nearest: {}); {built_in}",
                nearest.join(", ")
            ),
            PickError::NoVersion { registry: None, .. } => {
                format!("the given files have no {COMMON} matching {range}; {built_in}")
            }
            PickError::UnknownPackage { registry } => {
                format!("the registry {registry} has no {COMMON}; {built_in}")
            }
            PickError::NotInFiles {
                registry_error: Some(fetch),
            } => format!(
                "{COMMON}@{range} is not in the given files and the registry could not be asked ({fetch}); {built_in}"
            ),
            _ => format!("{COMMON}@{range} is not in the given files; {built_in}"),
        }
    }
}

/// An npm package name that is safe as a folder: `name` or `@scope/name`, each part made of
/// the characters npm has ever allowed (old packages may have capitals), none `.`-led.
pub fn valid_package_name(name: &str) -> bool {
    let parts: Vec<&str> = match name.strip_prefix('@') {
        Some(scoped) => scoped.split('/').collect(),
        None => vec![name],
    };
    let expected = if name.starts_with('@') { 2 } else { 1 };
    name.len() <= 214
        && parts.len() == expected
        && parts.iter().all(|part| {
            !part.is_empty()
                && !part.starts_with('.')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~!*'()".contains(c))
        })
}

/// A version that is safe as part of a folder name and is semver.
pub fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-+.".contains(c))
        && nodejs_semver::Version::parse(version).is_ok()
}

/// One line for why `package@spec` could not be had.
pub fn describe(package: &str, spec: &str, error: &PickError) -> String {
    match error {
        PickError::BadSpec(why) => why.clone(),
        PickError::UnknownPackage { registry } => {
            format!("the registry {registry} has no package named {package}")
        }
        PickError::NoVersion {
            note: Some(note), ..
        } => note.clone(),
        PickError::NoVersion {
            registry, nearest, ..
        } => {
            let place = registry
                .as_deref()
                .map(|r| format!("the registry {r}"))
                .unwrap_or_else(|| "the given files".into());
            if nearest.is_empty() {
                format!("{place} has no version of {package} matching {spec}")
            } else {
                format!(
                    "{place} has no version of {package} matching {spec} (nearest: {})",
                    nearest.join(", ")
                )
            }
        }
        PickError::NotInFiles { registry_error } => match registry_error {
            Some(fetch) => format!(
                "{package}@{spec} is not in the given files, and the registry could not be asked: {fetch}"
            ),
            None => format!("{package}@{spec} is not in the given files"),
        },
        PickError::Fetch(fetch) => fetch.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::installer::sources::LocalPackages;

    /// Packages given as `name@version: dep@range, dep@range`.
    fn sources(packages: &[(&str, &[(&str, &str)])]) -> Arc<Sources> {
        sources_with(packages, |_| {})
    }

    fn sources_with(
        packages: &[(&str, &[(&str, &str)])],
        tweak: impl Fn(&mut VersionMeta),
    ) -> Arc<Sources> {
        let mut local = LocalPackages::default();
        for (id, deps) in packages {
            let at = id[1..].find('@').unwrap() + 1;
            let mut meta = VersionMeta {
                name: id[..at].to_string(),
                version: id[at + 1..].to_string(),
                dependencies: deps
                    .iter()
                    .map(|(n, r)| (n.to_string(), r.to_string()))
                    .collect(),
                ..VersionMeta::default()
            };
            tweak(&mut meta);
            local.add(meta, Arc::new(Vec::new()), format!("file:{id}"));
        }
        Arc::new(Sources::new(None, local))
    }

    fn layout(resolution: &Resolution) -> Vec<String> {
        let tree = &resolution.tree;
        let mut rows: Vec<String> = tree
            .packages()
            .map(|(i, n)| format!("{}={}", tree.path(i).display(), n.meta.version))
            .collect();
        rows.sort();
        rows
    }

    async fn run(sources: &Arc<Sources>, root: &str) -> Resolution {
        let (name, version) = root.rsplit_once('@').unwrap();
        resolve(sources, &[(name.into(), version.into())], "3.3.4")
            .await
            .unwrap()
    }

    /// Every edge resolves, by Node's rules, to a version its range accepts.
    fn assert_node_resolution_holds(resolution: &Resolution, sources: &Sources) {
        let tree = &resolution.tree;
        for (i, node) in tree.packages() {
            for (folder, spec, kind) in dependencies_of(&node.meta) {
                if kind == EdgeKind::Optional {
                    continue;
                }
                let start = if kind == EdgeKind::Peer {
                    node.parent.unwrap()
                } else {
                    i
                };
                let found = tree
                    .lookup(start, &folder)
                    .unwrap_or_else(|| panic!("{} cannot find {folder}", tree.path(i).display()));
                assert!(
                    sources.satisfies(&folder, &spec, &tree.nodes[found].meta.version),
                    "{} finds {folder}@{} for {spec}",
                    tree.path(i).display(),
                    tree.nodes[found].meta.version
                );
            }
        }
    }

    #[tokio::test]
    async fn hoists_to_the_root_and_nests_on_conflicts() {
        let sources = sources(&[
            ("app@1.0.0", &[("a", "^1"), ("b", "^1"), ("lodash", "^4")]),
            ("a@1.0.0", &[("lodash", "^3"), ("shared", "~2.1")]),
            ("b@1.0.0", &[("shared", "^2"), ("lodash", "^4.1")]),
            ("lodash@3.10.1", &[]),
            ("lodash@4.17.21", &[]),
            ("shared@2.1.5", &[]),
            ("shared@2.4.0", &[]),
        ]);
        let resolution = run(&sources, "app@1.0.0").await;
        assert_eq!(
            layout(&resolution),
            [
                "node_modules/a/node_modules/lodash=3.10.1",
                "node_modules/a=1.0.0",
                "node_modules/app=1.0.0",
                "node_modules/b=1.0.0",
                "node_modules/lodash=4.17.21",
                "node_modules/shared=2.1.5",
            ]
        );
        assert_node_resolution_holds(&resolution, &sources);
    }

    #[tokio::test]
    async fn a_later_placement_does_not_break_packages_already_placed() {
        // x and y are nested under a (the root has other majors of them). x finds d@1 at
        // the root; then y needs d@2: putting it in a's folder would hand x the wrong d.
        let sources = sources(&[
            (
                "app@1.0.0",
                &[("a", "1"), ("x", "2"), ("y", "2"), ("d", "1")],
            ),
            ("a@1.0.0", &[("x", "1"), ("y", "1")]),
            ("x@1.0.0", &[("d", "1")]),
            ("x@2.0.0", &[]),
            ("y@1.0.0", &[("d", "2")]),
            ("y@2.0.0", &[]),
            ("d@1.0.0", &[]),
            ("d@2.0.0", &[]),
        ]);
        let resolution = run(&sources, "app@1.0.0").await;
        assert_node_resolution_holds(&resolution, &sources);
        let rows = layout(&resolution);
        assert!(
            rows.contains(&"node_modules/a/node_modules/y/node_modules/d=2.0.0".into()),
            "{rows:?}"
        );
        assert!(!rows.contains(&"node_modules/a/node_modules/d=2.0.0".into()));
    }

    #[tokio::test]
    async fn deep_conflicts_keep_every_edge_valid() {
        let sources = sources(&[
            ("app@1.0.0", &[("a", "1"), ("b", "1")]),
            ("a@1.0.0", &[("c", "1")]),
            ("b@1.0.0", &[("c", "2"), ("e", "1")]),
            ("c@1.0.0", &[("e", "1")]),
            ("c@2.0.0", &[("e", "2")]),
            ("e@1.0.0", &[]),
            ("e@2.0.0", &[]),
        ]);
        let resolution = run(&sources, "app@1.0.0").await;
        assert_node_resolution_holds(&resolution, &sources);
        assert_eq!(
            layout(&resolution),
            [
                "node_modules/a=1.0.0",
                "node_modules/app=1.0.0",
                "node_modules/b/node_modules/c/node_modules/e=2.0.0",
                "node_modules/b/node_modules/c=2.0.0",
                "node_modules/b=1.0.0",
                "node_modules/c=1.0.0",
                "node_modules/e=1.0.0",
            ]
        );
    }

    #[tokio::test]
    async fn cycles_end() {
        let sources = sources(&[
            ("app@1.0.0", &[("a", "1")]),
            ("a@1.0.0", &[("b", "1")]),
            ("b@1.0.0", &[("a", "1")]),
        ]);
        let resolution = run(&sources, "app@1.0.0").await;
        assert_eq!(resolution.tree.nodes.len(), 4);
    }

    #[tokio::test]
    async fn peers_sit_beside_their_package_and_optional_ones_are_skipped() {
        let sources = sources_with(
            &[
                ("app@1.0.0", &[("plugin", "1")]),
                ("plugin@1.0.0", &[]),
                ("host@1.2.0", &[]),
                ("host@2.0.0", &[]),
            ],
            |meta| {
                if meta.name == "plugin" {
                    meta.peer_dependencies.insert("host".into(), "^1".into());
                    meta.peer_dependencies.insert("extra".into(), "^1".into());
                    meta.peer_dependencies_meta = serde_json::json!({"extra": {"optional": true}});
                }
            },
        );
        let resolution = run(&sources, "app@1.0.0").await;
        assert_eq!(
            layout(&resolution),
            [
                "node_modules/app=1.0.0",
                "node_modules/host=1.2.0",
                "node_modules/plugin=1.0.0",
            ]
        );
    }

    #[tokio::test]
    async fn optional_and_bundled_dependencies() {
        let sources = sources_with(
            &[
                ("app@1.0.0", &[]),
                ("present@1.0.0", &[]),
                ("alien@1.0.0", &[]),
            ],
            |meta| match meta.name.as_str() {
                "app" => {
                    meta.optional_dependencies = [
                        ("present".to_string(), "1".to_string()),
                        ("missing".to_string(), "1".to_string()),
                        ("alien".to_string(), "1".to_string()),
                    ]
                    .into();
                    meta.dependencies.insert("inside".into(), "1".into());
                    meta.bundle_dependencies = serde_json::json!(["inside"]);
                }
                "alien" => meta.os = vec!["beos".into()],
                _ => {}
            },
        );
        let resolution = run(&sources, "app@1.0.0").await;
        assert_eq!(
            layout(&resolution),
            ["node_modules/app=1.0.0", "node_modules/present=1.0.0"]
        );
        assert_eq!(resolution.warnings.len(), 1, "{:?}", resolution.warnings);
        assert!(resolution.warnings[0].contains("missing@1"));
    }

    #[tokio::test]
    async fn a_missing_common_falls_back_and_is_never_shadowed() {
        let sources = sources(&[
            (
                "@openfn/language-x@1.0.0",
                &[("@openfn/language-common", "3.3.5"), ("helper", "1")],
            ),
            ("helper@1.0.0", &[("@openfn/language-common", "^3.2.0")]),
            ("@openfn/language-common@3.2.3", &[]),
        ]);
        let resolution = run(&sources, "@openfn/language-x@1.0.0").await;
        assert_eq!(
            layout(&resolution),
            [
                "node_modules/@openfn/language-x=1.0.0",
                "node_modules/helper/node_modules/@openfn/language-common=3.2.3",
                "node_modules/helper=1.0.0",
            ]
        );
        let fallback = &resolution.common_fallbacks[0];
        assert_eq!(fallback.wanted, "3.3.5");
        assert!(
            fallback.note.contains("built-in common 3.3.4"),
            "{}",
            fallback.note
        );
        let adaptor = resolution.tree.top("@openfn/language-x").unwrap();
        assert_eq!(resolution.tree.lookup(adaptor, COMMON), None);
        assert_eq!(resolution.tree.edge_target(adaptor, COMMON), Some(None));
    }

    #[tokio::test]
    async fn aliases_install_another_package_under_the_name() {
        let sources = sources(&[
            (
                "app@1.0.0",
                &[("old-common", "npm:@openfn/language-common@2")],
            ),
            ("@openfn/language-common@2.1.1", &[]),
        ]);
        let resolution = run(&sources, "app@1.0.0").await;
        let node = resolution.tree.top("old-common").unwrap();
        assert_eq!(resolution.tree.nodes[node].meta.name, COMMON);
        assert_eq!(
            resolution.tree.path(node),
            PathBuf::from("node_modules/old-common")
        );
    }

    #[test]
    fn names_and_versions_that_would_escape_are_refused() {
        for good in [
            "lodash",
            "JSONStream",
            "@openfn/language-common",
            "lodash.set",
            "a_b-c",
        ] {
            assert!(valid_package_name(good), "{good}");
        }
        for bad in [
            "", "..", "../x", "a/b", "@scope", "@scope/", "@a/b/c", ".hidden", "a\\b", "a b",
            "@../x",
        ] {
            assert!(!valid_package_name(bad), "{bad}");
        }
        assert!(valid_version("1.0.0-rc.12+build.5"));
        for bad in ["", "../1.0.0", "1.0", "1.0.0/x"] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_hostile_dependency_name_fails_the_install() {
        let sources = sources(&[("app@1.0.0", &[("../../evil", "1")])]);
        let error = resolve(&sources, &[("app".into(), "1.0.0".into())], "3.3.4")
            .await
            .unwrap_err();
        assert!(matches!(error.error, PickError::BadSpec(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_missing_dependency_names_the_chain() {
        let sources = sources(&[
            ("app@1.0.0", &[("a", "1")]),
            ("a@1.0.0", &[("lodash", "^9")]),
            ("lodash@4.17.21", &[]),
        ]);
        let error = resolve(&sources, &[("app".into(), "1.0.0".into())], "3.3.4")
            .await
            .unwrap_err();
        assert_eq!(error.package, "lodash");
        assert_eq!(error.chain, ["app@1.0.0", "a@1.0.0"]);
        assert!(matches!(error.error, PickError::NoVersion { .. }));
        let error = resolve(&sources, &[("nope".into(), "1.0.0".into())], "3.3.4")
            .await
            .unwrap_err();
        assert!(matches!(error.error, PickError::NotInFiles { .. }));
        assert!(error.chain.is_empty());
    }
}
