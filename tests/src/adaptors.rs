//! npm adaptors installed the way `bolt adaptor add` lays them out, for tests that need a
//! real package without the installer.

use std::path::Path;
use std::process::{Command, Stdio};

/// `npm install --ignore-scripts` of `package` (`name@version`) into `prefix`; the test
/// fails when npm does.
pub fn npm_install(prefix: &Path, package: &str) {
    let status = Command::new("npm")
        .args([
            "install",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(prefix)
        .arg(package)
        .stdout(Stdio::null())
        .status()
        .expect("run npm (Node.js and npm are needed for this test)");
    assert!(status.success(), "npm install {package} failed");
}

/// Installs an npm adaptor package (with its dependency tree) into a data dir, in the
/// layout boltd's engine reads (`daemon/engine/src/adaptors/installed.rs`), with `npm
/// install --ignore-scripts`. Stands in for `bolt adaptor add` in tests.
pub fn install_npm_adaptor(data_dir: &Path, name: &str, version: &str) {
    let root = data_dir.join("adaptors").join(format!("{name}@{version}"));
    std::fs::create_dir_all(&root).expect("create the install root");
    npm_install(&root, &format!("{name}@{version}"));
    let lock: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("package-lock.json")).expect("npm wrote a lock file"),
    )
    .expect("the lock file is JSON");
    let mut packages = Vec::new();
    let mut integrity = String::new();
    let mut common = None;
    if let Some(entries) = lock["packages"].as_object() {
        for (path, entry) in entries {
            let Some(package) = path
                .rsplit("node_modules/")
                .next()
                .filter(|_| !path.is_empty())
            else {
                continue;
            };
            let version = entry["version"].as_str().unwrap_or_default().to_string();
            let hash = entry["integrity"].as_str().unwrap_or_default().to_string();
            if path == &format!("node_modules/{name}") {
                integrity = hash.clone();
            }
            if path == "node_modules/@openfn/language-common" {
                common = Some(version.clone());
            }
            packages.push(serde_json::json!({
                "name": package, "version": version, "path": path, "integrity": hash,
            }));
        }
    }
    let manifest = serde_json::json!({
        "name": name,
        "version": version,
        "integrity": integrity,
        "source": "https://registry.npmjs.org/",
        "installed_at": chrono::Utc::now().to_rfc3339(),
        "packages": packages,
        "common": match common {
            Some(version) => serde_json::json!({"kind": "installed", "version": version}),
            None => serde_json::json!({"kind": "built_in"}),
        },
    });
    std::fs::write(
        root.join("bolt-adaptor.json"),
        serde_json::to_string_pretty(&manifest).expect("manifest JSON"),
    )
    .expect("write the manifest");
}
