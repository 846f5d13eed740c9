//! Node's module resolution, inside one package tree: relative and absolute paths, bare
//! package names found by walking up `node_modules` folders, package.json `exports`
//! (conditions `import`/`require`, `node`, `default`; `*` patterns), `imports` (`#x`),
//! `main`, self-references, directory `index` files, and Node's built-in modules.
//!
//! Where it is more forgiving than Node, it does what OpenFn's runtime makes work: an
//! extensionless file specifier (`lodash/set`, `./util`) is retried with `.js` (OpenFn
//! registers a resolve hook that does exactly that), and ES imports get CommonJS's extension
//! and directory-index lookups too. The `module` field (bundlers' ESM entry) is used only
//! when a package has no `main`: Node ignores it, and preferring it would change what
//! `import x from 'date-fns'` gives (date-fns 2's `module` build has no default export).
//!
//! A bounded tree (an installed adaptor) never reaches a file outside its root: the walk up
//! `node_modules` stops there, and every resolved file's real path is checked against it.
//! Results are cached per tree and install generation.

use super::exports_map::{self, MapError, Target};
use super::package_json::{JsKind, PackageJson, PackageJsonError};
use super::tree::PackageTree;
use crate::node::{self, Builtin};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Who asks: an ES `import` or a CommonJS `require()` (they pick different `exports` conditions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Import,
    Require,
}

impl Mode {
    fn conditions(self) -> &'static [&'static str] {
        match self {
            Mode::Import => &["node", "import"],
            Mode::Require => &["node", "require"],
        }
    }
}

/// How a file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Esm,
    CommonJs,
    Json,
}

/// What a specifier names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    File {
        path: PathBuf,
        format: Format,
    },
    /// A module bolt provides itself (a Node built-in, a replaced package such as `undici`,
    /// or the built-in language-common), by its name in bolt's module bundle.
    Builtin(&'static str),
}

/// Why a specifier can't be loaded. The messages say what, where and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("Cannot find module '{specifier}' imported from {from}{hint}")]
    NotFound {
        specifier: String,
        from: String,
        hint: String,
    },
    #[error(
        "Package subpath '{subpath}' is not defined by \"exports\" in {package_json} imported from {from}"
    )]
    NotExported {
        subpath: String,
        package_json: String,
        from: String,
    },
    #[error(
        "Package import specifier '{specifier}' is not defined in {package_json} imported from {from}"
    )]
    ImportNotDefined {
        specifier: String,
        package_json: String,
        from: String,
    },
    #[error(
        "Cannot find module '{path}' that {package} names as '{subpath}': the install is incomplete{hint}"
    )]
    MissingFile {
        path: String,
        package: String,
        subpath: String,
        hint: String,
    },
    #[error("Invalid package configuration in {package_json}: {message}")]
    InvalidPackage {
        package_json: String,
        message: String,
    },
    #[error(
        "'{specifier}' imported from {from} lies outside {tree}: bolt loads only the files installed with the adaptor"
    )]
    OutsideTree {
        specifier: String,
        from: String,
        tree: String,
    },
    #[error("{importer} needs Node's `{module}`, which {why}")]
    UnsupportedBuiltin {
        importer: String,
        module: String,
        why: String,
    },
    #[error("{importer} needs the package `{package}`, which {why}")]
    RefusedPackage {
        importer: String,
        package: String,
        why: String,
    },
    #[error("{path} is a native addon, which bolt cannot load (imported from {from})")]
    NativeAddon { path: String, from: String },
}

impl From<PackageJsonError> for ResolveError {
    fn from(e: PackageJsonError) -> Self {
        ResolveError::InvalidPackage {
            package_json: e.path.display().to_string(),
            message: e.message,
        }
    }
}

/// The built-in language-common and the subpaths of the npm package it stands in for.
const BUILT_IN_COMMON: &str = "@openfn/language-common";
const BUILT_IN_COMMON_SUBPATHS: &[(&str, &str)] = &[
    (".", "@openfn/language-common"),
    ("./util", "@openfn/language-common/public/util"),
    ("./metadata", "@openfn/language-common/public/metadata"),
];

