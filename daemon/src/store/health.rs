//! Whether the store takes writes.
//!
//! A write, commit or checkpoint that fails for the disk's sake (no space, an I/O error, a
//! read-only remount) or a failed `fdatasync` of the write-ahead log puts the store into
//! refusing writes: every
//! write is answered at once with [`Refusal`] (webhooks get 503), reads go on. The writer
//! then tries a small file write in the data dir every second; once one reaches the disk it
//! reopens the database (see the writer's module doc for why that is safe) and takes writes
//! again. `bolt status` shows all of it.

use bolt_shared::model::StoreHealth;
use chrono::{DateTime, Utc};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::watch;

/// Why the store refuses writes, for callers and for `bolt status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub since: DateTime<Utc>,
    /// What failed, with the operating system's words when known.
    pub reason: String,
    /// What the last test write got from the disk, if it failed.
    pub latest: Option<String>,
    /// What to do about it.
    pub advice: String,
}

impl Refusal {
    /// What failed, and what the disk says now.
    pub fn explain(&self) -> String {
        match &self.latest {
            Some(latest) => format!("{}; since then {latest}", self.reason),
            None => self.reason.clone(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "boltd is not storing anything since {}: {}; {}",
            self.since.format("%Y-%m-%d %H:%M:%S UTC"),
            self.explain(),
            self.advice
        )
    }
}

/// Where the store's writes go: what a refusal's advice points at.
#[derive(Debug, Clone)]
enum Place {
    /// SQLite's data dir: the probe is a test write there.
    DataDir(PathBuf),
    /// A PostgreSQL database (its URL without the password): the probe is a connection.
    Database(String),
}

/// A test write that shows whether the data dir's filesystem takes writes.
pub type Probe = Box<dyn Fn() -> std::io::Result<()> + Send + Sync>;

pub struct Health {
    place: Place,
    writable: AtomicBool,
    faults: AtomicU64,
    state: Mutex<State>,
    changes: watch::Sender<bool>,
    probe: Probe,
}

#[derive(Default)]
struct State {
    refusal: Option<Refusal>,
    last_probe: Option<DateTime<Utc>>,
}

impl Health {
    /// The health of a store in `data_dir`, probed by writing a file there.
    pub fn new(data_dir: &Path) -> Health {
        let dir = data_dir.to_path_buf();
        Self::with_probe(data_dir, Box::new(move || probe_disk(&dir)))
    }

    /// Like [`Health::new`] with another test write (tests decide when the "disk" is back).
    pub fn with_probe(data_dir: &Path, probe: Probe) -> Health {
        Health::at(Place::DataDir(data_dir.to_path_buf()), probe)
    }

    /// The health of a PostgreSQL store (`database`: its URL without the password), probed
    /// by `probe` (a fresh connection and a query).
    pub fn for_database(database: String, probe: Probe) -> Health {
        Health::at(Place::Database(database), probe)
    }

    fn at(place: Place, probe: Probe) -> Health {
        Health {
            place,
            writable: AtomicBool::new(true),
            faults: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            changes: watch::channel(true).0,
            probe,
        }
    }

    pub fn writable(&self) -> bool {
        self.writable.load(Ordering::Acquire)
    }

    /// Why writes are refused, or `None` while they are taken.
    pub fn refusal(&self) -> Option<Refusal> {
        if self.writable() {
            return None;
        }
        self.state.lock().ok().and_then(|s| s.refusal.clone())
    }

