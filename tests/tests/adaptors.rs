//! Installing npm adaptors: `bolt adaptor add | list | rm | bundle`, `--from-file`, and
//! deploy's autoinstall, through the real binaries. A few small real packages come from the
//! npm registry; every failure is staged on a mock registry on 127.0.0.1.

use bolt_e2e::mock_registry::{MockPackage, MockRegistry};
use bolt_e2e::{Daemon, bin};
use bolt_sql::{DbExt, params};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const UNREACHABLE: &str = "http://127.0.0.1:1/";

/// `bolt` with no boltd: it installs directly into `data`.
fn direct(data: &Path, args: &[&str]) -> Output {
    Command::new(bin("bolt"))
        .arg("--data-dir")
        .arg(data)
        .arg("--socket")
        .arg(data.join("run/no-boltd.sock"))
        .args(args)
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_DATA_DIR")
        .env_remove("BOLT_SOCKET")
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .output()
        .expect("run bolt")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success; returns (stdout, stderr).
fn ok(out: &Output) -> (String, String) {
    assert!(
        out.status.success(),
        "bolt failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

/// Asserts failure; returns stderr.
fn fails(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "bolt should have failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

fn json(out: &Output) -> Value {
    let (stdout, _) = ok(out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// `name@version` of every complete install, and every staging/trash leftover.
fn on_disk(data: &Path) -> (Vec<String>, Vec<String>) {
    let root = data.join("adaptors");
    let mut installs = Vec::new();
    let mut leftovers = Vec::new();
    let Ok(entries) = std::fs::read_dir(&root) else {
        return (installs, leftovers);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".lock" {
            continue;
        }
        if name.starts_with('.') {
            leftovers.push(name);
        } else if name.starts_with('@') {
            for inner in std::fs::read_dir(entry.path()).expect("scope").flatten() {
                installs.push(format!("{name}/{}", inner.file_name().to_string_lossy()));
            }
        } else {
            installs.push(name);
        }
    }
    installs.sort();
    (installs, leftovers)
}

fn assert_nothing_installed(data: &Path, after: &str) {
    let (installs, leftovers) = on_disk(data);
    assert!(installs.is_empty(), "{after}: installed {installs:?}");
    assert!(leftovers.is_empty(), "{after}: left {leftovers:?}");
}

/// `action subject` of the adaptor changes in boltd's audit log.
fn audited(daemon: &Daemon) -> Vec<String> {
    daemon
        .database()
        .query_map(
            "SELECT action, subject FROM audit_events WHERE action LIKE 'adaptor.%' ORDER BY id",
            params![],
            |r| Ok(format!("{} {}", r.get::<String>(0)?, r.get::<String>(1)?)),
        )
        .expect("the audited adaptor changes")
}

fn version_in(root: &Path, package_dir: &str) -> String {
    let text = std::fs::read_to_string(root.join(package_dir).join("package.json"))
        .unwrap_or_else(|e| panic!("{package_dir}: {e}"));
    let json: Value = serde_json::from_str(&text).expect("package.json");
    json["version"].as_str().expect("version").to_string()
}

/// A project whose workflow has one job per `(key, adaptor)`.
fn project(name: &str, jobs: &[(&str, &str)]) -> String {
    let mut yaml = format!("name: {name}\nworkflows:\n  wf:\n    name: WF\n    jobs:\n");
    for (key, adaptor) in jobs {
        yaml.push_str(&format!(
            "      {key}:\n        name: Job {key}\n        adaptor: '{adaptor}'\n        body: fn(state => state)\n"
        ));
    }
    let first = jobs.first().map(|(k, _)| *k).unwrap_or("a");
    yaml.push_str(&format!(
        "    triggers:\n      webhook:\n        type: webhook\n    edges:\n      webhook->{first}:\n        source_trigger: webhook\n        target_job: {first}\n        condition_type: always\n"
    ));
    yaml
}

fn write_project(dir: &Path, yaml: &str) -> String {
    let path = dir.join("project.yaml");
    std::fs::write(&path, yaml).expect("write project");
    path.display().to_string()
}

// --- the real npm registry (kept to a few small downloads) ---------------------------

#[test]
fn openmrs_5_5_0_from_npm_gets_the_built_in_common_with_a_note() {
    let daemon = Daemon::start();
    let out = daemon.bolt(&["adaptor", "add", "@openfn/language-openmrs@5.5.0"]);
    let (stdout, stderr) = ok(&out);
    assert!(
        stdout.contains("installed @openfn/language-openmrs@5.5.0 (1 package)"),
        "{stdout}"
    );
    // Progress reached the client while boltd downloaded.
    assert!(
        stderr.contains("@openfn/language-openmrs@5.5.0: installed 1 package"),
        "{stderr}"
    );
    let list = daemon.bolt_json(&["adaptor", "list"]);
    let adaptor = &list[0];
    assert_eq!(adaptor["name"], "@openfn/language-openmrs");
    assert_eq!(adaptor["version"], "5.5.0");
    assert_eq!(adaptor["common"]["source"], "built_in");
    assert_eq!(adaptor["common"]["version"], "3.3.4");
    assert_eq!(adaptor["common"]["wanted"], "3.3.5");
    let note = adaptor["common"]["note"].as_str().expect("note");
    assert!(
        note.contains("https://registry.npmjs.org/") && note.contains("3.3.5"),
        "{note}"
    );
    let root = daemon
        .data_dir()
        .join("adaptors/@openfn/language-openmrs@5.5.0");
    assert_eq!(
        version_in(&root, "node_modules/@openfn/language-openmrs"),
        "5.5.0"
    );
    assert!(!root.join("node_modules/@openfn/language-common").exists());
    assert!(root.join("bolt-adaptor.json").is_file());
    // The human listing says the same.
    let (table, _) = ok(&daemon.bolt(&["adaptor", "list"]));
    assert!(table.contains("built-in 3.3.4"), "{table}");
    assert!(table.contains("3.3.5"), "{table}");
    let (again, _) = ok(&daemon.bolt(&["adaptor", "add", "openmrs@5.5.0"]));
    assert!(
        again.contains("already installed: @openfn/language-openmrs@5.5.0"),
        "{again}"
    );
}

#[test]
fn fhir_5_0_15_from_npm_installs_its_own_common_3_2_3() {
    let data = tempfile::tempdir().expect("temp");
    let (stdout, stderr) = ok(&direct(data.path(), &["adaptor", "add", "fhir@5.0.15"]));
    assert!(
        stderr.contains("boltd is not running: installing into"),
        "{stderr}"
    );
    assert!(
        stdout.contains("installed @openfn/language-fhir@5.0.15"),
        "{stdout}"
    );
    assert!(stdout.contains("language-common: 3.2.3"), "{stdout}");
    let list = json(&direct(data.path(), &["adaptor", "list", "--json"]));
    assert_eq!(list[0]["name"], "@openfn/language-fhir");
    assert_eq!(list[0]["common"]["source"], "installed");
    assert_eq!(list[0]["common"]["version"], "3.2.3");
    assert!(list[0]["packages"].as_u64().expect("packages") >= 10);
    let root = data.path().join("adaptors/@openfn/language-fhir@5.0.15");
    assert_eq!(
        version_in(&root, "node_modules/@openfn/language-common"),
        "3.2.3"
    );
    assert!(root.join("node_modules/undici/package.json").is_file());
    assert!(root.join("node_modules/lodash/package.json").is_file());
}

#[test]
fn a_project_using_language_mssql_is_refused_naming_its_socket_driver() {
    let daemon = Daemon::start();
    let file = write_project(
        daemon.data_dir(),
        &project("sql", &[("load", "@openfn/language-mssql@7.1.3")]),
    );
    let stderr = fails(&daemon.bolt(&["deploy", &file]));
    assert!(stderr.contains("@openfn/language-mssql@7.1.3"), "{stderr}");
    assert!(stderr.contains("the package `tedious`"), "{stderr}");
    assert!(stderr.contains("raw TCP sockets"), "{stderr}");
    assert!(stderr.contains("job `WF / Job load`"), "{stderr}");
    assert!(stderr.contains("nothing was deployed"), "{stderr}");
    assert_eq!(daemon.bolt_json(&["workflows"]), serde_json::json!([]));
    // The adaptor itself installed fine; the list says what it needs.
    let list = daemon.bolt_json(&["adaptor", "list"]);
    let needs: Vec<&str> = list[0]["unsupported_builtins"]
        .as_array()
        .expect("unsupported")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(needs.contains(&"tedious"), "{needs:?}");
}

#[test]
fn deploy_installs_a_missing_adaptor_and_rm_refuses_while_jobs_pin_it() {
    let daemon = Daemon::start();
    let file = write_project(
        daemon.data_dir(),
        &project("emr", &[("sync", "@openfn/language-openmrs@5.5.0")]),
    );
    let (stdout, stderr) = ok(&daemon.bolt(&["deploy", &file]));
    assert!(
        stdout.contains("adaptor @openfn/language-openmrs@5.5.0: installed now"),
        "{stdout}"
    );
    assert!(stderr.contains("installed 1 package"), "{stderr}");
    let list = daemon.bolt_json(&["adaptor", "list"]);
    assert_eq!(list[0]["version"], "5.5.0");
    let refused = fails(&daemon.bolt(&["adaptor", "rm", "openmrs@5.5.0"]));
    assert!(refused.contains("pinned by deployed jobs"), "{refused}");
    assert!(
        refused.contains("workflow `WF` (job `Job sync`)"),
        "{refused}"
    );
    assert!(refused.contains("--force"), "{refused}");
    let (removed, _) = ok(&daemon.bolt(&["adaptor", "rm", "openmrs@5.5.0", "--force"]));
    assert!(
        removed.contains("removed @openfn/language-openmrs@5.5.0"),
        "{removed}"
    );
    assert_nothing_installed(daemon.data_dir(), "rm --force");
    assert_eq!(
        audited(&daemon),
        [
            "adaptor.installed @openfn/language-openmrs@5.5.0",
            "adaptor.removed @openfn/language-openmrs@5.5.0"
        ]
    );
}

// --- a mock registry: every failure leaves nothing installed -------------------------

fn scoped(short: &str, version: &str) -> MockPackage {
    MockPackage::new(&format!("@openfn/language-{short}"), version)
}

#[test]
fn install_errors_are_specific_and_leave_nothing_installed() {
    let marker = Path::new("/tmp/bolt-must-never-run-install-scripts");
    let _ = std::fs::remove_file(marker);
    let registry = MockRegistry::start(&[
        scoped("x", "1.0.0"),
        scoped("x", "1.1.0"),
        MockPackage {
            wrong_integrity: true,
            ..scoped("tampered", "1.0.0")
        },
        MockPackage {
            corrupt: true,
            ..scoped("garbled", "1.0.0")
        },
        scoped("needs-bad", "1.0.0").dep("bad-dep", "^1.0.0"),
        MockPackage {
            wrong_integrity: true,
            ..MockPackage::new("bad-dep", "1.0.0")
        },
        scoped("needs-missing", "1.0.0").dep("missing-dep", "^2.0.0"),
        MockPackage::new("missing-dep", "1.4.0"),
    ]);
    let data = tempfile::tempdir().expect("temp");
    let add = |spec: &str, registry: &str| {
        direct(
            data.path(),
            &["adaptor", "add", spec, "--registry", registry],
        )
    };
    let url = registry.url.as_str();
    let cases: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "nope@1.0.0",
            url,
            vec![format!(
                "the registry {url} has no package named @openfn/language-nope"
            )],
        ),
        (
            "x@9.9.9",
            url,
            vec![format!(
                "the registry {url} has no @openfn/language-x version 9.9.9; nearest versions: 1.0.0, 1.1.0"
            )],
        ),
        (
            "tampered@1.0.0",
            url,
            vec![
                "@openfn/language-tampered@1.0.0 failed its integrity check".into(),
                "expected sha512-".into(),
                ", got sha512-".into(),
                "nothing was installed".into(),
            ],
        ),
        (
            "garbled@1.0.0",
            url,
            vec![
                "@openfn/language-garbled@1.0.0: not a valid npm package tarball".into(),
                "nothing was installed".into(),
            ],
        ),
        (
            "needs-bad@1.0.0",
            url,
            vec!["bad-dep@1.0.0 failed its integrity check".into()],
        ),
        (
            "needs-missing@1.0.0",
            url,
            vec![
                "@openfn/language-needs-missing@1.0.0 needs missing-dep@^2.0.0".into(),
                "nearest: 1.4.0".into(),
            ],
        ),
        (
            "x@1.0.0",
            UNREACHABLE,
            vec![
                format!("cannot reach the npm registry at {UNREACHABLE}"),
                "--from-file".into(),
            ],
        ),
    ];
    for (spec, registry, says) in cases {
        let stderr = fails(&add(spec, registry));
        for expected in says {
            assert!(stderr.contains(&expected), "{spec}: {stderr}");
        }
        assert_nothing_installed(data.path(), spec);
    }
    // Several at once: every tree is resolved before anything installs.
    let stderr = fails(&direct(
        data.path(),
        &["adaptor", "add", "x@1.0.0", "nope@1.0.0", "--registry", url],
    ));
    assert!(stderr.contains("@openfn/language-nope"), "{stderr}");
    assert_nothing_installed(data.path(), "x and nope");
    // A good one installs; install scripts never run.
    ok(&add("x", url));
    assert_eq!(on_disk(data.path()).0, ["@openfn/language-x@1.1.0"]);
    assert!(!marker.exists(), "an install script ran");
    // Through boltd, the same error reaches the client.
    let daemon = Daemon::start();
    let stderr = fails(&daemon.bolt(&["adaptor", "add", "nope@1.0.0", "--registry", url]));
    assert!(
        stderr.contains("has no package named @openfn/language-nope"),
        "{stderr}"
    );
    assert_nothing_installed(daemon.data_dir(), "through boltd");
}

#[test]
fn a_bundle_installs_offline_and_a_tampered_one_is_refused() {
    let registry = MockRegistry::start(&[
        scoped("x", "1.0.0")
            .dep("dep-a", "^1.0.0")
            .dep("@openfn/language-common", "3.3.5"),
        MockPackage::new("dep-a", "1.0.0"),
        MockPackage::new("dep-a", "1.2.0").dep("dep-b", "~2.1"),
        MockPackage::new("dep-b", "2.1.7"),
        scoped("common", "3.3.4"),
    ]);
    let work = tempfile::tempdir().expect("temp");
    let bundle = work.path().join("x.bundle");
    let bundle_path = bundle.display().to_string();
    let (stdout, _) = ok(&direct(
        work.path(),
        &[
            "adaptor",
            "bundle",
            "x@1.0.0",
            "-o",
            &bundle_path,
            "--registry",
            &registry.url,
        ],
    ));
    assert!(stdout.contains("wrote"), "{stdout}");
    assert!(stdout.contains("3 packages"), "{stdout}");
    // Bundling installs nothing.
    assert_nothing_installed(work.path(), "bundle");
    let online_note = format!(
        "the registry {} has no @openfn/language-common matching 3.3.5",
        registry.url
    );
    drop(registry);

    let offline = tempfile::tempdir().expect("temp");
    let (stdout, _) = ok(&direct(
        offline.path(),
        &[
            "adaptor",
            "add",
            "--from-file",
            &bundle_path,
            "--registry",
            UNREACHABLE,
        ],
    ));
    assert!(
        stdout.contains("installed @openfn/language-x@1.0.0 (3 packages)"),
        "{stdout}"
    );
    let list = json(&direct(offline.path(), &["adaptor", "list", "--json"]));
    assert_eq!(list[0]["source"], "file:x.bundle");
    assert_eq!(list[0]["common"]["source"], "built_in");
    let note = list[0]["common"]["note"].as_str().expect("note");
    assert!(note.contains(&online_note), "{note}");
    let root = offline.path().join("adaptors/@openfn/language-x@1.0.0");
    assert_eq!(version_in(&root, "node_modules/dep-a"), "1.2.0");
    assert_eq!(version_in(&root, "node_modules/dep-b"), "2.1.7");

    // One flipped byte inside a packed tarball: the bundle's integrity catches it.
    let mut bytes = std::fs::read(&bundle).expect("bundle");
    let at = bytes
        .windows(3)
        .position(|w| w == [0x1f, 0x8b, 0x08])
        .expect("a tarball in the bundle");
    bytes[at + 40] ^= 0xff;
    let tampered = work.path().join("tampered.bundle");
    std::fs::write(&tampered, bytes).expect("write");
    let other = tempfile::tempdir().expect("temp");
    let stderr = fails(&direct(
        other.path(),
        &[
            "adaptor",
            "add",
            "--from-file",
            &tampered.display().to_string(),
            "--registry",
            UNREACHABLE,
        ],
    ));
    assert!(stderr.contains("failed its integrity check"), "{stderr}");
    assert!(stderr.contains("tampered.bundle"), "{stderr}");
    assert_nothing_installed(other.path(), "tampered bundle");
}

#[test]
fn npm_pack_tarballs_install_with_their_dependencies_and_no_registry() {
    let work = tempfile::tempdir().expect("temp");
    let adaptor = scoped("x", "2.0.0").dep("helper", "^1.0.0");
    let helper = MockPackage::new("helper", "1.3.0");
    let x = adaptor.pack_into(work.path()).display().to_string();
    let h = helper.pack_into(work.path()).display().to_string();
    // Without the helper's tarball and no registry, the error names what is missing.
    let data = tempfile::tempdir().expect("temp");
    let stderr = fails(&direct(
        data.path(),
        &[
            "adaptor",
            "add",
            "--from-file",
            &x,
            "--registry",
            UNREACHABLE,
        ],
    ));
    assert!(stderr.contains("needs helper@^1.0.0"), "{stderr}");
    assert!(stderr.contains("is not in the given files"), "{stderr}");
    assert!(stderr.contains(UNREACHABLE), "{stderr}");
    assert_nothing_installed(data.path(), "missing dependency");
    // With both files: the adaptor (the one nothing else depends on) and its helper.
    let (stdout, _) = ok(&direct(
        data.path(),
        &[
            "adaptor",
            "add",
            "--from-file",
            &x,
            &h,
            "--registry",
            UNREACHABLE,
        ],
    ));
    assert!(
        stdout.contains("installed @openfn/language-x@2.0.0 (2 packages)"),
        "{stdout}"
    );
    assert_eq!(on_disk(data.path()).0, ["@openfn/language-x@2.0.0"]);
    let root = data.path().join("adaptors/@openfn/language-x@2.0.0");
    assert_eq!(version_in(&root, "node_modules/helper"), "1.3.0");
    let list = json(&direct(data.path(), &["adaptor", "list", "--json"]));
    assert_eq!(list[0]["source"], "file:openfn-language-x-2.0.0.tgz");
    assert_eq!(list[0]["common"]["source"], "built_in");

    // Through boltd, boltd reads the files; a path it cannot read is named.
    let daemon = Daemon::start();
    let (stdout, _) = ok(&daemon.bolt(&[
        "adaptor",
        "add",
        "--from-file",
        &x,
        &h,
        "--registry",
        UNREACHABLE,
    ]));
    assert!(
        stdout.contains("installed @openfn/language-x@2.0.0"),
        "{stdout}"
    );
    let stderr = fails(&daemon.bolt(&["adaptor", "add", "--from-file", "/nonexistent/x.tgz"]));
    assert!(
        stderr.contains("boltd cannot read /nonexistent/x.tgz"),
        "{stderr}"
    );
}

#[test]
fn deploy_installs_what_is_missing_resolves_latest_and_records_it() {
    let registry = MockRegistry::start(&[
        scoped("x", "1.0.0"),
        scoped("x", "1.1.0"),
        scoped("common", "2.1.1"),
    ]);
    let daemon = Daemon::start_with(&[("npm_config_registry", registry.url.as_str())]);
    let yaml = project(
        "auto",
        &[
            ("a", "x@latest"),
            ("b", "@openfn/language-common@2.1.1"),
            ("c", "@openfn/language-common@3.3.4"),
        ],
    );
    let file = write_project(daemon.data_dir(), &yaml);
    let (stdout, stderr) = ok(&daemon.bolt(&["deploy", &file]));
    assert!(
        stdout.contains("adaptor x@latest → @openfn/language-x@1.1.0: installed now"),
        "{stdout}"
    );
    assert!(
        stdout.contains("adaptor @openfn/language-common@2.1.1: installed now"),
        "{stdout}"
    );
    assert!(!stdout.contains("3.3.4"), "{stdout}");
    assert!(stderr.contains("installed 1 package"), "{stderr}");
    let installed: Vec<String> = daemon
        .bolt_json(&["adaptor", "list"])
        .as_array()
        .expect("list")
        .iter()
        .map(|a| {
            format!(
                "{}@{}",
                a["name"].as_str().unwrap_or(""),
                a["version"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        installed,
        ["@openfn/language-common@2.1.1", "@openfn/language-x@1.1.0"]
    );
    // Export keeps what the user wrote; the resolution is recorded with the job: rm knows.
    let (exported, _) = ok(&daemon.bolt(&["export"]));
    assert!(exported.contains("x@latest"), "{exported}");
    let refused = fails(&daemon.bolt(&["adaptor", "rm", "@openfn/language-x@1.1.0"]));
    assert!(refused.contains("(job `Job a`)"), "{refused}");
    // Deploying the same file again changes nothing.
    let report = daemon.bolt_json(&["deploy", &file]);
    assert_eq!(report["changes"], serde_json::json!([]));
    let adaptors = report["adaptors"].as_array().expect("adaptors");
    let x = adaptors
        .iter()
        .find(|a| a["adaptor"] == "x@latest")
        .expect("x");
    assert_eq!(x["resolved"], "@openfn/language-x@1.1.0");
    assert_eq!(x["status"], "installed");
    // Without resolving again (--no-install), the recorded version stays: nothing changes.
    let report = daemon.bolt_json(&["deploy", &file, "--no-install"]);
    assert_eq!(report["changes"], serde_json::json!([]));
    let refused = fails(&daemon.bolt(&["adaptor", "rm", "@openfn/language-x@1.1.0"]));
    assert!(refused.contains("(job `Job a`)"), "{refused}");
}

#[test]
fn no_install_and_offline_deploys_apply_and_warn_with_the_commands() {
    let registry = MockRegistry::start(&[scoped("y", "1.0.0")]);
    let yaml = project(
        "later",
        &[("a", "y@1.0.0"), ("b", "@openfn/language-common@2.0.0")],
    );
    let daemon = Daemon::start_with(&[("npm_config_registry", registry.url.as_str())]);
    let file = write_project(daemon.data_dir(), &yaml);
    let (stdout, stderr) = ok(&daemon.bolt(&["deploy", &file, "--no-install"]));
    assert!(
        stderr.contains("job `WF / Job a` uses y@1.0.0, which is not installed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`bolt adaptor add @openfn/language-y@1.0.0`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("until it is, the job runs on bolt's built-in common 3.3.4"),
        "{stderr}"
    );
    assert!(stdout.contains("NOT installed"), "{stdout}");
    assert!(stdout.contains("applied"), "{stdout}");
    assert_eq!(
        daemon.bolt_json(&["adaptor", "list"]),
        serde_json::json!([])
    );
    assert_eq!(registry.hits.load(std::sync::atomic::Ordering::SeqCst), 0);

    let offline = Daemon::start_with(&[("npm_config_registry", UNREACHABLE)]);
    let file = write_project(offline.data_dir(), &yaml);
    let (stdout, stderr) = ok(&offline.bolt(&["deploy", &file]));
    assert!(stdout.contains("applied"), "{stdout}");
    assert!(
        stderr.contains(&format!("cannot reach the npm registry at {UNREACHABLE}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("`bolt adaptor add @openfn/language-y@1.0.0`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`bolt adaptor bundle @openfn/language-y@1.0.0 -o y-1.0.0.bundle`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`bolt adaptor add --from-file y-1.0.0.bundle`"),
        "{stderr}"
    );
    let workflows = offline.bolt_json(&["workflows"]);
    assert_eq!(workflows.as_array().map(Vec::len), Some(1));
}

#[test]
fn two_installs_at_once_take_turns() {
    let registry = MockRegistry::start(&[
        scoped("x", "1.0.0").dep("a", "1").dep("b", "1"),
        MockPackage::new("a", "1.0.0"),
        MockPackage::new("b", "1.0.0"),
    ]);
    *registry.tarball_delay.lock().expect("delay") = std::time::Duration::from_millis(300);
    let data = tempfile::tempdir().expect("temp");
    let spawn = || {
        Command::new(bin("bolt"))
            .arg("--data-dir")
            .arg(data.path())
            .arg("--socket")
            .arg(data.path().join("run/none.sock"))
            .args(["adaptor", "add", "x@1.0.0", "--registry", &registry.url])
            .env_remove("BOLT_CONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn bolt")
    };
    let first = spawn();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let second = spawn();
    let outputs = [
        first.wait_with_output().expect("first"),
        second.wait_with_output().expect("second"),
    ];
    let stdouts: Vec<String> = outputs.iter().map(|o| ok(o).0).collect();
    let installed = stdouts
        .iter()
        .filter(|s| s.contains("installed @openfn/language-x@1.0.0"))
        .count();
    let already = stdouts
        .iter()
        .filter(|s| s.contains("already installed"))
        .count();
    assert_eq!((installed, already), (1, 1), "{stdouts:?}");
    assert_eq!(
        on_disk(data.path()),
        (vec!["@openfn/language-x@1.0.0".to_string()], vec![])
    );
}

#[test]
fn a_registry_that_needs_a_login_takes_credentials_in_its_url_and_never_shows_them() {
    let registry = MockRegistry::start(&[
        scoped("x", "1.0.0").dep("dep-a", "1"),
        MockPackage::new("dep-a", "1.0.0"),
    ]);
    // "reader:s3cret-token" in base64.
    *registry.required_auth.lock().expect("auth") =
        Some("Basic cmVhZGVyOnMzY3JldC10b2tlbg==".into());
    let data = tempfile::tempdir().expect("temp");
    let stderr = fails(&direct(
        data.path(),
        &["adaptor", "add", "x@1.0.0", "--registry", &registry.url],
    ));
    assert!(stderr.contains("refused access (HTTP 401)"), "{stderr}");
    assert_nothing_installed(data.path(), "no credentials");
    let with_login = registry
        .url
        .replace("http://", "http://reader:s3cret-token@");
    let out = direct(
        data.path(),
        &["adaptor", "add", "x@1.0.0", "--registry", &with_login],
    );
    let (stdout, stderr) = ok(&out);
    assert!(
        stdout.contains("installed @openfn/language-x@1.0.0 (2 packages)"),
        "{stdout}"
    );
    let (listing, _) = ok(&direct(data.path(), &["adaptor", "list", "--json"]));
    for text in [&stdout, &stderr, &listing] {
        assert!(!text.contains("s3cret"), "{text}");
    }
    let manifest = std::fs::read_to_string(
        data.path()
            .join("adaptors/@openfn/language-x@1.0.0/bolt-adaptor.json"),
    )
    .expect("manifest");
    assert!(!manifest.contains("s3cret"), "{manifest}");
    assert!(listing.contains("http://***@127.0.0.1"), "{listing}");
}
