//! The store: SQLite in the data dir (the default) or a PostgreSQL database shared by
//! several boltd nodes. Migrations, one writer thread, a pool of read connections.
//!
//! All writes go through [`Writer`], a thread that owns the only write connection and
//! commits queued writes together (group commit): many webhook requests share one fsync,
//! and each caller hears back only after its own rows are durable. Store functions take
//! `&dyn bolt_sql::Db`, so the same code runs on both backends.

pub mod audit;
pub mod backup;
mod checkpointer;
pub mod claims;
pub mod collections;
pub mod copy;
pub mod credentials;
pub mod cron;
pub mod dataclips;
pub mod fts_queue;
mod glob;
pub mod health;
pub mod history;
pub mod inspect;
pub mod logs;
pub mod metrics;
mod migrations;
pub mod nodes;
pub mod notify;
mod pg_writer;
pub mod pins;
pub mod projects;
mod reader;
mod recovery;
pub mod refs;
pub mod retention;
pub mod runs;
pub mod saved_inputs;
pub mod search;
#[cfg(feature = "seeder")]
pub mod seeder;
pub mod steps;
#[cfg(test)]
pub mod suite;
mod syncer;
pub mod timings;
pub mod versions;
pub mod webhook_triggers;
pub mod work_orders;
pub mod workflows;
mod writer;

use checkpointer::Checkpointer;
pub use health::{Health, Refusal};
pub use reader::Readers;
pub use writer::{Writer, WriterParts};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// From store code written against the backend-neutral layer (`bolt_sql::Db`).
    #[error("database error: {0}")]
    Db(#[from] bolt_sql::Error),
    #[error(
        "the store at {path} was written by a newer bolt (schema {found}, this bolt knows {known}): upgrade bolt"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("migration {number} failed: {source}")]
    Migration {
        number: i64,
        source: rusqlite::Error,
    },
    #[error("the store's writer has stopped")]
    WriterGone,
    /// The disk failed a write or a sync: nothing is stored until it takes writes again.
    #[error("{0}")]
    Refusing(Refusal),
    /// A user's mistake, in words meant for them: what is wrong and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// The row a request named is not there (shown to clients as "not found").
    #[error("{0} not found")]
    NotFound(String),
    /// boltd's own fault (not the request's): logged with its context, shown to clients as
    /// an internal error.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The disk fault behind this error (its words and kind), whichever way the store code
    /// reached SQLite: such an error refuses the whole batch, not only its own write.
    /// On PostgreSQL, a lost connection or a server out of disk counts the same way.
    pub fn disk_fault(&self) -> Option<(String, health::FaultKind)> {
        match self {
            StoreError::Sqlite(err) => health::disk_fault(err),
            StoreError::Db(err) => match err.sqlite_error() {
                Some(sqlite) => health::disk_fault(sqlite),
                None => match err.kind() {
                    bolt_sql::ErrorKind::Unreachable => {
                        Some((err.to_string(), health::FaultKind::Unreachable))
                    }
                    bolt_sql::ErrorKind::Storage => Some((err.to_string(), health::FaultKind::Io)),
                    _ => None,
                },
            },
            _ => None,
        }
    }

    /// Another node's transaction conflicted with this one (a deadlock's victim): the
    /// write may simply be run again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Db(err) if err.is_conflict())
    }

    /// The database could not be reached (PostgreSQL): the store's trouble, not the
    /// caller's, and gone once the database answers again.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Db(err) if err.is_unreachable())
    }
}

#[derive(Clone)]
pub struct Store {
    pub writer: Writer,
    pub readers: Readers,
    /// SQLite's database file (on PostgreSQL: where it would be in the data dir, unused).
    pub path: PathBuf,
    pub timings: Arc<timings::Timings>,
    /// Whether the store takes writes (see `health.rs`).
    pub health: Arc<Health>,
    backend: Backend,
}

/// What only one backend has.
#[derive(Clone)]
enum Backend {
    Sqlite {
        _checkpointer: Checkpointer,
        /// Set by the checkpointer when the WAL has grown too big; the writer restarts it.
        /// (The two hold their own handles; this one lets tests ask for a restart.)
        #[cfg_attr(not(test), allow(dead_code))]
        wal_restart: Arc<AtomicBool>,
        /// Asks the writer to empty the write-ahead log (see [`Store::scrub_wal`]).
        wal_scrub: Arc<AtomicBool>,
    },
    Postgres {
        /// The database's URL, without the password.
        database: String,
    },
}

pub const DB_FILE: &str = "bolt.db";

