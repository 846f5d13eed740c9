//! Claiming runs: available runs in priority then arrival order, FIFO per workflow, within
//! each workflow's and project's concurrency limit (a workflow's own limit overrides its
//! project's, as in Lightning). One write transaction reads the candidates and marks the
//! ones it takes as claimed.
//!
//! On PostgreSQL several boltd nodes claim from one database. A claim first takes a lock
//! per schema, held until its transaction ends: claims happen one at a time cluster-wide,
//! and each sees the runs the one before it claimed (under READ COMMITTED every statement
//! after the lock reads what was committed before it), so priority, FIFO per workflow and
//! the concurrency limits hold across nodes. The candidates are locked with
//! `FOR UPDATE OF r SKIP LOCKED`: a run another transaction is changing (a cancel) is
//! passed over rather than waited for. SQLite has a single writer and needs neither.

use super::{StoreResult, now_micros};
use bolt_sql::{Db, DbExt, Dialect, Sql, params};
use std::collections::HashMap;

/// PostgreSQL only: the claim lock, per schema, held until the transaction ends.
const LOCK_CLAIMS: &str =
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.runs.claim'))";

/// Runs claimed or started, per workflow (with its project). PostgreSQL wants every
/// selected column grouped (a workflow has one project, so the groups are the same).
const ACTIVE: Sql = Sql::new(
    "SELECT wo.workflow_id, w.project_id, COUNT(*) FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
             JOIN workflows w ON w.id = wo.workflow_id WHERE r.state IN ('claimed', 'started') GROUP BY wo.workflow_id",
    "SELECT wo.workflow_id, w.project_id, COUNT(*) FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
             JOIN workflows w ON w.id = wo.workflow_id WHERE r.state IN ('claimed', 'started')
             GROUP BY wo.workflow_id, w.project_id",
);

/// The next available runs, skipping the workflows in the JSON array ?2. On PostgreSQL
/// the runs taken are locked (see the module's comment).
const CANDIDATES: Sql = Sql::new(
    "SELECT r.id, wo.workflow_id, w.project_id, w.concurrency, p.concurrency
         FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
         JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
         WHERE r.state = 'available' AND r.not_before <= ?1
           AND wo.workflow_id NOT IN (SELECT value FROM json_each(?2))
         ORDER BY r.priority, r.id LIMIT ?3",
    "SELECT r.id, wo.workflow_id, w.project_id, w.concurrency, p.concurrency
         FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
         JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
         WHERE r.state = 'available' AND r.not_before <= ?1
           AND wo.workflow_id NOT IN (SELECT jsonb_array_elements_text(CAST(?2 AS jsonb)))
         ORDER BY r.priority, r.id LIMIT ?3
         FOR UPDATE OF r SKIP LOCKED",
);

const MARK_CLAIMED: &str = "UPDATE runs SET state = 'claimed', claimed_at = ?2, node_id = ?3 WHERE id = ?1 AND state = 'available'";

const LIMITS: &str = "SELECT w.id, w.project_id, w.concurrency, p.concurrency
         FROM workflows w JOIN projects p ON p.id = w.project_id";

/// A run that may be claimed, with the limits that apply to it.
struct Candidate {
    run_id: String,
    workflow: String,
    project: String,
    workflow_limit: Option<i64>,
    project_limit: Option<i64>,
}

/// Runs claimed or started, per workflow and per project.
#[derive(Default)]
struct Active {
    by_workflow: HashMap<String, i64>,
    by_project: HashMap<String, i64>,
}

impl Active {
    fn load(db: &dyn Db) -> StoreResult<Active> {
        let mut active = Active::default();
        let rows = db.query_map(db.sql(&ACTIVE), params![], |r| {
            Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?))
        })?;
        for (workflow, project, count) in rows {
            active.add(workflow, project, count);
        }
        Ok(active)
    }

    fn add(&mut self, workflow: String, project: String, count: i64) {
        *self.by_workflow.entry(workflow).or_default() += count;
        *self.by_project.entry(project).or_default() += count;
    }

    /// Whether a workflow can take no further run under its (or its project's) limit.
    fn full(
        &self,
        workflow: &str,
        project: &str,
        workflow_limit: Option<i64>,
        project_limit: Option<i64>,
    ) -> bool {
        limit_reached(
            workflow_limit,
            project_limit,
            self.by_workflow.get(workflow).copied().unwrap_or(0),
            self.by_project.get(project).copied().unwrap_or(0),
        )
    }
}

