//! `bolt store copy`: a stopped SQLite store, every table of it, into an empty PostgreSQL
//! database (migrated here to bolt's PostgreSQL schema), verified by counting.
//!
//! How it goes:
//! - The SQLite store is opened read-only, and only at the current schema (an older one is
//!   migrated by starting boltd on it once; a newer one needs a newer bolt). One read
//!   transaction covers the whole copy, so every table is read from one snapshot.
//! - The target must be empty of bolt's data: any row in a bolt table (other than the row
//!   the PostgreSQL migration writes itself) refuses the copy, which never changes or
//!   deletes rows it did not write.
//! - Tables go in foreign-key order, columns by name, in batches: SQLite is read lazily in
//!   primary-key order (keyset pages of at most [`BATCH_ROWS`] rows or about
//!   [`BATCH_BYTES`] of values), each batch is one multi-row INSERT in its own PostgreSQL
//!   transaction, so a copy of millions of rows holds one batch in memory.
//! - A row in `store_meta` (the `bolt_store_copy` marker) says how far the copy got; it is
//!   updated in every batch's transaction and removed once the counts are verified. A copy
//!   that stopped half-way leaves it, and the next copy into that database names the table
//!   it stopped in and says to drop and recreate the database.
//! - Derived tables are copied as SQLite kept them: `work_order_counts` holds exact counts
//!   (kept by the code that changes work orders, on both backends), so it is copied rather
//!   than rebuilt. User triggers on a table being copied are disabled inside each batch's
//!   transaction (`ALTER TABLE … DISABLE TRIGGER USER`, enabled again before the commit, so
//!   a crash can't leave them off): copied rows are not changes for a trigger to count
//!   twice or to refuse (the audit log's append-only guards).
//! - Full-text search: SQLite's `search_fts` is contentless FTS5 (its text isn't stored), so
//!   PostgreSQL's `search_fts` is rebuilt from each `search_docs` row's source — a
//!   dataclip's body as [`dataclips::index_text`] indexes it, or a log line's message —
//!   with [`bolt_sql::fts::tsvector`]. `short_refs` has no table on PostgreSQL (expression
//!   indexes on `right(id, 8)` stand in for it).
//! - Identity columns get their ids copied; their sequences are moved past the largest.
//! - Credentials are copied as stored (encrypted), with the key check row of `store_meta`:
//!   every node needs the same key file.

use super::{StoreError, dataclips, migrations, schema_version};
use bolt_sql::{Db, DbExt, PgClient, Value, ValueRef, params, pg, schema};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

pub use bolt_sql::PgSettings;

/// Most rows in one batch (one INSERT, one transaction).
pub const BATCH_ROWS: usize = 500;
/// A batch ends early once its values hold about this many bytes (big dataclip bodies).
pub const BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Most parameters in one INSERT (PostgreSQL takes 65,535).
const MAX_PARAMS: usize = 30_000;
/// Most documents indexed per batch of the search index's rebuild.
const SEARCH_BATCH_ROWS: usize = 200;
/// The most text of one document the index takes, as dataclips.rs's `index` cuts it.
const MAX_INDEXED_CHARS: usize = 64 * 1024;

