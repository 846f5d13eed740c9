//! `bolt-bench history`: seeds a store with N realistic work orders (straight into SQLite,
//! indexed for search exactly as the daemon indexes them), then times the history queries
//! people use with the daemon's own functions: filter pages, full-text search, `show`,
//! and queueing a 10,000 work order bulk rerun. Prints figures; asserts nothing.

use anyhow::{Context, anyhow};
use bolt_daemon::history;
use bolt_daemon::queue::reruns;
use bolt_daemon::store::history as store_history;
use bolt_daemon::store::refs as store_refs;
use bolt_daemon::store::seeder::{
    self, COMMON_WORD, Rng, Seeded, Workflow, deploy_example, id_at, load_workflows, seed,
};
use bolt_daemon::store::sqlite_of;
use bolt_daemon::store::{DB_FILE, Store, StoreResult, copy};
use bolt_shared::model::{WorkOrderFilter, WorkOrderState};
use bolt_sql::{Db, DbExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Repetitions per query (fewer if a query blows its time budget).
const REPEATS: usize = 200;
const QUERY_BUDGET: Duration = Duration::from_secs(30);
/// Work orders per writer transaction in a bulk rerun (as the daemon's handler does).
const RERUN_CHUNK: usize = 100;
const RERUN_COUNT: usize = 10_000;

#[derive(clap::Args, Debug)]
pub struct HistoryBenchArgs {
    /// How many work orders to seed.
    #[arg(long, default_value_t = 100_000)]
    pub work_orders: u64,
    /// Where to put the store (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Keep the seeded store afterwards (its path is printed).
    #[arg(long)]
    pub keep: bool,
    /// Measure the store already in --dir (from `bolt-bench seed`) instead of seeding one.
    /// The bulk rerun adds runs to it.
    #[arg(long, requires = "dir")]
    pub existing: bool,
    /// Time the queries on PostgreSQL instead: the seeded (or --existing) SQLite store is
    /// copied into a fresh database on this server (`bolt store copy`), which is measured
    /// and then dropped (kept with --keep). A URL naming any database on the server.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Measure this PostgreSQL database, copied earlier from the SQLite store in --dir
    /// (`--postgres … --keep`), without copying again.
    #[arg(
        long,
        value_name = "URL",
        requires = "existing",
        conflicts_with = "postgres"
    )]
    pub postgres_database: Option<String>,
}

/// Where the queries are timed.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// The SQLite store itself.
    Sqlite,
    /// A fresh database on this PostgreSQL server, filled by copying the SQLite store.
    CopyTo { server: &'a str, keep: bool },
    /// A PostgreSQL database copied earlier.
    Postgres { url: &'a str },
}

impl HistoryBenchArgs {
    fn target(&self) -> Target<'_> {
        match (&self.postgres, &self.postgres_database) {
            (_, Some(url)) => Target::Postgres { url },
            (Some(server), None) => Target::CopyTo {
                server,
                keep: self.keep,
            },
            (None, None) => Target::Sqlite,
        }
    }
}

/// `bolt-bench seed`: fills a store with realistic history and keeps it.
#[derive(clap::Args, Debug)]
pub struct SeedArgs {
    /// How many work orders to seed.
    #[arg(long)]
    pub work_orders: u64,
    /// The data directory to fill (created if needed; bolt.db inside must not exist yet).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

pub fn run_seed(args: &SeedArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)?;
    if args.dir.join(DB_FILE).exists() {
        return Err(anyhow!(
            "{} already holds a store; seed into an empty directory",
            args.dir.display()
        ));
    }
    let store = Store::open(&args.dir, 2)?;
    let deployed = deploy_example(&store)?;
    seed(&store, &deployed, args.work_orders)?;
    size_per_work_order(&store, args.work_orders)?;
    println!(
        "seeded store: {} (boltd --data-dir {0}, or bolt-bench history --existing --dir {0})",
        args.dir.display()
    );
    Ok(())
}

