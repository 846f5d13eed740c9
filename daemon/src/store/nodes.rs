//! The boltd nodes working on one store: who they are, when each last said it was alive,
//! and how busy it is. A node heartbeats every few seconds; one whose heartbeat is older
//! than the lease is taken for lost, and the others take over its runs (see
//! `queue::nodes`). On SQLite there is only ever the one node holding the pidfile lock.

use super::StoreResult;
use bolt_sql::{Db, DbExt, params};

/// A node as `bolt status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub id: String,
    pub hostname: String,
    pub pid: i64,
    pub started_at: i64,
    pub heartbeat_at: i64,
    /// Runs executing on the node at its last heartbeat.
    pub running: i64,
    /// How many runs it executes at once.
    pub workers: i64,
}

/// Records this node as alive (again, if an earlier node of the same id left a row).
pub fn register(db: &dyn Db, node: &NodeRow) -> StoreResult<()> {
    db.execute(
        "INSERT INTO nodes (id, hostname, pid, started_at, heartbeat_at, running, workers)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid,
           started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
           running = excluded.running, workers = excluded.workers",
        params![
            node.id.as_str(),
            node.hostname.as_str(),
            node.pid,
            node.started_at,
            node.heartbeat_at,
            node.running,
            node.workers
        ],
    )?;
    Ok(())
}

/// Says `id` is alive at `now` with `running` runs under way. False when its row is gone:
/// the others took it for lost (it was cut off longer than the lease) and took over its runs.
pub fn heartbeat(db: &dyn Db, id: &str, now: i64, running: i64) -> StoreResult<bool> {
    let changed = db.execute(
        "UPDATE nodes SET heartbeat_at = ?2, running = ?3 WHERE id = ?1",
        params![id, now, running],
    )?;
    Ok(changed > 0)
}

/// Every node, oldest first.
pub fn list(db: &dyn Db) -> StoreResult<Vec<NodeRow>> {
    Ok(db.query_map(
        "SELECT id, hostname, pid, started_at, heartbeat_at, running, workers
         FROM nodes ORDER BY started_at, id",
        params![],
        |r| {
            Ok(NodeRow {
                id: r.get(0)?,
                hostname: r.get(1)?,
                pid: r.get(2)?,
                started_at: r.get(3)?,
                heartbeat_at: r.get(4)?,
                running: r.get(5)?,
                workers: r.get(6)?,
            })
        },
    )?)
}

/// Nodes (other than `me`) whose last heartbeat is older than `cutoff`.
pub fn silent_since(db: &dyn Db, me: &str, cutoff: i64) -> StoreResult<Vec<String>> {
    Ok(db.query_map(
        "SELECT id FROM nodes WHERE heartbeat_at < ?1 AND id <> ?2 ORDER BY id",
        params![cutoff, me],
        |r| r.get(0),
    )?)
}

/// Removes a node's row: at its clean stop, or once the others took over its runs.
/// Only a row still silent since `cutoff` goes (a node that came back in the meantime stays).
pub fn forget(db: &dyn Db, id: &str, cutoff: Option<i64>) -> StoreResult<bool> {
    let removed = match cutoff {
        None => db.execute("DELETE FROM nodes WHERE id = ?1", params![id])?,
        Some(cutoff) => db.execute(
            "DELETE FROM nodes WHERE id = ?1 AND heartbeat_at < ?2",
            params![id, cutoff],
        )?,
    };
    Ok(removed > 0)
}

#[cfg(test)]
mod tests {
    use super::super::suite::on_each_backend;
    use super::*;

    fn node(id: &str, heartbeat_at: i64) -> NodeRow {
        NodeRow {
            id: id.into(),
            hostname: format!("host-{id}"),
            pid: 100,
            started_at: heartbeat_at,
            heartbeat_at,
            running: 0,
            workers: 4,
        }
    }

    #[test]
    fn nodes_register_heartbeat_and_are_listed_oldest_first() {
        on_each_backend(|db| {
            register(db, &node("b", 20)).unwrap();
            register(db, &node("a", 10)).unwrap();
            assert!(heartbeat(db, "a", 30, 3).unwrap());
            let nodes = list(db).unwrap();
            assert_eq!(
                nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
                ["a", "b"]
            );
            assert_eq!((nodes[0].heartbeat_at, nodes[0].running), (30, 3));
            assert_eq!(nodes[0].workers, 4);
            // A restarted node of the same id starts afresh.
            register(db, &node("a", 40)).unwrap();
            assert_eq!(list(db).unwrap()[1].started_at, 40);
        });
    }

    #[test]
    fn silent_nodes_are_found_and_forgotten_unless_they_came_back() {
        on_each_backend(|db| {
            register(db, &node("me", 5)).unwrap();
            register(db, &node("old", 5)).unwrap();
            register(db, &node("fresh", 50)).unwrap();
            assert_eq!(silent_since(db, "me", 10).unwrap(), ["old"]);
            // "old" heartbeats before the others act: it is no longer silent.
            assert!(heartbeat(db, "old", 60, 0).unwrap());
            assert!(!forget(db, "old", Some(10)).unwrap());
            assert!(forget(db, "old", Some(100)).unwrap());
            assert!(!heartbeat(db, "old", 70, 0).unwrap(), "its row is gone");
            assert!(forget(db, "me", None).unwrap());
            assert_eq!(list(db).unwrap().len(), 1);
        });
    }
}
