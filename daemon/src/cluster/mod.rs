//! This boltd as one node of its store. On SQLite it is the only node; on PostgreSQL any
//! number of nodes share the database, and each:
//!
//! - has an id (kept in the data dir, see `identity.rs`) and a row in `nodes`, heartbeated
//!   every [`Membership::heartbeat`] with how many runs it has under way;
//! - claims runs for itself (`runs.node_id`), so when it stops heartbeating for longer than
//!   the lease, another node puts the runs it claimed but never started back in the queue,
//!   marks its started runs lost, retries them as the workflow's retry policy says, and
//!   forgets the node (whoever deletes its row first does it: a lost node is handled once);
//! - at start takes back its own runs left in flight by its previous process (a crash, a
//!   kill), at once rather than after a lease;
//! - at a clean stop puts the runs it claimed but didn't start back in the queue for the
//!   others, marks the ones it had to leave unfinished lost (retried per policy), and
//!   leaves the table.

mod identity;
pub mod log_ids;

pub use identity::{NODE_ID_FILE, node_id};

use crate::daemon::Daemon;
use crate::store::work_orders::Holder;
use crate::store::{StoreResult, nodes, now_micros};
use std::sync::Arc;
use std::time::Duration;

/// Who this node is and how it keeps its place among the others.
#[derive(Debug, Clone)]
pub struct Membership {
    pub node_id: String,
    pub hostname: String,
    /// How long a node may stay silent before the others take over its runs.
    pub lease: Duration,
    /// How often this node says it is alive.
    pub heartbeat: Duration,
    /// Whether other nodes may share the store (PostgreSQL).
    pub shared: bool,
}

impl Membership {
    pub fn new(node_id: String, lease: Duration, shared: bool) -> Membership {
        Membership {
            node_id,
            hostname: hostname(),
            lease,
            // Several heartbeats fit in a lease: one slow write doesn't make a node lost.
            heartbeat: (lease / 5).max(Duration::from_millis(200)),
            shared,
        }
    }

    fn row(&self, running: usize, workers: usize) -> nodes::NodeRow {
        let now = now_micros();
        nodes::NodeRow {
            id: self.node_id.clone(),
            hostname: self.hostname.clone(),
            pid: i64::from(std::process::id()),
            started_at: now,
            heartbeat_at: now,
            running: running as i64,
            workers: workers as i64,
        }
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// What joining found: runs this node's previous process left in flight.
pub struct Joined {
    pub lost: usize,
    pub retried: usize,
}

/// Registers this node, refusing to start when a live node elsewhere has the same id (a
/// copied data dir), and takes back the runs its previous process left in flight. On
/// SQLite, every run left in flight is this node's.
pub fn join(db: &dyn bolt_sql::Db, me: &Membership, workers: usize) -> StoreResult<Joined> {
    let cutoff = now_micros() - me.lease.as_micros() as i64;
    if let Some(twin) = nodes::list(db)?
        .into_iter()
        .find(|n| n.id == me.node_id && n.heartbeat_at >= cutoff && n.hostname != me.hostname)
    {
        return Err(crate::store::StoreError::Invalid(format!(
            "another boltd node (on {}, pid {}) uses this node's id {} (the data dir was copied?): remove {} from one data dir and start that node again",
            twin.hostname, twin.pid, me.node_id, NODE_ID_FILE
        )));
    }
    nodes::register(db, &me.row(0, workers))?;
    let holder = if me.shared {
        Holder::Node(&me.node_id)
    } else {
        Holder::Anyone
    };
    let lost = crate::store::work_orders::mark_lost(db, holder, LOST_AT_RESTART)?;
    let retried = crate::queue::executor::retry_lost(db, &lost)?;
    Ok(Joined {
        lost: lost.len(),
        retried: retried.len(),
    })
}

const LOST_AT_RESTART: &str =
    "boltd stopped while this run was in progress (crash, kill or power loss)";
const LOST_WITH_NODE: &str = "the boltd node running it stopped heartbeating for longer than the lease (crash, kill, network or power loss); another node took over";
const LOST_AT_STOP: &str = "boltd stopped before this run finished (its stop's grace ran out)";

/// Heartbeats, takes over the runs of nodes that went silent, and keeps log line ids
/// reserved, until boltd stops.
pub async fn run(daemon: Arc<Daemon>) {
    let me = daemon.membership.clone();
    let mut shutdown = daemon.shutdown_signal();
    let mut beating = Beating::default();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(me.heartbeat) => {}
            _ = shutdown.changed() => return,
        }
        if !daemon.store.health.writable() {
            beating.stopped();
            continue;
        }
        match beat(&daemon, &me).await {
            Ok(()) => beating.beat(),
            Err(err) => {
                beating.stopped();
                tracing::warn!(%err, "heartbeat failed");
            }
        }
        if me.shared {
            if beating.for_at_least(me.lease)
                && let Err(err) = take_over_silent_nodes(&daemon, &me).await
            {
                tracing::warn!(%err, "taking over a silent node's runs failed");
            }
            if let Err(err) = reserve_log_ids(&daemon).await {
                tracing::warn!(%err, "reserving log line ids failed");
            }
        }
    }
}

/// Since when this node's heartbeats reach the database without a break. Only a node that
/// has been heartbeating for a whole lease takes over others: after the database was down
/// (or this node just started), every node's last heartbeat is old, and the others need a
/// lease's time to show they are alive before anyone is taken for lost.
#[derive(Default)]
struct Beating {
    since: Option<std::time::Instant>,
}