/// The `store_meta` key of the copy's own progress row on PostgreSQL.
pub const MARKER_KEY: &str = "bolt_store_copy";
/// PostgreSQL's `search_fts`, rebuilt rather than copied.
const SEARCH_INDEX: &str = "search_fts";

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("there is no bolt store at {path}: give the data dir of a stopped boltd (--data-dir)")]
    NoStore { path: String },
    #[error("cannot open the store at {path} read-only: {source}")]
    Open { path: String, source: StoreError },
    #[error(
        "the store at {path} has schema {found}, this bolt's is {current}: start boltd (this version) once on it so it migrates the store, stop it (`bolt stop`), then copy"
    )]
    SourceTooOld {
        path: String,
        found: i64,
        current: i64,
    },
    #[error(
        "the store at {path} was written by a newer bolt (schema {found}, this bolt knows {current}): upgrade bolt, then copy"
    )]
    SourceTooNew {
        path: String,
        found: i64,
        current: i64,
    },
    #[error(
        "the PostgreSQL database already holds bolt data (table {table} has rows): `bolt store copy` fills only an empty database and never changes what is there. Copy into a new database (CREATE DATABASE …), or drop and recreate this one if its data is not needed"
    )]
    TargetNotEmpty { table: String },
    #[error(
        "an earlier `bolt store copy` into this database did not finish (it stopped {where_}): the database holds part of a store. Drop and recreate the database (DROP DATABASE …; CREATE DATABASE …), then copy again"
    )]
    Unfinished { where_: String },
    #[error(
        "the copy was stopped in table {table} after {done} of {total} rows: drop and recreate the PostgreSQL database (DROP DATABASE …; CREATE DATABASE …) before copying again"
    )]
    Stopped {
        table: String,
        done: u64,
        total: u64,
    },
    #[error("the two schemas don't match: {0} (is this bolt's PostgreSQL schema current?)")]
    SchemaMismatch(String),
    #[error(
        "verification failed: {table} has {sqlite} rows in SQLite but {postgres} in PostgreSQL; drop and recreate the PostgreSQL database before copying again"
    )]
    CountMismatch {
        table: String,
        sqlite: u64,
        postgres: u64,
    },
    #[error("{context}: {source}")]
    Db {
        context: String,
        source: bolt_sql::Error,
    },
}

type CopyResult<T> = Result<T, CopyError>;

/// A database error with no more to say than where: PostgreSQL's transaction boundaries.
impl From<bolt_sql::Error> for CopyError {
    fn from(source: bolt_sql::Error) -> CopyError {
        CopyError::Db {
            context: "writing to PostgreSQL".to_string(),
            source,
        }
    }
}

/// Adds what was being done to a database error.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> CopyResult<T>;
}

impl<T> Context<T> for bolt_sql::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> CopyResult<T> {
        self.map_err(|source| CopyError::Db {
            context: what(),
            source,
        })
    }
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> CopyResult<T> {
        self.map_err(bolt_sql::Error::from).context(what)
    }
}

/// How far the copy is: rows of `table` done of `total` (after each batch, and once at
/// the start of each table).
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub table: &'a str,
    pub done: u64,
    pub total: u64,
}

/// What was copied: rows per table (in the order copied, verified equal on both sides).
#[derive(Debug, Clone, Serialize)]
pub struct Copied {
    pub source: String,
    /// The target's URL without its password.
    pub target: String,
    pub tables: Vec<TableCount>,
    pub rows: u64,
    /// Documents in the full-text index, rebuilt on PostgreSQL.
    pub search_documents: u64,
    pub credentials: u64,
    /// The fingerprint of the key the credentials were encrypted with, if the store has one.
    pub key_check: Option<String>,
    pub millis: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
}

/// Copies the stopped SQLite store at `db_path` (its `bolt.db`) into the PostgreSQL
/// database of `target`. The caller makes sure no boltd has the store open (the data
/// dir's pidfile lock). `progress` may stop the copy by returning `Break`.
pub fn copy_store(
    db_path: &Path,
    target: &PgSettings,
    progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> CopyResult<Copied> {
    let source = open_source(db_path)?;
    let client = PgClient::connect(target).context(|| "connecting to PostgreSQL".to_string())?;
    let mut copied = copy_between(&source, &db_path.display().to_string(), &client, progress)?;
    copied.target = target.to_string();
    Ok(copied)
}

/// Opens a store read-only, refusing one whose schema isn't this bolt's.
pub fn open_source(db_path: &Path) -> CopyResult<Connection> {
    let path = db_path.display().to_string();
    if !db_path.is_file() {
        return Err(CopyError::NoStore { path });
    }
    let open = || -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            db_path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    };
    let conn = open().map_err(|e| CopyError::Open {
        path: path.clone(),
        source: e,
    })?;
    let found = schema_version(&conn).map_err(|e| CopyError::Open {
        path: path.clone(),
        source: e,
    })?;
    let current = migrations::latest();
    if found == 0 {
        return Err(CopyError::NoStore { path });
    }
    if found < current {
        return Err(CopyError::SourceTooOld {
            path,
            found,
            current,
        });
    }
    if found > current {
        return Err(CopyError::SourceTooNew {
            path,
            found,
            current,
        });
    }
    Ok(conn)
}

