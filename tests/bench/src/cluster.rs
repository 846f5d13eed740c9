//! `bolt-bench cluster`: webhook intake and completed runs per second on SQLite (one boltd)
//! and on one PostgreSQL database shared by 1, 2 and 3 boltd nodes, in one run.
//!
//! Each setup and phase gets fresh nodes (and a fresh database): the bench project is
//! deployed on the first node, the others join with its key file, and the load generator
//! sends N webhooks spread round-robin over the nodes, every node's share at once from its
//! own share of the connections. Intake: the workflow's concurrency is 0, so runs stay
//! queued. Runs: the one-step job runs, and the figure is N over the time from the first
//! request to the end of the last run (read from the store).
//!
//! Every node, PostgreSQL and the load generator share this machine's cores, so more nodes
//! show what sharing a database costs, not how a cluster scales. The CPU each of them spent
//! per request is printed too: that, unlike throughput, carries over to separate machines.

use crate::webhooks::{self, BODY_VARIANTS, Round};
use crate::{load_gen, proc_cpu};
use anyhow::{Context, anyhow};
use bolt_e2e::{Daemon, ScratchDatabase};
use bolt_sql::{Db, DbExt, PgClient, PgSettings, params};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct ClusterBenchArgs {
    /// Webhook requests per setup and phase, spread round-robin over the nodes.
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Concurrent connections in all, split evenly over the nodes (closed loop).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// The setups, in order: `sqlite` (one boltd) and `pgN` (N boltd nodes on one
    /// PostgreSQL database), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,pg1,pg2,pg3", value_parser = parse_setup)]
    pub setups: Vec<Setup>,
    /// The phases: `intake` (runs stay queued) and `runs` (every run executes).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "intake,runs")]
    pub phases: Vec<Phase>,
    /// The PostgreSQL server, as a URL naming any database on it: each PostgreSQL setup and
    /// phase gets a fresh database there, dropped afterwards.
    #[arg(long, env = "BOLT_TEST_POSTGRES_URL", value_name = "URL")]
    pub postgres: Option<String>,
}

/// Where the records are kept, and by how many nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    Sqlite,
    Postgres { nodes: usize },
}

impl Setup {
    fn nodes(self) -> usize {
        match self {
            Setup::Sqlite => 1,
            Setup::Postgres { nodes } => nodes,
        }
    }

    fn label(self) -> String {
        match self {
            Setup::Sqlite => "SQLite, 1 node".into(),
            Setup::Postgres { nodes: 1 } => "PostgreSQL, 1 node".into(),
            Setup::Postgres { nodes } => format!("PostgreSQL, {nodes} nodes"),
        }
    }
}

fn parse_setup(text: &str) -> Result<Setup, String> {
    if text == "sqlite" {
        return Ok(Setup::Sqlite);
    }
    text.strip_prefix("pg")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (1..=16).contains(n))
        .map(|nodes| Setup::Postgres { nodes })
        .ok_or_else(|| format!("`{text}`: give sqlite or pgN (N nodes, 1 to 16)"))
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Webhooks acknowledged; runs stay queued.
    Intake,
    /// Webhooks acknowledged and their runs executed.
    Runs,
}

/// The nodes of one setup. The nodes are killed (dropped) before the database is dropped.
struct Cluster {
    nodes: Vec<Daemon>,
    database: Option<Arc<ScratchDatabase>>,
}

impl Cluster {
    /// Starts the first node, deploys the bench project on it, then starts the others on
    /// the same database with its key file.
    fn start(setup: Setup, server: Option<&str>, queue_only: bool) -> anyhow::Result<Cluster> {
        let database = match setup {
            Setup::Sqlite => None,
            Setup::Postgres { .. } => {
                let server = server.ok_or_else(|| {
                    anyhow!("the PostgreSQL setups need --postgres URL (or BOLT_TEST_POSTGRES_URL)")
                })?;
                Some(Arc::new(ScratchDatabase::create_on(server)))
            }
        };
        let first = crate::daemon::launch_node(database.clone(), None)?;
        let mut client = bolt_shared::client::Client::connect(&first.socket)?;
        webhooks::deploy_bench_project(&mut client, queue_only)?;
        let key = first.data_dir().join(bolt_daemon::secrets::KEY_FILE);
        let mut nodes = vec![first];
        for _ in 1..setup.nodes() {
            nodes.push(crate::daemon::launch_node(database.clone(), Some(&key))?);
        }
        Ok(Cluster { nodes, database })
    }

