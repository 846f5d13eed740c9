-- Collections: Lightning's per-project key-value store, which jobs reach through the
-- @openfn/language-collections adaptor (daemon/src/collections/).
--
-- Values are text (the adaptor stores JSON.stringify'd values), as in Lightning.
-- `byte_size` and `item_count` are kept by the code that changes items, for the size limit
-- and `bolt collections list`: the sum of key and value bytes, as Lightning counts it.
CREATE TABLE collections (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    byte_size  INTEGER NOT NULL DEFAULT 0,
    item_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);
-- A token from one project asking for a name another project has gets Lightning's 401.
CREATE INDEX collections_name ON collections(name);

-- `created_at` (microseconds) is unique within a collection: an item created in the same
-- microsecond as the last one gets the next microsecond. It orders items (insertion order;
-- an upsert keeps an item's place) and is what the paging cursor holds, as in Lightning.
CREATE TABLE collection_items (
    id            INTEGER PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (collection_id, key)
);
CREATE UNIQUE INDEX collection_items_order ON collection_items(collection_id, created_at);

-- The rest of a Lightning export, kept so that export gives back what deploy was given:
-- `channels:` as written (JSON), and the `credentials:` entries (their keys and owners).
ALTER TABLE projects ADD COLUMN channels TEXT;

CREATE TABLE project_credentials (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    name       TEXT NOT NULL,
    owner      TEXT,
    position   INTEGER NOT NULL,
    PRIMARY KEY (project_id, key)
) WITHOUT ROWID;
