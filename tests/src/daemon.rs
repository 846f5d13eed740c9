//! A real boltd on a temp data dir, its socket and a loopback port, started, asked,
//! restarted, stopped and killed as an operator would: for the end-to-end tests and the
//! benchmarks alike.

use crate::binaries::bin;
use crate::http::{HttpReply, http};
use crate::store::ScratchDatabase;
use anyhow::{Context, anyhow, bail, ensure};
use bolt_shared::client::Client;
use bolt_shared::model::*;
use bolt_shared::protocol::{Request, Response};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// What runs boltd, if not the workspace's `boltd`.
    program: Option<Program>,
    /// The PostgreSQL database boltd keeps its records in (see `store.rs`); None: SQLite.
    store: Option<Arc<ScratchDatabase>>,
    /// The URL boltd is given for `store`, when not the database's own.
    store_url: Option<String>,
}

/// A program that runs boltd, and the arguments before boltd's own: the benchmarks run
/// boltd as their own binary's `daemon` subcommand.
#[derive(Clone, Debug)]
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<OsString>,
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
    /// Default: the workspace's `boltd` ([`bin`]).
    pub program: Option<Program>,
    /// A PostgreSQL database to keep the records in (several daemons may share one: a
    /// cluster). Default: a fresh one of its own when the suite runs on PostgreSQL
    /// ([`crate::on_postgres`]), else SQLite in the data dir.
    pub store: Option<Arc<ScratchDatabase>>,
    /// The URL boltd is given for `store` instead of the database's own: the same database
    /// through a [`crate::TcpProxy`].
    pub store_url: Option<String>,
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
        Self::launch(dir, options).unwrap_or_else(|err| panic!("{err:#}"))
    }

    /// [`Daemon::start_with_options`] that says why boltd did not start instead of
    /// panicking (for the benchmarks).
    pub fn launch(dir: tempfile::TempDir, options: Options) -> anyhow::Result<Daemon> {
        let data = options.data_dir.unwrap_or_else(|| dir.path().to_path_buf());
        let socket = options
            .socket
            .unwrap_or_else(|| data.join("run/boltd.sock"));
        let store = match options.store {
            Some(store) => Some(store),
            None if crate::on_postgres() => ScratchDatabase::create().map(Arc::new),
            None => None,
        };
        let mut daemon = Daemon {
            dir,
            socket,
            http: String::new(),
            child: None,
            env: options.env,
            data,
            stderr: options.stderr,
            program: options.program,
            store,
            store_url: options.store_url,
        };
        daemon.try_restart()?;
        Ok(daemon)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The PostgreSQL database this boltd uses, if not SQLite (to start more nodes on it).
    pub fn store(&self) -> Option<Arc<ScratchDatabase>> {
        self.store.clone()
    }

    /// (Re)starts boltd on the same data dir and waits until it answers.
    pub fn restart(&mut self) {
        self.try_restart().unwrap_or_else(|err| panic!("{err:#}"));
    }

    fn try_restart(&mut self) -> anyhow::Result<()> {
        let child = self.try_spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut client) = Client::connect(&self.socket) {
                let status = client.status().context("boltd's status")?;
                self.http = status
                    .http_listen
                    .ok_or_else(|| anyhow!("boltd has no webhook server"))?;
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!("boltd exited early: {status}");
            }
            ensure!(Instant::now() < deadline, "boltd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts another boltd process on this data dir without waiting (for refusal tests).
    pub fn spawn(&self) -> Child {
        self.try_spawn().unwrap_or_else(|err| panic!("{err:#}"))
    }

    fn try_spawn(&self) -> anyhow::Result<Child> {
        let mut command = match &self.program {
            Some(program) => {
                let mut command = Command::new(&program.path);
                command.args(&program.args);
                command
            }
            None => Command::new(bin("boltd")),
        };
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--socket")
            .arg(&self.socket)
            .arg("--http")
            .arg("127.0.0.1:0")
            .env_remove("BOLT_CONFIG")
            .env_remove("BOLT_STORE_URL")
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
        if let Some(store) = &self.store {
            command
                .arg("--store")
                .arg(self.store_url.as_deref().unwrap_or(&store.url));
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.spawn().context("spawn boltd")
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

    /// Posts `body` to the webhook `path`, which must acknowledge it, and waits for the work
    /// order to finish.
    pub fn post_and_wait(&self, path: &str, body: &str) -> WorkOrderView {
        self.wait_work_order(&self.post_work_order(path, body))
    }

    /// Posts `body` to the webhook `path`, which must acknowledge it; the work order's id.
    pub fn post_work_order(&self, path: &str, body: &str) -> String {
        let reply = self.post(path, body);
        assert_eq!(reply.status, 200, "POST {path}: {}", reply.body);
        reply.work_order_id()
    }

    /// Waits until `found` gives a value (asked every 50 ms); past `within` the test fails,
    /// saying that `what` did not happen, with boltd's log.
    pub fn wait_until<T>(
        &self,
        what: &str,
        within: Duration,
        found: impl FnMut() -> Option<T>,
    ) -> T {
        crate::poll(within, found).unwrap_or_else(|| {
            panic!(
                "{what} did not happen within {within:?}; boltd's log:\n{}",
                self.log()
            )
        })
    }

    /// The shell command that starts the real `bolt` against this daemon (for tmux).
    pub fn bolt_command_line(&self) -> String {
        format!(
            "{} --socket {}",
            bin("bolt").display(),
            self.socket.display()
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

    /// A connection to boltd's store, whichever it is (SQLite's file in the data dir or
    /// the PostgreSQL database): for checks of what was stored.
    pub fn database(&self) -> Box<dyn bolt_sql::Db> {
        match &self.store {
            Some(store) => Box::new(store.connect()),
            None => Box::new(
                rusqlite::Connection::open(self.data.join("bolt.db")).expect("open bolt.db"),
            ),
        }
    }

    /// What the store holds: SQLite's file bytes (WAL included), or on PostgreSQL the text
    /// of every row of every table ([`ScratchDatabase::stored_text`]). For "secret never
    /// stored" checks.
    pub fn database_bytes(&self) -> Vec<u8> {
        if let Some(store) = &self.store {
            return store.stored_text().into_bytes();
        }
        let mut bytes = Vec::new();
        for name in ["bolt.db", "bolt.db-wal"] {
            if let Ok(mut file) = std::fs::File::open(self.data.join(name)) {
                let _ = file.read_to_end(&mut bytes);
            }
        }
        bytes
    }
}

impl Daemon {
    /// Starts boltd with `bolt.toml` holding `config`, in a fresh temp dir.
    pub fn start_with_config(config: &str) -> Daemon {
        Self::start_with_config_and_env(config, &[])
    }

    /// [`Daemon::start_with_config`] with more environment for boltd.
    pub fn start_with_config_and_env(config: &str, env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bolt.toml");
        std::fs::write(&path, config).expect("write bolt.toml");
        let mut all = vec![(
            "BOLT_CONFIG".to_string(),
            path.to_string_lossy().into_owned(),
        )];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Self::start_with_options(
            dir,
            Options {
                env: all,
                ..Options::default()
            },
        )
    }

    /// The bolt.toml [`Daemon::start_with_config`] wrote.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("bolt.toml")
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
