-- Audit events are append-only and chained: each holds `hash` = sha256(prev_hash ||
-- the event's canonical content), and `prev_hash` = the hash of the event before it
-- ('' for the first). `bolt audit verify` walks the chain; events written before this
-- migration are sealed into it at the next start (up to `audit_legacy_through`).
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE INDEX audit_events_at ON audit_events(at);
INSERT INTO store_meta (key, value)
    SELECT 'audit_legacy_through', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM audit_events;

-- The retention purge puts a row here inside its own transaction: only then may old
-- events be deleted (and the purge appends a checkpoint event saying where the chain
-- now starts).
CREATE TABLE audit_purge_permit (id INTEGER PRIMARY KEY);

CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only: an audit event cannot be changed');
END;

CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only: only the audit retention purge removes them');
END;

-- Audit events not yet taken by the ATNA syslog collector's transport ([audit] syslog),
-- delivered in id order; `attempts` and `last_error` tell about the oldest one's tries.
CREATE TABLE audit_outbox (
    event_id   INTEGER PRIMARY KEY,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);

-- Where a webhook work order came from (the client's address as boltd saw it).
ALTER TABLE work_orders ADD COLUMN source_address TEXT;