pub fn run(args: &HistoryBenchArgs) -> anyhow::Result<()> {
    if let (true, Some(dir)) = (args.existing, &args.dir) {
        return bench_existing(dir, args.target());
    }
    let temp = match &args.dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("bolt-bench-history-")
                .tempdir()?,
        ),
    };
    let dir: PathBuf = match (&args.dir, &temp) {
        (Some(dir), _) => dir.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => return Err(anyhow!("no directory for the store")),
    };
    std::fs::create_dir_all(&dir)?;
    println!(
        "bolt-bench history: {} work orders in {} ({} cores)",
        args.work_orders,
        dir.display(),
        crate::cpus()
    );
    let result = bench(&dir, args.work_orders, args.target());
    if args.keep {
        if let Some(temp) = temp {
            let kept = temp.keep();
            println!("kept the store in {}", kept.display());
        } else {
            println!("kept the store in {}", dir.display());
        }
    } else if temp.is_none() {
        for name in [DB_FILE, "bolt.db-wal", "bolt.db-shm"] {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
    result
}

/// Measures a store seeded earlier: samples ids and patients from it.
fn bench_existing(dir: &Path, target: Target<'_>) -> anyhow::Result<()> {
    if !dir.join(DB_FILE).exists() {
        return Err(anyhow!("no store in {}", dir.display()));
    }
    let store = Store::open(dir, 2)?;
    let deployed = load_workflows(&store)?;
    let (total, seeded) = seeder::sample(&store)?;

    println!(
        "bolt-bench history: the existing store in {} ({total} work orders)",
        dir.display()
    );
    measure_on(target, store, &deployed, &seeded, total)
}

fn bench(dir: &Path, work_orders: u64, target: Target<'_>) -> anyhow::Result<()> {
    let store = Store::open(dir, 2)?;
    let deployed = deploy_example(&store)?;
    let seeded = seed(&store, &deployed, work_orders)?;
    measure_on(target, store, &deployed, &seeded, work_orders)
}

/// Times the queries on the SQLite store, or closes it and times them on PostgreSQL.
fn measure_on(
    target: Target<'_>,
    sqlite: Store,
    workflows: &[Workflow],
    seeded: &Seeded,
    total: u64,
) -> anyhow::Result<()> {
    let (server, keep, url) = match target {
        Target::Sqlite => return measure(&sqlite, workflows, seeded, total),
        Target::CopyTo { server, keep } => (server, keep, None),
        Target::Postgres { url } => ("", false, Some(url.to_string())),
    };
    let data_dir = sqlite
        .path
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("the store has no data dir"))?;
    // `bolt store copy` reads a stopped store: fold the log into bolt.db and close it.
    sqlite.fold_wal()?;
    drop(sqlite);
    let scratch = match url {
        Some(_) => None,
        None => Some(copy_to_postgres(&data_dir, server)?),
    };
    let url = match (&url, &scratch) {
        (Some(url), _) => url.clone(),
        (None, Some(scratch)) => scratch.url.clone(),
        (None, None) => return Err(anyhow!("no PostgreSQL database to measure")),
    };
    let settings = bolt_sql::PgSettings::from_url(&url)?;
    let store = Store::open_postgres(&settings, &data_dir, 2)?;
    let measured = measure(&store, workflows, seeded, total);
    drop(store);
    if let (true, Some(scratch)) = (keep, scratch) {
        println!(
            "kept the PostgreSQL database: bolt-bench history --existing --dir {} --postgres-database {}",
            data_dir.display(),
            scratch.url
        );
        // Not dropped: the database outlives this process.
        std::mem::forget(scratch);
    }
    measured
}

/// Copies the SQLite store in `data_dir` into a fresh database on `server`, as `bolt store
/// copy` does, and says how long it took.
fn copy_to_postgres(data_dir: &Path, server: &str) -> anyhow::Result<bolt_e2e::ScratchDatabase> {
    let scratch = bolt_e2e::ScratchDatabase::create_on(server);
    let settings = bolt_sql::PgSettings::from_url(&scratch.url)?;
    println!("copying the store into PostgreSQL ({settings}):");
    let mut last_tenth = u64::MAX;
    let copied = copy::copy_store(&data_dir.join(DB_FILE), &settings, &mut |p| {
        let tenth = p.done * 10 / p.total.max(1);
        if tenth != last_tenth || p.done == p.total {
            println!("  {}: {}/{} rows", p.table, p.done, p.total);
        }
        last_tenth = tenth;
        std::ops::ControlFlow::Continue(())
    })?;
    let secs = copied.millis as f64 / 1000.0;
    println!(
        "copied {} rows in {} tables and rebuilt {} search documents in {secs:.0} s ({:.0} rows/s)",
        copied.rows,
        copied.tables.len(),
        copied.search_documents,
        (copied.rows + copied.search_documents) as f64 / secs.max(0.001)
    );
    Ok(scratch)
}

