-- The history newest first (a page of `GET /backup/history?limit=…`, the dashboard) without
-- sorting every run: an index in the order the history is read.
CREATE INDEX runs_by_time ON runs (created_at, id);
-- A schedule's newest success and last finished run (the metrics, the dashboard) by lookup
-- instead of a walk through all its runs.
CREATE INDEX runs_by_schedule_status ON runs (schedule_id, status, created_at);
