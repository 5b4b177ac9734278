-- A status filter on the history (failed runs, newest first) reads its page by index instead of
-- sorting every run of that status (10,000 failed runs: 31 ms -> under 1 ms,
-- examples/app_scale.rs). It also replaces `runs_by_status`, which SQLite chose for a
-- schedule's last finished run and then walked every schedule's runs.
CREATE INDEX runs_by_status_time ON runs (status, created_at, id);
DROP INDEX runs_by_status;
