//! The built-ins evaluated in a QuickJS context set up like a job's (the prelude's sandbox
//! and `__bolt_host`), by test scripts in `tests/*.mjs` that import `node:x`/`x` as npm code
//! does. The same scripts run under real Node when it is installed, so every expected value
//! in them is Node's own answer.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod server;

use super::*;
use crate::CancelToken;
use crate::runtime::logs::LogRecord;
use crate::runtime::step::{StepRequest, install_sandbox};
use crate::runtime::warm;
use rquickjs::{AsyncContext, CatchResultExt, Function, Module, Promise};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a script may run before it counts as stalled.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(20);

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/node/tests")
}

/// What a script left behind: failed checks and the lines printed as adaptor output.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub failures: Vec<String>,
    pub printed: Vec<String>,
}

/// The script as the loader compiles an npm ES module: the module globals it reads are
/// imported from `bolt:node/globals`.
fn with_module_globals(source: &str) -> String {
    crate::packages::source::esm(source)
}

/// Runs `source` as an ES module named `name` (not the job module, so it may import
/// built-ins) after the harness, in a context prepared as for a step.
pub(crate) async fn run_script(name: &str, source: &str) -> Outcome {
    let harness = std::fs::read_to_string(scripts().join("harness.mjs")).unwrap();
    let warm = warm::take().await.unwrap();
    let context = AsyncContext::full(&warm.runtime).await.unwrap();
    let printed = Arc::new(Mutex::new(Vec::new()));
    let sink_lines = printed.clone();
    let request = StepRequest {
        step_id: "node-test".into(),
        code: String::new(),
        positions: None,
        operations: Vec::new(),
        input: serde_json::json!({}),
        immutable: false,
        remove_props: Vec::new(),
        timeout: Duration::from_secs(60),
        memory_bytes: 512 * 1024 * 1024,
        max_state_bytes: 1024 * 1024,
        packages: None,
        globals: None,
        cancel: CancelToken::new(),
        sink: Arc::new(move |record: LogRecord| {
            sink_lines.lock().unwrap().push(format!(
                "{}: {}",
                record.level.stored(),
                record.message()
            ));
        }),
    };
    let source = with_module_globals(source);
    let failures = context
        .async_with(async |ctx| {
            let deadline = Instant::now() + request.timeout;
            install_sandbox(&ctx, &request, deadline)
                .await
                .catch(&ctx)
                .unwrap();
            let report = |e: rquickjs::CaughtError| format!("{name}: {e}");
            ctx.globals().set("testServer", server::base_url()).unwrap();
            let promise = Module::evaluate(ctx.clone(), "node-test-harness.mjs", harness)
                .catch(&ctx)
                .map_err(report)?;
            promise
                .into_future::<()>()
                .await
                .catch(&ctx)
                .map_err(report)?;
            let promise: Promise = Module::evaluate(ctx.clone(), name, source)
                .catch(&ctx)
                .map_err(report)?;
            match tokio::time::timeout(SCRIPT_TIMEOUT, promise.into_future::<()>()).await {
                Ok(done) => done.catch(&ctx).map_err(report)?,
                Err(_) => {
                    let last: Function = ctx.globals().get("__lastCheck").unwrap();
                    let last: String = last.call(()).unwrap();
                    return Err(format!("{name}: stalled after the check {last:?}"));
                }
            }
            let failures: Function = ctx.globals().get("__failures").unwrap();
            let text: String = failures.call(()).unwrap();
            Ok::<_, String>(serde_json::from_str::<Vec<String>>(&text).unwrap())
        })
        .await
        .unwrap_or_else(|thrown| vec![thrown]);
    drop(context);
    let printed = printed.lock().unwrap().clone();
    Outcome { failures, printed }
}

/// Runs `tests/<file>` in bolt and asserts every check passed.
async fn run_file(file: &str) -> Outcome {
    let source = std::fs::read_to_string(scripts().join(file)).unwrap();
    let outcome = run_script(file, &source).await;
    assert!(
        outcome.failures.is_empty(),
        "{file} in bolt:\n{}\nwhat it printed:\n{}",
        outcome.failures.join("\n"),
        outcome.printed.join("\n")
    );
    outcome
}

