//! Where the binaries under test are: in `BOLT_BIN_DIR` when it is set (installed binaries,
//! a release build unpacked somewhere), else where cargo builds them.
//!
//! Cargo is asked once per test process, for `bolt` and `boltd` with the package selection
//! of the README's test command (`--workspace`, in the profile these tests were built in).
//! After `cargo test --workspace` that finds them fresh and rebuilds nothing, because the
//! features are unified exactly as in that build; after a narrower `cargo test -p bolt-e2e`
//! it brings them up to date, so a test never runs a binary older than its source. The
//! answer is the path cargo reports, so it holds wherever the target directory is
//! (`CARGO_TARGET_DIR`, `build.target-dir`, a separate `build-dir`). What the nested cargo
//! cannot see is the outer command line: with `--target-dir DIR` there, it builds in the
//! default target directory instead (use `CARGO_TARGET_DIR`, or `BOLT_BIN_DIR`).
//!
//! The nested cargo does not wait for the outer one: cargo releases the build directory's
//! lock before it runs the tests. It runs without the variables cargo sets for the test
//! process (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, …): some build scripts (ring's) ask to
//! rerun when those change, and with the test's values in the environment cargo would
//! rebuild half the dependency tree, and the next outer build all of it again.

use escargot::format::Message;
use escargot::format::diagnostic::DiagnosticLevel;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The variable naming a directory of binaries to test instead of building them.
pub const BIN_DIR_VAR: &str = "BOLT_BIN_DIR";

/// What the tests run; built together so that one cargo call answers for all.
const BINARIES: [&str; 2] = ["bolt", "boltd"];

/// The path of the workspace binary `name` (`bolt` or `boltd`).
pub fn bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(BIN_DIR_VAR) {
        let path = Path::new(&dir).join(name);
        assert!(
            path.is_file(),
            "{} is not there (from {BIN_DIR_VAR})",
            path.display()
        );
        return path;
    }
    static BUILT: OnceLock<Result<BTreeMap<String, PathBuf>, String>> = OnceLock::new();
    match BUILT.get_or_init(build) {
        Ok(paths) => paths.get(name).cloned().unwrap_or_else(|| {
            panic!("{name} is not one of the binaries the tests build: {BINARIES:?}")
        }),
        Err(why) => panic!("{why}"),
    }
}

/// Whether cargo sets `name` for the process it runs (the test), as opposed to the
/// user's settings (`CARGO_TARGET_DIR`, `CARGO_PROFILE_*`, `RUSTFLAGS`, …) that the nested
/// build must share.
fn set_by_cargo_for_the_test(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || name.starts_with("CARGO_BIN_")
        || matches!(
            name,
            "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// Asks cargo to build [`BINARIES`] (a no-op when they are fresh) and where they are.
fn build() -> Result<BTreeMap<String, PathBuf>, String> {
    let mut cargo = escargot::CargoBuild::new()
        .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .arg("--workspace")
        .arg("--quiet");
    if !cfg!(debug_assertions) {
        cargo = cargo.release();
    }
    for name in BINARIES {
        cargo = cargo.bin(name);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_for_the_test) {
            cargo = cargo.env_remove(key);
        }
    }
    let failed = |why: String, errors: &[String]| {
        format!(
            "building {BINARIES:?} for the tests failed (set {BIN_DIR_VAR} to test binaries \
             built elsewhere): {why}\n{}",
            errors.join("\n")
        )
    };
    let messages = cargo
        .exec()
        .map_err(|err| failed(format!("running cargo: {err}"), &[]))?;
    let mut paths = BTreeMap::new();
    let mut errors = Vec::new();
    for message in messages {
        let message = message.map_err(|err| failed(err.to_string(), &errors))?;
        match message.decode() {
            Ok(Message::CompilerArtifact(artifact)) => {
                if let Some(executable) = &artifact.executable
                    && artifact.target.kind.iter().any(|kind| kind == "bin")
                {
                    paths.insert(artifact.target.name.to_string(), executable.to_path_buf());
                }
            }
            Ok(Message::CompilerMessage(from)) if from.message.level == DiagnosticLevel::Error => {
                errors.extend(from.message.rendered.as_deref().map(str::to_string));
            }
            _ => {}
        }
    }
    match BINARIES.iter().find(|name| !paths.contains_key(**name)) {
        Some(missing) => Err(failed(format!("cargo reported no {missing}"), &errors)),
        None => Ok(paths),
    }
}
