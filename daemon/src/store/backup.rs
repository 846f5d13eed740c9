//! `bolt backup` and `bolt restore`: copies of the store made with SQLite's backup API.
//!
//! boltd makes the backup from a connection of its own holding one read transaction for the
//! whole copy: in WAL mode that is a consistent snapshot (every commit before it, none
//! after), copied a few pages at a time with progress, while the writer keeps committing.
//! The key file is not in the copy (see the README): restore needs the key that was in use.

use super::{DB_FILE, StoreError, StoreResult, migrations, schema_version};
use bolt_shared::backup::BackupReport;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Pages copied per step (4 MiB with SQLite's default page size): progress a few times a
/// second without slowing the copy.
const PAGES_PER_STEP: i32 = 1024;

/// What a finished copy holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFacts {
    pub pages: u64,
    pub bytes: u64,
    pub schema_version: i64,
    pub work_orders: u64,
    pub credentials: u64,
    pub key_check: Option<String>,
}

/// Copies the database `db` into `dest` (a new file: `force` replaces one), calling
/// `progress(copied, total)` as pages go in. Written beside `dest` and renamed into place,
/// so `dest` is whole or absent.
pub fn online_copy(
    db: &Path,
    dest: &Path,
    force: bool,
    progress: &dyn Fn(u64, u64),
) -> StoreResult<BackupReport> {
    let started = Instant::now();
    if !dest.is_absolute() {
        return Err(StoreError::Invalid(format!(
            "the backup path {} must be absolute",
            dest.display()
        )));
    }
    if dest.exists() && !force {
        return Err(StoreError::Invalid(format!(
            "{} already exists: choose another file, or pass --force to replace it",
            dest.display()
        )));
    }
    let partial = partial_path(dest);
    let result = copy_to(db, &partial, true, progress);
    let facts = match result {
        Ok(facts) => facts,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    std::fs::rename(&partial, dest).map_err(|e| io("move the backup into place at", dest, e))?;
    Ok(BackupReport {
        path: dest.display().to_string(),
        pages: facts.pages,
        bytes: facts.bytes,
        millis: started.elapsed().as_millis() as u64,
        schema_version: facts.schema_version,
        work_orders: facts.work_orders,
        credentials: facts.credentials,
        key_check: facts.key_check,
    })
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

fn io(what: &str, path: &Path, err: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("cannot {what} {}: {err}", path.display()))
}

/// Copies `source` into a new file `dest` (mode 0600) page by page under one read
/// transaction, syncs it and checks it. `live`: the source is in use by boltd (open it
/// read-only, leave its log alone).
fn copy_to(
    source: &Path,
    dest: &Path,
    live: bool,
    progress: &dyn Fn(u64, u64),
) -> StoreResult<CopyFacts> {
    let _ = std::fs::remove_file(dest);
    // Created 0600 before SQLite opens it: a store copy holds every payload.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(|e| io("create", dest, e))?;
    let flags = if live {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    };
    let src = Connection::open_with_flags(source, flags)?;
    src.busy_timeout(Duration::from_secs(10))?;
    // One read transaction for the whole copy: the backup uses it instead of one per step,
    // so the copy is a single snapshot even as boltd commits meanwhile.
    src.execute_batch("BEGIN")?;
    src.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    let mut out = Connection::open(dest)?;
    {
        let backup = Backup::new(&src, &mut out)?;
        loop {
            match backup.step(PAGES_PER_STEP)? {
                StepResult::Done => {
                    let p = backup.progress();
                    progress(p.pagecount as u64, p.pagecount as u64);
                    break;
                }
                StepResult::More => {
                    let p = backup.progress();
                    progress((p.pagecount - p.remaining) as u64, p.pagecount as u64);
                }
                StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    src.execute_batch("COMMIT")?;
    drop(src);
    // A self-contained file: no log beside it (boltd turns WAL back on when it opens it).
    let _: String = out.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    let facts = check_copy(&out, dest)?;
    drop(out);
    std::fs::File::open(dest)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("sync", dest, e))?;
    Ok(facts)
}

/// Checks a copy is a whole bolt store and reads what it holds.
fn check_copy(conn: &Connection, path: &Path) -> StoreResult<CopyFacts> {
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StoreError::Invalid(format!(
            "the copy {} failed SQLite's check ({check})",
            path.display()
        )));
    }
    facts(conn, path)
}

/// What a bolt store file holds, refusing a file that is not one.
pub fn facts(conn: &Connection, path: &Path) -> StoreResult<CopyFacts> {
    let is_bolt: bool = conn
        .query_row(
            "SELECT count(*) = 2 FROM sqlite_master WHERE type = 'table' AND name IN ('work_orders', 'workflow_versions')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| StoreError::Invalid(format!("{} is not a bolt store: {e}", path.display())))?;
    if !is_bolt {
        return Err(StoreError::Invalid(format!(
            "{} is not a bolt store (no work_orders or workflow_versions table)",
            path.display()
        )));
    }
    let count = |sql: &str| -> StoreResult<u64> {
        Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
    };
    let has_meta: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'store_meta'",
        [],
        |r| r.get(0),
    )?;
    let key_check = if has_meta {
        conn.query_row(
            "SELECT value FROM store_meta WHERE key = 'key_check'",
            [],
            |r| r.get(0),
        )
        .optional()?
    } else {
        None
    };
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let pages = count("PRAGMA page_count")?;
    Ok(CopyFacts {
        pages,
        bytes: pages * page_size as u64,
        schema_version: schema_version(conn)?,
        work_orders: count("SELECT count(*) FROM work_orders")?,
        credentials: count("SELECT count(*) FROM credentials")?,
        key_check,
    })
}

/// What `bolt restore` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub facts: CopyFacts,
    /// Where the store that was in the data dir went (None: there was none).
    pub previous: Option<PathBuf>,
}