/// p50/p95 of repeated timings, in milliseconds.
struct Timings(Vec<Duration>);

impl Timings {
    fn percentile(&self, p: usize) -> f64 {
        crate::percentile::Samples::of(&self.0).percentile_ms(p as f64)
    }
}

/// Runs `query` up to REPEATS times (within QUERY_BUDGET) with a fresh random parameter each.
fn time_query(
    store: &Store,
    label: &str,
    target_ms: f64,
    rng: &mut Rng,
    mut query: impl FnMut(&dyn Db, &mut Rng) -> StoreResult<usize>,
) -> anyhow::Result<()> {
    let mut timings = Vec::new();
    let mut rows = 0usize;
    let budget = Instant::now();
    while timings.len() < REPEATS && (timings.is_empty() || budget.elapsed() < QUERY_BUDGET) {
        let started = Instant::now();
        rows += store.readers.read_blocking(|db| query(db, rng))?;
        timings.push(started.elapsed());
    }
    let t = Timings(timings);
    let p95 = t.percentile(95);
    println!(
        "  {label:<46} p50 {:8.2} ms  p95 {:8.2} ms  (n={}, avg rows {:.1}; target p95 <= {target_ms} ms: {})",
        t.percentile(50),
        p95,
        t.0.len(),
        rows as f64 / t.0.len() as f64,
        if p95 <= target_ms { "met" } else { "MISSED" }
    );
    Ok(())
}