    /// How many times the store has stopped taking writes since boltd started. A run that
    /// saw this change may have lost some of its records.
    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::Acquire)
    }

    /// Stops taking writes because `what` failed with `error` (a SQLite or OS error in
    /// words). Only the first fault counts: later ones while refusing add nothing.
    pub fn refuse(&self, what: &str, error: &str, kind: FaultKind) {
        if !self.writable() {
            return;
        }
        // SQLite says only "disk full" or "I/O error": a test write gets the operating
        // system's own words for the reason.
        let os_words = if error.contains("os error") {
            None
        } else {
            (self.probe)().err()
        };
        let reason = match os_words {
            Some(os) => format!("{what}: {error}; a test write says: {os}"),
            None => format!("{what}: {error}"),
        };
        let advice = kind.advice(&self.place);
        let newly = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let newly = state.refusal.is_none();
            if newly {
                state.refusal = Some(Refusal {
                    since: Utc::now(),
                    reason: reason.clone(),
                    latest: None,
                    advice,
                });
            }
            newly
        };
        if newly {
            self.faults.fetch_add(1, Ordering::AcqRel);
            self.writable.store(false, Ordering::Release);
            self.changes.send_replace(false);
            match &self.place {
                Place::DataDir(dir) => tracing::error!(
                    data_dir = %dir.display(),
                    "{reason}: boltd refuses writes (webhooks get 503) until a test write reaches the disk again; it keeps serving reads and retries by itself"
                ),
                Place::Database(database) => tracing::error!(
                    %database,
                    "{reason}: boltd refuses writes (webhooks get 503) until the database answers again; it retries by itself"
                ),
            }
        }
    }

    /// Runs the test write; records when, and the operating system's answer if it failed.
    pub fn probe(&self) -> std::io::Result<()> {
        let result = (self.probe)();
        if let Ok(mut state) = self.state.lock() {
            state.last_probe = Some(Utc::now());
            if let (Err(err), Some(refusal)) = (&result, state.refusal.as_mut()) {
                match &self.place {
                    Place::DataDir(dir) => {
                        refusal.advice = FaultKind::of_io(err).advice(&self.place);
                        refusal.latest =
                            Some(format!("a test write in {} failed: {err}", dir.display()));
                    }
                    Place::Database(database) => {
                        refusal.latest = Some(format!("connecting to {database} failed: {err}"));
                    }
                }
            }
        }
        result
    }

    /// Takes writes again.
    pub fn resume(&self) {
        let back = match &self.place {
            Place::DataDir(_) => "a test write reached the disk",
            Place::Database(_) => "the database answers again",
        };
        let since = match self.state.lock() {
            Ok(mut state) => state.refusal.take().map(|r| r.since),
            Err(_) => None,
        };
        self.writable.store(true, Ordering::Release);
        self.changes.send_replace(true);
        if let Some(since) = since {
            let secs = (Utc::now() - since).num_seconds();
            tracing::warn!(
                refused_for_secs = secs,
                "the store takes writes again: {back}"
            );
        }
    }

    /// Tells of every change between taking and refusing writes.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.changes.subscribe()
    }

    /// Returns once the store takes writes (at once if it does).
    pub async fn until_writable(&self) {
        let mut changes = self.changes.subscribe();
        let _ = changes.wait_for(|writable| *writable).await.is_ok();
    }

    pub fn snapshot(&self) -> StoreHealth {
        let state = self.state.lock();
        let (refusal, last_probe) = match &state {
            Ok(state) => (state.refusal.clone(), state.last_probe),
            Err(_) => (None, None),
        };
        StoreHealth {
            writable: self.writable(),
            refusing_since: refusal.as_ref().map(|r| r.since),
            reason: refusal.as_ref().map(Refusal::explain),
            advice: refusal.map(|r| r.advice),
            last_probe,
            faults: self.faults(),
        }
    }
}

/// What kind of trouble the disk is in, for the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Full,
    ReadOnly,
    Io,
    /// The database server can't be reached (PostgreSQL down, network, too many clients).
    Unreachable,
}

