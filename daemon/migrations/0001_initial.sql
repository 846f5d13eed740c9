-- bolt's store, following OpenFn Lightning's data model so its semantics carry over.
-- Ids are UUID v7 text (time-ordered: newest-first lists and keyset pages use the key).
-- Times are integer microseconds since the Unix epoch (UTC).

CREATE TABLE projects (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL UNIQUE,
    description             TEXT,
    concurrency             INTEGER,
    retention_policy        TEXT NOT NULL DEFAULT 'retain_all'
                            CHECK (retention_policy IN ('retain_all', 'erase_all')),
    history_retention_days  INTEGER,
    dataclip_retention_days INTEGER,
    source_file             TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

CREATE TABLE workflows (
    id                 TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key                TEXT NOT NULL,
    name               TEXT NOT NULL,
    enabled            INTEGER NOT NULL DEFAULT 1,
    concurrency        INTEGER,
    run_timeout_secs   INTEGER,
    memory_limit_mb    INTEGER,
    max_attempts       INTEGER NOT NULL DEFAULT 1,
    retry_backoff_secs INTEGER NOT NULL DEFAULT 30,
    version            INTEGER NOT NULL DEFAULT 0,
    deleted_at         INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (project_id, key)
);

-- Immutable snapshots: a run executes the version it was created with.
CREATE TABLE workflow_versions (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    snapshot    TEXT NOT NULL,  -- JSON: jobs, triggers, edges as they were
    hash        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (workflow_id, version)
);

CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    adaptor     TEXT NOT NULL,
    credential  TEXT,           -- a credential name; may not exist yet
    position    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workflow_id, key)
);

CREATE TABLE triggers (
    id              TEXT PRIMARY KEY,
    workflow_id     TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (type IN ('webhook', 'cron')),
    enabled         INTEGER NOT NULL DEFAULT 1,
    cron_expression TEXT,
    custom_path     TEXT UNIQUE,
    webhook_reply   TEXT NOT NULL DEFAULT 'before_start',
    auth            TEXT,       -- JSON list of credential names holding api_key or username/password
    UNIQUE (workflow_id, key)
);

CREATE TABLE edges (
    id                   TEXT PRIMARY KEY,
    workflow_id          TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    key                  TEXT NOT NULL,
    source_trigger_id    TEXT REFERENCES triggers(id) ON DELETE CASCADE,
    source_job_id        TEXT REFERENCES jobs(id) ON DELETE CASCADE,
    target_job_id        TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    condition_type       TEXT NOT NULL
                         CHECK (condition_type IN ('always', 'on_job_success', 'on_job_failure', 'js_expression')),
    condition_expression TEXT,
    condition_label      TEXT,
    enabled              INTEGER NOT NULL DEFAULT 1,
    UNIQUE (workflow_id, key),
    CHECK ((source_trigger_id IS NULL) <> (source_job_id IS NULL))
);

