-- Which node holds each claimed or started run (a node that stops heartbeating loses its
-- runs to the others after a lease), and each node's capacity for `bolt status`.
-- Equal to SQLite's 0010_nodes.sql.
ALTER TABLE nodes ADD COLUMN workers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN node_id TEXT;
CREATE INDEX runs_node ON runs(node_id) WHERE state IN ('claimed', 'started');