/// Whether real Node agrees with every check in `tests/<file>` (skipped without `node`).
fn node_agrees(file: &str) {
    // A script that stalls under Node (a socket kept alive) fails instead of hanging.
    let Ok(output) = std::process::Command::new("timeout")
        .args(["--signal=KILL", "60", "node"])
        .arg("--no-deprecation")
        .arg("--import")
        .arg(scripts().join("harness.mjs"))
        .arg(scripts().join(file))
        .env("BOLT_TEST_SERVER", server::base_url())
        // bolt's working directory is `/`.
        .current_dir("/")
        .output()
    else {
        eprintln!("`timeout` is not installed: {file} checked in bolt only");
        return;
    };
    if output.status.code() == Some(127) {
        eprintln!("node is not installed: {file} checked in bolt only");
        return;
    }
    assert!(
        output.status.success(),
        "{file} under Node (killed after 60 s if it stalled):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A directory with these npm packages installed (once per test target), or `None` when npm
/// can't install them (offline): the Node side of a comparison is skipped then.
fn npm_packages(packages: &[&str]) -> Option<PathBuf> {
    let key: String = packages
        .join("+")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/node-test-packages")
        .join(key);
    let marker = dir.join("installed");
    if marker.exists() {
        return Some(dir);
    }
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::write(dir.join("package.json"), "{\"private\":true}").ok()?;
    let status = std::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent"])
        .args(packages)
        .current_dir(&dir)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::write(&marker, "").ok()?;
    Some(dir)
}

/// Whether real Node, with `packages` installed, agrees with every check in `tests/<file>`.
fn node_agrees_with(file: &str, packages: &[&str]) {
    let Some(dir) = npm_packages(packages) else {
        eprintln!("npm could not install {packages:?}: {file} checked in bolt only");
        return;
    };
    std::fs::copy(scripts().join(file), dir.join(file)).unwrap();
    let output = std::process::Command::new("node")
        .arg("--no-deprecation")
        .arg("--import")
        .arg(scripts().join("harness.mjs"))
        .arg(dir.join(file))
        .env("BOLT_TEST_SERVER", server::base_url())
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{file} under Node with {packages:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn undici() {
    run_file("undici.mjs").await;
    node_agrees_with("undici.mjs", &["undici@5"]);
    node_agrees_with("undici.mjs", &["undici@7"]);
}

macro_rules! node_script_tests {
    ($($test:ident => $file:literal,)*) => {
        mod scripts {
            use super::*;
            $(
                #[tokio::test]
                async fn $test() {
                    run_file($file).await;
                    node_agrees($file);
                }
            )*
        }
    };
}

node_script_tests! {
    events => "events.mjs",
    path => "path.mjs",
    buffer => "buffer.mjs",
    util => "util.mjs",
    url => "url.mjs",
    querystring => "querystring.mjs",
    string_decoder => "string_decoder.mjs",
    assert => "assert.mjs",
    timers => "timers.mjs",
    os_process => "os_process.mjs",
    stream => "stream.mjs",
    crypto => "crypto.mjs",
    zlib => "zlib.mjs",
    web => "web.mjs",
    fetch => "fetch.mjs",
    http => "http.mjs",
}

#[test]
fn refuses_processes_and_debuggers_but_loads_socket_modules_that_refuse_their_use() {
    for name in [
        "child_process",
        "node:worker_threads",
        "inspector",
        "readline/promises",
    ] {
        assert!(
            matches!(builtin(name), Some(Builtin::Unsupported { .. })),
            "{name}"
        );
    }
    assert!(matches!(
        builtin("node:not-a-module"),
        Some(Builtin::Unsupported { .. })
    ));
    assert_eq!(builtin("lodash"), None);
    assert_eq!(
        builtin("node:events"),
        Some(Builtin::Provided("node:events"))
    );
    assert_eq!(
        builtin("fs/promises"),
        Some(Builtin::Provided("node:fs/promises"))
    );
    assert_eq!(builtin("vm"), Some(Builtin::Provided("node:vm")));
    assert_eq!(replacement("undici"), Some("bolt:undici"));
    assert!(refused_package("pg").unwrap().contains("raw TCP sockets"));
    assert_eq!(refused_package("axios"), None);
}
