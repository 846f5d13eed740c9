//! Several boltd nodes on one PostgreSQL database: webhooks taken by any node run once,
//! concurrency limits hold across nodes, a killed node's run is taken over after its
//! lease, cron fires once per minute, `bolt logs --follow` follows a run on another node,
//! and a database outage is refused (503) and recovered from without restarts.
//!
//! Each test skips, saying so, without `BOLT_TEST_POSTGRES_URL`.

use bolt_e2e::{Daemon, Options, ScratchDatabase, TcpProxy, bin, wait_until};
use bolt_shared::model::*;
use bolt_sql::{DbExt, PgClient, params};
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Three nodes sharing one database (and one key file).
struct Cluster {
    nodes: Vec<Daemon>,
    database: Arc<ScratchDatabase>,
    /// Between the nodes and the database, if [`Setup::through_proxy`].
    proxy: Option<TcpProxy>,
}

/// How the nodes of a [`Cluster`] are started.
#[derive(Default)]
struct Setup<'a> {
    /// bolt.toml of every node.
    config: &'a str,
    env: &'a [(&'a str, &'a str)],
    /// The nodes reach the database through a [`TcpProxy`] (to cut them off from it).
    through_proxy: bool,
}

impl Cluster {
    /// Three nodes on a fresh database; None (with a printed notice) without a test server.
    fn start(test: &str, setup: Setup<'_>) -> Option<Cluster> {
        let Some(database) = ScratchDatabase::create() else {
            eprintln!(
                "skipping {test}: set BOLT_TEST_POSTGRES_URL to run the multi-node tests (they need a PostgreSQL server)"
            );
            return None;
        };
        let database = Arc::new(database);
        let proxy = setup
            .through_proxy
            .then(|| TcpProxy::start(&database.server_address()).expect("the proxy"));
        let mut nodes: Vec<Daemon> = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            if let Some(first) = nodes.first() {
                // Every node of a database needs the same key.
                std::fs::copy(
                    first.data_dir().join("bolt.key"),
                    dir.path().join("bolt.key"),
                )
                .expect("copy the first node's bolt.key");
            }
            let config = dir.path().join("bolt.toml");
            std::fs::write(&config, setup.config).expect("write bolt.toml");
            let mut env = vec![(
                "BOLT_CONFIG".to_string(),
                config.to_string_lossy().into_owned(),
            )];
            env.extend(
                setup
                    .env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            );
            nodes.push(Daemon::start_with_options(
                dir,
                Options {
                    env,
                    store: Some(database.clone()),
                    store_url: proxy.as_ref().map(|p| database.url_through(&p.address())),
                    ..Options::default()
                },
            ));
        }
        Some(Cluster {
            nodes,
            database,
            proxy,
        })
    }

    fn sql(&self) -> PgClient {
        self.database.connect()
    }

    /// The node whose id is `id`.
    fn node_of(&self, id: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| node_id(n) == id)
            .unwrap_or_else(|| panic!("no node has id {id}"))
    }

    /// Each node's log, for assertion messages.
    fn logs(&self) -> String {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| format!("--- node {i} ({}):\n{}", node_id(n), n.log()))
            .collect()
    }
}

fn node_id(node: &Daemon) -> String {
    std::fs::read_to_string(node.data_dir().join("node-id"))
        .expect("the node's id file")
        .trim()
        .to_string()
}

/// A project of one workflow `w` at `/i/<path>`, with `settings` (indented 4) and the job
/// `body`; plus a quick workflow `quick` at `/i/quick`.
fn project(path: &str, settings: &str, body: &str) -> String {
    format!(
        "name: cluster\nworkflows:\n  w:\n{settings}    jobs:\n      j:\n        body: |\n          {body}\n    triggers:\n      webhook: {{type: webhook, custom_path: {path}}}\n    edges:\n      webhook->j: {{source_trigger: webhook, target_job: j, condition_type: always}}\n  quick:\n    jobs:\n      q:\n        body: fn(s => s)\n    triggers:\n      webhook: {{type: webhook, custom_path: quick}}\n    edges:\n      webhook->q: {{source_trigger: webhook, target_job: q, condition_type: always}}\n"
    )
}