/// What a claim took, and whether it stopped short of the queue's end.
pub struct Claimed {
    pub runs: Vec<String>,
    /// The claim stopped short of the queue's end.
    pub more: bool,
}

/// Candidates read per claim: enough for the free slots and some passed over. Reading a
/// fixed 512 cost the writer ~0.1 ms per finished run with a deep queue.
fn candidate_limit(free: usize) -> usize {
    (free * 2 + 16).min(512)
}

/// Claims up to `limit` runs for `node` (whose runs they become: see `cluster`). FIFO per workflow: once a workflow is at its limit, none of
/// its later runs jump ahead. Call it in a write transaction (on PostgreSQL the claim lock
/// lasts until that transaction ends).
pub fn claim(db: &dyn Db, limit: usize, node: &str) -> StoreResult<Claimed> {
    if db.dialect() == Dialect::Postgres {
        db.execute(LOCK_CLAIMS, params![])?;
    }
    let mut active = Active::load(db)?;
    let blocked_now = workflows_at_limit(db, &active)?;
    if blocked_now.all {
        // Every workflow is held or full (e.g. concurrency 0): nothing can be claimed, and
        // scanning a long queue for nothing would cost the writer on every new run.
        return Ok(Claimed {
            runs: Vec::new(),
            more: false,
        });
    }
    let blocked_json = serde_json::to_string(&blocked_now.ids).unwrap_or_else(|_| "[]".into());
    let wanted = candidate_limit(limit);
    let candidates: Vec<Candidate> = db.query_map(
        db.sql(&CANDIDATES),
        params![now_micros(), blocked_json, wanted as i64],
        |r| {
            Ok(Candidate {
                run_id: r.get(0)?,
                workflow: r.get(1)?,
                project: r.get(2)?,
                workflow_limit: r.get(3)?,
                project_limit: r.get(4)?,
            })
        },
    )?;
    let more = candidates.len() >= wanted;
    let mut claimed = Vec::new();
    let mut blocked: Vec<String> = Vec::new();
    for Candidate {
        run_id,
        workflow,
        project,
        workflow_limit,
        project_limit,
    } in candidates
    {
        if claimed.len() >= limit {
            break;
        }
        if blocked.contains(&workflow) {
            continue;
        }
        if active.full(&workflow, &project, workflow_limit, project_limit) {
            blocked.push(workflow);
            continue;
        }
        db.execute(MARK_CLAIMED, params![run_id, now_micros(), node])?;
        active.add(workflow, project, 1);
        claimed.push(run_id);
    }
    Ok(Claimed {
        runs: claimed,
        more,
    })
}

/// Workflows that can't take another run right now, and whether that is all of them.
struct AtLimit {
    ids: Vec<String>,
    all: bool,
}

fn workflows_at_limit(db: &dyn Db, active: &Active) -> StoreResult<AtLimit> {
    let rows = db.query_map(LIMITS, params![], |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<Option<i64>>(2)?,
            r.get::<Option<i64>>(3)?,
        ))
    })?;
    let mut ids = Vec::new();
    let mut total = 0usize;
    for (workflow, project, workflow_limit, project_limit) in rows {
        total += 1;
        if active.full(&workflow, &project, workflow_limit, project_limit) {
            ids.push(workflow);
        }
    }
    Ok(AtLimit {
        all: ids.len() == total,
        ids,
    })
}