/// Where a boltd keeps its records.
#[derive(Debug, Clone)]
pub enum Location {
    /// SQLite in this data dir.
    DataDir(PathBuf),
    /// A PostgreSQL database (its settings read from a URL).
    Postgres(bolt_sql::PgSettings),
}

impl Location {
    /// The store `url` names (PostgreSQL), else SQLite in `data_dir`. A password left out of
    /// the URL is taken from `PGPASSWORD`, as PostgreSQL's own tools do.
    pub fn of(url: Option<&str>, data_dir: &Path) -> StoreResult<Location> {
        let Some(url) = url else {
            return Ok(Location::DataDir(data_dir.to_path_buf()));
        };
        let mut settings = bolt_sql::PgSettings::from_url(url).map_err(|err| {
            StoreError::Invalid(format!(
                "the store URL is not usable: {err} (give --store, BOLT_STORE_URL or [store] url as postgres://user@host:5432/database)"
            ))
        })?;
        if settings.password().is_none()
            && let Ok(password) = std::env::var("PGPASSWORD")
            && !password.is_empty()
        {
            settings.set_password(Some(password));
        }
        Ok(Location::Postgres(settings))
    }
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path, readers: usize) -> StoreResult<Store> {
        Self::open_with(data_dir, readers, Arc::new(Health::new(data_dir)))
    }

    /// Opens the store at `location`: SQLite as [`Store::open`], or PostgreSQL as
    /// [`Store::open_postgres`].
    pub fn open_at(location: &Location, data_dir: &Path, readers: usize) -> StoreResult<Store> {
        match location {
            Location::DataDir(dir) => Self::open(dir, readers),
            Location::Postgres(settings) => Self::open_postgres(settings, data_dir, readers),
        }
    }

    /// Like [`Store::open`], with the health (and so the test write) given.
    pub fn open_with(data_dir: &Path, readers: usize, health: Arc<Health>) -> StoreResult<Store> {
        let path = data_dir.join(DB_FILE);
        create_private(&path)?;
        let mut conn = open_connection(&path)?;
        migrations::apply(&mut conn, &path)?;
        writer_pragmas(&conn)?;
        let wal = open_wal(&path)?;
        let readers = Readers::open(&path, readers.max(1))?;
        let wal_restart = Arc::new(AtomicBool::new(false));
        let wal_scrub = Arc::new(AtomicBool::new(false));
        let _checkpointer = Checkpointer::start(&path, wal_restart.clone(), health.clone())?;
        let timings = Arc::new(timings::Timings::default());
        let writer = Writer::start(WriterParts {
            conn,
            wal,
            db: path.clone(),
            wal_restart: wal_restart.clone(),
            wal_scrub: wal_scrub.clone(),
            timings: timings.clone(),
            health: health.clone(),
            readers: Some(readers.clone()),
            checkpointer: Some(_checkpointer.clone()),
        });
        Ok(Store {
            writer,
            readers,
            path,
            timings,
            health,
            backend: Backend::Sqlite {
                _checkpointer,
                wal_restart,
                wal_scrub,
            },
        })
    }

    /// Opens a PostgreSQL store: applies bolt's migrations (under an advisory lock, so
    /// nodes starting together don't race; a schema newer than this bolt is refused), then
    /// starts the writer thread and the readers' pool. The database must answer now; once
    /// running, boltd rides out its outages (see `pg_writer.rs`).
    pub fn open_postgres(
        settings: &bolt_sql::PgSettings,
        data_dir: &Path,
        readers: usize,
    ) -> StoreResult<Store> {
        let database = settings.to_string();
        let client = bolt_sql::PgClient::connect(settings)?;
        bolt_sql::pg::migrate(&client, bolt_sql::schema::POSTGRES).map_err(|err| {
            match err.kind() {
                bolt_sql::ErrorKind::SchemaTooNew { found, known } => StoreError::TooNew {
                    path: PathBuf::from(&database),
                    found,
                    known,
                },
                _ => StoreError::Db(err),
            }
        })?;
        drop(client);
        // Reads plan every statement for its own values: a generic plan of a cached search
        // statement can't tell a rare word from a common one (measured: 1.5 s instead of
        // 2 ms for a rare patient id once the plan went generic after five runs).
        let mut reader_settings = settings
            .clone()
            .with_server_setting("plan_cache_mode", "force_custom_plan");
        reader_settings.application_name = format!("{} reader", settings.application_name);
        let pool = bolt_sql::PgPool::new(
            reader_settings,
            bolt_sql::PoolOptions {
                max_size: readers.max(1) as u32,
                // While the database is down a read fails after this long (as unreachable).
                checkout_timeout: std::time::Duration::from_secs(3),
                ..bolt_sql::PoolOptions::default()
            },
        )?;
        let probe_settings = settings.clone();
        let health = Arc::new(Health::for_database(
            database.clone(),
            Box::new(move || {
                bolt_sql::PgClient::connect(&probe_settings)
                    .and_then(|conn| conn.ping())
                    .map_err(std::io::Error::other)
            }),
        ));
        let timings = Arc::new(timings::Timings::default());
        let writer = pg_writer::start(settings.clone(), health.clone(), timings.clone());
        Ok(Store {
            writer,
            readers: Readers::postgres(pool),
            path: data_dir.join(DB_FILE),
            timings,
            health,
            backend: Backend::Postgres { database },
        })
    }

    /// The PostgreSQL database (its URL without the password), or None on SQLite.
    pub fn database(&self) -> Option<&str> {
        match &self.backend {
            Backend::Sqlite { .. } => None,
            Backend::Postgres { database } => Some(database),
        }
    }

    /// Asks the writer to copy the write-ahead log into the database and truncate it soon
    /// (within about a second): after payloads were wiped (`erase_all`), so no old copy of
    /// them stays in the log's frames. With `secure_delete` on, the database's own pages
    /// hold zeros where the wiped text was. (PostgreSQL's own WAL is the server's.)
    pub fn scrub_wal(&self) {
        if let Backend::Sqlite { wal_scrub, .. } = &self.backend {
            wal_scrub.store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// Copies the whole write-ahead log into the database file and empties it, so that after
    /// a clean stop `bolt.db` alone holds everything. Waits up to [`FOLD_WAIT`] for writes
    /// still under way; returns false when they kept it from finishing (the next start
    /// reads the log as usual: nothing is lost either way). Nothing to do on PostgreSQL.
    pub fn fold_wal(&self) -> StoreResult<bool> {
        if let Backend::Postgres { .. } = &self.backend {
            return Ok(true);
        }
        // While writes are refused the log may hold frames the disk lost: the next start
        // reads it from the disk instead.
        if let Some(refusal) = self.health.refusal() {
            return Err(StoreError::Refusing(refusal));
        }
        let conn = open_connection(&self.path)?;
        conn.busy_timeout(FOLD_WAIT)?;
        // The checkpointer thread may be copying frames at this very moment: SQLite then
        // answers "busy" at once instead of waiting for its checkpoint lock, so try again
        // until the wait is over.
        let deadline = std::time::Instant::now() + FOLD_WAIT;
        loop {
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy == 0 {
                return Ok(true);
            }
            if std::time::Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(FOLD_RETRY);
        }
    }
}

/// How long the final checkpoint of a clean stop waits for writes still under way.
const FOLD_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long the final checkpoint waits before trying again after a "busy".
const FOLD_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Creates the database file readable only by its owner, whatever the umask.
fn create_private(path: &Path) -> StoreResult<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| StoreError::Invalid(format!("cannot create {}: {e}", path.display())))
}