/// A run as the database has it.
#[derive(Debug, Clone)]
struct RunRow {
    id: String,
    work_order_id: String,
    state: String,
    error_type: Option<String>,
    node_id: Option<String>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

fn runs_where(sql: &PgClient, condition: &str, value: &str) -> Vec<RunRow> {
    sql.query_map(
        &format!(
            "SELECT id, work_order_id, state, error_type, node_id, started_at, finished_at
             FROM runs WHERE {condition} ORDER BY created_at, id"
        ),
        params![value],
        |r| {
            Ok(RunRow {
                id: r.get(0)?,
                work_order_id: r.get(1)?,
                state: r.get(2)?,
                error_type: r.get(3)?,
                node_id: r.get(4)?,
                started_at: r.get(5)?,
                finished_at: r.get(6)?,
            })
        },
    )
    .expect("the runs")
}

/// The runs of the workflow with key `workflow`.
fn runs_of_workflow(sql: &PgClient, workflow: &str) -> Vec<RunRow> {
    runs_where(
        sql,
        "work_order_id IN (SELECT wo.id FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id WHERE w.key = ?1)",
        workflow,
    )
}

#[test]
fn webhooks_sent_round_robin_to_three_nodes_run_once_each_on_more_than_one_node() {
    let Some(cluster) = Cluster::start("the round-robin test", Setup::default()) else {
        return;
    };
    let nodes = &cluster.nodes;
    nodes[0].deploy_text(&project("rr", "", "fn(s => s)"));

    let status = nodes[1].bolt_json(&["status"]);
    let listed: BTreeSet<String> = status["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect();
    let ids: BTreeSet<String> = nodes.iter().map(node_id).collect();
    assert_eq!(listed, ids, "`bolt status` lists the three nodes: {status}");

    let posted: Vec<String> = (0..30)
        .map(|i| nodes[i % 3].post_work_order("/i/rr", &format!(r#"{{"n": {i}}}"#)))
        .collect();
    for (i, id) in posted.iter().enumerate() {
        let view = nodes[(i + 1) % 3].wait_work_order(id);
        assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
        assert_eq!(view.runs.len(), 1, "{view:?}");
    }
    let runs = runs_of_workflow(&cluster.sql(), "w");
    let mut per_work_order: BTreeMap<&str, usize> = BTreeMap::new();
    for run in &runs {
        *per_work_order.entry(&run.work_order_id).or_default() += 1;
    }
    assert_eq!(per_work_order.len(), posted.len());
    assert!(
        per_work_order.values().all(|n| *n == 1),
        "each work order has exactly one run: {per_work_order:?}"
    );
    let executed_by: BTreeSet<&str> = runs.iter().filter_map(|r| r.node_id.as_deref()).collect();
    assert!(
        executed_by.len() > 1,
        "the runs were executed by more than one node: {executed_by:?}"
    );
    assert!(
        executed_by.iter().all(|n| ids.contains(*n)),
        "{executed_by:?}"
    );
}

#[test]
fn concurrency_one_holds_across_nodes() {
    let Some(cluster) = Cluster::start("the concurrency test", Setup::default()) else {
        return;
    };
    let nodes = &cluster.nodes;
    nodes[0].deploy_text(&project(
        "one",
        "    concurrency: 1\n",
        "fn(async s => { await new Promise(r => setTimeout(r, 300)); return s; })",
    ));
    let posted: Vec<String> = (0..6)
        .map(|i| nodes[i % 3].post_work_order("/i/one", "{}"))
        .collect();
    for id in &posted {
        let view = nodes[0].wait_work_order(id);
        assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    }
    let mut runs = runs_of_workflow(&cluster.sql(), "w");
    assert_eq!(runs.len(), posted.len(), "{runs:?}");
    let span = |r: &RunRow| {
        (
            r.started_at.expect("started"),
            r.finished_at.expect("finished"),
        )
    };
    runs.sort_by_key(|r| span(r).0);
    for pair in runs.windows(2) {
        let ((_, first_end), (second_start, _)) = (span(&pair[0]), span(&pair[1]));
        assert!(
            second_start >= first_end,
            "two runs overlapped: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
    let executed_by: BTreeSet<&str> = runs.iter().filter_map(|r| r.node_id.as_deref()).collect();
    eprintln!("the serialised runs were executed by {executed_by:?}");
}

#[test]
fn a_killed_nodes_run_is_lost_and_retried_on_another_node_after_the_lease() {
    let Some(mut cluster) = Cluster::start(
        "the lease takeover test",
        Setup {
            config: "[store]\nlease_secs = 2\n",
            ..Setup::default()
        },
    ) else {
        return;
    };
    cluster.nodes[0].deploy_text(&project(
        "slow",
        "    max_attempts: 2\n    retry_backoff_secs: 0\n",
        "fn(async s => { await new Promise(r => setTimeout(r, 1500)); return s; })",
    ));
    let id = cluster.nodes[0].post_work_order("/i/slow", "{}");
    let sql = cluster.sql();
    let first = cluster.nodes[0].wait_until("the slow run starts", Duration::from_secs(10), || {
        runs_where(&sql, "work_order_id = ?1", &id)
            .into_iter()
            .find(|r| r.state == "started")
    });
    let doomed = cluster.node_of(first.node_id.as_deref().expect("a started run's node"));
    let killed_at = Instant::now();
    cluster.nodes[doomed].kill9();
    let survivors: Vec<usize> = (0..3).filter(|i| *i != doomed).collect();

    // Meanwhile the others go on taking webhooks.
    let more: Vec<(usize, String)> = (0..6)
        .map(|i| {
            let node = survivors[i % 2];
            (node, cluster.nodes[node].post_work_order("/i/quick", "{}"))
        })
        .collect();

    let watcher = &cluster.nodes[survivors[0]];
    let view = wait_until("the lost run is retried", Duration::from_secs(30), || {
        let view = watcher.show(&id);
        (view.row.state.is_final() && view.runs.iter().all(|r| r.state.is_final())).then_some(view)
    });
    let took = killed_at.elapsed();
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:#?}");
    assert_eq!(view.runs.len(), 2, "{view:#?}");
    let runs = runs_where(&sql, "work_order_id = ?1", &id);
    let (lost, retry) = (&runs[0], &runs[1]);
    assert_eq!(lost.id, first.id);
    assert_eq!(lost.state, "lost", "{runs:?}");
    assert_eq!(lost.error_type.as_deref(), Some("LostAfterStart"));
    assert_eq!(retry.state, "success", "{runs:?}");
    let retried_on = retry.node_id.as_deref().expect("the retry's node");
    assert_ne!(Some(retried_on), first.node_id.as_deref());
    assert!(survivors.contains(&cluster.node_of(retried_on)));
    // The lease runs from the node's last heartbeat, at most a fifth of it before the run
    // started.
    let lost_after = Duration::from_micros(
        (lost.finished_at.expect("lost at") - first.started_at.expect("started")) as u64,
    );
    assert!(
        lost_after >= Duration::from_millis(1600),
        "marked lost only after the lease: {lost_after:?}"
    );
    eprintln!("the run was lost and retried {took:?} after the kill");

    for (node, id) in &more {
        let view = cluster.nodes[*node].wait_work_order(id);
        assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    }
    let status = watcher.bolt_json(&["status"]);
    let listed = status["nodes"].as_array().expect("nodes").len();
    assert_eq!(listed, 2, "the killed node was forgotten: {status}");
}

#[test]
fn cron_fires_once_per_minute_with_three_nodes_on_a_fast_clock() {
    let origin = chrono::Utc::now().timestamp().to_string();
    let clock = format!("{origin}x60");
    let Some(cluster) = Cluster::start(
        "the cron test",
        Setup {
            env: &[("BOLT_TEST_CLOCK", &clock), ("BOLT_CRON_CHECK_MS", "100")],
            ..Setup::default()
        },
    ) else {
        return;
    };
    let cron = |enabled: bool| {
        format!(
            "name: ticks\nworkflows:\n  every:\n    jobs:\n      tick:\n        body: fn(s => s)\n    triggers:\n      cron:\n        type: cron\n        enabled: {enabled}\n        cron_expression: '* * * * *'\n    edges:\n      cron->tick: {{source_trigger: cron, target_job: tick, condition_type: always}}\n"
        )
    };
    // Armed once all three nodes are up: each has a clock minute to fire every real second.
    cluster.nodes[0].deploy_text(&cron(true));
    std::thread::sleep(Duration::from_secs(6));
    cluster.nodes[0].deploy_text(&cron(false));
    // A tick under way when the trigger was disarmed ends its work order first.
    std::thread::sleep(Duration::from_millis(500));

    let sql = cluster.sql();
    let minutes: Vec<i64> = sql
        .query_map(
            "SELECT minute FROM cron_fires ORDER BY minute",
            params![],
            |r| r.get(0),
        )
        .expect("the fires");
    let distinct: BTreeSet<i64> = minutes.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        minutes.len(),
        "no minute fired twice: {minutes:?}"
    );
    assert!(minutes.iter().all(|m| m % 60 == 0), "{minutes:?}");
    let work_orders: i64 = sql
        .query_one(
            "SELECT COUNT(*) FROM work_orders WHERE origin = 'cron'",
            params![],
        )
        .expect("the cron work orders");
    assert_eq!(
        work_orders as usize,
        minutes.len(),
        "one work order per minute fired: {minutes:?}; {}",
        cluster.logs()
    );
    assert!(
        minutes.len() >= 4,
        "a minute a second for 6 s fired {} minutes: {minutes:?}",
        minutes.len()
    );
    let fired_by: Vec<Option<String>> = sql
        .query_map(
            "SELECT DISTINCT r.node_id FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id WHERE wo.origin = 'cron'",
            params![],
            |r| r.get(0),
        )
        .expect("the nodes");
    eprintln!("{} minutes fired, run by {fired_by:?}", minutes.len());
}

#[test]
fn logs_follow_on_one_node_follows_a_run_executing_on_another() {
    let Some(cluster) = Cluster::start("the follow test", Setup::default()) else {
        return;
    };
    let nodes = &cluster.nodes;
    nodes[0].deploy_text(&project(
        "chatty",
        "",
        "fn(async s => { for (let i = 0; i < 15; i++) { console.log('tick ' + i); await new Promise(r => setTimeout(r, 200)); } return s; })",
    ));
    let id = nodes[0].post_work_order("/i/chatty", "{}");
    let sql = cluster.sql();
    let run = nodes[0].wait_until("the chatty run starts", Duration::from_secs(10), || {
        runs_where(&sql, "work_order_id = ?1", &id)
            .into_iter()
            .find(|r| r.state == "started")
    });
    let runner = cluster.node_of(run.node_id.as_deref().expect("the run's node"));
    let follower = &nodes[(runner + 1) % 3];

    let started = Instant::now();
    let mut child = Command::new(bin("bolt"))
        .arg("--socket")
        .arg(&follower.socket)
        .args(["logs", "--follow", &run.id])
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bolt logs --follow");
    let stdout = child.stdout.take().expect("stdout");
    let mut seen: Vec<(Duration, String)> = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        if line.contains("tick ") {
            seen.push((started.elapsed(), line));
        }
    }
    let exited_after = started.elapsed();
    let out = child.wait_with_output().expect("the follower's end");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("ended: success"), "{stderr}");

    let ticks: Vec<u32> = seen
        .iter()
        .filter_map(|(_, l)| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(ticks, (0..15).collect::<Vec<_>>(), "{seen:#?}");
    let view = nodes[runner].show(&id);
    assert_eq!(view.row.state, WorkOrderState::Success);
    // Seen as they came: the lines spread over the run's ~3 s, not printed at its end.
    let (first, last) = (seen[0].0, seen[seen.len() - 1].0);
    assert!(
        last - first >= Duration::from_millis(1500),
        "the lines came in a burst ({first:?}..{last:?}): {seen:#?}"
    );
    assert!(
        exited_after - last < Duration::from_secs(3),
        "the follower exits when the run ends ({last:?} → {exited_after:?})"
    );
}

/// Posts `{}` to `/i/quick` on `node` until `stop`; each answer's status and work order id.
fn post_until(node: &Daemon, stop: &AtomicBool) -> Vec<(u16, Option<String>)> {
    let mut answers = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let reply = node.post("/i/quick", "{}");
        let id = (reply.status == 200).then(|| reply.work_order_id());
        answers.push((reply.status, id));
        std::thread::sleep(Duration::from_millis(25));
    }
    answers
}

/// Whether `bolt status` on `node` says the database can't be reached.
fn says_unreachable(node: &Daemon) -> bool {
    let out = node.bolt(&["status", "--json"]);
    let Ok(status) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return false;
    };
    let health = &status["store_health"];
    health["writable"] == false
        && health["reason"]
            .as_str()
            .is_some_and(|r| r.contains("database"))
}

#[test]
fn a_database_outage_is_refused_with_503_and_recovered_from_without_restarts() {
    let Some(cluster) = Cluster::start(
        "the outage test",
        Setup {
            through_proxy: true,
            ..Setup::default()
        },
    ) else {
        return;
    };
    let (nodes, proxy) = (&cluster.nodes, cluster.proxy.as_ref().expect("the proxy"));
    nodes[0].deploy_text(&project("w", "", "fn(s => s)"));
    let pids: Vec<u32> = nodes.iter().map(Daemon::pid).collect();

    let stop = AtomicBool::new(false);
    let (answers, refusal_seen) = std::thread::scope(|scope| {
        let posters: Vec<_> = nodes
            .iter()
            .map(|node| scope.spawn(|| post_until(node, &stop)))
            .collect();
        std::thread::sleep(Duration::from_secs(1));
        proxy.pause();
        let paused = Instant::now();
        let mut refusal_seen = BTreeSet::new();
        while paused.elapsed() < Duration::from_secs(10) {
            for (i, node) in nodes.iter().enumerate() {
                if !refusal_seen.contains(&i) && says_unreachable(node) {
                    refusal_seen.insert(i);
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        proxy.resume();
        let resumed = Instant::now();
        wait_until(
            "the nodes take writes again",
            Duration::from_secs(15),
            || nodes.iter().all(|n| !says_unreachable(n)).then_some(()),
        );
        eprintln!(
            "the nodes took writes again {:?} after the database came back",
            resumed.elapsed()
        );
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::SeqCst);
        let answers: Vec<Vec<_>> = posters
            .into_iter()
            .map(|p| p.join().expect("a poster"))
            .collect();
        (answers, refusal_seen)
    });

    let statuses: BTreeMap<u16, usize> =
        answers
            .iter()
            .flatten()
            .fold(BTreeMap::new(), |mut m, (s, _)| {
                *m.entry(*s).or_default() += 1;
                m
            });
    eprintln!("answers during the outage test: {statuses:?}");
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "only 200 or 503: {statuses:?}"
    );
    assert!(
        statuses.contains_key(&503),
        "the outage was refused: {statuses:?}"
    );
    for (node, answers) in answers.iter().enumerate() {
        assert_eq!(
            answers.last().map(|(s, _)| *s),
            Some(200),
            "node {node} takes webhooks again"
        );
    }
    assert_eq!(
        refusal_seen.len(),
        3,
        "`bolt status` said the database can't be reached on every node: {refusal_seen:?}"
    );
    let acknowledged: Vec<&String> = answers
        .iter()
        .flatten()
        .filter_map(|(_, id)| id.as_ref())
        .collect();
    for id in &acknowledged {
        let view = nodes[0].wait_work_order(id);
        assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    }
    let now: Vec<u32> = nodes.iter().map(Daemon::pid).collect();
    assert_eq!(pids, now, "no node was restarted");
    let listed: BTreeSet<u64> = nodes[0].bolt_json(&["status"])["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["pid"].as_u64())
        .collect();
    let started: BTreeSet<u64> = pids.iter().map(|p| u64::from(*p)).collect();
    assert_eq!(listed, started, "the same three processes are the nodes");
}