/// Node's built-in module names (Node 20's `builtinModules`, without internals). A name here
/// never resolves to an npm package of the same name, as in Node.
const NODE_BUILTINS: &[&str] = &[
    "assert",
    "assert/strict",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "dns/promises",
    "domain",
    "events",
    "fs",
    "fs/promises",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "path/posix",
    "path/win32",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "stream/consumers",
    "stream/promises",
    "stream/web",
    "string_decoder",
    "sys",
    "timers",
    "timers/promises",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "util/types",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// Whether `specifier` names one of Node's built-in modules.
pub fn is_node_builtin(specifier: &str) -> bool {
    specifier.starts_with("node:") || NODE_BUILTINS.contains(&specifier)
}

/// Resolves `specifier` imported (or required) by the file `from` inside `tree`.
pub fn resolve(
    tree: &PackageTree,
    from: &Path,
    specifier: &str,
    mode: Mode,
) -> Result<Resolved, ResolveError> {
    let cache = cache_for(tree);
    let dir = from.parent().unwrap_or(from).to_path_buf();
    let key = (dir, specifier.to_string(), mode);
    if let Some(found) = cache
        .resolved
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return found;
    }
    let found = Resolver {
        tree,
        cache: &cache,
        from,
        mode,
    }
    .resolve(specifier);
    if let Ok(mut resolved) = cache.resolved.lock() {
        resolved.insert(key, found.clone());
    }
    found
}

/// The entry module of the package in `package_dir` (an adaptor itself), as `mode` sees it.
pub fn package_entry(
    tree: &PackageTree,
    package_dir: &Path,
    mode: Mode,
) -> Result<Resolved, ResolveError> {
    let cache = cache_for(tree);
    // Keyed like a resolution from the package's own directory, with a specifier no
    // import can have.
    let key = (package_dir.to_path_buf(), "\0entry".to_string(), mode);
    if let Some(found) = cache
        .resolved
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return found;
    }
    let from = package_dir.join("package.json");
    let found = Resolver {
        tree,
        cache: &cache,
        from: &from,
        mode,
    }
    .package_subpath(package_dir, ".", ".");
    if let Ok(mut resolved) = cache.resolved.lock() {
        resolved.insert(key, found.clone());
    }
    found
}

/// The nearest package.json above `file` (its package scope), if any.
pub fn package_scope(tree: &PackageTree, file: &Path) -> Option<Arc<PackageJson>> {
    let cache = cache_for(tree);
    Resolver {
        tree,
        cache: &cache,
        from: file,
        mode: Mode::Import,
    }
    .scope_of(file)
}

/// How `path` is loaded: by extension, and for `.js` by its package's `type`.
pub fn format_of(tree: &PackageTree, path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("mjs") => Format::Esm,
        Some("cjs") => Format::CommonJs,
        Some("json") => Format::Json,
        _ => match package_scope(tree, path).map(|p| p.kind) {
            Some(JsKind::Module) => Format::Esm,
            _ => Format::CommonJs,
        },
    }
}

/// A resolution's key: the importer's directory, the specifier, who asks.
type ResolutionKey = (PathBuf, String, Mode);

struct TreeCache {
    /// package.json by directory (`None`: the directory has none).
    packages: Mutex<HashMap<PathBuf, Option<Arc<PackageJson>>>>,
    resolved: Mutex<HashMap<ResolutionKey, Result<Resolved, ResolveError>>>,
}

/// One cache per tree root; a new install generation of the same root replaces it.
fn cache_for(tree: &PackageTree) -> Arc<TreeCache> {
    type Caches = Mutex<HashMap<PathBuf, (String, Arc<TreeCache>)>>;
    static CACHES: OnceLock<Caches> = OnceLock::new();
    let caches = CACHES.get_or_init(|| Mutex::new(HashMap::new()));
    let fresh = || {
        Arc::new(TreeCache {
            packages: Mutex::new(HashMap::new()),
            resolved: Mutex::new(HashMap::new()),
        })
    };
    let Ok(mut caches) = caches.lock() else {
        return fresh();
    };
    match caches.get(&tree.root) {
        Some((generation, cache)) if *generation == tree.generation => cache.clone(),
        _ => {
            let cache = fresh();
            caches.insert(tree.root.clone(), (tree.generation.clone(), cache.clone()));
            cache
        }
    }
}