/// Copies `source` (a store at the current schema) into `target`'s database: migrates it,
/// checks that it is empty, copies, rebuilds the search index, verifies.
pub fn copy_between(
    source: &Connection,
    source_name: &str,
    target: &PgClient,
    progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> CopyResult<Copied> {
    let started = Instant::now();
    pg::migrate(target, schema::POSTGRES)
        .context(|| "bringing the PostgreSQL database to bolt's schema".to_string())?;
    // One snapshot of the source for every table (rolled back when dropped: reads only).
    let snapshot = (source as &dyn Db)
        .read_transaction()
        .context(|| "reading the SQLite store".to_string())?;
    let plan = plan(source, target)?;
    refuse_unless_empty(target, &plan)?;
    let marker = Marker::start(target, source_name)?;
    let mut tables = Vec::new();
    for table in &plan {
        let rows = copy_table(source, target, table, &marker, progress)?;
        tables.push(TableCount {
            table: table.name.clone(),
            rows,
        });
    }
    let search_documents = rebuild_search_index(source, target, &marker, progress)?;
    move_sequences(target, &plan)?;
    analyze(target, &plan)?;
    marker.set(target, "verifying the counts", 0, 0)?;
    verify(source, target, &tables, search_documents)?;
    marker.finish(target)?;
    drop(snapshot);
    let meta = |key: &str| {
        (source as &dyn Db)
            .query_value::<String>("SELECT value FROM store_meta WHERE key = ?1", params![key])
    };
    Ok(Copied {
        source: source_name.to_string(),
        target: String::new(),
        rows: tables.iter().map(|t| t.rows).sum(),
        credentials: tables
            .iter()
            .find(|t| t.table == "credentials")
            .map_or(0, |t| t.rows),
        key_check: meta("key_check").context(|| "reading the key check".to_string())?,
        tables,
        search_documents,
        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

// The plan: which tables, in what order, with which columns.

/// One table to copy.
#[derive(Debug)]
struct TablePlan {
    name: String,
    /// Column names, as SQLite and PostgreSQL both have them.
    columns: Vec<String>,
    /// The primary key's columns (positions in `columns`), in key order: the keyset.
    key: Vec<usize>,
    /// Identity columns on PostgreSQL (their sequences move past the copied ids).
    identity: Vec<String>,
    /// PostgreSQL has user triggers on it (disabled while its batches are inserted).
    has_triggers: bool,
}

/// The ordinary tables of the SQLite store (not FTS5 tables nor their shadow tables), in
/// foreign-key order, matched with PostgreSQL's columns.
fn plan(source: &Connection, target: &PgClient) -> CopyResult<Vec<TablePlan>> {
    let tables = sqlite_tables(source)?;
    let order = foreign_key_order(source, &tables)?;
    order
        .into_iter()
        .map(|table| table_plan(source, target, table))
        .collect()
}

fn sqlite_tables(source: &Connection) -> CopyResult<Vec<String>> {
    let db: &dyn Db = source;
    let names = |sql: &str| -> CopyResult<Vec<String>> {
        db.query_map(sql, params![], |r| r.get(0))
            .context(|| "listing the store's tables".to_string())
    };
    let virtual_tables = names(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
    )?;
    let all = names(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    Ok(all
        .into_iter()
        .filter(|name| {
            !virtual_tables
                .iter()
                .any(|v| name == v || name.starts_with(&format!("{v}_")))
        })
        .collect())
}

/// `tables` ordered so that every table comes after the tables its foreign keys name
/// (ties by name, so the order is always the same).
fn foreign_key_order(source: &Connection, tables: &[String]) -> CopyResult<Vec<String>> {
    let db: &dyn Db = source;
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for table in tables {
        let parents: Vec<String> = db
            .query_map(
                "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)",
                params![table],
                |r| r.get(0),
            )
            .context(|| format!("reading the foreign keys of {table}"))?;
        let parents = parents
            .into_iter()
            .filter(|p| p != table && tables.contains(p))
            .collect();
        needs.insert(table.clone(), parents);
    }
    let mut order = Vec::new();
    while !needs.is_empty() {
        let ready: Vec<String> = needs
            .iter()
            .filter(|(_, parents)| parents.is_empty())
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            let cycle: Vec<&str> = needs.keys().map(String::as_str).collect();
            return Err(CopyError::SchemaMismatch(format!(
                "the foreign keys of {} form a cycle",
                cycle.join(", ")
            )));
        }
        for table in ready {
            needs.remove(&table);
            needs.values_mut().for_each(|parents| {
                parents.remove(&table);
            });
            order.push(table);
        }
    }
    Ok(order)
}

fn table_plan(source: &Connection, target: &PgClient, name: String) -> CopyResult<TablePlan> {
    let sqlite: &dyn Db = source;
    let columns: Vec<(String, i64)> = sqlite
        .query_map(
            "SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid",
            params![name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .context(|| format!("reading the columns of {name}"))?;
    let postgres: Vec<(String, bool)> = target
        .query_map(
            "SELECT a.attname::text, a.attidentity <> '' FROM pg_attribute a
             WHERE a.attrelid = to_regclass(?1) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            params![quoted(&name)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .context(|| format!("reading the columns of {name} on PostgreSQL"))?;
    if postgres.is_empty() {
        return Err(CopyError::SchemaMismatch(format!(
            "PostgreSQL has no table {name}"
        )));
    }
    let missing: Vec<&str> = columns
        .iter()
        .map(|(c, _)| c.as_str())
        .filter(|c| !postgres.iter().any(|(p, _)| p == c))
        .collect();
    if !missing.is_empty() {
        return Err(CopyError::SchemaMismatch(format!(
            "PostgreSQL's {name} has no column {}",
            missing.join(", ")
        )));
    }
    let mut key: Vec<(i64, usize)> = columns
        .iter()
        .enumerate()
        .filter(|(_, (_, pk))| *pk > 0)
        .map(|(i, (_, pk))| (*pk, i))
        .collect();
    key.sort();
    if key.is_empty() {
        return Err(CopyError::SchemaMismatch(format!(
            "{name} has no primary key to copy it in order by"
        )));
    }
    let has_triggers: bool = target
        .query_one(
            "SELECT COUNT(*) > 0 FROM pg_trigger WHERE tgrelid = to_regclass(?1) AND NOT tgisinternal",
            params![quoted(&name)],
        )
        .context(|| format!("reading the triggers of {name}"))?;
    Ok(TablePlan {
        columns: columns.into_iter().map(|(c, _)| c).collect(),
        key: key.into_iter().map(|(_, i)| i).collect(),
        identity: postgres
            .into_iter()
            .filter(|(_, identity)| *identity)
            .map(|(c, _)| c)
            .collect(),
        has_triggers,
        name,
    })
}

/// An identifier, double-quoted for either database.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ")
}

// The target must be empty, or say how an earlier copy ended.

/// The row the PostgreSQL migration writes into `store_meta` itself: not the user's data.
const SEEDED_META: &str = "key = 'audit_legacy_through' AND value = '0'";

fn refuse_unless_empty(target: &PgClient, plan: &[TablePlan]) -> CopyResult<()> {
    if let Some(state) = Marker::read(target)? {
        return Err(CopyError::Unfinished { where_: state });
    }
    let tables = plan.iter().map(|t| t.name.as_str()).chain([SEARCH_INDEX]);
    for table in tables {
        let sql = if table == "store_meta" {
            format!("SELECT EXISTS (SELECT 1 FROM store_meta WHERE NOT ({SEEDED_META}))")
        } else {
            format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table))
        };
        let has_rows: bool = target
            .query_one(&sql, params![])
            .context(|| format!("looking for rows in {table} on PostgreSQL"))?;
        if has_rows {
            return Err(CopyError::TargetNotEmpty {
                table: table.to_string(),
            });
        }
    }
    Ok(())
}

/// The copy's progress row in the target's `store_meta`.
struct Marker {
    source: String,
}

impl Marker {
    fn start(target: &PgClient, source: &str) -> CopyResult<Marker> {
        let marker = Marker {
            source: source.to_string(),
        };
        target
            .execute(
                "INSERT INTO store_meta (key, value) VALUES (?1, ?2)",
                params![MARKER_KEY, marker.value("before the first table", 0, 0)],
            )
            .context(|| "marking the database as being copied into".to_string())?;
        Ok(marker)
    }

    fn value(&self, stage: &str, done: u64, total: u64) -> String {
        serde_json::json!({
            "source": self.source,
            "stage": stage,
            "done": done,
            "total": total,
        })
        .to_string()
    }

    /// Records the stage; inside a batch's transaction, with the batch.
    fn set(&self, db: &dyn Db, stage: &str, done: u64, total: u64) -> CopyResult<()> {
        db.execute(
            "UPDATE store_meta SET value = ?2 WHERE key = ?1",
            params![MARKER_KEY, self.value(stage, done, total)],
        )
        .context(|| "recording the copy's progress".to_string())?;
        Ok(())
    }

    fn finish(self, target: &PgClient) -> CopyResult<()> {
        target
            .execute("DELETE FROM store_meta WHERE key = ?1", params![MARKER_KEY])
            .context(|| "marking the copy finished".to_string())?;
        Ok(())
    }

    /// Where an earlier copy stopped, in words, if one did.
    fn read(target: &PgClient) -> CopyResult<Option<String>> {
        let value: Option<String> = target
            .query_value(
                "SELECT value FROM store_meta WHERE key = ?1",
                params![MARKER_KEY],
            )
            .context(|| "reading the state of an earlier copy".to_string())?;
        Ok(value.map(|value| {
            let parsed: serde_json::Value = serde_json::from_str(&value).unwrap_or_default();
            let stage = parsed["stage"].as_str().unwrap_or("somewhere");
            let source = parsed["source"].as_str().unwrap_or("a store");
            match (parsed["done"].as_u64(), parsed["total"].as_u64()) {
                (Some(done), Some(total)) if total > 0 => {
                    format!("{stage} after {done} of {total} rows, copying {source}")
                }
                _ => format!("{stage}, copying {source}"),
            }
        }))
    }
}

// Copying a table.

fn count_sqlite(source: &Connection, table: &str) -> CopyResult<u64> {
    let n: i64 = (source as &dyn Db)
        .query_one(
            &format!("SELECT COUNT(*) FROM {}", quoted(table)),
            params![],
        )
        .context(|| format!("counting the rows of {table} in SQLite"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn copy_table(
    source: &Connection,
    target: &PgClient,
    table: &TablePlan,
    marker: &Marker,
    progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> CopyResult<u64> {
    let total = count_sqlite(source, &table.name)?;
    let report =
        |progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>, done| match progress(Progress {
            table: &table.name,
            done,
            total,
        }) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(CopyError::Stopped {
                table: table.name.clone(),
                done,
                total,
            }),
        };
    report(progress, 0)?;
    let max_rows = BATCH_ROWS
        .min(MAX_PARAMS / table.columns.len().max(1))
        .max(1);
    let select = select_page(table, false, max_rows);
    let select_after = select_page(table, true, max_rows);
    let mut after: Option<Vec<Value>> = None;
    let mut done = 0u64;
    loop {
        let sql = if after.is_some() {
            &select_after
        } else {
            &select
        };
        let rows = read_page(source, sql, after.as_deref().unwrap_or(&[]), max_rows)
            .context(|| format!("reading {} from SQLite", table.name))?;
        let Some(last) = rows.last() else { break };
        after = Some(table.key.iter().map(|&i| last[i].clone()).collect());
        done += rows.len() as u64;
        target
            .in_transaction(|tx| {
                insert_batch(tx, table, &rows)?;
                marker.set(tx, &format!("in table {}", table.name), done, total)
            })
            .map_err(|e| in_table(e, &table.name))?;
        report(progress, done)?;
    }
    Ok(done)
}

/// Names the table in a database error met while copying it.
fn in_table(e: CopyError, table: &str) -> CopyError {
    match e {
        CopyError::Db { source, .. } => CopyError::Db {
            context: format!("copying table {table}"),
            source,
        },
        other => other,
    }
}

/// The keyset page query: the table's columns in key order, after the last key read.
fn select_page(table: &TablePlan, after: bool, limit: usize) -> String {
    let key: Vec<String> = table
        .key
        .iter()
        .map(|&i| quoted(&table.columns[i]))
        .collect();
    let key = key.join(", ");
    let placeholders = bolt_sql::marks(table.key.len());
    let filter = if after {
        format!(" WHERE ({key}) > ({placeholders})")
    } else {
        String::new()
    };
    format!(
        "SELECT {} FROM {}{filter} ORDER BY {key} LIMIT {limit}",
        column_list(&table.columns),
        quoted(&table.name)
    )
}

/// Reads up to `max_rows` rows of `sql` (bound to `params`) lazily, stopping early once
/// they hold about [`BATCH_BYTES`] (at least one row).
fn read_page(
    source: &Connection,
    sql: &str,
    params: &[Value],
    max_rows: usize,
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let mut stmt = source.prepare_cached(sql)?;
    let params: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut page = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        let width = row.as_ref().column_count();
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            let value = from_sqlite(row.get_ref(i)?, row.as_ref().column_name(i).unwrap_or("?"))?;
            bytes += value_bytes(&value);
            values.push(value);
        }
        page.push(values);
        if page.len() >= max_rows || bytes >= BATCH_BYTES {
            break;
        }
    }
    Ok(page)
}

fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Text(s) => s.len() + 8,
        Value::Blob(b) => b.len() + 8,
        _ => 8,
    }
}

fn from_sqlite(value: rusqlite::types::ValueRef<'_>, column: &str) -> rusqlite::Result<Value> {
    use rusqlite::types::ValueRef as S;
    Ok(match value {
        S::Null => Value::Null,
        S::Integer(i) => Value::Int(i),
        S::Real(f) => Value::Real(f),
        S::Text(bytes) => Value::Text(String::from_utf8(bytes.to_vec()).map_err(|_| {
            rusqlite::Error::InvalidColumnType(
                0,
                format!("{column} (text that is not UTF-8)"),
                rusqlite::types::Type::Text,
            )
        })?),
        S::Blob(bytes) => Value::Blob(bytes.to_vec()),
    })
}

fn to_sqlite(value: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match value {
        Value::Null => S::Null,
        Value::Int(i) => S::Integer(*i),
        Value::Real(f) => S::Real(*f),
        Value::Text(s) => S::Text(s.clone()),
        Value::Blob(b) => S::Blob(b.clone()),
    }
}

/// One multi-row INSERT of `rows`, with the table's user triggers off meanwhile.
fn insert_batch(tx: &dyn Db, table: &TablePlan, rows: &[Vec<Value>]) -> CopyResult<()> {
    let name = quoted(&table.name);
    let triggers = |on: bool| -> CopyResult<()> {
        if table.has_triggers {
            let switch = if on { "ENABLE" } else { "DISABLE" };
            tx.execute(
                &format!("ALTER TABLE {name} {switch} TRIGGER USER"),
                params![],
            )
            .context(|| format!("switching the triggers of {}", table.name))?;
        }
        Ok(())
    };
    triggers(false)?;
    let params: Vec<ValueRef<'_>> = rows.iter().flatten().map(Value::as_ref).collect();
    tx.execute(&insert_sql(table, rows.len()), &params)
        .context(|| format!("copying table {}", table.name))?;
    triggers(true)
}

fn insert_sql(table: &TablePlan, rows: usize) -> String {
    let row = format!("({})", bolt_sql::marks(table.columns.len()));
    let values = vec![row; rows].join(", ");
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES {values}",
        quoted(&table.name),
        column_list(&table.columns)
    );
    // The PostgreSQL migration writes a row of its own into store_meta: SQLite's wins.
    if table.name == "store_meta" {
        sql.push_str(" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
    }
    sql
}

// The search index.

/// Each `search_docs` row with the text it indexes: a dataclip's body or a log line's
/// message (as search.rs reads a document).
const DOCUMENTS: &str =
    "SELECT sd.rowid, sd.source, COALESCE(d.body, l.message) FROM search_docs sd
     LEFT JOIN dataclips d ON sd.source <> 'log' AND d.id = sd.ref_id
     LEFT JOIN log_lines l ON sd.source = 'log' AND l.id = CAST(sd.ref_id AS INTEGER)";

/// Fills PostgreSQL's `search_fts` from the documents `search_docs` lists; returns how
/// many were indexed (one per `search_docs` row).
fn rebuild_search_index(
    source: &Connection,
    target: &PgClient,
    marker: &Marker,
    progress: &mut dyn FnMut(Progress<'_>) -> ControlFlow<()>,
) -> CopyResult<u64> {
    let total = count_sqlite(source, "search_docs")?;
    let first = format!("{DOCUMENTS} ORDER BY sd.rowid LIMIT {SEARCH_BATCH_ROWS}");
    let next =
        format!("{DOCUMENTS} WHERE sd.rowid > ?1 ORDER BY sd.rowid LIMIT {SEARCH_BATCH_ROWS}");
    let stopped = |done| CopyError::Stopped {
        table: SEARCH_INDEX.to_string(),
        done,
        total,
    };
    let mut report = |done| match progress(Progress {
        table: SEARCH_INDEX,
        done,
        total,
    }) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(stopped(done)),
    };
    report(0)?;
    let mut after: Option<Value> = None;
    let mut done = 0u64;
    loop {
        let (sql, params) = match &after {
            Some(rowid) => (&next, std::slice::from_ref(rowid)),
            None => (&first, &[][..]),
        };
        let rows = read_page(source, sql, params, SEARCH_BATCH_ROWS)
            .context(|| "reading the search documents from SQLite".to_string())?;
        let Some(last) = rows.last() else { break };
        after = Some(last[0].clone());
        let documents: Vec<(Value, String)> = rows.into_iter().map(document_vector).collect();
        done += documents.len() as u64;
        target
            .in_transaction(|tx| {
                insert_documents(tx, &documents)?;
                marker.set(tx, "rebuilding the search index", done, total)
            })
            .map_err(|e| in_table(e, SEARCH_INDEX))?;
        report(done)?;
    }
    Ok(done)
}

/// A `DOCUMENTS` row as (rowid, tsvector literal).
fn document_vector(row: Vec<Value>) -> (Value, String) {
    let mut row = row.into_iter();
    let rowid = row.next().unwrap_or(Value::Null);
    let source = match row.next() {
        Some(Value::Text(s)) => s,
        _ => String::new(),
    };
    let text = match row.next() {
        Some(Value::Text(text)) => indexed_text(&source, text),
        _ => String::new(),
    };
    (rowid, bolt_sql::fts::tsvector(&text))
}

/// The text the store indexed for a document: a log line's message as it is; a dataclip's
/// body as its JSON's words ([`dataclips::index_text`]), or as it is when it isn't JSON;
/// cut as `dataclips::index` cuts it.
fn indexed_text(source: &str, text: String) -> String {
    let text = if source == "log" {
        text
    } else {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => dataclips::index_text(&value),
            Err(_) => text,
        }
    };
    if text.len() <= MAX_INDEXED_CHARS {
        text
    } else {
        text.chars().take(MAX_INDEXED_CHARS).collect()
    }
}

fn insert_documents(tx: &dyn Db, documents: &[(Value, String)]) -> CopyResult<()> {
    let values = vec!["(?, CAST(? AS tsvector))"; documents.len()].join(", ");
    let sql = format!("INSERT INTO search_fts (rowid, text) VALUES {values}");
    let params: Vec<ValueRef<'_>> = documents
        .iter()
        .flat_map(|(rowid, vector)| [rowid.as_ref(), ValueRef::Text(vector)])
        .collect();
    tx.execute(&sql, &params)
        .context(|| "rebuilding the search index".to_string())?;
    Ok(())
}

// After the rows.

/// Moves each identity's sequence past the ids copied, so new rows get new ids.
fn move_sequences(target: &PgClient, plan: &[TablePlan]) -> CopyResult<()> {
    for table in plan {
        for column in &table.identity {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence(?1, ?2), COALESCE(MAX({col}), 0) + 1, false) FROM {tbl}",
                col = quoted(column),
                tbl = quoted(&table.name)
            );
            target
                .query_one::<i64>(&sql, params![quoted(&table.name), column])
                .context(|| format!("moving the sequence of {}.{column}", table.name))?;
        }
    }
    Ok(())
}

/// Gives the planner statistics of the new rows at once, before autovacuum would.
fn analyze(target: &PgClient, plan: &[TablePlan]) -> CopyResult<()> {
    for table in plan.iter().map(|t| t.name.as_str()).chain([SEARCH_INDEX]) {
        target
            .execute(&format!("ANALYZE {}", quoted(table)), params![])
            .context(|| format!("analyzing {table}"))?;
    }
    Ok(())
}

fn count_postgres(target: &PgClient, table: &str) -> CopyResult<u64> {
    let filter = if table == "store_meta" {
        format!(" WHERE key <> '{MARKER_KEY}'")
    } else {
        String::new()
    };
    let n: i64 = target
        .query_one(
            &format!("SELECT COUNT(*) FROM {}{filter}", quoted(table)),
            params![],
        )
        .context(|| format!("counting the rows of {table} on PostgreSQL"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Every table's rows counted again on both sides, and the search index's documents.
fn verify(
    source: &Connection,
    target: &PgClient,
    tables: &[TableCount],
    search_documents: u64,
) -> CopyResult<()> {
    let mismatch = |table: &str, sqlite: u64, postgres: u64| {
        (sqlite != postgres).then(|| CopyError::CountMismatch {
            table: table.to_string(),
            sqlite,
            postgres,
        })
    };
    for table in tables {
        let sqlite = count_sqlite(source, &table.table)?;
        let postgres = count_postgres(target, &table.table)?;
        if let Some(err) = mismatch(&table.table, sqlite, postgres) {
            return Err(err);
        }
    }
    let documents = count_sqlite(source, "search_docs")?;
    let indexed = count_postgres(target, SEARCH_INDEX)?;
    if let Some(err) = mismatch(
        "the search index (search_docs → search_fts)",
        documents,
        indexed,
    )
    .or_else(|| {
        mismatch(
            "the search index (documents indexed)",
            documents,
            search_documents,
        )
    }) {
        return Err(err);
    }
    Ok(())
}

#[cfg(test)]
#[path = "copy_tests.rs"]
mod tests;