fn measure(
    store: &Store,
    workflows: &[Workflow],
    seeded: &Seeded,
    total: u64,
) -> anyhow::Result<()> {
    let mut rng = Rng(0xBE7C);
    let now = chrono::Utc::now();
    let week_ago = now - chrono::Duration::days(7);
    let keys: Vec<String> = workflows.iter().map(|w| w.key.clone()).collect();
    let failed_filter = |rng: &mut Rng| WorkOrderFilter {
        states: vec![WorkOrderState::Failed],
        workflow: Some(rng.pick(&keys).clone()),
        since: Some(week_ago),
        ..WorkOrderFilter::default()
    };
    println!(
        "queries (daemon functions on a read connection, {}):",
        store
            .database()
            .map_or("SQLite".to_string(), |db| format!("PostgreSQL {db}"))
    );
    time_query(
        store,
        "filter failed+workflow+7d, first page (counts)",
        10.0,
        &mut rng,
        |conn, rng| {
            Ok(history::list(conn, &failed_filter(rng), 50, None)?
                .rows
                .len())
        },
    )?;
    time_query(
        store,
        "  of which state counts (workflow+7d)",
        10.0,
        &mut rng,
        |conn, rng| Ok(history::counts(conn, &failed_filter(rng))?.0.len()),
    )?;
    let span_micros = (now - week_ago).num_microseconds().unwrap_or(0).max(1) as u64;
    time_query(
        store,
        "filter failed+workflow+7d, later page",
        10.0,
        &mut rng,
        |conn, rng| {
            let cursor = id_at(week_ago.timestamp_micros() + rng.below(span_micros) as i64);
            Ok(history::list(conn, &failed_filter(rng), 50, Some(&cursor))?
                .rows
                .len())
        },
    )?;
    let search = |text: String| WorkOrderFilter {
        search: Some(text),
        ..WorkOrderFilter::default()
    };
    let patients = &seeded.sample_patients;
    time_query(
        store,
        "search rare patient id, first page (counts)",
        50.0,
        &mut rng,
        |conn, rng| {
            Ok(
                history::list(conn, &search(rng.pick(patients).clone()), 50, None)?
                    .rows
                    .len(),
            )
        },
    )?;
    time_query(
        store,
        &format!("search common word `{COMMON_WORD}`, first page (counts)"),
        50.0,
        &mut rng,
        |conn, _| {
            Ok(history::list(conn, &search(COMMON_WORD.into()), 50, None)?
                .rows
                .len())
        },
    )?;
    time_query(
        store,
        &format!("  of which state counts for `{COMMON_WORD}` (capped)"),
        50.0,
        &mut rng,
        |conn, _| Ok(history::counts(conn, &search(COMMON_WORD.into()))?.0.len()),
    )?;
    // Cursors of the common word's pages 2..=20, collected once.
    let cursors = store.readers.read_blocking(|conn| {
        let mut cursors = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..20 {
            let page = history::list(conn, &search(COMMON_WORD.into()), 50, cursor.as_deref())?;
            match page.next_cursor {
                Some(next) => {
                    cursors.push(next.clone());
                    cursor = Some(next);
                }
                None => break,
            }
        }
        Ok(cursors)
    })?;
    if !cursors.is_empty() {
        time_query(
            store,
            &format!("search `{COMMON_WORD}`, a later page (2..20)"),
            50.0,
            &mut rng,
            |conn, rng| {
                let cursor = rng.pick(&cursors);
                Ok(
                    history::list(conn, &search(COMMON_WORD.into()), 50, Some(cursor))?
                        .rows
                        .len(),
                )
            },
        )?;
    }
    time_query(
        store,
        &format!("search `{COMMON_WORD}` + failed+workflow+7d, first page"),
        50.0,
        &mut rng,
        |conn, rng| {
            let filter = WorkOrderFilter {
                search: Some(COMMON_WORD.into()),
                ..failed_filter(rng)
            };
            Ok(history::list(conn, &filter, 50, None)?.rows.len())
        },
    )?;
    time_query(
        store,
        &format!("search `{COMMON_WORD}*` (word prefix), first page"),
        50.0,
        &mut rng,
        |conn, _| {
            Ok(
                history::list(conn, &search(format!("{COMMON_WORD}*")), 50, None)?
                    .rows
                    .len(),
            )
        },
    )?;
    let ids = &seeded.sample_ids;
    time_query(
        store,
        "show random work order by short ref, with bodies",
        5.0,
        &mut rng,
        |conn, rng| {
            let short = bolt_shared::model::short_ref(rng.pick(ids.as_slice()).as_str());
            Ok(history::show(conn, &short, true)?.work_order.runs.len())
        },
    )?;
    time_query(
        store,
        "show random work order with bodies",
        5.0,
        &mut rng,
        |conn, rng| {
            Ok(
                history::show(conn, rng.pick(ids.as_slice()).as_str(), true)?
                    .work_order
                    .runs
                    .len(),
            )
        },
    )?;
    size_per_work_order(store, total)?;
    bulk_rerun(store)?;
    let patient = patients.first().map_or("P-000001", |p| p.as_str());
    match store.database() {
        None => explain(store, &keys[0], week_ago, patient),
        Some(_) => explain_postgres(store, &keys[0], week_ago, patient),
    }
}

fn size_per_work_order(store: &Store, total: u64) -> anyhow::Result<()> {
    if store.database().is_some() {
        return postgres_size(store, total);
    }
    store.writer.write_blocking(|_| Ok(()))?;
    // A checkpoint can't run inside the writer's transaction: use a separate connection.
    let conn = bolt_daemon::store::open_connection(&store.path)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let size = |suffix: &str| {
        let mut path = store.path.clone().into_os_string();
        path.push(suffix);
        std::fs::metadata(PathBuf::from(path)).map_or(0, |m| m.len())
    };
    let bytes = size("") + size("-wal") + size("-shm");
    println!(
        "  database size: {:.1} MB = {:.1} KB per work order",
        bytes as f64 / 1e6,
        bytes as f64 / total.max(1) as f64 / 1024.0
    );
    Ok(())
}