struct Resolver<'a> {
    tree: &'a PackageTree,
    cache: &'a TreeCache,
    from: &'a Path,
    mode: Mode,
}

impl Resolver<'_> {
    fn importer(&self) -> String {
        self.from.display().to_string()
    }

    fn resolve(&self, specifier: &str) -> Result<Resolved, ResolveError> {
        if is_node_builtin(specifier) {
            return self.builtin(specifier);
        }
        // An import `source::route_common_imports` pointed at a part of the built-in common.
        if let Some(module) = specifier.strip_prefix(super::source::BUILT_IN_PREFIX) {
            return crate::adaptors::all()
                .iter()
                .map(|a| a.specifier)
                .chain(crate::adaptors::sub_modules().iter().map(|m| m.specifier))
                .find(|name| *name == module)
                .map(Resolved::Builtin)
                .ok_or_else(|| self.not_found(specifier));
        }
        if specifier.starts_with("./")
            || specifier.starts_with("../")
            || specifier == "."
            || specifier == ".."
            || specifier.starts_with('/')
        {
            let base = self.from.parent().unwrap_or(Path::new("/"));
            let path = normalize(&base.join(specifier));
            return self.file_or_directory(&path, specifier);
        }
        if specifier.starts_with('#') {
            return self.package_import(specifier);
        }
        if specifier.is_empty() || specifier.contains(':') || specifier.contains('\\') {
            return Err(self.not_found(specifier));
        }
        self.bare(specifier)
    }

    fn builtin(&self, specifier: &str) -> Result<Resolved, ResolveError> {
        let name = specifier.strip_prefix("node:").unwrap_or(specifier);
        match node::builtin(specifier) {
            Some(Builtin::Provided(module)) => Ok(Resolved::Builtin(module)),
            Some(Builtin::Unsupported { why }) => Err(self.unsupported(name, why)),
            None => Err(self.unsupported(name, "is not one of the Node built-ins bolt provides")),
        }
    }

    fn unsupported(&self, module: &str, why: &str) -> ResolveError {
        ResolveError::UnsupportedBuiltin {
            importer: self.importing_package(),
            module: module.to_string(),
            why: why.to_string(),
        }
    }

    /// The adaptor, and the dependency through which it imports, for error messages.
    fn importing_package(&self) -> String {
        let package = self
            .scope_of(self.from)
            .map(|p| p.label())
            .unwrap_or_else(|| self.importer());
        if package == self.tree.label {
            package
        } else {
            format!("{} (through its dependency {package})", self.tree.label)
        }
    }

    fn not_found(&self, specifier: &str) -> ResolveError {
        ResolveError::NotFound {
            specifier: specifier.to_string(),
            from: self.importer(),
            hint: self.reinstall_hint(),
        }
    }

    fn reinstall_hint(&self) -> String {
        if self.tree.bounded {
            format!(
                " (it is not in the install of {}; reinstall it with `bolt adaptor add {}`)",
                self.tree.label, self.tree.label
            )
        } else {
            String::new()
        }
    }

    fn bare(&self, specifier: &str) -> Result<Resolved, ResolveError> {
        let (name, subpath) = split_package(specifier).ok_or_else(|| self.not_found(specifier))?;
        // Socket drivers (pg, tedious…) load, but could never connect: refuse them by name.
        if let Some(why) = node::refused_package(name) {
            return Err(ResolveError::RefusedPackage {
                importer: self.importing_package(),
                package: name.to_string(),
                why: why.to_string(),
            });
        }
        if let Some(module) = node::replacement(name) {
            return if subpath == "." {
                Ok(Resolved::Builtin(module))
            } else {
                Err(ResolveError::NotFound {
                    specifier: specifier.to_string(),
                    from: self.importer(),
                    hint: format!(
                        " (bolt serves `{name}` itself, without its subpath '{}')",
                        &subpath[2..]
                    ),
                })
            };
        }
        // A package may import itself by name through its own `exports`.
        if let Some(scope) = self.scope_of(self.from)
            && scope.name.as_deref() == Some(name)
            && scope.exports.is_some()
        {
            return self.package_subpath(&scope.dir.clone(), &subpath, specifier);
        }
        match self.find_package_dir(name) {
            Some(dir) => self.package_subpath(&dir, &subpath, specifier),
            None if name == BUILT_IN_COMMON => BUILT_IN_COMMON_SUBPATHS
                .iter()
                .find(|(sub, _)| *sub == subpath)
                .map(|(_, module)| Resolved::Builtin(module))
                .ok_or_else(|| ResolveError::NotExported {
                    subpath,
                    package_json: "bolt's built-in @openfn/language-common".into(),
                    from: self.importer(),
                }),
            None => Err(self.not_found(specifier)),
        }
    }

    /// `<ancestor>/node_modules/<name>`, nearest first, never above a bounded tree's root.
    fn find_package_dir(&self, name: &str) -> Option<PathBuf> {
        let mut dir = self.from.parent();
        while let Some(current) = dir {
            if self.tree.bounded && !current.starts_with(&self.tree.root) {
                return None;
            }
            if current.file_name().is_none_or(|n| n != "node_modules") {
                let candidate = current.join("node_modules").join(name);
                if candidate.is_dir() {
                    return Some(candidate);
                }
            }
            dir = current.parent();
        }
        None
    }

    /// `subpath` (`.` or `./x`) of the package in `dir`.
    fn package_subpath(
        &self,
        dir: &Path,
        subpath: &str,
        specifier: &str,
    ) -> Result<Resolved, ResolveError> {
        let package = self.package_json(dir)?;
        let label = package
            .as_ref()
            .map(|p| p.label())
            .unwrap_or_else(|| dir.display().to_string());
        if let Some(exports) = package.as_ref().and_then(|p| p.exports.as_ref()) {
            let conditions = self.mode.conditions();
            let mut target = exports_map::exports_target(exports, subpath, conditions);
            // OpenFn's resolve hook: an extensionless subpath is retried with `.js`.
            if matches!(target, Err(MapError::NotDefined)) && needs_extension(subpath) {
                target = exports_map::exports_target(exports, &format!("{subpath}.js"), conditions);
            }
            let package_json = dir.join("package.json").display().to_string();
            return match target {
                Ok(Target::File(relative)) => {
                    let path = normalize(&dir.join(&relative));
                    if !path.is_file() {
                        return Err(ResolveError::MissingFile {
                            path: path.display().to_string(),
                            package: label,
                            subpath: subpath.to_string(),
                            hint: self.reinstall_hint(),
                        });
                    }
                    self.finish(path, specifier)
                }
                Ok(Target::Package(_)) | Err(MapError::Invalid(_)) => {
                    Err(ResolveError::InvalidPackage {
                        package_json,
                        message: match target {
                            Err(MapError::Invalid(message)) => message,
                            _ => format!("\"exports\" maps '{subpath}' to a package name"),
                        },
                    })
                }
                Err(MapError::NotDefined | MapError::NoTarget) => Err(ResolveError::NotExported {
                    subpath: subpath.to_string(),
                    package_json,
                    from: self.importer(),
                }),
            };
        }
        if subpath == "." {
            return self.main_of(dir, package.as_deref(), specifier, &label);
        }
        let path = normalize(&dir.join(subpath));
        self.file_or_directory(&path, specifier)
    }

    /// A package's main entry without `exports`: `main`, else `module`, else `index`.
    fn main_of(
        &self,
        dir: &Path,
        package: Option<&PackageJson>,
        specifier: &str,
        label: &str,
    ) -> Result<Resolved, ResolveError> {
        let main = package.and_then(|p| p.main.clone().or_else(|| p.module.clone()));
        if let Some(main) = main {
            let path = normalize(&dir.join(&main));
            if let Some(file) = self.try_file(&path).or_else(|| self.try_index(&path)) {
                return self.finish(file, specifier);
            }
            if self.try_index(dir).is_none() {
                return Err(ResolveError::MissingFile {
                    path: path.display().to_string(),
                    package: label.to_string(),
                    subpath: ".".into(),
                    hint: self.reinstall_hint(),
                });
            }
        }
        match self.try_index(dir) {
            Some(file) => self.finish(file, specifier),
            None => Err(self.not_found(specifier)),
        }
    }

    /// A file path: as is, with an extension, or a directory's entry.
    fn file_or_directory(&self, path: &Path, specifier: &str) -> Result<Resolved, ResolveError> {
        if let Some(file) = self.try_file(path) {
            return self.finish(file, specifier);
        }
        if path.is_dir() {
            let package = self.package_json(path)?;
            if let Some(main) = package.as_ref().and_then(|p| p.main.clone()) {
                let main_path = normalize(&path.join(main));
                if let Some(file) = self
                    .try_file(&main_path)
                    .or_else(|| self.try_index(&main_path))
                {
                    return self.finish(file, specifier);
                }
            }
            if let Some(file) = self.try_index(path) {
                return self.finish(file, specifier);
            }
        }
        Err(self.not_found(specifier))
    }

    fn try_file(&self, path: &Path) -> Option<PathBuf> {
        if path.is_file() {
            return Some(path.to_path_buf());
        }
        let name = path.file_name()?.to_str()?;
        ["js", "json", "cjs", "mjs"]
            .iter()
            .map(|ext| path.with_file_name(format!("{name}.{ext}")))
            .find(|candidate| candidate.is_file())
    }

    fn try_index(&self, dir: &Path) -> Option<PathBuf> {
        ["index.js", "index.json", "index.cjs", "index.mjs"]
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| candidate.is_file())
    }

    /// `#name` through the `imports` of the importer's package.
    fn package_import(&self, specifier: &str) -> Result<Resolved, ResolveError> {
        let Some(scope) = self.scope_of(self.from) else {
            return Err(self.not_found(specifier));
        };
        let package_json = scope.dir.join("package.json").display().to_string();
        let Some(imports) = &scope.imports else {
            return Err(ResolveError::ImportNotDefined {
                specifier: specifier.to_string(),
                package_json,
                from: self.importer(),
            });
        };
        match exports_map::imports_target(imports, specifier, self.mode.conditions()) {
            Ok(Target::File(relative)) => {
                let path = normalize(&scope.dir.join(relative));
                if !path.is_file() {
                    return Err(ResolveError::MissingFile {
                        path: path.display().to_string(),
                        package: scope.label(),
                        subpath: specifier.to_string(),
                        hint: self.reinstall_hint(),
                    });
                }
                self.finish(path, specifier)
            }
            Ok(Target::Package(bare)) => {
                if is_node_builtin(&bare) {
                    self.builtin(&bare)
                } else {
                    self.bare(&bare)
                }
            }
            Err(MapError::Invalid(message)) => Err(ResolveError::InvalidPackage {
                package_json,
                message,
            }),
            Err(_) => Err(ResolveError::ImportNotDefined {
                specifier: specifier.to_string(),
                package_json,
                from: self.importer(),
            }),
        }
    }

    /// Checks that the file lies in the tree and settles its format.
    fn finish(&self, path: PathBuf, specifier: &str) -> Result<Resolved, ResolveError> {
        if self.tree.bounded {
            let real = std::fs::canonicalize(&path).map_err(|_| self.not_found(specifier))?;
            if !real.starts_with(&self.tree.root) {
                return Err(ResolveError::OutsideTree {
                    specifier: specifier.to_string(),
                    from: self.importer(),
                    tree: format!("the install of {}", self.tree.label),
                });
            }
        }
        if path.extension().is_some_and(|e| e == "node") {
            return Err(ResolveError::NativeAddon {
                path: path.display().to_string(),
                from: self.importer(),
            });
        }
        let format = format_of(self.tree, &path);
        Ok(Resolved::File { path, format })
    }

    fn package_json(&self, dir: &Path) -> Result<Option<Arc<PackageJson>>, ResolveError> {
        if let Some(found) = self
            .cache
            .packages
            .lock()
            .ok()
            .and_then(|p| p.get(dir).cloned())
        {
            return Ok(found);
        }
        let found = PackageJson::read(dir)?.map(Arc::new);
        if let Ok(mut packages) = self.cache.packages.lock() {
            packages.insert(dir.to_path_buf(), found.clone());
        }
        Ok(found)
    }

    /// The nearest package.json at or above the file's directory.
    fn scope_of(&self, file: &Path) -> Option<Arc<PackageJson>> {
        let mut dir = file.parent();
        while let Some(current) = dir {
            if self.tree.bounded && !current.starts_with(&self.tree.root) {
                return None;
            }
            if current.file_name().is_some_and(|n| n == "node_modules") {
                return None;
            }
            if let Ok(Some(package)) = self.package_json(current) {
                return Some(package);
            }
            dir = current.parent();
        }
        None
    }
}

