//! Helpers for end-to-end tests: real `boltd` processes on temp data dirs and sockets, the
//! real `bolt` binary, real HTTP on 127.0.0.1. The benchmarks start their daemons with the
//! same [`Daemon`].

pub mod adaptors;
pub mod binaries;
pub mod daemon;
pub mod disk;
pub mod http;
pub mod mock_registry;
pub mod proxy;
pub mod store;
pub mod tls;
pub mod tmux;
pub mod users;

pub use adaptors::install_npm_adaptor;
pub use binaries::bin;
pub use daemon::{Daemon, Options, Program, boltd_refusal};
pub use http::{HttpReply, http};
pub use proxy::TcpProxy;
pub use store::{ScratchDatabase, on_postgres, sqlite_only};
pub use users::{UnixUser, is_root, unix_user};

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

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

/// Asks `found` every 50 ms until it gives a value; past `within` the test fails, saying
/// that `what` did not happen.
pub fn wait_until<T>(what: &str, within: Duration, found: impl FnMut() -> Option<T>) -> T {
    poll(within, found).unwrap_or_else(|| panic!("{what} did not happen within {within:?}"))
}

/// `found`'s first value within `within`, asked every 50 ms.
pub(crate) fn poll<T>(within: Duration, mut found: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = found() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