/// Opens the writer's connection (see [`writer_pragmas`]).
fn open_writer(path: &Path) -> StoreResult<Connection> {
    let conn = open_connection(path)?;
    writer_pragmas(&conn)?;
    Ok(conn)
}

/// Checkpoints run on their own thread, not inside the writer's commits. Commits don't wait
/// for the disk: the writer's syncer makes the WAL durable before any caller hears back
/// (see writer.rs). CHECK constraints are skipped: the writer writes only values bolt's own
/// enums produce, and SQLite builds a temporary table for every `IN (…)` check of every
/// row. A smaller page cache than readers': SQLite scans the writer's whole cache at every
/// commit after a B-tree page split (balance_nonroot renumbers a page through a number past
/// the end of the file), so its size is paid per commit; the writer only needs the
/// rightmost pages of its B-trees and recent rows.
fn writer_pragmas(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "PRAGMA wal_autocheckpoint = 0;
         PRAGMA synchronous = NORMAL;
         PRAGMA ignore_check_constraints = ON;
         PRAGMA cache_size = -8000;",
    )?;
    Ok(())
}

/// The database's write-ahead log, for the writer's syncer. It exists once a connection has
/// opened the database in WAL mode, and stays the same file while any connection is open.
/// SQLite may have just created it: its directory is synced too, or the file's entry (and
/// with it every acknowledged write) could vanish in a power cut before the first
/// checkpoint syncs it.
fn open_wal(db: &Path) -> StoreResult<std::fs::File> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let failed = |what: &str, path: &Path, e: std::io::Error| {
        StoreError::Invalid(format!("cannot {what} {}: {e}", path.display()))
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&wal)
        .map_err(|e| failed("open the write-ahead log", &wal, e))?;
    if let Some(dir) = db.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| failed("sync the data directory", dir, e))?;
    }
    Ok(file)
}