/// `@scope/name/sub` → (`@scope/name`, `./sub`); `name` → (`name`, `.`).
fn split_package(specifier: &str) -> Option<(&str, String)> {
    let mut parts = specifier.splitn(3, '/');
    let first = parts.next()?;
    let (name_len, rest) = if first.starts_with('@') {
        let second = parts.next()?;
        if second.is_empty() {
            return None;
        }
        (first.len() + 1 + second.len(), parts.next())
    } else {
        let rest = specifier.get(first.len() + 1..);
        (first.len(), rest)
    };
    let name = &specifier[..name_len];
    if name.starts_with('.') || name.contains('%') || name.is_empty() {
        return None;
    }
    let subpath = match rest {
        Some(rest) if !rest.is_empty() => format!("./{rest}"),
        _ => ".".to_string(),
    };
    Some((name, subpath))
}

/// Whether the last segment of a subpath has no extension.
fn needs_extension(subpath: &str) -> bool {
    subpath != "."
        && subpath
            .rsplit('/')
            .next()
            .is_some_and(|last| !last.contains('.'))
}

/// Removes `.` and `..` segments without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn tree(root: &Path) -> PackageTree {
        PackageTree::bounded(root, "@openfn/language-x@1.0.0", "g1").unwrap()
    }

    fn file(tree: &PackageTree, from: &str, specifier: &str, mode: Mode) -> (String, Format) {
        match resolve(tree, &tree.root.join(from), specifier, mode).unwrap() {
            Resolved::File { path, format } => (
                path.strip_prefix(&tree.root).unwrap().display().to_string(),
                format,
            ),
            other => panic!("{other:?}"),
        }
    }

    /// A small npm-style tree: an ESM adaptor, a CJS dependency without `exports`, a
    /// dual package, a nested conflicting version.
    fn sample() -> (tempfile::TempDir, PackageTree) {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        write(
            root,
            "node_modules/@openfn/language-x/package.json",
            r##"{"name":"@openfn/language-x","version":"1.0.0","type":"module","main":"dist/index.cjs",
               "exports":{".":{"import":"./dist/index.js","require":"./dist/index.cjs"},"./package.json":"./package.json"},
               "imports":{"#internal":"./dist/internal.js"}}"##,
        );
        write(root, "node_modules/@openfn/language-x/dist/index.js", "");
        write(root, "node_modules/@openfn/language-x/dist/index.cjs", "");
        write(root, "node_modules/@openfn/language-x/dist/internal.js", "");
        write(root, "node_modules/@openfn/language-x/dist/data.json", "{}");
        write(
            root,
            "node_modules/lodash/package.json",
            r#"{"name":"lodash","version":"4.18.1","main":"lodash.js"}"#,
        );
        write(root, "node_modules/lodash/lodash.js", "");
        write(root, "node_modules/lodash/set.js", "");
        write(root, "node_modules/lodash/fp/curry.js", "");
        write(
            root,
            "node_modules/dual/package.json",
            r#"{"name":"dual","version":"2.0.0","exports":{".":{"import":"./esm/index.mjs","require":"./cjs/index.cjs"},"./feature/*":"./lib/feature/*.js"}}"#,
        );
        write(root, "node_modules/dual/esm/index.mjs", "");
        write(root, "node_modules/dual/cjs/index.cjs", "");
        write(root, "node_modules/dual/lib/feature/a.js", "");
        write(
            root,
            "node_modules/dual/node_modules/lodash/package.json",
            r#"{"name":"lodash","version":"3.0.0"}"#,
        );
        write(root, "node_modules/dual/node_modules/lodash/index.js", "");
        write(root, "node_modules/dir-pkg/lib/index.js", "");
        write(
            root,
            "node_modules/dir-pkg/package.json",
            r#"{"main":"./lib"}"#,
        );
        let tree = tree(root);
        (temp, tree)
    }

    const ADAPTOR: &str = "node_modules/@openfn/language-x/dist/index.js";

    #[test]
    fn packages_resolve_through_exports_conditions() {
        let (_temp, tree) = sample();
        let entry = package_entry(
            &tree,
            &tree.root.join("node_modules/@openfn/language-x"),
            Mode::Import,
        )
        .unwrap();
        assert!(
            matches!(entry, Resolved::File { format: Format::Esm, ref path } if path.ends_with("dist/index.js"))
        );
        assert_eq!(
            file(&tree, ADAPTOR, "dual", Mode::Import),
            ("node_modules/dual/esm/index.mjs".into(), Format::Esm)
        );
        assert_eq!(
            file(&tree, ADAPTOR, "dual", Mode::Require),
            ("node_modules/dual/cjs/index.cjs".into(), Format::CommonJs)
        );
        assert_eq!(
            file(&tree, ADAPTOR, "dual/feature/a", Mode::Import).0,
            "node_modules/dual/lib/feature/a.js"
        );
        // Self-reference and `imports`.
        assert_eq!(
            file(&tree, ADAPTOR, "@openfn/language-x", Mode::Require).0,
            "node_modules/@openfn/language-x/dist/index.cjs"
        );
        assert_eq!(
            file(&tree, ADAPTOR, "#internal", Mode::Import).0,
            "node_modules/@openfn/language-x/dist/internal.js"
        );
    }

    #[test]
    fn legacy_packages_get_main_extensions_and_directories() {
        let (_temp, tree) = sample();
        assert_eq!(
            file(&tree, ADAPTOR, "lodash", Mode::Import),
            ("node_modules/lodash/lodash.js".into(), Format::CommonJs)
        );
        // OpenFn's extensionless retry.
        assert_eq!(
            file(&tree, ADAPTOR, "lodash/set", Mode::Import).0,
            "node_modules/lodash/set.js"
        );
        assert_eq!(
            file(&tree, ADAPTOR, "lodash/fp/curry.js", Mode::Import).0,
            "node_modules/lodash/fp/curry.js"
        );
        assert_eq!(
            file(&tree, ADAPTOR, "dir-pkg", Mode::Require).0,
            "node_modules/dir-pkg/lib/index.js"
        );
        assert_eq!(
            file(&tree, ADAPTOR, "./data.json", Mode::Import),
            (
                "node_modules/@openfn/language-x/dist/data.json".into(),
                Format::Json
            )
        );
        assert_eq!(
            file(&tree, ADAPTOR, "./internal", Mode::Import).0,
            "node_modules/@openfn/language-x/dist/internal.js"
        );
        // The nearest node_modules wins: dual gets its own lodash.
        assert_eq!(
            file(
                &tree,
                "node_modules/dual/cjs/index.cjs",
                "lodash",
                Mode::Require
            )
            .0,
            "node_modules/dual/node_modules/lodash/index.js"
        );
    }

    #[test]
    fn errors_say_what_is_missing() {
        let (_temp, tree) = sample();
        let from = tree.root.join(ADAPTOR);
        let err = resolve(&tree, &from, "dual/private", Mode::Import).unwrap_err();
        assert!(matches!(err, ResolveError::NotExported { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("'./private' is not defined by \"exports\""),
            "{err}"
        );
        let err = resolve(&tree, &from, "left-pad", Mode::Import).unwrap_err();
        assert!(
            err.to_string().contains("Cannot find module 'left-pad'"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("bolt adaptor add @openfn/language-x@1.0.0"),
            "{err}"
        );
        let err = resolve(&tree, &from, "dgram", Mode::Import).unwrap_err();
        assert_eq!(
            err.to_string(),
            "@openfn/language-x@1.0.0 needs Node's `dgram`, which opens UDP sockets, which bolt's sandbox does not allow"
        );
        let err = resolve(&tree, &from, "pg", Mode::Import).unwrap_err();
        assert_eq!(
            err.to_string(),
            "@openfn/language-x@1.0.0 needs the package `pg`, which talks to PostgreSQL over raw TCP sockets, which bolt's sandbox does not allow"
        );
        let err = resolve(
            &tree,
            &tree.root.join("node_modules/lodash/set.js"),
            "node:child_process",
            Mode::Require,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("@openfn/language-x@1.0.0 (through its dependency lodash@4.18.1) needs Node's `child_process`"),
            "{err}"
        );
    }

    #[test]
    fn a_bounded_tree_never_reaches_outside() {
        let outer = tempfile::tempdir().unwrap();
        write(outer.path(), "node_modules/outside/index.js", "");
        write(outer.path(), "secret.json", "{}");
        let root = outer.path().join("install");
        write(&root, "node_modules/a/index.js", "");
        let tree = tree(&root);
        let from = tree.root.join("node_modules/a/index.js");
        assert!(matches!(
            resolve(&tree, &from, "outside", Mode::Require),
            Err(ResolveError::NotFound { .. })
        ));
        let err = resolve(&tree, &from, "../../../secret.json", Mode::Require).unwrap_err();
        assert!(matches!(err, ResolveError::OutsideTree { .. }), "{err}");
        let secret = outer.path().join("secret.json");
        let err = resolve(&tree, &from, secret.to_str().unwrap(), Mode::Require).unwrap_err();
        assert!(matches!(err, ResolveError::OutsideTree { .. }), "{err}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&secret, root.join("node_modules/a/link.json")).unwrap();
            let err = resolve(&tree, &from, "./link.json", Mode::Require).unwrap_err();
            assert!(matches!(err, ResolveError::OutsideTree { .. }), "{err}");
        }
    }

    #[test]
    fn language_common_falls_back_to_the_built_in() {
        let (_temp, tree) = sample();
        let from = tree.root.join(ADAPTOR);
        for (specifier, module) in [
            ("@openfn/language-common", "@openfn/language-common"),
            (
                "@openfn/language-common/util",
                "@openfn/language-common/public/util",
            ),
            (
                "@openfn/language-common/metadata",
                "@openfn/language-common/public/metadata",
            ),
        ] {
            assert_eq!(
                resolve(&tree, &from, specifier, Mode::Import).unwrap(),
                Resolved::Builtin(module)
            );
        }
        assert!(matches!(
            resolve(
                &tree,
                &from,
                "@openfn/language-common/dist/x.js",
                Mode::Import
            ),
            Err(ResolveError::NotExported { .. })
        ));
        // An installed copy wins.
        write(
            &tree.root,
            "node_modules/@openfn/language-common/package.json",
            r#"{"name":"@openfn/language-common","version":"2.1.1","type":"module","exports":{".":{"import":"./dist/index.js"}}}"#,
        );
        write(
            &tree.root,
            "node_modules/@openfn/language-common/dist/index.js",
            "",
        );
        let fresh = PackageTree::bounded(&tree.root, "@openfn/language-x@1.0.0", "g2").unwrap();
        assert_eq!(
            file(&fresh, ADAPTOR, "@openfn/language-common", Mode::Import).0,
            "node_modules/@openfn/language-common/dist/index.js"
        );
    }

    #[test]
    fn splits_package_names() {
        assert_eq!(split_package("lodash"), Some(("lodash", ".".into())));
        assert_eq!(
            split_package("lodash/fp/curry"),
            Some(("lodash", "./fp/curry".into()))
        );
        assert_eq!(
            split_package("@openfn/language-common/util"),
            Some(("@openfn/language-common", "./util".into()))
        );
        assert_eq!(split_package("@openfn"), None);
        assert_eq!(split_package(".hidden"), None);
    }
}
