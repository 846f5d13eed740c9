-- Alerts (`[[notify]]` in bolt.toml). Events are written here in the same transaction as
-- the change they tell of (a run's end, a new workflow version), so none is lost to a crash
-- and none delays the change: a background task fans them out to the configured channels.
CREATE TABLE notify_events (
    id         INTEGER PRIMARY KEY,
    -- run_failed | workflow_changed | boltd_degraded
    event      TEXT NOT NULL,
    -- The workflow's key and name, for per-workflow filters and rate limits; NULL for
    -- boltd-wide events.
    workflow_key  TEXT,
    workflow_name TEXT,
    -- The event as channels receive it (JSON).
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- One row per event per channel: what is still to deliver (with its retry schedule), what
-- was delivered or given up on, and what the rate limit held back for a digest.
CREATE TABLE notify_deliveries (
    id              INTEGER PRIMARY KEY,
    -- The channel's name, or `#N` (its place in bolt.toml) when it has none.
    channel         TEXT NOT NULL,
    -- The event, or `digest` for a summary of held-back events.
    event           TEXT NOT NULL,
    -- The rate limit's key: the workflow key, '' for boltd-wide events.
    workflow_key    TEXT NOT NULL,
    payload         TEXT NOT NULL,
    -- pending | delivered | failed (gave up) | held (rate limit; waiting for its digest)
    -- | digested (summed up in a digest that was queued)
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    last_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (state, next_attempt_at);
CREATE INDEX notify_deliveries_channel ON notify_deliveries (channel, state);

-- The open rate-limit window of each channel and workflow.
CREATE TABLE notify_windows (
    channel      TEXT NOT NULL,
    workflow_key TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    -- Events let through in this window.
    sent         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, workflow_key)
) WITHOUT ROWID;
