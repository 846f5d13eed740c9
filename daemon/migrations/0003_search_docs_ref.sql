-- Wiping a dataclip (retention, zero persistence) removes its search entries by ref_id;
-- without this index every wipe read the whole search_docs table.
CREATE INDEX search_docs_ref ON search_docs(ref_id);
