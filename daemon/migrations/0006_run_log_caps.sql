-- How many log lines (and bytes) a run logged past its log caps and bolt dropped.
ALTER TABLE runs ADD COLUMN log_lines_dropped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN log_bytes_dropped INTEGER NOT NULL DEFAULT 0;