fn bulk_rerun(store: &Store) -> anyhow::Result<()> {
    let started = Instant::now();
    let failed = WorkOrderFilter {
        states: vec![WorkOrderState::Failed],
        ..WorkOrderFilter::default()
    };
    let mut ids = store
        .readers
        .read_blocking(|conn| bolt_daemon::history::matching_ids(conn, &failed))?;
    if ids.len() < RERUN_COUNT {
        ids = store.readers.read_blocking(|conn| {
            bolt_daemon::history::matching_ids(conn, &WorkOrderFilter::default())
        })?;
    }
    let matched = started.elapsed();
    ids.truncate(RERUN_COUNT);
    let count = ids.len();
    let mut queued = 0usize;
    let mut skipped = 0usize;
    for chunk in ids.chunks(RERUN_CHUNK) {
        let chunk = chunk.to_vec();
        let outcomes = store.writer.write_blocking(move |tx| {
            chunk
                .iter()
                .map(|id| reruns::rerun_or_skip(tx, id, None))
                .collect::<Result<Vec<_>, _>>()
        })?;
        for q in outcomes {
            if q.outcome.run_id.is_some() {
                queued += 1
            } else {
                skipped += 1
            }
        }
    }
    let total = started.elapsed();
    println!(
        "  bulk rerun of {count} work orders: matching_ids {:.0} ms, queued {queued} (skipped {skipped}) in {:.2} s total ({:.0}/s, {} per transaction)",
        matched.as_secs_f64() * 1000.0,
        total.as_secs_f64(),
        count as f64 / total.as_secs_f64(),
        RERUN_CHUNK
    );
    Ok(())
}

/// The status/workflow/date combinations whose list pages the plans show.
fn plan_cases(workflow: &str, since: chrono::DateTime<chrono::Utc>) -> [PlanCase<'_>; 4] {
    let failed = vec![WorkOrderState::Failed];
    [
        (
            "failed+workflow+7d",
            failed.clone(),
            Some(workflow),
            Some(since),
        ),
        ("failed+7d", failed.clone(), None, Some(since)),
        ("workflow+7d", Vec::new(), Some(workflow), Some(since)),
        ("failed+workflow", failed, Some(workflow), None),
    ]
}

/// A plan case: its label, states, workflow and start of the window.
type PlanCase<'a> = (
    &'static str,
    Vec<WorkOrderState>,
    Option<&'a str>,
    Option<chrono::DateTime<chrono::Utc>>,
);

/// Query plans of the list page for status/workflow/date combinations, the counts and the
/// search walk, to see which index each one uses.
fn explain(
    store: &Store,
    workflow: &str,
    since: chrono::DateTime<chrono::Utc>,
    patient: &str,
) -> anyhow::Result<()> {
    let cases = plan_cases(workflow, since);
    println!("query plans (as history.rs builds them):");
    store.readers.read_blocking(|db| {
        let conn = sqlite_of(db, "the query plans")?;
        let mut plans: Vec<(String, String, Vec<rusqlite::types::Value>)> = Vec::new();
        for (label, states, workflow, since) in cases {
            let filter = WorkOrderFilter {
                states,
                workflow: workflow.map(str::to_string),
                since,
                ..WorkOrderFilter::default()
            };
            let selection = history::ResolvedFilter::new(conn, &filter)?.selection();
            let (where_sql, params) =
                store_history::filter_sql(&selection, bolt_sql::Dialect::Sqlite);
            let params = params.into_iter().map(sqlite_value).collect();
            plans.push((
                format!("filter page {label}"),
                format!(
                    "SELECT wo.id FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
                     LEFT JOIN dataclips d ON d.id = wo.dataclip_id {where_sql} ORDER BY wo.id DESC LIMIT 51"
                ),
                params,
            ));
        }
        let text = |t: &str| rusqlite::types::Value::Text(t.to_string());
        let int = rusqlite::types::Value::Integer;
        plans.push((
            "counts: hourly buckets of a workflow".into(),
            "SELECT state, SUM(n) FROM work_order_counts WHERE workflow_id = ?1 AND hour >= ?2 AND hour < ?3 GROUP BY state".into(),
            vec![text("x"), int(0), int(1)],
        ));
        plans.push((
            "counts: hourly buckets of all workflows".into(),
            "SELECT state, SUM(n) FROM work_order_counts INDEXED BY work_order_counts_hour WHERE hour >= ?1 AND hour < ?2 GROUP BY state".into(),
            vec![int(0), int(1)],
        ));
        plans.push((
            "search walk".into(),
            "SELECT f.rowid, sd.work_order_id FROM search_fts f CROSS JOIN search_docs sd ON sd.rowid = f.rowid WHERE search_fts MATCH ?1 AND f.rowid < ?2 ORDER BY f.rowid DESC".into(),
            vec![text(&history::fts_query(patient).unwrap_or_default()), int(i64::MAX)],
        ));
        plans.push((
            "show by short ref".into(),
            store_refs::short_ref_sql("work_orders"),
            vec![text("\"w01234567\""), text("01234567"), int(2)],
        ));
        for (what, sql, params) in plans {
            println!("  {what}:");
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(3)?))
            })?;
            for row in rows {
                let (id, parent, detail) = row?;
                println!("    [{id}<-{parent}] {detail}");
            }
        }
        Ok(())
    })
    .context("explaining the queries")?;
    Ok(())
}