/// Replaces the store of a stopped data dir (the caller holds its lock) with the backup
/// `file`. The store there is moved aside (with its log), never deleted. `key_check`: the
/// data dir's key's check; a backup made under another key is refused unless `force`.
pub fn restore(
    data_dir: &Path,
    file: &Path,
    key_check: Option<&str>,
    force: bool,
    progress: &dyn Fn(u64, u64),
) -> StoreResult<Restored> {
    let backup = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| StoreError::Invalid(format!("cannot open {}: {e}", file.display())))?;
    let found = facts(&backup, file)?;
    drop(backup);
    if found.schema_version > migrations::latest() {
        return Err(StoreError::TooNew {
            path: file.to_path_buf(),
            found: found.schema_version,
            known: migrations::latest(),
        });
    }
    if let (Some(wanted), Some(have)) = (found.key_check.as_deref(), key_check)
        && wanted != have
        && !force
    {
        return Err(StoreError::Invalid(format!(
            "the backup's credentials were encrypted with another key (key check {wanted}) than {}'s (key check {have}): put the key file that was in use when the backup was made at {}, then restore again (or pass --force to restore without usable credentials)",
            data_dir.display(),
            data_dir.join(crate::secrets::KEY_FILE).display()
        )));
    }
    let db = data_dir.join(DB_FILE);
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    let copied = copy_to(file, &incoming, false, progress).inspect_err(|_| {
        let _ = std::fs::remove_file(&incoming);
    })?;
    let previous = if db.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = data_dir.join(format!("{DB_FILE}.before-restore-{stamp}"));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            if from.exists() {
                let to = PathBuf::from(format!("{}{suffix}", aside.display()));
                std::fs::rename(&from, &to).map_err(|e| io("move aside", &from, e))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&incoming, &db)
        .map_err(|e| io("move the restored store into place at", &db, e))?;
    if let Ok(dir) = std::fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    Ok(Restored {
        facts: copied,
        previous,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_copy_made_while_writing_is_a_consistent_store_and_restores() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        let db = dir.path().join(DB_FILE);
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("copy.db");
        let steps = std::sync::Mutex::new(Vec::new());
        let report = online_copy(&db, &dest, false, &|done, total| {
            steps.lock().unwrap().push((done, total))
        })
        .unwrap();
        assert_eq!(report.schema_version, migrations::latest());
        assert_eq!(report.work_orders, 0);
        let steps = steps.into_inner().unwrap();
        assert_eq!(steps.last().map(|s| s.0), Some(report.pages));
        let err = online_copy(&db, &dest, false, &|_, _| {}).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        online_copy(&db, &dest, true, &|_, _| {}).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&dest).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        drop(store);

        let target = tempfile::tempdir().unwrap();
        let restored = restore(target.path(), &dest, None, false, &|_, _| {}).unwrap();
        assert_eq!(restored.previous, None);
        Store::open(target.path(), 1).unwrap();
        let again = restore(target.path(), &dest, None, false, &|_, _| {}).unwrap();
        assert!(again.previous.is_some());
        let not_a_store = out.path().join("x.db");
        Connection::open(&not_a_store)
            .unwrap()
            .execute_batch("CREATE TABLE t (a)")
            .unwrap();
        let err = restore(target.path(), &not_a_store, None, false, &|_, _| {}).unwrap_err();
        assert!(err.to_string().contains("is not a bolt store"), "{err}");
    }
}
