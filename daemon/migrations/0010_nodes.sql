-- The boltd nodes working on this store, and which node holds each claimed or started run.
-- On SQLite there is one node (boltd holds the pidfile lock); PostgreSQL stores shared by
-- several nodes have the same tables: a node that stops heartbeating loses its runs to the
-- others after a lease (see store/nodes.rs).
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    hostname     TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    -- Runs executing on the node at its last heartbeat, and how many it may run at once.
    running      INTEGER NOT NULL DEFAULT 0,
    workers      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX nodes_heartbeat ON nodes(heartbeat_at);

-- The node that claimed the run (NULL before a claim, and for runs of stores older than
-- this migration).
ALTER TABLE runs ADD COLUMN node_id TEXT;
CREATE INDEX runs_node ON runs(node_id) WHERE state IN ('claimed', 'started');