/// PostgreSQL's plans of the filter pages, the search walk and the short-ref lookup, each
/// run once (EXPLAIN ANALYZE: the plan with its real row counts and times).
fn explain_postgres(
    store: &Store,
    workflow: &str,
    since: chrono::DateTime<chrono::Utc>,
    patient: &str,
) -> anyhow::Result<()> {
    let cases = plan_cases(workflow, since);
    println!("query plans on PostgreSQL (EXPLAIN ANALYZE, as history.rs builds them):");
    store
        .readers
        .read_blocking(|db| {
            let mut plans: Vec<(String, String, Vec<bolt_sql::Value>)> = Vec::new();
            for (label, states, workflow, since) in cases {
                let filter = WorkOrderFilter {
                    states,
                    workflow: workflow.map(str::to_string),
                    since,
                    ..WorkOrderFilter::default()
                };
                let selection = history::ResolvedFilter::new(db, &filter)?.selection();
                let (where_sql, params) =
                    store_history::filter_sql(&selection, bolt_sql::Dialect::Postgres);
                plans.push((
                    format!("filter page {label}"),
                    format!(
                        "SELECT wo.id FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
                         LEFT JOIN dataclips d ON d.id = wo.dataclip_id {where_sql} ORDER BY wo.id DESC LIMIT 51"
                    ),
                    params,
                ));
            }
            let text = |t: &str| bolt_sql::Value::Text(t.to_string());
            for (what, words) in [("rare patient id", patient), ("common word", COMMON_WORD)] {
                let tsquery = bolt_sql::fts::Query::parse(words)
                    .and_then(|q| q.tsquery())
                    .unwrap_or_default();
                plans.push((
                    format!("search walk, {what} (first 256 matches)"),
                    bolt_daemon::store::search::WALK_PAGE_POSTGRES.into(),
                    vec![text(&tsquery), bolt_sql::Value::Int(i64::MAX), bolt_sql::Value::Int(256)],
                ));
            }
            for (what, sql, params) in plans {
                println!("  {what}:");
                let bound: Vec<bolt_sql::ValueRef<'_>> =
                    params.iter().map(bolt_sql::Value::as_ref).collect();
                let lines: Vec<String> = db.query_map(
                    &format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"),
                    &bound,
                    |r| r.get(0),
                )?;
                for line in lines {
                    println!("    {line}");
                }
            }
            Ok(())
        })
        .context("explaining the queries on PostgreSQL")?;
    Ok(())
}

/// The PostgreSQL database's size (tables, indexes and TOAST) and its biggest relations.
fn postgres_size(store: &Store, total: u64) -> anyhow::Result<()> {
    let (bytes, biggest) = store.readers.read_blocking(|db| {
        let bytes: i64 = db.query_one("SELECT pg_database_size(current_database())", &[])?;
        let biggest: Vec<(String, i64)> = db.query_map(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'
             ORDER BY 2 DESC LIMIT 6",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((bytes, biggest))
    })?;
    let biggest: Vec<String> = biggest
        .iter()
        .map(|(table, bytes)| format!("{table} {:.0} MB", *bytes as f64 / 1e6))
        .collect();
    println!(
        "  database size: {:.1} MB = {:.1} KB per work order (with indexes and TOAST: {})",
        bytes as f64 / 1e6,
        bytes as f64 / total.max(1) as f64 / 1024.0,
        biggest.join(", ")
    );
    Ok(())
}

/// A parameter of the store's SQL as rusqlite binds it (for EXPLAIN QUERY PLAN).
fn sqlite_value(value: bolt_sql::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        bolt_sql::Value::Null => V::Null,
        bolt_sql::Value::Int(i) => V::Integer(i),
        bolt_sql::Value::Real(f) => V::Real(f),
        bolt_sql::Value::Text(t) => V::Text(t),
        bolt_sql::Value::Blob(b) => V::Blob(b),
    }
}