/// How long a connection waits for a lock another holds before it reports the store busy.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens a connection with the pragmas every bolt connection uses.
pub fn open_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The last connection to close would copy the log into the database: after a failed
    // sync that could make a lost write permanent (see writer.rs). The next open, or a
    // clean stop's `fold_wal`, does it instead.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    // Hot paths use prepare_cached; the default 16 entries would keep evicting them.
    conn.set_prepared_statement_cache_capacity(256);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32000;
         PRAGMA journal_size_limit = 67108864;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(conn)
}

/// The SQLite connection under `db`, for what only SQLite has (the benchmark seeder, tests
/// that look at SQLite itself); an error naming `what` on PostgreSQL.
pub fn sqlite_of<'a>(db: &'a dyn bolt_sql::Db, what: &str) -> StoreResult<&'a Connection> {
    db.sqlite()
        .ok_or_else(|| StoreError::Invalid(format!("{what} works on a SQLite store only")))
}

/// Current time as stored: microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

pub fn from_micros(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// A new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn schema_version(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

/// Brings a test's own connection to the current schema (without the writer's threads).
#[cfg(test)]
pub(crate) fn migrate_for_tests(conn: &mut Connection, path: &Path) {
    migrations::apply(conn, path).expect("migrations apply");
}

#[cfg(test)]
mod tests {
    use super::*;
    use bolt_sql::{DbExt, params};
    use std::sync::atomic::Ordering;

    #[test]
    fn opens_empty_dir_and_reopens_without_reapplying() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        drop(store);
        let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
        let version = schema_version(&conn).unwrap();
        assert_eq!(version, migrations::latest());
        drop(conn);
        Store::open(dir.path(), 1).unwrap();
        let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), version);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// Frames in the WAL, as a reader sees it.
    fn wal_frames(store: &Store) -> i64 {
        store
            .readers
            .read_blocking(|db| {
                let conn = sqlite_of(db, "the WAL test")?;
                Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?)
            })
            .unwrap()
    }

    /// When asked, the writer copies the WAL into the database and starts writing it from
    /// the beginning again, so under constant writes the WAL stops growing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_restarts_a_grown_wal_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        // A checkpointer that catches up lets SQLite restart the WAL on its own, which a
        // busy machine makes likely; only the writer's restart is under test here.
        let Backend::Sqlite {
            _checkpointer,
            wal_restart,
            ..
        } = &store.backend
        else {
            unreachable!("a SQLite store")
        };
        assert!(_checkpointer.release());
        store
            .writer
            .write(|tx| Ok(tx.execute_batch("CREATE TABLE t (v TEXT)")?))
            .await
            .unwrap();
        for i in 0..200 {
            store
                .writer
                .write(move |tx| {
                    tx.execute(
                        "INSERT INTO t (v) VALUES (?1)",
                        params![format!("{i:04096}")],
                    )?;
                    Ok(())
                })
                .await
                .unwrap();
        }
        let grown = wal_frames(&store);
        assert!(grown >= 200, "each write adds frames: {grown}");
        wal_restart.store(true, Ordering::SeqCst);
        store
            .writer
            .write(|tx| {
                Ok(tx
                    .execute("INSERT INTO t (v) VALUES ('after')", params![])
                    .map(|_| ())?)
            })
            .await
            .unwrap();
        let after = wal_frames(&store);
        assert!(
            after < 20,
            "the WAL started again from the beginning: {after} frames"
        );
        assert!(!wal_restart.load(Ordering::SeqCst));
        let rows: i64 = store
            .readers
            .read_blocking(|conn| Ok(conn.query_one("SELECT COUNT(*) FROM t", params![])?))
            .unwrap();
        assert_eq!(rows, 201, "nothing was lost on the way");
    }

    /// bolt.db is created 0600 whatever the umask, and SQLite gives its log and
    /// shared-memory index the database's mode.
    #[test]
    fn the_database_and_its_log_and_index_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        for path in crate::files::store_files(&store.path) {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
    }

    #[test]
    fn refuses_a_store_from_the_future() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
            conn.execute_batch("PRAGMA user_version = 999").unwrap();
        }
        let err = Store::open(dir.path(), 1).err().unwrap();
        assert!(err.to_string().contains("newer bolt"), "{err}");
    }
}