impl FaultKind {
    pub fn of_io(err: &std::io::Error) -> FaultKind {
        use nix::libc;
        match err.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => FaultKind::Full,
            Some(libc::EROFS) => FaultKind::ReadOnly,
            _ => FaultKind::Io,
        }
    }

    fn advice(self, place: &Place) -> String {
        let dir = match place {
            Place::DataDir(dir) => dir.display().to_string(),
            Place::Database(database) if self == FaultKind::Unreachable => {
                return format!(
                    "check that the PostgreSQL server of {database} is up and reachable from this node (`psql` with the same URL tells); boltd reconnects by itself (no restart needed)"
                );
            }
            // The server's own disk, memory or I/O (its message says which).
            Place::Database(database) => {
                return format!(
                    "the PostgreSQL server of {database} could not store the write: free space on the disk of its data directory (or fix what its log reports); boltd tries again on a new connection every few seconds and takes writes by itself once one succeeds (no restart needed)"
                );
            }
        };
        let then = "boltd takes writes again by itself once a test write reaches the disk (no restart needed)";
        match self {
            FaultKind::Full => {
                format!("free space on the filesystem of {dir} (`df -h {dir}`); {then}")
            }
            FaultKind::ReadOnly => format!(
                "the filesystem of {dir} is read-only: find out why (`dmesg`) and remount it read-write; {then}"
            ),
            FaultKind::Io | FaultKind::Unreachable => format!(
                "the disk under {dir} reported an error: check it (`dmesg`, `smartctl`) and free space if it is full; {then}"
            ),
        }
    }
}

/// A SQLite error that comes from the disk rather than from the write itself, in words.
pub fn disk_fault(err: &rusqlite::Error) -> Option<(String, FaultKind)> {
    use rusqlite::ErrorCode;
    let rusqlite::Error::SqliteFailure(failure, message) = err else {
        return None;
    };
    let kind = match failure.code {
        ErrorCode::DiskFull => FaultKind::Full,
        ErrorCode::ReadOnly => FaultKind::ReadOnly,
        ErrorCode::SystemIoFailure | ErrorCode::CannotOpen => FaultKind::Io,
        _ => return None,
    };
    let text = match kind {
        FaultKind::Full => "the disk is full (SQLite: database or disk is full)".into(),
        _ => format!(
            "{} (SQLite error {})",
            message.as_deref().unwrap_or("disk I/O error"),
            failure.extended_code
        ),
    };
    Some((text, kind))
}

/// Bytes the test write puts on the disk: enough for SQLite to rebuild its shared-memory
/// index and commit a small transaction.
const PROBE_BYTES: usize = 256 * 1024;

/// Writes, syncs and removes a file next to the database.
pub fn probe_disk(dir: &Path) -> std::io::Result<()> {
    let path = dir.join("bolt.db-probe");
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)?;
        file.write_all(&vec![0u8; PROBE_BYTES])?;
        file.sync_all()
    })();
    let _ = std::fs::remove_file(&path);
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_since_when_why_and_what_to_do_until_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let health = Health::with_probe(
            dir.path(),
            Box::new(|| Err(std::io::Error::from_raw_os_error(nix::libc::ENOSPC))),
        );
        assert!(health.writable() && health.refusal().is_none());
        health.refuse("a commit failed", "disk I/O error", FaultKind::Io);
        assert!(!health.writable());
        assert_eq!(health.faults(), 1);
        health.probe().unwrap_err();
        let refusal = health.refusal().unwrap();
        let reason = refusal.explain();
        assert!(
            reason.starts_with(
                "a commit failed: disk I/O error; a test write says: No space left on device (os error 28); since then a test write in"
            ),
            "{reason}"
        );
        assert!(
            reason.contains("No space left on device (os error 28)"),
            "{reason}"
        );
        assert!(
            refusal
                .advice
                .contains(&format!("`df -h {}`", dir.path().display())),
            "{}",
            refusal.advice
        );
        let snapshot = health.snapshot();
        assert!(
            !snapshot.writable
                && snapshot.refusing_since.is_some()
                && snapshot.last_probe.is_some()
        );
        health.resume();
        assert!(health.writable() && health.refusal().is_none());
        assert_eq!(health.faults(), 1, "the count of faults stays");
    }

    #[test]
    fn the_test_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        probe_disk(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
