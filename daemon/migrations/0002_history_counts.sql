-- Work order counts per workflow, received hour and state, kept exact by triggers, so the
-- history header's per-state counts for a date window add up a few hundred buckets
-- instead of reading every work order in the window (see history/counts.rs).
-- The hour is received_at / 3,600,000,000 (microseconds), floored.
CREATE TABLE work_order_counts (
    workflow_id TEXT NOT NULL,
    hour        INTEGER NOT NULL,
    state       TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, hour, state)
) WITHOUT ROWID;

INSERT INTO work_order_counts (workflow_id, hour, state, n)
SELECT workflow_id, received_at / 3600000000, state, COUNT(*)
FROM work_orders GROUP BY 1, 2, 3;

CREATE TRIGGER work_order_counts_insert AFTER INSERT ON work_orders BEGIN
    INSERT INTO work_order_counts (workflow_id, hour, state, n)
    VALUES (NEW.workflow_id, NEW.received_at / 3600000000, NEW.state, 1)
    ON CONFLICT (workflow_id, hour, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER work_order_counts_update AFTER UPDATE OF workflow_id, received_at, state ON work_orders
WHEN OLD.state IS NOT NEW.state OR OLD.workflow_id IS NOT NEW.workflow_id
     OR OLD.received_at / 3600000000 IS NOT NEW.received_at / 3600000000
BEGIN
    UPDATE work_order_counts SET n = n - 1
    WHERE workflow_id = OLD.workflow_id AND hour = OLD.received_at / 3600000000 AND state = OLD.state;
    INSERT INTO work_order_counts (workflow_id, hour, state, n)
    VALUES (NEW.workflow_id, NEW.received_at / 3600000000, NEW.state, 1)
    ON CONFLICT (workflow_id, hour, state) DO UPDATE SET n = n + 1;
END;

-- Fires for cascaded deletes too (a deleted workflow takes its work orders with it).
CREATE TRIGGER work_order_counts_delete AFTER DELETE ON work_orders BEGIN
    UPDATE work_order_counts SET n = n - 1
    WHERE workflow_id = OLD.workflow_id AND hour = OLD.received_at / 3600000000 AND state = OLD.state;
END;

-- Short refs (the last 8 hex digits of an id, as people paste them) found by index
-- instead of scanning every id with LIKE '%…'.
CREATE INDEX work_orders_short_ref ON work_orders(substr(id, -8));
CREATE INDEX runs_short_ref ON runs(substr(id, -8));
CREATE INDEX steps_short_ref ON steps(substr(id, -8));

-- Counts over every workflow for an hour range.
CREATE INDEX work_order_counts_hour ON work_order_counts(hour, state, n);
