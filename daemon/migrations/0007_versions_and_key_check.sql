-- Who made each workflow version and how, for `bolt versions`: the actor (the audit rows'
-- actor) and the origin as JSON ({"kind": "deploy", "file": …}, {"kind": "job_edit", …},
-- {"kind": "rollback", "to": 3}). NULL on versions written before bolt recorded them.
ALTER TABLE workflow_versions ADD COLUMN actor TEXT;
ALTER TABLE workflow_versions ADD COLUMN origin TEXT;

-- Facts about the store itself. `key_check` is a fingerprint of the encryption key the
-- credentials were written with (HMAC-SHA256 of a fixed text under the key, never the key):
-- a key that doesn't match is told at once (boltd's start, `bolt restore`), before any
-- credential fails to decrypt.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