    /// A connection to the store the nodes share, for reading what they recorded.
    fn store(&self) -> anyhow::Result<Box<dyn Db>> {
        match &self.database {
            Some(database) => {
                let settings = PgSettings::from_url(&database.url)?;
                Ok(Box::new(PgClient::connect(&settings)?))
            }
            None => {
                let path = self.nodes[0].data_dir().join(bolt_daemon::store::DB_FILE);
                let conn = rusqlite::Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .with_context(|| format!("opening {}", path.display()))?;
                conn.busy_timeout(Duration::from_secs(5))?;
                Ok(Box::new(conn))
            }
        }
    }

    /// The PostgreSQL database's name (to count its server processes' CPU).
    fn database_name(&self) -> Option<String> {
        let url = &self.database.as_ref()?.url;
        let path = url.split_once('?').map_or(url.as_str(), |(base, _)| base);
        path.rsplit('/').next().map(str::to_string)
    }

    fn cpu(&self) -> Cpu {
        Cpu {
            nodes: self
                .nodes
                .iter()
                .map(|node| proc_cpu::process(node.pid()))
                .collect(),
            postgres: self.database_name().and_then(|db| proc_cpu::postgres(&db)),
            load_generator: proc_cpu::process(std::process::id()),
        }
    }
}

/// CPU time used so far by each node, PostgreSQL (this database's backends and the
/// server's background processes) and the load generator (this process).
struct Cpu {
    nodes: Vec<Option<Duration>>,
    postgres: Option<Duration>,
    load_generator: Option<Duration>,
}

impl Cpu {
    /// "boltd 123 µs (nodes 60 + 63), PostgreSQL 80 µs, load generator 20 µs" per `per`.
    fn describe_since(&self, before: &Cpu, per: usize) -> (String, CpuPer) {
        let micros = |after: Option<Duration>, before: Option<Duration>| {
            after
                .zip(before)
                .map(|(a, b)| a.saturating_sub(b).as_secs_f64() * 1e6 / per.max(1) as f64)
        };
        let nodes: Vec<Option<f64>> = self
            .nodes
            .iter()
            .zip(&before.nodes)
            .map(|(a, b)| micros(*a, *b))
            .collect();
        let boltd: f64 = nodes.iter().flatten().sum();
        let postgres = micros(self.postgres, before.postgres);
        let load = micros(self.load_generator, before.load_generator);
        let mut text = format!("boltd {boltd:.0} µs");
        if nodes.len() > 1 {
            let each: Vec<String> = nodes
                .iter()
                .map(|n| n.map_or("n/a".into(), |n| format!("{n:.0}")))
                .collect();
            text += &format!(" (nodes {})", each.join(" + "));
        }
        if let Some(pg) = postgres {
            text += &format!(", PostgreSQL {pg:.0} µs");
        }
        if let Some(load) = load {
            text += &format!(", load generator {load:.0} µs");
        }
        (
            text,
            CpuPer {
                boltd,
                postgres,
                load,
            },
        )
    }
}

/// CPU microseconds per request (or run), by component.
#[derive(Clone, Copy, Default)]
struct CpuPer {
    boltd: f64,
    postgres: Option<f64>,
    load: Option<f64>,
}

/// What one setup measured, for the summary.
#[derive(Default)]
struct Figures {
    intake: Option<(f64, f64, f64, CpuPer)>,
    runs: Option<(f64, f64, CpuPer)>,
}

