//! Helpers for end-to-end tests: real `boltd` processes on temp data dirs and sockets, the
//! real `bolt` binary, real HTTP on 127.0.0.1.

pub mod mock_registry;
pub mod tmux;

use bolt_shared::client::Client;
use bolt_shared::model::*;
use bolt_shared::protocol::{Request, Response};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A binary of this workspace, built next to the test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run the tests with `cargo test --workspace`",
        path.display()
    );
    path
}

/// A `bolt` command's stdout, once it succeeded (else the test fails with both outputs).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "bolt failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub http: String,
    child: Option<Child>,
    env: Vec<(String, String)>,
    /// The data dir: the temp dir itself unless [`Options::data_dir`] said otherwise.
    data: PathBuf,
    /// What boltd's stderr is, if not `boltd.log` in the temp dir.
    stderr: Option<fn() -> Stdio>,
}

/// How [`Daemon::start_with_options`] starts boltd.
#[derive(Default)]
pub struct Options {
    pub env: Vec<(String, String)>,
    /// Default: the temp dir.
    pub data_dir: Option<PathBuf>,
    /// Default: `<data dir>/run/boltd.sock`.
    pub socket: Option<PathBuf>,
    /// Default: `boltd.log` in the temp dir (a file, not a pipe nobody reads).
    pub stderr: Option<fn() -> Stdio>,
}

impl Daemon {
    /// Starts a fresh boltd on a temp dir, webhooks on an ephemeral loopback port.
    pub fn start() -> Daemon {
        Self::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_with_options(
            dir,
            Options {
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Options::default()
            },
        )
    }

    /// Starts boltd in `dir` (which the daemon keeps, and removes when dropped).
    pub fn start_with_options(dir: tempfile::TempDir, options: Options) -> Daemon {
        let data = options.data_dir.unwrap_or_else(|| dir.path().to_path_buf());
        let socket = options
            .socket
            .unwrap_or_else(|| data.join("run/boltd.sock"));
        let mut daemon = Daemon {
            dir,
            socket,
            http: String::new(),
            child: None,
            env: options.env,
            data,
            stderr: options.stderr,
        };
        daemon.restart();
        daemon
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// (Re)starts boltd on the same data dir and waits until it answers.
    pub fn restart(&mut self) {
        let child = self.spawn();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut client) = Client::connect(&self.socket) {
                let status = client.status().expect("status");
                self.http = status.http_listen.expect("webhook server address");
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("boltd exited early: {status}");
            }
            assert!(Instant::now() < deadline, "boltd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts another boltd process on this data dir without waiting (for refusal tests).
    pub fn spawn(&self) -> Child {
        let mut command = Command::new(bin("boltd"));
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--socket")
            .arg(&self.socket)
            .arg("--http")
            .arg("127.0.0.1:0")
            .env_remove("BOLT_CONFIG")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            // A file, not a pipe nobody reads: a full pipe would block the daemon's logging.
            .stderr(match self.stderr {
                Some(stderr) => stderr(),
                None => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.log_path())
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            });
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.spawn().expect("spawn boltd")
    }

    /// Where boltd's stderr goes by default.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("boltd.log")
    }