CREATE TABLE credentials (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    body       BLOB NOT NULL,   -- AES-256-GCM: 12-byte nonce || ciphertext+tag
    keys       TEXT NOT NULL,   -- JSON list of the body's top-level keys (never values)
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE dataclips (
    id          TEXT PRIMARY KEY,
    project_id  TEXT REFERENCES projects(id) ON DELETE CASCADE,
    type        TEXT NOT NULL CHECK (type IN ('http_request', 'global', 'step_result', 'saved_input')),
    body        TEXT,           -- NULL when wiped or too large
    request     TEXT,           -- http_request only: {method, path, query_params, headers}
    name        TEXT UNIQUE,    -- named dataclips are never wiped by retention
    size_bytes  INTEGER,
    wiped_at    INTEGER,
    wipe_reason TEXT CHECK (wipe_reason IN ('retention', 'zero_persistence', 'too_large')),
    created_at  INTEGER NOT NULL
);
CREATE INDEX dataclips_created ON dataclips(created_at) WHERE wiped_at IS NULL AND name IS NULL;

CREATE TABLE work_orders (
    id                  TEXT PRIMARY KEY,
    workflow_id         TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version_id          TEXT NOT NULL REFERENCES workflow_versions(id),
    trigger_id          TEXT,
    origin              TEXT NOT NULL,
    dataclip_id         TEXT REFERENCES dataclips(id),
    state               TEXT NOT NULL,
    received_at         INTEGER NOT NULL,
    last_activity       INTEGER NOT NULL,
    duration_ms         INTEGER,
    run_count           INTEGER NOT NULL DEFAULT 0,
    error_job           TEXT,
    error_type          TEXT,
    error_message       TEXT
);
CREATE INDEX work_orders_state ON work_orders(state, id);
CREATE INDEX work_orders_workflow ON work_orders(workflow_id, id);
CREATE INDEX work_orders_workflow_state ON work_orders(workflow_id, state, id);
CREATE INDEX work_orders_activity ON work_orders(last_activity, id);
CREATE INDEX work_orders_dataclip ON work_orders(dataclip_id);

CREATE TABLE runs (
    id                  TEXT PRIMARY KEY,
    work_order_id       TEXT NOT NULL REFERENCES work_orders(id) ON DELETE CASCADE,
    version_id          TEXT NOT NULL REFERENCES workflow_versions(id),
    starting_job        TEXT,   -- job key; NULL = start at the trigger
    dataclip_id         TEXT REFERENCES dataclips(id),
    origin              TEXT NOT NULL,
    state               TEXT NOT NULL,
    error_type          TEXT,
    error_message       TEXT,
    priority            INTEGER NOT NULL DEFAULT 1,   -- 0 immediate (manual, rerun), 1 normal
    attempt             INTEGER NOT NULL DEFAULT 1,
    not_before          INTEGER NOT NULL DEFAULT 0,   -- retry backoff
    final_dataclip_id   TEXT REFERENCES dataclips(id),
    created_at          INTEGER NOT NULL,
    claimed_at          INTEGER,
    started_at          INTEGER,
    finished_at         INTEGER
);
CREATE INDEX runs_work_order ON runs(work_order_id, id);
CREATE INDEX runs_dataclip ON runs(dataclip_id);
CREATE INDEX runs_final ON runs(final_dataclip_id);
CREATE INDEX runs_queue ON runs(priority, id) WHERE state = 'available';
CREATE INDEX runs_active ON runs(state) WHERE state IN ('claimed', 'started');

CREATE TABLE steps (
    id                 TEXT PRIMARY KEY,
    run_id             TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,  -- the run that executed it
    job_key            TEXT NOT NULL,
    job_name           TEXT NOT NULL,
    input_dataclip_id  TEXT REFERENCES dataclips(id),
    output_dataclip_id TEXT REFERENCES dataclips(id),
    exit_reason        TEXT,
    error_type         TEXT,
    error_message      TEXT,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER
);
CREATE INDEX steps_run ON steps(run_id, id);
-- For retention: is a dataclip still referenced?
CREATE INDEX steps_input ON steps(input_dataclip_id);
CREATE INDEX steps_output ON steps(output_dataclip_id);

-- Which steps a run shows: its own, plus earlier steps attached by a rerun from a step.
CREATE TABLE run_steps (
    run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id  TEXT NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
    attached INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_id)
) WITHOUT ROWID;
CREATE INDEX run_steps_step ON run_steps(step_id);

CREATE TABLE log_lines (
    id        INTEGER PRIMARY KEY,
    run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id   TEXT,
    source    TEXT NOT NULL,
    level     TEXT NOT NULL,
    message   TEXT NOT NULL,
    timestamp INTEGER NOT NULL
);
CREATE INDEX log_lines_run ON log_lines(run_id, id);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    metadata   TEXT
);

-- One row per cron trigger and minute it fired: no duplicate fires, even across restarts.
CREATE TABLE cron_fires (
    trigger_id TEXT NOT NULL,
    minute     INTEGER NOT NULL,
    PRIMARY KEY (trigger_id, minute)
) WITHOUT ROWID;

-- Full-text search over step inputs, step outputs and log lines. Contentless: the text
-- lives in dataclips/log_lines; search_docs maps each indexed row to its work order.
CREATE VIRTUAL TABLE search_fts USING fts5(text, content = '', contentless_delete = 1);
CREATE TABLE search_docs (
    rowid         INTEGER PRIMARY KEY,
    work_order_id TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('input', 'output', 'log')),
    ref_id        TEXT NOT NULL   -- dataclip id or log line id
);
CREATE INDEX search_docs_work_order ON search_docs(work_order_id);