/// A workflow's own limit overrides the project's, as in Lightning.
fn limit_reached(
    workflow_limit: Option<i64>,
    project_limit: Option<i64>,
    workflow_active: i64,
    project_active: i64,
) -> bool {
    match (workflow_limit, project_limit) {
        (Some(limit), _) => workflow_active >= limit,
        (None, Some(limit)) => project_active >= limit,
        (None, None) => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;
    use bolt_sql::Db;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Barrier, Mutex};

    fn claim_in_transaction(db: &dyn Db, limit: usize) -> Claimed {
        db.in_transaction(|tx| claim(tx, limit, "node-a")).unwrap()
    }

    fn finish(db: &dyn Db, run_id: &str) {
        db.execute(
            "UPDATE runs SET state = 'success' WHERE id = ?1",
            params![run_id],
        )
        .unwrap();
    }

    /// A work order of `workflow` with one available run per (id, priority).
    fn queue(db: &dyn Db, workflow: &str, project: &str, runs: &[(&str, i64)]) {
        for (run_id, priority) in runs {
            let work_order = format!("wo-{run_id}");
            fixture::work_order(db, &work_order, workflow, project);
            fixture::run(db, run_id, &work_order, workflow, "available", *priority);
        }
    }

    #[test]
    fn runs_are_claimed_by_priority_then_arrival() {
        suite::on_each_backend(|db| {
            fixture::project(db, "p", None);
            fixture::workflow(db, "w", "p", None);
            queue(db, "w", "p", &[("r1", 1), ("r2", 1), ("r3", 0), ("r4", 1)]);
            let first = claim_in_transaction(db, 2);
            assert_eq!(first.runs, ["r3", "r1"]);
            let rest = claim_in_transaction(db, 10);
            assert_eq!(rest.runs, ["r2", "r4"]);
            assert!(!rest.more);
            let states: Vec<(String, String, bool)> = db
                .query_map(
                    "SELECT id, state, claimed_at IS NOT NULL FROM runs ORDER BY id",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            assert!(
                states
                    .iter()
                    .all(|(_, state, at)| state == "claimed" && *at)
            );
            assert!(claim_in_transaction(db, 10).runs.is_empty());
        });
    }

    #[test]
    fn limits_hold_per_workflow_fifo_and_per_project_unless_the_workflow_sets_its_own() {
        suite::on_each_backend(|db| {
            fixture::project(db, "p", None);
            fixture::project(db, "q", Some(1));
            fixture::workflow(db, "one", "p", Some(1));
            fixture::workflow(db, "free", "p", None);
            fixture::workflow(db, "shared", "q", None);
            fixture::workflow(db, "own", "q", Some(2));
            // `one`'s second run has the higher priority, but its first came first: FIFO.
            queue(db, "one", "p", &[("a1", 1)]);
            queue(db, "free", "p", &[("b1", 1), ("b2", 1)]);
            queue(db, "shared", "q", &[("c1", 1), ("c2", 1)]);
            queue(db, "own", "q", &[("d1", 1), ("d2", 1), ("d3", 1)]);
            queue(db, "one", "p", &[("a2", 0)]);
            suite::seed(db, "UPDATE runs SET state = 'started' WHERE id = 'a1'");
            let claimed = claim_in_transaction(db, 10);
            assert_eq!(claimed.runs, ["b1", "b2", "c1", "d1", "d2"]);
            finish(db, "a1");
            assert_eq!(claim_in_transaction(db, 10).runs, ["a2"]);
            // `own`'s runs count against its project, whose limit `shared` keeps to.
            finish(db, "c1");
            finish(db, "d1");
            assert_eq!(claim_in_transaction(db, 10).runs, ["d3"]);
            finish(db, "d2");
            finish(db, "d3");
            assert_eq!(claim_in_transaction(db, 10).runs, ["c2"]);
        });
    }

    #[test]
    fn nothing_is_claimed_before_its_time_or_when_every_workflow_is_full() {
        suite::on_each_backend(|db| {
            fixture::project(db, "p", None);
            fixture::workflow(db, "held", "p", Some(0));
            fixture::workflow(db, "later", "p", None);
            queue(db, "held", "p", &[("h1", 0)]);
            queue(db, "later", "p", &[("l1", 0)]);
            suite::seed(
                db,
                "UPDATE runs SET not_before = 9000000000000000 WHERE id = 'l1'",
            );
            let claimed = claim_in_transaction(db, 10);
            assert!(claimed.runs.is_empty());
            assert!(!claimed.more);
            suite::seed(db, "UPDATE runs SET not_before = 0 WHERE id = 'l1'");
            assert_eq!(claim_in_transaction(db, 10).runs, ["l1"]);
            // Only `held` is left, at its limit of 0: all full, nothing scanned.
            finish(db, "l1");
            suite::seed(db, "DELETE FROM runs WHERE id = 'l1'");
            let none = claim_in_transaction(db, 10);
            assert!(none.runs.is_empty() && !none.more);
        });
    }

    #[test]
    fn a_claim_says_when_it_stopped_short_of_the_queue() {
        suite::on_each_backend(|db| {
            fixture::project(db, "p", None);
            fixture::workflow(db, "w", "p", None);
            let runs: Vec<(String, i64)> = (0..20).map(|n| (format!("r{n:02}"), 1)).collect();
            let runs: Vec<(&str, i64)> = runs.iter().map(|(id, p)| (id.as_str(), *p)).collect();
            queue(db, "w", "p", &runs);
            // One free slot reads 18 candidates: 20 waiting means more.
            let one = claim_in_transaction(db, 1);
            assert_eq!((one.runs.len(), one.more), (1, true));
            let rest = claim_in_transaction(db, 100);
            assert_eq!((rest.runs.len(), rest.more), (19, false));
        });
    }

    /// Rounds in which two connections (boltd nodes) claim at once, each in its own
    /// transaction, hold what they took for a moment and finish it: enough for the limited
    /// workflow's runs, one a round.
    const ROUNDS: usize = 32;
    /// More runs of the limited workflow than one claim's candidates (20 for 2 slots), so a
    /// second claimant that skipped the first one's locked rows would still find some.
    const LIMITED_RUNS: usize = 24;

    /// What one claimant saw: (claim sequence number, runs) per claim, and the most runs
    /// of the limited workflow it ever saw active.
    type Seen = (Vec<(u64, Vec<String>)>, i64);

    fn claimant(db: Box<dyn Db + Send>, barrier: Arc<Barrier>, sequence: Arc<AtomicU64>) -> Seen {
        let active_limited =
            "SELECT COUNT(*) FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
             WHERE wo.workflow_id = 'limited' AND r.state IN ('claimed', 'started')";
        let mut claims = Vec::new();
        let mut most_active = 0;
        for _ in 0..ROUNDS {
            barrier.wait();
            let (number, claimed) = db
                .in_transaction(|tx| {
                    let claimed = claim(tx, 2, "node-b")?;
                    // Claims are one at a time (the claim lock, or SQLite's write lock):
                    // numbered here, they are numbered in the order they happened.
                    Ok::<_, crate::store::StoreError>((
                        sequence.fetch_add(1, Ordering::SeqCst),
                        claimed.runs,
                    ))
                })
                .unwrap();
            let active: i64 = db.query_one(active_limited, params![]).unwrap();
            most_active = most_active.max(active);
            std::thread::sleep(std::time::Duration::from_millis(5));
            for run_id in &claimed {
                finish(&*db, run_id);
            }
            claims.push((number, claimed));
        }
        (claims, most_active)
    }

    fn race(first: Box<dyn Db + Send>, second: Box<dyn Db + Send>) {
        fixture::project(&*first, "p", None);
        fixture::workflow(&*first, "limited", "p", Some(1));
        fixture::workflow(&*first, "open", "p", None);
        let limited: Vec<String> = (0..LIMITED_RUNS).map(|n| format!("a{n:02}")).collect();
        let open: Vec<(String, i64)> = (0..12).map(|n| (format!("b{n:02}"), n % 2)).collect();
        for id in &limited {
            queue(&*first, "limited", "p", &[(id.as_str(), 1)]);
        }
        for (id, priority) in &open {
            queue(&*first, "open", "p", &[(id.as_str(), *priority)]);
        }

        let barrier = Arc::new(Barrier::new(2));
        let sequence = Arc::new(AtomicU64::new(0));
        let spawn = |db: Box<dyn Db + Send>| {
            let (barrier, sequence) = (barrier.clone(), sequence.clone());
            std::thread::spawn(move || claimant(db, barrier, sequence))
        };
        let a = spawn(first);
        let b = spawn(second);
        let seen = Arc::new(Mutex::new(Vec::new()));
        for handle in [a, b] {
            let (claims, most_active) = handle.join().expect("a claimant");
            assert!(
                most_active <= 1,
                "the workflow with concurrency 1 had {most_active} runs at once"
            );
            seen.lock().unwrap().extend(claims);
        }
        let mut claims = seen.lock().unwrap().clone();
        claims.sort();
        let in_order: Vec<String> = claims.into_iter().flat_map(|(_, runs)| runs).collect();
        let of = |prefix: &str| -> Vec<String> {
            in_order
                .iter()
                .filter(|id| id.starts_with(prefix))
                .cloned()
                .collect()
        };
        // Every run claimed once; the limited workflow's in arrival order (FIFO); the open
        // one's by priority, then arrival.
        assert_eq!(of("a"), limited);
        let mut by_priority = open.clone();
        by_priority.sort_by(|x, y| x.1.cmp(&y.1).then_with(|| x.0.cmp(&y.0)));
        let by_priority: Vec<String> = by_priority.into_iter().map(|(id, _)| id).collect();
        assert_eq!(of("b"), by_priority);
    }

    #[test]
    fn two_nodes_claiming_at_once_keep_limits_priority_and_fifo() {
        crate::store::suite::with_two_connections(race);
    }
}