    /// boltd's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket).expect("connect to boltd")
    }

    pub fn request(&self, request: Request) -> Response {
        self.client().request(request).expect("request")
    }

    /// Runs the real `bolt` binary against this daemon.
    pub fn bolt(&self, args: &[&str]) -> Output {
        self.bolt_with_stdin(args, None)
    }

    pub fn bolt_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(bin("bolt"))
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .env_remove("BOLT_CONFIG")
            .env_remove("BOLT_DATA_DIR")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn bolt");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("bolt output")
    }

    /// `bolt ARGS --json`, parsed; panics with stderr when it fails.
    pub fn bolt_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.bolt(&all);
        assert!(
            out.status.success(),
            "bolt {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "bolt {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    pub fn deploy(&self, yaml_path: &Path) {
        let out = self.bolt(&["deploy", yaml_path.to_str().expect("utf-8 path")]);
        assert!(
            out.status.success(),
            "deploy failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes a project file into the data dir's parent and deploys it.
    pub fn deploy_text(&self, yaml: &str) -> PathBuf {
        let path = self.dir.path().join("project.yaml");
        std::fs::write(&path, yaml).expect("write project");
        self.deploy(&path);
        path
    }

    pub fn post(&self, path: &str, body: &str) -> HttpReply {
        http(
            &self.http,
            "POST",
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    }

    /// Waits until the work order reaches a final state and returns its view.
    pub fn wait_work_order(&self, id: &str) -> WorkOrderView {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let view = self.show(id);
            let settled = view.row.state.is_final() && view.runs.iter().all(|r| r.state.is_final());
            if settled {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "work order {id} did not finish: {:?}",
                view.row.state
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn show(&self, reference: &str) -> WorkOrderView {
        match self.request(Request::Show {
            reference: reference.to_string(),
            bodies: true,
        }) {
            Response::Shown(shown) => shown.work_order,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn list(
        &self,
        filter: WorkOrderFilter,
        limit: u32,
        after: Option<String>,
    ) -> WorkOrderPage {
        match self.request(Request::ListWorkOrders {
            filter,
            limit,
            after,
        }) {
            Response::WorkOrders(page) => page,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("running")
    }

    /// SIGKILL: no cleanup at all, as in a power cut or OOM kill.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait: a graceful stop.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        child.wait().expect("wait boltd")
    }

    /// Waits for boltd to exit on its own (after `bolt stop`); panics past `within`.
    pub fn wait_exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().expect("wait boltd") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                panic!("boltd did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Reads the SQLite file's bytes (WAL included): for "secret never stored" checks.
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for name in ["bolt.db", "bolt.db-wal"] {
            if let Ok(mut file) = std::fs::File::open(self.data.join(name)) {
                let _ = file.read_to_end(&mut bytes);
            }
        }
        bytes
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs boltd with `args` (plus `--http 127.0.0.1:0`) until it exits on its own, as it
/// does when it refuses to start; panics if it is still running after 20 s. Returns its
/// exit status and stderr.
pub fn boltd_refusal(args: &[&std::ffi::OsStr]) -> (std::process::ExitStatus, String) {
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let mut child = Command::new(bin("boltd"))
        .args(args)
        .arg("--http")
        .arg("127.0.0.1:0")
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_ENCRYPTION_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log.reopen().expect("reopen temp file")))
        .spawn()
        .expect("spawn boltd");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait boltd") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "boltd did not refuse to start: {}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        std::fs::read_to_string(log.path()).unwrap_or_default(),
    )
}

/// Whether the tests run as root (needed to mount a small filesystem or act as another
/// user); tests that need it print a notice and pass when not.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP request to the server under test (ureq; 4xx and 5xx are answers, not errors).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpReply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body.to_vec()).expect("a well-formed request");
    let mut response = agent
        .run(request)
        .unwrap_or_else(|err| panic!("{method} http://{addr}{path}: {err}"));
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    HttpReply {
        status: response.status().as_u16(),
        headers,
        body,
    }
}

/// Installs an npm adaptor package (with its dependency tree) into a data dir, in the
/// layout boltd's engine reads (`daemon/engine/src/adaptors/installed.rs`), with `npm
/// install --ignore-scripts`. Stands in for `bolt adaptor add` in tests.
pub fn install_npm_adaptor(data_dir: &Path, name: &str, version: &str) {
    let root = data_dir.join("adaptors").join(format!("{name}@{version}"));
    std::fs::create_dir_all(&root).expect("create the install root");
    let status = Command::new("npm")
        .args([
            "install",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(&root)
        .arg(format!("{name}@{version}"))
        .stdout(Stdio::null())
        .status()
        .expect("run npm (Node.js and npm are needed for this test)");
    assert!(status.success(), "npm install {name}@{version} failed");
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

/// A Unix user the tests create (as root) to run `bolt` as someone other than boltd's
/// user. [`unix_user`] returns `None`, after printing why, when that can't be done.
pub struct UnixUser {
    pub name: String,
}

/// Creates (or reuses) the system user `name`, a member of `groups` (created too). `None` with a printed notice when the tests don't run as root or the system
/// lacks useradd/groupadd/setpriv.
pub fn unix_user(name: &str, groups: &[&str]) -> Option<UnixUser> {
    if !is_root() {
        eprintln!("notice: skipped: acting as another Unix user needs root");
        return None;
    }
    for tool in ["useradd", "groupadd", "setpriv"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            eprintln!("notice: skipped: {tool} is not installed");
            return None;
        }
    }
    // /etc/passwd and /etc/group are locked while another test edits them: retry.
    let run = |args: &[&str]| {
        for _ in 0..50 {
            let out = Command::new(args[0])
                .args(&args[1..])
                .output()
                .expect("run a user tool");
            // 9: the name exists already (from an earlier test).
            if out.status.success() || out.status.code() == Some(9) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{args:?} kept failing");
    };
    for group in groups {
        run(&["groupadd", "-f", group]);
    }
    let groups = groups.join(",");
    run(&[
        "useradd",
        "--system",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "-G",
        &groups,
        name,
    ]);
    // An existing user from an earlier run may lack a group.
    run(&["usermod", "-a", "-G", &groups, name]);
    Some(UnixUser {
        name: name.to_string(),
    })
}

impl Daemon {
    /// Runs the real `bolt` as `user` (its uid, gid and groups), against this daemon.
    pub fn bolt_as(&self, user: &UnixUser, args: &[&str]) -> Output {
        let gid = Command::new("id")
            .args(["-g", &user.name])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .expect("the user's group");
        Command::new("setpriv")
            .arg(format!("--reuid={}", user.name))
            .arg(format!("--regid={gid}"))
            .arg("--init-groups")
            .arg("--")
            .arg(bin("bolt"))
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .env_remove("BOLT_CONFIG")
            .env_remove("BOLT_DATA_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            // Not root's home: the user can't read it (bolt would refuse its config dir).
            .env("HOME", "/nonexistent")
            .stdin(Stdio::null())
            .output()
            .expect("run bolt as another user")
    }

    /// Starts boltd with `bolt.toml` holding `config`, in a fresh temp dir.
    pub fn start_with_config(config: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bolt.toml");
        std::fs::write(&path, config).expect("write bolt.toml");
        let path = path.to_string_lossy().into_owned();
        Self::start_with_options(
            dir,
            Options {
                env: vec![("BOLT_CONFIG".into(), path)],
                ..Options::default()
            },
        )
    }

    /// The bolt.toml [`Daemon::start_with_config`] wrote.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("bolt.toml")
    }
}