pub fn run(args: &ClusterBenchArgs) -> anyhow::Result<()> {
    let server = args
        .postgres
        .as_deref()
        .filter(|url| !url.trim().is_empty());
    println!(
        "bolt cluster benchmark ({} build, {} CPUs{}): {} requests per setup and phase, {} connections in all split over the nodes (closed loop), one-step job",
        crate::build_kind(),
        crate::cpus(),
        match server.map(postgres_version) {
            Some(Ok(version)) => format!(", PostgreSQL {version} on this machine"),
            Some(Err(err)) => return Err(err.context("asking the PostgreSQL server its version")),
            None => String::new(),
        },
        args.requests,
        args.concurrency,
    );
    println!(
        "every boltd node, PostgreSQL and the load generator share these {} CPUs: more nodes show overhead, not scaling",
        crate::cpus()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut summary = Vec::new();
    for setup in &args.setups {
        println!("\n{}:", setup.label());
        let mut figures = Figures::default();
        for phase in &args.phases {
            match phase {
                Phase::Intake => figures.intake = Some(intake(&runtime, args, *setup, server)?),
                Phase::Runs => figures.runs = Some(runs(&runtime, args, *setup, server)?),
            }
        }
        summary.push((*setup, figures));
    }
    print_summary(&summary);
    Ok(())
}

fn postgres_version(server: &str) -> anyhow::Result<String> {
    let client = PgClient::connect(&PgSettings::from_url(server)?)?;
    let version: String = client.query_one("SHOW server_version", params![])?;
    Ok(version)
}

/// Intake alone: acknowledged requests per second and their latency.
fn intake(
    runtime: &tokio::runtime::Runtime,
    args: &ClusterBenchArgs,
    setup: Setup,
    server: Option<&str>,
) -> anyhow::Result<(f64, f64, f64, CpuPer)> {
    let cluster = Cluster::start(setup, server, true)?;
    let before = cluster.cpu();
    let round = fire(runtime, &cluster, args)?;
    let (cpu, per) = cluster.cpu().describe_since(&before, round.answered);
    println!("  {}", round.describe("intake (runs stay queued)"));
    println!("    CPU per acknowledged request: {cpu}");
    Ok((
        rate(round.answered, round.took),
        webhooks::percentile(&round.latencies, 0.50),
        webhooks::percentile(&round.latencies, 0.99),
        per,
    ))
}

/// Runs end to end: completed runs per second, and which node ran them.
fn runs(
    runtime: &tokio::runtime::Runtime,
    args: &ClusterBenchArgs,
    setup: Setup,
    server: Option<&str>,
) -> anyhow::Result<(f64, f64, CpuPer)> {
    let cluster = Cluster::start(setup, server, false)?;
    let store = cluster.store()?;
    let before = cluster.cpu();
    let first_request = chrono::Utc::now().timestamp_micros();
    let round = fire(runtime, &cluster, args)?;
    println!("  {}", round.describe("intake while the runs execute"));
    wait_for_runs(store.as_ref(), Duration::from_secs(1800))?;
    let ran = Ran::read(store.as_ref())?;
    let (cpu, per) = cluster.cpu().describe_since(&before, ran.runs as usize);
    let took = Duration::from_micros(ran.last_end.saturating_sub(first_request).max(1) as u64);
    let runs_per_second = rate(ran.runs as usize, took);
    println!(
        "  runs completed: {runs_per_second:.0} runs/s  ({} runs, {} succeeded, in {:.2} s from the first request to the last run's end)",
        ran.runs,
        ran.succeeded,
        took.as_secs_f64()
    );
    println!("    CPU per completed run (intake included): {cpu}");
    println!("    runs per node: {}", ran.spread(&cluster));
    Ok((runs_per_second, rate(round.answered, round.took), per))
}

fn rate(count: usize, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64().max(1e-9)
}

/// Sends `args.requests` webhooks spread round-robin over the nodes: request n goes to
/// node n mod k, every node's share from its own share of the connections, all at once.
fn fire(
    runtime: &tokio::runtime::Runtime,
    cluster: &Cluster,
    args: &ClusterBenchArgs,
) -> anyhow::Result<Round> {
    let k = cluster.nodes.len();
    let bodies: Arc<Vec<String>> = Arc::new(
        (0..BODY_VARIANTS)
            .map(|n| webhooks::body(n, None))
            .collect(),
    );
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        let mut shares = Vec::with_capacity(k);
        for (node, daemon) in cluster.nodes.iter().enumerate() {
            let requests = share(args.requests, k, node);
            let connections = share(args.concurrency, k, node).max(1);
            let bodies = bodies.clone();
            let request = load_gen::Request::Post(Arc::new(move |n| {
                let global = node + n * k;
                webhooks::with_patient(&bodies[global % BODY_VARIANTS], global)
            }));
            let addr = daemon.http.clone();
            shares.push(tokio::spawn(async move {
                load_gen::run(
                    &addr,
                    "/i/bench",
                    connections,
                    requests,
                    load_gen::Pace::ClosedLoop,
                    200,
                    request,
                )
                .await
            }));
        }
        let mut all = load_gen::Outcome {
            latencies: Vec::with_capacity(args.requests),
            failures: 0,
        };
        for share in shares {
            let part = share.await??;
            all.latencies.extend(part.latencies);
            all.failures += part.failures;
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    Ok(Round::of(outcome, started.elapsed()))
}

/// Node `index`'s share of `total` split over `parts` (the first ones take the remainder).
fn share(total: usize, parts: usize, index: usize) -> usize {
    total / parts + usize::from(index < total % parts)
}

/// Waits until no run is queued, claimed or started (asked every 100 ms).
fn wait_for_runs(db: &dyn Db, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let unfinished: i64 = db.query_one(
            "SELECT COUNT(*) FROM runs WHERE state IN ('available', 'claimed', 'started')",
            params![],
        )?;
        if unfinished == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(anyhow!(
                "{unfinished} runs were still unfinished after {within:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the store says the runs did.
struct Ran {
    runs: i64,
    succeeded: i64,
    /// When the last run ended (microseconds since the epoch).
    last_end: i64,
    /// Runs per node process id (None: a node the store no longer lists).
    per_node: BTreeMap<Option<i64>, i64>,
}

impl Ran {
    fn read(db: &dyn Db) -> anyhow::Result<Ran> {
        let runs = db.query_one("SELECT COUNT(*) FROM runs", params![])?;
        let succeeded = db.query_one(
            "SELECT COUNT(*) FROM runs WHERE state = 'success'",
            params![],
        )?;
        let last_end = db
            .query_value::<i64>("SELECT MAX(finished_at) FROM runs", params![])?
            .ok_or_else(|| anyhow!("no run has finished"))?;
        let per_node = db
            .query_map(
                "SELECT n.pid, COUNT(*) FROM runs r LEFT JOIN nodes n ON n.id = r.node_id GROUP BY n.pid",
                params![],
                |row| Ok((row.get::<Option<i64>>(0)?, row.get::<i64>(1)?)),
            )?
            .into_iter()
            .collect();
        Ok(Ran {
            runs,
            succeeded,
            last_end,
            per_node,
        })
    }

    /// "node 1 6,700 (33%), node 2 …", in the order the nodes were started.
    fn spread(&self, cluster: &Cluster) -> String {
        let mut parts: Vec<String> = cluster
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let count = self
                    .per_node
                    .get(&Some(i64::from(node.pid())))
                    .copied()
                    .unwrap_or(0);
                format!("node {} {count} ({:.0}%)", i + 1, percent(count, self.runs))
            })
            .collect();
        let pids: Vec<Option<i64>> = cluster
            .nodes
            .iter()
            .map(|node| Some(i64::from(node.pid())))
            .collect();
        let elsewhere: i64 = self
            .per_node
            .iter()
            .filter(|(pid, _)| !pids.contains(pid))
            .map(|(_, count)| count)
            .sum();
        if elsewhere > 0 {
            parts.push(format!("no known node {elsewhere}"));
        }
        parts.join(", ")
    }
}

fn percent(part: i64, whole: i64) -> f64 {
    part as f64 * 100.0 / whole.max(1) as f64
}

fn print_summary(summary: &[(Setup, Figures)]) {
    println!(
        "\nsummary (CPU in µs per request or run: boltd nodes together / PostgreSQL / load generator):"
    );
    println!(
        "  {:<22} {:>12} {:>9} {:>9} {:>20} {:>10} {:>20}",
        "setup", "intake req/s", "p50 ms", "p99 ms", "intake CPU", "runs/s", "run CPU"
    );
    let cpu = |per: &CpuPer| {
        let opt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
        format!("{:.0}/{}/{}", per.boltd, opt(per.postgres), opt(per.load))
    };
    for (setup, figures) in summary {
        let (intake, p50, p99, intake_cpu) = match &figures.intake {
            Some((rate, p50, p99, per)) => (
                format!("{rate:.0}"),
                format!("{p50:.2}"),
                format!("{p99:.2}"),
                cpu(per),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let (runs, run_cpu) = match &figures.runs {
            Some((rate, _, per)) => (format!("{rate:.0}"), cpu(per)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "  {:<22} {intake:>12} {p50:>9} {p99:>9} {intake_cpu:>20} {runs:>10} {run_cpu:>20}",
            setup.label()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setups_are_parsed() {
        assert_eq!(parse_setup("sqlite"), Ok(Setup::Sqlite));
        assert_eq!(parse_setup("pg3"), Ok(Setup::Postgres { nodes: 3 }));
        assert!(parse_setup("pg0").is_err());
        assert!(parse_setup("mysql").is_err());
    }

    #[test]
    fn shares_add_up() {
        for (total, parts) in [(20_000, 3), (64, 3), (5, 2), (2, 3)] {
            let sum: usize = (0..parts).map(|i| share(total, parts, i)).sum();
            assert_eq!(sum, total);
        }
    }
}
