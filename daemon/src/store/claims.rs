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

const MARK_CLAIMED: &str =
    "UPDATE runs SET state = 'claimed', claimed_at = ?2 WHERE id = ?1 AND state = 'available'";

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

/// Claims up to `limit` runs. FIFO per workflow: once a workflow is at its limit, none of
/// its later runs jump ahead. Call it in a write transaction (on PostgreSQL the claim lock
/// lasts until that transaction ends).
pub fn claim(db: &dyn Db, limit: usize) -> StoreResult<Claimed> {
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
        db.execute(MARK_CLAIMED, params![run_id, now_micros()])?;
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