impl Beating {
    fn beat(&mut self) {
        self.since.get_or_insert_with(std::time::Instant::now);
    }

    fn stopped(&mut self) {
        self.since = None;
    }

    fn for_at_least(&self, lease: Duration) -> bool {
        self.since.is_some_and(|since| since.elapsed() >= lease)
    }
}

async fn beat(daemon: &Arc<Daemon>, me: &Membership) -> StoreResult<()> {
    let (id, running) = (me.node_id.clone(), daemon.running_count() as i64);
    let alive = daemon
        .store
        .writer
        .write_repeatable(move |tx| nodes::heartbeat(tx, &id, now_micros(), running))
        .await?;
    if !alive {
        tracing::error!(
            node = %me.node_id,
            "the other nodes took this node for lost (no heartbeat reached the database for longer than the lease): its runs under way were retried elsewhere; it joins again"
        );
        let row = me.row(daemon.running_count(), daemon.config.workers());
        daemon
            .store
            .writer
            .write(move |tx| nodes::register(tx, &row))
            .await?;
    }
    Ok(())
}

/// Marks the runs of every node silent for longer than the lease lost, queues their
/// retries and forgets the node.
async fn take_over_silent_nodes(daemon: &Arc<Daemon>, me: &Membership) -> StoreResult<()> {
    let lease = me.lease.as_micros() as i64;
    let my_id = me.node_id.clone();
    let silent = daemon
        .store
        .readers
        .read(move |db| nodes::silent_since(db, &my_id, now_micros() - lease))
        .await?;
    for node in silent {
        let taken = daemon
            .store
            .writer
            .write(move |tx| {
                // Whoever removes the row handles the node; a node that heartbeated
                // meanwhile keeps its row and its runs.
                if !nodes::forget(tx, &node, Some(now_micros() - lease))? {
                    return Ok(None);
                }
                // Runs it claimed but never started did nothing yet: back to the queue.
                nodes::release_claims(tx, &node)?;
                let lost =
                    crate::store::work_orders::mark_lost(tx, Holder::Node(&node), LOST_WITH_NODE)?;
                let retried = crate::queue::executor::retry_lost(tx, &lost)?;
                Ok(Some((node, lost.len(), retried.len())))
            })
            .await?;
        if let Some((node, lost, retried)) = taken {
            tracing::warn!(
                %node,
                lost,
                retried,
                "a node stopped heartbeating: its runs under way were marked lost and retried here per their workflows' policy"
            );
            daemon.queue.notify_one();
        }
    }
    Ok(())
}

async fn reserve_log_ids(daemon: &Arc<Daemon>) -> StoreResult<()> {
    if !daemon.log_ids.wants_block() {
        return Ok(());
    }
    let block = daemon
        .store
        .writer
        .write(|tx| nodes::reserve_log_block(tx, false))
        .await?;
    daemon.log_ids.add_spare(block);
    Ok(())
}

/// At a clean stop: the runs this node claimed but didn't start go back to the queue for
/// the others; on a shared store, the ones left unfinished are marked lost and retried
/// (there is no next start of this node to do it), and the node leaves the table.
pub async fn leave(daemon: &Arc<Daemon>) -> StoreResult<()> {
    let me = daemon.membership.clone();
    let (released, lost) = daemon
        .store
        .writer
        .write(move |tx| {
            let released = nodes::release_claims(tx, &me.node_id)?;
            let mut lost = 0;
            if me.shared {
                let left = crate::store::work_orders::mark_lost(
                    tx,
                    Holder::Node(&me.node_id),
                    LOST_AT_STOP,
                )?;
                crate::queue::executor::retry_lost(tx, &left)?;
                lost = left.len();
                nodes::forget(tx, &me.node_id, None)?;
            }
            Ok((released, lost))
        })
        .await?;
    if released > 0 || lost > 0 {
        tracing::info!(
            released,
            lost,
            "left the queue: claimed runs went back to it, unfinished ones were marked lost"
        );
    }
    Ok(())
}

/// Drops this node's webhook trigger cache whenever another node changed workflows (its
/// `WorkflowsChanged` arrives through the event relay), until boltd stops.
pub async fn follow_changes(daemon: Arc<Daemon>) {
    let mut events = daemon.events.subscribe();
    let mut shutdown = daemon.shutdown_signal();
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = shutdown.changed() => return,
        };
        match event {
            Ok(bolt_shared::protocol::Event::WorkflowsChanged)
            // Missed events may have been a change: forget rather than serve a stale trigger.
            | Ok(bolt_shared::protocol::Event::Lagged { .. })
            | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                daemon.webhook_triggers.invalidate();
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// The default lease: a node silent this long is taken for lost.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_node_heartbeating_for_a_whole_lease_takes_over_others() {
        let mut beating = Beating::default();
        assert!(
            !beating.for_at_least(Duration::ZERO),
            "not before a first beat"
        );
        beating.beat();
        assert!(beating.for_at_least(Duration::ZERO));
        assert!(!beating.for_at_least(Duration::from_secs(30)));
        beating.stopped();
        assert!(!beating.for_at_least(Duration::ZERO), "a break starts over");
    }

    #[test]
    fn several_heartbeats_fit_in_a_lease() {
        let me = Membership::new("abc".into(), Duration::from_secs(30), true);
        assert_eq!(me.heartbeat, Duration::from_secs(6));
        let quick = Membership::new("abc".into(), Duration::from_millis(500), true);
        assert_eq!(quick.heartbeat, Duration::from_millis(200));
    }
}
